"""互联网+维权 and 互联网+执法: process definitions and instances (BPMN), complaints, enforcement cases, evidence."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from shijian.registry.models import Department, Entity


class ProcessDefinition(models.Model):
    """One version of a shipped .bpmn diagram: a new row whenever the file's content changes (by its SHA-256)."""

    key = models.CharField(_("process"), max_length=40)
    version = models.PositiveIntegerField(_("version"))
    sha256 = models.CharField(max_length=64)
    xml = models.TextField()
    deployed_at = models.DateTimeField(_("deployed at"))

    class Meta:
        verbose_name = _("process definition")
        verbose_name_plural = _("process definitions")
        ordering = ["key", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="procdef_version_once"),
            models.UniqueConstraint(fields=["key", "sha256"], name="procdef_content_once"),
        ]

    def __str__(self) -> str:
        return f"{self.key} v{self.version}"


class ProcessInstance(models.Model):
    """A running (or finished) process: SpiffWorkflow's serialised state, which carries its own copy of the
    diagram's spec, so that a new version of the .bpmn file never changes a running instance. Kept as the exact text
    the serializer wrote (PostgreSQL's jsonb would reorder the keys the task tree is rebuilt from)."""

    definition = models.ForeignKey(ProcessDefinition, on_delete=models.PROTECT, related_name="instances")
    state = models.TextField()
    current = models.CharField(_("current step"), max_length=60, blank=True)  # the ready user task's id
    current_name = models.CharField(_("current step"), max_length=100, blank=True)
    completed = models.BooleanField(default=False)
    ended_at_node = models.CharField(max_length=60, blank=True)  # the end event reached
    due_on = models.DateField(_("step due"), null=True, blank=True)
    started_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("process instance")
        verbose_name_plural = _("process instances")
        indexes = [models.Index(fields=["completed", "due_on"], name="procinst_due_idx")]

    def __str__(self) -> str:
        return f"{self.definition} #{self.pk} @ {self.current or self.ended_at_node}"


