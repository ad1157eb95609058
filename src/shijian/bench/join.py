"""``shijian bench join``: the by-entity pass's join as DuckDB's optimizer plans it, against the keys as its hash table.

On the world of ``shijian bench ingest`` after a build: the records of every ``every``-th load, the smallest file
listed first (DuckDB then estimates the records as that file's rows times the number of files, fewer than the key
combinations), joined to the build's keys and written by ``write_by_entity`` as the build writes them: once with
``joins_as_written`` taken away (DuckDB's choice: the baseline) and once as the build runs it. The files are read
once before either plan (both start from a warm page cache); each plan runs in a process of its own, for its own
peak memory. Printed for each: seconds, rows written, peak memory, the most DuckDB had spilled to disk (sampled
every 0.2 s), and the build side of the join the pass planned (recorded as it planned it); then their ratios.

Over the whole lake DuckDB's choice spilled 37 GB within 2.5 minutes, nothing written yet (docs/benchmarks.md):
as a precaution the command takes at most every 5th load.
"""

from __future__ import annotations

import multiprocessing
import shutil
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import AbstractContextManager, nullcontext, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

if TYPE_CHECKING:
    import duckdb

PLANS = ("duckdb", "keys")  # the baseline first
MIN_EVERY = 5


class Refused(Exception):
    """The command cannot run on what it was given (the message says why)."""


def run(work: Path, every: int, console: Console) -> dict[str, Any]:
    from shijian.lake import state as build_state
    from shijian.lake.store import Lake

    if every < MIN_EVERY:
        raise Refused(f"--every must be at least {MIN_EVERY} (over the whole lake DuckDB's own plan spills tens of GB)")
    lake = Lake(work / "lake")
    keys = sorted((lake.root / "build" / "keys").glob("*.parquet"))
    if not keys or not lake.has_records():
        raise Refused(f"no built lake in {work}: run `shijian bench ingest` (with its build) first")
    files = [str(lake.root / f) for f in build_state.record_files(lake)][::every]
    for f in files:  # into the page cache, for both plans alike
        with open(f, "rb") as fh:
            while fh.read(1 << 24):
                pass
    report: dict[str, Any] = {"every": every, "files": len(files)}
    for plan in PLANS:
        console.print(f"{plan}: the pass over {len(files)} files ...")
        tmp = Path(tempfile.mkdtemp(prefix="bench-join-", dir=lake.root))
        try:  # a fresh process per plan; one killed (out of memory) is an error here, not a hang
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                r = pool.submit(_one, plan, files, [str(k) for k in keys], str(tmp)).result()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        report[plan] = r
        console.print(
            f"{plan}: {r['written']:,} of {r['records']:,} records written in {r['seconds']:.1f} s, "
            f"peak {r['peak_rss_mb']:,} MB, spilled {r['spilled_mb']:,} MB, hash table from the {r['build_side']}"
        )
    base, new = report["duckdb"], report["keys"]
    if base["build_side"] != "records":
        console.print("[yellow]DuckDB's own plan built the keys here too: the two plans are the same[/yellow]")
    report["ratio_seconds"] = round(new["seconds"] / max(base["seconds"], 1e-9), 3)
    report["ratio_peak_memory"] = round(new["peak_rss_mb"] / max(base["peak_rss_mb"], 1), 3)
    return report


class Planning:
    """The connection, noting the build side of the join in each query ``write_by_entity`` plans through ``sql()``,
    under the settings in force as it plans it."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.sides: list[str] = []

    def sql(self, query: str) -> duckdb.DuckDBPyRelation:
        self.sides.append(build_side(self.con, query))
        return self.con.sql(query)

    def __getattr__(self, name: str) -> Any:  # everything else is the connection's
        return getattr(self.con, name)


def _one(plan: str, files: list[str], keys: list[str], tmp: str) -> dict[str, Any]:
    """One plan in a fresh process: the pass timed, its peak memory read from the kernel, the spill sampled."""
    import pyarrow.parquet as pq

    from shijian.ingest.pipeline import peak_rss_mb
    from shijian.lake import build, steps
    from shijian.lake.sql import sql_literal

    rows = {f: pq.ParquetFile(f).metadata.num_rows for f in files}
    first = min(files, key=rows.__getitem__)
    listed = ", ".join(sql_literal(f) for f in [first, *(f for f in files if f != first)])
    buckets = build.bucket_count(sum(rows.values()))
    con = build.build_connection(Path(tmp), None)
    con.execute(f"CREATE VIEW records AS SELECT * FROM read_parquet([{listed}], hive_partitioning = true)")
    con.execute(f"CREATE TABLE keys AS SELECT * FROM read_parquet([{', '.join(map(sql_literal, keys))}])")
    columns = [str(r[0]) for r in con.execute("DESCRIBE SELECT * FROM records").fetchall()]
    select = steps.records_linked_select(buckets, columns, hashed=True)
    if plan == "duckdb":  # the pass without its guard, in this process only
        vars(build)["joins_as_written"] = _unguarded
    planning = Planning(con)
    spill = _SpillWatch(Path(tmp) / "spill")
    t0 = time.perf_counter()
    with spill:
        written = build.write_by_entity(
            planning,  # type: ignore[arg-type] # the connection, seen planning
            select,
            buckets,
            Path(tmp) / "out",
            None,
            (Path(tmp) / "out" / "unlinked.parquet", columns),
        )
    seconds = time.perf_counter() - t0
    con.close()
    return {
        "records": sum(rows.values()),
        "first_file_rows": rows[first],
        "buckets": buckets,
        "written": written,
        "seconds": round(seconds, 3),
        "peak_rss_mb": peak_rss_mb(),
        "spilled_mb": round(spill.most / 2**20),
        "build_side": ",".join(planning.sides),
    }


def _unguarded(_con: duckdb.DuckDBPyConnection) -> AbstractContextManager[None]:
    return nullcontext()


class _SpillWatch:
    """The largest size DuckDB's spill folder reached while inside, sampled every 0.2 s."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.most = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._done.wait(0.2):
            size = 0
            for p in self.folder.rglob("*") if self.folder.exists() else ():
                with suppress(OSError):  # removed while summed
                    size += p.stat().st_size
            self.most = max(self.most, size)

    def __enter__(self) -> _SpillWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()


def build_side(con: duckdb.DuckDBPyConnection, select: str) -> str:
    """What the plan of ``select`` builds its (first) hash join's table from: ``keys`` (a table of that name),
    ``records``, or ``?`` without a hash join. The build side is the join's second child."""
    import json

    plan = json.loads(con.execute("EXPLAIN (FORMAT json) " + select).fetchall()[0][1])

    def join(node: dict[str, Any]) -> dict[str, Any] | None:
        if node["name"] == "HASH_JOIN":
            return node
        return next((j for c in node["children"] if (j := join(c)) is not None), None)

    found = join(plan[0])
    return "?" if found is None else ("keys" if "main.keys" in json.dumps(found["children"][1]) else "records")
