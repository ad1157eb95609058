"""问题隐患库: entries and their state changes (one Transition row per change)."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from shijian.api.common import ERRORS, NEXT, IsoTime, Limit, sync_page, use, viewed
from shijian.core.jurisdiction import restrict
from shijian.hazards.models import Hazard, State

router = Router(tags=["hazards"])


class TransitionOut(Schema):
    old_state: str
    new_state: str
    at: dt.datetime
    system: bool
    reason: str
    days_open: float


class HazardOut(Schema):
    id: int
    entity_id: int
    town_code: str
    district_code: str
    department: str
    source: str
    source_ref: str
    category: str
    grade: str
    title: str
    description: str
    deadline: dt.date
    state: str
    repeat: bool
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    transitions: list[TransitionOut]
    updated_at: dt.datetime


class HazardPage(Schema):
    items: list[HazardOut]
    next: str | None = NEXT


def _hazards() -> QuerySet[Hazard]:
    return Hazard.objects.select_related("department").prefetch_related("transitions")


def _out(h: Hazard) -> HazardOut:
    return HazardOut(
        id=h.pk,
        entity_id=h.entity_id,
        town_code=h.town_code,
        district_code=h.district_code,
        department=h.department.code,
        source=h.source,
        source_ref=h.source_ref,
        category=h.category,
        grade=h.grade,
        title=h.title,
        description=h.description,
        deadline=h.deadline,
        state=h.state,
        repeat=h.repeat,
        opened_at=h.opened_at,
        closed_at=h.closed_at,
        # who changed it is not shared: the state, when, why, and whether the system did it
        transitions=[TransitionOut.model_validate(t, from_attributes=True) for t in h.transitions.all()],
        updated_at=h.updated_at,
    )


@router.get("/hazards", response={200: HazardPage, **ERRORS})
def hazards(
    request: HttpRequest,
    cursor: str | None = None,
    updated_since: IsoTime | None = None,
    state: State | None = None,
    limit: Limit = 100,
) -> HazardPage:
    """Problem and hazard entries the client may see (the UI's rule: jurisdiction, and a department's own entries
    for department clients), each with its state changes, in (updated_at, id) order: every change of state moves
    the entry's updated_at, so a partner syncing entries also gets every new transition."""
    who = use(request, "hazards")
    qs = restrict(_hazards(), who)
    if state is not None:
        qs = qs.filter(state=state)
    rows, nxt = sync_page(who, qs, "api.hazards", cursor, updated_since, limit)
    return HazardPage(items=[_out(h) for h in rows], next=nxt)


@router.get("/hazards/{hazard_id}", response={200: HazardOut, **ERRORS})
def hazard(request: HttpRequest, hazard_id: int) -> HazardOut:
    """One entry and its state changes (404 outside what the client may see)."""
    who = use(request, "hazards")
    row = get_object_or_404(restrict(_hazards(), who), pk=hazard_id)
    viewed(who, "hazards.hazard", row.pk, row.title)
    return _out(row)
