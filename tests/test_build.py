"""The whole chain on a small synthetic district: register -> ingest -> build -> entity file on the page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.test import Client
from django.urls import reverse
from pytest_django import Settings

from shijian.ingest.mapping import load_mappings
from shijian.ingest.pipeline import ingest, summary
from shijian.lake import file_codes
from shijian.lake import state as build_state
from shijian.lake.build import BuildReport, linkage_quality, records_scan, run_build
from shijian.lake.query import entity_timeline
from shijian.lake.store import Lake
from shijian.synth.generator import generate, resolve_scale

STRANGER, STRANGER_AT = "佛山市无名氏小卖部", "高明区某街1号"

Built = tuple[Path, dict[str, Any], Lake, BuildReport]  # the district, its manifest, the lake and the build


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("build") / "d"
    return out, generate(resolve_scale("1000", records=20_000), 21, out)


@pytest.fixture
def built(district: tuple[Path, dict[str, Any]], db: None, tmp_path: Path, settings: Settings) -> Built:
    from shijian.registry.loader import load_district

    out, manifest = district
    load_district(out, tmp_path / "report")
    lake = Lake(tmp_path / "lake")
    settings.SHIJIAN_LAKE = lake.root
    totals = summary(ingest([out], load_mappings(), lake, workers=1))
    assert totals["reconciles"] and totals["accepted"] == 20_000
    # Three complaints naming a shop that is in no register: nothing can link them.
    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / "x.toml").write_text(
        '[feed]\nfiles = ["*.csv"]\nsource = "12345"\nrecord_type = "complaint"\n'
        'entity_keys = ["name_address"]\n[columns]\nname = ["名称"]\naddress = ["地址"]\nevent_date = ["日期"]\n',
        encoding="utf-8",
    )
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "x.csv").write_text(
        "名称,地址,日期\n" + "".join(f"{STRANGER},{STRANGER_AT},2024-01-0{d}\n" for d in (1, 2, 3)), encoding="utf-8"
    )
    assert summary(ingest([extra], load_mappings(maps), lake, workers=1))["accepted"] == 3
    report = run_build(lake, threads=2)
    return out, manifest, lake, report


def _every_record_is_linked_or_queued_and_links_are_right(built: Built) -> None:
    out, _manifest, lake, report = built
    assert report.records == 20_003
    assert sum(report.linked.values()) + report.unlinked == 20_003
    q = linkage_quality(lake, out / "truth")
    assert q["precision"] >= 0.999
    assert q["recall"] >= 0.995
    # Key-less records with variant names were linked by the normalised-name rule and by the probabilistic model.
    assert report.linked.get("core_name_address", 0) > 0
    prob = report.probabilistic
    assert prob["pairs"] > 0 and prob["auto_linked"] + prob["for_review"] > 0
    assert report.linked.get("probabilistic", 0) == 0 or prob["auto_linked"] > 0
    # Records of entities the register quarantined cannot link: they wait in the review queue.
    con = duckdb.connect()
    unlinked = con.execute(f"SELECT count(*) FROM read_parquet('{lake.root}/build/unlinked.parquet')").fetchall()[0][0]
    assert unlinked == report.unlinked
    _the_pass_split_the_lake_exactly(lake)


def _the_pass_split_the_lake_exactly(lake: Lake) -> None:
    """The unlinked rows are records as the lake has them (every column, same types), and with the linked ones
    they are every record once (by department, delivered file and line)."""
    con = duckdb.connect()
    records = f"read_parquet('{lake.records_glob()}', hive_partitioning = true)"
    queued = f"read_parquet('{lake.root}/build/unlinked.parquet')"
    assert (
        con.sql(f"DESCRIBE SELECT * FROM {queued}").fetchall()
        == con.sql(f"DESCRIBE SELECT * FROM {records}").fetchall()
    )
    assert con.sql(f"SELECT * FROM {queued} EXCEPT ALL SELECT * FROM {records}").fetchall() == []
    by_entity = f"read_parquet('{lake.root}/build/by_entity/*/*.parquet')"
    where = f"SELECT source, file, line FROM {by_entity} UNION ALL SELECT source, file, line FROM {queued}"
    assert con.sql(f"SELECT source, file, line FROM {records} EXCEPT ALL ({where})").fetchall() == []
    assert con.sql(f"({where}) EXCEPT ALL SELECT source, file, line FROM {records}").fetchall() == []


def _entity_files_match_the_records(built: Built) -> None:
    from shijian.registry.models import EntityFile

    _out, _manifest, lake, report = built
    assert EntityFile.objects.count() == report.entities_with_records == report.synced
    assert sum(EntityFile.objects.values_list("records", flat=True)) == sum(report.linked.values())
    f = EntityFile.objects.order_by("-records").first()
    assert f is not None
    timeline = entity_timeline(lake, f.entity_id, limit=0)  # the entity file's counts by type and department
    by_type, by_source = dict(timeline.types), dict(timeline.sources)
    assert sum(by_type.values()) == f.records == sum(by_source.values()) and len(by_source) == f.departments
    con = duckdb.connect()
    row = con.execute(
        f"SELECT count(*) FROM read_parquet('{lake.root}/build/by_entity/*/*.parquet', hive_partitioning = true) "
        f"WHERE entity_id = {f.entity_id} AND record_type = 'penalty'"
    ).fetchone()
    assert row is not None
    penalties = row[0]
    assert f.penalties == penalties == by_type.get("penalty", 0)


def _a_second_build_replaces_the_first(built: Built) -> None:
    from shijian.registry.models import EntityFile

    _out, _manifest, lake, first = built
    again = run_build(lake, threads=1)
    assert again.synced == first.synced and EntityFile.objects.count() == first.synced


def _a_lake_file_of_two_delivered_files_keeps_their_names(built: Built) -> None:
    """The pass carries each record's delivered file as its lake file's number where a lake file holds one
    (``file_codes``); a lake file holding two is carried as text, with the same result."""
    _out, _manifest, lake, first = built
    scan = records_scan(lake, build_state.record_files(lake))
    assert first.file_numbers and file_codes.labels(duckdb.connect(), scan) is not None  # numbers so far
    # the review queue's records are as the lake has them, for any Parquet reader (not only DuckDB)
    assert pq.read_schema(lake.root / "build" / "unlinked.parquet").field("file").type == pa.string()
    path = sorted(lake.records.glob("source=*/load=*/records.parquet"))[0]
    table = pq.read_table(path)
    names = table.column("file").to_pylist()
    names[::2] = ["另一个文件.csv"] * len(names[::2])
    pq.write_table(table.set_column(table.schema.get_field_index("file"), "file", pa.array(names, pa.string())), path)
    assert file_codes.labels(duckdb.connect(), scan) is None
    assert not run_build(lake, threads=1).file_numbers
    _the_pass_split_the_lake_exactly(lake)
    be = f"read_parquet('{lake.root}/build/by_entity/*/*.parquet')"
    assert duckdb.connect().execute(f"SELECT count(*) FROM {be} WHERE file = '另一个文件.csv'").fetchall()[0][0] > 0


def _the_entity_page_shows_the_file_and_its_timeline(built: Built) -> None:
    from django.conf import settings

    from shijian.accounts.models import User
    from shijian.registry.models import EntityFile

    f = EntityFile.objects.order_by("-records").first()
    assert f is not None
    leader = User.objects.create_user("boss", password="x-long-password-9", role="leader", region_code="440608")
    c = Client()
    c.force_login(leader)
    body = c.get(reverse("entity_detail", args=[f.entity_id])).content.decode()
    assert 'id="timeline"' in body and body.count("<tr>") >= 20
    assert ".csv" not in body and str(settings.HOME) not in body  # the record's origin, not the server's paths
    assert "报送数据第" in body
    assert f"{f.records}" in body
    r = c.get(reverse("entity_records", args=[f.entity_id]) + "?type=penalty")
    assert r.status_code == 200
    assert r.content.decode().count("<tr>") == min(50, f.penalties) + 1
    outsider = User.objects.create_user("far", password="x-long-password-9", role="leader", region_code="440604")
    c2 = Client()
    c2.force_login(outsider)
    assert c2.get(reverse("entity_records", args=[f.entity_id])).status_code == 404


def test_build_without_records_says_so(db: None, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="shijian ingest"):
        run_build(Lake(tmp_path / "empty"))


def _officials_review_uncertain_matches_and_the_next_build_follows(built: Built) -> None:
    from shijian.accounts.models import User
    from shijian.core.models import AuditEvent
    from shijian.lake.models import LinkDecision, LinkReview
    from shijian.registry.models import Entity

    _out, _manifest, lake, report = built
    assert LinkReview.objects.filter(status="pending").count() == report.reviews
    if report.reviews == 0:
        # The model was sure of everything here: put records that nothing matched before an official instead.
        from django.utils import timezone

        entity = Entity.objects.filter(town_code__startswith="440608").first()
        assert entity is not None
        LinkReview.objects.create(
            name_key=STRANGER,
            address_key=STRANGER_AT,
            records=3,
            candidates=[{"entity_id": entity.pk, "probability": 0.6}],
            best_entity=entity,
            best_probability=0.6,
            built_at=timezone.now(),
        )
    admin = User.objects.create_user("adm", password="x-long-password-9", role="data_admin", region_code="440608")
    leader = User.objects.create_user("ldr", password="x-long-password-9", role="leader", region_code="440608")
    far = User.objects.create_user("far2", password="x-long-password-9", role="data_admin", region_code="440604")
    insp = User.objects.create_user("ins", password="x-long-password-9", role="inspector", region_code="440608")
    c = Client()
    c.force_login(leader)
    body = c.get(reverse("review_list")).content.decode()
    review = LinkReview.objects.filter(status="pending").order_by("-best_probability").first()
    assert review is not None and review.name_key in body and "This one" not in body and "这一个" not in body
    c.force_login(insp)
    assert c.get(reverse("review_list")).status_code == 403
    c.force_login(far)
    assert review.name_key not in c.get(reverse("review_list")).content.decode()
    assert c.post(reverse("review_decide", args=[review.pk]), {"decision": "reject"}).status_code == 404
    c.force_login(admin)
    entity_id = review.candidates[0]["entity_id"]
    r = c.post(reverse("review_decide", args=[review.pk]), {"decision": "accept", "entity": entity_id})
    assert r.status_code == 302
    review.refresh_from_db()
    assert review.status == "accepted" and review.decided_by == admin
    decision = LinkDecision.objects.get(name_key=review.name_key, address_key=review.address_key)
    assert decision.entity_id == entity_id
    assert AuditEvent.objects.filter(object_type="lake.linkdecision", object_id=str(decision.pk)).exists()
    # A candidate that was not offered is refused.
    other = LinkReview.objects.filter(status="pending").first()
    if other is not None:
        stranger = Entity.objects.exclude(pk__in=[x["entity_id"] for x in other.candidates]).first()
        assert stranger is not None
        c.post(reverse("review_decide", args=[other.pk]), {"decision": "accept", "entity": stranger.pk})
        other.refresh_from_db()
        assert other.status == "pending"
    again = run_build(lake, threads=1)
    assert again.linked.get("reviewed", 0) >= review.records


def test_the_whole_chain(built: Built) -> None:
    """One district through register, ingest and build; each check below reads the same build."""
    _every_record_is_linked_or_queued_and_links_are_right(built)
    _entity_files_match_the_records(built)
    _the_entity_page_shows_the_file_and_its_timeline(built)
    _officials_review_uncertain_matches_and_the_next_build_follows(built)
    _a_second_build_replaces_the_first(built)
    _a_lake_file_of_two_delivered_files_keeps_their_names(built)


def test_many_buckets_are_written_through_coarse_groups_with_the_same_result(tmp_path: Path) -> None:
    import duckdb

    from shijian.lake import build

    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT i AS entity_id, i % 256 AS bucket, 'r' || i AS detail FROM range(20000) r(i)")
    build.write_by_entity(con, "SELECT * FROM t", 256, tmp_path / "two")  # 4 groups of 64 buckets
    con.execute("CREATE TABLE u AS SELECT i AS entity_id, i % 32 AS bucket, 'r' || i AS detail FROM range(20000) r(i)")
    build.write_by_entity(con, "SELECT * FROM u", 32, tmp_path / "one")  # one partitioned write
    for root, n in ((tmp_path / "two", 256), (tmp_path / "one", 32)):
        got = con.execute(
            f"SELECT count(*), count(DISTINCT entity_id), bool_and(entity_id % {n} = bucket) "
            f"FROM read_parquet('{root}/by_entity/*/*.parquet', hive_partitioning = true)"
        ).fetchone()
        assert got == (20000, 20000, True)
        assert len(list((root / "by_entity").iterdir())) == n and not (root / "by_group").exists()
