"""Jurisdiction: the one place that says which rows of each model a user may see or write (docs/permissions.md).

The role matrix (``core.permissions``) says what a role may do to a kind of object; this module says on which
rows, as NetBox's ``RestrictedQuerySet`` does: ``restrict(queryset, user, action)`` applies the rule registered
for the queryset's model. Every view, form choice, export, count, dashboard, notification and job goes through it.

One region rule. A user is bound to a region (2/4-digit province or city, 6-digit district, 9-digit town/street,
12-digit village). A row lies in the region when its region code starts with the user's; rows coded by
district/town/village columns (entities and what hangs off them) are matched by an equality on the column of the
user's level, or an indexed IN over the districts of a province or city, never a LIKE scan. For viewing, the
region-coded objects above the user (the district's departments, responsibilities and plans) stay visible to the
towns below them; writes (add, change, delete, import) must lie inside the user's region. Fail closed: a
non-superuser with no region sees nothing, a model with no rule raises.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import models
from django.db.models import Q

from shijian.cases.models import Case, Complaint, Evidence
from shijian.core.codes.tables import ancestors, districts_under
from shijian.core.permissions import allowed
from shijian.dataadmin.models import Feed, Upload
from shijian.hazards.models import Hazard, Notification, Reminder, Transition
from shijian.lake.models import LinkReview, RecordText
from shijian.registry.models import Department, Entity, Inspector, InspectorConflict, Responsibility, SpotCheckItem
from shijian.supervision.models import Attachment, Batch, Draw, Plan, Visit, VisitItem

M = TypeVar("M", bound=models.Model)

VIEW = "view"
WRITES = frozenset({"add", "change", "delete", "import"})

# (district, town, village) columns of the models coded like an entity, relative to the model.
ENTITY_COLUMNS = ("district_code", "town_code", "region_code")
HAZARD_COLUMNS = ("district_code", "town_code", "entity__region_code")
TRANSITION_COLUMNS = ("hazard__district_code", "town_code", "hazard__entity__region_code")
REMINDER_COLUMNS = ("entity__district_code", "town_code", "entity__region_code")
CASE_COLUMNS = ("district_code", "town_code", "entity__region_code")


# The URL names answered without a login (the one place that says so; tests/test_jurisdiction_urls.py requires
# every other URL to be behind a login and restricted): the public pages of 一公开, signing in and out, the
# language switch and the health check.
PUBLIC_URLS = frozenset(
    {
        "public_index",
        "public_draw",
        "public_draw_file",
        "public_check",
        "public_results",
        "public_log",
        "public_log_key",
        "login",
        "logout",
        # 互联网+维权: the public complaint form, its receipt and the progress query (receipt number + telephone);
        # throttled, CSRF-protected, no personal data shown but the filer's own
        "public_complaint",
        "public_complaint_done",
        "public_complaint_status",
        # the verification of a signed document: upload a PDF, read the verdict (nothing stored, nothing listed)
        "public_verify",
        "oidc_login",
        "oidc_authentication_callback",
        "set_language",
        "healthz",
        # The phone app's manifest and service worker: the same for everyone, no data.
        "manifest",
        "service_worker",
        # Prometheus metrics: answered only to the machine itself (loopback, no proxy header) or with the bearer
        # token (shijian.ops.metrics); no login, no entity named.
        "metrics",
    }
)


# -- the region rule -------------------------------------------------------------------------------------------


def region_of(user: Any) -> str:
    return str(getattr(user, "region_code", "") or "")


def contains(outer: str, inner: str) -> bool:
    """Whether region ``inner`` lies in region ``outer`` (a region contains itself)."""
    return bool(outer) and inner.startswith(outer)


def in_jurisdiction(user: Any, code: str) -> bool:
    """Whether a region code (of an object to be written) lies inside the user's region."""
    return bool(user.is_superuser) or contains(region_of(user), code)


def visible_region(user: Any, code: str) -> bool:
    """Whether a region-coded object may be seen: inside the user's region, or a region above it."""
    return in_jurisdiction(user, code) or code in ancestors(region_of(user))


def coded_q(region: str, prefix: str = "", columns: tuple[str, str, str] = ENTITY_COLUMNS) -> Q:
    """Rows coded by (district, town, village) columns that lie in ``region``."""
    district, town, village = (prefix + c for c in columns)
    if len(region) in (2, 4):
        return Q(**{f"{district}__in": districts_under(region)})
    field = {6: district, 9: town, 12: village}.get(len(region))
    if field is None:
        return Q(pk__in=[])
    return Q(**{field: region})


