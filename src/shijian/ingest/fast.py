"""Fast path of ``shijian ingest`` for delimited files: one native pass (``_fastcsv.c``) decodes, splits and
cleans the cells; dates, amounts, record types, USCC check digits and the validation run on whole columns; the
accepted rows go to Parquet through Arrow. No SQL engine, no UTF-8 temporary file.

It follows the reference path (DuckDB SQL in ``clean.py`` and ``pipeline.py``) rule for rule, and gives up,
with its reason, on anything it cannot treat exactly the same way (a malformed row, a blank line, a 4-byte
GB18030 sequence, an amount such as ``1e3``, a mapping that keeps extra columns ...): the caller then runs the
reference path on the whole file. Tests compare the two paths' output on messy files.
"""

from __future__ import annotations

import csv
import json
import mmap
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from shijian.ingest.clean import FLOAT_ARTEFACT, KEY_FIELDS
from shijian.ingest.mapping import CANONICAL_FIELDS, RECORD_TYPES, FeedMapping

try:
    from shijian.ingest import _fastcsv  # type: ignore[attr-defined]
except ImportError:  # the extension is optional: built by `pip install` where a C compiler exists
    _fastcsv = None

FLAG_UPPER, FLAG_ARTEFACT, FLAG_HASH, FLAG_USCC = 1, 2, 4, 8
DERIVED = {"record_type", "event_date", "amount"}  # hashed by their parsed values, not their text
_FORMAT = re.compile(r"^(?:%[Ymd]|[^%\s])+$")
# Parquet: dictionary pages for the few low-cardinality columns; statistics where a reader may prune with them.
DICTIONARY = ["record_type", "result", "extra", "file", "uscc_invalid"]
STATISTICS = ["uscc", "record_type", "event_date", "amount", "line", "uscc_invalid"]
RECORDS_SCHEMA = pa.schema(
    [
        ("record_id", pa.string()),
        ("uscc", pa.string()),
        ("uscc_raw", pa.string()),
        ("uscc_invalid", pa.bool_()),
        ("reg_no", pa.string()),
        ("licence_no", pa.string()),
        ("entity_ref", pa.string()),
        ("name", pa.string()),
        ("address", pa.string()),
        ("record_type", pa.string()),
        ("event_date", pa.date32()),
        ("amount", pa.float64()),
        ("result", pa.string()),
        ("detail", pa.string()),
        ("extra", pa.string()),
        ("file", pa.string()),
        ("line", pa.int64()),
    ]
)


def lake_codec() -> str:
    """Parquet compression of the lake's records: zstd (default, about 40% smaller) or lz4 (faster to write and
    read). ``SHIJIAN_LAKE_CODEC``."""
    import os

    codec = os.environ.get("SHIJIAN_LAKE_CODEC", "zstd").lower()
    if codec not in {"zstd", "lz4"}:
        raise ValueError(f"SHIJIAN_LAKE_CODEC must be zstd or lz4, not {codec!r}")
    return codec


def available() -> bool:
    return _fastcsv is not None


def release_memory() -> None:
    """Give back the memory the native reader keeps between files (its column buffers)."""
    if _fastcsv is not None:
        _fastcsv.pool_clear()


