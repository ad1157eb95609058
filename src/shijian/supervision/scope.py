"""Jurisdiction for plans, draws and visits (see docs/permissions.md)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from shijian.core.codes.tables import ancestors
from shijian.core.permissions import allowed
from shijian.registry.scope import entity_region_q
from shijian.supervision.models import Draw, Plan, Visit


def _region(user: Any) -> str:
    return str(getattr(user, "region_code", "") or "")


def plans(user: Any, action: str = "view") -> QuerySet[Plan]:
    qs = Plan.objects.all()
    if not allowed(user, "plan", action):
        return qs.none()
    if user.is_superuser:
        return qs
    region = _region(user)
    if not region:
        return qs.none()
    if action == "view":
        return qs.filter(Q(region_code__startswith=region) | Q(region_code__in=ancestors(region)))
    qs = qs.filter(region_code__startswith=region)
    if user.role == "dept_staff":
        qs = qs.filter(department_id=user.department_id)
    return qs


def draws(user: Any, action: str = "view") -> QuerySet[Draw]:
    kind_ok = allowed(user, "draw", action)
    if not kind_ok:
        return Draw.objects.none()
    return Draw.objects.filter(plan__in=plans(user, "view" if action == "view" else "change"))


def visits(user: Any, action: str = "view") -> QuerySet[Visit]:
    qs = Visit.objects.all()
    if not allowed(user, "visit", action):
        return qs.none()
    if user.is_superuser:
        return qs
    region = _region(user)
    if not region:
        return qs.none()
    qs = qs.filter(entity_region_q(region, prefix="entity__"))
    if user.role == "inspector":
        qs = qs.filter(members__inspector__user=user)
    return qs
