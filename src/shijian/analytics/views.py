"""统计分析 pages: the dashboard of a scope (district, town/street, department), its Excel export, and forecasts.

Views are thin: the figures come from ``snapshot.get`` (stored per scope), the forecasts from ``forecast``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shijian.analytics import report, snapshot
from shijian.analytics.snapshot import Scope
from shijian.core import audit
from shijian.core.jurisdiction import choices, may_see_figures
from shijian.core.permissions import DEPT, allowed, require
from shijian.registry.models import Department, Entity
from shijian.web.links import only_openable
from shijian.web.params import id_value
from shijian.web.tabular import write_xlsx_sheets, xlsx_response

SERIES = {
    "complaints": gettext_lazy("Complaints (12315 and departments)"),
    "findings": gettext_lazy("Inspections with findings"),
    "registrations": gettext_lazy("New registrations"),
}


def _lake_root() -> Path:
    return Path(settings.SHIJIAN_LAKE)


def user_scope(user: Any) -> Scope:
    """The scope a user's dashboard opens on: department staff their department; others their district or town."""
    region = getattr(user, "region_code", "") or ""
    if getattr(user, "role", "") == DEPT and user.department_id and not user.is_superuser:
        return Scope("department", str(user.department_id))
    if len(region) >= 9:
        return Scope("town", region[:9])
    if len(region) == 6:
        return Scope("district", region)
    first = Entity.objects.order_by("district_code").values_list("district_code", flat=True).first()
    return Scope("district", first or "000000")


def may_see(user: Any, scope: Scope) -> bool:
    """Jurisdiction of the dashboards (``core.jurisdiction.may_see_figures``)."""
    return may_see_figures(user, scope.kind, scope.code)


def _scope(request: HttpRequest) -> Scope:
    require(request.user, "analytics", "view")
    town, dept = request.GET.get("town", "").strip(), request.GET.get("department", "").strip()
    district = request.GET.get("district", "").strip()
    if district:
        if not (district.isdigit() and len(district) == 6):
            raise Http404("district")
        scope = Scope("district", district)
    elif town:
        if not (town.isdigit() and len(town) == 9):
            raise Http404("town")
        scope = Scope("town", town)
    elif dept:
        if not Department.objects.filter(pk=id_value("department", dept)).exists():
            raise Http404("department")
        scope = Scope("department", dept)
    else:
        scope = user_scope(request.user)
    if not may_see(request.user, scope):
        raise PermissionDenied
    return scope


def _url(name: str, **params: Any) -> str:
    query = urlencode({k: v for k, v in params.items() if v not in ("", None)})
    return reverse(name) + (f"?{query}" if query else "")