def subtree_q(region: str, field: str = "region_code", with_ancestors: bool = False) -> Q:
    """Region-coded rows (small tables: departments, inspectors, responsibilities, plans) in ``region``; with
    ``with_ancestors`` also those of the regions above it."""
    q = Q(**{f"{field}__startswith": region})
    if with_ancestors:
        q |= Q(**{f"{field}__in": ancestors(region)})
    return q


# -- one rule per model ------------------------------------------------------------------------------------------

Rule = Callable[[models.QuerySet[Any], Any, str, str], models.QuerySet[Any]]


def _entity(qs: models.QuerySet[Any], user: Any, action: str, region: str) -> models.QuerySet[Any]:
    return qs.filter(coded_q(region))


def _department(qs: models.QuerySet[Any], user: Any, action: str, region: str) -> models.QuerySet[Any]:
    return qs.filter(subtree_q(region, with_ancestors=action == VIEW))


def _inspector(qs: models.QuerySet[Any], user: Any, action: str, region: str) -> models.QuerySet[Any]:
    qs = qs.filter(subtree_q(region))
    if user.role in {"dept_staff", "inspector"}:
        qs = qs.filter(department_id=user.department_id)
    return qs


def _conflict(qs: models.QuerySet[Any], user: Any, action: str, region: str) -> models.QuerySet[Any]:
    return qs.filter(inspector__in=restrict(Inspector.objects.all(), user, action))


def _item(qs: models.QuerySet[Any], user: Any, action: str, region: str) -> models.QuerySet[Any]:
    dept_id = user.department_id
    if user.role == "dept_staff":
        return qs.filter(Q(departments__id=dept_id) | Q(responsibilities__department_id=dept_id)).distinct()
    visible = subtree_q(region, "departments__region_code", with_ancestors=True) | subtree_q(
        region, "responsibilities__region_code", with_ancestors=True
    )
    return qs.filter(pk__in=qs.model._default_manager.filter(visible).values("pk"))


def _responsibility(qs: models.QuerySet[Any], user: Any, action: str, region: str) -> models.QuerySet[Any]:
    qs = qs.filter(subtree_q(region, with_ancestors=action == VIEW))
    if user.role == "dept_staff":
        qs = qs.filter(department_id=user.department_id)
    return qs


def _plan(qs: models.QuerySet[Any], user: Any, action: str, region: str) -> models.QuerySet[Any]:
    if action == VIEW:
        return qs.filter(subtree_q(region, with_ancestors=True))
    qs = qs.filter(subtree_q(region))
    if user.role == "dept_staff":
        qs = qs.filter(department_id=user.department_id)
    return qs


def _batch(qs: models.QuerySet[Any], user: Any, action: str, region: str) -> models.QuerySet[Any]:
    return qs.filter(plan__in=_plan(Plan.objects.all(), user, action, region))


def _draw(qs: models.QuerySet[Any], user: Any, action: str, region: str) -> models.QuerySet[Any]:
    return qs.filter(plan__in=_plan(Plan.objects.all(), user, VIEW if action == VIEW else "change", region))


def _visit(qs: models.QuerySet[Any], user: Any, action: str, region: str) -> models.QuerySet[Any]:
    qs = qs.filter(coded_q(region, "entity__"))
    if user.role == "inspector":
        qs = qs.filter(members__inspector__user=user)
    return qs


def _of_visit(qs: models.QuerySet[Any], user: Any, action: str, region: str) -> models.QuerySet[Any]:
    return qs.filter(visit__in=restrict(Visit.objects.all(), user, action).values("pk"))


def _hazard(qs: models.QuerySet[Any], user: Any, action: str, region: str) -> models.QuerySet[Any]:
    qs = qs.filter(coded_q(region, columns=HAZARD_COLUMNS))
    if user.role == "dept_staff":
        qs = qs.filter(department_id=user.department_id)
    return qs


def _transition(qs: models.QuerySet[Any], user: Any, action: str, region: str) -> models.QuerySet[Any]:
    qs = qs.filter(coded_q(region, columns=TRANSITION_COLUMNS))
    if user.role == "dept_staff":
        qs = qs.filter(department_id=user.department_id)
    return qs


def _reminder(qs: models.QuerySet[Any], user: Any, action: str, region: str) -> models.QuerySet[Any]:
    return qs.filter(coded_q(region, columns=REMINDER_COLUMNS))


def _notification(qs: models.QuerySet[Any], user: Any, action: str, region: str) -> models.QuerySet[Any]:
    """A user reads their department's notifications, of the entries they may see."""
    qs = qs.filter(department_id=user.department_id)
    return qs.filter(hazard__in=restrict(Hazard.objects.all(), user, action).values("pk"))


