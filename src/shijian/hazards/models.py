"""问题隐患库: entries, their state changes (one row each), notifications and compliance reminders."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from shijian.hazards import grading, workflow
from shijian.registry.models import Department, Entity


class Source(models.TextChoices):
    INSPECTION = "inspection", _("Inspection finding")
    COMPLAINT = "complaint", _("Complaint")
    PENALTY = "penalty", _("Administrative penalty")
    ABNORMAL = "abnormal", _("Abnormal-operation listing")
    RISK = "risk", _("Risk warning")
    MANUAL = "manual", _("Entered by hand")


class Category(models.TextChoices):
    PROBLEM = "problem", _("Problem (问题, rectifiable)")
    HAZARD = "hazard", _("Hazard (隐患)")


class Grade(models.TextChoices):
    MAJOR = grading.MAJOR, _("Major (重大)")
    SERIOUS = grading.SERIOUS, _("Serious (较大)")
    GENERAL = grading.GENERAL, _("General (一般)")


class State(models.TextChoices):
    REGISTERED = workflow.REGISTERED, _("Registered")
    ASSIGNED = workflow.ASSIGNED, _("Assigned")
    RECTIFYING = workflow.RECTIFYING, _("Rectifying")
    SUBMITTED = workflow.SUBMITTED, _("Submitted for review")
    CLOSED = workflow.CLOSED, _("Verified and closed (移出)")
    ESCALATED = workflow.ESCALATED, _("Escalated to enforcement (立案)")
    ENFORCEMENT_CLOSED = workflow.ENFORCEMENT_CLOSED, _("Enforcement closed (结案)")


class Hazard(models.Model):
    """An entry of the library. It stays until rectification is verified or enforcement is closed."""

    entity = models.ForeignKey(Entity, verbose_name=_("entity"), on_delete=models.PROTECT, related_name="hazards")
    town_code = models.CharField(_("town / street"), max_length=9)
    district_code = models.CharField(_("district"), max_length=6)
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    source_ref = models.CharField(_("source reference"), max_length=60, blank=True)
    category = models.CharField(_("category"), max_length=10, choices=Category.choices, default=Category.PROBLEM)
    grade = models.CharField(_("grade"), max_length=10, choices=Grade.choices)
    scores = models.JSONField(_("scores"), default=dict)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    department = models.ForeignKey(
        Department, verbose_name=_("responsible department"), on_delete=models.PROTECT, related_name="hazards"
    )
    deadline = models.DateField(_("deadline"))
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.REGISTERED)
    # state in registered/assigned/rectifying: the entity owes a rectification (overdue = pending and past the
    # deadline); kept by save() so that the overdue list is one indexed range, newest first
    pending = models.BooleanField(default=True, editable=False)
    repeat = models.BooleanField(
        _("repeat"), default=False, help_text=_("the entity had another entry in the year before")
    )
    opened_at = models.DateTimeField(_("opened at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)  # the API's incremental sync

    class Meta:
        verbose_name = _("problem or hazard")
        verbose_name_plural = _("problems and hazards")
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source_ref"], condition=~Q(source_ref=""), name="hazard_source_once")
        ]
        indexes = [
            models.Index(fields=["state", "-opened_at"], name="hazard_state_idx"),
            models.Index(fields=["department", "state", "-opened_at"], name="hazard_dept_idx"),
            models.Index(fields=["town_code", "state", "-opened_at"], name="hazard_town_idx"),
            models.Index(fields=["district_code", "state", "-opened_at"], name="hazard_district_idx"),
            models.Index(fields=["grade", "state", "-opened_at"], name="hazard_grade_idx"),
            models.Index(fields=["pending", "-opened_at", "-id"], name="hazard_pending_idx"),
            models.Index(fields=["pending", "deadline"], name="hazard_deadline_idx"),
            models.Index(fields=["entity", "opened_at"], name="hazard_entity_idx"),
            models.Index(fields=["-opened_at", "-id"], name="hazard_recent_idx"),
            models.Index(fields=["updated_at", "id"], name="hazard_updated_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.pending = self.state in workflow.OVERDUE_CAN_ESCALATE
        if kwargs.get("update_fields") is not None:
            extra = {"pending", "updated_at"} if "state" in kwargs["update_fields"] else {"updated_at"}
            kwargs["update_fields"] = {*kwargs["update_fields"], *extra}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("hazard_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.state in workflow.OPEN


class Transition(models.Model):
    """One change of state (Healthchecks' Flip): time to rectify and overdue counts are queries on this table."""

    hazard = models.ForeignKey(Hazard, on_delete=models.CASCADE, related_name="transitions")
    old_state = models.CharField(_("from"), max_length=20, blank=True)
    new_state = models.CharField(_("to"), max_length=20)
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    system = models.BooleanField(_("by the system"), default=False)
    reason = models.CharField(_("reason"), max_length=300)
    evidence = models.TextField(_("evidence"), blank=True)
    opened_at = models.DateTimeField(_("entry opened at"))  # copied, so durations need no join
    days_open = models.FloatField(_("days since the entry opened"))  # at - opened_at: time to rectify is one AVG
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    town_code = models.CharField(max_length=9)

    class Meta:
        verbose_name = _("state change")
        verbose_name_plural = _("state changes")
        ordering = ["hazard_id", "at", "id"]
        indexes = [
            models.Index(fields=["new_state", "at"], name="transition_state_idx"),
            models.Index(fields=["department", "new_state"], name="transition_dept_idx"),
            models.Index(fields=["town_code", "new_state"], name="transition_town_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.hazard_id}: {self.old_state or '-'} -> {self.new_state}"


class NoticeKind(models.TextChoices):
    TASK = "task", _("New inspection task or team assignment")
    HAZARD_DUE = "hazard_due", _("Hazard deadline approaching")
    ESCALATED = "escalated", _("Hazard overdue and escalated")
    PUBLICATION = "publication", _("Results near the publication deadline")
    JOB_FAILED = "job_failed", _("Job or load failed")
    STEP_DUE = "step_due", _("Complaint or case step near its statutory limit")
    STEP_OVERDUE = "step_overdue", _("Complaint or case step past its statutory limit")


class Notification(models.Model):
    """A message to a user (``user``), or to a whole department (older rows, ``user`` empty); read once read."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=NoticeKind.choices, default=NoticeKind.ESCALATED)
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="notifications", null=True)
    hazard = models.ForeignKey(Hazard, on_delete=models.CASCADE, related_name="notifications", null=True)
    message = models.CharField(_("message"), max_length=300)
    url = models.CharField(_("link"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["department", "read_at"], name="notification_dept_idx"),
            models.Index(fields=["user", "read_at"], name="notification_user_idx"),
        ]

    def __str__(self) -> str:
        return self.message

    def link(self) -> str:
        return self.url or (reverse("hazard_detail", args=[self.hazard_id]) if self.hazard_id else "")


class ReminderKind(models.TextChoices):
    ANNUAL_REPORT = "annual_report", _("Annual report due (1 January – 30 June)")
    LICENCE_EXPIRY = "licence_expiry", _("Licence expires within 60 days")


class Reminder(models.Model):
    """A compliance reminder (事前提醒) for a known duty, refreshed by ``shijian hazards remind``."""

    entity = models.ForeignKey(Entity, verbose_name=_("entity"), on_delete=models.CASCADE, related_name="reminders")
    town_code = models.CharField(_("town / street"), max_length=9, db_index=True)
    kind = models.CharField(_("kind"), max_length=20, choices=ReminderKind.choices)
    due_on = models.DateField(_("due on"))
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    refreshed_at = models.DateTimeField(_("refreshed at"))

    class Meta:
        verbose_name = _("compliance reminder")
        verbose_name_plural = _("compliance reminders")
        ordering = ["due_on", "entity_id"]
        indexes = [
            models.Index(fields=["town_code", "kind", "due_on"], name="reminder_town_idx"),
            models.Index(fields=["due_on", "entity"], name="reminder_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.entity_id} {self.kind} {self.due_on}"
