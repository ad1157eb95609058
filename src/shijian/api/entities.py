"""Entities, the entity file (一户一档) and its records from the lake, risk classes."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

import duckdb
from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.errors import HttpError

from shijian.api.clients import Principal
from shijian.api.common import ERRORS, NEXT, IsoTime, Limit, Problem, sync_page, use, viewed
from shijian.core import audit
from shijian.core.jurisdiction import restrict
from shijian.core.permissions import allowed
from shijian.lake.query import entity_counts, entity_timeline
from shijian.lake.store import Lake
from shijian.registry.models import Entity, EntityFile

router = Router(tags=["entities"])


class EntityOut(Schema):
    id: int
    uscc: str | None
    name: str
    entity_type: str
    industry_code: str
    region_code: str
    town_code: str
    district_code: str
    address: str
    legal_rep: str
    status: str
    established_on: dt.date | None
    updated_at: dt.datetime
    risk_class: str | None = None


class EntityPage(Schema):
    items: list[EntityOut]
    next: str | None = NEXT


class FileOut(Schema):
    entity_id: int
    records: int
    departments: int
    first_record_on: dt.date | None
    last_record_on: dt.date | None
    inspections: int
    inspections_failed: int
    penalties: int
    penalty_amount: float
    complaints: int
    licences: int
    licences_expired: int
    abnormal_listings: int
    annual_reports_late: int
    litigation: int
    tax_grade: str
    by_type: dict[str, int]
    by_source: dict[str, int]
    built_at: dt.datetime


class RecordOut(Schema):
    record_id: str | None
    source: str | None
    record_type: str | None
    event_date: dt.date | None
    result: str | None
    detail: str | None
    amount: float | None
    link_method: str | None


class RecordPage(Schema):
    items: list[RecordOut]
    total: int
    next: str | None = NEXT


class RiskOut(Schema):
    entity_id: int
    uscc: str | None
    risk_class: str
    updated_at: dt.datetime


class RiskPage(Schema):
    items: list[RiskOut]
    next: str | None = NEXT


def _entity_out(entity: Entity, who: Principal) -> EntityOut:
    out = EntityOut.model_validate(entity, from_attributes=True)
    shows_risk = "risk" in who.scopes and allowed(who, "risk", "view")
    out.risk_class = entity.risk_class if shows_risk else None
    return out


@router.get("/entities", response={200: EntityPage, **ERRORS})
def entities(
    request: HttpRequest,
    cursor: str | None = None,
    updated_since: IsoTime | None = None,
    limit: Limit = 100,
) -> EntityPage:
    """Entities in the client's jurisdiction ordered by (updated_at, id): sync with ``next``."""
    who = use(request, "entities")
    rows, nxt = sync_page(who, restrict(Entity.objects.all(), who), "api.entities", cursor, updated_since, limit)
    return EntityPage(items=[_entity_out(e, who) for e in rows], next=nxt)


def _entity(who: Principal, entity_id: int) -> Entity:
    entity: Entity = get_object_or_404(restrict(Entity.objects.all(), who), pk=entity_id)
    return entity


@router.get("/entities/{entity_id}", response={200: EntityOut, **ERRORS})
def entity(request: HttpRequest, entity_id: int) -> EntityOut:
    """One entity of the client's jurisdiction (404 outside it)."""
    who = use(request, "entities")
    row = _entity(who, entity_id)
    viewed(who, "registry.entity", row.pk, row.name)
    return _entity_out(row, who)


