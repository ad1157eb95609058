"""双随机 + 一支队伍进门: plans, batches, draws, visits (joint inspections), teams, results, publication."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from shijian.registry.models import Department, Entity, Inspector, Level, SpotCheckItem, Tag


class Plan(models.Model):
    """An annual spot-check plan (年度抽查计划) of one level, split into batches."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    year = models.PositiveIntegerField(_("year"))
    level = models.CharField(_("level"), max_length=10, choices=Level.choices, default=Level.DISTRICT)
    department = models.ForeignKey(
        Department, verbose_name=_("organising department"), on_delete=models.PROTECT, related_name="plans"
    )
    region_code = models.CharField(_("region"), max_length=12, db_index=True)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        ordering = ["-year", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("plan_detail", args=[self.pk])


class DrawMode(models.TextChoices):
    STRATIFIED = "stratified", _("Stratified by credit-risk class")
    RANDOM = "random", _("Purely random")


class BatchStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    FROZEN = "frozen", _("Candidates frozen")
    DRAWN = "drawn", _("Drawn")


class Batch(models.Model):
    """A batch (批次) of a plan: items, scope, draw mode and ratios, exclusions and a window."""

    plan = models.ForeignKey(Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="batches")
    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="batches"
    )
    items = models.ManyToManyField(SpotCheckItem, verbose_name=_("spot-check items"), related_name="batches")
    scope_regions = models.JSONField(_("regions"), default=list, blank=True)
    scope_industries = models.JSONField(_("industries"), default=list, blank=True)
    scope_types = models.JSONField(_("entity types"), default=list, blank=True)
    scope_tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="+")
    mode = models.CharField(_("draw mode"), max_length=12, choices=DrawMode.choices, default=DrawMode.STRATIFIED)
    ratios = models.JSONField(_("ratio per class (%)"), default=dict, blank=True)
    random_share = models.DecimalField(_("purely random share (%)"), max_digits=5, decimal_places=2, default=20)
    ratio = models.DecimalField(_("ratio (%)"), max_digits=5, decimal_places=2, null=True, blank=True)
    count = models.PositiveIntegerField(_("number to draw"), null=True, blank=True)
    exclude_drawn_this_year = models.BooleanField(_("exclude entities drawn for the same item this year"), default=True)
    raise_hazard_entities = models.BooleanField(
        _("raise the class of entities with open hazards"),
        default=True,
        help_text=_("An open hazard (隐患) raises the entity one class; a repeat offender (利剑高悬) is drawn as D"),
    )
    exclude_new_days = models.PositiveIntegerField(
        _("exclude entities established within (days)"), null=True, blank=True
    )
    exclude_keys = models.JSONField(_("excluded entities (codes)"), default=list, blank=True)
    exclude_reason = models.CharField(_("reason for the exclusions"), max_length=200, blank=True)
    window_start = models.DateField(_("window start"))
    window_end = models.DateField(_("window end"))
    status = models.CharField(_("status"), max_length=10, choices=BatchStatus.choices, default=BatchStatus.DRAFT)
    draw = models.ForeignKey(
        "Draw", verbose_name=_("draw"), on_delete=models.SET_NULL, null=True, blank=True, related_name="batches"
    )
    candidates_file = models.CharField(_("candidate list"), max_length=100, blank=True)
    candidates_sha256 = models.CharField(_("candidate list SHA-256"), max_length=64, blank=True)
    candidates_count = models.PositiveIntegerField(_("candidates"), null=True, blank=True)

    class Meta:
        verbose_name = _("batch")
        verbose_name_plural = _("batches")
        ordering = ["plan_id", "code"]
        constraints = [
            models.CheckConstraint(condition=Q(window_start__lte=models.F("window_end")), name="batch_window_order"),
            models.CheckConstraint(
                condition=Q(random_share__gte=Decimal(0)) & Q(random_share__lte=Decimal(100)),
                name="batch_random_share_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("batch_detail", args=[self.pk])


class SeedMethod(models.TextChoices):
    BEACON = "beacon", _("Public value announced after the freeze")
    COMMIT_REVEAL = "commit_reveal", _("Commit, then reveal (two officials)")


class DrawStatus(models.TextChoices):
    FROZEN = "frozen", _("Candidates frozen, awaiting the seed")
    DRAWN = "drawn", _("Drawn and staffed")


class Draw(models.Model):
    """One draw (抽取) of one or more batches with overlapping windows, verifiable from its published record."""

    code = models.CharField(_("code"), max_length=60, unique=True)
    plan = models.ForeignKey(Plan, verbose_name=_("plan"), on_delete=models.PROTECT, related_name="draws")
    status = models.CharField(_("status"), max_length=10, choices=DrawStatus.choices, default=DrawStatus.FROZEN)
    seed_method = models.CharField(_("seed method"), max_length=16, choices=SeedMethod.choices)
    beacon_source = models.CharField(
        _("public value to be used"), max_length=300, blank=True, help_text=_("Announced before the draw")
    )
    beacon_at = models.DateTimeField(_("public value published at"), null=True, blank=True)
    commitments = models.JSONField(_("commitments"), default=list, blank=True)
    prefer_region = models.BooleanField(_("prefer officers of the entity's region"), default=True)
    frozen_at = models.DateTimeField(_("frozen at"))
    frozen_digest = models.CharField(_("frozen digest"), max_length=64)
    seed = models.CharField(_("seed"), max_length=64, blank=True)
    drawn_at = models.DateTimeField(_("drawn at"), null=True, blank=True)
    record_sha256 = models.CharField(_("record SHA-256"), max_length=64, blank=True)
    last_attempt = models.JSONField(_("last staffing report"), default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(_("updated"), auto_now=True)  # the API's incremental sync

    class Meta:
        verbose_name = _("draw")
        verbose_name_plural = _("draws")
        ordering = ["-frozen_at"]
        indexes = [models.Index(fields=["updated_at", "id"], name="draw_updated_idx")]

    def __str__(self) -> str:
        return self.code

    def save(self, *args: Any, **kwargs: Any) -> None:
        kwargs["update_fields"] = with_updated_at(kwargs.get("update_fields"))
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("draw_detail", args=[self.pk])

    def public_url(self) -> str:
        return reverse("public_draw", args=[self.code])


def with_updated_at(update_fields: Iterable[str] | None) -> set[str] | None:
    """A save of some fields also moves ``updated_at`` (auto_now is only written when it is saved), so the API's
    incremental sync sees every change."""
    return None if update_fields is None else {*update_fields, "updated_at"}


class VisitStatus(models.TextChoices):
    ASSIGNED = "assigned", _("Assigned")
    DONE = "done", _("Checked")
    PUBLISHED = "published", _("Published")


class Visit(models.Model):
    """One joint inspection (一支队伍进门) of one entity: every item and department of the draw, one team."""

    draw = models.ForeignKey(Draw, verbose_name=_("draw"), on_delete=models.PROTECT, related_name="visits")
    entity = models.ForeignKey(Entity, verbose_name=_("entity"), on_delete=models.PROTECT, related_name="visits")
    entity_key = models.CharField(_("entity code"), max_length=24)
    window_start = models.DateField(_("window start"))
    window_end = models.DateField(_("window end"))
    departments = models.ManyToManyField(Department, verbose_name=_("departments"), related_name="visits")
    inspectors = models.ManyToManyField(Inspector, verbose_name=_("team"), through="TeamMember", related_name="visits")
    status = models.CharField(
        _("status"), max_length=10, choices=VisitStatus.choices, default=VisitStatus.ASSIGNED, db_index=True
    )
    checked_on = models.DateField(_("checked on"), null=True, blank=True)
    publish_by = models.DateField(_("publish by"), null=True, blank=True, db_index=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)  # the API's incremental sync

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["draw_id", "entity_key"]
        constraints = [models.UniqueConstraint(fields=["draw", "entity"], name="visit_one_per_entity_per_draw")]
        indexes = [
            models.Index(fields=["entity", "draw"], name="visit_entity_idx"),
            models.Index(fields=["updated_at", "id"], name="visit_updated_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.draw.code} · {self.entity_key}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        kwargs["update_fields"] = with_updated_at(kwargs.get("update_fields"))
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("visit_detail", args=[self.pk])


class TeamMember(models.Model):
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="members")
    inspector = models.ForeignKey(Inspector, on_delete=models.PROTECT, related_name="memberships")
    position = models.PositiveSmallIntegerField(default=0)  # order drawn; the first leads

    class Meta:
        ordering = ["visit_id", "position"]
        constraints = [models.UniqueConstraint(fields=["visit", "inspector"], name="team_member_once")]
        indexes = [models.Index(fields=["inspector", "visit"], name="team_inspector_idx")]

    def __str__(self) -> str:
        return f"{self.visit_id}: {self.inspector_id}"


class Outcome(models.TextChoices):
    """Result categories of a random spot check (抽查结果), as published."""

    NO_PROBLEM = "no_problem", _("No problem found (未发现问题)")
    CORRECTED = "corrected", _("Problem found, ordered to correct (发现问题已责令改正)")
    PENDING = "pending", _("Problem found, further action pending (发现问题待后续处理)")
    NOT_PUBLICISED = "not_publicised", _("Required information not publicised (未按规定公示应当公示的信息)")
    FALSE_INFO = "false_info", _("Publicised information false (公示信息隐瞒真实情况、弄虚作假)")
    UNREACHABLE = "unreachable", _("Not reachable at the registered address (通过登记的住所无法联系)")
    UNCOOPERATIVE = "uncooperative", _("Refused to cooperate (不配合检查情节严重)")
    NOT_OPERATING = "not_operating", _("Activity not carried on (未发现开展本次抽查涉及的经营活动)")


FINDING_OUTCOMES = frozenset(
    {Outcome.CORRECTED, Outcome.PENDING, Outcome.NOT_PUBLICISED, Outcome.FALSE_INFO, Outcome.UNCOOPERATIVE}
)


class VisitItem(models.Model):
    """One item checked on a visit, from one batch, and its result."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="checks")
    item = models.ForeignKey(SpotCheckItem, verbose_name=_("item"), on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(Batch, verbose_name=_("batch"), on_delete=models.PROTECT, related_name="checks")
    control = models.BooleanField(_("purely random sample"), default=False)
    outcome = models.CharField(_("result"), max_length=16, choices=Outcome.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("checked item")
        verbose_name_plural = _("checked items")
        ordering = ["visit_id", "item_id", "batch_id"]
        constraints = [models.UniqueConstraint(fields=["visit", "item", "batch"], name="visit_item_once")]
        indexes = [models.Index(fields=["item", "visit"], name="visit_item_item_idx")]

    def __str__(self) -> str:
        return f"{self.visit_id}: {self.item_id} {self.outcome}"


class Attachment(models.Model):
    """A photo or document of a visit, stored under SHIJIAN_HOME/media with its SHA-256."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="visits/%Y/%m/")
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    # Where and when the evidence was taken, as the inspector's device reported it (the place only if allowed)
    taken_at = models.DateTimeField(_("taken at"), null=True, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    accuracy_m = models.PositiveIntegerField(_("location accuracy (m)"), null=True, blank=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["visit_id", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class CalendarDay(models.Model):
    """An exception to the Monday-to-Friday working week: a public holiday, or a weekend made a working day."""

    date = models.DateField(_("date"), unique=True)
    workday = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {'workday' if self.workday else 'holiday'} {self.note}"


class ResultSubmission(models.Model):
    """One sending of a visit's results, keyed by the UUID the browser drew for it: a phone that saved the form
    offline may send it again when the network returns; the same key answers the stored outcome, nothing more."""

    key = models.UUIDField(_("submission key"), unique=True)
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="submissions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ok = models.BooleanField(_("accepted"))
    message = models.CharField(_("message"), max_length=500)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("result submission")
        verbose_name_plural = _("result submissions")

    def __str__(self) -> str:
        return f"{self.visit_id}: {self.key}"
