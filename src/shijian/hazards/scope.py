"""Jurisdiction for the hazard library (docs/permissions.md)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from shijian.core.permissions import allowed
from shijian.hazards.models import Hazard, Reminder, Transition


def _region_q(region: str, prefix: str = "") -> Q:
    if len(region) in (2, 4):
        return Q(**{f"{prefix}district_code__startswith": region})
    if len(region) == 6:
        return Q(**{f"{prefix}district_code": region})
    if len(region) == 9:
        return Q(**{f"{prefix}town_code": region})
    return Q(**{f"{prefix}entity__region_code": region})


def hazards(user: Any, action: str = "view") -> QuerySet[Hazard]:
    qs = Hazard.objects.all()
    if not allowed(user, "hazard", action):
        return qs.none()
    if user.is_superuser:
        return qs
    region = str(user.region_code or "")
    if not region:
        return qs.none()
    qs = qs.filter(_region_q(region))
    if user.role == "dept_staff":
        qs = qs.filter(department_id=user.department_id)
    return qs


def transitions(user: Any) -> QuerySet[Transition]:
    """State changes of the entries the user may see (for the dashboards)."""
    qs = Transition.objects.all()
    if not allowed(user, "hazard", "view"):
        return qs.none()
    if user.is_superuser:
        return qs
    region = str(user.region_code or "")
    if not region:
        return qs.none()
    if len(region) == 12:
        qs = qs.filter(hazard__entity__region_code=region)
    elif len(region) == 9:
        qs = qs.filter(town_code=region)
    else:
        qs = qs.filter(town_code__startswith=region)
    if user.role == "dept_staff":
        qs = qs.filter(department_id=user.department_id)
    return qs


def reminders(user: Any) -> QuerySet[Reminder]:
    qs = Reminder.objects.all()
    if not allowed(user, "reminder", "view"):
        return qs.none()
    if user.is_superuser:
        return qs
    region = str(user.region_code or "")
    if not region:
        return qs.none()
    if len(region) == 12:
        return qs.filter(entity__region_code=region)
    return qs.filter(town_code__startswith=region)
