"""Data quality of a feed: timeliness (last delivery against the expected cadence), completeness of the mapped
fields, rejection and duplicate rates, the linkage rate of the last build, and the trend over loads."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import duckdb

from shijian.core import clock
from shijian.dataadmin import feeds, loads
from shijian.dataadmin.explain import FIELD_LABELS
from shijian.dataadmin.models import Feed
from shijian.ingest.mapping import CANONICAL_FIELDS, MappingError
from shijian.lake.store import Lake


@dataclass
class LoadPoint:
    load_id: str
    file: str
    finished_at: dt.datetime | None
    rows_read: int
    accepted: int
    quarantined: int
    duplicates: int

    @property
    def rejection_rate(self) -> float:
        return self.quarantined / self.rows_read if self.rows_read else 0.0

    @property
    def duplicate_rate(self) -> float:
        return self.duplicates / self.rows_read if self.rows_read else 0.0

    @property
    def reconciles(self) -> bool:
        return self.rows_read == self.accepted + self.quarantined + self.duplicates

    @property
    def rejection_pct(self) -> str:
        return pct(self.rejection_rate)


def pct(share: float | None) -> str:
    """A share as a percentage for the pages (one decimal)."""
    return "—" if share is None else f"{100 * share:.1f}%"


@dataclass
class Quality:
    feed: Feed
    loads: list[LoadPoint]
    last_delivery: dt.datetime | None
    days_since: int | None
    late: bool
    completeness: float | None  # mean share of filled mapped fields over the last load's accepted records
    fields: dict[str, float] = field(default_factory=dict)  # canonical field -> share filled
    linkage_rate: float | None = None
    linked_as_of: dt.datetime | None = None

    @property
    def rows_read(self) -> int:
        return sum(p.rows_read for p in self.loads)

    @property
    def accepted(self) -> int:
        return sum(p.accepted for p in self.loads)

    @property
    def quarantined(self) -> int:
        return sum(p.quarantined for p in self.loads)

    @property
    def duplicates(self) -> int:
        return sum(p.duplicates for p in self.loads)

    @property
    def rejection_rate(self) -> float:
        return self.quarantined / self.rows_read if self.rows_read else 0.0

    @property
    def duplicate_rate(self) -> float:
        return self.duplicates / self.rows_read if self.rows_read else 0.0

    @property
    def reconciles(self) -> bool:
        return self.rows_read == self.accepted + self.quarantined + self.duplicates

    @property
    def pcts(self) -> dict[str, str]:
        return {
            "completeness": pct(self.completeness),
            "rejection": pct(self.rejection_rate),
            "duplicates": pct(self.duplicate_rate),
            "linkage": pct(self.linkage_rate),
        }

    @property
    def field_rows(self) -> list[tuple[Any, float, str]]:
        return [(FIELD_LABELS.get(name, name), 100 * share, pct(share)) for name, share in self.fields.items()]


def _when(value: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def _sql(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _completeness(lake: Lake, slug: str, last_load: str, mapped: list[str]) -> dict[str, float]:
    """Share of the last load's accepted records with a value in each mapped field (one file: cheap at any size)."""
    file = lake.records / f"source={slug}" / f"load={last_load}" / "records.parquet"
    if not last_load or not file.is_file() or not mapped:
        return {}
    exprs = ", ".join(f"avg(CASE WHEN nullif(CAST({c} AS VARCHAR), '') IS NULL THEN 0 ELSE 1 END)" for c in mapped)
    con = duckdb.connect()
    row = con.execute(f"SELECT count(*), {exprs} FROM read_parquet({_sql(str(file))})").fetchone()
    con.close()
    if not row or not row[0]:
        return {}
    return {c: float(v or 0.0) for c, v in zip(mapped, row[1:], strict=True)}


def _built_at(lake: Lake) -> dt.datetime | None:
    """When the last build finished (its report; the loads' reports are stamped by the same clock)."""
    import json

    try:
        return _when(json.loads((lake.root / "build" / "build-report.json").read_text()).get("finished_at", ""))
    except (OSError, ValueError):
        return None


def _linkage(lake: Lake, slug: str, points: list[LoadPoint]) -> tuple[float | None, dt.datetime | None]:
    """Share of the feed's records linked to an entity by the last build (of the loads it saw)."""
    unlinked = lake.root / "build" / "unlinked.parquet"
    if not unlinked.is_file():
        return None, None
    built = _built_at(lake) or dt.datetime.fromtimestamp(unlinked.stat().st_mtime, tz=dt.UTC)
    seen = sum(p.accepted for p in points if p.finished_at is not None and p.finished_at <= built)
    if not seen:
        return None, built
    con = duckdb.connect()
    try:
        row = con.execute(
            f"SELECT count(*) FROM read_parquet({_sql(str(unlinked))}) WHERE source = {_sql(slug)}"
        ).fetchone()
    except duckdb.Error:
        return None, built
    finally:
        con.close()
    n = int(row[0]) if row else 0
    return max(0.0, 1 - n / seen), built


def of(feed: Feed, lake: Lake | None = None, now: dt.datetime | None = None) -> Quality:
    lake = lake or loads.lake()
    now = now or clock.now()
    points = [
        LoadPoint(
            r.get("load_id", ""),
            loads._name(r.get("file", "")),
            _when(r.get("finished_at", "")),
            **loads.counts(r),
        )
        for r in loads.reports(feed, lake)
    ]
    last = max((p.finished_at for p in points if p.finished_at is not None), default=None)
    days = (now - last).days if last is not None else None
    try:
        columns = feeds.current_mapping(feed).columns
    except MappingError:  # a file edited by hand that no longer reads: the mapping page says so
        columns = {}
    mapped = [c for c in CANONICAL_FIELDS if c in columns and c != "record_type"]
    filled = _completeness(lake, feed.slug, points[-1].load_id if points else "", mapped)
    rate, built = _linkage(lake, feed.slug, points)
    return Quality(
        feed=feed,
        loads=points,
        last_delivery=last,
        days_since=days,
        late=last is None or (now - last) > dt.timedelta(days=feed.cadence_days),
        completeness=sum(filled.values()) / len(filled) if filled else None,
        fields=filled,
        linkage_rate=rate,
        linked_as_of=built,
    )


def trend_points(q: Quality) -> list[dict[str, Any]]:
    """The loads' rates for the trend chart (oldest first)."""
    return [
        {
            "load": p.load_id,
            "date": p.finished_at.date().isoformat() if p.finished_at else "",
            "rejection": round(100 * p.rejection_rate, 2),
            "duplicates": round(100 * p.duplicate_rate, 2),
        }
        for p in q.loads
    ]


__all__ = ["LoadPoint", "Quality", "of", "pct", "trend_points"]
