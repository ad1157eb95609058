"""双随机: draws (what their public record publishes), visits and their results."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from shijian.api.common import ERRORS, NEXT, IsoTime, Limit, sync_page, use, viewed
from shijian.core.jurisdiction import restrict
from shijian.registry.display import mask_person
from shijian.supervision.models import Draw, DrawStatus, Visit, VisitStatus

router = Router()


class PlanOut(Schema):
    code: str
    name: str
    year: int
    level: str


class DrawOut(Schema):
    """The parts of a draw its public record publishes (the 一公开 page): no candidate lists, no staffing."""

    id: int
    code: str
    plan: PlanOut
    status: str
    seed_method: str
    beacon_source: str
    beacon_at: dt.datetime | None
    frozen_at: dt.datetime
    frozen_digest: str
    seed: str | None
    drawn_at: dt.datetime | None
    record_sha256: str | None
    public_url: str
    updated_at: dt.datetime


class DrawPage(Schema):
    items: list[DrawOut]
    next: str | None = NEXT


class CheckOut(Schema):
    item_code: str
    item_name: str
    batch_code: str
    outcome: str = ""
    recorded_at: dt.datetime | None = None


class VisitOut(Schema):
    id: int
    draw_code: str
    entity_id: int
    entity_key: str
    window_start: dt.date
    window_end: dt.date
    departments: list[str]
    team: list[str]
    status: str
    checked_on: dt.date | None
    publish_by: dt.date | None
    published_at: dt.datetime | None
    checks: list[CheckOut]
    updated_at: dt.datetime


class VisitPage(Schema):
    items: list[VisitOut]
    next: str | None = NEXT


def _draw_out(d: Draw) -> DrawOut:
    drawn = d.status == DrawStatus.DRAWN
    return DrawOut(
        id=d.pk,
        code=d.code,
        plan=PlanOut(code=d.plan.code, name=d.plan.name, year=d.plan.year, level=d.plan.level),
        status=d.status,
        seed_method=d.seed_method,
        beacon_source=d.beacon_source,
        beacon_at=d.beacon_at,
        frozen_at=d.frozen_at,
        frozen_digest=d.frozen_digest,
        seed=d.seed if drawn else None,
        drawn_at=d.drawn_at,
        record_sha256=d.record_sha256 if drawn else None,
        public_url=d.public_url(),
        updated_at=d.updated_at,
    )


def _visit_out(v: Visit) -> VisitOut:
    return VisitOut(
        id=v.pk,
        draw_code=v.draw.code,
        entity_id=v.entity_id,
        entity_key=v.entity_key,
        window_start=v.window_start,
        window_end=v.window_end,
        departments=sorted(d.code for d in v.departments.all()),
        team=[mask_person(m.inspector.name) for m in v.members.all()],  # officers by surname, as published
        status=v.status,
        checked_on=v.checked_on,
        publish_by=v.publish_by,
        published_at=v.published_at,
        checks=[
            CheckOut(
                item_code=c.item.code,
                item_name=c.item.name,
                batch_code=c.batch.code,
                outcome=c.outcome,
                recorded_at=c.recorded_at,
            )
            for c in v.checks.all()
        ],
        updated_at=v.updated_at,
    )


@router.get("/draws", response={200: DrawPage, **ERRORS}, tags=["draws"])
def draws(
    request: HttpRequest, cursor: str | None = None, updated_since: IsoTime | None = None, limit: Limit = 100
) -> DrawPage:
    """Draws of the plans the client may see, with what their public record publishes (the seed and the record's
    SHA-256 once drawn), in (updated_at, id) order."""
    who = use(request, "draws")
    qs = restrict(Draw.objects.select_related("plan"), who)
    rows, nxt = sync_page(who, qs, "api.draws", cursor, updated_since, limit)
    return DrawPage(items=[_draw_out(d) for d in rows], next=nxt)


@router.get("/draws/{draw_id}", response={200: DrawOut, **ERRORS}, tags=["draws"])
def draw(request: HttpRequest, draw_id: int) -> DrawOut:
    """One draw (404 outside the client's plans)."""
    who = use(request, "draws")
    row = get_object_or_404(restrict(Draw.objects.select_related("plan"), who), pk=draw_id)
    viewed(who, "supervision.draw", row.pk, row.code)
    return _draw_out(row)


def _visits() -> QuerySet[Visit]:
    return Visit.objects.select_related("draw").prefetch_related(
        "departments", "members__inspector", "checks__item", "checks__batch"
    )


@router.get("/visits", response={200: VisitPage, **ERRORS}, tags=["visits"])
def visits(
    request: HttpRequest,
    cursor: str | None = None,
    updated_since: IsoTime | None = None,
    status: VisitStatus | None = None,
    limit: Limit = 100,
) -> VisitPage:
    """Visits (joint inspections) of entities in the client's jurisdiction with each checked item's result, in
    (updated_at, id) order: recording or publishing results moves a visit's updated_at."""
    who = use(request, "visits")
    qs = restrict(_visits(), who)
    if status is not None:
        qs = qs.filter(status=status)
    rows, nxt = sync_page(who, qs, "api.visits", cursor, updated_since, limit)
    return VisitPage(items=[_visit_out(v) for v in rows], next=nxt)


@router.get("/visits/{visit_id}", response={200: VisitOut, **ERRORS}, tags=["visits"])
def visit(request: HttpRequest, visit_id: int) -> VisitOut:
    """One visit and its results (404 outside the client's jurisdiction)."""
    who = use(request, "visits")
    row = get_object_or_404(restrict(_visits(), who), pk=visit_id)
    viewed(who, "supervision.visit", row.pk, str(row))
    return _visit_out(row)
