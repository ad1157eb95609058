"""A bounded-memory hash-partitioned Parquet writer: one pass over a stream of Arrow batches into ``bucket=N/``.

DuckDB's ``COPY ... PARTITION_BY`` keeps at most ``partitioned_write_max_open_files`` files open and buffers a row
group per open file; a thousand buckets at 130M records either spills tens of GB or, capped, needs a second pass.
Here each batch is reordered by bucket once (a stable counting sort on the bucket number), its per-bucket slices
are kept (zero-copy) until about ``flush_bytes`` are buffered, and then every bucket gets one row group, the
buckets written in parallel (Arrow's writer releases the GIL). Memory is bounded by ``flush_bytes`` whatever the
number of buckets; each bucket is one file, of row groups of about ``flush_bytes / buckets`` bytes (at 130M
records, 1,024 buckets and 1 GB: about 4,500 records).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def write_partitioned(
    batches: Iterable[pa.RecordBatch],
    schema: pa.Schema,
    key: str,
    buckets: int,
    out: Path,
    *,
    flush_bytes: int = 1 << 30,
    threads: int | None = None,
    compression: str = "zstd",
    compression_level: int | None = 1,
    dictionary: list[str] | None = None,
    statistics: list[str] | None = None,
    progress: Callable[[int], None] | None = None,
    rest: Callable[[pa.RecordBatch], None] | None = None,
) -> list[int]:
    """Write ``batches`` into ``out/bucket=N/data_0.parquet`` with ``N = batch[key] % buckets`` (``key`` an integer
    column). The bucket column itself is not stored (it is the folder's name, as with DuckDB's and Spark's
    partitioned writes); only ``schema``'s columns are. Rows whose key is null go, with all their columns, to
    ``rest`` (in the order they came; without ``rest``, a null key is an error). ``progress`` gets the rows taken
    so far after each batch. Returns the rows written per bucket."""
    out.mkdir(parents=True, exist_ok=True)
    written = [0] * buckets
    writers: dict[int, pq.ParquetWriter] = {}
    pending: list[list[pa.RecordBatch]] = [[] for _ in range(buckets)]
    buffered = 0
    pool = ThreadPoolExecutor(max_workers=threads or os.cpu_count() or 2)

    def writer(b: int) -> pq.ParquetWriter:
        w = writers.get(b)
        if w is None:
            folder = out / f"bucket={b}"
            folder.mkdir(exist_ok=True)
            w = pq.ParquetWriter(
                folder / "data_0.parquet",
                schema,
                compression=compression,
                compression_level=compression_level,
                use_dictionary=dictionary if dictionary is not None else True,
                write_statistics=statistics if statistics is not None else True,
                store_schema=False,
            )
            writers[b] = w
        return w

    def write_bucket(b: int, parts: list[pa.RecordBatch]) -> None:
        writer(b).write_table(pa.Table.from_batches(parts, schema=schema), row_group_size=1 << 30)

    def flush() -> None:
        nonlocal buffered
        jobs = [(b, parts) for b, parts in enumerate(pending) if parts]
        # Writers are created here, single-threaded (folders, file handles); the encoding runs in parallel.
        for b, _ in jobs:
            writer(b)
        for f in [pool.submit(write_bucket, b, parts) for b, parts in jobs]:
            f.result()
        for b, _ in jobs:
            pending[b] = []
        buffered = 0

    def prepare(batch: pa.RecordBatch) -> tuple[pa.RecordBatch, np.ndarray, int, pa.RecordBatch | None]:
        column = batch.column(key)
        nulls = column.null_count
        if nulls and rest is None:
            raise ValueError(f"null {key} in a partitioned write")
        # a null key sorts last, as bucket number ``buckets`` (taken out below, to ``rest``)
        ids = column.fill_null(-1).to_numpy() if nulls else column.to_numpy()
        bucket = (ids % buckets).astype(np.int32 if buckets >= 32767 else np.int16)
        if nulls:
            bucket[ids == -1] = buckets
        order = np.argsort(bucket, kind="stable")  # radix sort on a small integer type
        placed = len(order) - nulls
        kept = batch.select(schema.names)
        left = batch.take(pa.array(order[placed:])) if nulls else None
        counts = np.bincount(bucket, minlength=buckets + 1)[:buckets]
        return kept.take(pa.array(order[:placed])), counts, kept.nbytes, left

    def collect(ordered: pa.RecordBatch, counts: np.ndarray, nbytes: int, left: pa.RecordBatch | None) -> None:
        nonlocal buffered
        if left is not None and rest is not None:
            rest(left)
        start = 0
        for b in np.flatnonzero(counts):
            n = int(counts[b])
            pending[b].append(ordered.slice(start, n))
            written[b] += n
            start += n
        buffered += nbytes
        if buffered >= flush_bytes:
            flush()
        if progress:
            progress(sum(written))

    # The reordering (a gather: memory-bound) runs in threads while the next batches are fetched; batches are
    # collected in the order they came, so the output does not depend on timing.
    in_flight: deque[Future[tuple[pa.RecordBatch, np.ndarray, int, pa.RecordBatch | None]]] = deque()
    try:
        for batch in batches:
            if batch.num_rows == 0:
                continue
            in_flight.append(pool.submit(prepare, batch))
            if len(in_flight) > 2:
                collect(*in_flight.popleft().result())
        while in_flight:
            collect(*in_flight.popleft().result())
        flush()
    finally:
        pool.shutdown(wait=True)
        for w in writers.values():
            w.close()
    return written
