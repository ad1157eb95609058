"""The build's last step: its results into the operational database (entity files, the linkage review queue)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from shijian.lake.sql import sql_literal


def sync_reviews(path: Path) -> int:
    """Pending reviews are replaced by this build's; decided ones stay as the record of who decided what."""
    from django.db import transaction
    from django.utils import timezone

    from shijian.lake.models import LinkReview
    from shijian.registry.models import Entity

    con = duckdb.connect()
    rows = con.execute(
        f"SELECT name_key, address_key, records, sources, to_json(candidates)::VARCHAR, best_probability, "
        f"best_entity FROM read_parquet({sql_literal(path)})"
    ).fetchall()
    con.close()
    existing = set(Entity.objects.filter(pk__in=[r[6] for r in rows]).values_list("pk", flat=True))
    now = timezone.now()
    items = [
        LinkReview(
            name_key=r[0][:300],
            address_key=r[1][:300],
            records=r[2],
            sources=(r[3] or "")[:500],
            candidates=json.loads(r[4]),
            best_probability=r[5],
            best_entity_id=r[6],
            built_at=now,
        )
        for r in rows
        if r[6] in existing
    ]
    with transaction.atomic():
        LinkReview.objects.filter(status=LinkReview.Status.PENDING).delete()
        LinkReview.objects.bulk_create(items, batch_size=2000)
    return len(items)


# The columns of ``registry_entityfile``, in the order the sync's rows carry them.
COLUMNS = (
    "entity_id",
    "records",
    "departments",
    "first_record_on",
    "last_record_on",
    "inspections",
    "inspections_failed",
    "penalties",
    "penalty_amount",
    "complaints",
    "licences",
    "licences_expired",
    "abnormal_listings",
    "annual_reports_late",
    "litigation",
    "tax_grade",
    "built_at",
)


def sync_entity_files(files: Path) -> int:
    """Replace the operational ``registry_entityfile`` table with a full build's aggregates (``files``), in one
    transaction."""
    return _write(f"SELECT * FROM read_parquet({sql_literal(files)})", files.parent / "entities.parquet", None)


def sync_affected(rows: Path, affected: Path) -> int:
    """An incremental build's rows (``rows``: the entity files' columns, for the entities whose row changed)
    upserted in place; the entities listed in ``affected`` that have no row any more (left without records)
    deleted. The other rows and the table's indexes stay."""
    return _write(f"SELECT * FROM read_parquet({sql_literal(rows)})", rows.parent / "entities.parquet", affected)


_DATES = (COLUMNS.index("first_record_on"), COLUMNS.index("last_record_on"))


def _adapted(row: tuple[Any, ...], ops: Any, now: Any) -> list[Any]:
    """A row as fetched (``COLUMNS`` but ``built_at``) made ready for a database that takes dates as objects."""
    out = list(row)
    for i in _DATES:
        out[i] = ops.adapt_datefield_value(out[i])
    out.append(now)
    return out


def _write(rows_sql: str, entities: Path, affected: Path | None) -> int:
    from django.db import connection, transaction
    from django.utils import timezone

    from shijian.core.bulk import deferred_indexes
    from shijian.registry.models import EntityFile

    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    # SQLite stores dates and times as text: DuckDB writes them so, and its rows go to the database as fetched
    # (no conversion per value in Python: 468k rows' worth is a second at Foshan scale).
    as_text = connection.vendor == "sqlite" and isinstance(now, str)
    first, last = (
        ("strftime(first_record_on, '%Y-%m-%d')", "strftime(last_record_on, '%Y-%m-%d')")
        if as_text
        else ("first_record_on", "last_record_on")
    )
    built = f", {sql_literal(str(now))} AS built_at" if as_text else ""
    dates = {"first_record_on": first, "last_record_on": last}
    selected = ", ".join(dates.get(c, c) for c in COLUMNS[1:-1])
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    rows = con.execute(f"""
        SELECT entity_id, {selected} {built} FROM ({rows_sql})
        -- an entity deleted from the register since the build's snapshot has no row to point to
        WHERE entity_id IN (SELECT id FROM read_parquet({sql_literal(entities)}))
        ORDER BY entity_id  -- the table's order: updates walk its pages once instead of at random
    """).fetchall()
    ids = (
        [r[0] for r in con.execute(f"SELECT entity_id FROM read_parquet({sql_literal(affected)})").fetchall()]
        if affected
        else []
    )
    con.close()
    table = EntityFile._meta.db_table
    qn = ops.quote_name
    sql = f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in COLUMNS)}) VALUES ({', '.join(['%s'] * len(COLUMNS))})"
    params = rows if as_text else [_adapted(r, ops, now) for r in rows]
    if affected:  # some entities among many: the indexes stay; rows updated in place, the emptied ones deleted
        upsert = (
            sql
            + f" ON CONFLICT ({qn('entity_id')}) DO UPDATE SET "
            + ", ".join(f"{qn(c)} = excluded.{qn(c)}" for c in COLUMNS[1:])
        )
        emptied = sorted(set(ids) - {r[0] for r in rows})
        with transaction.atomic(), connection.cursor() as cur:
            if connection.vendor == "sqlite":
                cur.execute("PRAGMA cache_size = -524288")
            for start in range(0, len(emptied), 900):
                chunk = emptied[start : start + 900]
                cur.execute(
                    f"DELETE FROM {qn(table)} WHERE {qn('entity_id')} IN ({', '.join(['%s'] * len(chunk))})", chunk
                )
            for start in range(0, len(params), 5000):
                cur.executemany(upsert, params[start : start + 5000])
        return len(params)
    with transaction.atomic(), deferred_indexes(EntityFile, enabled=True), connection.cursor() as cur:
        cur.execute(f"DELETE FROM {qn(table)}")
        for start in range(0, len(params), 5000):
            cur.executemany(sql, params[start : start + 5000])
    return len(params)
