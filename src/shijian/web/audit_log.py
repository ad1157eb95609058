"""The audit log as auditors read it: filtered by user, action, object type and date range, in Chinese, exportable."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shijian.core import audit
from shijian.core.models import AuditEvent
from shijian.core.permissions import require
from shijian.web.tabular import write_xlsx, xlsx_response

# Object types written by services rather than by a model's save
OTHER_TYPES: dict[str, Any] = {
    "registry.lists": gettext_lazy("registry lists"),
    "analytics.report": gettext_lazy("monthly report"),
    "analytics.snapshot": gettext_lazy("statistics snapshot"),
}
TYPES = (
    "registry.entity", "registry.department", "registry.inspector", "registry.spotcheckitem",
    "registry.responsibility", "registry.lists", "supervision.plan", "supervision.batch", "supervision.draw",
    "supervision.visit", "supervision.attachment", "hazards.hazard", "hazards.reminder", "lake.linkdecision",
    "analytics.report", "analytics.snapshot", "accounts.user", "core.auditevent",
)  # fmt: skip


def type_label(object_type: str) -> str:
    """The Chinese name of an object type (``registry.entity`` → 市场主体); the code itself if unknown."""
    if object_type in OTHER_TYPES:
        return str(OTHER_TYPES[object_type])
    try:
        return str(apps.get_model(object_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return object_type


def action_label(action: str) -> str:
    try:
        return str(audit.Action(action).label)
    except ValueError:
        return action


def _day(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        return None


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def filtered(params: Any) -> QuerySet[AuditEvent]:
    """The events matching the filters of the audit page (dates are Beijing dates, both ends included)."""
    qs = AuditEvent.objects.order_by("-id")
    for key in ("action", "object_type", "request_id"):
        value = params.get(key, "").strip()
        if value:
            qs = qs.filter(**{key: value})
    user = params.get("user", "").strip()
    if user:
        qs = qs.filter(actor_name=user)
    since, until = _day(params.get("since", "")), _day(params.get("until", ""))
    if since:
        qs = qs.filter(at__gte=_local_midnight(since))
    if until:
        qs = qs.filter(at__lt=_local_midnight(until + dt.timedelta(days=1)))
    return qs


def _json(value: Any) -> str:
    return "—" if value is None else json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True)


def _row(e: AuditEvent) -> dict[str, Any]:
    return {
        "event": e,
        "at": timezone.localtime(e.at),
        "actor": _("system") if e.actor_name == "system" else e.actor_name,
        "action": action_label(e.action),
        "object_type": type_label(e.object_type),
        "before": _json(e.before),
        "after": _json(e.after),
        "object": " ".join(x for x in (f"#{e.object_id}" if e.object_id else "", e.object_repr) if x and x != "None"),
    }


@login_required
def audit_list(request: HttpRequest) -> HttpResponse:
    require(request.user, "audit", "view")
    page = Paginator(filtered(request.GET), 50).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "web/audit_list.html",
        {
            "page": page,
            "rows": [_row(e) for e in page.object_list],
            "querystring": params.urlencode(),
            "filters": request.GET,
            "actions": audit.Action.choices,
            "types": sorted(((t, type_label(t)) for t in TYPES), key=lambda kv: kv[1]),
        },
    )


def _export_row(r: dict[str, Any]) -> list[Any]:
    e = r["event"]
    at = r["at"].strftime("%Y-%m-%d %H:%M:%S")
    return [e.id, at, r["actor"], r["action"], r["object_type"], r["object"], e.reason, e.request_id, e.hash]


@login_required
def audit_export(request: HttpRequest) -> HttpResponse:
    require(request.user, "audit", "export")
    qs = filtered(request.GET)
    total = qs.count()
    limit = settings.SHIJIAN_EXPORT_MAX_ROWS
    if total > limit:
        messages.error(
            request,
            _("%(n)d rows match; exports are limited to %(limit)d. Narrow the filters.") % {"n": total, "limit": limit},
        )
        return redirect(f"/audit/?{request.GET.urlencode()}")
    headers = [_("number"), _("time"), _("user"), _("action"), _("object type"), _("object"), _("reason"),
               _("request id"), _("hash")]  # fmt: skip
    rows = (_export_row(r) for r in map(_row, qs.iterator(chunk_size=2000)))
    body = write_xlsx(headers, rows)
    audit.record(audit.Action.EXPORT, object_type="core.auditevent", object_repr=f"{total} rows",
                 after={"filters": dict(request.GET.items()), "rows": total})  # fmt: skip
    return xlsx_response(f"audit-{timezone.localtime():%Y%m%d-%H%M%S}.xlsx", body)
