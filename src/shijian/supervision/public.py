"""Public pages (一公开), no login: draw records with their inputs and hashes, and published results.

Personal data is masked: no legal representatives, officers by surname only; individual businesses (个体工商户)
by a masked name.
"""

from __future__ import annotations

import io
import json
from typing import Any

from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from shijian.registry.display import mask_person
from shijian.supervision import services
from shijian.supervision.draw import entity_commitment
from shijian.supervision.models import Draw, DrawStatus, Outcome, Visit, VisitStatus
from shijian.web.pagination import BoundedPaginator
from shijian.web.params import int_param
from shijian.web.tabular import write_csv

OUTCOME_LABEL = dict(Outcome.choices)


def public_entity_name(name: str, entity_type: str) -> str:
    if entity_type == "individual" and len(name) > 4:
        return name[:2] + "*" * (len(name) - 4) + name[-2:]
    return name


def index(request: HttpRequest) -> HttpResponse:
    draws = Draw.objects.filter(status=DrawStatus.DRAWN).select_related("plan").order_by("-drawn_at")[:200]
    frozen = Draw.objects.filter(status=DrawStatus.FROZEN).select_related("plan").order_by("-frozen_at")[:200]
    return render(request, "supervision/public_index.html", {"draws": draws, "frozen": frozen})


def draw(request: HttpRequest, code: str) -> HttpResponse:
    d = get_object_or_404(Draw.objects.select_related("plan"), code=code)
    visits = (
        d.visits.select_related("entity").prefetch_related("checks__item", "members__inspector").order_by("entity_key")
    )
    page = BoundedPaginator(visits, 100).get_page(request.GET.get("page"))
    rows = [
        {
            "key": v.entity_key,
            "name": public_entity_name(v.entity.name, v.entity.entity_type),
            "published": v.status == VisitStatus.PUBLISHED,
            "checked_on": v.checked_on if v.status == VisitStatus.PUBLISHED else None,
            "results": [(c.item.code, c.item.name, OUTCOME_LABEL.get(c.outcome, "")) for c in v.checks.all()]
            if v.status == VisitStatus.PUBLISHED
            else [(c.item.code, c.item.name, "") for c in v.checks.all()],
            "team": [mask_person(m.inspector.name) for m in v.members.all()],
        }
        for v in page.object_list
    ]
    return render(
        request,
        "supervision/public_draw.html",
        {"draw": d, "batches": d.batches.order_by("code"), "page": page, "rows": rows, "querystring": ""},
    )


def draw_file(request: HttpRequest, code: str, name: str) -> FileResponse:
    d = get_object_or_404(Draw, code=code)
    allowed = {b.candidates_file for b in d.batches.all()}
    if d.status == DrawStatus.DRAWN:
        allowed.add("record.json")
    if name not in allowed:
        raise Http404
    path = services.draw_dir(d.code) / name
    if not path.exists():
        raise Http404
    ctype = "application/json" if name.endswith(".json") else "text/csv; charset=utf-8"
    return FileResponse(path.open("rb"), content_type=ctype, filename=name)


def check_line(request: HttpRequest, code: str) -> HttpResponse:
    """An entity checks its own line: its code and the salt the bureau gave it (its receipt) give its commitment;
    the page says in which public lists that commitment stands, with which class, and whether it was drawn."""
    d = get_object_or_404(Draw, code=code)
    key = request.GET.get("key", "").strip().upper()
    salt = request.GET.get("salt", "").strip().lower()
    lines: list[dict[str, Any]] = []
    commitment = ""
    if key and salt:
        commitment = entity_commitment(key, salt)
        record = record_summary(d)
        drawn = {b for b, rows in record.get("outputs", {}).get("entities", {}).items() if key in {r[0] for r in rows}}
        for b in d.batches.order_by("code"):
            for line in _lines(d.code, b.candidates_file):
                if line.startswith(commitment + ","):
                    lines.append({"batch": b.code, "class": line.split(",")[1], "drawn": b.code in drawn})
    return render(
        request,
        "supervision/public_check.html",
        {"draw": d, "key": key, "salt": salt, "commitment": commitment, "lines": lines, "searched": bool(key and salt)},
    )


def _lines(code: str, name: str) -> list[str]:
    path = services.draw_dir(code) / name
    return path.read_text().splitlines() if name and path.exists() else []


def _published() -> Any:
    return (
        Visit.objects.filter(status=VisitStatus.PUBLISHED)
        .select_related("entity", "draw")
        .prefetch_related("checks__item", "departments")
        .order_by("-published_at", "entity_key")
    )


FEED_FIELDS = [
    "draw",
    "entity_code",
    "entity_name",
    "region",
    "checked_on",
    "published_at",
    "item",
    "item_name",
    "result",
    "result_label",
    "departments",
]


def _feed_rows(limit: int) -> list[dict[str, Any]]:
    rows = []
    for v in _published()[:limit]:
        depts = ";".join(sorted(d.name for d in v.departments.all()))
        for c in v.checks.all():
            rows.append(
                {
                    "draw": v.draw.code,
                    "entity_code": v.entity_key,
                    "entity_name": public_entity_name(v.entity.name, v.entity.entity_type),
                    "region": v.entity.region_code,
                    "checked_on": v.checked_on.isoformat() if v.checked_on else "",
                    "published_at": timezone.localtime(v.published_at).isoformat() if v.published_at else "",
                    "item": c.item.code,
                    "item_name": c.item.name,
                    "result": c.outcome,
                    "result_label": str(OUTCOME_LABEL.get(c.outcome, "")),
                    "departments": depts,
                }
            )
    return rows


def results_feed(request: HttpRequest, fmt: str) -> HttpResponse:
    if fmt not in ("csv", "json"):
        raise Http404
    limit = int_param(request, "limit", 10_000, low=1, high=100_000) or 10_000
    rows = _feed_rows(limit)
    if fmt == "json":
        return JsonResponse({"fields": FEED_FIELDS, "results": rows}, json_dumps_params={"ensure_ascii": False})
    buf = io.StringIO()
    write_csv(buf, FEED_FIELDS, ([row.get(k, "") for k in FEED_FIELDS] for row in rows))
    resp = HttpResponse("\ufeff" + buf.getvalue(), content_type="text/csv; charset=utf-8")
    resp["Content-Disposition"] = 'attachment; filename="results.csv"'
    return resp


def record_summary(d: Draw) -> dict[str, Any]:
    path = services.draw_dir(d.code) / "record.json"
    return json.loads(path.read_bytes()) if path.exists() else {}
