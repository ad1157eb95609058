"""The native fast path of ingest (``fast.py`` + ``_fastcsv.c``) against the SQL reference path: the same records,
the same quarantine, the same counts, on deliberately messy files; and a hand-over (with its reason) wherever the
native path is not sure to follow the reference rules."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest

from shijian.core.codes.uscc import make
from shijian.ingest import fast
from shijian.ingest.mapping import load_mappings
from shijian.ingest.pipeline import LoadReport, ingest
from shijian.lake.store import Lake

pytestmark = pytest.mark.skipif(not fast.available(), reason="the native reader is not built (no C compiler)")


def _native() -> Any:
    """The C extension (``_fastcsv``) as fast.py holds it now; untyped, and an import of fast's, not re-exported."""
    return fast._fastcsv  # type: ignore[attr-defined]


MAPPING = """
[feed]
name = "messy test feed"
files = ["*.csv"]
source = "{source}"
encoding = "auto"
date_formats = ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日", "%Y.%m.%d"]
amount_unit = "{unit}"
entity_keys = ["uscc", "reg_no", "name_address"]
dedupe_across_loads = {across}

[columns]
record_id = ["编号"]
uscc = ["统一社会信用代码"]
reg_no = ["注册号"]
name = ["企业名称"]
address = ["住所"]
record_type = ["类别"]
event_date = ["日期"]
amount = ["金额"]
result = ["结果"]
detail = ["内容"]

[record_types]
"检查结果" = "inspection"
"行政处罚" = "penalty"
"""
HEADER = ["编号", "统一社会信用代码", "注册号", "企业名称", "住所", "类别", "日期", "金额", "结果", "内容"]
USCCS = [make("91", "440608", f"MA{i:06d}") for i in range(40)]


