"""Model versions, monthly class refreshes and each entity's assessment history.

A ``ModelVersion`` records how a model was made (kind, the date its data stops at, the label horizon, the lake
snapshot it read, parameters, the factors it uses), how it did on the backtest, and whether it went live: a new
version goes live only when its backtest beats the live version's on the same periods (``risk/platform.py``).
A ``Refresh`` scores every entity with the live version as of a date; an ``Assessment`` per entity keeps the
probability and class (and the class before), and the refresh writes the class onto ``Entity.risk_class``, which
the 双随机 draw reads.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from shijian.registry.models import Entity


class VersionStatus(models.TextChoices):
    CANDIDATE = "candidate", _("candidate")
    LIVE = "live", _("live")
    RETIRED = "retired", _("retired")
    REJECTED = "rejected", _("rejected")


class ModelVersion(models.Model):
    kind = models.CharField(_("model"), max_length=20)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.CharField(_("created by"), max_length=150, blank=True)
    as_of = models.DateField(_("data before"))
    horizon_months = models.PositiveSmallIntegerField(_("label horizon (months)"), default=3)
    snapshot = models.JSONField(_("data snapshot"), default=dict)
    params = models.JSONField(_("parameters"), default=dict)
    factors = models.JSONField(_("factors"), default=list)
    metrics = models.JSONField(_("backtest"), default=dict)
    status = models.CharField(
        _("status"), max_length=10, choices=VersionStatus.choices, default=VersionStatus.CANDIDATE
    )
    decision = models.TextField(_("decision"), blank=True)
    artifact = models.CharField(_("model file"), max_length=300)
    sha256 = models.CharField(_("model file SHA-256"), max_length=64)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("model version")

    def __str__(self) -> str:
        return f"v{self.pk} {self.kind} ({self.status})"


class Refresh(models.Model):
    model = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="refreshes")
    as_of = models.DateField(_("as of"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    entities = models.IntegerField(_("entities"), default=0)
    classes = models.JSONField(_("classes"), default=dict)
    movement = models.JSONField(_("movement"), default=dict)
    cutoffs = models.JSONField(_("cut-offs"), default=list)
    factors_file = models.CharField(_("factor snapshot"), max_length=300, blank=True)
    # Population stability of each factor and of the probability against the previous refresh (risk/drift.py).
    drift = models.JSONField(_("drift"), default=dict, blank=True)
    seconds = models.FloatField(_("seconds"), default=0)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("class refresh")

    def __str__(self) -> str:
        return f"refresh {self.pk} as of {self.as_of}"


class Assessment(models.Model):
    refresh = models.ForeignKey(Refresh, on_delete=models.CASCADE, related_name="assessments")
    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="assessments", db_constraint=False)
    probability = models.FloatField(_("probability"))
    risk_class = models.CharField(_("class"), max_length=1)
    previous_class = models.CharField(_("class before"), max_length=1, blank=True)

    class Meta:
        indexes = [models.Index(fields=["entity", "refresh"], name="risk_assessment_entity")]
        verbose_name = _("assessment")

    def __str__(self) -> str:
        return f"{self.entity_id}: {self.risk_class} ({self.probability:.3f})"
