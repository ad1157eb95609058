"""Full-text search over the lake's record texts: the index answers exactly what a scan of the lake answers, within
the user's jurisdiction and filters, on SQLite (FTS5) and PostgreSQL (tsvector), after full and incremental builds."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from shijian.ingest.mapping import load_mappings
from shijian.ingest.pipeline import ingest, summary
from shijian.lake import state as build_state
from shijian.lake.build import run_build
from shijian.lake.fulltext import index as fulltext_index
from shijian.lake.fulltext import query
from shijian.lake.fulltext.index import FTS, TEXT_TYPES
from shijian.lake.fulltext.tokens import fts5_match, parse, tokens, tsquery_literal
from shijian.lake.incremental import run_incremental
from shijian.lake.models import RecordText
from shijian.lake.store import Lake
from shijian.registry.display import mask_phones
from shijian.synth.generator import generate, resolve_scale

WORDS = ["过期", "超过保质期", "后厨", "药", "虚假 直播", "广告法", "罚款人民币", "联系电话", "未发现违法违规行为"]


def test_it_tokenizes_every_run_of_letters_and_digits_as_bigrams() -> None:
    assert tokens("销售过期食品，罚款5100元") == [
        *("销售", "售过", "过期", "期食", "食品", "品"),
        *("罚款", "款5", "51", "10", "00", "0元", "元"),
    ]
    assert tokens("ＡＢＣ公司") == ["ab", "bc", "c公", "公司", "司"]  # full-width letters folded, lower case
    assert tokens("药") == ["药"]
    phrases = parse("过期食品 药 GB2760 药")
    assert [p.part for p in phrases] == ["过期食品", "药", "gb2760"]  # a repeated part once
    assert fts5_match(phrases) == 'tokens : "过期 期食 食品" AND tokens : "药"* AND tokens : "gb b2 27 76 60"'
    assert tsquery_literal(phrases) == "'27' & '60' & '76' & 'b2' & 'gb' & '期食' & '药':* & '过期' & '食品'"
    assert parse("！？ ，😀") == []


def test_it_masks_mobile_numbers_only() -> None:
    assert mask_phones("联系电话：13812345678）") == "联系电话：138****5678）"
    assert mask_phones("罚款5100元，编号123456789012") == "罚款5100元，编号123456789012"
    grouped = "电话 +86 138-1234-5678，或 139 8765 4321"
    assert mask_phones(grouped) == "电话 +86 138-****-5678，或 139 **** 4321"


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("fulltext") / "d"
    return out, generate(resolve_scale("800", records=16_000), 33, out)


@pytest.fixture
def lake(district: tuple[Path, dict[str, Any]], db: None, tmp_path: Path, settings: Any) -> Lake:
    from shijian.registry.loader import load_district

    out, _manifest = district
    load_district(out, tmp_path / "report")
    lake = Lake(tmp_path / "lake")
    settings.SHIJIAN_LAKE = lake.root
    assert summary(ingest([out], load_mappings(), lake, workers=1))["reconciles"]
    report = run_build(lake, threads=2)
    assert report.texts == RecordText.objects.count() > 500
    return lake


def _user(name: str, role: str, region: str) -> Any:
    from shijian.accounts.models import User

    return User.objects.create_user(name, password="x", role=role, region_code=region, is_superuser=role == "root")


def _scan(lake: Lake, words: str, town: str = "", source: str = "", rtype: str = "") -> set[tuple[str, str]]:
    """The same question asked of the lake itself: linked text records whose detail holds every word."""
    from shijian.registry.models import Entity

    codes = dict(Entity.objects.values_list("id", "town_code"))
    types = ", ".join(f"'{t}'" for t in TEXT_TYPES)
    rows = (
        duckdb.connect()
        .execute(
            f"SELECT entity_id, source, record_id, record_type, detail FROM "
            f"read_parquet('{lake.root}/build/by_entity/*/*.parquet') WHERE record_type IN ({types})"
        )
        .fetchall()
    )
    return {
        (s, r)
        for e, s, r, t, d in rows
        if d
        and all(w in d for w in words.split())
        and e in codes
        and (not town or codes[e] == town)
        and (not source or s == source)
        and (not rtype or t == rtype)
    }


def _all_pages(user: Any, words: str, filters: query.Filters | None = None) -> list[RecordText]:
    filters = filters or query.Filters()
    out: list[RecordText] = []
    before = None
    while True:
        page = query.search(user, words, filters, before, limit=50)
        out += page.rows
        if page.next_before is None:
            return out
        before = page.next_before


def test_it_finds_exactly_what_a_scan_of_the_lake_finds_newest_first(lake: Lake) -> None:
    root = _user("root", "root", "")
    for words in WORDS:
        found = _all_pages(root, words)
        assert {(r.source, r.record_id) for r in found} == _scan(lake, words), words
        assert [r.id for r in found] == sorted((r.id for r in found), reverse=True)
        dates = [r.event_date for r in found if r.event_date]
        assert dates == sorted(dates, reverse=True)
        assert len(found) == len({r.id for r in found})  # pages neither repeat nor skip
    page = query.search(root, "过期")
    assert page.count == min(len(_scan(lake, "过期")), query.COUNT_CAP) and not page.capped
    assert query.search(root, "这句话不会出现在任何记录里").rows == []


def test_filters_and_jurisdiction_narrow_it_as_the_scan_does(lake: Lake) -> None:
    from shijian.registry.models import Entity

    town = Entity.objects.values_list("town_code", flat=True).order_by("town_code").first()
    assert town
    other = Entity.objects.exclude(town_code=town).values_list("town_code", flat=True).first()
    root, leader = _user("root", "root", ""), _user("leader", "leader", town[:6])
    clerk, stranger = _user("clerk", "inspector", town), _user("stranger", "leader", "440604")
    regionless = _user("nobody", "leader", "")
    some = RecordText.objects.filter(town_code=town).first()
    assert some
    source = some.source
    for words in ("过期", "检查", "药"):
        town_rows = {(r.source, r.record_id) for r in _all_pages(clerk, words)}
        assert town_rows == _scan(lake, words, town=town)
        assert {(r.source, r.record_id) for r in _all_pages(root, words, query.Filters(town=town))} == town_rows
        assert {(r.source, r.record_id) for r in _all_pages(leader, words)} == _scan(lake, words)
        # the town's clerk asking for another town gets nothing, not that town's texts
        assert _all_pages(clerk, words, query.Filters(town=other or "440608999")) == []
        assert _all_pages(stranger, words) == [] and _all_pages(regionless, words) == []
        by_source = _all_pages(leader, words, query.Filters(source=source, record_type="inspection"))
        assert {(r.source, r.record_id) for r in by_source} == _scan(lake, words, source=source, rtype="inspection")
    dated = [r for r in _all_pages(root, "检查") if r.event_date]
    lo, hi = dated[len(dated) // 2].event_date, dated[len(dated) // 4].event_date
    assert lo and hi
    window = _all_pages(root, "检查", query.Filters(date_from=lo, date_to=hi))
    assert {r.id for r in window} == {r.id for r in dated if lo <= r.event_date <= hi}  # type: ignore[operator]


def test_numbers_are_masked_stored_shown_and_never_searchable(lake: Lake) -> None:
    root = _user("root", "root", "")
    with_phone = _all_pages(root, "联系电话")
    assert with_phone and all("****" in r.text for r in with_phone)
    assert not RecordText.objects.filter(text__regex=r"1[3-9][0-9]{9}").exists()
    raw = (
        duckdb.connect()
        .execute(
            f"SELECT regexp_extract(detail, '1[3-9][0-9]{{9}}') "
            f"FROM read_parquet('{lake.root}/build/by_entity/*/*.parquet') WHERE detail LIKE '%联系电话%' LIMIT 1"
        )
        .fetchall()[0][0]
    )
    assert raw and query.search(root, raw).rows == []  # the lake keeps the number, the index does not


def _index_ids() -> set[int]:
    if connection.vendor != "sqlite":
        return set(RecordText.objects.values_list("id", flat=True))
    with connection.cursor() as cur:
        cur.execute(f"SELECT rowid FROM {FTS}")
        return {r[0] for r in cur.fetchall()}


def test_an_incremental_build_adds_new_texts_as_a_full_build_would(lake: Lake, tmp_path: Path) -> None:
    from shijian.registry.models import Entity

    e = Entity.objects.exclude(uscc="").order_by("id").first()
    assert e
    maps, feed = tmp_path / "maps", tmp_path / "feed"
    maps.mkdir()
    feed.mkdir()
    (maps / "m.toml").write_text(
        '[feed]\nfiles = ["*.csv"]\nsource = "440608-NEWS"\nentity_keys = ["uscc"]\n[columns]\nrecord_id = ["编号"]\n'
        'uscc = ["统一社会信用代码"]\nrecord_type = ["类型"]\nevent_date = ["日期"]\ndetail = ["内容"]\n',
        encoding="utf-8",
    )
    text = "食品安全：消费者反映该店出售的臭豆腐发霉变质，联系电话13912345678"
    (feed / "d.csv").write_text(
        f"编号,统一社会信用代码,类型,日期,内容\nN1,{e.uscc},complaint,2026-12-01,{text}\n"
        f"N2,{e.uscc},tax,2026-12-01,纳税信用评价\n",
        encoding="utf-8",
    )
    assert summary(ingest([feed], load_mappings(maps), lake, workers=1))["accepted"] == 2
    before = RecordText.objects.count()
    report = run_incremental(lake, threads=2)
    assert report.mode == "incremental" and report.texts == 1
    assert RecordText.objects.count() == before + 1
    (hit,) = query.search(_user("clerk", "inspector", e.town_code), "臭豆腐").rows
    assert (hit.entity_id, hit.record_id, hit.event_date) == (e.pk, "N1", dt.date(2026, 12, 1))
    assert "139****5678" in hit.text
    assert _index_ids() == set(RecordText.objects.values_list("id", flat=True))

    def rows() -> list[tuple[Any, ...]]:
        return sorted(
            RecordText.objects.values_list("entity_id", "source", "record_id", "event_date", "town_code", "text"),
            key=repr,
        )

    added = rows()
    run_build(lake, threads=2)
    assert rows() == added
    assert _index_ids() == set(RecordText.objects.values_list("id", flat=True))


def test_the_page_searches_marks_the_words_and_pages_on(lake: Lake) -> None:
    from shijian.registry.models import Entity

    leader = _user("leader", "leader", "440608")
    c = Client()
    c.force_login(leader)
    url = reverse("record_search")
    r = c.get(url, {"q": "检查"})
    body = r.content.decode()
    assert r.status_code == 200 and "<mark>检查</mark>" in body
    assert "?q=" in body and "before=" in body  # more than a page: a link to the older ones
    older = re.search(r'href="(\?[^"]*before=\d+[^"]*)"', body)
    assert older
    r2 = c.get(url + older.group(1).replace("&amp;", "&"))
    assert r2.status_code == 200 and "<mark>检查</mark>" in r2.content.decode()
    r3 = c.get(url, {"q": "检查", "date_from": "2026-13-45"})
    assert r3.status_code == 200 and "<mark>" not in r3.content.decode()  # a message, not an error page
    assert c.get(url).status_code == 200  # no words: the newest texts
    name = Entity.objects.get(pk=RecordText.objects.order_by("-id").first().entity_id).name  # type: ignore[union-attr]
    assert name in c.get(url).content.decode()
    anonymous = Client().get(url, {"q": "检查"})
    assert anonymous.status_code == 302


def test_a_total_slower_than_its_budget_is_left_out_and_nothing_breaks(db: None) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite's FTS5 count is bounded by its LIMIT alone")
    from shijian.lake.fulltext.index import write_rows

    write_rows(
        [(n, 1, 0, "440608", "440608101", "440608101001", "S", "complaint", None, f"R{n}", "检查") for n in (1, 2)]
    )
    slow = RecordText.objects.extra(where=["pg_sleep(0.15) IS NOT NULL"])
    assert query._bounded_count(slow) is None  # cancelled at the budget (100 ms), not waited for
    assert query._bounded_count(RecordText.objects.all()) == 2  # the connection and transaction still work
    assert RecordText.objects.count() == 2


def test_the_entity_timeline_masks_numbers_too(lake: Lake) -> None:
    """The entity page and the API read records through ``entity_timeline``: the lake keeps the number, they don't."""
    from shijian.lake.query import entity_timeline

    hit = RecordText.objects.filter(text__contains="联系电话").first()
    assert hit
    tl = entity_timeline(lake, hit.entity_id, record_type="complaint", limit=1000)
    texts = [str(r["detail"]) for r in tl.rows if r["detail"]]
    assert any("联系电话" in t for t in texts)
    assert not any(re.search(r"1[3-9][0-9]{9}", t) for t in texts)
    c = Client()
    c.force_login(_user("root", "root", ""))
    page = c.get(reverse("entity_records", args=[hit.entity_id]), {"type": "complaint"}).content.decode()
    assert "联系电话" in page and not re.search(r"1[3-9][0-9]{9}", page)