def _messy_rows(seed: int, n: int) -> list[list[str]]:
    rnd = random.Random(seed)
    names = [
        "佛山市高明区华㘵五金厂",
        "佛山市荣兴餐饮有限公司",
        "ＡＢＣ贸易（佛山）有限公司",
        "佛山 宏达 电器",
        "𠀀记茶楼",
    ]
    dates = ["2019-09-01", "2019/9/1", "20190901", "2019年9月1日", "2019.09.01", "2019-9-1", " 2021-03-04 ",
             "2019-02-30", "2019-13-01", "２０２０－０１－０２", "2020-01-02.0", "20200102.0", "2021", "",
             "昨天"]  # fmt: skip
    amounts = ["", "12", "12.5万元", "1,200元", "3万", "0.5", "约12万元", "12元万元", "-3", "+4.25", ".5", "5.",
               "１２", "abc", "万元", "1,2,3"]  # fmt: skip
    types = ["检查结果", "行政处罚", "inspection", "complaint", "", "未知类型", " 行政处罚 "]

    def pick(values: list[str], good: int) -> str:  # mostly one of the first ``good`` (readable) values
        return rnd.choice(values[:good]) if rnd.random() < 0.85 else rnd.choice(values)

    rows = []
    for i in range(n):
        u = rnd.choice(USCCS)
        uscc = pick([u, u.lower(), " " + u, "９１" + u[2:], u + "\u3000", u[:-1] + "0", "", "N/A"], 5)
        rows.append(
            [
                rnd.choice([f"R{i}", f"{i}.0", f" R{i} ", f"Ｒ{i}"]),
                uscc,
                rnd.choice(["", "440608600123456", "440608600123456.0", "４４０６０８"]),
                rnd.choice([*names, ""]),
                rnd.choice(["广东省佛山市高明区荷城街道1号", "", "\u3000沧江路２号\u3000", "三洲\u00a0村 "]),
                pick(types, 3),
                pick(dates, 7),
                pick(amounts, 7),
                rnd.choice(["合格", "不合格", 'say "ok"', "line\nbreak", ""]),
                rnd.choice(["", "内容,含逗号", "  空格  ", "ｆｕｌｌ"]),
            ]
        )
    rows += [list(r) for r in rows[: n // 10]]  # exact duplicates
    twin = list(rows[0])
    twin[6] = "2019/9/1" if twin[6] == "2019-09-01" else twin[6]
    rows.append(twin)
    return rows


def _csv(rows: list[list[str]], newline: str = "\n") -> str:
    def cell(v: str) -> str:
        return '"' + v.replace('"', '""') + '"' if any(c in v for c in ',"\n') or not v or random.random() < 0.5 else v

    return newline.join(",".join(cell(v) for v in r) for r in [HEADER, *rows]) + newline


def _ingest_both(
    tmp_path: Path, name: str, data: bytes, unit: str = "wan", across: str = "false"
) -> dict[str, tuple[LoadReport, Path]]:
    out = {}
    for engine in ("native", "sql"):
        root = tmp_path / engine
        maps = root / "maps"
        maps.mkdir(parents=True, exist_ok=True)
        (maps / "m.toml").write_text(MAPPING.format(source="messy", unit=unit, across=across), encoding="utf-8")
        f = root / "feeds" / name
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(data)
        saved = _native()
        if engine == "sql":
            fast._fastcsv = None  # type: ignore[attr-defined]  # (see _native)
        try:
            [report] = ingest([f], load_mappings(maps), fast_lake(root), workers=1)
        finally:
            fast._fastcsv = saved  # type: ignore[attr-defined]  # (see _native)
        out[engine] = (report, root)
    return out


def fast_lake(root: Path) -> Lake:
    return Lake(root / "lake")


COLS = (
    "record_id, uscc, uscc_raw, uscc_invalid, reg_no, licence_no, entity_ref, name, address, record_type, "
    "event_date, amount, result, detail, extra, line"
)


def _tables(root: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    con = duckdb.connect()
    lake = root / "lake" / "records"
    if not list(lake.glob("**/records.parquet")):
        return [], []
    records = con.execute(f"SELECT {COLS} FROM read_parquet('{lake}/**/records.parquet') ORDER BY ALL").fetchall()
    quarantine = [
        (line, reason, json.loads(raw) if raw.startswith("{") else raw)  # malformed rows: the text
        for line, reason, raw in con.execute(
            f"SELECT line, reason, raw FROM read_parquet('{lake}/**/quarantine.parquet') ORDER BY ALL"
        ).fetchall()
    ]
    return records, quarantine


def _same(both: dict[str, tuple[LoadReport, Path]]) -> LoadReport:
    native, n_root = both["native"]
    sql, s_root = both["sql"]
    assert sql.engine == "sql"
    for field in ("status", "rows_read", "accepted", "quarantined", "duplicates", "kept_with_invalid_uscc", "reasons"):
        assert getattr(native, field) == getattr(sql, field), field
    n_rec, n_q = _tables(n_root)
    s_rec, s_q = _tables(s_root)
    assert len(n_rec) == len(s_rec)
    for a, b in zip(n_rec, s_rec, strict=True):
        assert a == b
    assert n_q == s_q
    return native


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8", "utf-8-sig"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_messy_files_give_the_same_records_quarantine_and_counts_on_both_paths(
    tmp_path: Path, encoding: str, newline: str
) -> None:
    random.seed(7)
    rows = _messy_rows(11, 1500)
    both = _ingest_both(tmp_path, "a.csv", _csv(rows, newline).encode(encoding))
    native = _same(both)
    assert native.engine == "native", native.fallback
    # the messiness is really there: rejects of every kind, duplicates, invalid USCCs kept
    assert native.quarantined > 100 and native.duplicates > 100 and native.kept_with_invalid_uscc > 10
    assert {"unreadable date", "unreadable amount", "unknown record type"} <= set(native.reasons)


def test_amounts_in_yuan_and_a_fixed_point_of_comparison(tmp_path: Path) -> None:
    rows = _messy_rows(3, 400)
    native = _same(_ingest_both(tmp_path, "b.csv", _csv(rows).encode("utf-8"), unit="yuan"))
    assert native.engine == "native"


def test_duplicates_of_earlier_loads_are_found_on_both_paths(tmp_path: Path) -> None:
    rows = _messy_rows(5, 300)
    for engine in ("native", "sql"):
        (tmp_path / engine).mkdir()
    first = _ingest_both(tmp_path, "one.csv", _csv(rows[:200]).encode("gb18030"), across="true")
    _same(first)
    second = _ingest_both(tmp_path, "two.csv", _csv(rows[100:]).encode("gb18030"), across="true")
    native = _same(second)
    assert native.engine == "native" and native.duplicates >= 80  # rows 100-199 again, less the rejected ones


H = ",".join(HEADER) + "\n"
ROW = "R1,{u},,甲,乙,检查结果,2024-01-02,{amount},合格,{tail}"


@pytest.mark.parametrize(
    ("name", "data", "why"),
    [
        ("blank.csv", H + ROW + "\n\n" + ROW + "\n", "blank line"),
        ("short.csv", H + ROW.rsplit(",", 1)[0] + "\n", "too few cells"),
        ("long.csv", H + ROW + ",多\n", "too many cells"),
        ("quote.csv", H + ROW.replace("{tail}", '"{tail}') + "\n", "unterminated quote"),
        ("exp.csv", H + ROW.replace("{amount}", "1e3") + "\n", "amount"),
        ("upper.csv", H + ROW.replace("{u}", "ß{u}") + "\n", "upper()"),
    ],
)
def test_what_the_native_path_is_not_sure_of_goes_to_the_reference_path(
    tmp_path: Path, name: str, data: str, why: str
) -> None:
    both = _ingest_both(tmp_path, name, data.format(u=USCCS[0], amount="1", tail="x").encode("utf-8"))
    native, _root = both["native"]
    assert native.engine == "sql" and why in native.fallback
    _same(both)


def test_the_gb18030_tables_agree_with_iconv() -> None:
    if not shutil.which("iconv"):
        pytest.skip("no iconv on this machine")
    raw = np.frombuffer(fast._gb_table(), np.uint16)
    two, four = raw[: 126 * 191], raw[126 * 191 :]
    codes, expected = [], []
    for i in np.flatnonzero(two):
        lead, trail = divmod(int(i), 191)
        codes.append(bytes((0x81 + lead, 0x40 + trail)))
        expected.append(chr(int(two[i])))
    for lin in np.flatnonzero(four):
        b1, r = divmod(int(lin), 12600)
        b2, r = divmod(r, 1260)
        b3, b4 = divmod(r, 10)
        codes.append(bytes((0x81 + b1, 0x30 + b2, 0x81 + b3, 0x30 + b4)))
        expected.append(chr(int(four[lin])))
    assert len(codes) > 50_000  # GBK, 21,886 two-byte codes, and the four-byte BMP ones
    out = subprocess.run(
        ["iconv", "-f", "GB18030", "-t", "UTF-8"], input=b"\n".join(codes), capture_output=True, check=True
    ).stdout.decode("utf-8")
    assert out.split("\n") == expected


def test_dates_follow_duckdbs_strptime() -> None:
    rnd = random.Random(1)
    formats = ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日", "%Y.%m.%d", "%Y"]
    alphabet = "0123456789-/.年月日 \t"
    samples = ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 12))) for _ in range(4000)]
    samples += [f"{rnd.randint(0, 12000)}-{rnd.randint(0, 13)}-{rnd.randint(0, 32)}" for _ in range(3000)]
    samples += [f"{rnd.randint(1990, 2030)}{rnd.randint(1, 12):02d}{rnd.randint(1, 31)}" for _ in range(1000)]
    samples += ["2000-02-29", "1900-02-29", "0000-01-01", " 2019-09-01 ", "2019-09-01x", "19-9-1"]
    import pyarrow as pa

    arr = pa.array(samples, pa.string())
    offsets, data = arr.buffers()[1], arr.buffers()[2]
    con = duckdb.connect()
    for fmt in formats:
        days, ok = _native().dates(offsets, data, [fmt])
        days = np.frombuffer(days, np.int32)
        ok = np.frombuffer(ok, np.uint8).astype(bool)
        want = con.execute(
            "SELECT (try_strptime(s, ?)::DATE - DATE '1970-01-01') FROM unnest(?) t(s)", [fmt, samples]
        ).fetchall()
        for s, d, k, (w,) in zip(samples, days, ok, want, strict=True):
            assert (int(d) if k else None) == w, (fmt, s)


