"""A department's feed (its mapping is a TOML file, the one the CLI reads) and the files uploaded for it."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class Feed(models.Model):
    """One department's delivery: its lake source (``slug``), its mapping file ``<slug>.toml`` in
    ``SHIJIAN_MAPPINGS``, how often a delivery is expected, and whether a build follows each load."""

    department = models.ForeignKey(
        "registry.Department", on_delete=models.PROTECT, related_name="feeds", verbose_name=_("department")
    )
    slug = models.SlugField(_("code"), max_length=60, unique=True, help_text=_("Letters, digits and hyphens."))
    name = models.CharField(_("name"), max_length=200)
    cadence_days = models.PositiveSmallIntegerField(
        _("expected every (days)"), default=1, help_text=_("How many days may pass between deliveries.")
    )
    build_after_load = models.BooleanField(_("build after each load"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("feed")
        verbose_name_plural = _("feeds")
        ordering = ["department__region_code", "slug"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("feed_detail", args=[self.pk])

    @property
    def mapping_path(self) -> Path:
        return Path(settings.SHIJIAN_MAPPINGS) / f"{self.slug}.toml"

    @property
    def inbox(self) -> Path:
        return Path(settings.HOME) / "dataadmin" / "inbox" / self.slug


class UploadStatus(models.TextChoices):
    RECEIVING = "receiving", _("Receiving")
    COMPLETE = "complete", _("Complete")


class Upload(models.Model):
    """A file being uploaded in pieces: the bytes received so far (``offset``) survive a dropped connection."""

    feed = models.ForeignKey(Feed, on_delete=models.CASCADE, related_name="uploads", verbose_name=_("feed"))
    filename = models.CharField(_("file name"), max_length=200)
    size = models.BigIntegerField(_("size"))
    offset = models.BigIntegerField(_("received"), default=0)
    status = models.CharField(_("status"), max_length=12, choices=UploadStatus.choices, default=UploadStatus.RECEIVING)
    sha256 = models.CharField(max_length=64, blank=True)
    job = models.ForeignKey("jobs.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("upload")
        verbose_name_plural = _("uploads")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.filename

    @property
    def part_path(self) -> Path:
        return Path(settings.HOME) / "dataadmin" / "parts" / f"{self.pk}.part"

    @property
    def path(self) -> Path:
        """Where the complete file is kept (the load reads it; a re-processing reads it again)."""
        return self.feed.inbox / f"{self.pk}-{self.filename}"
