"""Ingest of deliberately bad files: clear messages, nothing lost, nothing counted twice."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

import duckdb
import pytest

from shijian.core.codes.uscc import make
from shijian.ingest.mapping import MappingError, load_mappings, parse_mapping
from shijian.ingest.pipeline import LoadReport, ingest, summary
from shijian.lake.store import Lake

MAPPING = """
[feed]
name = "test penalties"
files = ["*.csv", "*.xlsx", "*.txt"]
source = "test-penalties"
encoding = "auto"
record_type = "penalty"
amount_unit = "yuan"

[columns]
record_id = ["决定书文号"]
uscc = ["统一社会信用代码"]
name = ["当事人名称"]
address = ["住所"]
event_date = ["决定日期"]
amount = ["罚款金额"]
detail = ["违法事实"]
"""
HEADER = "决定书文号,统一社会信用代码,当事人名称,住所,决定日期,罚款金额,违法事实\n"
GOOD = make("91", "440608", "MA000001")
GOOD2 = make("92", "440608", "MA000002")
BAD = GOOD[:-1] + ("0" if GOOD[-1] != "0" else "1")


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path, Lake]:
    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / "test.toml").write_text(MAPPING, encoding="utf-8")
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    return maps, feeds, Lake(tmp_path / "lake")


def _run(lake: Lake, maps: Path, *paths: Path) -> list[LoadReport]:
    reports = ingest(list(paths), load_mappings(maps), lake, workers=1)
    for r in reports:
        if r.status == "loaded":
            assert r.reconciles, r
    return reports


def _records(lake: Lake) -> list[tuple[Any, ...]]:
    con = duckdb.connect()
    return con.execute(
        f"SELECT record_id, uscc, uscc_invalid, name, event_date::VARCHAR, amount, line "
        f"FROM read_parquet('{lake.records_glob()}', hive_partitioning = true) ORDER BY line"
    ).fetchall()


def _quarantine(lake: Lake) -> list[tuple[Any, ...]]:
    con = duckdb.connect()
    return con.execute(
        f"SELECT line, reason, raw FROM read_parquet('{lake.quarantine_glob()}') ORDER BY line"
    ).fetchall()


def test_a_clean_gb18030_file_loads_with_cleaning(setup: tuple[Path, Path, Lake]) -> None:
    maps, feeds, lake = setup
    f = feeds / "p.csv"
    text = (
        HEADER + f'佛高市监罚〔2024〕1号,{GOOD},佛山市华盛（高明）有限公司,人民路1号,2024年3月5日,"12,000元",无证经营\n'
    )
    f.write_bytes(text.replace("1号,", "１号,", 1).encode("gb18030"))
    [r] = _run(lake, maps, f)
    assert r.status == "loaded" and r.encoding == "gb18030" and (r.rows_read, r.accepted) == (1, 1)
    [(rid, code, invalid, name, date, amount, line)] = _records(lake)
    assert rid == "佛高市监罚〔2024〕1号" and code == GOOD and not invalid
    assert name == "佛山市华盛(高明)有限公司" and date == "2024-03-05" and amount == pytest.approx(1.2) and line == 2


def test_wrong_encoding_is_rejected_with_a_message(setup: tuple[Path, Path, Lake], tmp_path: Path) -> None:
    maps, feeds, lake = setup
    utf8_only = tmp_path / "maps2"
    utf8_only.mkdir()
    (utf8_only / "t.toml").write_text(MAPPING.replace('encoding = "auto"', 'encoding = "utf-8"'), encoding="utf-8")
    f = feeds / "gbk.csv"
    f.write_bytes((HEADER + f"a,{GOOD},名称,地址,2024-01-01,1,x\n").encode("gb18030"))
    [r] = _run(lake, utf8_only, f)
    assert r.status == "rejected" and "utf-8" in r.message
    g = feeds / "noise.csv"
    g.write_bytes(b"\xff\xfe\xfa\x80\x81" * 100)
    [r] = _run(lake, maps, g)
    assert r.status == "rejected" and "neither UTF-8 nor GB18030" in r.message
    assert not lake.has_records()


def test_bad_rows_are_quarantined_with_line_and_reason(setup: tuple[Path, Path, Lake]) -> None:
    maps, feeds, lake = setup
    rows = [
        f"r1,{GOOD},甲公司,甲地址,2024-01-01,100,x",  # line 2: fine
        f"r2,{GOOD},乙公司,乙地址,2024-01-01",  # line 3: truncated
        f"r3,{GOOD},丙公司,丙地址,2024-13-45,100,x",  # line 4: bad date
        f"r4,{BAD},,,2024-01-01,100,x",  # line 5: invalid USCC and no other key
        f"r5,{BAD},戊公司,戊地址,2024-01-02,100,x",  # line 6: invalid USCC, linkable by name + address: kept
        f"r6,{GOOD2},己公司,己地址,2024-01-03,很多,x",  # line 7: unreadable amount
        f"r1,{GOOD},甲公司,甲地址,2024-01-01,100,x",  # line 8: duplicate of line 2
        f"r8,{GOOD2},庚公司,庚地址,2024-01-04,100,x,extra",  # line 9: too many cells
    ]
    f = feeds / "mixed.csv"
    f.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    [r] = _run(lake, maps, f)
    assert (r.rows_read, r.accepted, r.quarantined, r.duplicates) == (8, 2, 5, 1)
    assert r.kept_with_invalid_uscc == 1
    q = {line: reason for line, reason, _raw in _quarantine(lake)}
    assert set(q) == {3, 4, 5, 7, 9}
    assert "MISSING COLUMNS" in q[3] and "TOO MANY COLUMNS" in q[9]
    assert q[4] == "unreadable date 2024-13-45"
    assert q[5].startswith("invalid USCC") and "no other entity key" in q[5]
    assert q[7] == "unreadable amount 很多"
    raw5 = next(raw for line, _r, raw in _quarantine(lake) if line == 5)
    assert "r4" in raw5  # the row as delivered is kept
    recs = _records(lake)
    assert [(x[0], x[-1]) for x in recs] == [("r1", 2), ("r5", 6)]
    assert recs[1][1] is None and recs[1][2] is True  # invalid code kept aside, flagged


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("zero.csv", b"", "0 bytes"),
        ("blank.csv", b"  \n\n", "blank"),
        ("unknown.csv", (HEADER.strip() + ",备注说明\n").encode(), "unknown columns ['备注说明']"),
        ("nokey.csv", "决定书文号,当事人名称\nx,y\n".encode(), "required columns missing"),
        ("dup-header.csv", "决定日期,决定日期\n1,2\n".encode(), "repeated"),
        ("cr-in-header.csv", "决定日期\r当事人名称\n1\n".encode(), "cannot be read as CSV"),
    ],
)
def test_unreadable_files_are_rejected_whole(
    setup: tuple[Path, Path, Lake], name: str, data: bytes, words: str
) -> None:
    maps, feeds, lake = setup
    f = feeds / name
    f.write_bytes(data)
    [r] = _run(lake, maps, f)
    assert r.status == "rejected" and words in r.message, r.message
    assert not lake.has_records()


def test_a_header_only_file_loads_nothing_and_says_so(setup: tuple[Path, Path, Lake]) -> None:
    maps, feeds, lake = setup
    f = feeds / "header.csv"
    f.write_text(HEADER, encoding="utf-8")
    [r] = _run(lake, maps, f)
    assert r.status == "loaded" and r.rows_read == 0 and r.accepted == 0


def test_re_running_the_same_file_adds_nothing(setup: tuple[Path, Path, Lake], tmp_path: Path) -> None:
    maps, feeds, lake = setup
    f = feeds / "p.csv"
    f.write_text(HEADER + f"r1,{GOOD},甲,甲地址,2024-01-01,1,x\n", encoding="utf-8")
    [first] = _run(lake, maps, f)
    copy = tmp_path / "renamed.csv"
    copy.write_bytes(f.read_bytes())
    [again] = _run(lake, maps, f)
    [renamed] = _run(lake, maps, copy)
    assert first.status == "loaded" and again.status == "already_loaded" and renamed.status == "already_loaded"
    assert len(_records(lake)) == 1


def test_identical_files_in_one_run_load_once_and_files_of_other_sizes_all_load(setup: tuple[Path, Path, Lake]) -> None:
    maps, feeds, lake = setup
    body = HEADER + f"r1,{GOOD},甲,甲地址,2024-01-01,1,x\n"
    (feeds / "a.csv").write_text(body, encoding="utf-8")
    (feeds / "b.csv").write_text(body, encoding="utf-8")  # a twin: same size, same content
    (feeds / "c.csv").write_text(body.replace("r1", "r2"), encoding="utf-8")  # same size, other content
    (feeds / "d.csv").write_text(body.replace("r1", "r33"), encoding="utf-8")  # a size of its own
    reports = ingest([feeds], load_mappings(maps), lake, workers=2)
    status = {Path(r.file).name: r.status for r in reports}
    assert status == {"a.csv": "loaded", "b.csv": "already_loaded", "c.csv": "loaded", "d.csv": "loaded"}
    assert all(len(r.sha256) == 64 for r in reports)
    assert len(_records(lake)) == 3


def test_duplicates_across_loads_are_dropped_when_the_mapping_says_so(setup: tuple[Path, Path, Lake]) -> None:
    maps, feeds, lake = setup
    (feeds / "m1.csv").write_text(HEADER + f"r1,{GOOD},甲,甲地址,2024-01-01,1,x\n", encoding="utf-8")
    (feeds / "m2.csv").write_text(
        HEADER + f"r1,{GOOD},甲,甲地址,2024-01-01,1,x\nr2,{GOOD},甲,甲地址,2024-02-01,1,y\n", encoding="utf-8"
    )
    _run(lake, maps, feeds / "m1.csv")
    [r] = _run(lake, maps, feeds / "m2.csv")
    assert (r.rows_read, r.accepted, r.duplicates) == (2, 1, 1)
    assert sorted(x[0] for x in _records(lake)) == ["r1", "r2"]


def test_a_crash_mid_load_leaves_nothing_half_written(
    setup: tuple[Path, Path, Lake], monkeypatch: pytest.MonkeyPatch
) -> None:
    maps, feeds, lake = setup
    f = feeds / "p.csv"
    f.write_text(HEADER + f"r1,{GOOD},甲,甲地址,2024-01-01,1,x\n", encoding="utf-8")

    def boom(*args: object, **kwargs: object) -> NoReturn:
        raise OSError("disk full")

    monkeypatch.setattr(Lake, "commit", boom)  # the class pipeline writes with
    with pytest.raises(OSError):
        ingest([f], load_mappings(maps), lake, workers=1)
    assert not lake.has_records() and not any(lake.staging.iterdir())
    monkeypatch.undo()
    [r] = _run(lake, maps, f)  # and the retry loads it once
    assert r.status == "loaded" and len(_records(lake)) == 1


def test_an_excel_feed_loads_with_line_numbers(setup: tuple[Path, Path, Lake]) -> None:
    from openpyxl import Workbook

    maps, feeds, lake = setup
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER.strip().split(","))
    ws.append(["r1", GOOD, "甲", "甲地址", "2024-01-01", "100", "x"])
    ws.append([None] * 7)
    ws.append(["r2", GOOD2, "乙", "乙地址", "2024/02/03", 5, "y"])
    wb.save(feeds / "p.xlsx")
    [r] = _run(lake, maps, feeds / "p.xlsx")
    assert (r.status, r.rows_read, r.accepted) == ("loaded", 2, 2)
    assert [(x[0], x[4], x[6]) for x in _records(lake)] == [("r1", "2024-01-01", 2), ("r2", "2024-02-03", 4)]


def test_files_without_a_mapping_are_skipped_in_directories_and_rejected_by_name(
    setup: tuple[Path, Path, Lake],
) -> None:
    maps, feeds, lake = setup
    other = feeds / "notes.txt.bak"
    other.write_text("x")
    (feeds / "sub").mkdir()
    stray = feeds / "sub" / "a.xlsx.tmp"
    stray.write_text("x")
    reports = _run(lake, maps, feeds)
    assert all(r.status != "rejected" for r in reports)


def test_mapping_files_are_checked() -> None:
    with pytest.raises(MappingError, match="unknown canonical fields"):
        parse_mapping('[feed]\nfiles = ["*.csv"]\nrecord_type = "penalty"\n[columns]\ncolour = ["颜色"]\n', "m.toml")
    with pytest.raises(MappingError, match="unknown record types"):
        parse_mapping('[feed]\nfiles = ["*.csv"]\nrecord_type = "party"\n', "m.toml")
    with pytest.raises(MappingError, match="not valid TOML"):
        parse_mapping("[feed\n", "m.toml")
    with pytest.raises(MappingError, match="record_type"):
        parse_mapping('[feed]\nfiles = ["*.csv"]\n', "m.toml")


def test_the_synthetic_district_ingests_and_reconciles(tmp_path: Path) -> None:
    from shijian.synth.generator import generate, resolve_scale

    out = tmp_path / "d"
    manifest: dict[str, Any] = generate(resolve_scale("800", records=20_000), 5, out)
    lake = Lake(tmp_path / "lake")
    reports = ingest([out], load_mappings(), lake, workers=2)
    totals = summary(reports)
    assert totals["reconciles"] and totals["rejected"] == 0
    assert totals["accepted"] == manifest["feeds"]["records"] == 20_000  # every generated record, once
    assert totals["duplicates"] == totals["rows_read"] - 20_000
    assert totals["skipped"] == 8  # the register and the lists are not departmental feeds


def test_the_cli_prints_reconciled_counts_and_fails_on_rejected_files(
    setup: tuple[Path, Path, Lake], tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from shijian.cli import app

    maps, feeds, lake = setup
    (feeds / "ok.csv").write_text(HEADER + f"r1,{GOOD},甲,甲地址,2024-01-01,1,x\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["ingest", str(feeds), "--mapping", str(maps), "--lake", str(lake.root)])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert "(reconciles)" in flat and "1 loaded" in flat
    (feeds / "zero.csv").write_bytes(b"")
    result = CliRunner().invoke(
        app, ["ingest", str(feeds / "zero.csv"), "--mapping", str(maps), "--lake", str(lake.root)]
    )
    assert result.exit_code == 1 and "0 bytes" in " ".join(result.output.split())
    result = CliRunner().invoke(app, ["ingest", str(tmp_path / "missing.csv"), "--lake", str(lake.root)])
    assert result.exit_code == 2 and "no such file" in result.output


def test_full_width_detection_sees_characters_across_read_boundaries(tmp_path: Path) -> None:
    from shijian.ingest.clean import has_fullwidth

    f = tmp_path / "f.csv"
    f.write_bytes(b"a" * 9 + "（".encode())  # the character's bytes straddle the 10-byte chunks
    assert has_fullwidth(f, chunk=10)
    f.write_bytes("佛山市人民路1号, 甲公司".encode() * 50)
    assert not has_fullwidth(f, chunk=10)
    f.write_bytes(b"x" * 25 + "\u3000".encode())
    assert has_fullwidth(f, chunk=10)


def test_a_file_without_full_width_text_is_trimmed_and_duplicates_are_judged_on_clean_content(
    setup: tuple[Path, Path, Lake],
) -> None:
    maps, feeds, lake = setup
    rows = [
        f"r1,{GOOD}, 甲公司 ,甲地址,2024-01-01,100,x",  # line 2
        f"r1,{GOOD},甲公司,甲地址,2024年1月1日,100,x",  # line 3: the same record once cleaned
        f"r1,{GOOD},甲公司,甲地址,2024-01-02,100,x",  # line 4: another date, not a duplicate
    ]
    f = feeds / "plain.csv"
    f.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    [r] = _run(lake, maps, f)
    assert (r.rows_read, r.accepted, r.quarantined, r.duplicates) == (3, 2, 0, 1)
    assert [(x[3], x[4], x[-1]) for x in _records(lake)] == [("甲公司", "2024-01-01", 2), ("甲公司", "2024-01-02", 4)]