def test_amounts_follow_the_sql_cast_or_hand_over() -> None:
    import pyarrow as pa

    samples = ["12", "12.5万元", "1,200元", "3万", "-3", "+4.25", ".5", "5.", "abc", "万元", "12元万元", "约12万元",
               "1,2,3", "00012", "-", ".", "1e3", "inf", " 12", "12 ", "1_000", "0x10", "١٢"]  # fmt: skip
    arr = pa.array(samples, pa.string())
    vals, status = _native().amounts(arr.buffers()[1], arr.buffers()[2], 1.0)
    vals, status = np.frombuffer(vals, np.float64), np.frombuffer(status, np.uint8)
    con = duckdb.connect()
    for s, v, st in zip(samples, vals, status, strict=True):
        row = con.execute(
            "SELECT CASE WHEN suffix(a, '万元') OR suffix(a, '万') THEN "
            "TRY_CAST(replace(rtrim(a, '万元'), ',', '') AS DOUBLE) WHEN suffix(a, '元') THEN "
            "TRY_CAST(replace(rtrim(a, '万元'), ',', '') AS DOUBLE) / 10000 "
            "ELSE TRY_CAST(replace(a, ',', '') AS DOUBLE) END FROM (SELECT ?::VARCHAR AS a)",
            [s],
        ).fetchone()
        assert row is not None
        (want,) = row
        if st == 3:
            continue  # handed over: the reference path decides
        assert (float(v) if st == 1 else None) == want, s
    assert int((status == 3).sum()) >= 4  # 1e3, inf, " 12", 1_000 ...


