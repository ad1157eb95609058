"""Freeze and draw in tests: a beacon is announced for a minute after the freeze, and the draw travels past it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import time_machine
from django.utils import timezone

from shijian.core.codes.uscc import make
from shijian.registry.models import Entity, Inspector
from shijian.supervision import services
from shijian.supervision.models import Batch, Draw, Plan


def freeze(batches: Sequence[Batch], user: Any, source: str = "x", **kw: Any) -> Draw:
    at = timezone.now() + dt.timedelta(minutes=1)
    return services.freeze(list(batches), user, "beacon", beacon_source=source, beacon_at=at, **kw)


def perform(draw: Draw, user: Any, value: str = "v") -> services.DrawResult:
    assert draw.beacon_at is not None
    with time_machine.travel(draw.beacon_at + dt.timedelta(seconds=1), tick=True):
        return services.perform(draw, user, public_value=value)


def more_entities(n: int, town: str = "440608004001") -> None:
    Entity.objects.bulk_create(
        [
            Entity(
                uscc=make("92", "440608", f"MA1{i:05d}"),
                name=f"高明区测试餐馆{i}",
                entity_type="individual",
                industry_code="6210",
                industry_section="H",
                region_code=town,
                town_code=town[:9],
                district_code=town[:6],
                legal_rep=f"王{i}",
                status="active",
            )
            for i in range(n)
        ]
    )


def district_draw(world: Any, plan_name: str = "计划", **fields: Any) -> Draw:
    """Plan GM2026 of the district bureau and its draw GM2026-D1, frozen; ``fields`` set more of the draw's."""
    plan = Plan.objects.create(
        code="GM2026", name=plan_name, year=2026, level="district", department=world.depts["samr"],
        region_code="440608", created_by=world.users["samr"],
    )  # fmt: skip
    return Draw.objects.create(
        code="GM2026-D1", plan=plan, seed_method="beacon", frozen_at=timezone.now(), frozen_digest="0" * 64,
        created_by=world.users["samr"], **fields,
    )  # fmt: skip


def make_plan(world: Any) -> Plan:
    """Plan GM2026 of the district bureau, with a second officer in each department (so conflicts can be avoided)."""
    world.inspectors["samr"].user = world.users["inspector"]
    world.inspectors["samr"].save()
    for key, cert in (("samr", "44000011"), ("hecheng", "44000012")):
        o = Inspector.objects.create(
            name=f"{world.inspectors[key].name}二",
            department=world.depts[key],
            region_code=world.inspectors[key].region_code,
            cert_no=cert,
        )
        o.qualifications.set(world.inspectors[key].qualifications.all())
    return Plan.objects.create(
        code="GM2026",
        name="高明区2026年度双随机抽查计划",
        year=2026,
        level="district",
        department=world.depts["samr"],
        region_code="440608",
        created_by=world.users["samr"],
    )


def make_batch(plan: Plan, world: Any, code: str = "GM2026-01", **kw: Any) -> Batch:
    fields = {
        "plan": plan,
        "code": code,
        "name": "餐饮服务专项抽查",
        "department": world.depts["samr"],
        "mode": "random",
        "count": 10,
        "window_start": dt.date(2026, 3, 1),
        "window_end": dt.date(2026, 12, 31),
        "scope_regions": ["440608004"],
    } | kw
    b = Batch.objects.create(**fields)
    b.items.set([world.items["food"]])
    return b
