"""Operational tables of the standardized market base database (两库两清单)."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    CITY = "city", _("City")
    DISTRICT = "district", _("District")
    TOWN = "town", _("Town / street")
    VILLAGE = "village", _("Village / community")


LEVEL_CODE_LENGTH = {Level.CITY: 4, Level.DISTRICT: 6, Level.TOWN: 9, Level.VILLAGE: 12}


class Department(models.Model):
    """A department (部门) attached to one level and one region."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices, default=Level.DISTRICT)
    region_code = models.CharField(_("region"), max_length=12, db_index=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("department_detail", args=[self.pk])


class Tag(models.Model):
    """A feature tag (特征标识) such as 食品经营 or 特种设备使用单位."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=60)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class EntityType(models.TextChoices):
    """Market-entity types per 《市场主体登记管理条例》; position 2 of the USCC follows from the type."""

    LLC = "llc", _("Limited liability company")
    JOINT_STOCK = "joint_stock", _("Joint-stock company")
    STATE_OWNED = "state_owned", _("Non-company enterprise legal person")
    FOREIGN = "foreign", _("Foreign-invested enterprise")
    PARTNERSHIP = "partnership", _("Partnership")
    SOLE = "sole", _("Sole proprietorship")
    BRANCH = "branch", _("Branch")
    INDIVIDUAL = "individual", _("Individual business")
    COOPERATIVE = "cooperative", _("Farmers' cooperative")


# The Chinese names departments use for types and statuses in their files (imports accept either).
TYPE_BY_LABEL = {
    "有限责任公司": "llc",
    "股份有限公司": "joint_stock",
    "非公司企业法人": "state_owned",
    "外商投资企业": "foreign",
    "合伙企业": "partnership",
    "个人独资企业": "sole",
    "分公司": "branch",
    "个体工商户": "individual",
    "农民专业合作社": "cooperative",
}
STATUS_BY_LABEL = {
    "存续": "active",
    "在业": "active",
    "开业": "active",
    "吊销": "revoked",
    "注销": "deregistered",
    "迁出": "moved_out",
}

USCC_CATEGORY_OF_TYPE = {EntityType.INDIVIDUAL: "92", EntityType.COOPERATIVE: "93"}


class EntityStatus(models.TextChoices):
    ACTIVE = "active", _("In business")
    REVOKED = "revoked", _("Licence revoked")
    DEREGISTERED = "deregistered", _("Deregistered")
    MOVED_OUT = "moved_out", _("Moved out")


class RiskClass(models.TextChoices):
    A = "A", _("A (low risk)")
    B = "B", _("B (average risk)")
    C = "C", _("C (elevated risk)")
    D = "D", _("D (high risk)")


class Entity(models.Model):
    """A market entity (市场主体) of the supervision object library (监管对象库)."""

    uscc = models.CharField(_("unified social credit code"), max_length=18, null=True, blank=True)
    reg_no = models.CharField(_("old registration number"), max_length=20, blank=True, db_index=True)
    name = models.CharField(_("name"), max_length=200, db_index=True)
    former_names = models.CharField(
        _("former names"),
        max_length=600,
        blank=True,
        default="",
        db_default="",  # raw bulk loads leave it out
        help_text=_("names the entity was registered under before, separated by 、"),
    )
    entity_type = models.CharField(_("type"), max_length=20, choices=EntityType.choices, db_index=True)
    industry_code = models.CharField(_("industry"), max_length=4, db_index=True)
    industry_section = models.CharField(_("industry section"), max_length=1, db_index=True)
    region_code = models.CharField(_("village / community"), max_length=12, db_index=True)
    town_code = models.CharField(_("town / street"), max_length=9, db_index=True)
    district_code = models.CharField(_("district"), max_length=6, db_index=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    legal_rep = models.CharField(_("legal representative"), max_length=60, blank=True)
    registered_capital = models.DecimalField(
        _("subscribed capital (10k yuan)"), max_digits=16, decimal_places=4, null=True, blank=True
    )
    established_on = models.DateField(_("established on"), null=True, blank=True, db_index=True)
    status = models.CharField(
        _("status"), max_length=20, choices=EntityStatus.choices, default=EntityStatus.ACTIVE, db_index=True
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="entities")
    risk_class = models.CharField(
        _("credit-risk class"),
        max_length=1,
        choices=RiskClass.choices,
        default=RiskClass.B,
        db_default=RiskClass.B,  # raw bulk loads leave it out; and SQLite adds the column without a table rebuild
        help_text=_("A (low) to D (high); every entity is B until the risk model classifies it"),
    )
    source = models.CharField(_("source"), max_length=40, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("market entity")
        verbose_name_plural = _("market entities")
        constraints = [
            models.UniqueConstraint(fields=["uscc"], condition=Q(uscc__isnull=False), name="entity_uscc_unique")
        ]
        indexes = [
            models.Index(fields=["registered_capital"], name="entity_capital_idx"),
            models.Index(fields=["town_code", "name"], name="entity_town_name_idx"),
            models.Index(fields=["updated_at", "id"], name="entity_updated_idx"),  # the API's incremental sync
            models.Index(fields=["town_code", "established_on"], name="entity_town_est_idx"),
            models.Index(fields=["status", "name"], name="entity_status_name_idx"),
            models.Index(fields=["legal_rep"], name="entity_legal_rep_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("entity_detail", args=[self.pk])

    @property
    def file_url(self) -> str:
        """The entity file (一户一档): every record from every department, consolidated."""
        return reverse("entity_detail", args=[self.pk]) + "#file"


class ItemCategory(models.Model):
    """A category of spot-check matters (e.g. food safety); inspectors are qualified per category."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=60)

    class Meta:
        verbose_name = _("item category")
        verbose_name_plural = _("item categories")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Inspector(models.Model):
    """A law-enforcement officer of the inspector library (执法检查人员名录库)."""

    name = models.CharField(_("name"), max_length=60)
    user = models.OneToOneField(
        "accounts.User",
        verbose_name=_("account"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inspector",
    )
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="inspectors"
    )
    region_code = models.CharField(_("region"), max_length=12, db_index=True)
    cert_no = models.CharField(_("enforcement certificate number"), max_length=40, unique=True)
    qualifications = models.ManyToManyField(
        ItemCategory, verbose_name=_("qualifications"), blank=True, related_name="inspectors"
    )
    active = models.BooleanField(_("active"), default=True, db_index=True)

    class Meta:
        verbose_name = _("inspector")
        verbose_name_plural = _("inspectors")
        ordering = ["department_id", "name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.cert_no})"

    def get_absolute_url(self) -> str:
        return reverse("inspector_detail", args=[self.pk])


class InspectorConflict(models.Model):
    """A declared conflict of interest (回避): an entity, or a person, the inspector must not inspect."""

    inspector = models.ForeignKey(
        Inspector, verbose_name=_("inspector"), on_delete=models.CASCADE, related_name="conflicts"
    )
    entity = models.ForeignKey(
        Entity, verbose_name=_("entity"), on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    person_name = models.CharField(_("person"), max_length=60, blank=True)
    reason = models.CharField(_("reason"), max_length=200)
    declared_on = models.DateField(_("declared on"))

    class Meta:
        verbose_name = _("conflict of interest")
        verbose_name_plural = _("conflicts of interest")
        constraints = [
            models.CheckConstraint(
                condition=Q(entity__isnull=False) | ~Q(person_name=""), name="conflict_names_someone"
            )
        ]

    def __str__(self) -> str:
        return f"{self.inspector.name}: {self.entity or self.person_name}"


class ItemKind(models.TextChoices):
    GENERAL = "general", _("General (一般)")
    KEY = "key", _("Key (重点)")


class SpotCheckItem(models.Model):
    """An item of the random spot-check list (随机抽查事项清单)."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    category = models.ForeignKey(
        ItemCategory, verbose_name=_("category"), on_delete=models.PROTECT, related_name="items"
    )
    sub_items = models.JSONField(_("sub-items"), default=list, blank=True)
    legal_basis = models.TextField(_("legal basis"), blank=True)
    departments = models.ManyToManyField(
        Department, verbose_name=_("responsible departments"), related_name="items", blank=True
    )
    target_entity_types = models.JSONField(_("target entity types"), default=list, blank=True)
    target_industries = models.JSONField(
        _("target industries"), default=list, blank=True, help_text=_("GB/T 4754 code prefixes; empty = all")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=ItemKind.choices, default=ItemKind.GENERAL)
    ratio_cap = models.DecimalField(
        _("ratio cap (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Maximum share of eligible entities drawn per year; general items only"),
    )
    frequency = models.CharField(_("frequency"), max_length=60, blank=True)
    method = models.CharField(_("method"), max_length=100, blank=True)
    inspector_requirements = models.CharField(_("inspector requirements"), max_length=200, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("spot-check item")
        verbose_name_plural = _("spot-check items")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ratio_cap__isnull=True) | (Q(ratio_cap__gt=Decimal(0)) & Q(ratio_cap__lte=Decimal(100))),
                name="item_ratio_cap_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("item_detail", args=[self.pk])


class Responsibility(models.Model):
    """An entry of the responsibility list (权责清单): a department answers for an item in a region."""

    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.CASCADE, related_name="responsibilities"
    )
    item = models.ForeignKey(
        SpotCheckItem, verbose_name=_("item"), on_delete=models.CASCADE, related_name="responsibilities"
    )
    region_code = models.CharField(_("region"), max_length=12, db_index=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("responsibility")
        verbose_name_plural = _("responsibilities")
        ordering = ["item_id", "department_id", "region_code"]
        constraints = [
            models.UniqueConstraint(fields=["department", "item", "region_code"], name="responsibility_unique")
        ]

    def __str__(self) -> str:
        return f"{self.department} · {self.item.code} · {self.region_code}"

    def get_absolute_url(self) -> str:
        return reverse("responsibility_detail", args=[self.pk])


class EntityFile(models.Model):
    """一户一档: per-entity aggregates of every departmental record, built in the lake and synced in bulk."""

    entity = models.OneToOneField(Entity, on_delete=models.CASCADE, primary_key=True, related_name="file")
    records = models.IntegerField(_("records"), default=0)
    departments = models.IntegerField(_("departments"), default=0)
    first_record_on = models.DateField(_("first record"), null=True)
    last_record_on = models.DateField(_("last record"), null=True)
    inspections = models.IntegerField(_("inspections"), default=0)
    inspections_failed = models.IntegerField(_("inspections with findings"), default=0)
    penalties = models.IntegerField(_("administrative penalties"), default=0)
    penalty_amount = models.FloatField(_("penalty amount (10k yuan)"), default=0)
    complaints = models.IntegerField(_("complaints"), default=0)
    licences = models.IntegerField(_("licences held"), default=0)
    licences_expired = models.IntegerField(_("licences expired or cancelled"), default=0)
    abnormal_listings = models.IntegerField(_("abnormal-operation listings"), default=0)
    annual_reports_late = models.IntegerField(_("annual reports late or missing"), default=0)
    litigation = models.IntegerField(_("litigation"), default=0)
    tax_grade = models.CharField(_("latest tax credit grade"), max_length=2, blank=True)
    built_at = models.DateTimeField(_("built"))

    class Meta:
        verbose_name = _("entity file")
        verbose_name_plural = _("entity files")

    def __str__(self) -> str:
        return f"{self.entity_id}: {self.records}"
