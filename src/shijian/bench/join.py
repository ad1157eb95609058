"""``shijian bench join``: the by-entity pass's join as DuckDB's optimizer plans it, against the keys as its hash table.

On the world of ``shijian bench ingest`` after a build: the records of every ``every``-th load, the smallest file
listed first (DuckDB then estimates the records as that file's rows times the number of files, fewer than the key
combinations), joined to the build's keys and written by ``write_by_entity`` as the build writes them: once with
``joins_as_written`` taken away (DuckDB's choice: the baseline) and once as the build runs it. Each plan runs in a
process of its own, for its own peak memory. Printed: seconds, rows written, peak memory and the plan's build side
of each, and their ratios.

At ``--every`` below 5 DuckDB's choice spills tens of GB into the lake's folder (the whole lake: 37 GB within 2.5
minutes, nothing written yet), so the command refuses that.
"""

from __future__ import annotations

import json
import multiprocessing
import shutil
import tempfile
import time
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

if TYPE_CHECKING:
    import duckdb

PLANS = ("duckdb", "keys")  # the baseline first
MIN_EVERY = 5


def run(work: Path, every: int, console: Console) -> dict[str, Any]:
    from shijian.lake import state as build_state
    from shijian.lake.store import Lake

    if every < MIN_EVERY:
        raise ValueError(f"--every must be at least {MIN_EVERY}: below, DuckDB's plan spills tens of GB to disk")
    lake = Lake(work / "lake")
    keys = sorted((lake.root / "build" / "keys").glob("*.parquet"))
    if not keys or not lake.has_records():
        raise FileNotFoundError(f"no built lake in {work}: run `shijian bench ingest` (with its build) first")
    files = [str(lake.root / f) for f in build_state.record_files(lake)][::every]
    report: dict[str, Any] = {"every": every, "files": len(files)}
    with multiprocessing.get_context("spawn").Pool(1, maxtasksperchild=1) as pool:
        for plan in PLANS:
            console.print(f"{plan}: the pass over {len(files)} files ...")
            r = pool.apply(_one, (plan, files, [str(k) for k in keys], str(lake.root)))
            report[plan] = r
            console.print(
                f"{plan}: {r['written']:,} of {r['records']:,} records written in {r['seconds']} s, "
                f"peak {r['peak_rss_mb']:,} MB, hash table from the {r['build_side']}"
            )
    base, new = report["duckdb"], report["keys"]
    report["ratio_seconds"] = round(new["seconds"] / base["seconds"], 3)
    report["ratio_peak_memory"] = round(new["peak_rss_mb"] / base["peak_rss_mb"], 3)
    return report


def _one(plan: str, files: list[str], keys: list[str], root: str) -> dict[str, Any]:
    """One plan in a fresh process: the pass timed, its peak memory read from the kernel."""
    import pyarrow.parquet as pq

    from shijian.lake import build, steps
    from shijian.lake.sql import joins_as_written, sql_literal

    rows = {f: pq.ParquetFile(f).metadata.num_rows for f in files}
    first = min(files, key=rows.__getitem__)
    listed = ", ".join(sql_literal(f) for f in [first, *(f for f in files if f != first)])
    buckets = build.bucket_count(sum(rows.values()))
    tmp = Path(tempfile.mkdtemp(prefix="bench-join-", dir=root))
    try:
        con = build.build_connection(tmp, None)
        con.execute(f"CREATE VIEW records AS SELECT * FROM read_parquet([{listed}], hive_partitioning = true)")
        con.execute(f"CREATE TABLE keys AS SELECT * FROM read_parquet([{', '.join(map(sql_literal, keys))}])")
        columns = [str(r[0]) for r in con.execute("DESCRIBE SELECT * FROM records").fetchall()]
        select = steps.records_linked_select(buckets, columns, hashed=True)
        if plan == "duckdb":  # the pass without its guard, in this process only
            vars(build)["joins_as_written"] = _unguarded
        with joins_as_written(con) if plan == "keys" else nullcontext():
            side = build_side(con, select)
        t0 = time.perf_counter()
        written = build.write_by_entity(con, select, buckets, tmp / "out", None, (tmp / "out" / "u.parquet", columns))
        seconds = round(time.perf_counter() - t0, 1)
        con.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "records": sum(rows.values()),
        "first_file_rows": rows[first],
        "buckets": buckets,
        "written": written,
        "seconds": seconds,
        "peak_rss_mb": _peak_mb(),
        "build_side": side,
    }


def _unguarded(_con: duckdb.DuckDBPyConnection) -> AbstractContextManager[None]:
    return nullcontext()


def build_side(con: duckdb.DuckDBPyConnection, select: str) -> str:
    """What the plan of ``select`` builds its (first) hash join's table from: ``keys`` (a table of that name),
    ``records``, or ``?`` without a hash join. The build side is the join's second child."""
    plan = json.loads(con.execute("EXPLAIN (FORMAT json) " + select).fetchall()[0][1])

    def join(node: dict[str, Any]) -> dict[str, Any] | None:
        if node["name"] == "HASH_JOIN":
            return node
        return next((j for c in node["children"] if (j := join(c)) is not None), None)

    found = join(plan[0])
    return "?" if found is None else ("keys" if "main.keys" in json.dumps(found["children"][1]) else "records")


def _peak_mb() -> int:
    """This process's peak resident memory (``VmHWM``: what ``RUSAGE`` would mix with the parent's at the spawn)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    return 0
