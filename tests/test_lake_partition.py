"""The bounded-memory partitioned writer of the entity-file layout (``lake/partition.py``)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shijian.lake.partition import write_partitioned


def _batches(rows: int, size: int) -> tuple[pa.Schema, list[pa.RecordBatch]]:
    con = duckdb.connect()
    table = con.sql(
        f"SELECT (hash(i) % 5000)::BIGINT AS entity_id, 'src_' || (i % 7) AS source, "
        f"CASE WHEN i % 11 = 0 THEN NULL ELSE DATE '2020-01-01' + (i % 900)::INT END AS event_date, "
        f"CASE WHEN i % 13 = 0 THEN NULL ELSE i * 0.5 END AS amount, '记录' || i AS detail, i AS line "
        f"FROM range({rows}) r(i)"
    ).to_arrow_table()
    return table.schema, table.to_batches(max_chunksize=size)


@pytest.mark.parametrize(("buckets", "flush_bytes"), [(16, 1 << 30), (64, 100_000), (1024, 1_000_000)])
def test_every_row_lands_once_in_its_bucket(tmp_path: Path, buckets: int, flush_bytes: int) -> None:
    schema, batches = _batches(50_000, 7_000)
    written = write_partitioned(iter(batches), schema, "entity_id", buckets, tmp_path / "out", flush_bytes=flush_bytes)
    assert sum(written) == 50_000
    con = duckdb.connect()
    src = con.from_arrow(pa.Table.from_batches(batches, schema=schema))
    con.register("src", src)
    out = f"read_parquet('{tmp_path}/out/*/*.parquet', hive_partitioning = true)"
    # Each row in the folder of its bucket, and the rows exactly those given (nulls and all).
    assert con.execute(f"SELECT count(*) FROM {out} WHERE bucket <> entity_id % {buckets}").fetchall() == [(0,)]
    cols = "entity_id, source, event_date, amount, detail, line"
    assert con.sql(f"SELECT {cols} FROM src EXCEPT ALL SELECT {cols} FROM {out}").fetchall() == []
    assert con.sql(f"SELECT {cols} FROM {out} EXCEPT ALL SELECT {cols} FROM src").fetchall() == []
    per_bucket = dict(con.sql(f"SELECT bucket, count(*) FROM {out} GROUP BY ALL").fetchall())
    assert per_bucket == {b: n for b, n in enumerate(written) if n}
    # One file per bucket; the bucket number is the folder's, not a stored column; row groups follow the flushes.
    files = sorted((tmp_path / "out").glob("*/*.parquet"))
    assert len(files) == len(per_bucket)
    meta = pq.ParquetFile(files[0]).metadata
    assert "bucket" not in pq.read_schema(files[0]).names
    flushes, buffered = 0, 0  # a flush follows the batch that brings the buffer to flush_bytes, and one at the end
    for b in batches:
        buffered += b.nbytes
        if buffered >= flush_bytes:
            flushes, buffered = flushes + 1, 0
    assert meta.num_row_groups == flushes + (buffered > 0)
    assert (flush_bytes < 1 << 30) == (meta.num_row_groups > 1)


def test_empty_stream_writes_nothing(tmp_path: Path) -> None:
    schema, _ = _batches(10, 10)
    assert write_partitioned(iter([]), schema, "entity_id", 16, tmp_path / "out") == [0] * 16
    assert list((tmp_path / "out").glob("*/*.parquet")) == []


def test_progress_counts_up_to_every_row(tmp_path: Path) -> None:
    schema, batches = _batches(30_000, 4_000)
    seen: list[int] = []
    write_partitioned(iter(batches), schema, "entity_id", 64, tmp_path / "out", progress=seen.append)
    assert len(seen) == len(batches) and seen == sorted(seen) and seen[-1] == 30_000


def test_null_keys_go_to_rest_in_order_with_all_columns(tmp_path: Path) -> None:
    con = duckdb.connect()
    table = con.sql(
        "SELECT CASE WHEN i % 9 = 0 THEN NULL ELSE (hash(i) % 500)::BIGINT END AS entity_id, i AS line, "
        "CASE WHEN i % 9 = 0 THEN 'addr' || i END AS address FROM range(20000) r(i)"
    ).to_arrow_table()
    batches = table.to_batches(max_chunksize=3_000)
    schema = pa.schema([table.schema.field("entity_id"), table.schema.field("line")])  # address stays out
    rest: list[pa.RecordBatch] = []
    written = write_partitioned(iter(batches), schema, "entity_id", 32, tmp_path / "out", rest=rest.append)
    left = pa.Table.from_batches(rest, table.schema)
    assert left.column("line").to_pylist() == list(range(0, 20000, 9))  # every null key, in the order given
    assert left.column("address").to_pylist() == [f"addr{i}" for i in range(0, 20000, 9)]
    assert sum(written) == 20000 - left.num_rows
    out = pq.read_table(tmp_path / "out")
    assert out.column("entity_id").null_count == 0 and "address" not in out.column_names
    assert sorted(out.column("line").to_pylist()) == [i for i in range(20000) if i % 9]


def test_null_key_without_rest_is_an_error(tmp_path: Path) -> None:
    batch = pa.record_batch({"entity_id": pa.array([1, None], pa.int64())})
    with pytest.raises(ValueError, match="null entity_id"):
        write_partitioned(iter([batch]), batch.schema, "entity_id", 16, tmp_path / "out")
