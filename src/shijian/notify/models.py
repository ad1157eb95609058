from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from shijian.hazards.models import NoticeKind


class Preference(models.Model):
    """Which channels besides the in-app list (always on) a user wants for one kind of notification."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notify_preferences")
    kind = models.CharField(_("kind"), max_length=20, choices=NoticeKind.choices)
    email = models.BooleanField(_("e-mail"), default=True)
    webhook = models.BooleanField(_("webhook"), default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notify_preference_once")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}"


class Delivery(models.Model):
    """One notification sent through one channel: attempts, last error, when it went out (the delivery log)."""

    notification = models.ForeignKey("hazards.Notification", on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(_("channel"), max_length=20)
    status = models.CharField(_("status"), max_length=10, default="pending")  # pending, sent, failed
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status"], name="delivery_status_idx")]

    def __str__(self) -> str:
        return f"{self.channel} {self.status}"
