from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)


class Job(models.Model):
    """One run of a long piece of work: what, with which parameters, for whom, how far, and how it ended."""

    kind = models.CharField(_("kind"), max_length=40)
    params = models.JSONField(_("parameters"), default=dict)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)  # 0-100
    message = models.CharField(_("message"), max_length=300, blank=True)
    log = models.TextField(_("log"), blank=True)
    outcome = models.JSONField(_("outcome"), default=dict)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    cancel_requested = models.BooleanField(default=False)
    result_file = models.CharField(max_length=200, blank=True)  # relative to SHIJIAN_HOME/jobs
    worker = models.CharField(max_length=100, blank=True)  # host:pid of the process running it
    schedule = models.ForeignKey("Schedule", on_delete=models.SET_NULL, null=True, blank=True, related_name="jobs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("queued at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="job_status_idx"),
            models.Index(fields=["created_by", "-created_at"], name="job_owner_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("job_detail", args=[self.pk])

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def label(self) -> Any:
        from shijian.jobs.kinds import KINDS

        spec = KINDS.get(self.kind)
        return spec.label if spec is not None else self.kind


class Schedule(models.Model):
    """A recurring job. The cadence lives in code (schedules.SCHEDULES); the row keeps what happened."""

    name = models.CharField(_("name"), max_length=40, unique=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    last_slot = models.DateTimeField(_("last slot run"), null=True, blank=True)  # the due time last honoured
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True)
    last_status = models.CharField(_("last status"), max_length=12, blank=True)
    failures = models.PositiveIntegerField(_("failures"), default=0)

    class Meta:
        verbose_name = _("schedule")
        verbose_name_plural = _("schedules")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
