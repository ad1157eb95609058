"""Every time a user reads is Beijing time: the PDF, the public feed, exports and the object history."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

from django.urls import reverse
from pytest_django import Settings

from tests.conftest import World
from tests.draws import district_draw

# 21:53 UTC on the 6th is 05:53 on the 7th in Beijing
LATE_EVENING_UTC = dt.datetime(2026, 12, 6, 21, 53, tzinfo=dt.UTC)


def test_the_monthly_report_states_the_computation_time_in_beijing_time(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    import pypdf

    from shijian.analytics import report, snapshot
    from shijian.analytics.snapshot import Scope

    settings.SHIJIAN_LAKE = tmp_path / "lake"
    data = snapshot.compute(Scope("district", "440608"), dt.date(2026, 12, 6))
    body = report.render(data, LATE_EVENING_UTC, report.check_month(data, ""), {})
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(body)).pages)
    assert "2026-12-07 05:53" in text and "21:53" not in text


def test_the_public_feed_gives_publication_times_in_beijing_time(world: World) -> None:
    from shijian.supervision.models import Visit, VisitItem

    draw = district_draw(world)
    plan = draw.plan
    visit = Visit.objects.create(
        draw=draw, entity=world.entities["hecheng"], entity_key="k", window_start=dt.date(2026, 12, 1),
        window_end=dt.date(2026, 12, 31), status="published", checked_on=dt.date(2026, 12, 7),
        published_at=LATE_EVENING_UTC,
    )  # fmt: skip
    from tests.test_supervision import make_batch

    VisitItem.objects.create(visit=visit, item=world.items["food"], batch=make_batch(plan, world), outcome="no_problem")
    rows = json.loads(world.client("anonymous").get(reverse("public_results", args=["json"])).content)["results"]
    assert rows and rows[0]["published_at"] == "2026-12-07T05:53:00+08:00"
    assert rows[0]["published_at"][:10] >= rows[0]["checked_on"]


def test_exported_times_are_beijing_times() -> None:
    from shijian.web.tabular import _cell

    assert _cell(LATE_EVENING_UTC) == "2026-12-07 05:53:00"


def test_the_object_history_names_actions_in_chinese(world: World) -> None:
    e = world.entities["hecheng"]
    body = world.client("auditor").get(reverse("entity_detail", args=[e.pk])).content.decode()
    assert "<td>新增</td>" in body and "<td>create</td>" not in body
