"""Benchmarks: figures as ratios to a baseline measured in the same run."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from shijian.cli.common import console, django_setup, fail, out

app = typer.Typer(help="Benchmarks (figures as ratios to a baseline measured in the same run).", no_args_is_help=True)


@app.command("web")
def bench_web(
    scale: Annotated[str, typer.Option(help="foshan (780k entities), gaoming or a number")] = "foshan",
    requests: Annotated[int, typer.Option(help="requests per page kind")] = 300,
    db: Annotated[
        str,
        typer.Option(
            help="SQLite file to (re)use, or 'postgres' (postgres://postgres@127.0.0.1:5432/shijian_bench_web, "
            "SHIJIAN_BENCH_POSTGRES_URL overrides) or a postgres:// URL; the database is created if missing"
        ),
    ] = "var/bench/web.sqlite3",
) -> None:
    """Entity list and page latency (median, p95) and bulk-load rate at scale, in SQLite or PostgreSQL."""
    from shijian.bench.web import run

    report = run(scale, requests, db, console)
    out.print_json(json.dumps(report, ensure_ascii=False))


@app.command("export")
def bench_export(
    writer: Annotated[str, typer.Option(help="xlsxwriter (export jobs), openpyxl (as before) or none (read only)")] = (
        "xlsxwriter"
    ),
    rows: Annotated[int, typer.Option(help="first N rows of the entity export; 0: the whole export as a job")] = 0,
    db: Annotated[str, typer.Option(help="the database `shijian bench web` built (SQLite file or postgres:// URL)")] = (
        "var/bench/web.sqlite3"
    ),
) -> None:
    """The entity Excel export at 780k rows: time and peak memory of one writer, in a process of its own."""
    from shijian.bench.web import database_url

    if writer not in {"xlsxwriter", "openpyxl", "none"}:
        fail(f"--writer {writer}: xlsxwriter, openpyxl or none")
    url = database_url(db)
    os.environ["SHIJIAN_DATABASE_URL"] = url
    if url.startswith("sqlite:"):
        os.environ.setdefault("SHIJIAN_HOME", str(Path(url.removeprefix("sqlite:///")).parent / "home"))
    django_setup()
    from shijian.bench.export import run

    report = run(writer, rows, Path(os.environ.get("SHIJIAN_HOME", "var")) / "bench-export")
    out.print_json(json.dumps(report, ensure_ascii=False, default=str))


@app.command("draw")
def bench_draw(
    entities: Annotated[int, typer.Option(help="candidate entities (Foshan: 780,000)")] = 780_000,
    work: Annotated[Path, typer.Option(help="working directory (SQLite database, draw files)")] = Path(
        "var/bench/draw"
    ),
) -> None:
    """A Foshan-scale 双随机 batch (~31k of 780k drawn, 2,000 officers, 20 departments) frozen, drawn, staffed."""
    work.mkdir(parents=True, exist_ok=True)
    os.environ["SHIJIAN_HOME"] = str(work.resolve())
    os.environ["SHIJIAN_DATABASE_URL"] = f"sqlite:///{(work / 'draw.sqlite3').resolve()}"
    django_setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from shijian.bench.draw import run

    report = run(entities, console)
    out.print_json(json.dumps(report, ensure_ascii=False))


@app.command("hazards")
def bench_hazards(
    entries: Annotated[int, typer.Option(help="entries in the library")] = 500_000,
    requests: Annotated[int, typer.Option(help="requests per list page")] = 200,
    work: Annotated[Path, typer.Option(help="working directory (the bench draw world is reused)")] = Path(
        "var/bench/draw"
    ),
) -> None:
    """The hazard library's list pages (p50/p95 per filter) and dashboards with 500k entries, in SQLite."""
    work.mkdir(parents=True, exist_ok=True)
    os.environ["SHIJIAN_HOME"] = str(work.resolve())
    os.environ["SHIJIAN_DATABASE_URL"] = f"sqlite:///{(work / 'draw.sqlite3').resolve()}"
    os.environ.setdefault("SHIJIAN_HTTPS", "0")
    django_setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from shijian.bench.hazards import run

    report = run(entries, requests, console)
    out.print_json(json.dumps(report, ensure_ascii=False))


@app.command("ingest")
def bench_ingest(
    scale: Annotated[str, typer.Option(help="foshan (780k entities, 130M records), gaoming or a number")] = "foshan",
    work: Annotated[Path, typer.Option(help="working directory (database, lake)")] = Path("var/bench/ingest"),
    workers: Annotated[int | None, typer.Option(help="files ingested in parallel (default: one per core)")] = None,
    build: Annotated[bool, typer.Option("--build/--no-build", help="also build the entity files (default)")] = True,
    build_only: Annotated[
        bool, typer.Option("--build-only", help="rebuild on the register and lake a previous run left in --work")
    ] = False,
) -> None:
    """Register load, feed ingest and entity-file build at scale (generates the district once, then reuses it)."""
    from shijian.bench.ingest import run

    if build_only and not build:
        console.print("[red]--build-only and --no-build together leave nothing to do[/red]")
        raise typer.Exit(2)
    try:
        report = run(scale, work, console, workers=workers, with_build=build, with_ingest=not build_only)
    except FileNotFoundError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    out.print_json(json.dumps(report, ensure_ascii=False, default=str))


