"""A hostile reviewer's probes of the record search (lake.fulltext), kept as tests: each states a documented promise
(docs/lake.md) and asserts it. Rows are written with ``write_rows`` into the ``world`` fixture (tests/conftest.py),
as tests/test_search.py does, except the build probes.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse

from shijian.lake.fulltext import query
from shijian.lake.fulltext.index import write_rows
from shijian.lake.models import RecordText

DAY = dt.date(2026, 11, 2)
SOURCE = "440608-SAMR"


def _root() -> Any:
    from shijian.accounts.models import User

    found = User.objects.filter(username="root").first()
    return found or User.objects.create_user("root", password="x", role="root", region_code="", is_superuser=True)


def _put(world: Any, texts: list[str], who: str = "hecheng", day: dt.date = DAY, start: int = 0) -> list[int]:
    """One complaint row per text for entity ``who``, all on ``day``; their ids."""
    e = world.entities[who]
    d = day.toordinal()
    rows, ids = [], []
    for n, text in enumerate(texts, start=start):
        i = d << 24 | n
        ids.append(i)
        codes = (e.district_code, e.town_code, e.region_code)
        rows.append((i, e.pk, 0, *codes, SOURCE, "complaint", day, f"R{who}{n}", text))
    write_rows(rows)
    return ids


def _all(user: Any, q: str, filters: query.Filters | None = None, limit: int = 50) -> list[RecordText]:
    filters = filters or query.Filters()
    out: list[RecordText] = []
    before = None
    for _ in range(10_000):
        page = query.search(user, q, filters, before, limit=limit)
        out += page.rows
        if page.next_before is None:
            return out
        before = page.next_before
    raise AssertionError("pagination does not end")


def _like(q: str) -> set[int]:
    """What ``LIKE '%word%'`` (every space-separated word) answers on the stored, masked texts."""
    words = q.split()
    # ASCII case ignored, as SQLite's LIKE does (the tokenizer lower-cases too)
    return {r.id for r in RecordText.objects.all() if all(w.lower() in r.text.lower() for w in words)}


def _like_parts(q: str) -> set[int]:
    """The documented answer for words with punctuation: each part (a run of letters and digits) as LIKE finds it
    in the normalised text."""
    from shijian.lake.fulltext.tokens import normalise, runs

    parts = runs(q)
    return {r.id for r in RecordText.objects.all() if all(p in normalise(r.text) for p in parts)}


def _found(user: Any, q: str) -> set[int]:
    return {r.id for r in _all(user, q)}


# -- 1. the answer is LIKE's ------------------------------------------------------------------------------------

OTHER = ["食品安全：后厨卫生良好", "罚款人民币三千元", "未发现违法违规行为"]


@pytest.mark.parametrize(
    "text, q",
    [
        ("消費者からのカタカナ苦情", "カタカナ"),  # Japanese kana
        ("한국어 민원 접수", "한국어"),  # Korean
        ("店名𠀀𠀁记号", "𠀀𠀁"),  # CJK Extension B
    ],
)
def test_a_word_in_any_script_answers_what_like_answers(world: Any, text: str, q: str) -> None:
    _put(world, [text, *OTHER])
    root = _root()
    assert _like(q) and _found(root, q) == _like(q), q


@pytest.mark.parametrize("q", ["😀", "！？", "😀 ！？"])
def test_a_query_of_emoji_or_punctuation_finds_nothing_and_says_so(world: Any, q: str) -> None:
    _put(world, ["顾客留言😀好评", "价格！？不明", *OTHER])
    page = query.search(_root(), q)
    assert page.unsearchable and page.rows == [], q


@pytest.mark.parametrize("q", ["カタカナ", "😀", "！？"])
def test_the_page_does_not_answer_an_unsearchable_word_with_every_record(world: Any, q: str) -> None:
    _put(world, ["消費者からのカタカナ苦情", "顾客留言😀好评", "价格！？不明", *OTHER])
    body = world.client("leader").get(reverse("record_search"), {"q": q}).content.decode()
    assert "后厨卫生良好" not in body and "三千元" not in body, q


@pytest.mark.parametrize(
    "q",
    [
        "510",  # part of the number 5100
        "2760",  # part of GB2760
        "gb27",
        "100元",  # digits + CJK, the digits part of a longer number
        "c公司",  # letter + CJK across the script boundary
    ],
)
def test_a_partial_latin_or_digit_word_is_found_as_like_finds_it(world: Any, q: str) -> None:
    _put(world, ["罚款5100元，依据gb2760-2014", "abc公司销售过期食品", *OTHER])
    root = _root()
    assert _like(q), q
    assert _found(root, q) == _like(q), q


@pytest.mark.parametrize(
    "q",
    [
        "5100元",  # digits + CJK: two independent terms, not a phrase
        "过期，食品",  # a word spanning punctuation in the text
        "-过期",  # FTS-style negation is just a character
        "过期食品 过期食品 过期食品 过期食品 过期食品 过期食品 过期食品 过期食品 啤酒",  # a 9th word
    ],
)
def test_a_word_with_punctuation_or_mixed_scripts_is_found_by_its_parts(world: Any, q: str) -> None:
    """A word's letters and digits, across scripts, are one phrase (LIKE's answer); its punctuation only separates
    parts, each of which must be found (documented: docs/lake.md)."""
    _put(world, ["罚款5100元，过期，食品", "罚款5100，另没收元宵；过期了的食品", "过期食品一批"])
    root = _root()
    assert _found(root, q) == _like_parts(q), q
    if not re.search(r"[^\w\s]", q):
        assert _found(root, q) == _like(q), q


SYNTAX = [
    '"',
    '"过期',
    "过期*",
    "*",
    "NEAR(过期 食品)",
    "过期 OR 食品",
    "过期 AND 食品",
    "NOT 过期",
    "tokens:过期",
    "tags:d440608",
    "^过期",
    "(过期",
    "过期)",
    "-",
    "'",
    "\\",
    "%",
    "_",
    "\x00过期",
    "过期 过期",  # a repeated word
    "品",  # a single character that ends the text
    "期",
    "ＮＥＡＲ（过期）",  # full-width syntax
    "'过期':* | '食品'",  # tsquery syntax
    "过期 & !食品",
    "过期 <-> 食品",
]


@pytest.mark.parametrize("q", SYNTAX)
def test_fts_syntax_in_a_query_is_text_not_an_error(world: Any, q: str) -> None:
    """Held: no exception and no error page, on either engine (terms are quoted tokens of [0-9a-z] and CJK)."""
    _put(world, ["过期食品", "食品过期", "near 过期 食品 or and not", *OTHER])
    _all(_root(), q)
    status = world.client("leader").get(reverse("record_search"), {"q": q}).status_code
    assert status == (400 if "\x00" in q else 200)  # a NUL is refused by the middleware, by design


@pytest.mark.parametrize("q", ["过期 OR 食品", "过期 AND 食品", "NOT 过期", "过期 过期", "品", "期", "near"])
def test_fts_words_in_a_query_answer_what_like_answers(world: Any, q: str) -> None:
    _put(world, ["过期食品", "食品过期", "near 过期 食品 or and not", *OTHER])
    assert _found(_root(), q) == _like(q), q


def test_a_query_longer_than_the_limit_is_refused_not_cut(world: Any) -> None:
    _put(world, ["x" * 97 + " 过期食品一批", "x" * 97 + " 过期酒类一批"])
    page = query.search(_root(), "x" * 97 + " 过期食品")  # 102 characters
    assert page.too_long and page.rows == []
    assert _found(_root(), "x" * 90 + " 过期食品") == _like("x" * 90 + " 过期食品")


def test_a_word_at_the_end_of_a_long_text_is_found_on_both_engines(world: Any) -> None:
    """PostgreSQL's tsvector keeps no positions here (the parts are checked on the text): nothing is lost late in a
    long text, where it keeps at most 256 positions of a lexeme and none past 16383."""
    repeated = "过期食品。" * 300 + "过期啤酒"
    long_text = "检" * 17000 + "查出过期啤酒"
    _put(world, [repeated, long_text])
    root = _root()
    missed = [q for q in ("过期啤酒", "查出过期") if _found(root, q) != _like(q)]
    assert not missed, (connection.vendor, missed)


# -- 2. jurisdiction and filters ---------------------------------------------------------------------------------


@pytest.mark.parametrize("before", ["²", "¹²³", "٣", "9" * 5000, "1" * 30])
def test_an_odd_before_cursor_is_not_an_error_page(world: Any, before: str) -> None:
    _put(world, ["过期食品"])
    r = world.client("leader").get(reverse("record_search"), {"q": "过期", "before": before})
    assert r.status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {"town": "440604001"},  # a town outside the user's region
        {"town": "440608004' OR 1=1"},
        {"source": 'x" OR tags : d440604'},
        {"record_type": "complaint OR k"},
        {"date_from": "2026-12-01", "date_to": "2026-01-01"},
        {"date_from": "0001-01-01", "date_to": "9999-12-31"},
        {"date_from": "2026-02-30"},
        {"date_from": "99999-01-01"},
        {"q": "过期", "before": "-1"},
        {"q": "过期" * 51},
    ],
)
def test_filters_never_leak_or_fail(world: Any, params: dict[str, str]) -> None:
    _put(world, ["过期食品 荷城"], who="hecheng")
    _put(world, ["过期食品 禅城"], who="chancheng", start=100)
    body = world.client("hecheng").get(reverse("record_search"), {"q": "过期", **params})
    assert body.status_code == 200
    assert "禅城" not in re.sub(r"<select.*?</select>", "", body.content.decode(), flags=re.S)


def test_query_search_with_odd_filters_neither_leaks_nor_fails(world: Any) -> None:
    _put(world, ["过期食品 荷城"], who="hecheng")
    _put(world, ["过期食品 禅城"], who="chancheng", start=100)
    clerk = world.users["hecheng"]
    for f in (
        query.Filters(town="440604001"),
        query.Filters(town="t440604001 OR d440604"),
        query.Filters(record_type="complaint) OR (tags : d440604"),
        query.Filters(source='") OR ("'),
        query.Filters(date_from=dt.date(1, 1, 1), date_to=dt.date(9999, 12, 31)),
    ):
        assert all(r.entity_id == world.entities["hecheng"].pk for r in _all(clerk, "过期", f)), f
    assert {r.entity_id for r in _all(world.users["outsider"], "过期")} == {world.entities["chancheng"].pk}


def test_a_count_agrees_with_the_rows_for_an_odd_town(world: Any) -> None:
    """SQLite: the FTS5 tag strips non-digits, the exact filter does not: "N records found" with none shown."""
    _put(world, ["过期食品"] * 3)
    page = query.search(_root(), "过期", query.Filters(town=world.entities["hecheng"].town_code + "x"))
    assert page.count == len(page.rows)


def test_city_superuser_regionless_and_roles(world: Any) -> None:
    from shijian.accounts.models import User

    _put(world, ["过期食品 荷城"], who="hecheng")
    _put(world, ["过期食品 杨和"], who="yanghe", start=50)
    _put(world, ["过期食品 禅城"], who="chancheng", start=100)
    city = User.objects.create_user("city", password="x", role="leader", region_code="4406")
    village = User.objects.create_user("vil", password="x", role="leader", region_code="440608004001")
    nobody = User.objects.create_user("nobody", password="x", role="leader", region_code="")
    odd = User.objects.create_user("odd", password="x", role="leader", region_code="44060")
    assert len(_all(city, "过期")) == 3 and len(_all(_root(), "过期")) == 3
    assert {r.entity_id for r in _all(village, "过期")} == {world.entities["hecheng"].pk}
    assert _all(nobody, "过期") == [] and _all(odd, "过期") == []
    assert _all(nobody, "") == [] and _all(odd, "") == []
    inactive = User.objects.create_user("gone", password="x", role="leader", region_code="440608", is_active=False)
    assert _all(inactive, "过期") == []


# -- 3. personal data ----------------------------------------------------------------------------------------------

MOBILE = re.compile(r"1[3-9][0-9]{9}")


@pytest.mark.parametrize(
    "text",
    [
        "投诉人电话：１３８１２３４５６７８，要求退款",  # full-width digits (IME full-width mode)
        "联系方式+8613812345678",  # country code without a space
        "联系方式8613812345678",
        "联系方式 0086 13812345678",  # held?
        "电话：138.1234.5678",
        "电话：138　1234　5678",  # ideographic spaces
        "电话：138\u00a01234\u00a05678",  # non-breaking spaces
        "电话：138  1234  5678",  # two spaces
        "电话：(138)1234-5678",
        "电话：138—1234—5678",  # em dash
        "电话：138－1234－5678",  # full-width hyphen
        "电话：1381234 5678",  # held?
    ],
)
def test_no_mobile_number_is_stored_shown_or_searchable(world: Any, text: str) -> None:
    _put(world, [text])
    (row,) = RecordText.objects.all()
    broken = []
    flat = re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", row.text))
    if MOBILE.search(flat):
        broken.append(f"stored as {row.text!r}")
    body = world.client("leader").get(reverse("record_search"), {"q": ""})  # the newest texts
    shown = re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", body.content.decode()))
    if "13812345678" in shown:
        broken.append("shown on the page")
    for q in ("13812345678", "8613812345678", "1234", "138 1234 5678"):
        if _all(_root(), q):
            broken.append(f"found by {q!r}")
    assert not broken, broken


# -- 4. pagination ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 7, 20, 50])
def test_pages_yield_every_match_once_newest_first(world: Any, limit: int) -> None:
    for k in range(3):
        day = DAY - dt.timedelta(days=k)
        _put(world, [f"过期食品第{n}批" for n in range(45)], day=day, start=0)
        _put(world, ["过期食品 禅城"] * 5, who="chancheng", day=day, start=45)
    clerk = world.users["hecheng"]
    rows = _all(clerk, "过期", limit=limit)
    ids = [r.id for r in rows]
    assert len(ids) == len(set(ids)) == 135
    assert ids == sorted(ids, reverse=True)
    rows = _all(clerk, "", limit=limit)
    assert len(rows) == len({r.id for r in rows}) == 135


def test_the_pages_of_the_view_walk_every_match(world: Any) -> None:
    _put(world, [f"过期食品第{n}批" for n in range(65)])
    c = world.client("leader")
    url, seen = reverse("record_search") + "?q=过期", []
    for _ in range(20):
        body = c.get(url).content.decode()
        seen += re.findall(r"食品第(\d+)批", body)
        more = re.search(r'href="(\?[^"]*before=\d+[^"]*)"', body)
        if not more:
            break
        url = reverse("record_search") + more.group(1).replace("&amp;", "&")
    assert sorted(map(int, seen)) == list(range(65)) and len(seen) == len(set(seen))


# -- 5. builds -------------------------------------------------------------------------------------------------

MAPPING = """[feed]
files = ["*.csv"]
source = "{source}"
entity_keys = ["uscc"]
[columns]
record_id = ["编号"]
uscc = ["统一社会信用代码"]
record_type = ["类型"]
event_date = ["日期"]
detail = ["内容"]
"""


def _deliver(tmp: Path, lake: Any, source: str, rows: list[tuple[str, str, str, str, str]]) -> None:
    from shijian.ingest.mapping import load_mappings
    from shijian.ingest.pipeline import ingest, summary

    maps, feed = tmp / f"maps-{source}", tmp / f"feed-{source}"
    maps.mkdir()
    feed.mkdir()
    (maps / "m.toml").write_text(MAPPING.format(source=source), encoding="utf-8")
    lines = ["编号,统一社会信用代码,类型,日期,内容"] + [",".join(r) for r in rows]
    (feed / "d.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert summary(ingest([feed], load_mappings(maps), lake, workers=1))["accepted"] == len(rows)


@pytest.fixture
def small_lake(world: Any, tmp_path: Path, settings: Any) -> Any:
    from shijian.lake.store import Lake

    lake = Lake(tmp_path / "lake")
    settings.SHIJIAN_LAKE = lake.root
    return lake


def test_a_text_dated_before_1970_does_not_break_the_build(world: Any, small_lake: Any, tmp_path: Path) -> None:
    """Ids begin with the date's ordinal (positive from the year 1): a 1900-01-01 placeholder is a date like any."""
    from shijian.lake.build import run_build

    e = world.entities["hecheng"]
    _deliver(tmp_path, small_lake, "440608-OLD", [("O1", e.uscc, "complaint", "1900-01-01", "陈年旧案过期食品")])
    run_build(small_lake, threads=2)
    assert [r.record_id for r in _all(_root(), "陈年旧案")] == ["O1"]


