"""Data commands: the database, synthetic districts, register loads, feed ingest and the entity-file build."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from shijian.cli.common import console, django_setup, fail, progress_bar, refresh_analytics

app = typer.Typer()
synth_app = typer.Typer(invoke_without_command=True, no_args_is_help=False)
app.add_typer(synth_app, name="synth")


@app.command()
def migrate() -> None:
    """Create or upgrade the operational database."""
    django_setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    console.print("database ready")


@synth_app.callback()
def synth(
    ctx: typer.Context,
    scale: Annotated[
        str, typer.Option(help="gaoming (~60k entities), foshan (780k) or a number of entities")
    ] = "gaoming",
    seed: Annotated[int, typer.Option(help="random seed; the same seed gives the same district")] = 1,
    out_dir: Annotated[Path, typer.Option("--out", help="output directory")] = Path("var/synth/gaoming"),
    records: Annotated[int | None, typer.Option(help="departmental records in all (default: the scale's)")] = None,
    no_feeds: Annotated[bool, typer.Option("--no-feeds", help="write the register and lists only")] = False,
) -> None:
    """Generate a synthetic district: register, lists and messy departmental feeds (`synth report DIR`: how
    plausible it is)."""
    if ctx.invoked_subcommand is not None:
        return
    from shijian.synth.generator import generate, resolve_scale

    try:
        s = resolve_scale(scale, records)
    except ValueError as exc:
        fail(str(exc))
    if out_dir.exists() and any(out_dir.iterdir()):
        fail(f"{out_dir} is not empty; choose another --out or remove it")
    t0 = time.perf_counter()
    with progress_bar() as update:
        manifest = generate(s, seed, out_dir, update, feeds=not no_feeds)
    feeds = manifest.get("feeds", {"records": 0, "files": []})
    assert isinstance(feeds, dict)
    console.print(
        f"wrote {s.entities:,} entities, {feeds['records']:,} records in {len(feeds['files'])} feed files "
        f"to {out_dir} in {time.perf_counter() - t0:.1f} s"
    )


@synth_app.command("report")
def synth_report(
    folder: Annotated[Path, typer.Argument(help="a district directory written by `shijian synth`")],
) -> None:
    """Each rate of a generated district beside its reference and the ratio; exit 1 when one is out of range."""
    from shijian.synth import report

    if not (folder / "manifest.json").exists() or not (folder / "truth" / "records").is_dir():
        fail(f"{folder} holds no district with feeds (manifest.json, truth/records)")
    lines = report.compare(folder)
    view = Table("figure", "measured", "reference", "accepted", "ratio", "ok")
    for line in lines:
        r = line.ref
        view.add_row(r.key, f"{line.measured:.4g}", f"{r.value:.4g}", f"{r.low:.4g}–{r.high:.4g}",
                     f"{line.ratio:.2f}", "yes" if line.ok else "NO")  # fmt: skip
    console.print(view)
    bad = [line.ref.key for line in lines if not line.ok]
    if bad:
        fail(f"{len(bad)} figure(s) out of range: {', '.join(bad)}", code=1)
    console.print(f"all {len(lines)} figures within their reference ranges")


@app.command()
def load(
    folder: Annotated[Path, typer.Argument(help="a district directory written by `shijian synth`")],
) -> None:
    """Load the entity register and the lists (departments, items, responsibilities, inspectors)."""
    django_setup()
    from django.conf import settings

    from shijian.core.request_context import acting_as
    from shijian.registry.loader import LoadError, load_district

    report_dir = Path(settings.HOME) / "loads" / time.strftime("%Y%m%d-%H%M%S")
    t0 = time.perf_counter()
    try:
        with acting_as(None), progress_bar() as update:
            result = load_district(folder, report_dir, update)
    except LoadError as exc:
        fail(str(exc))
    dt = time.perf_counter() - t0
    table = Table(title=f"load report ({dt:.1f} s) — {report_dir / 'load-report.json'}")
    for col in ("file", "read", "loaded", "present", "duplicates", "quarantined", "reconciles"):
        table.add_column(col)
    for r in result["register"]:
        table.add_row(
            Path(r["file"]).name,
            f"{r['rows_read']:,}",
            f"{r['loaded']:,}",
            f"{r['already_present']:,}",
            f"{r['duplicates']:,}",
            f"{r['quarantined']:,}",
            "yes" if r["reconciles"] else "NO",
        )
    console.print(table)
    console.print("lists: " + ", ".join(f"{k} {v}" for k, v in result["lists"].items()))
    for r in result["register"]:
        if r["quarantine_file"]:
            console.print(f"quarantined rows and reasons: {r['quarantine_file']}")
    if not all(r["reconciles"] for r in result["register"]):
        fail("counts do not reconcile", 1)
    refresh_analytics()


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="files or directories of departmental feeds")],
    mapping: Annotated[Path | None, typer.Option(help="directory of *.toml feed mappings (default: shipped)")] = None,
    lake: Annotated[Path | None, typer.Option(help="lake directory (default: $SHIJIAN_LAKE or var/lake)")] = None,
    workers: Annotated[int | None, typer.Option(help="files ingested in parallel (default: one per core)")] = None,
) -> None:
    """Clean, validate and load departmental feeds into the record lake; bad rows go to quarantine."""
    django_setup()
    from django.conf import settings

    from shijian.ingest.mapping import MappingError, load_mappings
    from shijian.ingest.pipeline import ingest as run_ingest
    from shijian.ingest.pipeline import summary
    from shijian.lake.store import Lake

    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        fail(f"no such file or directory: {', '.join(missing)}")
    try:
        mappings = load_mappings(mapping)
    except MappingError as exc:
        fail(str(exc))
    store = Lake(lake or Path(settings.SHIJIAN_LAKE))
    t0 = time.perf_counter()
    with progress_bar() as update:
        reports = run_ingest(paths, mappings, store, update, workers)
    seconds = time.perf_counter() - t0
    totals = summary(reports)
    table = Table(
        title=f"ingest into {store.root} ({seconds:.1f} s, {totals['rows_read'] / max(seconds, 1e-9):,.0f} rows/s)"
    )
    for col in ("file", "status", "read", "accepted", "quarantined", "duplicates", "note"):
        table.add_column(col)
    for r in reports:
        if r.status == "skipped":
            continue
        note = r.message or ", ".join(f"{k}: {v}" for k, v in r.reasons.items())
        table.add_row(
            Path(r.file).name,
            r.status,
            f"{r.rows_read:,}",
            f"{r.accepted:,}",
            f"{r.quarantined:,}",
            f"{r.duplicates:,}",
            note[:90],
        )
    console.print(table)
    console.print(
        f"rows read {totals['rows_read']:,} = accepted {totals['accepted']:,} + quarantined "
        f"{totals['quarantined']:,} + duplicates {totals['duplicates']:,}"
        f" ({'reconciles' if totals['reconciles'] else 'DOES NOT RECONCILE'}); files: {totals['loaded']} loaded, "
        f"{totals['already_loaded']} already loaded, {totals['rejected']} rejected, {totals['skipped']} skipped"
    )
    if totals["rejected"]:
        raise typer.Exit(1)


@app.command()
def build(
    lake: Annotated[Path | None, typer.Option(help="lake directory (default: $SHIJIAN_LAKE or var/lake)")] = None,
    truth: Annotated[
        Path | None, typer.Option(help="a synthetic district's truth/ folder: report linkage precision and recall")
    ] = None,
    engine: Annotated[str, typer.Option(help="duckdb (default) or spark")] = "duckdb",
    spark_master: Annotated[str, typer.Option(help="Spark master URL for --engine spark")] = "local[*]",
    incremental: Annotated[
        bool,
        typer.Option(
            "--incremental",
            help="only what changed since the last build: new loads, register changes, linkage decisions "
            "(a full build, with the reason, where it cannot add to the last one)",
        ),
    ] = False,
) -> None:
    """Link lake records to entities and build one file per entity (一户一档); sync it to the database and keep the
    record-text search index."""
    django_setup()
    from django.conf import settings

    from shijian.lake.build import linkage_quality, run_build
    from shijian.lake.incremental import NOTHING, run_incremental
    from shijian.lake.spark import SparkUnavailable, run_build_spark
    from shijian.lake.store import Lake

    store = Lake(lake or Path(settings.SHIJIAN_LAKE))
    if engine not in {"duckdb", "spark"}:
        fail("--engine must be duckdb or spark")
    if incremental and engine != "duckdb":
        fail("--incremental runs on the duckdb engine")
    try:
        with progress_bar() as update:
            if engine == "spark":
                report = run_build_spark(store, update, spark_master)
            else:
                report = (run_incremental if incremental else run_build)(store, update)
    except FileNotFoundError as exc:
        fail(str(exc))
    except SparkUnavailable as exc:  # pyspark missing: the message says how to install the extra
        fail(str(exc))
    if incremental and report.mode == "full":
        console.print(f"built in full: {report.reason}")
    elif incremental and report.reason == NOTHING:
        console.print(f"incremental: {NOTHING}; nothing to do")
        return
    elif incremental:
        console.print(
            f"incremental: {report.new_loads} new loads, {report.affected_entities:,} entities updated"
            + (f" ({report.reason})" if report.reason else "")
        )
    table = Table(title=f"{report.mode} build of {store.root} ({report.total_seconds:.1f} s)")
    table.add_column("step")
    table.add_column("seconds", justify="right")
    for name, secs in report.seconds.items():
        table.add_row(name, f"{secs:.2f}")
    console.print(table)
    linked = sum(report.linked.values())
    ratio = (
        f"; build / raw scan = {report.total_seconds / report.raw_scan_seconds:.0f}x" if report.raw_scan_seconds else ""
    )
    new = "new " if report.mode == "incremental" else ""
    console.print(
        f"{report.records:,} {new}records: {linked:,} linked ("
        + ", ".join(f"{k} {v:,}" for k, v in sorted(report.linked.items()))
        + f"), {report.unlinked:,} unlinked in all (review queue); {report.entities_with_records:,} entity files, "
        f"{report.synced:,} synced{ratio}"
    )
    if truth is not None:
        q = linkage_quality(store, truth)
        console.print(
            f"linkage against the truth: precision {q['precision']}, recall {q['recall']} "
            f"({q['correct']:,} correct of {q['links']:,} links; {q['linkable']:,} linkable records)"
        )
    refresh_analytics()
