from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    LEADER = "leader", _("District leader")
    DEPT_STAFF = "dept_staff", _("Department staff")
    INSPECTOR = "inspector", _("Inspector")
    DATA_ADMIN = "data_admin", _("Data administrator")
    AUDITOR = "auditor", _("Auditor (read-only)")


class User(AbstractUser):
    """A platform user, bound to one department and one region (district, town/street or village)."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.DEPT_STAFF)
    department = models.ForeignKey(
        "registry.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
    )
    region_code = models.CharField(
        _("region"), max_length=12, blank=True, help_text=_("6-digit district, 9-digit town or 12-digit village")
    )
    must_change_password = models.BooleanField(
        _("must change password"), default=False, help_text=_("set by a password reset; cleared by a change")
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
