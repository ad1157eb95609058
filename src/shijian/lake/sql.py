"""Small helpers for the lake's DuckDB SQL, shared by the build's modules."""

from __future__ import annotations

from pathlib import Path

import duckdb

PARQUET = "(FORMAT parquet, COMPRESSION zstd)"


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    rows = con.execute(sql).fetchall()  # fetched to the end: DuckDB keeps a half-read result open on the connection
    return int(rows[0][0]) if rows else 0


def sql_literal(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"
