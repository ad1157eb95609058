"""Whether a user may open a link, so that pages offer no link that would answer 403.

The rule stays where it is (the role matrix, ``analytics.views.may_see`` for dashboard scopes): this module only
maps a URL to the check its view makes first.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.urls import Resolver404, resolve

from shijian.core.permissions import allowed

# url name -> the kind its view requires ("view" action)
URL_KIND: dict[str, str] = {
    "entity_list": "entity",
    "entity_detail": "entity",
    "department_list": "department",
    "inspector_list": "inspector",
    "inspector_detail": "inspector",
    "item_list": "item",
    "responsibility_list": "responsibility",
    "plan_list": "plan",
    "task_list": "visit",
    "visit_detail": "visit",
    "publication": "publication",
    "hazard_list": "hazard",
    "hazard_detail": "hazard",
    "hazard_dashboard": "hazard",
    "reminder_list": "reminder",
    "risk_overview": "risk",
    "analytics": "analytics",
    "forecast": "analytics",
    "operations": "analytics",
    "analytics_report": "analytics",
    "review_list": "linkage",
    "record_search": "record",
    "audit_list": "audit",
    "draw_detail": "draw",
}
DASHBOARD_URLS = frozenset({"analytics", "forecast", "analytics_report"})


def can_open(user: Any, url: str) -> bool:
    """Whether ``user`` may open ``url`` (an internal path with an optional query)."""
    parts = urlsplit(url)
    try:
        match = resolve(parts.path)
    except Resolver404:
        return False
    kind = URL_KIND.get(match.url_name or "")
    if kind is not None and not allowed(user, kind, "view"):
        return False
    if match.url_name in DASHBOARD_URLS:
        from shijian.analytics.snapshot import Scope
        from shijian.analytics.views import may_see

        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        for key in ("district", "town", "department"):
            code = query.get(key, "")
            if code:
                try:
                    return may_see(user, Scope(key, code))
                except ValueError:
                    return False
    return True


def only_openable(user: Any, urls: list[str]) -> list[str]:
    """The same links, with those the user may not open blanked (a figure without a link)."""
    return [u if u and can_open(user, u) else "" for u in urls]
