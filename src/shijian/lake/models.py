"""Linkage review: uncertain matches found by the build, and the decisions officials take on them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class LinkReview(models.Model):
    """Records (one name + address as delivered) that probably belong to one of a few entities."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        ACCEPTED = "accepted", _("accepted")
        REJECTED = "rejected", _("rejected")

    name_key = models.CharField(_("name"), max_length=300)
    address_key = models.CharField(_("address"), max_length=300)
    records = models.IntegerField(_("records"), default=0)
    sources = models.CharField(_("departments"), max_length=500, blank=True)
    candidates = models.JSONField(_("candidates"), default=list)  # [{"entity_id": .., "probability": ..}]
    best_entity = models.ForeignKey(
        "registry.Entity", verbose_name=_("best candidate"), on_delete=models.CASCADE, related_name="+"
    )
    best_probability = models.FloatField(_("match probability"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    built_at = models.DateTimeField(_("found"))

    class Meta:
        verbose_name = _("linkage review")
        verbose_name_plural = _("linkage reviews")
        indexes = [models.Index(fields=["status", "-best_probability"], name="review_status_prob_idx")]

    def __str__(self) -> str:
        return f"{self.name_key} / {self.address_key}"


class LinkDecision(models.Model):
    """An official's decision on a name + address: this entity, or none in the register. The next build uses it."""

    name_key = models.CharField(_("name"), max_length=300)
    address_key = models.CharField(_("address"), max_length=300)
    entity = models.ForeignKey(
        "registry.Entity", verbose_name=_("entity"), on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    decided_at = models.DateTimeField(_("decided"))
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("linkage decision")
        verbose_name_plural = _("linkage decisions")
        constraints = [models.UniqueConstraint(fields=["name_key", "address_key"], name="decision_unique")]

    def __str__(self) -> str:
        return f"{self.name_key} -> {self.entity_id or '-'}"


class RegisterVersion(models.Model):
    """A counter the database itself raises on every change to the register's linkage keys (triggers on
    ``registry_entity``: insert, delete, update of USCC, registration number, name or address). An incremental
    build that finds the counter where the last build left it need not read the register again."""

    n = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("register version")

    def __str__(self) -> str:
        return str(self.n)
