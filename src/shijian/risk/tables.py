"""The generic workbench's input: any table of entity features with a label and a date (CSV or Parquet)."""

from __future__ import annotations

from pathlib import Path

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
