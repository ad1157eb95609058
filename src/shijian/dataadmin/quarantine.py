"""The quarantine of a feed: its loads' rejected rows (file, line, reason, the row as delivered), read from the
lake with DuckDB, filtered and paged."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from shijian.dataadmin.explain import KINDS, explain, parse_raw
from shijian.ingest.mapping import FeedMapping
from shijian.lake.store import Lake


@dataclass(frozen=True)
class Rejected:
    load: str
    file: str
    line: int
    reason: str
    column: str
    explained: str
    raw: Any


@dataclass(frozen=True)
class Filters:
    load: str = ""
    kind: str = ""  # a key of explain.KINDS, or "row"
    file: str = ""  # part of the file's name


def delivered_name(path: str) -> str:
    """A file's name as delivered (the inbox puts the upload's number in front of it)."""
    name = Path(path).name
    head, sep, rest = name.partition("-")
    return rest if sep and head.isdigit() else name


def _sql(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _where(f: Filters) -> str:
    conds = ["true"]
    if f.load:
        conds.append(f"load = {_sql(f.load)}")
    if f.file:
        conds.append(f"contains(file, {_sql(f.file)})")
    if f.kind in KINDS:
        conds.append("(" + " OR ".join(f"starts_with(reason, {_sql(p)})" for p in KINDS[f.kind][1]) + ")")
    elif f.kind == "row":
        prefixes = [p for _label, ps in KINDS.values() for p in ps]
        conds.append("NOT (" + " OR ".join(f"starts_with(reason, {_sql(p)})" for p in prefixes) + ")")
    return " AND ".join(conds)


def _source(lake: Lake, slug: str) -> str | None:
    files = sorted((lake.records / f"source={slug}").glob("load=*/quarantine.parquet"))
    if not files:
        return None
    paths = ", ".join(_sql(str(p)) for p in files)
    return f"(SELECT * FROM read_parquet([{paths}], hive_partitioning = true))"


def rows(
    lake: Lake, slug: str, mapping: FeedMapping | None, f: Filters, offset: int = 0, limit: int = 50
) -> tuple[list[Rejected], int]:
    """One page of the feed's rejected rows (newest load first, then by line) and how many match."""
    src = _source(lake, slug)
    if src is None:
        return [], 0
    con = duckdb.connect()
    where = _where(f)
    total_row = con.execute(f"SELECT count(*) FROM {src} WHERE {where}").fetchone()
    page = con.execute(
        f"SELECT load, file, line, reason, raw FROM {src} WHERE {where} ORDER BY load DESC, file, line "
        f"LIMIT {int(limit)} OFFSET {int(offset)}"
    ).fetchall()
    con.close()
    out = []
    for load, file, line, reason, raw in page:
        parsed = parse_raw(raw)
        column, text = explain(reason, parsed, mapping)
        out.append(Rejected(str(load), delivered_name(file), int(line), reason, column, text, parsed))
    return out, int(total_row[0]) if total_row else 0


def by_kind(lake: Lake, slug: str) -> dict[str, int]:
    """Rejected rows of the feed per reason kind (the filter's counts)."""
    src = _source(lake, slug)
    if src is None:
        return {}
    con = duckdb.connect()
    out = {}
    for kind in [*KINDS, "row"]:
        n = con.execute(f"SELECT count(*) FROM {src} WHERE {_where(Filters(kind=kind))}").fetchone()
        if n and n[0]:
            out[kind] = int(n[0])
    con.close()
    return out