@cache
def _gb_table() -> bytes:
    """GB18030 two-byte and four-byte codes -> BMP code points: the reference path's decoder's mapping. That is
    glibc ``iconv`` where the machine has it (Python's codec otherwise); the two differ on a few dozen codes
    (GB18030-2005 vs -2022), which are left out of the table, as is the private use area: a file holding one
    takes the reference path."""
    import shutil
    import subprocess

    codes: list[bytes] = []
    slots: list[int] = []
    for lead in range(0x81, 0xFF):
        for trail in range(0x40, 0xFF):
            if trail != 0x7F:
                codes.append(bytes((lead, trail)))
                slots.append((lead - 0x81) * 191 + trail - 0x40)
    for lin in range(39420):
        b1, r = divmod(lin, 12600)
        b2, r = divmod(r, 1260)
        b3, b4 = divmod(r, 10)
        codes.append(bytes((0x81 + b1, 0x30 + b2, 0x81 + b3, 0x30 + b4)))
        slots.append(126 * 191 + lin)
    iconv_lines: list[str] | None = None
    if shutil.which("iconv"):  # -c: a code iconv cannot decode leaves its line empty
        done = subprocess.run(
            ["iconv", "-c", "-f", "GB18030", "-t", "UTF-8"], input=b"\n".join(codes), capture_output=True, check=False
        )
        lines = done.stdout.decode("utf-8", "replace").split("\n")
        iconv_lines = lines if len(lines) == len(codes) else None
    table = np.zeros(126 * 191 + 39420, dtype=np.uint16)
    for i, (code, slot) in enumerate(zip(codes, slots, strict=True)):
        try:
            ch = code.decode("gb18030")
        except UnicodeDecodeError:
            continue
        if len(ch) != 1 or ord(ch) >= 0x10000 or 0xE000 <= ord(ch) <= 0xF8FF:
            continue
        if iconv_lines is not None and iconv_lines[i] != ch:
            continue
        table[slot] = ord(ch)
    return table.tobytes()


@dataclass
class FastResult:
    rows_read: int
    accepted: int
    quarantined: int
    duplicates: int
    kept_with_invalid_uscc: int
    reasons: dict[str, int]


def _strings(arr: pa.Array) -> tuple[bytes | pa.Buffer, bytes | pa.Buffer]:
    """(int32 offsets, data) of a string array starting at offset 0."""
    if arr.offset:
        arr = pa.concat_arrays([arr])
    bufs = arr.buffers()
    offsets = bufs[1] if bufs[1] is not None else np.zeros(len(arr) + 1, np.int32).tobytes()
    return offsets, bufs[2] if bufs[2] is not None else b""


def _date_order(col: pa.Array, formats: tuple[str, ...]) -> list[str]:
    """The formats ordered by how many of the first 2,000 non-empty dates each reads (as the reference path)."""
    lengths = pc.binary_length(col).to_numpy(zero_copy_only=False)
    sample = col.take(pa.array(np.flatnonzero(lengths > 0)[:2000]))
    offsets, data = _strings(sample)
    counts = []
    for i, fmt in enumerate(formats):
        _days, ok = _fastcsv.dates(offsets, data, [fmt])
        counts.append((-int(np.frombuffer(ok, np.uint8).sum()), i, fmt))
    return [fmt for _n, _i, fmt in sorted(counts)]


