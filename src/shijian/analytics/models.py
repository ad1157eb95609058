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


class StoredForecast(models.Model):
    """One series' forecast and backtest (``forecast.forecast``) for a scope's snapshot, fitted by the refresh (or
    on first view for a combination the refresh does not fit) and valid while the snapshot is."""

    scope = models.CharField(_("scope"), max_length=40)
    series = models.CharField(_("series"), max_length=20)
    section = models.CharField(_("industry section"), max_length=1, blank=True)  # "" = every industry
    snapshot_at = models.DateTimeField(_("figures computed at"))
    data = models.JSONField(_("forecast"), default=dict)
    seconds = models.FloatField(_("seconds"), default=0)

    class Meta:
        verbose_name = _("stored forecast")
        constraints = [
            models.UniqueConstraint(fields=["scope", "series", "section"], name="forecast_one_per_series"),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.series} {self.section}".strip()
