"""Snapshots of the operational data a model version learns from: the register and the hazard library as
Parquet, and a note of the lake's loads (count and SHA-256 of their ids)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from shijian.risk import factors
from shijian.risk.store import RiskError


def snapshot_register(path: Path) -> int:
    """The register's factor columns to Parquet (one row per entity, by id)."""
    from django.db import connection

    cols = ["id", "entity_type", "industry_code", "industry_section", "town_code", "registered_capital",
            "established_on", "legal_rep", "address"]  # fmt: skip
    sql = (
        "SELECT id, entity_type, industry_code, industry_section, town_code, "
        "CAST(registered_capital AS DOUBLE PRECISION), established_on, legal_rep, address "
        "FROM registry_entity ORDER BY id"
    )
    data: dict[str, list[Any]] = {c: [] for c in cols}
    with connection.cursor() as cur:
        cur.execute(sql)
        while rows := cur.fetchmany(50_000):
            for c, values in zip(cols, zip(*rows, strict=True), strict=True):
                data[c].extend(values)
    est = pa.array([_date(v) for v in data["established_on"]], pa.date32())
    table = pa.table(
        {
            "id": pa.array(data["id"], pa.int64()),
            **{c: pa.array(data[c], pa.string()) for c in cols[1:5]},
            "registered_capital": pa.array(data["registered_capital"], pa.float64()),
            "established_on": est,
            "legal_rep": pa.array(data["legal_rep"], pa.string()),
            "address": pa.array(data["address"], pa.string()),
        }
    )
    pq.write_table(table, path, compression="zstd")
    return int(table.num_rows)


def snapshot_hazards(path: Path) -> int:
    """Hazard-library entries (entity, opened and closed dates, local time) to Parquet."""
    from django.db import connection
    from django.utils import timezone

    ents: list[int] = []
    opened: list[dt.date | None] = []
    closed: list[dt.date | None] = []
    with connection.cursor() as cur:
        cur.execute("SELECT entity_id, opened_at, closed_at FROM hazards_hazard")
        while rows := cur.fetchmany(50_000):
            for e, o, c in rows:
                ents.append(e)
                opened.append(_local_date(o, timezone))
                closed.append(_local_date(c, timezone))
    pq.write_table(
        pa.table(
            {
                "entity_id": pa.array(ents, pa.int64()),
                "opened_on": pa.array(opened, pa.date32()),
                "closed_on": pa.array(closed, pa.date32()),
            }
        ),
        path,
        compression="zstd",
    )
    return len(ents)


def _date(v: Any) -> dt.date | None:
    if v is None or isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v)[:10])


def _local_date(v: Any, timezone: Any) -> dt.date | None:
    if v is None:
        return None
    if not isinstance(v, dt.datetime):
        v = dt.datetime.fromisoformat(str(v))
    if v.tzinfo is None:
        v = v.replace(tzinfo=dt.UTC)
    local: dt.date = timezone.localtime(v).date()
    return local


def record_files(lake_root: Path) -> list[str]:
    return sorted(str(p) for p in (lake_root / "build" / "by_entity").glob("*/*.parquet"))


def snapshot(lake_root: Path, folder: Path) -> tuple[factors.Sources, dict[str, Any]]:
    """Register and hazard snapshots in ``folder``, the lake's built records, and a description of them all."""
    folder.mkdir(parents=True, exist_ok=True)
    n_ent = snapshot_register(folder / "register.parquet")
    n_haz = snapshot_hazards(folder / "hazards.parquet")
    from shijian.cases.enforcement import snapshot_penalties

    n_pen = snapshot_penalties(folder / "penalties.parquet")
    files = record_files(lake_root)
    if not files:
        raise RiskError(f"the lake at {lake_root} has no built entity files: run `shijian ingest` and `shijian build`")
    src = factors.Sources(folder / "register.parquet", files, folder / "hazards.parquet", folder / "penalties.parquet")
    build = lake_root / "build" / "build-report.json"
    info: dict[str, Any] = {"entities": n_ent, "hazards": n_haz, "record_files": len(files), "penalties": n_pen}
    if build.exists():
        rep = json.loads(build.read_text(encoding="utf-8"))
        info |= {"build_finished_at": rep.get("finished_at"), "records": rep.get("records")}
    loads = sorted(p.parent.name for p in (lake_root / "records").glob("source=*/load=*/load.json"))
    info["loads"] = len(loads)
    info["loads_sha256"] = hashlib.sha256("\n".join(loads).encode()).hexdigest()
    return src, info
