"""Small helpers for the lake's DuckDB SQL, shared by the build's modules."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

PARQUET = "(FORMAT parquet, COMPRESSION zstd)"


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    rows = con.execute(sql).fetchall()  # fetched to the end: DuckDB keeps a half-read result open on the connection
    return int(rows[0][0]) if rows else 0


def sql_literal(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"


@contextmanager
def joins_as_written(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Queries planned inside keep each hash join's sides as the SQL writes them: the right side is built into the
    hash table, the left one streams through it.

    For the records' join to their keys (``FROM records r JOIN keys k``): DuckDB estimates a ``read_parquet`` over
    the lake's many files at a few thousand rows, so its ``build_side_probe_side`` optimizer puts the records, with
    their texts, into the hash table and streams the million key rows through it; the by-entity pass then holds
    gigabytes of records in memory and spills (measured in docs/benchmarks.md). The setting is the connection's and
    is restored on leaving (the linkage plans its own joins); a result read inside must be read to its end or
    closed before leaving, as the connection takes no other statement while one is open."""
    before = con.execute("SELECT current_setting('disabled_optimizers')").fetchall()[0][0]
    disabled = [o for o in str(before).split(",") if o.strip()]
    con.execute(f"SET disabled_optimizers = {sql_literal(','.join([*disabled, 'build_side_probe_side']))}")
    try:
        yield
    finally:
        con.execute(f"SET disabled_optimizers = {sql_literal(str(before))}")
