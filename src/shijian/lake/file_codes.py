"""The records' ``file`` through the by-entity pass as a number, not as text.

Each load's records come from one delivered file, so each lake file holds one ``file`` label (65 bytes on average
at the bench's scale, the longest text a record carries). Carried as text, every record's label is read, copied
into DuckDB's Arrow result, copied again by the reordering and hashed again by the Parquet writer's dictionary:
about a seventh of the pass. Carried as the lake file's number (DuckDB's ``file_index``), the pass reorders an
int32, and the writer gets a dictionary array of the distinct labels, which it writes as it is; the entity
files hold the same texts.

Nothing is assumed: the labels are read from the lake files first (one query over the dictionary-encoded column,
about a second at 130M records), and if any file holds more than one label, or none, the pass carries the text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import duckdb
import numpy as np
import pyarrow as pa

COLUMN = "file"


def labels(con: duckdb.DuckDBPyConnection, scan: str) -> list[str | None] | None:
    """Each lake file's one ``file`` label, by the file's number in ``scan`` (a ``read_parquet`` over a list; None
    for a file without rows); None unless every file with rows holds exactly one, never null."""
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
    return [found.get(i) for i in range(max(found, default=-1) + 1)]


def coded_view(scan: str) -> str:
    """The records of ``scan`` with ``file`` as the lake file's number (INTEGER). Read it as a whole, as the pass
    does: DuckDB numbers the files left after pruning, so a filter or a join on the folders' columns (``source``,
    ``load``) would renumber them and the labels would no longer match."""
    return f"SELECT * REPLACE (CAST(file_index AS INTEGER) AS {COLUMN}) FROM {scan}"


def schema(coded: pa.Schema, text: bool = False) -> pa.Schema:
    """``coded``'s schema with ``file`` as the labels: a dictionary of them (as ``decoded`` gives it), or with
    ``text`` a plain string column (as the lake has it)."""
    i = coded.get_field_index(COLUMN)
    kind = pa.string() if text else pa.dictionary(pa.int32(), pa.string())
    return coded.set(i, pa.field(COLUMN, kind, coded.field(i).nullable))


def decoded(batches: Iterable[pa.RecordBatch], names: list[str | None]) -> Iterator[pa.RecordBatch]:
    """``batches`` with their ``file`` numbers as the labels ``names`` stand for: a dictionary array of each
    distinct label once (a writer given a dictionary that repeats a value writes the texts plain), shared by every
    batch. A number of no label is an error."""
    distinct = sorted({n for n in names if n is not None})
    code = {n: i for i, n in enumerate(distinct)}
    lookup = np.array([code[n] if n is not None else -1 for n in names], np.int32)
    dictionary = pa.array(distinct, pa.string())
    for batch in batches:
        i = batch.schema.get_field_index(COLUMN)
        numbers = batch.column(i).to_numpy()  # no nulls: file_index never is
        if numbers.size and (numbers.min() < 0 or numbers.max() >= lookup.size):
            raise IndexError(f"a {COLUMN} number without a label in a batch of the pass")
        indices = lookup[numbers]  # gathered once (every record of the pass goes through here)
        if numbers.size and indices.min() < 0:
            raise IndexError(f"a {COLUMN} number without a label in a batch of the pass")
        column = pa.DictionaryArray.from_arrays(pa.array(indices), dictionary)
        yield batch.set_column(i, pa.field(COLUMN, column.type, batch.schema.field(i).nullable), column)