def test_an_index_written_by_another_tokenizer_makes_the_next_build_a_full_one(lake: Lake) -> None:
    from shijian.lake import state as build_state

    state = build_state.read_state(lake)
    assert state and state.search_tokens
    state.search_tokens = "an older tokenizer"
    build_state.write_state(lake, state)
    report = run_incremental(lake, threads=2)
    assert report.mode == "full" and report.reason == "the full-text tokenizer changed"
    assert report.texts == RecordText.objects.count() and _index_ids() == set(
        RecordText.objects.values_list("id", flat=True)
    )


def _index_contents() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every text row, and every entry of the engine's index: FTS5's (term, row, column, offset) instances, or
    PostgreSQL's tsvectors."""
    with connection.cursor() as cur:
        cur.execute(f"SELECT * FROM {RecordText._meta.db_table} ORDER BY id")
        rows = cur.fetchall()
        if connection.vendor == "sqlite":
            cur.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.vocab USING fts5vocab(main, {FTS}, instance)")
            cur.execute("SELECT term, doc, col, offset FROM temp.vocab ORDER BY doc, col, offset")
        else:
            cur.execute(f"SELECT id, tsv::text FROM {RecordText._meta.db_table} ORDER BY id")
        return rows, cur.fetchall()


def test_a_large_rebuild_tokenises_in_another_process_to_the_same_index(
    lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the build indexed the texts it set aside in its by-entity pass (and removed them); this rebuild reads every
    # by_entity file instead, so the comparison also checks that the pass set aside exactly the indexed records
    assert not (lake.root / "build.tmp").exists() and not list(lake.root.rglob("texts.parquet"))
    rows, entries = _index_contents()
    assert len(rows) > 500 and len(entries) >= len(rows)  # FTS5: an entry a token; PostgreSQL: one a row
    monkeypatch.setattr(fulltext_index, "PARALLEL_ROWS", 0)  # this small lake's rebuild as a large one's
    state = build_state.read_state(lake)
    assert state is not None
    assert fulltext_index.rebuild(lake, state.buckets) == len(rows)
    assert _index_contents() == (rows, entries)


def test_a_build_whose_aggregates_fail_leaves_the_previous_index(lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    # the aggregates run beside the index rebuild: the index commits only once they are made
    from shijian.lake import build

    before = _index_contents()
    RecordText.objects.filter(id=RecordText.objects.order_by("id").values_list("id", flat=True)[0]).delete()
    changed = _index_contents()
    assert changed != before

    def fail(*args: Any) -> None:
        raise OSError("no space left on device")

    monkeypatch.setattr(build, "aggregate", fail)
    with pytest.raises(OSError, match="no space left"):
        run_build(lake, threads=2)
    assert _index_contents() == changed  # not the failed build's index


def test_a_worker_that_dies_is_an_error_not_a_hang() -> None:
    worker = fulltext_index._EntryProcess("sqlite")
    rows = [("投诉 13812345678", "440600", "440604", "440604001", "S", "complaint")]
    worker.submit(rows)
    assert worker.result() == fulltext_index.index_entries(rows, "sqlite")
    worker.proc.kill()
    worker.proc.wait()
    worker.submit(rows)
    with pytest.raises(RuntimeError, match="worker process stopped"):
        worker.result()
    worker.close()  # returns: the feeder saw the broken pipe


def test_a_rebuild_on_sqlite_sets_fts5_to_large_segments_and_restores_the_page_cache(
    lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite only: FTS5's memory for new entries and SQLite's page cache")
    state = build_state.read_state(lake)
    assert state is not None

    def settings() -> tuple[int, list[tuple[Any, ...]]]:
        with connection.cursor() as cur:
            cur.execute("PRAGMA cache_size")
            pages = int(cur.fetchone()[0])
            cur.execute(f"SELECT v FROM {FTS}_config WHERE k = 'hashsize'")
            return pages, cur.fetchall()

    configured = settings()[0]
    with connection.cursor() as cur:
        cur.execute("PRAGMA cache_size = -4321")  # what the connection had: kept after a rebuild
    try:
        before = settings()[0]
        assert before == -4321
        rows, entries = _index_contents()
        assert fulltext_index.rebuild(lake, state.buckets) == len(rows)
        assert settings() == (before, [(fulltext_index.FTS_HASH_BYTES,)])
        assert _index_contents() == (rows, entries)

        def fail(*args: Any) -> int:
            raise OSError("disk full")

        monkeypatch.setattr(fulltext_index, "_load", fail)
        with pytest.raises(OSError, match="disk full"):
            fulltext_index.rebuild(lake, state.buckets)
        assert settings()[0] == before and _index_contents() == (rows, entries)
    finally:
        with connection.cursor() as cur:
            cur.execute(f"PRAGMA cache_size = {configured}")  # the later tests' connection as configured
