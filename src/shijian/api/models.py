"""API clients (principals like users: role, region, department, scopes) and their short-lived tokens.

Only hashes of secrets and tokens are stored; the rate limit is a token bucket kept on the client row, the daily
quota a counter of the business day (Asia/Shanghai) beside it.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from shijian.registry.models import Department


class ApiClient(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    client_id = models.CharField(_("client id"), max_length=40, unique=True)
    secret_hash = models.CharField(_("secret hash"), max_length=64)
    role = models.CharField(_("role"), max_length=20)
    region_code = models.CharField(_("region"), max_length=12)
    department = models.ForeignKey(
        Department, verbose_name=_("department"), null=True, blank=True, on_delete=models.PROTECT
    )
    scopes = models.JSONField(_("scopes"), default=list)
    rate_limit = models.PositiveIntegerField(_("requests per minute"), default=120)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.CharField(_("created by"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    bucket_tokens = models.FloatField(default=0.0)
    bucket_at = models.DateTimeField(null=True, blank=True)
    daily_quota = models.PositiveIntegerField(_("requests per day"), default=0, help_text=_("0: no daily quota"))
    quota_day = models.DateField(null=True, blank=True)  # the business day quota_used counts
    quota_used = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.client_id}@{self.expires_at:%Y-%m-%d %H:%M}"


__all__ = ["ApiClient", "ApiToken"]
