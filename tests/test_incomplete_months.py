"""Honest figures: a month the data do not cover to its end is marked, never compared, reported or fitted as a
whole one; a forecast worse than the seasonal naive baseline says so and shows the baseline."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from pytest_django import Settings

from shijian.analytics import report, snapshot
from shijian.analytics.snapshot import Scope, last_complete_month
from tests.conftest import World

TODAY = dt.date(2026, 12, 6)


def test_a_month_is_complete_only_when_the_data_reach_its_last_day() -> None:
    assert last_complete_month(dt.date(2026, 11, 2), TODAY) == "2026-10"
    assert last_complete_month(dt.date(2026, 11, 30), TODAY) == "2026-11"
    assert last_complete_month(dt.date(2026, 12, 5), TODAY) == "2026-11"  # the current month is still filling
    assert last_complete_month(None, TODAY) == "2026-11"


@pytest.fixture
def cut_off(world: World, settings: Settings, tmp_path: Path) -> dict[str, Any]:
    """A register whose extract stops on 2 November, viewed on 6 December."""
    from shijian.registry.models import Entity

    settings.SHIJIAN_LAKE = tmp_path / "lake"
    Entity.objects.filter(pk=world.entities["hecheng"].pk).update(established_on=dt.date(2026, 11, 2))
    Entity.objects.filter(pk=world.entities["yanghe"].pk).update(established_on=dt.date(2026, 10, 20))
    return snapshot.compute(Scope("district", "440608"), TODAY)


def test_the_partial_month_is_not_reported_or_fitted(cut_off: dict[str, Any]) -> None:
    data = cut_off
    assert data["data_end"]["registrations"] == "2026-11-02"
    assert data["complete_through"]["registrations"] == "2026-10"
    assert report.check_month(data, "") == "2026-10"
    with pytest.raises(report.ReportError):
        report.check_month(data, "2026-11")
    # the forecast's input ends with the partial month, which it drops as it drops a month still filling
    assert snapshot.history(data, "registrations")[-1][0] == "2026-11"
    from shijian.analytics.forecast import _complete

    assert _complete(snapshot.history(data, "registrations"))[-1][0] == "2026-10"


def test_the_dashboard_marks_the_partial_month(world: World, cut_off: dict[str, Any]) -> None:
    from shijian.analytics.models import Snapshot

    Snapshot.objects.create(scope="district:440608", data=cut_off, computed_at=timezone.now())
    page = world.client("leader").get(reverse("analytics")).content.decode()
    assert 'id="incomplete"' in page and "2026-11-02" in page and "数据不完整" in page


def test_a_forecast_worse_than_the_baseline_says_so(world: World, settings: Settings, tmp_path: Path) -> None:
    from shijian.analytics.models import Snapshot

    settings.SHIJIAN_LAKE = tmp_path / "lake"
    data = snapshot.compute(Scope("district", "440608"), dt.date(2026, 1, 10))
    # one step up after the first year, then the same year twice: last year's month is exact, a trend is not
    season = [120, 95, 130, 160, 150, 140, 170, 180, 150, 140, 130, 200]
    values = [season[i % 12] + (60 if i >= 12 else 0) for i in range(37)]
    data["series"]["complaints"] = [[f"{2023 + i // 12}-{i % 12 + 1:02d}", v] for i, v in enumerate(values)]
    Snapshot.objects.create(scope="district:440608", data=data, computed_at=timezone.now())
    page = world.client("leader").get(reverse("forecast") + "?series=complaints").content.decode()
    assert 'id="worse-than-baseline"' in page
    assert "<td>180</td></tr>" in page  # January's baseline: last January's value