@app.command("incremental")
def bench_incremental(
    work: Annotated[Path, typer.Option(help="the world built by `shijian bench ingest`")] = Path("var/bench/ingest"),
    share: Annotated[float, typer.Option(help="the delivery's share of the lake's records (a day's: about 0.01)")] = (
        0.01
    ),
    registrations: Annotated[int, typer.Option(help="new entities in the day's register changes")] = 780,
    renames: Annotated[int, typer.Option(help="renamed entities in the day's register changes")] = 100,
) -> None:
    """A day's delivery, then a day's register changes, through `build --incremental`, against a full build of the
    same lake, in one run (the register changes stay in the world's database)."""
    from shijian.bench.incremental import run

    if not 0 < share <= 0.5:
        fail("--share must be above 0 and at most 0.5")
    if registrations < 0 or renames < 0:
        fail("--registrations and --renames cannot be negative")
    try:
        report = run(work, share, console, registrations, renames)
    except FileNotFoundError as exc:
        fail(str(exc))
    out.print_json(json.dumps(report, ensure_ascii=False, default=str))


@app.command("join")
def bench_join(
    work: Annotated[Path, typer.Option(help="the world built by `shijian bench ingest`")] = Path("var/bench/ingest"),
    every: Annotated[int, typer.Option(help="every n-th load of the lake (at least 5: below, the baseline spills)")] = (
        10
    ),
) -> None:
    """The by-entity pass's join to the keys: DuckDB's own plan (the baseline) against the keys as its hash table,
    on every n-th load with the smallest file first."""
    from concurrent.futures.process import BrokenProcessPool

    import duckdb

    from shijian.bench.join import Refused, run

    try:
        report = run(work, every, console)
    except Refused as exc:
        fail(str(exc))
    except BrokenProcessPool:
        fail("a plan's process was killed (out of memory?): nothing measured")
    except (duckdb.Error, OSError) as exc:
        fail(f"the pass failed: {exc}")
    out.print_json(json.dumps(report, ensure_ascii=False, default=str))


@app.command("search")
def bench_search(
    work: Annotated[Path, typer.Option(help="the world built by `shijian bench ingest`")] = Path("var/bench/ingest"),
    engine: Annotated[str, typer.Option(help="sqlite (the world's database) or postgresql (a fresh database)")] = (
        "sqlite"
    ),
    database_url: Annotated[str, typer.Option(help="with --engine postgresql: the database to fill")] = (
        "postgres://postgres@127.0.0.1:5432/shijian_bench_search"
    ),
    rebuild: Annotated[bool, typer.Option(help="build the index again even when the world has one")] = False,
) -> None:
    """Full-text search over the lake's record texts: the index built, then a mix of questions as four users,
    against a scan of the same texts without the index (reuses bench ingest's world)."""
    from shijian.bench.search import run

    if engine not in ("sqlite", "postgresql"):
        fail("--engine must be sqlite or postgresql")
    try:
        report = run(work, engine, database_url, rebuild, console)
    except FileNotFoundError as exc:
        fail(str(exc))
    out.print_json(json.dumps(report, ensure_ascii=False, default=str))


@app.command("analytics")
def bench_analytics(
    work: Annotated[Path, typer.Option(help="the world built by `shijian bench ingest`")] = Path("var/bench/ingest"),
    requests: Annotated[int, typer.Option(help="requests per page")] = 20,
) -> None:
    """Dashboard figures for every scope and the dashboard/forecast pages at Foshan scale (reuses bench ingest)."""
    from shijian.bench.analytics import run

    try:
        report = run(work, requests, console)
    except FileNotFoundError as exc:
        fail(str(exc))
    out.print_json(json.dumps(report, ensure_ascii=False))


@app.command("risk")
def bench_risk(
    entities: Annotated[int, typer.Option(help="entities (Foshan: 780,000)")] = 780_000,
    records: Annotated[int, typer.Option(help="departmental records in the synthetic district")] = 40_000_000,
    horizon: Annotated[int, typer.Option(help="label window in months")] = 12,
    work: Annotated[Path, typer.Option(help="working directory (database, lake, synthetic feeds)")] = Path(
        "var/bench/risk"
    ),
) -> None:
    """The risk model at Foshan's entity count: factors vs a raw scan, training, scoring all, the monthly refresh."""
    work = work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    os.environ["SHIJIAN_HOME"] = str(work / "home")
    os.environ["SHIJIAN_LAKE"] = str(work / "lake")
    os.environ["SHIJIAN_DATABASE_URL"] = f"sqlite:///{work / 'risk.sqlite3'}"
    django_setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from shijian.bench.risk import run

    report = run(entities, records, horizon, work, console)
    out.print_json(json.dumps(report, ensure_ascii=False, default=str))


@app.command("ocr")
def bench_ocr(
    n: Annotated[int, typer.Option(help="licence images (200: about 3 min on 2 idle cores)")] = 200,
    seed: Annotated[int, typer.Option(help="seed of the renders (same seed, same images)")] = 1,
    clean: Annotated[bool, typer.Option(help="undistorted renders (the ceiling) instead of photos")] = False,
) -> None:
    """营业执照 OCR: USCC exact-match (raw, corrected), name character accuracy, seconds per image, peak memory."""
    from shijian.bench.ocr import run
    from shijian.ocr.reader import OcrUnavailable

    try:
        report = run(n, seed, not clean, console)
    except (OcrUnavailable, FileNotFoundError) as exc:
        fail(str(exc))
    out.print_json(json.dumps(report, ensure_ascii=False))
