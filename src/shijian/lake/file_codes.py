"""The records' ``file`` through the by-entity pass as a number, not as text.

Each load's records come from one delivered file, so each lake file holds one ``file`` label (65 bytes on average
at the bench's scale, the longest text a record carries). Carried as text, every record's label is read, copied
into DuckDB's Arrow result, copied again by the reordering and hashed again by the Parquet writer's dictionary:
about a seventh of the pass. Carried as the lake file's number (DuckDB's ``file_index``), the pass reorders an
int32, and the writer gets a dictionary array it writes as it is; the entity files hold the same texts.

Nothing is assumed: the labels are read from the lake files first (one query over the dictionary-encoded column,
about a second at 130M records), and if any file holds more than one label, or none, the pass carries the text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import duckdb
import pyarrow as pa

COLUMN = "file"


def labels(con: duckdb.DuckDBPyConnection, scan: str) -> list[str] | None:
    """Each lake file's one ``file`` label, by the file's number in ``scan`` (a ``read_parquet`` over a list); None
    unless every file holds exactly one, never null."""
    try:
        rows = con.execute(
            f"SELECT file_index, min({COLUMN}), max({COLUMN}), count({COLUMN}) = count(*) FROM {scan} GROUP BY ALL"
        ).fetchall()
    except duckdb.BinderException:  # a DuckDB before 1.3 has no file_index: the text, as before
        return None
    found: dict[int, str] = {}
    for index, low, high, complete in rows:
        if low is None or low != high or not complete:
            return None
        found[int(index)] = str(low)
    return [found.get(i, "") for i in range(max(found, default=-1) + 1)]  # a file without rows has no label


def coded_view(scan: str) -> str:
    """The records of ``scan`` with ``file`` as the lake file's number (INTEGER)."""
    return f"SELECT * REPLACE (CAST(file_index AS INTEGER) AS {COLUMN}) FROM {scan}"


def schema(coded: pa.Schema) -> pa.Schema:
    """``coded``'s schema with ``file`` as the texts it stands for (a dictionary of the labels)."""
    i = coded.get_field_index(COLUMN)
    return coded.set(i, pa.field(COLUMN, pa.dictionary(pa.int32(), pa.string()), coded.field(i).nullable))


def decoded(batches: Iterable[pa.RecordBatch], names: list[str]) -> Iterator[pa.RecordBatch]:
    """``batches`` with their ``file`` numbers as the labels ``names`` (a dictionary array: the numbers stay, the
    labels are one array shared by every batch; an out-of-range number is an error)."""
    dictionary = pa.array(names, pa.string())
    for batch in batches:
        i = batch.schema.get_field_index(COLUMN)
        column = pa.DictionaryArray.from_arrays(batch.column(i), dictionary, safe=True)
        yield batch.set_column(i, pa.field(COLUMN, column.type, batch.schema.field(i).nullable), column)