def test_amounts_are_read_to_the_same_double_as_strtod() -> None:
    """Up to 15 digits the reader divides exact integers; beyond, strtod: either way the correctly rounded value."""
    import pyarrow as pa

    rnd = random.Random(5)
    samples = []
    for _ in range(20_000):
        digits = "".join(rnd.choice("0123456789") for _ in range(rnd.randint(1, 19)))
        cut = rnd.randint(0, len(digits))
        samples.append(rnd.choice(["", "-", "+"]) + digits[:cut] + rnd.choice([".", ""]) + digits[cut:])
    arr = pa.array(samples, pa.string())
    vals, status = _native().amounts(arr.buffers()[1], arr.buffers()[2], 1.0)
    vals, status = np.frombuffer(vals, np.float64), np.frombuffer(status, np.uint8)
    assert (status == 1).all()
    assert vals.tolist() == [float(x) + 0.0 for x in samples]


def test_repeated_hashes_are_the_rows_a_sort_would_find() -> None:
    rnd = np.random.default_rng(7)
    hashes = rnd.integers(0, 50_000, 200_000, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    hashes[::1000] = 0  # a zero hash is a hash like any other
    rows = np.flatnonzero(rnd.random(200_000) < 0.9).astype(np.int64)
    _u, inverse, counts = np.unique(hashes[rows], return_inverse=True, return_counts=True)
    want = rows[counts[inverse] > 1]
    got = np.frombuffer(_native().repeated(hashes, rows), np.int64)
    assert got.tolist() == want.tolist()
    assert np.frombuffer(_native().repeated(hashes, np.zeros(0, np.int64)), np.int64).size == 0
    with pytest.raises(IndexError):
        _native().repeated(hashes[:10], np.array([10], np.int64))


def test_the_uscc_check_is_the_reference_one() -> None:
    from shijian.ingest.uscc_vec import valid_array

    rnd = random.Random(3)
    codes = [make("91", "440608", f"MA{rnd.randint(0, 999999):06d}") for _ in range(500)]
    codes += [c[:-1] + rnd.choice("0123456789ABCDEFGHJKLMNPQRTUWXYIOZSV") for c in codes]
    codes += ["", "9144060", "91440608MA0000001X1", "91 440608MA000001X"]
    text = "\n".join(f"R{i},{c},甲,乙,检查结果" for i, c in enumerate(codes))
    data = ("编号,统一社会信用代码,企业名称,住所,类别\n" + text + "\n").encode()
    flags = [0, fast.FLAG_USCC | fast.FLAG_UPPER, *([0] * 10)]
    parsed = _native().parse(data, False, 5, [0, 1, 5, 6, 7], flags, 12)
    import pyarrow as pa

    ok = np.frombuffer(parsed["uscc_ok"], np.uint8).astype(bool)
    assert ok.tolist() == valid_array(pa.array(codes)).tolist()
    assert 400 < ok.sum() < len(codes)


def _column(values: list[str]) -> tuple[bytearray, bytearray]:
    data = "".join(values).encode()
    offsets = np.cumsum([0] + [len(v.encode()) for v in values]).astype(np.int32)
    return bytearray(offsets.tobytes()), bytearray(data)


@pytest.mark.parametrize("seed", range(6))
def test_compaction_in_place_keeps_exactly_the_kept_rows(seed: int) -> None:
    rnd = random.Random(seed)
    values = [rnd.choice(["", "a", "佛山", "ＡＢ", "x" * rnd.randint(0, 40)]) for _ in range(rnd.randint(0, 300))]
    keep = np.array([rnd.random() < [0.0, 1.0, 0.5, 0.97, 0.03, 0.5][seed] for _ in values], bool)
    offsets, data = _column(values)
    kept = _native().compact(offsets, data, keep.view(np.uint8))
    expected = [v for v, k in zip(values, keep, strict=True) if k]
    assert kept == len(expected)
    o = np.frombuffer(offsets, np.int32)[: kept + 1]
    assert [bytes(data[o[i] : o[i + 1]]).decode() for i in range(kept)] == expected


def test_compaction_refuses_a_short_mask_and_read_only_buffers() -> None:
    offsets, data = _column(["ab", "c", "d"])
    with pytest.raises(ValueError, match="shorter"):
        _native().compact(offsets, data, b"\x01")
    with pytest.raises(TypeError):
        _native().compact(bytes(offsets), data, b"\x01\x01\x01")


def test_the_parsers_buffers_are_zero_copy_writable_and_recycled() -> None:
    """parse() hands its columns over without a copy; a released buffer's memory serves the next file."""
    rows = [f"{i},{'佛山' * (i % 7)}" for i in range(200_000)]
    data = ("a,b\n" + "\n".join(rows) + "\n").encode()
    first = _native().parse(data, 0, 2, [0, 1], [0, 0], 2)
    offsets, values = first["columns"][1]
    view = memoryview(values)
    assert not view.readonly and view.nbytes == sum(len(r.split(",")[1].encode()) for r in rows)
    o = np.frombuffer(offsets, np.int32)
    assert bytes(view[o[8] : o[9]]).decode() == "佛山"
    view.release()
    _blocks, pooled = _native().pool_stats()
    del first, offsets, values, view, o
    assert _native().pool_stats()[1] > pooled  # kept, not freed
    again = _native().parse(data, 0, 2, [0, 1], [0, 0], 2)
    assert _native().pool_stats()[1] <= pooled + 1  # and taken again
    o = np.frombuffer(again["columns"][1][0], np.int32)
    assert bytes(memoryview(again["columns"][1][1])[o[199_999] : o[200_000]]).decode() == "佛山" * (199_999 % 7)
    del again, o
    fast.release_memory()
    assert _native().pool_stats() == (0, 0)


def test_a_file_too_big_to_read_whole_is_mapped_with_the_same_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above read_once_limit() a file is hashed as it streams and then mapped: the same records and counts."""
    from shijian.ingest import pipeline

    rows = _messy_rows(13, 800)
    data = _csv(rows).encode("gb18030")
    read_once = _ingest_both(tmp_path / "once", "a.csv", data)["native"]
    monkeypatch.setattr(pipeline, "read_once_limit", lambda: 16)
    mapped = _ingest_both(tmp_path / "mapped", "a.csv", data)["native"]
    assert read_once[0].engine == mapped[0].engine == "native", mapped[0].fallback
    assert read_once[0].sha256 == mapped[0].sha256
    for field in ("rows_read", "accepted", "quarantined", "duplicates", "reasons"):
        assert getattr(read_once[0], field) == getattr(mapped[0], field), field
    assert _tables(read_once[1]) == _tables(mapped[1])


def test_an_ingest_in_this_process_gives_the_kept_memory_back(tmp_path: Path) -> None:
    """Between files the reader keeps its buffers; when an in-process ingest ends, the caller gets them back."""
    root = tmp_path / "in-process"
    (root / "maps").mkdir(parents=True)
    (root / "maps" / "m.toml").write_text(MAPPING.format(source="big", unit="wan", across="false"), encoding="utf-8")
    feed = root / "feeds" / "big.csv"
    feed.parent.mkdir()
    name = "佛山市高明区荣兴餐饮有限公司" * 4
    body = "".join(f"R{i},{USCCS[i % 40]},,{name},地址{i},检查结果,2020-01-01,1,合格,x\n" for i in range(60_000))
    feed.write_text(",".join(HEADER) + "\n" + body, encoding="gb18030")
    [report] = ingest([feed], load_mappings(root / "maps"), fast_lake(root), workers=1)
    assert report.engine == "native" and report.accepted == 60_000, report.fallback
    assert report.peak_rss_mb > 0
    assert _native().pool_stats() == (0, 0)
