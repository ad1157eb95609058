"""Dashboard aggregates, computed once per scope after each load or build and read by the pages."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Snapshot(models.Model):
    """One scope's dashboard figures (``snapshot.compute``) as JSON: the pages read this, never the raw tables."""

    scope = models.CharField(_("scope"), max_length=40, unique=True)  # district | town:<code> | department:<id>
    data = models.JSONField(_("figures"), default=dict)
    computed_at = models.DateTimeField(_("computed at"))
    seconds = models.FloatField(_("seconds"), default=0)

    class Meta:
        verbose_name = _("dashboard snapshot")

    def __str__(self) -> str:
        return self.scope
