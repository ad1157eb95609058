"""Bulk-load helpers shared by every loader (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, models


def secondary_indexes(table: str) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the table's non-unique indexes; unique ones and the primary key stay."""
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
                [table],
            )
        elif connection.vendor == "postgresql":
            cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        else:
            return []
        return [(name, sql) for name, sql in cur.fetchall() if "UNIQUE" not in sql.upper()]


@contextmanager
def deferred_indexes(model: type[models.Model], enabled: bool = True) -> Iterator[int]:
    """Drop the table's secondary indexes for a large load and rebuild them afterwards.

    Must run inside ``transaction.atomic()``: if the load fails, the rollback restores the dropped indexes
    (DDL is transactional in both SQLite and PostgreSQL). Building an index once over sorted data is several
    times faster than maintaining it row by row.
    """
    if not enabled:
        yield 0
        return
    indexes = secondary_indexes(model._meta.db_table)
    qn = connection.ops.quote_name
    with connection.cursor() as cur:
        for name, _sql in indexes:
            cur.execute(f"DROP INDEX {qn(name)}")
    yield len(indexes)
    with connection.cursor() as cur:
        for _name, sql in indexes:
            cur.execute(sql)
        cur.execute(f"ANALYZE {qn(model._meta.db_table)}")
