"""Business dates are Asia/Shanghai dates, whatever the server's clock or time zone says."""

from __future__ import annotations

import datetime as dt
from typing import Any

import time_machine

from shijian.core import clock

# 23:30 UTC on 6 December is 07:30 on 7 December in Beijing.
EVENING_UTC = dt.datetime(2026, 12, 6, 23, 30, tzinfo=dt.UTC)


def test_it_takes_today_from_beijing_not_utc() -> None:
    with time_machine.travel(EVENING_UTC, tick=False):
        assert clock.today() == dt.date(2026, 12, 7)


def test_it_gives_the_business_date_of_an_instant() -> None:
    assert clock.local_date(EVENING_UTC) == dt.date(2026, 12, 7)
    assert clock.local_date(dt.datetime(2026, 12, 6, 15, 59, tzinfo=dt.UTC)) == dt.date(2026, 12, 6)
    assert clock.local_date(dt.date(2026, 1, 1)) == dt.date(2026, 1, 1)


def test_it_counts_a_hazard_deadline_from_the_beijing_date(world: Any) -> None:
    from shijian.hazards import services

    with time_machine.travel(EVENING_UTC, tick=False):
        h = services.open_entry(
            world.entities["hecheng"],
            source="manual",
            title="夜间登记",
            department=world.depts["hecheng"],
            scores={"severity": 20, "extent": 5, "confidence": 0},
            user=world.users["hecheng"],
        )
    assert h.deadline == dt.date(2026, 12, 7) + dt.timedelta(days=7)
