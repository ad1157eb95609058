"""Schedules: each due slot honoured once; a machine down over several slots catches up once, not per slot."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

from django.urls import reverse
from pytest_django import Settings

from shijian.jobs import runner, schedules
from shijian.jobs.models import Job, Schedule, Status
from tests.conftest import World

CST = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0, month: int = 5) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=CST)


def kinds(jobs: list[Job]) -> Counter[str]:
    return Counter(j.kind for j in jobs)


def test_a_new_installation_starts_from_the_current_slot(db: None) -> None:
    assert schedules.tick(at(10, 12)) == []
    assert Schedule.objects.count() == len(schedules.SCHEDULES)


def test_each_slot_runs_once(db: None) -> None:
    schedules.tick(at(10, 0, 15))
    assert kinds(schedules.tick(at(10, 0, 30))) == {"audit_head": 1}  # 00:30 the audit chain's head is announced
    assert kinds(schedules.tick(at(10, 1, 0))) == {"escalate": 1}  # 01:00 escalation
    assert schedules.tick(at(10, 1, 1)) == []  # the next minute: nothing again
    assert kinds(schedules.tick(at(10, 9))) == {"remind": 1, "analytics_refresh": 1, "deadlines": 1}
    job = Job.objects.get(kind="escalate")
    assert job.schedule is not None
    assert job.schedule.name == "escalate" and job.status == Status.SUCCEEDED and job.created_by is None


def test_a_machine_down_for_days_catches_up_once_not_per_missed_day(db: None) -> None:
    schedules.tick(at(10, 12))
    caught_up = schedules.tick(at(14, 12))  # down from the 10th noon to the 14th noon: 4 daily slots missed
    assert kinds(caught_up) == {"audit_head": 1, "escalate": 1, "remind": 1, "analytics_refresh": 1, "deadlines": 1}
    assert schedules.tick(at(14, 12, 1)) == []  # not repeated
    row = Schedule.objects.get(name="escalate")
    assert row.last_slot == at(14, 1) and row.last_run_at is not None and row.last_status == Status.SUCCEEDED


def test_the_monthly_refresh_runs_on_the_first_and_catches_up_once(db: None) -> None:
    schedules.tick(at(28, 12, month=4))
    jobs = schedules.tick(at(3, 12, month=6))  # down over 1 May and into June: one monthly run, not two
    assert kinds(jobs)["risk_refresh"] == 1
    assert schedules.SCHEDULES[-1].next_slot(at(3, 12, month=6)) == at(1, 3, month=7)


def test_a_disabled_schedule_does_not_run(db: None) -> None:
    schedules.tick(at(10, 12))
    Schedule.objects.filter(name="escalate").update(enabled=False)
    assert "escalate" not in kinds(schedules.tick(at(11, 12)))


def test_a_failed_scheduled_run_is_counted(db: None, settings: Settings, tmp_path: Path) -> None:
    settings.SHIJIAN_LAKE = tmp_path / "no-lake"  # the refresh needs a live model: it fails
    schedules.tick(at(28, 12, month=4))
    schedules.tick(at(1, 4, month=5))
    job = Job.objects.get(kind="risk_refresh")
    assert job.status == Status.QUEUED and Schedule.objects.get(name="risk").failures == 0  # one retry first
    runner.execute(job.pk)
    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert Schedule.objects.get(name="risk").failures == 1


def test_the_schedules_page_shows_last_run_next_run_and_failures(world: World) -> None:
    schedules.tick(at(10, 12))
    schedules.tick(at(11, 12))
    Schedule.objects.filter(name="remind").update(failures=2)
    r = world.client("admin").get(reverse("schedule_list"))
    page = r.content.decode()
    assert r.status_code == 200 and 'id="schedule-escalate"' in page and '<span class="error">2</span>' in page
    rows = {row["cadence"].name: row for row in r.context["rows"]}
    assert rows["escalate"]["last_job"].kind == "escalate" and rows["escalate"]["next_run"] is not None
    assert world.client("inspector").get(reverse("schedule_list")).status_code == 403


def test_the_operations_centre_shows_the_schedules_to_those_who_may_see_them(world: World) -> None:
    schedules.tick(at(10, 12))
    schedules.tick(at(11, 12))
    page = world.client("leader").get(reverse("operations")).content.decode()
    assert 'id="schedules"' in page and str(schedules.BY_NAME["escalate"].label) in page
    assert 'id="schedules"' not in world.client("samr").get(reverse("operations")).content.decode()
