"""Reads of the lake for the web pages and the API: one entity's records (the 一户一档 timeline), personal
numbers masked."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from shijian.lake.store import Lake
from shijian.registry.display import mask_phones

_local = threading.local()


def _con() -> duckdb.DuckDBPyConnection:
    con = getattr(_local, "con", None)
    if con is None:
        con = duckdb.connect(config={"threads": 1})
        con.execute("SET enable_progress_bar = false")
        _local.con = con
    return con


@dataclass(frozen=True)
class Timeline:
    rows: list[dict[str, Any]]
    total: int
    sources: list[tuple[str, int]]
    types: list[tuple[str, int]]
    built: bool


def _buckets(lake: Lake) -> int | None:
    report = lake.root / "build" / "build-report.json"
    if not report.exists():
        return None
    return int(json.loads(report.read_text()).get("buckets", 16))


def _entity_files(lake: Lake, entity_id: int) -> list[str] | None:
    """The files of the by_entity bucket holding the entity's records; None before the first build."""
    buckets = _buckets(lake)
    if buckets is None:
        return None
    folder = lake.root / "build" / "by_entity" / f"bucket={entity_id % buckets}"
    return sorted(str(p) for p in Path(folder).glob("*.parquet"))


@dataclass(frozen=True)
class Counts:
    records: int
    by_type: dict[str, int]
    by_source: dict[str, int]


def entity_counts(lake: Lake, entity_id: int) -> Counts | None:
    """The entity's records counted by type and by department, in one pass over its bucket (None before the
    first build). A record without a type or department counts in ``records`` alone."""
    files = _entity_files(lake, entity_id)
    if files is None:
        return None
    if not files:
        return Counts(0, {}, {})
    rows = (
        _con()
        .execute(
            f"SELECT GROUPING(record_type), GROUPING(source), record_type, source, count(*) "
            f"FROM read_parquet({files!r}) WHERE entity_id = ? "
            f"GROUP BY GROUPING SETS ((record_type), (source), ())",
            [entity_id],
        )
        .fetchall()
    )
    by_type = {str(t): int(n) for gt, gs, t, _s, n in rows if (gt, gs) == (0, 1) and t is not None}
    by_source = {str(s): int(n) for gt, gs, _t, s, n in rows if (gt, gs) == (1, 0) and s is not None}
    total = sum(int(n) for gt, gs, _t, _s, n in rows if (gt, gs) == (1, 1))
    return Counts(total, by_type, by_source)


def entity_timeline(
    lake: Lake, entity_id: int, *, source: str = "", record_type: str = "", offset: int = 0, limit: int = 50
) -> Timeline:
    """The entity's records from every department, newest first, filtered and paged."""
    files = _entity_files(lake, entity_id)
    if files is None:
        return Timeline([], 0, [], [], False)
    if not files:
        return Timeline([], 0, [], [], True)
    con = _con()
    src = f"read_parquet({files!r})"
    con.execute(f"CREATE OR REPLACE TEMP TABLE tl AS SELECT * FROM {src} WHERE entity_id = ?", [entity_id])
    where, params = ["TRUE"], []
    if source:
        where.append("source = ?")
        params.append(source)
    if record_type:
        where.append("record_type = ?")
        params.append(record_type)
    cond = " AND ".join(where)
    total_row = con.execute(f"SELECT count(*) FROM tl WHERE {cond}", params).fetchone()
    cur = con.execute(
        f"SELECT event_date, source, record_type, result, detail, amount, record_id, link_method, file, line "
        f"FROM tl WHERE {cond} ORDER BY event_date DESC NULLS LAST, source, record_id LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    for row in rows:  # mobile numbers in a text are never shown (the page and the API read from here)
        if row["detail"]:
            row["detail"] = mask_phones(row["detail"])
    sources = con.execute("SELECT source, count(*) FROM tl GROUP BY ALL ORDER BY 2 DESC").fetchall()
    types = con.execute("SELECT record_type, count(*) FROM tl GROUP BY ALL ORDER BY 2 DESC").fetchall()
    return Timeline(rows, int(total_row[0]) if total_row else 0, sources, types, True)
