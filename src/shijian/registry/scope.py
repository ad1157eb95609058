"""Jurisdiction: which rows of each kind a user may see (and so act on).

A user is bound to a region (6-digit district, 9-digit town/street or 12-digit village) and a department.
Staff see their region's subtree; district-level departments and responsibilities that cover their region stay
visible to towns below them. Department staff and inspectors see their own department's inspectors; department
staff see the items their department answers for. Fail closed: a non-superuser with no region sees nothing.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import models
from django.db.models import Q

from shijian.core.codes.tables import ancestors, districts_under
from shijian.core.permissions import allowed
from shijian.registry.models import Department, Entity, Inspector, Responsibility, SpotCheckItem

M = TypeVar("M", bound=models.Model)

KIND_OF_MODEL: dict[type[models.Model], str] = {
    Entity: "entity",
    Department: "department",
    Inspector: "inspector",
    SpotCheckItem: "item",
    Responsibility: "responsibility",
}


def region_q(region: str, field: str = "region_code", include_ancestors: bool = False) -> Q:
    q = Q(**{f"{field}__startswith": region})
    if include_ancestors:
        q |= Q(**{f"{field}__in": ancestors(region)})
    return q


def entity_region_q(region: str, prefix: str = "") -> Q:
    """Entities (or, with ``prefix="entity__"``, rows of a model pointing at one) in a region."""
    if len(region) in (2, 4):
        # An indexed IN over the districts, never a LIKE scan of the whole table.
        return Q(**{f"{prefix}district_code__in": districts_under(region)})
    field = {6: "district_code", 9: "town_code", 12: "region_code"}.get(len(region))
    if field is None:
        return Q(pk__in=[])
    return Q(**{f"{prefix}{field}": region})


def restrict(qs: models.QuerySet[M], user: Any, action: str = "view") -> models.QuerySet[M]:
    """The rows of ``qs`` that ``user`` may perform ``action`` on."""
    kind = KIND_OF_MODEL[qs.model]
    if not allowed(user, kind, action):
        return qs.none()
    if user.is_superuser:
        return qs
    region: str = user.region_code or ""
    if not region:
        return qs.none()
    role: str = user.role
    dept_id = user.department_id
    if kind == "entity":
        return qs.filter(entity_region_q(region))
    if kind == "department":
        return qs.filter(region_q(region, include_ancestors=True))
    if kind == "inspector":
        qs = qs.filter(region_q(region))
        if role in {"dept_staff", "inspector"}:
            qs = qs.filter(department_id=dept_id)
        return qs
    if kind == "item":
        if role == "dept_staff":
            return qs.filter(Q(departments__id=dept_id) | Q(responsibilities__department_id=dept_id)).distinct()
        visible = region_q(region, "departments__region_code", include_ancestors=True) | region_q(
            region, "responsibilities__region_code", include_ancestors=True
        )
        return qs.filter(pk__in=qs.model._default_manager.filter(visible).values("pk"))
    if kind == "responsibility":
        qs = qs.filter(region_q(region, include_ancestors=True))
        if role == "dept_staff":
            qs = qs.filter(department_id=dept_id)
        return qs
    raise KeyError(kind)


def can_see_region(user: Any, region_code: str) -> bool:
    """Whether a region (e.g. of a new object) lies in the user's jurisdiction."""
    if user.is_superuser:
        return True
    mine: str = user.region_code or ""
    return bool(mine) and region_code.startswith(mine)
