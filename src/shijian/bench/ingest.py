"""``shijian bench ingest``: departmental feeds -> lake -> entity files at scale, with baselines from the same run.

Figures: register load rate; ingest rows/s, in all and for each of its two timed parts (the GB18030 CSV files,
then the UTF-8 CSV and Excel files), against a decode-and-parse floor (``iconv`` + DuckDB ``read_csv`` count of a
sample of the same files) and against merely reading every byte of the files once; build seconds per step
against a raw DuckDB scan of the lake's Parquet files; peak memory of the benchmark process and of its worker
processes.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console


def _rss_mb(workers_mb: int | None) -> dict[str, int]:
    """Peak resident memory: this process, and the largest of the ingest workers (each measures its own, with
    ``VmHWM``: ``RUSAGE_CHILDREN`` would report the parent's memory at the fork of every spawned worker)."""
    out = {"benchmark_process": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
    if workers_mb is not None:
        out["largest_worker"] = workers_mb
    return out


def _parse_floor(files: list[Path]) -> tuple[int, float]:
    """Rows and seconds to merely decode (iconv for GB18030) and parse (DuckDB read_csv) these files."""
    import duckdb

    from shijian.ingest.reader import detect_file_encoding

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    rows = 0
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for f in files:
            path = f
            if detect_file_encoding(f) != "utf-8":
                path = Path(tmp) / "u.csv"
                with path.open("wb") as out:
                    subprocess.run(["iconv", "-f", "GB18030", "-t", "UTF-8", str(f)], stdout=out, check=True)
            row = con.execute(f"SELECT count(*) FROM read_csv('{path}', all_varchar = true, header = true)").fetchone()
            rows += int(row[0]) if row else 0
    return rows, time.perf_counter() - t0


def _read_floor(files: list[Path]) -> float:
    """Seconds to merely read every byte of these files once, two readers (as the ingest's two workers). Measured
    after the ingest: where the files outgrow the page cache this is the disk's speed, the floor of any ingest."""
    from concurrent.futures import ThreadPoolExecutor

    def read(f: Path) -> int:
        buf = bytearray(8 << 20)
        n = 0
        with f.open("rb", buffering=0) as fh:
            while k := fh.readinto(buf):
                n += k
        return n

    t0 = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        sum(pool.map(read, sorted(files, key=lambda f: -f.stat().st_size)))
    return time.perf_counter() - t0


def run(
    scale: str,
    work: Path,
    console: Console,
    seed: int = 1,
    workers: int | None = None,
    with_build: bool = True,
    with_ingest: bool = True,
) -> dict[str, Any]:
    """The whole chain; ``with_ingest=False`` rebuilds on the register and lake a previous run left in ``work``."""
    work = work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    db = work / "ingest.sqlite3"
    if not with_ingest and not (db.exists() and (work / "lake" / "records").is_dir()):
        raise FileNotFoundError(f"nothing to rebuild in {work}: run `shijian bench ingest` without --build-only first")
    if with_ingest:
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
    os.environ["SHIJIAN_DATABASE_URL"] = f"sqlite:///{db}"
    os.environ.setdefault("SHIJIAN_HOME", str(work / "home"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shijian.config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from shijian.core.request_context import acting_as
    from shijian.ingest.mapping import load_mappings
    from shijian.ingest.pipeline import expand, head_is_utf8, ingest, summary
    from shijian.lake.build import run_build
    from shijian.lake.store import Lake
    from shijian.registry.loader import load_district
    from shijian.synth.generator import generate, resolve_scale

    s = resolve_scale(scale)
    synth = Path(os.environ.get("SHIJIAN_BENCH_SYNTH", str(Path("var/synth") / s.name))).resolve()
    worker_mb: int | None = None  # the ingest workers' peak, when this run ingests
    report: dict[str, Any] = {
        "scale": s.name,
        "entities": s.entities,
        "records": s.records,
        "machine": f"{os.cpu_count()} cores",
    }
    lake = Lake(work / "lake")
    call_command("migrate", interactive=False, verbosity=0)
    if with_ingest:
        if not (synth / "manifest.json").exists():
            console.print(f"generating the {s.name} district into {synth} (once; reused afterwards) ...")
            t0 = time.perf_counter()
            generate(s, seed, synth)
            report["generate_s"] = round(time.perf_counter() - t0, 1)
        files = [f for f, _root in expand([synth / "feeds"])]
        report["feed_files"] = len(files)
        report["feed_bytes_gb"] = round(sum(f.stat().st_size for f in files) / 1e9, 1)
        t0 = time.perf_counter()
        with acting_as(None):
            loaded = load_district(synth, work / "load-report")
        secs = time.perf_counter() - t0
        n = loaded["register"][0]["loaded"]
        report["register_load"] = {"entities": n, "seconds": round(secs, 1), "rows_per_s": round(n / secs)}
        console.print(f"register: {n:,} entities in {secs:.1f} s")

        sample = [f for f in files if f.suffix == ".csv"][::8]
        floor_rows, floor_s = _parse_floor(sample)
        shutil.rmtree(lake.root, ignore_errors=True)
        # One ingest of every file, run in two timed parts: the GB18030 feeds, then the rest (UTF-8, Excel).
        gb = {f for f in files if f.suffix.lower() in {".csv", ".txt"} and not head_is_utf8(f)}
        parts: dict[str, dict[str, Any]] = {}
        reports = []
        t0 = time.perf_counter()
        for label, chosen in (("gb18030_csv", lambda f: f in gb), ("utf8_csv_and_excel", lambda f: f not in gb)):
            t1 = time.perf_counter()
            part = ingest([synth], load_mappings(), lake, workers=workers, select=chosen)
            part_s = time.perf_counter() - t1
            part_rows = sum(r.rows_read for r in part if r.status == "loaded")
            parts[label] = {
                "files": sum(r.status == "loaded" for r in part),
                "rows": part_rows,
                "seconds": round(part_s, 1),
                "rows_per_s": round(part_rows / part_s) if part_s else 0,
            }
            rate = parts[label]["rows_per_s"]
            console.print(f"ingest, {label}: {part_rows:,} rows in {part_s:.1f} s ({rate:,} rows/s)")
            reports += part
        secs = time.perf_counter() - t0
        totals = summary(reports)
        worker_mb = max((r.peak_rss_mb for r in reports), default=0)
        by_enc: dict[str, list[float]] = {}
        engines: dict[str, int] = {}
        fallbacks: dict[str, int] = {}
        for r in reports:
            if r.status == "loaded":
                acc = by_enc.setdefault(r.encoding, [0, 0.0])
                acc[0] += r.rows_read
                acc[1] += r.seconds
                engines[r.engine] = engines.get(r.engine, 0) + 1
                if r.fallback:
                    fallbacks[r.fallback] = fallbacks.get(r.fallback, 0) + 1
        report["ingest"] = {
            **totals,
            "seconds": round(secs, 1),
            "rows_per_s": round(totals["rows_read"] / secs),
            "parts": parts,
            "rows_per_s_per_file_by_encoding": {k: round(v[0] / v[1]) for k, v in by_enc.items() if v[1]},
            "files_by_engine": engines,
            "handed_to_sql_because": fallbacks,
            "peak_rss_mb_largest_worker": worker_mb,
            "baseline_decode_parse_rows_per_s": round(floor_rows / floor_s),
            "baseline_sample_files": len(sample),
            "ratio_to_decode_parse": round((secs / totals["rows_read"]) / (floor_s / floor_rows), 2),
        }
        rows = totals["rows_read"]
        console.print(f"ingest: {rows:,} rows in {secs:.1f} s ({rows / secs:,.0f} rows/s)")
        read_s = _read_floor(files)
        report["ingest"]["baseline_read_files_once_s"] = round(read_s, 1)
        report["ingest"]["baseline_read_files_once_rows_per_s"] = round(totals["rows_read"] / read_s)
        report["ingest"]["ratio_to_reading_the_files"] = round(secs / read_s, 2)
        console.print(f"reading the same files once: {read_s:.1f} s (ingest / read = {secs / read_s:.2f})")
        if not with_build:
            report["peak_rss_mb"] = _rss_mb(worker_mb)
            return report
    t0 = time.perf_counter()
    build = run_build(lake)
    report["build"] = {
        "seconds": round(time.perf_counter() - t0, 1),
        "steps": build.seconds,
        "aggregates_and_sync_s": round(build.seconds_detail["aggregate"] + build.seconds["sync"], 1),
        "linked": build.linked,
        "unlinked": build.unlinked,
        "entity_files": build.synced,
        "buckets": build.buckets,
        "seconds_detail": build.seconds_detail,
    }
    # A raw scan that reads every row of the lake (not just Parquet metadata): the fair floor for a build.
    import duckdb

    con = duckdb.connect()
    t1 = time.perf_counter()
    con.execute(f"SELECT count(*), sum(amount), count(DISTINCT uscc) FROM read_parquet('{lake.records_glob()}')")
    full_scan = time.perf_counter() - t1
    report["build"]["raw_full_scan_s"] = round(full_scan, 2)
    report["build"]["ratio_aggregates_and_sync_to_full_scan"] = round(
        report["build"]["aggregates_and_sync_s"] / full_scan, 1
    )
    report["build"]["ratio_build_to_full_scan"] = round(report["build"]["seconds"] / full_scan, 1)
    import random

    ids = [
        int(x)
        for x in con.execute(
            f"SELECT entity_id FROM read_parquet('{lake.root}/build/entity_files.parquet') USING SAMPLE 200 ROWS"
        ).fetchall()
        for x in x
    ]
    random.Random(3).shuffle(ids)
    report.update(lake_lookups(lake, ids))
    report["entity_page_ms"] = _entity_pages(lake, ids)
    report["peak_rss_mb"] = _rss_mb(worker_mb)
    return report


def lake_lookups(lake: Any, ids: list[int]) -> dict[str, dict[str, float]]:
    """One entity's records read from the lake: the timeline's first page (the entity page), and the counts by
    type and by department (the API's entity file), for each of ``ids``."""
    from shijian.lake.query import entity_counts, entity_timeline

    out = {}
    for name, lookup in (("timeline_lookup_ms", entity_timeline), ("entity_counts_ms", entity_counts)):
        lat = []
        for eid in ids:
            t1 = time.perf_counter()
            lookup(lake, eid)
            lat.append(time.perf_counter() - t1)
        out[name] = {**_latency_ms(lat), "lookups": len(lat)}
    return out


def _entity_pages(lake: Any, ids: list[int]) -> dict[str, float]:
    """The whole entity page as a signed-in user gets it (register data, the entity file, risk, the first page
    of the timeline from the lake), through Django's request handling, for the same entities as the lookups."""
    from django.contrib.auth import get_user_model
    from django.test import override_settings

    from shijian.bench.signin import client_for

    user, _created = get_user_model().objects.get_or_create(
        username="bench-ingest", defaults={"is_superuser": True, "is_staff": True}
    )
    client = client_for(user)
    lat = []
    with override_settings(SHIJIAN_LAKE=lake.root):
        for eid in ids[:10]:  # the first requests load templates and code
            client.get(f"/entities/{eid}/")
        for eid in ids:
            t0 = time.perf_counter()
            response = client.get(f"/entities/{eid}/")
            lat.append(time.perf_counter() - t0)
            if response.status_code != 200 or b'id="timeline"' not in response.content:
                raise RuntimeError(f"/entities/{eid}/ answered {response.status_code} without its timeline")
    return {**_latency_ms(lat), "pages": len(lat)}


def _latency_ms(seconds: list[float]) -> dict[str, float]:
    """Median and p95 in milliseconds (the p95 interpolated, as the other benchmarks report it)."""
    import statistics

    from shijian.bench.web import _percentile

    return {"median": round(statistics.median(seconds) * 1000, 1), "p95": round(_percentile(seconds, 0.95) * 1000, 1)}