def _link_review(qs: models.QuerySet[Any], user: Any, action: str, region: str) -> models.QuerySet[Any]:
    return qs.filter(best_entity__in=Entity.objects.filter(coded_q(region)).values("pk"))


def _record_text(qs: models.QuerySet[Any], user: Any, action: str, region: str) -> models.QuerySet[Any]:
    """A lake record's text is seen where its entity is (codes copied onto the row by the build)."""
    return qs.filter(coded_q(region))


def _feed(qs: models.QuerySet[Any], user: Any, action: str, region: str) -> models.QuerySet[Any]:
    """A department's feed is administered inside the department's region (not seen from the towns below it)."""
    return qs.filter(subtree_q(region, "department__region_code"))


def _upload(qs: models.QuerySet[Any], user: Any, action: str, region: str) -> models.QuerySet[Any]:
    return qs.filter(subtree_q(region, "feed__department__region_code"))


def _complaint(qs: models.QuerySet[Any], user: Any, action: str, region: str) -> models.QuerySet[Any]:
    """Filings where the entity is (the receiving district while none is linked); department staff their own."""
    qs = qs.filter(coded_q(region))
    if user.role == "dept_staff":
        qs = qs.filter(department_id=user.department_id)
    return qs


def _case(qs: models.QuerySet[Any], user: Any, action: str, region: str) -> models.QuerySet[Any]:
    qs = qs.filter(coded_q(region, columns=CASE_COLUMNS))
    if user.role == "dept_staff":
        qs = qs.filter(department_id=user.department_id)
    return qs


def _evidence(qs: models.QuerySet[Any], user: Any, action: str, region: str) -> models.QuerySet[Any]:
    return qs.filter(case__in=restrict(Case.objects.all(), user, VIEW if action == VIEW else "change").values("pk"))


# model -> (the permission kind of core.permissions, the rule)
RULES: dict[type[models.Model], tuple[str, Rule]] = {
    Entity: ("entity", _entity),
    Department: ("department", _department),
    Inspector: ("inspector", _inspector),
    InspectorConflict: ("inspector", _conflict),
    SpotCheckItem: ("item", _item),
    Responsibility: ("responsibility", _responsibility),
    Plan: ("plan", _plan),
    Batch: ("plan", _batch),
    Draw: ("draw", _draw),
    Visit: ("visit", _visit),
    VisitItem: ("visit", _of_visit),
    Attachment: ("visit", _of_visit),
    Hazard: ("hazard", _hazard),
    Transition: ("hazard", _transition),
    Reminder: ("reminder", _reminder),
    Notification: ("hazard", _notification),
    LinkReview: ("linkage", _link_review),
    RecordText: ("record", _record_text),
    Feed: ("feed", _feed),
    Upload: ("feed", _upload),
    Complaint: ("complaint", _complaint),
    Case: ("case", _case),
    Evidence: ("case", _evidence),
}


def restrict(qs: models.QuerySet[M], user: Any, action: str = VIEW) -> models.QuerySet[M]:
    """The rows of ``qs`` that ``user`` may perform ``action`` on: the role matrix, then the model's rule."""
    kind, rule = RULES[qs.model]
    if not allowed(user, kind, action):
        return qs.none()
    if user.is_superuser:
        return qs
    region = region_of(user)
    if not region:
        return qs.none()
    return rule(qs, user, action, region)


def choices(qs: models.QuerySet[M], user: Any) -> models.QuerySet[M]:
    """The rows of a region-coded model (departments, inspectors) a form that writes may offer: those the user
    sees, inside the user's region (not the regions above it)."""
    qs = restrict(qs, user, VIEW)
    if user.is_superuser:
        return qs
    return qs.filter(subtree_q(region_of(user)))


def may_see_figures(user: Any, kind: str, code: str) -> bool:
    """Whether a dashboard scope (``district``/``town`` and its code, or ``department`` and its id) may be shown:
    department staff see their own department's figures only (as on the hazard dashboards); leaders, data
    administrators and auditors the district, towns and departments inside their region."""
    if user.is_superuser:
        return True
    region = region_of(user)
    if getattr(user, "role", "") == "dept_staff":
        return kind == "department" and str(user.department_id) == code
    if not region:
        return False
    if kind == "district":
        return len(region) <= 6 and contains(region, code)
    if kind == "town":
        return contains(region, code)
    dept = Department.objects.filter(pk=int(code)).first() if code.isdigit() else None
    return dept is not None and contains(region, dept.region_code)
