"""The generic workbench's input: any table of entity features with a label and a date (CSV or Parquet)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa


def read(path: Path, *, label: str, date: str, key: str = "") -> tuple[pa.Table, list[str], list[str]]:
    """The table sorted by date, with its numeric and categorical feature columns (everything but key, label and
    date). Raises ValueError with a message for a missing column or an unusable label."""
    if not path.exists():
        raise ValueError(f"{path}: no such file")
    reader = "read_parquet" if path.suffix.lower() in (".parquet", ".pq") else "read_csv_auto"
    con = duckdb.connect()
    t = con.sql(f"SELECT * FROM {reader}(?)", params=[str(path)]).to_arrow_table()
    for col in (label, date):
        if col not in t.column_names:
            raise ValueError(f"{path.name}: no column {col!r} (columns: {', '.join(t.column_names)})")
    try:
        t = con.sql(
            f'SELECT * REPLACE (CAST("{date}" AS DATE) AS "{date}", CAST("{label}" AS BOOLEAN) AS "{label}") '
            f'FROM t ORDER BY "{date}"'
        ).to_arrow_table()
    except duckdb.Error as exc:
        reason = str(exc).splitlines()[0]
        raise ValueError(f"{path.name}: {label!r} must be 0/1 (or true/false) and {date!r} a date ({reason})") from None
    numeric, categorical = [], []
    for f in t.schema:
        if f.name in (label, date, key):
            continue
        if (
            pa.types.is_integer(f.type)
            or pa.types.is_floating(f.type)
            or pa.types.is_boolean(f.type)
            or pa.types.is_decimal(f.type)
        ):
            numeric.append(f.name)
        elif pa.types.is_string(f.type) or pa.types.is_large_string(f.type):
            categorical.append(f.name)
    if not numeric and not categorical:
        raise ValueError(f"{path.name}: no feature columns besides {label!r} and {date!r}")
    return t, numeric, categorical


def as_of(
    t: pa.Table, *, key: str, date: str, keys: Sequence[Any], dates: Sequence[dt.date | None], columns: Sequence[str]
) -> pa.Table:
    """One row per (key, date) request, in request order: key, ``known`` (the key has any row) and ``columns``
    from the key's latest row dated on or before the date (missing when there is none: the base features)."""
    con = duckdb.connect()
    con.register("t", t)
    con.register("req", pa.table({"rid": pa.array(range(len(keys)), pa.int64()),
                                  "k": pa.array([str(k) for k in keys], pa.string()),
                                  "d": pa.array(dates, pa.date32())}))  # fmt: skip
    cols = ", ".join(f'x."{c}"' for c in columns)
    return con.sql(f"""
    SELECT r.k AS "{key}", r.k IN (SELECT CAST("{key}" AS VARCHAR) FROM t) AS known, {cols}
    FROM req r ASOF LEFT JOIN t x ON r.k = CAST(x."{key}" AS VARCHAR) AND r.d >= x."{date}"
    ORDER BY r.rid
    """).to_arrow_table()