def tables(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every dashboard table with its rows and, per row, the list behind the figure (drill-down)."""
    drill = data["scope"]["drill"]
    town = drill.get("town", "")
    dept = drill.get("department", "")
    ent, hz, ins, wl = data["entities"], data["hazards"], data["inspections"], data["workload"]
    out = [
        {
            "id": "by_status",
            "title": _("Entities by status"),
            "headers": [_("status"), _("entities")],
            "rows": [[label, n] for _c, label, n in ent["by_status"]],
            "links": [_url("entity_list", town=town, status=c) for c, _l, _n in ent["by_status"]],
        },
        {
            "id": "by_section",
            "title": _("Entities by industry section"),
            "headers": [_("industry section"), _("entities")],
            "rows": [[f"{c} {name}", n] for c, name, n in ent["by_section"]],
            "links": [_url("entity_list", town=town, section=c) for c, _l, _n in ent["by_section"]],
        },
        {
            "id": "by_class",
            "title": _("Entities by risk class"),
            "headers": [_("risk class"), _("entities")],
            "rows": [[c, n] for c, n in ent["by_class"]],
            "links": [_url("entity_list", town=town, risk=c) for c, _n in ent["by_class"]],
        },
        {
            "id": "inspections",
            "title": _("Inspections (joint visits)"),
            "headers": [_("stage"), _("visits")],
            "rows": [
                [_("planned"), ins["planned"]],
                [_("assigned, not yet checked"), ins["assigned"]],
                [_("checked"), ins["done"]],
                [_("published"), ins["published"]],
            ],
            "links": [
                _url("task_list"),
                _url("task_list", status="assigned"),
                _url("task_list", status="done"),
                _url("publication"),
            ],
        },
        {
            "id": "findings",
            "title": _("Findings rate: targeted vs purely random share"),
            "headers": [_("share"), _("items checked"), _("with findings"), _("rate"), _("95% interval")],
            "rows": [
                [label, r["n"], r["found"], _pct(r["rate"]), _interval(r)]
                for label, r in (
                    (_("purely random"), data["findings"]["random"]),
                    (_("targeted (risk-stratified)"), data["findings"]["targeted"]),
                )
            ],
            "links": [_url("risk_overview") + "#uplift"] * 2,
        },
        {
            "id": "findings_by_class",
            "title": _("Findings rate by risk class"),
            "headers": [_("risk class"), _("items checked"), _("with findings"), _("rate")],
            "rows": [[c, n, k, _pct(rate)] for c, n, k, rate in data["findings"]["by_class"]],
            "links": [_url("entity_list", town=town, risk=c) for c, *_r in data["findings"]["by_class"]],
        },
        {
            "id": "hazards",
            "title": _("Hazards by town / street") if hz["group"] == "town_code" else _("Hazards by department"),
            "headers": [_("name"), _("open"), _("overdue"), _("closed"), _("mean days to rectify")],
            "rows": [
                [name, o, od, c, days if days is not None else "—"] for _k, name, o, od, c, days in hz["by_group"]
            ],
            "links": [
                _url("hazard_list", **({"town": k} if hz["group"] == "town_code" else {"department": k, "town": town}))
                for k, *_r in hz["by_group"]
            ],
        },
        {
            "id": "workload",
            "title": _("Inspector workload (visits in the last 12 months)"),
            "headers": [_("inspector"), _("department"), _("visits")],
            "rows": [[name, dname, n] for _i, name, dname, n in wl["top"]],
            "links": [reverse("inspector_detail", args=[i]) for i, *_r in wl["top"]],
        },
        {
            "id": "complaints",
            "title": _("Complaints per month"),
            "headers": [_("month"), _("complaints")],
            "rows": [[_month_label(data, "complaints", m), n] for m, n in data["series"]["complaints"][-12:]],
            "links": [_url("forecast", series="complaints", town=town, department=dept)] * 12,
        },
    ]
    if "by_town" in ent:
        out.insert(
            1,
            {
                "id": "by_town",
                "title": _("Entities by town / street"),
                "headers": [_("town / street"), _("entities")],
                "rows": [[name, n] for _c, name, n in ent["by_town"]],
                "links": [_url("analytics", town=c) for c, _n, _x in ent["by_town"]],
            },
        )
    if data["risk"]["movement"]:
        out.append(
            {
                "id": "movement",
                "title": _("Risk class movement at the last refresh (%(date)s)")
                % {"date": data["risk"]["refresh_as_of"]},
                "headers": [_("before \\ after"), *snapshot.CLASSES],
                "rows": [list(r) for r in data["risk"]["movement"]],
                "links": [
                    _url("entity_list", town=town, risk=r[0]) if r[0] != "—" else "" for r in data["risk"]["movement"]
                ],
            }
        )
    return out


def charts(data: dict[str, Any], tabs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Chart specifications for static/shijian/charts.js; each click opens the table row's list."""
    by_id = {t["id"]: t for t in tabs}
    months = [m for m, _n in data["series"]["registrations"]][-24:]

    through = data.get("complete_through") or {}

    def last(series: list[list[Any]], name: str = "") -> list[Any]:
        # a month the data do not cover to its end is left blank, not drawn as a drop
        cut = through.get(name) or "9999-12"
        return [n if m <= cut else None for m, n in series][-24:]

    ins = data["inspections"]["by_month"][-24:]
    out = [
        {
            "id": "chart-classes",
            "title": _("Risk classes"),
            "spec": {
                "kind": "pie",
                "categories": [r[0] for r in by_id["by_class"]["rows"]],
                "series": [{"name": _("entities"), "data": [r[1] for r in by_id["by_class"]["rows"]]}],
                "links": by_id["by_class"]["links"],
            },
        },
        {
            "id": "chart-sections",
            "title": _("Entities by industry section"),
            "spec": {
                "kind": "bar",
                "categories": [r[0][:1] for r in by_id["by_section"]["rows"]],
                "series": [{"name": _("entities"), "data": [r[1] for r in by_id["by_section"]["rows"]]}],
                "links": by_id["by_section"]["links"],
            },
        },
        {
            "id": "chart-trend",
            "title": _("New registrations, complaints and findings per month"),
            "spec": {
                "kind": "line",
                "categories": months,
                "series": [
                    {"name": _("new registrations"), "data": last(data["series"]["registrations"], "registrations")},
                    {
                        "name": _("complaints"),
                        "data": last(data["series"]["complaints"], "complaints") or [0] * len(months),
                    },
                    {
                        "name": _("inspections with findings"),
                        "data": last(data["series"]["findings"], "findings") or [0] * len(months),
                    },
                ],
            },
        },
        {
            "id": "chart-inspections",
            "title": _("Visits checked and published per month"),
            "spec": {
                "kind": "bar",
                "categories": [m for m, _d, _p in ins],
                "series": [
                    {"name": _("checked"), "data": [d for _m, d, _p in ins]},
                    {"name": _("published"), "data": [p for _m, _d, p in ins]},
                ],
            },
        },
        {
            "id": "chart-findings",
            "title": _("Findings rate: targeted vs purely random share"),
            "spec": {
                "kind": "bar",
                "categories": [r[0] for r in by_id["findings"]["rows"]],
                "series": [
                    {
                        "name": _("rate (%)"),
                        "data": [
                            round(x["rate"] * 100, 1) if x["rate"] is not None else 0
                            for x in (data["findings"]["random"], data["findings"]["targeted"])
                        ],
                    },
                ],
                "links": by_id["findings"]["links"],
            },
        },
        {
            "id": "chart-hazards",
            "title": by_id["hazards"]["title"],
            "spec": {
                "kind": "bar",
                "categories": [r[0] for r in by_id["hazards"]["rows"]],
                "series": [
                    {"name": _("open"), "data": [r[1] for r in by_id["hazards"]["rows"]], "stack": "h"},
                    {"name": _("overdue"), "data": [r[2] for r in by_id["hazards"]["rows"]]},
                ],
                "links": by_id["hazards"]["links"],
            },
        },
    ]
    if "by_town" in by_id:
        t = by_id["by_town"]
        out.insert(
            1,
            {
                "id": "chart-towns",
                "title": t["title"],
                "spec": {
                    "kind": "bar",
                    "categories": [r[0] for r in t["rows"]],
                    "series": [{"name": _("entities"), "data": [r[1] for r in t["rows"]]}],
                    "links": t["links"],
                },
            },
        )
    for c in out:
        c["spec_id"] = c["id"] + "-spec"
    return out


def forecast_chart(result: dict[str, Any]) -> dict[str, Any]:
    hist, pts = result["history"][-24:], result["points"]
    months = [m for m, _v in hist] + [p["month"] for p in pts]
    pad = [None] * len(hist)

    def band(lo: str, hi: str) -> list[list[Any]]:
        return [pad + [p[lo] for p in pts], pad + [round(p[hi] - p[lo], 1) for p in pts]]

    b95, b80 = band("lo95", "hi95"), band("lo80", "hi80")
    return {
        "kind": "line",
        "categories": months,
        "series": [
            {"name": _("actual"), "data": [v for _m, v in hist] + [None] * len(pts)},
            {"name": _("forecast"), "data": pad + [p["mean"] for p in pts]},
            {"name": "95%", "data": b95[0], "band": "b95", "base": True},
            {"name": "95%", "data": b95[1], "band": "b95"},
            {"name": "80%", "data": b80[0], "band": "b80", "base": True},
            {"name": "80%", "data": b80[1], "band": "b80"},
        ],
    }


def report_months(data: dict[str, Any]) -> list[str]:
    return report.months_available(data)[:24]


def _pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _interval(r: dict[str, Any]) -> str:
    return "—" if r["low"] is None else f"{r['low'] * 100:.1f}–{r['high'] * 100:.1f}%"


def _month_label(data: dict[str, Any], name: str, month: str) -> str:
    through = (data.get("complete_through") or {}).get(name)
    return month if through is None or month <= through else _("%(m)s (incomplete)") % {"m": month}


def incomplete_notes(data: dict[str, Any]) -> list[str]:
    """One line per series whose data stop before the last month that should be complete."""
    ends, through = data.get("data_end") or {}, data.get("complete_through") or {}
    expected = report.months_available({"months": data["months"]})[:1]
    notes = []
    for name, label in SERIES.items():
        if ends.get(name) and expected and through.get(name, expected[0]) < expected[0]:
            notes.append(
                _(
                    "%(series)s: the data end on %(end)s, so months after %(month)s are incomplete: they are left "
                    "blank, and not compared or forecast."
                )
                % {"series": label, "end": ends[name], "month": through[name]}
            )
    return notes


def _kpis(user: Any, scope: Scope, data: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """The dashboard's tiles: (link or "" where the user may not open the list, figure, label)."""
    drill = {scope.kind: scope.code} if scope.kind in ("town", "department") else {}
    ins, hz = data["inspections"], data["hazards"]
    tiles = [
        (_url("entity_list", town=drill.get("town", "")), data["entities"]["total"], _("market entities")),
        (_url("task_list"), ins["planned"], _("visits planned")),
        (_url("task_list", status="done"), ins["done"], _("visits checked")),
        (_url("publication"), ins["published"], _("results published")),
        (_url("hazard_list", **drill), hz["open"], _("hazards open")),
        (_url("hazard_list", overdue=1, **drill), hz["overdue"], _("hazards overdue")),
    ]
    links = only_openable(user, [t[0] for t in tiles])
    return [(link, n, label) for link, (_u, n, label) in zip(links, tiles, strict=True)]


def dashboard(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    data, computed_at = snapshot.get(scope, _lake_root())
    tabs = tables(data)
    if request.GET.get("format") == "xlsx":
        audit.record("export", object_type="analytics.snapshot", object_repr=scope.key, reason=request.GET.urlencode())
        body = write_xlsx_sheets([(t["title"], t["headers"], t["rows"]) for t in tabs])
        return xlsx_response(f"dashboard-{scope.key.replace(':', '-')}.xlsx", body)
    user = request.user
    for t in tabs:
        t["links"] = only_openable(user, t["links"])
    towns = [(c, name) for c, name, _n in data["entities"].get("by_town", []) if may_see(user, Scope("town", c))]
    departments = [
        (d.pk, d.name)
        for d in choices(Department.objects.filter(active=True).order_by("code"), user)
        if may_see(user, Scope("department", str(d.pk)))
    ]
    return render(
        request,
        "analytics/dashboard.html",
        {
            "scope": scope,
            "data": data,
            "tables": tabs,
            "charts": charts(data, tabs),
            "computed_at": computed_at,
            "towns": towns,
            "departments": departments,
            "kpis": _kpis(user, scope, data),
            "incomplete": incomplete_notes(data),
            "export_url": request.get_full_path() + ("&" if "?" in request.get_full_path() else "?") + "format=xlsx",
            "report_months": report_months(data),
            "series_names": {k: str(v) for k, v in SERIES.items()},
        },
    )


def forecast_view(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    name = request.GET.get("series", "complaints")
    if name not in SERIES:
        raise Http404("series")
    from shijian.core.codes import tables as code_tables

    sections = code_tables.industries()
    section = request.GET.get("section", "").strip().upper()
    if section and (len(section) != 1 or section not in sections):
        raise Http404("section")
    data, computed_at = snapshot.get(scope, _lake_root())
    result = snapshot.stored_forecast(scope, name, section)
    label = str(SERIES[name]) + (f" · {section} {sections[section].name}" if section else "")
    bt = result.get("backtest") or {}
    worse = bt.get("mae") is not None and bt.get("naive_mae") is not None and bt["mae"] > bt["naive_mae"]
    past = dict((m, v) for m, v in result.get("history", []))
    baseline = [past.get(f"{int(p['month'][:4]) - 1:04d}{p['month'][4:]}") for p in result.get("points", [])]
    return render(
        request,
        "analytics/forecast.html",
        {
            "scope": scope,
            "data": data,
            "series": name,
            "section": section,
            "sections": [(c, sections[c].name) for c in sorted(data.get("series_by_section", {})) if c in sections],
            "series_names": {k: str(v) for k, v in SERIES.items()},
            "series_label": label,
            "result": result,
            "worse_than_baseline": worse,
            "points": list(zip(result.get("points", []), baseline, strict=True)),
            "incomplete": incomplete_notes(data),
            "chart": forecast_chart(result),
            "computed_at": computed_at,
        },
    )


def report_view(request: HttpRequest) -> HttpResponse:
    """The scope's monthly report as PDF (``?month=YYYY-MM``, default the last complete month)."""
    from django.contrib import messages
    from django.shortcuts import redirect

    scope = _scope(request)
    data, computed_at = snapshot.get(scope, _lake_root())
    try:
        month = report.check_month(data, request.GET.get("month", "").strip())
        forecasts = {name: snapshot.stored_forecast(scope, name) for name in snapshot.SERIES}
        body = report.render(data, computed_at, month, forecasts)
    except report.ReportError as exc:
        messages.error(request, str(exc))
        return redirect(_url("analytics", **scope.drill()))
    audit.record("export", object_type="analytics.report", object_repr=scope.key, reason=month)
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="report-{scope.key.replace(":", "-")}-{month}.pdf"'
    return response


def operations_view(request: HttpRequest) -> HttpResponse:
    """智慧运行中心: today's work, what is overdue or waiting, data loads and the model's health."""
    from django.utils import timezone

    from shijian.analytics import operations

    require(request.user, "analytics", "view")
    data = operations.overview(request.user, timezone.localdate(), _lake_root())
    may = {k: allowed(request.user, k, "view") for k in ("visit", "hazard", "publication", "linkage", "risk", "draw")}
    # the schedules' last run, failures and next run, for those who may see them
    from shijian.jobs.schedules import overview as schedule_overview

    runs = schedule_overview() if allowed(request.user, "schedule", "view") else None
    return render(request, "analytics/operations.html", {"ops": data, "may": may, "schedules": runs})