def test_incremental_builds_keep_the_index_as_a_full_build(world: Any, small_lake: Any, tmp_path: Path) -> None:
    from shijian.lake.build import run_build
    from shijian.lake.incremental import run_incremental

    e, f = world.entities["hecheng"], world.entities["yanghe"]
    _deliver(tmp_path, small_lake, "440608-A", [("A1", e.uscc, "complaint", "2026-11-01", "第一批过期食品")])
    run_build(small_lake, threads=2)
    _deliver(
        tmp_path,
        small_lake,
        "440608-B",
        [(f"B{i}", (e, f)[i % 2].uscc, "complaint", "2026-11-01", f"第二批过期食品{i}号") for i in range(30)],
    )
    run_incremental(small_lake, threads=2)
    _deliver(tmp_path, small_lake, "440608-C", [("C1", f.uscc, "penalty", "2026-11-01", "第三批过期食品")])
    run_incremental(small_lake, threads=2)

    def state() -> tuple[list[tuple[Any, ...]], list[str]]:
        rows = sorted(RecordText.objects.values_list("source", "record_id", "town_code", "text"))
        return rows, sorted(r.record_id for r in _all(_root(), "过期食品"))

    inc = state()
    assert len(inc[1]) == 32 and len(set(RecordText.objects.values_list("id", flat=True))) == 32
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute("SELECT rowid FROM lake_recordtext_fts")
            assert {r[0] for r in cur.fetchall()} == set(RecordText.objects.values_list("id", flat=True))
    run_build(small_lake, threads=2)
    assert state() == inc


def test_a_phrase_after_16383_tokens_is_found(world: Any) -> None:
    """A phrase after 100,000 characters is found on both engines."""
    import random

    rnd = random.Random(7)
    text = "".join(chr(rnd.randrange(0x4E00, 0x4E00 + 3000)) for _ in range(100_000)) + "结尾过期啤酒"
    _put(world, [text])
    assert _found(_root(), "结尾过期") == _like("结尾过期")