@router.get("/entities/{entity_id}/file", response={200: FileOut, 503: Problem, **ERRORS})
def entity_file(request: HttpRequest, entity_id: int) -> FileOut:
    """The entity file (一户一档): counts of every department's records, as the last lake build made them (404
    before the first build). The counts by type and by department are read from the entity's records in the lake;
    while a build is replacing them (the lake's count differs from the file's), 503: ask again in a minute."""
    who = use(request, "records")
    row = _entity(who, entity_id)
    file = get_object_or_404(EntityFile, entity=row)
    try:
        counts = entity_counts(Lake(Path(settings.SHIJIAN_LAKE)), row.pk)
    except duckdb.Error:  # a file replaced while it was read: a build is swapping them
        counts = None
    if counts is None or counts.records != file.records:
        raise HttpError(503, "the lake is being rebuilt: the entity file's counts are not available; try again later")
    viewed(who, "registry.entityfile", row.pk, row.name)
    return FileOut.model_validate(
        {
            **{name: getattr(file, name) for name in FileOut.model_fields if name not in ("by_type", "by_source")},
            "by_type": counts.by_type,
            "by_source": counts.by_source,
        }
    )


def _build_stamp(lake: Lake) -> str:
    report = lake.root / "build" / "build-report.json"
    return str(report.stat().st_mtime_ns) if report.exists() else ""


def _record_cursor(offset: int, stamp: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([offset, stamp]).encode()).decode().rstrip("=")


def _record_offset(cursor: str, stamp: str) -> int:
    try:
        offset, made = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError) as exc:
        raise HttpError(400, "bad cursor") from exc
    if not isinstance(offset, int) or offset < 0 or made != stamp:
        raise HttpError(400, "bad cursor, or the lake was rebuilt since: start again without one")
    return offset


@router.get("/entities/{entity_id}/records", response={200: RecordPage, **ERRORS})
def entity_records(
    request: HttpRequest,
    entity_id: int,
    cursor: str | None = None,
    source: str = "",
    record_type: str = "",
    limit: Limit = 100,
) -> RecordPage:
    """The entity's records from every department (the timeline), newest first, from the last lake build. A
    cursor holds for one build: after a rebuild it is refused (400) and the partner starts again."""
    who = use(request, "records")
    row = _entity(who, entity_id)
    lake = Lake(Path(settings.SHIJIAN_LAKE))
    stamp = _build_stamp(lake)
    offset = _record_offset(cursor, stamp) if cursor else 0
    timeline = entity_timeline(lake, row.pk, source=source, record_type=record_type, offset=offset, limit=limit)
    items = [RecordOut.model_validate(_record(r)) for r in timeline.rows]
    end = offset + len(items)
    audit.record(
        audit.Action.VIEW,
        object_type="api.records",
        object_id=str(row.pk),
        object_repr=f"{row.name[:150]}: {len(items)} records",
        reason=f"offset={offset} source={source} record_type={record_type}",
        actor=who,
    )
    return RecordPage(
        items=items, total=timeline.total, next=_record_cursor(end, stamp) if end < timeline.total else None
    )


def _record(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: row.get(k) for k in RecordOut.model_fields}
    for key in ("record_id", "source", "record_type", "result", "detail", "link_method"):
        out[key] = None if out[key] is None else str(out[key])
    if isinstance(out["event_date"], dt.datetime):
        out["event_date"] = out["event_date"].date()
    out["amount"] = None if out["amount"] is None else float(out["amount"])
    return out


@router.get("/risk-classes", response={200: RiskPage, **ERRORS}, tags=["risk"])
def risk_classes(
    request: HttpRequest,
    cursor: str | None = None,
    updated_since: IsoTime | None = None,
    limit: Limit = 100,
) -> RiskPage:
    """The credit-risk class (A-D) of each entity in the jurisdiction, for clients whose role may see risk
    classes; in (updated_at, id) order like the entities (a changed class moves the entity's updated_at)."""
    who = use(request, "risk", kind="risk")
    qs = restrict(Entity.objects.exclude(risk_class=""), who)
    rows, nxt = sync_page(who, qs, "api.risk_classes", cursor, updated_since, limit)
    items = [RiskOut(entity_id=e.pk, uscc=e.uscc, risk_class=e.risk_class, updated_at=e.updated_at) for e in rows]
    return RiskPage(items=items, next=nxt)
