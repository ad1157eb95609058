"""The records' ``file`` carried through the by-entity pass as the lake file's number (``lake/file_codes.py``)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shijian.lake import file_codes


def _lake(tmp_path: Path, files: list[list[str | None]]) -> str:
    """Lake files of the given ``file`` labels (one row each), as a ``read_parquet`` over their list."""
    paths = []
    for i, names in enumerate(files):
        path = tmp_path / f"load={i}" / "records.parquet"
        path.parent.mkdir(parents=True)
        pq.write_table(pa.table({"file": pa.array(names, pa.string()), "line": list(range(len(names)))}), path)
        paths.append(f"'{path}'")
    return f"read_parquet([{', '.join(paths)}], hive_partitioning = true)"


def test_each_lake_files_one_label_by_its_number(tmp_path: Path) -> None:
    scan = _lake(tmp_path, [["a/1.csv"] * 3, [], ["b/二.csv"] * 2, ["a/1.csv"]])
    con = duckdb.connect()
    assert file_codes.labels(con, scan) == ["a/1.csv", None, "b/二.csv", "a/1.csv"]  # a file without rows: none
    coded = con.sql(f"SELECT file, line FROM ({file_codes.coded_view(scan)}) ORDER BY ALL").fetchall()
    assert coded == [(0, 0), (0, 1), (0, 2), (2, 0), (2, 1), (3, 0)]


@pytest.mark.parametrize("odd", [["x.csv", "y.csv"], ["x.csv", None], [None]])
def test_a_file_of_two_labels_or_a_missing_one_keeps_the_text(tmp_path: Path, odd: list[str | None]) -> None:
    assert file_codes.labels(duckdb.connect(), _lake(tmp_path, [["a.csv"], odd])) is None


def test_without_file_numbers_the_text_is_carried() -> None:
    assert file_codes.labels(duckdb.connect(), "(SELECT 'a.csv' AS file)") is None  # as on a DuckDB before 1.3


def test_a_label_of_several_files_is_one_dictionary_value_and_the_writer_keeps_the_dictionary(tmp_path: Path) -> None:
    coded = pa.record_batch({"file": pa.array([0, 2, 3, 0], pa.int32())})
    [batch] = file_codes.decoded([coded], ["a.csv", None, "b.csv", "a.csv"])
    column = batch.column("file")
    assert column.dictionary.to_pylist() == ["a.csv", "b.csv"] and column.to_pylist() == [
        "a.csv",
        "b.csv",
        "a.csv",
        "a.csv",
    ]
    pq.write_table(pa.Table.from_batches([batch]), tmp_path / "o.parquet", store_schema=False, use_dictionary=True)
    assert "RLE_DICTIONARY" in pq.ParquetFile(tmp_path / "o.parquet").metadata.row_group(0).column(0).encodings
    with pytest.raises(IndexError):  # a file without rows has no label to give
        list(file_codes.decoded([pa.record_batch({"file": pa.array([1], pa.int32())})], ["a.csv", None]))


def test_numbers_are_put_back_as_the_labels(tmp_path: Path) -> None:
    coded = pa.record_batch({"line": [7, 8, 9], "file": pa.array([1, 0, 1], pa.int32())})
    [batch] = file_codes.decoded([coded], ["a.csv", "b.csv"])
    assert batch.schema == file_codes.schema(coded.schema)
    assert batch.column("file").to_pylist() == ["b.csv", "a.csv", "b.csv"]
    pq.write_table(pa.Table.from_batches([batch]), tmp_path / "out.parquet", store_schema=False)
    read = pq.read_table(tmp_path / "out.parquet")  # what readers of the entity files see: the texts
    assert read.schema.field("file").type == pa.string() and read.column("file").to_pylist() == [
        "b.csv",
        "a.csv",
        "b.csv",
    ]
    with pytest.raises(IndexError):  # a number of no label
        list(file_codes.decoded([coded], ["a.csv"]))