def _mix(h: np.ndarray, v: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        h = h ^ (v + np.uint64(0x9E3779B97F4A7C15) + (h << np.uint64(6)) + (h >> np.uint64(2)))
        return h * np.uint64(0xFF51AFD7ED558CCD)


def _raw_json(buf: Any, start: int, end: int, encoding: str, header: list[str]) -> str:
    """The delivered row as JSON of its cells (empty cells null), as the reference path's ``to_json``."""
    text = bytes(buf[start:end]).decode("utf-8-sig" if encoding == "utf-8" else encoding).rstrip("\r\n")
    cells = next(csv.reader([text]), [])
    return json.dumps(
        {name: (cells[i] if i < len(cells) and cells[i] != "" else None) for i, name in enumerate(header)},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def ingest_csv(
    path: Path,
    encoding: str,
    header: list[str],
    header_map: dict[str, str],
    mapping: FeedMapping,
    file_label: str,
    staged: Path,
    prior: list[Path],
    data: Any = None,
) -> FastResult | str:
    """Clean, validate and write one CSV file's records to ``staged``; or the reason the fast path cannot.
    ``data``: the file's bytes where the caller has read them already (else the file is mapped)."""
    if _fastcsv is None:
        return "the native reader is not built"
    if encoding not in {"utf-8", "gb18030"}:
        return f"encoding {encoding}"
    if mapping.keep_extra and any(h not in header_map and h not in mapping.ignore for h in header):
        return "the mapping keeps extra columns as JSON"
    if not all(_FORMAT.match(f) for f in mapping.date_formats):
        return "a date format beyond %Y %m %d"
    by_field = {canonical: h for h, canonical in header_map.items()}
    slot_of = {f: k for k, f in enumerate(CANONICAL_FIELDS)}
    index = {h: i for i, h in enumerate(header)}
    slots = [-1] * len(header)
    for f, h in by_field.items():
        slots[index[h]] = slot_of[f]
    flags = [
        (FLAG_UPPER if f in KEY_FIELDS and f != "entity_ref" else 0)
        | (FLAG_ARTEFACT if f in FLOAT_ARTEFACT else 0)
        | (0 if f in DERIVED else FLAG_HASH)
        | (FLAG_USCC if f == "uscc" else 0)
        for f in CANONICAL_FIELDS
    ]
    if encoding == "gb18030":
        _fastcsv.set_gb_table(_gb_table())
    if data is not None:
        parsed = _fastcsv.parse(data, encoding == "gb18030", len(header), slots, flags, len(CANONICAL_FIELDS))
        if isinstance(parsed, str):
            return parsed
        return _validate_and_write(parsed, data, encoding, header, mapping, file_label, staged, prior)
    with path.open("rb") as fh:
        size = path.stat().st_size
        buf: Any = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        try:
            parsed = _fastcsv.parse(buf, encoding == "gb18030", len(header), slots, flags, len(CANONICAL_FIELDS))
            if isinstance(parsed, str):
                return parsed
            return _validate_and_write(parsed, buf, encoding, header, mapping, file_label, staged, prior)
        finally:
            if size:
                buf.close()


def _validate_and_write(
    parsed: dict[str, Any],
    buf: Any,
    encoding: str,
    header: list[str],
    mapping: FeedMapping,
    file_label: str,
    staged: Path,
    prior: list[Path],
) -> FastResult | str:
    n = int(parsed["rows"])
    raw = dict(zip(CANONICAL_FIELDS, parsed["columns"], strict=True))
    cols = {
        f: pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(o), pa.py_buffer(d)]) for f, (o, d) in raw.items()
    }
    empty = {f: np.diff(np.frombuffer(o, np.int32)) == 0 for f, (o, _d) in raw.items()}

    uscc_ok = np.frombuffer(parsed["uscc_ok"], np.uint8).astype(bool)
    uscc_invalid = ~empty["uscc"] & ~uscc_ok

    # Record types: the mapping's fixed one, or each distinct delivered value mapped once.
    if mapping.record_type:
        rt_index = np.full(n, RECORD_TYPES.index(mapping.record_type), np.int32)
        rt_null = np.zeros(n, bool)
    else:
        enc = pc.dictionary_encode(cols["record_type"]) if n else None
        values = enc.dictionary.to_pylist() if enc is not None else []
        mapped = []
        for v in values:  # as the SQL: the mapping's values first, then '' (none), then the canonical names
            if v in mapping.record_types:
                c: str | None = mapping.record_types[v]
            else:
                c = None if v == "" else (v if v in RECORD_TYPES else None)
            mapped.append(RECORD_TYPES.index(c) if c is not None else -1)
        lookup = np.array([*mapped, -1], np.int32)
        idx = enc.indices.to_numpy(zero_copy_only=False) if enc is not None else np.zeros(0, np.int32)
        rt_index = lookup[idx]
        rt_null = rt_index < 0

    # Dates: the mapping's formats, the file's most frequent first.
    d_off, d_data = raw["event_date"]
    formats = _date_order(cols["event_date"], mapping.date_formats) if n else list(mapping.date_formats)
    days_b, ok_b = _fastcsv.dates(d_off, d_data, formats)
    days = np.frombuffer(days_b, np.int32)
    date_ok = np.frombuffer(ok_b, np.uint8).astype(bool)

    a_off, a_data = raw["amount"]
    vals_b, status_b = _fastcsv.amounts(a_off, a_data, 1.0 if mapping.amount_unit == "wan" else 0.0001)
    status = np.frombuffer(status_b, np.uint8)
    if (status == 3).any():
        unsure = int(np.flatnonzero(status == 3)[0])
        return f"an amount the native reader is not sure to read like the SQL cast ({cols['amount'][unsure]})"
    amount_ok = status == 1
    amounts = np.frombuffer(vals_b, np.float64) + 0.0  # -0.0 -> 0.0

    # Validation, in the reference path's order: the first failing check is the reason.
    key_present = {
        "uscc": uscc_ok,
        "reg_no": ~empty["reg_no"],
        "licence_no": ~empty["licence_no"],
        "entity_ref": ~empty["entity_ref"],
        "name_address": ~empty["name"] & ~empty["address"],
        "address": ~empty["address"],
    }
    has_key = np.zeros(n, bool)
    for k in mapping.entity_keys:
        has_key |= key_present[k]
    checks: list[tuple[np.ndarray, str]] = [(rt_null, "record_type")]
    checks += [(empty[f], f"missing {f}") for f in mapping.required if f not in {"event_date", "amount"}]
    if "event_date" in mapping.required:
        checks.append((empty["event_date"], "missing event_date"))
    checks.append((~empty["event_date"] & ~date_ok, "date"))
    checks.append((~empty["amount"] & ~amount_ok, "amount"))
    checks.append((~has_key, "key"))
    code = np.zeros(n, np.int8)
    for i, (mask, _label) in enumerate(checks, start=1):
        code[(code == 0) & mask] = i
    accepted = code == 0
    lines = np.arange(2, n + 2, dtype=np.int64)

    rejected_rows = np.flatnonzero(~accepted)
    starts = np.frombuffer(parsed["starts"], np.int64)
    q_lines, q_reasons, q_raw = [], [], []
    keys = ", ".join(mapping.entity_keys)
    for r in rejected_rows.tolist():
        label = checks[code[r] - 1][1]
        if label == "record_type":
            reason = "unknown record type " + cols["record_type"][r].as_py()
        elif label == "date":
            reason = "unreadable date " + cols["event_date"][r].as_py()
        elif label == "amount":
            reason = "unreadable amount " + cols["amount"][r].as_py()
        elif label == "key":
            u = cols["uscc"][r].as_py()
            reason = f"invalid USCC {u} and no other entity key" if u else f"no entity key ({keys})"
        else:
            reason = label
        end = int(starts[r + 1]) if r + 1 < n else len(buf)
        q_lines.append(int(lines[r]))
        q_reasons.append(reason)
        q_raw.append(_raw_json(buf, int(starts[r]), end, encoding, header))

    numbers = {"uscc_ok": uscc_ok, "rt": rt_index, "rt_null": rt_null, "days": days, "date_ok": date_ok}
    numbers |= {"amounts": amounts, "amount_ok": amount_ok, "line": lines}
    table = _records_table(raw, n, numbers, file_label)

    # Duplicates among the accepted rows: a 64-bit hash of the content finds candidates, the content decides.
    h = np.frombuffer(parsed["hash"], np.uint64)
    h = _mix(h, rt_index.astype(np.uint64))
    h = _mix(h, np.where(date_ok, days.astype(np.int64) + (1 << 40), 0).astype(np.uint64))
    h = _mix(h, np.where(amount_ok, amounts.view(np.uint64), np.uint64(0x7FF8DEAD)))
    acc_rows = np.flatnonzero(accepted)
    drop = np.zeros(n, bool)
    if prior:
        drop[_dropped_with_prior(table.take(pa.array(acc_rows)), prior) - 2] = True
    elif acc_rows.size:
        cand = np.frombuffer(_fastcsv.repeated(np.ascontiguousarray(h), acc_rows.astype(np.int64)), np.int64)
        if cand.size:
            sub = table.select(_CONTENT).take(pa.array(cand)).to_pylist()
            seen: set[tuple[Any, ...]] = set()
            for r, row in zip(cand.tolist(), sub, strict=True):  # in line order: the first occurrence stays
                content = tuple(row.values())
                if content in seen:
                    drop[r] = True
                else:
                    seen.add(content)
    keep = accepted & ~drop
    if keep.all():
        out = table
    else:  # the rows kept, moved in place in the parser's buffers (no copy of every column)
        del table, cols  # views of those buffers
        mask = keep.view(np.uint8)
        kept = int(keep.sum())
        for offsets, data in raw.values():
            if _fastcsv.compact(offsets, data, mask) != kept:
                raise RuntimeError("compaction kept the wrong number of rows")
        out = _records_table(raw, kept, {name: v[keep] for name, v in numbers.items()}, file_label)
    records = staged / "records.parquet"
    codec = lake_codec()
    pq.write_table(
        out,
        records,
        compression=codec,
        compression_level=1 if codec == "zstd" else None,
        row_group_size=122880,
        use_dictionary=DICTIONARY,
        write_statistics=STATISTICS,
        store_schema=False,
    )
    if pq.ParquetFile(records).metadata.num_rows != int(keep.sum()):
        raise RuntimeError(f"wrote the wrong number of records to {records}")
    quarantine = pa.table(
        {
            "file": pa.array([file_label] * len(q_lines), pa.string()),
            "line": pa.array(q_lines, pa.int64()),
            "reason": pa.array(q_reasons, pa.string()),
            "raw": pa.array(q_raw, pa.string()),
        }
    )
    pq.write_table(quarantine, staged / "quarantine.parquet", compression="zstd", store_schema=False)
    reasons: dict[str, int] = {}
    for reason in q_reasons:
        label = _reason_key(reason)
        reasons[label] = reasons.get(label, 0) + 1
    return FastResult(
        rows_read=n,
        accepted=int(keep.sum()),
        quarantined=len(q_lines),
        duplicates=int(drop.sum()),
        kept_with_invalid_uscc=int((accepted & uscc_invalid).sum()),
        reasons=reasons,
    )


