"""Jobs: a Job row per run (progress, log, outcome), retries where safe, cancellation, large exports as jobs."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from pytest_django import Settings

from shijian.hazards import services as hazards
from shijian.hazards.models import Notification
from shijian.jobs import runner
from shijian.jobs.models import Job, Status
from tests.conftest import World
from tests.responses import streamed

NOW = dt.datetime(2026, 5, 1, 9, 0, tzinfo=dt.UTC)


def overdue_entry(world: Any) -> Any:
    return hazards.open_entry(
        world.entities["hecheng"],
        source="manual",
        title="后厨卫生不达标",
        department=world.depts["hecheng"],
        scores={"severity": 10, "extent": 5, "confidence": 5},
        user=world.users["hecheng"],
        now=NOW,
        deadline=dt.date(2026, 5, 10),
    )


def test_it_runs_a_job_and_keeps_progress_log_and_outcome(world: World) -> None:
    overdue_entry(world)
    job = runner.enqueue("escalate", {"today": "2026-05-11"}, world.users["leader"])
    job.refresh_from_db()
    assert job.status == Status.SUCCEEDED and job.progress == 100 and job.attempts == 1
    assert job.outcome == {"escalated": 1}
    assert "started (attempt 1)" in job.log and "succeeded" in job.log
    assert job.started_at is not None and job.finished_at is not None and job.created_by == world.users["leader"]


def test_it_retries_a_safe_job_then_fails_and_tells_whoever_started_it(world: World) -> None:
    job = runner.enqueue("escalate", {"today": "not-a-date"}, world.users["hecheng"])
    job.refresh_from_db()
    assert job.status == Status.QUEUED and job.attempts == 1 and "30" in job.message  # escalate: 2 retries
    runner.execute(job.pk)
    runner.execute(job.pk)
    job.refresh_from_db()
    assert job.status == Status.FAILED and job.attempts == 3 and "ValueError" in job.error
    runner.execute(job.pk)
    assert Job.objects.get(pk=job.pk).attempts == 3  # a finished job is not rerun
    notice = Notification.objects.get(kind="job_failed")
    assert notice.user == world.users["hecheng"] and notice.url == job.get_absolute_url()


def test_it_does_not_retry_work_that_is_not_safe_to_repeat(world: World) -> None:
    job = runner.enqueue("freeze", {"batch_ids": [], "seed_method": "beacon"}, world.users["samr"])
    job.refresh_from_db()
    assert job.status == Status.FAILED and job.attempts == 1 and "DrawError" in job.error
    assert job.message == "请至少选择一个批次。"  # the domain's own message, in the default language


def test_a_queued_job_is_cancelled_at_once(world: World) -> None:
    job = Job.objects.create(kind="escalate", created_by=world.users["leader"])
    runner.cancel(job)
    runner.execute(job.pk)  # delivered afterwards: not run
    job.refresh_from_db()
    assert job.status == Status.CANCELLED and job.attempts == 0


def test_a_running_job_stops_at_its_next_progress_report(world: World, settings: Settings, tmp_path: Path) -> None:
    settings.HOME = tmp_path
    job = Job.objects.create(kind="export", params={"spec": "entity", "query": {}}, created_by=world.users["admin"])
    Job.objects.filter(pk=job.pk).update(cancel_requested=True)  # asked while it was being picked up
    runner.execute(job.pk)
    job.refresh_from_db()
    assert job.status == Status.CANCELLED and "cancelled" in job.log
    assert list((tmp_path / "jobs").iterdir()) == []  # nothing written


def test_a_large_export_runs_as_a_job_and_is_downloaded_from_its_page(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    settings.HOME, settings.SHIJIAN_EXPORT_JOB_ROWS = tmp_path, 0
    hecheng = world.client("hecheng_admin")
    r = hecheng.get(reverse("entity_export"))
    job = Job.objects.get(kind="export")
    assert r.status_code == 302 and r["Location"] == reverse("job_detail", args=[job.pk])
    page = hecheng.get(r["Location"]).content.decode()
    assert "job-download" in page and "hx-trigger" not in page  # finished: no more polling
    assert job.status == Status.SUCCEEDED and job.outcome["rows"] == 1
    download = hecheng.get(reverse("job_download", args=[job.pk]))
    assert download.status_code == 200
    sheet = load_workbook(io.BytesIO(streamed(download)), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("统一社会信用代码", "名称") and [r[1] for r in rows[1:]] == ["佛山市荷城餐饮有限公司"]
    # another user's job is not theirs to see, nor to download, unless the creator is in their region
    assert world.client("admin").get(reverse("job_download", args=[job.pk])).status_code == 200  # the district's
    assert world.client("yanghe_admin").get(reverse("job_detail", args=[job.pk])).status_code == 404
    assert world.client("yanghe_admin").get(reverse("job_download", args=[job.pk])).status_code == 404


def test_a_small_export_is_still_answered_at_once(world: World, settings: Settings) -> None:
    settings.SHIJIAN_EXPORT_JOB_ROWS = 100
    r = world.client("hecheng_admin").get(reverse("entity_export"))
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxml")
    assert not Job.objects.exists()


def test_the_job_page_polls_while_the_job_runs(world: World) -> None:
    job = Job.objects.create(kind="escalate", created_by=world.users["leader"], status=Status.RUNNING, progress=40)
    c = world.client("leader")
    page = c.get(reverse("job_detail", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in page and 'value="40"' in page
    partial = c.get(reverse("job_detail", args=[job.pk]), headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith('<section class="card" id="job-progress"') and "<html" not in partial
    assert c.post(reverse("job_cancel", args=[job.pk])).status_code == 302
    assert Job.objects.get(pk=job.pk).cancel_requested


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("leader", {"hecheng", "system"}),
        ("admin", {"hecheng", "system"}),
        ("hecheng", set()),
        ("yanghe_admin", {"system"}),
    ],
)
def test_the_jobs_list_shows_ones_own_jobs_and_administrators_those_of_their_region(
    world: World, who: str, sees: set[str]
) -> None:
    mine = Job.objects.create(kind="escalate", created_by=world.users[who])
    others = {
        "hecheng": Job.objects.create(kind="remind", created_by=world.users["hecheng_admin"]),
        "system": Job.objects.create(kind="remind"),
        "outsider": Job.objects.create(kind="remind", created_by=world.users["outsider"]),
    }
    r = world.client(who).get(reverse("job_list"))
    ids = {j.pk for j in r.context["page"].object_list}
    assert r.status_code == 200 and mine.pk in ids
    assert {name for name, job in others.items() if job.pk in ids} == sees
