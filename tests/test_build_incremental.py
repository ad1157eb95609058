"""``shijian build --incremental``: a delivery added to the last build equals a full build of the same lake."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from django.test import override_settings

from shijian.ingest.mapping import load_mappings
from shijian.ingest.pipeline import ingest, summary
from shijian.lake import state as build_state
from shijian.lake.build import BuildReport, run_build
from shijian.lake.incremental import run_incremental
from shijian.lake.store import Lake
from shijian.synth.generator import generate, resolve_scale

MAPPING = """[feed]
files = ["*.csv"]
source = "{source}"
entity_keys = ["uscc", "name_address"]
amount_unit = "yuan"
[columns]
record_id = ["编号"]
uscc = ["统一社会信用代码"]
name = ["名称"]
address = ["地址"]
record_type = ["类型"]
event_date = ["日期"]
amount = ["金额"]
result = ["结果"]
"""
STRANGER = ("佛山市从未登记的小店", "高明区无名路9号")


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("incremental") / "d"
    return out, generate(resolve_scale("600", records=12_000), 5, out)


def _deliver(tmp: Path, lake: Lake, source: str, rows: list[tuple[Any, ...]]) -> None:
    """One department's delivery: a CSV and its mapping, ingested as a new load."""
    maps, feed = tmp / f"maps-{source}", tmp / f"feed-{source}"
    maps.mkdir()
    feed.mkdir()
    (maps / "m.toml").write_text(MAPPING.format(source=source), encoding="utf-8")
    lines = ["编号,统一社会信用代码,名称,地址,类型,日期,金额,结果"]
    lines += [",".join(str(v) for v in r) for r in rows]
    (feed / "delivery.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert summary(ingest([feed], load_mappings(maps), lake, workers=1))["accepted"] == len(rows)


def _delivery_rows() -> list[tuple[Any, ...]]:
    from shijian.registry.models import Entity

    ents = list(Entity.objects.exclude(uscc="").order_by("id")[:40])
    day = dt.date(2026, 11, 20)
    rows: list[tuple[Any, ...]] = []
    for i, e in enumerate(ents):
        kind = ("penalty", "tax", "inspection", "complaint")[i % 4]
        result = {"tax": "A", "inspection": "责令整改", "penalty": "罚款", "complaint": "已受理"}[kind]
        rows.append((f"D{i}", e.uscc, e.name, e.address, kind, day + dt.timedelta(days=i % 7), 1000 * i, result))
    # A key combination never seen before: no code, the register's name and address (linked by name + address).
    rows.append(("D100", "", ents[0].name, ents[0].address, "complaint", day, "", "已受理"))
    # A business in no register, twice: unlinked, kept for review.
    rows += [(f"D20{k}", "", *STRANGER, "complaint", day, "", "已受理") for k in range(2)]
    return rows


def _unlinked(lake: Lake) -> int:
    path = lake.root / "build" / "unlinked.parquet"
    return int(duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchall()[0][0])


def _outputs(lake: Lake) -> dict[str, Any]:
    """Everything a build produces, order-free: entity files, counts, records by entity, unlinked, reviews, DB."""
    from shijian.lake.models import LinkReview, RecordText
    from shijian.registry.models import EntityFile

    b = lake.root / "build"
    con = duckdb.connect()

    def rows(sql: str) -> list[tuple[Any, ...]]:
        return sorted(con.execute(sql).fetchall(), key=repr)

    files = rows(f"SELECT * EXCLUDE (tax_on) FROM read_parquet('{b}/entity_files.parquet')")
    counts = rows(f"SELECT entity_id, kind, key, sum(n) FROM read_parquet('{b}/entity_counts/*.parquet') GROUP BY ALL")
    by_entity = rows(
        f"SELECT entity_id, link_method, source, record_type, event_date, amount, result, record_id, file, line "
        f"FROM read_parquet('{b}/by_entity/*/*.parquet')"
    )
    unlinked = rows(f"SELECT record_id, source, name, address FROM read_parquet('{b}/unlinked.parquet')")
    con.close()
    # Every column of the database's entity files but the time of the build.
    columns = [f.attname for f in EntityFile._meta.concrete_fields if f.name != "built_at"]
    assert "first_record_on" in columns and "departments" in columns
    db = sorted(EntityFile.objects.values_list(*columns), key=lambda row: row[0])
    reviews = sorted(
        (r.name_key, r.address_key, r.records) for r in LinkReview.objects.filter(status=LinkReview.Status.PENDING)
    )
    # The full-text index: the same texts on the same entities (ids are numbered per build, so left out).
    texts = sorted(
        RecordText.objects.values_list("entity_id", "bucket", "town_code", "source", "record_id", "event_date", "text"),
        key=repr,
    )
    assert texts and _indexed_ids() == set(RecordText.objects.values_list("id", flat=True))
    return dict(files=files, counts=counts, by_entity=by_entity, unlinked=unlinked, db=db, reviews=reviews, texts=texts)


def _indexed_ids() -> set[int]:
    """The ids the engine's index holds (SQLite: the FTS5 table's rowids; PostgreSQL: the rows themselves)."""
    from django.db import connection

    from shijian.lake.models import RecordText

    if connection.vendor != "sqlite":
        return set(RecordText.objects.values_list("id", flat=True))
    with connection.cursor() as cur:
        cur.execute("SELECT rowid FROM lake_recordtext_fts")
        return {r[0] for r in cur.fetchall()}


@pytest.fixture
def lake(district: tuple[Path, dict[str, Any]], db: None, tmp_path: Path) -> Iterator[Lake]:
    from shijian.registry.loader import load_district

    out, _manifest = district
    load_district(out, tmp_path / "report")
    lake = Lake(tmp_path / "lake")
    assert summary(ingest([out], load_mappings(), lake, workers=1))["reconciles"]
    with override_settings(SHIJIAN_LAKE=lake.root):
        run_build(lake, threads=2)
        yield lake


def test_it_adds_a_delivery_as_a_full_build_would(lake: Lake, tmp_path: Path) -> None:
    unlinked = _unlinked(lake)
    _deliver(tmp_path, lake, "440608-DAY1", _delivery_rows())
    report: BuildReport = run_incremental(lake, threads=2)
    assert (report.mode, report.reason, report.new_loads, report.records) == ("incremental", "", 1, 43)
    assert report.unlinked == unlinked + 2 and sum(report.linked.values()) == 41
    assert report.affected_entities == 40 == report.synced
    parts = list((lake.root / "build" / "by_entity").glob("bucket=*/part-*.parquet"))
    assert parts, "the delivery is written beside the full build's files"
    incremental = _outputs(lake)

    full = run_build(lake, threads=2)
    assert full.mode == "full"
    assert not list((lake.root / "build" / "by_entity").glob("bucket=*/part-*.parquet")), "a full build compacts"
    assert _outputs(lake) == incremental


def _same_as_full(lake: Lake, report: BuildReport) -> None:
    """The incremental build's outputs equal those of a full build of the same lake and register."""
    assert report.mode == "incremental", report.reason
    incremental = _outputs(lake)
    run_build(lake, threads=2)
    assert _outputs(lake) == incremental


def test_it_follows_register_changes_and_decisions_as_a_full_build_would(lake: Lake, tmp_path: Path) -> None:
    from django.utils import timezone

    from shijian.core.codes import uscc
    from shijian.lake.models import LinkDecision
    from shijian.registry.models import Entity, EntityFile

    nothing = run_incremental(lake, threads=2)
    assert (nothing.mode, nothing.reason, nothing.records) == ("incremental", "nothing changed since the last build", 0)

    # A business that registers after its records arrived: unlinked first, then linked by its new code.
    code = uscc.make("92", "440608", "MA5X0001")
    ents = list(Entity.objects.exclude(uscc="").order_by("id")[:3])
    rows = [
        (f"N{k}", code, "佛山市高明区新开张便利店", "高明区新路1号", "complaint", "2026-11-20", "", "已受理")
        for k in range(3)
    ]
    rows.append(("N9", "", ents[1].name, ents[1].address, "complaint", "2026-11-21", "", "已受理"))
    rows += [(f"S{k}", "", *STRANGER, "complaint", "2026-11-21", "", "") for k in range(2)]
    _deliver(tmp_path, lake, "440608-NEWSHOP", rows)
    unlinked = _unlinked(lake)
    first = run_incremental(lake, threads=2)
    assert first.unlinked == unlinked + 5
    _same_as_full(lake, first)

    newcomer = Entity.objects.get(pk=ents[0].pk)
    newcomer.pk, newcomer.uscc, newcomer.reg_no = None, code, ""
    newcomer.name, newcomer.address = "佛山市高明区新开张便利店", "高明区新路1号"
    newcomer.save()
    registered = run_incremental(lake, threads=2)
    assert registered.new_loads == 0 and "register" in registered.reason
    assert EntityFile.objects.get(entity=newcomer).records == 3
    _same_as_full(lake, registered)

    # A renamed business: the record that only its old name and address linked loses that link.
    Entity.objects.filter(pk=ents[1].pk).update(name="佛山市高明区完全改名贸易有限公司", address="高明区别处99号")
    renamed = run_incremental(lake, threads=2)
    _same_as_full(lake, renamed)

    # A business struck from the register: its records are unlinked, read back whole from the lake.
    gone, unlinked = ents[2], _unlinked(lake)
    before = EntityFile.objects.get(entity=gone).records
    Entity.objects.filter(pk=gone.pk).delete()
    struck = run_incremental(lake, threads=2)
    assert struck.unlinked == unlinked + before
    _same_as_full(lake, struck)

    # An official links the unregistered shop's complaints to a business: those already in the lake move.
    target = Entity.objects.exclude(pk=newcomer.pk).order_by("id").first()
    assert target is not None
    had = EntityFile.objects.get(entity=target).records
    LinkDecision.objects.create(
        name_key=STRANGER[0], address_key=STRANGER[1], entity=target, decided_at=timezone.now(), reason="同一经营者"
    )
    extra = [(f"S{k}", "", *STRANGER, "complaint", "2026-11-22", "", "") for k in range(2, 4)]
    _deliver(tmp_path, lake, "440608-DAY4", extra)
    decided = run_incremental(lake, threads=2)
    assert decided.linked.get("reviewed") == 2
    assert EntityFile.objects.get(entity=target).records == had + 4
    _same_as_full(lake, decided)


def test_the_database_counts_changes_to_the_register_keys(db: None) -> None:
    from shijian.registry.models import Entity

    e = Entity.objects.create(
        name="佛山市高明区计数测试店",
        address="高明区一路1号",
        entity_type="individual",
        industry_code="5211",
        industry_section="F",
        region_code="440608004001",
        town_code="440608004",
        district_code="440608",
    )
    counts = [build_state.register_version()]
    Entity.objects.filter(pk=e.pk).update(risk_class="D", legal_rep="王某")  # not a linkage key
    counts.append(build_state.register_version())
    Entity.objects.filter(pk=e.pk).update(address="高明区二路2号")
    counts.append(build_state.register_version())
    Entity.objects.filter(pk=e.pk).delete()
    counts.append(build_state.register_version())
    known = [c for c in counts if c is not None]
    assert len(known) == 4 and known[1] == known[0] < known[2] < known[3]


def test_it_builds_in_full_when_it_cannot_add_to_the_last_build(lake: Lake, tmp_path: Path) -> None:
    _deliver(tmp_path, lake, "440608-DAY2", _delivery_rows()[:3])
    assert run_incremental(lake, threads=2).mode == "incremental"
    victim = next(lake.records.glob("source=440608-DAY2/load=*"))
    shutil.rmtree(victim)  # a load withdrawn (as re-processing replaces one)
    removed = run_incremental(lake, threads=2)
    assert (removed.mode, removed.reason) == ("full", "loads were removed or replaced since the last build")

    build_state.drop_state(lake)
    assert run_incremental(lake, threads=2).reason == "no previous build to add to"


def test_a_crash_during_the_commit_is_finished_by_the_next_build(
    lake: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _deliver(tmp_path, lake, "440608-DAY3", _delivery_rows())

    class Crash(Exception):
        pass

    original, calls = build_state.roll_forward, []

    def crash(lake_: Lake, tmp: Path) -> bool:
        calls.append(tmp)
        if len(calls) == 1:  # the start of the build: nothing to finish
            return original(lake_, tmp)
        raise Crash  # the commit's moves: the machine goes down

    monkeypatch.setattr(build_state, "roll_forward", crash)
    with pytest.raises(Crash):
        run_incremental(lake, threads=2)  # staged and marked for commit; nothing moved yet
    monkeypatch.undo()
    assert (lake.root / "build.tmp" / build_state.COMMIT).exists()

    again = run_incremental(lake, threads=2)
    # The commit was finished, but the database had not been synced: that build is redone in full.
    assert (again.mode, again.reason) == ("full", "the previous build did not reach the database")
    after = _outputs(lake)
    total = duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{lake.records_glob()}')").fetchall()[0][0]
    assert sum(f[1] for f in after["files"]) + len(after["unlinked"]) == total  # every record once
    assert not (lake.root / "build.tmp").exists()


def test_the_command_line_says_what_it_did(lake: Lake, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from shijian.cli import app

    def build() -> str:
        result = CliRunner().invoke(app, ["build", "--lake", str(lake.root), "--incremental"], terminal_width=200)
        assert result.exit_code == 0, result.output
        return result.output

    assert "nothing changed since the last build; nothing to do" in build()
    _deliver(tmp_path, lake, "440608-CLI", _delivery_rows())
    out = build()
    assert "incremental: 1 new loads, 40 entities updated" in out and "43 new records: 41 linked" in out
    build_state.drop_state(lake)
    assert "built in full: no previous build to add to" in build()


def test_nameless_records_of_a_business_struck_off_are_found_again(lake: Lake, tmp_path: Path) -> None:
    from shijian.registry.models import Entity

    e = Entity.objects.exclude(uscc="").order_by("-id").first()
    assert e is not None
    _deliver(
        tmp_path, lake, "440608-NONAME", [(f"X{k}", e.uscc, "", "", "tax", "2026-11-20", "", "B") for k in range(3)]
    )
    assert run_incremental(lake, threads=2).mode == "incremental"
    unlinked = _unlinked(lake)
    records = _records_of(e.pk)
    Entity.objects.filter(pk=e.pk).delete()
    struck = run_incremental(lake, threads=2)
    assert struck.unlinked == unlinked + records  # the nameless ones too, read back from the lake
    _same_as_full(lake, struck)


def _records_of(entity_id: int) -> int:
    from shijian.registry.models import EntityFile

    return EntityFile.objects.get(entity_id=entity_id).records