def _records_table(
    raw: dict[str, tuple[Any, Any]], n: int, numbers: dict[str, np.ndarray], file_label: str
) -> pa.Table:
    """The lake's records from the parser's string columns (the first n rows of each) and the parsed values."""
    cols = {
        f: pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(o), pa.py_buffer(d)]) for f, (o, d) in raw.items()
    }
    uscc_ok, date_ok, amount_ok = numbers["uscc_ok"], numbers["date_ok"], numbers["amount_ok"]
    rt_null = numbers["rt_null"]
    uscc_empty = np.diff(np.frombuffer(raw["uscc"][0], np.int32, n + 1)) == 0
    record_type = pa.DictionaryArray.from_arrays(
        pa.array(np.where(rt_null, 0, numbers["rt"]).astype(np.int32), mask=rt_null), pa.array(list(RECORD_TYPES))
    )
    return pa.table(
        {
            "record_id": cols["record_id"],
            "uscc": pa.Array.from_buffers(
                pa.string(),
                n,
                [pa.py_buffer(np.packbits(uscc_ok, bitorder="little").tobytes()), *cols["uscc"].buffers()[1:]],
            ),
            "uscc_raw": cols["uscc"],
            "uscc_invalid": pa.array(~uscc_empty & ~uscc_ok),
            "reg_no": cols["reg_no"],
            "licence_no": cols["licence_no"],
            "entity_ref": cols["entity_ref"],
            "name": cols["name"],
            "address": cols["address"],
            "record_type": record_type,
            "event_date": pa.array(np.where(date_ok, numbers["days"], 0), pa.int32(), mask=~date_ok).cast(pa.date32()),
            "amount": pa.array(numbers["amounts"], pa.float64(), mask=~amount_ok),
            "result": cols["result"],
            "detail": cols["detail"],
            "extra": pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), pa.array([""])),
            "file": pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), pa.array([file_label])),
            "line": pa.array(numbers["line"]),
        }
    )


_CONTENT = [
    "record_id", "uscc_raw", "reg_no", "licence_no", "entity_ref", "name", "address", "record_type", "event_date",
    "amount", "result", "detail", "extra",
]  # fmt: skip


def _dropped_with_prior(accepted: pa.Table, prior: list[Path]) -> np.ndarray:
    """Lines of accepted rows that repeat an earlier row of this file or a row of an earlier load (DuckDB, the
    reference path's query)."""
    import duckdb

    from shijian.ingest.clean import CONTENT_COLUMNS
    from shijian.ingest.pipeline import dropped_sql

    con = duckdb.connect(config={"threads": 1})
    con.register("acc", accepted)
    rows = con.execute(dropped_sql(f"SELECT line, {CONTENT_COLUMNS} FROM acc", prior)).fetchall()
    con.close()
    return np.array([r[0] for r in rows], np.int64)


def _reason_key(reason: str) -> str:
    from shijian.ingest.pipeline import _reason_key as key

    return key(reason)
