"""A legal hold: a stored file, or every file of a case or visit, kept past its retention until the hold is lifted."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class LegalHold(models.Model):
    """``object_type`` and ``object_id`` name what is held: a file's row (``cases.evidence`` 12) or its owner
    (``cases.case`` 3, ``supervision.visit`` 8). Lifting a hold sets ``lifted_at``; the row stays."""

    object_type = models.CharField(_("object type"), max_length=60)
    object_id = models.CharField(_("object"), max_length=40)
    reason = models.CharField(_("reason"), max_length=300)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("held since"), auto_now_add=True)
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")
        indexes = [models.Index(fields=["object_type", "object_id"], name="hold_object_idx")]

    def __str__(self) -> str:
        return f"{self.object_type}#{self.object_id}"
