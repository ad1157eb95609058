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


class RecordText(models.Model):
    """A lake record's free text (a complaint's content, a penalty's reason, an inspection's findings) as the
    full-text index keeps it: with its entity's region codes (the jurisdiction rule reads them) and personal
    numbers masked. The build writes these rows (``lake.fulltext.index``); nobody edits them.

    The primary key orders by date: ``(the date's ordinal, 0001-01-01 being 1) << 24 | n``, so newest-first is the
    key's order and a date range is a key range, in both engines' indexes. The index itself is engine-specific
    (migration 0003): an FTS5 table on SQLite, a ``tsvector`` column with a GIN index on PostgreSQL."""

    id = models.BigIntegerField(primary_key=True)
    entity = models.ForeignKey(
        "registry.Entity", verbose_name=_("entity"), on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    bucket = models.IntegerField(_("bucket"))  # the by_entity bucket the record lies in (a rebuilt bucket's rows go)
    district_code = models.CharField(_("district"), max_length=6)
    town_code = models.CharField(_("town / street"), max_length=9)
    region_code = models.CharField(_("village / community"), max_length=12)
    source = models.CharField(_("department"), max_length=100)
    record_type = models.CharField(_("record type"), max_length=30)
    event_date = models.DateField(_("date"), null=True)
    record_id = models.CharField(_("record number"), max_length=100)
    text = models.TextField(_("text"))

    class Meta:
        verbose_name = _("record text")
        verbose_name_plural = _("record texts")
        indexes = [
            models.Index(fields=["bucket"], name="recordtext_bucket_idx"),
            models.Index(fields=["town_code", "id"], name="recordtext_town_idx"),
            models.Index(fields=["source", "id"], name="recordtext_source_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.record_id}"
