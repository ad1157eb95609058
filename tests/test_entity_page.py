"""The entity page (一户一档) shows the platform's own records: hazard-library entries, inspections and results."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from tests.conftest import World
from tests.draws import district_draw


def test_the_entity_page_lists_its_hazards_and_inspections(world: World) -> None:
    from shijian.hazards import services
    from shijian.supervision.models import TeamMember, Visit, VisitItem
    from tests.test_supervision import make_batch

    e = world.entities["hecheng"]
    h = services.open_entry(
        e, source="manual", title="冷库温度记录缺失", department=world.depts["hecheng"],
        scores={"severity": 10, "extent": 5, "confidence": 5}, user=world.users["hecheng"], now=timezone.now(),
    )  # fmt: skip
    draw = district_draw(world)
    plan = draw.plan
    v = Visit.objects.create(
        draw=draw, entity=e, entity_key="k", window_start=dt.date(2026, 12, 1), window_end=dt.date(2026, 12, 31),
        status="done", checked_on=dt.date(2026, 12, 3),
    )  # fmt: skip
    TeamMember.objects.create(visit=v, inspector=world.inspectors["samr"])
    VisitItem.objects.create(visit=v, item=world.items["food"], batch=make_batch(plan, world), outcome="corrected")
    body = world.client("leader").get(reverse("entity_detail", args=[e.pk])).content.decode()
    assert 'id="platform-hazards"' in body and h.get_absolute_url() in body and "冷库温度记录缺失" in body
    assert 'id="platform-visits"' in body and v.get_absolute_url() in body and "发现问题已责令改正" in body
    # another entity's page does not list them
    other = world.client("leader").get(reverse("entity_detail", args=[world.entities["yanghe"].pk])).content.decode()
    assert h.get_absolute_url() not in other and v.get_absolute_url() not in other
    # department staff of another town cannot open this entity's hazard: it is not listed for them
    body = world.client("samr").get(reverse("entity_detail", args=[e.pk])).content.decode()
    assert h.get_absolute_url() not in body
