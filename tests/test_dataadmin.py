"""Data administration: the mapping editor writes the TOML the CLI reads, uploads resume, failed loads are told,
re-processing after a mapping fix replaces the load with counts that reconcile before and after."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from django.urls import reverse

from shijian.dataadmin import loads, quality
from shijian.dataadmin.models import Feed, Upload
from shijian.ingest.mapping import load_mappings, mapping_to_toml, parse_mapping
from shijian.jobs.models import Job
from tests.dataadmin_seed import feed_csv, mapping_post


@pytest.fixture
def dirs(settings: Any, tmp_path: Path) -> Path:
    settings.HOME = tmp_path
    settings.SHIJIAN_LAKE = tmp_path / "lake"
    settings.SHIJIAN_MAPPINGS = tmp_path / "mappings"
    return tmp_path


@pytest.fixture
def feed(world: Any, dirs: Path) -> Feed:
    return Feed.objects.create(department=world.depts["hecheng"], slug="hecheng-jc", name="荷城日常检查")


def upload(client: Any, feed: Feed, path: Path, piece: int = 100) -> Upload:
    """Send a file through the resumable protocol in pieces, as upload.js does."""
    data = path.read_bytes()
    r = client.post(reverse("upload_create", args=[feed.pk]), {"filename": path.name, "size": len(data)})
    assert r.status_code == 201, r.content
    url, offset = r.json()["url"], 0
    while offset < len(data):
        chunk = data[offset : offset + piece]
        r = client.generic("PATCH", url, chunk, content_type="application/offset+octet-stream",
                           HTTP_UPLOAD_OFFSET=str(offset))  # fmt: skip
        assert r.status_code == 200, r.content
        offset = r.json()["offset"]
    return Upload.objects.get(pk=r.json()["id"])


def save_mapping(client: Any, feed: Feed, **kw: Any) -> Any:
    return client.post(reverse("feed_mapping", args=[feed.pk]), {**mapping_post(feed.name, **kw), "save": "1"})


def test_it_writes_every_shipped_mapping_as_toml_that_reads_back_the_same() -> None:
    for m in load_mappings():
        assert parse_mapping(mapping_to_toml(m), m.path) == m, m.path


def test_it_loads_an_uploaded_file_exactly_as_the_cli_does(world: Any, feed: Feed, dirs: Path) -> None:
    from typer.testing import CliRunner

    from shijian.cli import app

    c = world.client("hecheng_admin")
    assert save_mapping(c, feed).status_code == 302
    text = feed.mapping_path.read_text(encoding="utf-8")
    assert 'source = "hecheng-jc"' in text and "检查日期" in text
    up = upload(c, feed, feed_csv(dirs / "delivery" / "检查记录.csv"))
    assert up.job_id is not None
    job = Job.objects.get(pk=up.job_id)
    assert job.kind == "load" and job.status == "succeeded", (job.message, job.error)
    assert job.outcome["rows_read"] == 6 and job.outcome["duplicates"] == 1
    assert job.message == "已加载：读取 6 行 = 入库 2 + 隔离 3 + 重复 1"
    # the CLI, given the editor's mapping directory and the same file, into a second lake
    cli_lake = dirs / "cli-lake"
    result = CliRunner().invoke(
        app, ["ingest", str(up.path), "--mapping", str(dirs / "mappings"), "--lake", str(cli_lake)]
    )
    assert result.exit_code == 0, result.output
    con = duckdb.connect()

    def table(root: Path, name: str) -> list[Any]:
        cols = "* EXCLUDE (load)" if name == "records" else "file, line, reason, raw"
        return con.execute(
            f"SELECT {cols} FROM read_parquet('{root}/records/source=hecheng-jc/*/{name}.parquet', "
            "hive_partitioning = true) ORDER BY line"
        ).fetchall()

    for name in ("records", "quarantine"):
        assert table(dirs / "lake", name) == table(cli_lake, name), name
    ui = json.loads(next((dirs / "lake" / "records").glob("source=*/load=*/load.json")).read_text())
    cli = json.loads(next((cli_lake / "records").glob("source=*/load=*/load.json")).read_text())
    keys = ("rows_read", "accepted", "quarantined", "duplicates", "reasons", "sha256", "mapping", "source")
    assert {k: ui[k] for k in keys} == {k: cli[k] for k in keys}


def test_an_upload_resumes_at_the_servers_offset_after_a_dropped_connection(world: Any, feed: Feed, dirs: Path) -> None:
    from shijian.dataadmin import uploads

    c = world.client("hecheng_admin")
    save_mapping(c, feed)
    data = feed_csv(dirs / "d.csv").read_bytes()
    url = c.post(reverse("upload_create", args=[feed.pk]), {"filename": "d.csv", "size": len(data)}).json()["url"]

    class Dropping(io.BytesIO):
        def read(self, n: int | None = -1) -> bytes:
            if self.tell() >= 50:
                raise OSError("connection reset")
            return super().read(min(n if n and n > 0 else 50, 50 - self.tell()))

    up = Upload.objects.get(pk=int(url.rstrip("/").rsplit("/", 1)[1]))
    uploads.append(up, 0, Dropping(data), len(data))  # the piece breaks after 50 bytes: those 50 count
    r = c.get(url)
    assert r["Upload-Offset"] == "50" and r.json()["status"] == "receiving"
    wrong = c.generic("PATCH", url, data[10:], content_type="application/offset+octet-stream", HTTP_UPLOAD_OFFSET="10")
    assert wrong.status_code == 409 and wrong.json()["offset"] == 50
    r = c.generic("PATCH", url, data[50:], content_type="application/offset+octet-stream", HTTP_UPLOAD_OFFSET="50")
    assert r.status_code == 200 and r.json()["status"] == "complete"
    up.refresh_from_db()
    assert up.job_id is not None
    assert up.path.read_bytes() == data and Job.objects.get(pk=up.job_id).status == "succeeded"


def test_an_upload_of_another_kind_of_file_is_refused_with_a_message(world: Any, feed: Feed) -> None:
    r = world.client("hecheng_admin").post(reverse("upload_create", args=[feed.pk]), {"filename": "a.exe", "size": 3})
    assert r.status_code == 400 and "CSV" in r.json()["error"]


def test_the_preview_shows_cleaned_rows_and_explains_each_reject(world: Any, feed: Feed, dirs: Path) -> None:
    c = world.client("hecheng_admin")
    sample = feed_csv(dirs / "sample.csv")
    with sample.open("rb") as fh:
        r = c.post(reverse("feed_mapping", args=[feed.pk]), {**mapping_post(feed.name), "preview": "1", "sample": fh},
                   HTTP_ACCEPT_LANGUAGE="zh-hans")  # fmt: skip
    body = r.content.decode()
    assert r.status_code == 200 and 'id="preview-rows"' in body
    assert "2026-03-01" in body and "JC-001" in body
    # line 3: the slash date, in its delivered column, explained in Chinese
    assert "<td>3</td><td>检查日期</td>" in body and "2026/03/02" in body
    assert "校验位" in body  # the invalid credit code's reason
    assert not feed.mapping_path.exists()  # a preview saves nothing


def test_the_preview_explains_a_file_the_mapping_cannot_read(world: Any, feed: Feed, dirs: Path) -> None:
    c = world.client("hecheng_admin")
    sample = feed_csv(dirs / "sample.csv")
    with sample.open("rb") as fh:
        r = c.post(reverse("feed_mapping", args=[feed.pk]),
                   {**mapping_post(feed.name, col_result=""), "preview": "1", "sample": fh})  # fmt: skip
    body = r.content.decode()
    assert 'id="preview-refused"' in body and "检查结果" in body


def test_reprocessing_after_a_mapping_fix_replaces_the_load_and_counts_still_reconcile(
    world: Any, feed: Feed, dirs: Path
) -> None:
    c = world.client("hecheng_admin")
    save_mapping(c, feed)
    upload(c, feed, feed_csv(dirs / "d.csv"))
    (before,) = loads.reports(feed)
    assert loads.reconciles(loads.counts(before))
    assert (before["rows_read"], before["accepted"], before["quarantined"], before["duplicates"]) == (6, 2, 3, 1)
    r = c.get(reverse("feed_quarantine", args=[feed.pk]) + "?kind=date")
    assert r.status_code == 200 and r.content.decode().count("<td>检查日期</td>") == 2
    save_mapping(c, feed, date_formats="%Y-%m-%d\n%Y/%m/%d")  # the fix
    r = c.post(reverse("feed_reprocess", args=[feed.pk]), {"load": [before["load_id"]]})
    job = Job.objects.filter(kind="reprocess").get()
    assert r.status_code == 302 and job.status == "succeeded", job.error
    (after,) = loads.reports(feed)  # the load was replaced, not added to
    assert after["load_id"] == job.outcome["loads"][0]["replaced_by"]
    assert (after["rows_read"], after["accepted"], after["quarantined"], after["duplicates"]) == (6, 4, 1, 1)
    assert loads.reconciles(loads.counts(after)) and after["rows_read"] == before["rows_read"]
    assert job.outcome["loads"][0]["before"] == loads.counts(before)
    from shijian.core.models import AuditEvent

    events = list(AuditEvent.objects.filter(object_type="lake.load").order_by("id"))
    assert [e.action for e in events] == ["import", "update"] and events[0].actor_name == "hecheng_admin"
    assert events[0].after is not None and events[1].before is not None
    assert events[0].after["sha256"] == before["sha256"] and events[1].before["quarantined"] == 3
    aside = list((dirs / "lake" / "superseded").glob("source=hecheng-jc/load=*/replaced_by.json"))
    assert len(aside) == 1
    q = quality.of(feed)
    assert q.rows_read == 6 and q.reconciles and q.quarantined == 1
    r = c.get(reverse("feed_quarantine", args=[feed.pk]))
    assert "<td>统一社会信用代码</td>" in r.content.decode()


def test_a_reprocessing_that_died_midway_puts_the_old_load_back(world: Any, feed: Feed, dirs: Path) -> None:
    import os

    c = world.client("hecheng_admin")
    save_mapping(c, feed)
    upload(c, feed, feed_csv(dirs / "d.csv"))
    (report,) = loads.reports(feed)
    lake = loads.lake()
    src = loads.load_dir(lake, feed.slug, report["load_id"])
    aside = lake.root / "superseded" / f"source={feed.slug}" / f"load={report['load_id']}.1"
    aside.parent.mkdir(parents=True)
    os.rename(src, aside)  # as reprocess() does before loading again; the process dies here
    assert loads.reports(feed) == []
    assert loads.restore_interrupted(lake) == 1
    assert [r["load_id"] for r in loads.reports(feed)] == [report["load_id"]]


def test_a_failed_load_tells_the_data_administrators_who_cover_the_department(
    world: Any, feed: Feed, dirs: Path
) -> None:
    from shijian.hazards.models import Notification

    c = world.client("hecheng_admin")
    save_mapping(c, feed, col_result="")  # 检查结果 unmapped: the file is refused whole
    up = upload(c, feed, feed_csv(dirs / "d.csv"))
    assert up.job_id is not None
    job = Job.objects.get(pk=up.job_id)
    assert job.status == "failed" and "检查结果" in job.message
    told = set(Notification.objects.filter(kind="job_failed").values_list("user__username", flat=True))
    assert told == {"admin", "hecheng_admin"}  # the district's and the town's administrators; not yanghe's, not others
    assert Notification.objects.filter(user__username="hecheng_admin").count() == 1  # told once
    assert loads.reports(feed) == []  # nothing was written


def test_a_load_queues_the_build_and_the_linkage_rate_follows(world: Any, feed: Feed, dirs: Path) -> None:
    c = world.client("hecheng_admin")
    save_mapping(c, feed)
    Feed.objects.filter(pk=feed.pk).update(build_after_load=True)
    assert quality.of(feed).linkage_rate is None
    up = upload(c, feed, feed_csv(dirs / "d.csv"))
    assert up.job_id is not None
    build = Job.objects.get(pk=Job.objects.get(pk=up.job_id).outcome["build_job"])
    assert build.kind == "build" and build.status == "succeeded", build.error
    assert build.outcome["records"] == 2 and build.created_by == world.users["hecheng_admin"]
    assert quality.of(feed).linkage_rate == 1.0  # both accepted records carry the world's entities' codes


def test_a_load_queues_the_build_when_the_feed_says_so(world: Any, feed: Feed, dirs: Path, monkeypatch: Any) -> None:
    from shijian.jobs import runner

    queued: list[str] = []
    real = runner.enqueue

    def spy(kind: str, *a: Any, **kw: Any) -> Any:
        queued.append(kind)
        if kind == "build":  # the build itself is the lake's (tests/test_build.py); here: that it is queued
            return Job.objects.create(kind=kind, params=a[0] if a else {})
        return real(kind, *a, **kw)

    monkeypatch.setattr(runner, "enqueue", spy)
    c = world.client("hecheng_admin")
    save_mapping(c, feed)
    Feed.objects.filter(pk=feed.pk).update(build_after_load=True)
    up = upload(c, feed, feed_csv(dirs / "d.csv"))
    assert up.job_id is not None
    job = Job.objects.get(pk=up.job_id)
    assert job.status == "succeeded" and queued == ["load", "build"]
    assert Job.objects.get(pk=job.outcome["build_job"]).params == {"after_load": job.outcome["load"]}


def test_the_quality_page_shows_timeliness_and_rates_per_department(world: Any, feed: Feed, dirs: Path) -> None:
    c = world.client("hecheng_admin")
    save_mapping(c, feed)
    Feed.objects.create(department=world.depts["hecheng"], slug="hecheng-xk", name="荷城许可数据", cadence_days=7)
    upload(c, feed, feed_csv(dirs / "d.csv"))
    body = world.client("leader").get(reverse("department_quality", args=[world.depts["hecheng"].pk])).content.decode()
    assert "荷城日常检查" in body and "荷城许可数据" in body
    assert "50.0%" in body  # 3 of 6 rows rejected
    assert "16.7%" in body  # 1 of 6 a duplicate
    assert "尚无交付" in body  # the second feed never delivered: late
    q = quality.of(feed)
    assert not q.late and q.days_since == 0
    assert q.fields["record_id"] == 1.0 and q.completeness == 1.0


def test_a_mapping_file_broken_by_hand_is_a_message_not_an_error(world: Any, feed: Feed, dirs: Path) -> None:
    c = world.client("hecheng_admin")
    feed.mapping_path.parent.mkdir(parents=True)
    feed.mapping_path.write_text("[feed\nname = ", encoding="utf-8")
    r = c.get(reverse("feed_mapping", args=[feed.pk]))
    assert r.status_code == 200 and "映射文件无法读取" in r.content.decode()
    assert c.get(reverse("feed_detail", args=[feed.pk])).status_code == 200
    up = upload(c, feed, feed_csv(dirs / "d.csv"))
    assert up.job_id is not None
    job = Job.objects.get(pk=up.job_id)
    assert job.status == "failed" and "映射文件无法读取" in job.message


def test_another_towns_administrator_cannot_append_to_an_upload(world: Any, feed: Feed, dirs: Path) -> None:
    r = world.client("hecheng_admin").post(reverse("upload_create", args=[feed.pk]), {"filename": "a.csv", "size": 4})
    url = r.json()["url"]
    for who in ("yanghe_admin", "outsider"):
        r = world.client(who).generic("PATCH", url, b"abcd", HTTP_UPLOAD_OFFSET="0")
        assert r.status_code == 404, who
    r = world.client("leader").generic("PATCH", url, b"abcd", HTTP_UPLOAD_OFFSET="0")
    assert r.status_code == 403  # leaders see feeds but do not upload
    assert Upload.objects.get().offset == 0


def test_the_schedules_page_lists_the_feeds_built_after_each_load(world: Any, feed: Feed) -> None:
    Feed.objects.filter(pk=feed.pk).update(build_after_load=True)
    Feed.objects.create(department=world.depts["chancheng"], slug="cc-jc", name="禅城检查", build_after_load=True)
    body = world.client("leader").get(reverse("schedule_list")).content.decode()
    assert "荷城日常检查" in body and "禅城检查" not in body


def test_record_type_values_are_written_by_their_chinese_names(world: Any, feed: Feed) -> None:
    c = world.client("hecheng_admin")
    r = save_mapping(
        c, feed, record_type="", col_record_type="业务类别", record_types="日常检查 = 检查\n处罚决定 = 行政处罚"
    )
    assert r.status_code == 302
    m = parse_mapping(feed.mapping_path.read_text(encoding="utf-8"), str(feed.mapping_path))
    assert m.record_types == {"日常检查": "inspection", "处罚决定": "penalty"} and m.record_type == ""
    body = c.get(reverse("feed_mapping", args=[feed.pk])).content.decode()
    assert "日常检查 = 检查" in body and "= inspection" not in body
    r = save_mapping(c, feed, record_type="", col_record_type="业务类别", record_types="日常检查 = 巡查")
    assert r.status_code == 200 and "第 1 行" in r.content.decode()  # an unknown type: the line is named


def test_a_new_feed_starts_from_another_feeds_mapping(world: Any, feed: Feed) -> None:
    c = world.client("hecheng_admin")
    save_mapping(c, feed)
    other = Feed.objects.create(department=world.depts["hecheng"], slug="hecheng-jc2", name="荷城专项检查")
    Feed.objects.create(department=world.depts["yanghe"], slug="yh", name="杨和检查")
    page = c.get(reverse("feed_mapping", args=[other.pk])).content.decode()
    assert f'value="feed:{feed.pk}"' in page and "杨和检查" not in page
    page = c.get(reverse("feed_mapping", args=[other.pk]) + f"?start=feed:{feed.pk}").content.decode()
    assert 'value="检查日期"' in page and "已按" in page
    assert not other.mapping_path.exists()  # nothing saved until the administrator saves


def test_a_running_reprocessing_is_not_undone_by_a_load_beside_it(world: Any, feed: Feed, dirs: Path) -> None:
    """A load in another worker thread runs restore_interrupted while a re-processing has its old load aside: the
    lock the re-processing holds keeps the old load aside (else both loads would count)."""
    import os

    c = world.client("hecheng_admin")
    save_mapping(c, feed)
    upload(c, feed, feed_csv(dirs / "d.csv"))
    (report,) = loads.reports(feed)
    lake = loads.lake()
    aside = lake.root / "superseded" / f"source={feed.slug}" / f"load={report['load_id']}.1"
    aside.parent.mkdir(parents=True)
    with loads._replacing(lake, wait=True):  # as reprocess() holds it
        os.rename(loads.load_dir(lake, feed.slug, report["load_id"]), aside)
        assert loads.restore_interrupted(lake) == 0
        assert loads.reports(feed) == [] and aside.is_dir()
    assert loads.restore_interrupted(lake) == 1  # the holder died without a replacement: put back
