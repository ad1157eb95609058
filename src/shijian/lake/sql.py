"""Small helpers for the lake's DuckDB SQL, shared by the build's modules."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
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
    many files as the first file's rows times the number of files, so when a small department's load is listed
    first it thinks the records fewer than the ~1M key combinations; its ``build_side_probe_side`` optimizer then
    builds the records, with their texts, into the hash table and streams the keys through it, and the by-entity
    pass holds gigabytes of records in memory and spills (``shijian bench join``; docs/benchmarks.md).

    The setting is the database instance's (every connection and cursor on it sees it) and is restored on leaving;
    each build opens its own instance. A result read inside must be read to its end or closed before leaving, as
    the connection takes no other statement while one is open; if it is not, the error that left the block is the
    one raised (the setting then stays until the instance is closed)."""
    before = str(con.execute("SELECT current_setting('disabled_optimizers')").fetchall()[0][0])
    disabled = [o for o in before.split(",") if o.strip()]
    con.execute(f"SET disabled_optimizers = {sql_literal(','.join([*disabled, 'build_side_probe_side']))}")
    restore = f"SET disabled_optimizers = {sql_literal(before)}"
    try:
        yield
    except BaseException:
        with suppress(duckdb.Error):
            con.execute(restore)
        raise
    con.execute(restore)
