"""Retention: `shijian files retention` lists the stored files past their kind's period (a dry run), and with
--apply deletes those not under a legal hold, one audit event each; periods count Asia/Shanghai business dates."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.urls import reverse
from typer.testing import CliRunner

from shijian.core.models import AuditEvent
from shijian.files import stored
from shijian.files.models import LegalHold
from shijian.files.retention import cutoff
from shijian.files.rules import RULES
from shijian.supervision.models import Attachment
from tests.s3_server import Store, s3_server_fixture, store_fixture  # noqa: F401 (fixtures)
from tests.test_browser_phone import _a_visit

BJ = ZoneInfo("Asia/Shanghai")
TODAY = "2026-12-06"  # visit photos are kept 10 years: those stored on or before 2016-12-06 (Beijing) expire


def _photo(world: Any, visit: Any, name: str, at: dt.datetime) -> Attachment:
    att = Attachment(visit=visit, name=name, content_type="image/jpeg", size=8, uploaded_by=world.users["inspector"])
    att.sha256 = stored.save(att.file, f"{name}.jpg", f"\xff\xd8\xff{name}".encode())
    att.save()
    Attachment.objects.filter(pk=att.pk).update(uploaded_at=at)
    att.refresh_from_db()
    return att


def _run(*args: str) -> str:
    from shijian.cli import app

    result = CliRunner().invoke(app, ["files", "retention", "--today", TODAY, *args])
    assert result.exit_code == 0, result.output
    return result.output


def _four_photos(world: Any) -> tuple[Attachment, Attachment, Attachment, Attachment]:
    visit = _a_visit(world)
    old = _photo(world, visit, "old", dt.datetime(2016, 12, 6, 23, 30, tzinfo=BJ))  # 15:30 UTC: expired
    # 00:30 Beijing on 7 December is still 6 December in UTC: not expired, the business date decides
    young = _photo(world, visit, "young", dt.datetime(2016, 12, 7, 0, 30, tzinfo=BJ))
    recent = _photo(world, visit, "recent", dt.datetime(2025, 3, 1, 9, 0, tzinfo=BJ))
    held = _photo(world, visit, "held", dt.datetime(2015, 1, 1, 9, 0, tzinfo=BJ))
    hold = {"object_type": "supervision.attachment", "object_id": str(held.pk), "reason": "诉讼"}
    LegalHold.objects.create(**hold, created_by=world.users["samr"])
    return old, young, recent, held


def test_the_dry_run_lists_the_expired_files_and_deletes_nothing(world: Any, store: Store) -> None:
    old, young, recent, held = _four_photos(world)
    output = _run()
    assert f"supervision.attachment#{old.pk}" in output and f"supervision.attachment#{held.pk}" in output
    assert f"#{young.pk}\t" not in output and f"#{recent.pk}\t" not in output
    assert "2 files expired (1 under legal hold); dry run" in output
    assert all(store.exists(a.file.name) for a in (old, young, recent, held))
    assert not AuditEvent.objects.filter(action="delete", object_type="supervision.attachment").exists()


def test_apply_deletes_only_the_expired_files_not_held_and_audits_each(world: Any, store: Store) -> None:
    old, young, recent, held = _four_photos(world)
    output = _run("--apply")
    assert "1 files deleted, 1 under legal hold kept" in output
    assert not store.exists(old.file.name)
    assert all(store.exists(a.file.name) for a in (young, recent, held))
    old.refresh_from_db()
    assert old.file.name == "" and old.sha256  # the row stays, with the hash of what was deleted
    ev = AuditEvent.objects.get(action="delete", object_type="supervision.attachment")
    assert ev.object_id == str(old.pk) and ev.reason == "retention: visit_attachment expired"
    assert ev.before is not None
    assert ev.before["stored_on"] == "2016-12-06" and ev.before["sha256"] == old.sha256
    assert world.client("inspector").get(reverse("attachment_get", args=[old.pk])).status_code == 404
    assert "0 files deleted, 1 under legal hold kept" in _run("--apply")  # a second run finds nothing more


def test_a_lifted_hold_no_longer_keeps_the_file(world: Any, store: Store) -> None:
    _old, _young, _recent, held = _four_photos(world)
    LegalHold.objects.update(lifted_at=dt.datetime(2026, 12, 1, tzinfo=BJ))
    assert "2 files deleted, 0 under legal hold kept" in _run("--apply")
    assert not store.exists(held.file.name)


def test_a_hold_on_the_visit_keeps_all_its_files(world: Any, store: Store) -> None:
    old, *_ = _four_photos(world)
    LegalHold.objects.create(
        object_type="supervision.visit", object_id=str(old.visit_id), reason="复议", created_by=world.users["samr"]
    )
    assert "0 files deleted, 2 under legal hold kept" in _run("--apply")
    assert store.exists(old.file.name)


def test_every_kind_has_a_period_or_is_permanent_and_a_source() -> None:
    day = dt.date(2028, 2, 29)
    for rule in RULES:
        assert rule.source, rule.kind
        last = cutoff(rule, day)
        assert (last is None) == rule.permanent
    by_kind = {r.kind: r for r in RULES}
    assert by_kind["penalty_decision"].permanent and by_kind["case_evidence"].permanent
    assert cutoff(by_kind["filing_notice"], day) == dt.date(1998, 2, 28)


def test_exports_go_after_30_days_and_their_job_forgets_the_file(world: Any, settings: Any, tmp_path: Any) -> None:
    from shijian.jobs.models import Job
    from shijian.jobs.runner import job_dir

    settings.HOME = tmp_path
    jobs: list[Job] = []
    for days in (31, 29):
        finished = dt.datetime(2026, 12, 6, 9, 0, tzinfo=BJ) - dt.timedelta(days=days)
        job = Job.objects.create(kind="export", status="succeeded", created_by=world.users["samr"])
        (job_dir() / f"{job.pk}-x-主体.xlsx").write_bytes(b"PK")
        Job.objects.filter(pk=job.pk).update(finished_at=finished, result_file=f"{job.pk}-x-主体.xlsx")
        jobs.append(job)
    assert "1 files deleted" in _run("--apply")
    old, recent = (Job.objects.get(pk=j.pk) for j in jobs)
    assert old.result_file == "" and not (job_dir() / f"{old.pk}-x-主体.xlsx").exists()
    assert (job_dir() / recent.result_file).is_file()
    assert AuditEvent.objects.filter(action="delete", object_type="jobs.job", object_id=str(old.pk)).exists()


def test_holds_placed_and_lifted_from_the_command_line_are_audited(world: Any, store: Store) -> None:
    from shijian.cli import app

    old, *_ = _four_photos(world)
    runner, visit = CliRunner(), str(old.visit_id)
    assert (
        runner.invoke(
            app, ["files", "hold", "supervision.visit", visit, "--reason", "复议", "--user", "samr"]
        ).exit_code
        == 0
    )
    bad = runner.invoke(app, ["files", "hold", "auth.user", "1", "--reason", "x", "--user", "samr"])
    assert bad.exit_code == 2 and "not one of" in bad.output
    assert "0 files deleted, 2 under legal hold kept" in _run("--apply")
    lifted = runner.invoke(
        app, ["files", "release", "supervision.visit", visit, "--reason", "复议终结", "--user", "samr"]
    )
    assert lifted.exit_code == 0 and "1 holds lifted" in lifted.output
    assert "1 files deleted, 1 under legal hold kept" in _run("--apply")
    assert not store.exists(old.file.name)
    assert AuditEvent.objects.filter(object_type="files.legalhold", reason="复议终结").count() == 1
