from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from shijian.core.permissions import allowed

NAV: list[tuple[str, str, Any]] = [
    ("entity", "entity_list", _("Market entities")),
    ("department", "department_list", _("Departments")),
    ("inspector", "inspector_list", _("Inspectors")),
    ("item", "item_list", _("Spot-check items")),
    ("responsibility", "responsibility_list", _("Responsibilities")),
    ("plan", "plan_list", _("Spot-check plans")),
    ("visit", "task_list", _("Inspections")),
    ("publication", "publication", _("Publication")),
    ("hazard", "hazard_list", _("Problems and hazards")),
    ("reminder", "reminder_list", _("Reminders")),
    ("complaint", "complaint_list", _("Complaints and reports")),
    ("record", "record_search", _("Record search")),
    ("case", "case_list", _("Enforcement cases")),
    ("risk", "risk_overview", _("Credit risk")),
    ("analytics", "analytics", _("Statistics")),
    ("analytics", "operations", _("Operations centre")),
    ("linkage", "review_list", _("Linkage review")),
    ("feed", "dataadmin_home", _("Data administration")),
    ("audit", "audit_list", _("Audit log")),
    ("user", "user_list", _("Users")),
    ("job", "job_list", _("Jobs")),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    items = [
        {"url_name": url, "label": label}
        for kind, url, label in NAV
        if user is not None and allowed(user, kind, "view")
    ]
    return {"nav_items": items}