class Step(models.Model):
    """One completed user task (who, when, what): the case file's history; the audit log has the same."""

    instance = models.ForeignKey(ProcessInstance, on_delete=models.CASCADE, related_name="steps")
    task = models.CharField(max_length=60)
    task_name = models.CharField(_("step"), max_length=100)
    data = models.JSONField(default=dict)
    note = models.TextField(_("note"), blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    at = models.DateTimeField(_("at"))
    due_on = models.DateField(_("due"), null=True, blank=True)
    late = models.BooleanField(_("late"), default=False)

    class Meta:
        verbose_name = _("step")
        verbose_name_plural = _("steps")
        ordering = ["instance_id", "at", "id"]

    def __str__(self) -> str:
        return f"{self.instance_id}: {self.task}"


class Channel(models.TextChoices):
    WEB = "web", _("Public web form")
    PHONE = "phone", _("Telephone")
    WALK_IN = "walk_in", _("Walk-in")
    NATIONAL = "12315", _("12315 platform export")


class ComplaintKind(models.TextChoices):
    COMPLAINT = "complaint", _("Complaint (投诉, a consumer dispute)")
    REPORT = "report", _("Report (举报, a suspected violation)")


class Outcome(models.TextChoices):
    OPEN = "", _("In progress")
    REJECTED = "rejected", _("Not accepted")
    MEDIATED = "mediated", _("Mediation agreement reached")
    MEDIATION_FAILED = "mediation_failed", _("Mediation ended without agreement")
    VIOLATION = "violation", _("Violation found")
    NO_VIOLATION = "no_violation", _("No violation found")
    DUPLICATE = "duplicate", _("Duplicate of an earlier filing")


class Complaint(models.Model):
    """A complaint or report (投诉举报) and its process instance."""

    receipt_no = models.CharField(_("receipt number"), max_length=20, unique=True)
    external_no = models.CharField(_("12315 number"), max_length=40, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=ComplaintKind.choices)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    complainant_name = models.CharField(_("complainant"), max_length=60)
    complainant_phone = models.CharField(_("telephone"), max_length=20)
    complainant_address = models.CharField(_("complainant address"), max_length=200, blank=True)
    entity = models.ForeignKey(
        Entity, verbose_name=_("entity"), on_delete=models.PROTECT, null=True, blank=True, related_name="complaints"
    )
    linked_by = models.CharField(_("linked by"), max_length=20, blank=True)  # uscc, name_address, core, staff
    entity_name = models.CharField(_("entity named"), max_length=200)
    entity_uscc = models.CharField(_("USCC named"), max_length=18, blank=True)
    entity_address = models.CharField(_("address named"), max_length=200, blank=True)
    subject = models.CharField(_("subject"), max_length=200)
    content = models.TextField(_("facts and request"))
    amount = models.DecimalField(_("amount involved (yuan)"), max_digits=12, decimal_places=2, null=True, blank=True)
    received_at = models.DateTimeField(_("received at"))
    # where it lies (the entity's codes; the receiving district's while no entity is linked), for jurisdiction
    district_code = models.CharField(max_length=6)
    town_code = models.CharField(max_length=9, blank=True)
    region_code = models.CharField(max_length=12, blank=True)
    department = models.ForeignKey(
        Department, verbose_name=_("handling department"), on_delete=models.PROTECT, related_name="complaints"
    )
    duplicate_of = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    fingerprint = models.CharField(max_length=64, db_index=True)
    process = models.OneToOneField(ProcessInstance, on_delete=models.PROTECT, null=True, related_name="complaint")
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True, default="")
    outcome_note = models.TextField(_("outcome note"), blank=True)
    public_reply = models.CharField(_("reply to the complainant"), max_length=300, blank=True)
    accepted_on = models.DateField(_("accepted on"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("overdue escalated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("complaint or report")
        verbose_name_plural = _("complaints and reports")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["external_no"], condition=~Q(external_no=""), name="complaint_12315_once")
        ]
        indexes = [
            models.Index(fields=["district_code", "-received_at"], name="complaint_district_idx"),
            models.Index(fields=["town_code", "-received_at"], name="complaint_town_idx"),
            models.Index(fields=["department", "-received_at"], name="complaint_dept_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.receipt_no} {self.subject}"

    def get_absolute_url(self) -> str:
        return reverse("complaint_detail", args=[self.pk])


class CaseSource(models.TextChoices):
    HAZARD = "hazard", _("Hazard-library escalation")
    COMPLAINT = "complaint", _("Complaint or report")
    INSPECTION = "inspection", _("Inspection finding")
    MANUAL = "manual", _("Entered by hand")


class Case(models.Model):
    """An enforcement case (行政处罚案件) from its lead to its closing."""

    number = models.CharField(_("case number"), max_length=30, unique=True)
    entity = models.ForeignKey(Entity, verbose_name=_("entity"), on_delete=models.PROTECT, related_name="cases")
    district_code = models.CharField(max_length=6)
    town_code = models.CharField(max_length=9)
    department = models.ForeignKey(
        Department, verbose_name=_("handling department"), on_delete=models.PROTECT, related_name="cases"
    )
    source = models.CharField(_("source"), max_length=12, choices=CaseSource.choices)
    hazard = models.ForeignKey("hazards.Hazard", on_delete=models.PROTECT, null=True, blank=True, related_name="cases")
    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, null=True, blank=True, related_name="cases")
    visit_item = models.ForeignKey(
        "supervision.VisitItem", on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )
    title = models.CharField(_("title"), max_length=200)
    facts = models.TextField(_("facts"), blank=True)
    lead_on = models.DateField(_("lead received on"))
    filed_on = models.DateField(_("filed on (立案)"), null=True, blank=True)
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    fine = models.DecimalField(_("fine (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True)
    confiscated = models.DecimalField(
        _("confiscated income (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    decision_no = models.CharField(_("decision number"), max_length=40, blank=True)
    legal_basis = models.CharField(_("legal basis"), max_length=300, blank=True)
    process = models.OneToOneField(ProcessInstance, on_delete=models.PROTECT, null=True, related_name="case")
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("overdue escalated at"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("enforcement case")
        verbose_name_plural = _("enforcement cases")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["district_code", "-created_at"], name="case_district_idx"),
            models.Index(fields=["town_code", "-created_at"], name="case_town_idx"),
            models.Index(fields=["entity", "decided_on"], name="case_entity_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("case_detail", args=[self.pk])


class Evidence(models.Model):
    """A piece of evidence of a case, stored with its SHA-256 (taken when received, checked when served)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(upload_to="cases/%Y/%m/")
    name = models.CharField(_("file name"), max_length=200)
    description = models.CharField(_("description"), max_length=300, blank=True)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    step = models.CharField(_("step"), max_length=60, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        ordering = ["case_id", "id"]

    def __str__(self) -> str:
        return self.name


class DocumentKind(models.TextChoices):
    ACCEPTANCE = "acceptance", _("Notice of acceptance (受理通知书)")
    REFUSAL = "refusal", _("Notice of non-acceptance (不予受理通知书)")
    DECISION = "decision", _("Decision of administrative penalty (行政处罚决定书)")
    NOTICE = "notice", _("Inspection notice (检查通知书)")
    RECORD = "record", _("On-site inspection record (现场检查记录)")
    FILING = "filing", _("Case filing approval form (立案审批表)")


class SignedDocument(models.Model):
    """A document rendered to PDF and signed (PAdES) with the bureau's key; kept as signed, with its SHA-256."""

    kind = models.CharField(_("kind"), max_length=12, choices=DocumentKind.choices)
    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, null=True, blank=True, related_name="documents")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, null=True, blank=True, related_name="documents")
    visit = models.ForeignKey(
        "supervision.Visit", on_delete=models.PROTECT, null=True, blank=True, related_name="documents"
    )
    file = models.FileField(upload_to="documents/%Y/%m/")
    sha256 = models.CharField(max_length=64)
    signer = models.CharField(_("signed by"), max_length=200)
    signed_at = models.DateTimeField(_("signed at"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("signed document")
        verbose_name_plural = _("signed documents")
        ordering = ["-signed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["complaint", "kind"], condition=Q(complaint__isnull=False), name="doc_complaint_once"
            ),
            models.UniqueConstraint(fields=["case", "kind"], condition=Q(case__isnull=False), name="doc_case_once"),
            models.UniqueConstraint(fields=["visit", "kind"], condition=Q(visit__isnull=False), name="doc_visit_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.complaint_id or self.case_id or self.visit_id}"
