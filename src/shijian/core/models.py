from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(RuntimeError):
    pass


class AuditEvent(models.Model):
    """One append-only, hash-chained audit row (see shijian.core.audit)."""

    at = models.DateTimeField(_("time"), db_index=True)
    actor_id = models.BigIntegerField(_("user id"), null=True, blank=True, db_index=True)
    actor_name = models.CharField(_("user"), max_length=150)
    request_id = models.CharField(_("request id"), max_length=64, blank=True, db_index=True)
    # text, hashed as stored; nullable so that SQLite adds the column in place (a rebuilt table would lose the
    # append-only triggers)
    client_ip = models.CharField(_("client address"), max_length=45, null=True, blank=True)
    action = models.CharField(_("action"), max_length=20, db_index=True)
    object_type = models.CharField(_("object type"), max_length=60, db_index=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [models.Index(fields=["object_type", "object_id", "id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action} {self.object_type}#{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not kwargs.get("force_insert") or self.pk is not None:
            raise AppendOnlyError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("audit events are append-only")

    def chained_fields(self) -> dict[str, Any]:
        """The hashed content; ``client_ip`` only where recorded, so rows from before it was kept still verify."""
        fields = {
            "at": self.at.isoformat(),
            "actor_id": self.actor_id,
            "actor_name": self.actor_name,
            "request_id": self.request_id,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "object_repr": self.object_repr,
            "before": self.before,
            "after": self.after,
            "reason": self.reason,
        }
        if self.client_ip:
            fields["client_ip"] = self.client_ip
        return fields
