"""Rows the API tests read: a district plan with a drawn draw, one visit per town entity with a result, and one
hazard entry per town (opened through the hazards service, so each has its first state change)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from shijian.hazards import services
from shijian.hazards.models import Hazard
from shijian.supervision.models import Draw, TeamMember, Visit, VisitItem
from tests.draws import district_draw, make_batch


@dataclass
class Rows:
    draw: Draw
    visits: dict[str, Visit]
    hazards: dict[str, Hazard]


def supervision_rows(world: Any) -> Rows:
    draw = district_draw(
        world, "餐饮专项计划", status="drawn", seed="ab" * 32, drawn_at=timezone.now(), record_sha256="cd" * 32
    )
    plan = draw.plan
    batch = make_batch(plan, world)
    visits, hazards = {}, {}
    for key in ("hecheng", "yanghe"):
        entity = world.entities[key]
        v = Visit.objects.create(
            draw=draw, entity=entity, entity_key=entity.uscc, window_start=dt.date(2026, 3, 1),
            window_end=dt.date(2026, 12, 31), status="done", checked_on=dt.date(2026, 4, 1),
        )  # fmt: skip
        v.departments.set([world.depts[key]])
        TeamMember.objects.create(visit=v, inspector=world.inspectors[key])
        VisitItem.objects.create(visit=v, item=world.items["food"], batch=batch, outcome="corrected")
        visits[key] = v
        hazards[key] = services.open_entry(
            entity, source="manual", title=f"{key}冷库温度记录缺失", department=world.depts[key],
            scores={"severity": 10, "extent": 5, "confidence": 5}, user=world.users[key],
        )  # fmt: skip
    return Rows(draw, visits, hazards)
