"""``shijian``: the one command-line entry point of the platform."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

app = typer.Typer(
    help="Shijian (市监): smart market-supervision platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
user_app = typer.Typer(help="User accounts.", no_args_is_help=True)
bench_app = typer.Typer(
    help="Benchmarks (figures as ratios to a baseline measured in the same run).", no_args_is_help=True
)
draw_app = typer.Typer(help="双随机 draws: verify a published record.", no_args_is_help=True)
calendar_app = typer.Typer(
    help="The working-day calendar (public holidays, make-up working days).", no_args_is_help=True
)
hazards_app = typer.Typer(help="The problem and hazard library: scheduled jobs.", no_args_is_help=True)
app.add_typer(hazards_app, name="hazards")
risk_app = typer.Typer(
    help="信用风险研判: fit, backtest and promote models; monthly classes; scoring; uplift; factor screening.",
    no_args_is_help=True,
)
app.add_typer(risk_app, name="risk")
analytics_app = typer.Typer(help="统计分析: dashboard figures per scope, forecasts.", no_args_is_help=True)
app.add_typer(analytics_app, name="analytics")
app.add_typer(draw_app, name="draw")
app.add_typer(calendar_app, name="calendar")
app.add_typer(audit_app, name="audit")
app.add_typer(user_app, name="user")
app.add_typer(bench_app, name="bench")
console = Console(stderr=True)
out = Console()

DEMO_USERS: list[tuple[str, str, str, str]] = [
    # username, role, region, department code
    ("leader", "leader", "440608", ""),
    ("admin", "data_admin", "440608", "440608-SAMR"),
    ("samr", "dept_staff", "440608", "440608-SAMR"),
    ("hecheng", "dept_staff", "440608004", "440608004-SAMRS"),
    ("inspector", "inspector", "440608", "440608-SAMR"),
    ("auditor", "auditor", "440608", ""),
]
DEMO_PASSWORD = "shijian-demo-2026"


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shijian.config.settings")
    import django

    django.setup()


def fail(message: str, code: int = 2) -> NoReturn:
    console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


@contextmanager
def progress_bar() -> Iterator[Any]:
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        tasks: dict[str, TaskID] = {}
        started: dict[str, float] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total, rate="")
                started[stage] = time.perf_counter()
            elapsed = max(time.perf_counter() - started[stage], 1e-6)
            progress.update(tasks[stage], completed=done, total=total, rate=f"{done / elapsed:,.0f}/s")

        yield update


@app.command()
def migrate() -> None:
    """Create or upgrade the operational database."""
    django_setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    console.print("database ready")


@app.command()
def synth(
    scale: Annotated[
        str, typer.Option(help="gaoming (~60k entities), foshan (780k) or a number of entities")
    ] = "gaoming",
    seed: Annotated[int, typer.Option(help="random seed; the same seed gives the same district")] = 1,
    out_dir: Annotated[Path, typer.Option("--out", help="output directory")] = Path("var/synth/gaoming"),
    records: Annotated[int | None, typer.Option(help="departmental records in all (default: the scale's)")] = None,
    no_feeds: Annotated[bool, typer.Option("--no-feeds", help="write the register and lists only")] = False,
) -> None:
    """Generate a synthetic district: register, lists and messy departmental feeds."""
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
    _refresh_analytics()


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
) -> None:
    """Link lake records to entities and build one file per entity (一户一档); sync it to the database."""
    django_setup()
    from django.conf import settings

    from shijian.lake.build import linkage_quality, run_build
    from shijian.lake.store import Lake

    store = Lake(lake or Path(settings.SHIJIAN_LAKE))
    if engine not in {"duckdb", "spark"}:
        fail("--engine must be duckdb or spark")
    try:
        with progress_bar() as update:
            if engine == "spark":
                from shijian.lake.spark import run_build_spark

                report = run_build_spark(store, update, spark_master)
            else:
                report = run_build(store, update)
    except FileNotFoundError as exc:
        fail(str(exc))
    table = Table(title=f"build of {store.root} ({report.total_seconds:.1f} s)")
    table.add_column("step")
    table.add_column("seconds", justify="right")
    for name, secs in report.seconds.items():
        table.add_row(name, f"{secs:.2f}")
    console.print(table)
    linked = sum(report.linked.values())
    console.print(
        f"{report.records:,} records: {linked:,} linked ("
        + ", ".join(f"{k} {v:,}" for k, v in sorted(report.linked.items()))
        + f"), {report.unlinked:,} unlinked (review queue); {report.entities_with_records:,} entity files, "
        f"{report.synced:,} synced; build / raw scan = {report.total_seconds / max(report.raw_scan_seconds, 1e-3):.0f}x"
    )
    if truth is not None:
        q = linkage_quality(store, truth)
        console.print(
            f"linkage against the truth: precision {q['precision']}, recall {q['recall']} "
            f"({q['correct']:,} correct of {q['links']:,} links; {q['linkable']:,} linkable records)"
        )
    _refresh_analytics()


def _refresh_analytics() -> None:
    """Dashboard figures follow every change of the data they show (called after load, build, refresh, demo)."""
    from django.conf import settings

    from shijian.analytics.snapshot import refresh_all

    t0 = time.perf_counter()
    with progress_bar() as update:
        n = refresh_all(Path(settings.SHIJIAN_LAKE), progress=update)
    console.print(f"dashboard figures recomputed for {n} scopes in {time.perf_counter() - t0:.1f} s")


@analytics_app.command("refresh")
def analytics_refresh() -> None:
    """Recompute the dashboard figures of the district, every town/street and every department."""
    django_setup()
    _refresh_analytics()


def _scope(key: str) -> Any:
    """A dashboard scope from the command line; plain ``district`` is the home district (SHIJIAN_HOME_REGION)."""
    from django.conf import settings

    from shijian.analytics import snapshot

    if key == "district":
        key = f"district:{settings.SHIJIAN_HOME_REGION}"
    try:
        return snapshot.Scope.parse(key)
    except ValueError as exc:
        fail(str(exc))


@analytics_app.command("forecast")
def analytics_forecast(
    series: Annotated[str, typer.Option(help="complaints, findings or registrations")] = "complaints",
    scope: Annotated[
        str, typer.Option(help="district (the home district), district:<6 digits>, town:<9 digits> or department:<id>")
    ] = "district",
    section: Annotated[
        str, typer.Option(help="an industry section (GB/T 4754 门类, A-T); default: every industry")
    ] = "",
) -> None:
    """Print a monthly forecast with 80%/95% intervals and its rolling-origin backtest against last year's month."""
    django_setup()
    from django.conf import settings

    from shijian.analytics import forecast, snapshot

    sc = _scope(scope)
    if series not in snapshot.SERIES:
        fail("--series must be complaints, findings or registrations")
    section = section.strip().upper()
    if section and not (len(section) == 1 and "A" <= section <= "T"):
        fail(f"--section must be one industry section letter, A to T, not {section!r}")
    snapshot.get(sc, Path(settings.SHIJIAN_LAKE))
    result = forecast.Forecast.from_dict(snapshot.stored_forecast(sc, series, section))
    if result.message == "too_short":
        fail("not enough history for a forecast (at least 18 complete months)", 1)
    table = Table(title=f"{series}, {sc.key}{' section ' + section if section else ''}: {result.method}")
    for col in ("month", "forecast", "80%", "95%"):
        table.add_column(col)
    for pt in result.points:
        table.add_row(pt.month, f"{pt.mean:.1f}", f"{pt.lo80:.1f}–{pt.hi80:.1f}", f"{pt.lo95:.1f}–{pt.hi95:.1f}")
    console.print(table)
    b = result.backtest
    console.print(
        f"backtest ({b.folds} origins, 1–{b.horizon} months ahead): MAE {b.mae} vs last year's month {b.naive_mae}; "
        f"MAPE {b.mape} vs {b.naive_mape}; actuals inside the 80% interval {b.coverage80}"
    )


@analytics_app.command("report")
def analytics_report(
    scope: Annotated[
        str, typer.Option(help="district (the home district), district:<6 digits>, town:<9 digits> or department:<id>")
    ] = "district",
    month: Annotated[str, typer.Option(help="YYYY-MM, a complete month (default: the last one)")] = "",
    out: Annotated[Path | None, typer.Option(help="PDF file to write (default: report-<scope>-<month>.pdf)")] = None,
) -> None:
    """Write a scope's monthly report (月度报告) as PDF: the month against the month before and a year before,
    trends, the state today and forecasts, with charts."""
    django_setup()
    from django.conf import settings

    from shijian.analytics import report, snapshot

    sc = _scope(scope)
    t0 = time.perf_counter()
    data, computed_at = snapshot.get(sc, Path(settings.SHIJIAN_LAKE))
    try:
        m = report.check_month(data, month.strip())
        body = report.render(
            data, computed_at, m, {name: snapshot.stored_forecast(sc, name) for name in snapshot.SERIES}
        )
    except report.ReportError as exc:
        fail(str(exc))
    path = out or Path(f"report-{sc.key.replace(':', '-')}-{m}.pdf")
    path.write_bytes(body)
    console.print(f"{path}: {len(body):,} bytes, {time.perf_counter() - t0:.2f} s")


@user_app.command("create")
def user_create(
    username: str,
    role: Annotated[str, typer.Option(help="leader, dept_staff, inspector, data_admin or auditor")],
    region: Annotated[str, typer.Option(help="6-digit district, 9-digit town or 12-digit village code")],
    department: Annotated[str, typer.Option(help="department code")] = "",
    password: Annotated[str | None, typer.Option(help="prompted when omitted")] = None,
    superuser: bool = False,
) -> None:
    """Create a user bound to a role, a region and a department."""
    django_setup()
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    from shijian.accounts.models import Role, User
    from shijian.core.codes.tables import divisions
    from shijian.registry.models import Department

    if role not in Role.values:
        fail(f"role must be one of {', '.join(Role.values)}")
    if region not in divisions():
        fail(f"unknown division code {region}")
    dept = None
    if department:
        dept = Department.objects.filter(code=department).first()
        if dept is None:
            fail(f"unknown department {department}")
    if User.objects.filter(username=username).exists():
        fail(f"user {username} exists")
    pw = password or typer.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        validate_password(pw)
    except ValidationError as exc:
        fail("; ".join(exc.messages))
    User.objects.create_user(
        username,
        password=pw,
        role=role,
        region_code=region,
        department=dept,
        is_superuser=superuser,
        is_staff=superuser,
    )
    console.print(f"created {username} ({role}, {region})")


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute the hash chain of the audit log; exit 1 at the first row that does not match."""
    django_setup()
    from shijian.core.audit import verify_chain

    report = verify_chain()
    if report.ok:
        out.print(f"OK: audit chain intact, {report.checked:,} events checked")
        return
    out.print(
        f"BROKEN: event #{report.first_bad_id}: {report.problem} ({report.checked:,} events before it are intact)"
    )
    raise typer.Exit(1)


@draw_app.command("verify")
def draw_verify(
    record_file: Annotated[Path, typer.Argument(help="a draw record (record.json) from the public page")],
    candidates_dir: Annotated[
        Path | None, typer.Option(help="folder of the candidate lists (default: the record's folder)")
    ] = None,
) -> None:
    """Re-run a published draw from its inputs; print VERIFIED (exit 0) or every difference (exit 1)."""
    from shijian.supervision import record as rec
    from shijian.supervision.draw import DrawError

    try:
        data = json.loads(record_file.read_bytes())
    except (OSError, ValueError) as exc:
        fail(f"cannot read {record_file}: {exc}")
    folder = candidates_dir or record_file.parent

    def read(name: str) -> bytes:
        path = folder / Path(name).name
        try:
            return path.read_bytes()
        except OSError:
            fail(f"candidate list {path} is missing: download it from the draw's public page")

    try:
        problems = rec.verify(data, read)
    except (DrawError, KeyError, TypeError) as exc:
        fail(f"not a valid draw record: {exc}")
    if not problems:
        n = len(data["outputs"]["visits"])
        out.print(f"VERIFIED: draw {data.get('draw')} ({n:,} visits) re-runs identically from its published inputs")
        return
    out.print(f"DIFFERENT: {len(problems)} difference(s) between the record and a re-run from its inputs")
    for p in problems[:200]:
        out.print(f"  {p}")
    raise typer.Exit(1)


@hazards_app.command("escalate")
def hazards_escalate(
    today: Annotated[
        str | None, typer.Option(help="the date to judge deadlines by (YYYY-MM-DD; default today)")
    ] = None,
) -> None:
    """Escalate overdue entries to enforcement (立案) and notify their departments. Run it daily (cron)."""
    import datetime as dt

    django_setup()
    from shijian.hazards.services import escalate_overdue

    try:
        day = dt.date.fromisoformat(today) if today else None
    except ValueError:
        fail(f"--today must be YYYY-MM-DD, not {today!r}")
    with progress_bar() as update:
        n = escalate_overdue(day, update)
    out.print(f"{n} overdue entries escalated")


@hazards_app.command("remind")
def hazards_remind(
    lake: Annotated[Path | None, typer.Option(help="lake directory (default: $SHIJIAN_LAKE)")] = None,
) -> None:
    """Rebuild the compliance reminders (annual reports due, licences expiring) from the lake. Run after builds."""
    django_setup()
    from django.conf import settings

    from shijian.hazards.services import refresh_reminders

    counts = refresh_reminders(lake or Path(settings.SHIJIAN_LAKE))
    out.print(", ".join(f"{k}: {v:,}" for k, v in counts.items()))


@risk_app.command("backtest")
def risk_backtest(
    dataset: Annotated[
        str, typer.Option(help="chicago (the shared Chicago food inspections) or a table file")
    ] = "chicago",
    shared: Annotated[Path, typer.Option(help="the shared data folder")] = Path("../shared/data"),
    label: Annotated[str, typer.Option(help="label column (table files)")] = "label",
    date: Annotated[str, typer.Option(help="date column (table files)")] = "date",
    folds: Annotated[int, typer.Option(help="consecutive evaluation periods")] = 6,
    months: Annotated[int, typer.Option(help="months per evaluation period")] = 2,
    budget: Annotated[float, typer.Option(help="share of a period's inspections the budget allows")] = 0.5,
    models: Annotated[str, typer.Option(help="comma-separated: scorecard, logistic, gbm")] = "scorecard,logistic,gbm",
    out_file: Annotated[Path | None, typer.Option("--out", help="write the full report (JSON) here")] = None,
) -> None:
    """Temporal backtest: train before each period, evaluate on it, against random and past-violation baselines."""
    import numpy as np

    from shijian.risk import backtest

    kinds = [k.strip() for k in models.split(",") if k.strip()]
    if not set(kinds) <= {"scorecard", "logistic", "gbm"}:
        fail(f"--models: scorecard, logistic and/or gbm, not {models!r}")
    if dataset == "ccf":
        from shijian.risk import ccf

        try:
            table = ccf.load(shared / "ccf2020_enterprise_risk")
        except FileNotFoundError as exc:
            fail(str(exc))
        t0 = time.perf_counter()
        report = backtest.cross_validate(
            table,
            label="label",
            numeric=ccf.NUMERIC,
            categorical=[],
            feature_sets={"presence": (ccf.PRESENCE, [])},
            budget_share=budget if budget < 0.5 else 0.1,
            kinds=kinds,
        )
        report["seconds"] = round(time.perf_counter() - t0, 1)
        if out_file is not None:
            out_file.write_text(json.dumps(report, ensure_ascii=False, indent=1))
        summary = {
            k: {"auc": v["auc"], "spared_per_100": round(v["at_budget"]["spared_per_100"], 2)}
            for k, v in report["models"].items()
        }
        out.print_json(
            json.dumps({"dataset": "ccf", "budget": report["budget"], "models": summary, "seconds": report["seconds"]})
        )
        return
    if dataset == "chicago":
        from shijian.risk import chicago

        try:
            table = chicago.load(shared / "chicago_food_inspections")
        except FileNotFoundError as exc:
            fail(str(exc))
        label, date, numeric, categorical = "criticalFound", "date", chicago.NUMERIC, chicago.CATEGORICAL

        def baseline(t: Any) -> Any:
            return np.asarray(t["pastCritical"].to_numpy(zero_copy_only=False)) * 2 + np.asarray(
                t["pastSerious"].to_numpy(zero_copy_only=False)
            )
    else:
        from shijian.risk import tables

        try:
            table, numeric, categorical = tables.read(Path(dataset), label=label, date=date)
        except (OSError, ValueError) as exc:
            fail(str(exc))
        baseline = None  # type: ignore[assignment]
    t0 = time.perf_counter()
    try:
        report = backtest.run(
            table,
            label=label,
            date=date,
            numeric=numeric,
            categorical=categorical,
            baseline=baseline,
            n_folds=folds,
            months=months,
            budget_share=budget,
            kinds=kinds,
        )
    except ValueError as exc:
        fail(f"cannot fit the models on {dataset}: {exc}")
    report["seconds"] = round(time.perf_counter() - t0, 1)
    if out_file is not None:
        out_file.write_text(json.dumps(report, ensure_ascii=False, indent=1))
    out.print_json(
        json.dumps(
            {"dataset": dataset, "folds": len(report["folds"]), "mean": report["mean"], "seconds": report["seconds"]}
        )
    )


@risk_app.command("screen")
def risk_screen(
    dataset: Annotated[str, typer.Option(help="chicago, ccf, or a CSV/Parquet table")] = "chicago",
    shared: Annotated[Path, typer.Option(help="the shared data folder")] = Path("../shared/data"),
    label: Annotated[str, typer.Option(help="label column (table files)")] = "label",
    date: Annotated[str, typer.Option(help="date column (table files)")] = "date",
    keep: Annotated[int, typer.Option(help="factors to keep at most")] = 12,
) -> None:
    """Factor screening: information value, stability and collinearity; which factors are kept and why not."""
    import numpy as np
    import pyarrow as pa

    from shijian.risk import screening

    if dataset in ("chicago", "ccf"):
        from shijian.risk import ccf, chicago

        try:
            if dataset == "chicago":
                table = chicago.load(shared / "chicago_food_inspections")
                label, numeric, categorical = "criticalFound", chicago.NUMERIC, chicago.CATEGORICAL
            else:
                table = ccf.load(shared / "ccf2020_enterprise_risk")
                label, numeric, categorical = "label", ccf.NUMERIC, []
        except FileNotFoundError as exc:
            fail(str(exc))
    else:
        from shijian.risk import tables

        try:
            table, numeric, categorical = tables.read(Path(dataset), label=label, date=date)
        except (OSError, ValueError) as exc:
            fail(str(exc))
    y = np.asarray(table[label].cast(pa.int8()).to_numpy(zero_copy_only=False), dtype=int)
    decisions, kept = screening.screen(table, y, numeric, categorical, keep=keep)
    from rich.table import Table

    view = Table("factor", "IV", "PSI", "decision")
    for d in decisions:
        view.add_row(d.factor, f"{d.iv:.3f}", f"{d.psi:.3f}", ("[green]" if d.kept else "[dim]") + d.reason)
    out.print(view)
    out.print(f"{len(kept)} kept of {len(decisions)}")


def _lake(lake: Path | None) -> Path:
    from django.conf import settings

    return lake or Path(settings.SHIJIAN_LAKE)


@risk_app.command("fit")
def risk_fit(
    kind: Annotated[str, typer.Option(help="gbm (LightGBM), scorecard or logistic")] = "gbm",
    as_of: Annotated[str, typer.Option(help="use data before this date only (default: all)")] = "",
    horizon: Annotated[int, typer.Option(help="label: first inspection within this many months")] = 3,
    folds: Annotated[int, typer.Option(help="backtest periods")] = 4,
    dataset: Annotated[
        Path | None, typer.Option(help="a CSV/Parquet table of features + label + date, instead of the platform")
    ] = None,
    label: Annotated[str, typer.Option(help="label column (table files)")] = "label",
    date: Annotated[str, typer.Option(help="date column (table files)")] = "date",
    out_file: Annotated[Path | None, typer.Option("--out", help="table files: write the fitted model here")] = None,
    lake: Annotated[Path | None, typer.Option(help="lake directory (default: $SHIJIAN_LAKE)")] = None,
) -> None:
    """Fit a model version on the platform's entity files, backtest it against the live one, promote it if better.
    With --dataset, fit on any table instead (rows dated before --as-of) and write the model file."""
    import datetime as dt

    cutoff = None
    if as_of:
        try:
            cutoff = dt.date.fromisoformat(as_of)
        except ValueError:
            fail(f"--as-of must be a date like 2026-07-01, not {as_of!r}")
    if dataset is not None:
        _fit_table(dataset, kind, label, date, cutoff, out_file)
        return
    django_setup()
    from shijian.risk import platform

    try:
        with progress_bar() as update:
            v = platform.fit_version(_lake(lake), kind, cutoff, horizon, folds, user=os.environ.get("USER", ""),
                                     progress=update)  # fmt: skip
    except platform.RiskError as exc:
        fail(str(exc))
    bt = v.metrics["backtest"]["mean"]
    out.print(f"model v{v.pk} ({v.kind}), data before {v.as_of}, {v.metrics['seconds']} s: {v.decision}")
    view = Table("model", "AUC", "precision at budget", "recall at budget", "spared per 100 vs random")
    for name, m in bt.items():
        view.add_row(name, f"{m['auc']:.4f}", f"{m['precision_at_budget']:.3f}", f"{m.get('recall_at_budget', 0):.3f}",
                     f"{m['spared_per_100']:.1f}")  # fmt: skip
    if v.metrics.get("live_backtest"):
        for name, m in v.metrics["live_backtest"]["mean"].items():
            view.add_row(f"live v{v.metrics['live_version']} {name}", f"{m['auc']:.4f}",
                         f"{m['precision_at_budget']:.3f}", f"{m.get('recall_at_budget', 0):.3f}",
                         f"{m['spared_per_100']:.1f}")  # fmt: skip
    out.print(view)


def _fit_table(path: Path, kind: str, label: str, date: str, cutoff: Any, out_file: Path | None) -> None:
    import joblib
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from shijian.risk import learn, tables

    if kind not in ("gbm", "scorecard", "logistic"):
        fail(f"--kind: gbm, scorecard or logistic, not {kind!r}")
    try:
        table, numeric, categorical = tables.read(path, label=label, date=date)
    except (OSError, ValueError) as exc:
        fail(str(exc))
    if cutoff is not None:
        table = table.filter(pc.less(table[date], pa.scalar(cutoff)))
    y = np.asarray(table[label].cast(pa.int8()).to_numpy(zero_copy_only=False), dtype=int)
    if y.sum() < 10 or (1 - y).sum() < 10:
        fail(f"{path.name}: too few rows of each label to fit ({int(y.sum())} positive, {int((1 - y).sum())} not)")
    t0 = time.perf_counter()
    try:
        model = learn.fit(kind, table, y, numeric, categorical)
    except ValueError as exc:
        fail(f"cannot fit {kind} on {path.name}: {exc}")
    target = out_file or path.with_suffix(f".{kind}.joblib")
    joblib.dump(model, target)
    out.print(f"{kind} fitted on {table.num_rows:,} rows ({int(y.sum()):,} positive) in "
              f"{time.perf_counter() - t0:.1f} s; model written to {target}")  # fmt: skip
    if kind == "scorecard":
        view = Table("factor", "band", "points")
        for factor, band, pts in model.points():
            view.add_row(factor, band, str(pts))
        out.print(view)


@risk_app.command("refresh")
def risk_refresh(
    as_of: Annotated[str, typer.Option(help="score as of this date (default: today)")] = "",
    force: Annotated[bool, typer.Option("--force", help="refresh even if this month already has one")] = False,
    lake: Annotated[Path | None, typer.Option(help="lake directory (default: $SHIJIAN_LAKE)")] = None,
) -> None:
    """Monthly class refresh: score every entity with the live model, store the history, write the A-D classes the
    draw uses. Safe to schedule daily: it does nothing when this month already has a refresh (unless --force)."""
    import datetime as dt

    django_setup()
    from django.utils import timezone

    from shijian.risk import platform

    try:
        day = dt.date.fromisoformat(as_of) if as_of else timezone.localdate()
    except ValueError:
        fail(f"--as-of must be a date like 2026-07-01, not {as_of!r}")
    if not force and not platform.due(day):
        out.print(f"classes already refreshed in {day:%Y-%m}; nothing to do (--force to refresh again)")
        return
    try:
        with progress_bar() as update:
            r = platform.refresh(_lake(lake), day, update)
    except (platform.RiskError, ValueError) as exc:
        fail(str(exc))
    moved = sum(n for a, row in r.movement.items() for b, n in row.items() if a != b)
    out.print(
        f"refresh {r.pk} as of {r.as_of} with model v{r.model_id}: {r.entities:,} entities in {r.seconds} s; "
        + ", ".join(f"{c} {n:,}" for c, n in r.classes.items())
        + f"; {moved:,} changed class"
    )
    _refresh_analytics()


@risk_app.command("score")
def risk_score(
    as_of: Annotated[str, typer.Option(help="use only data before this date")],
    entities: Annotated[Path, typer.Option(help="CSV whose first column (or --key) lists the entities' keys")],
    out_file: Annotated[Path, typer.Option("--out", help="CSV to write: key, probability, class, top factors")],
    dataset: Annotated[
        str, typer.Option(help="platform (USCC or id), chicago (licence), ccf (id), or a CSV/Parquet table")
    ] = "platform",
    key: Annotated[str, typer.Option(help="the key column of --entities (and of a table dataset)")] = "",
    shared: Annotated[Path, typer.Option(help="the shared data folder")] = Path("../shared/data"),
    label: Annotated[str, typer.Option(help="label column (table datasets)")] = "label",
    date: Annotated[str, typer.Option(help="date column (table datasets)")] = "date",
    lake: Annotated[Path | None, typer.Option(help="lake directory (default: $SHIJIAN_LAKE)")] = None,
) -> None:
    """Score listed entities with only the data before --as-of: probability, A-D class and the top factors."""
    import csv
    import datetime as dt

    try:
        day = dt.date.fromisoformat(as_of)
    except ValueError:
        fail(f"--as-of must be a date like 2014-07-01, not {as_of!r}")
    try:
        keys = _read_keys(entities, key)
    except (OSError, ValueError) as exc:
        fail(str(exc))
    if not keys:
        fail(f"{entities}: no keys listed")
    from shijian.risk import scoring

    try:
        if dataset == "platform":
            django_setup()
            from shijian.risk import platform

            with progress_bar() as update:
                rows, note = platform.score_entities(_lake(lake), day, keys, update)
        elif dataset == "chicago":
            rows, note = scoring.chicago(shared / "chicago_food_inspections", day, keys)
        elif dataset == "ccf":
            rows, note = scoring.ccf(shared / "ccf2020_enterprise_risk", day, keys)
        else:
            rows, note = scoring.table(Path(dataset), day, keys, key=key or "key", label=label, date=date)
    except (OSError, ValueError) as exc:
        fail(str(exc))
    except Exception as exc:  # a RiskError from the platform
        if type(exc).__name__ != "RiskError":
            raise
        fail(str(exc))
    with out_file.open("w", newline="", encoding="utf-8-sig") as f:
        w = csv.DictWriter(f, fieldnames=["key", "probability", "class", "top_factors", "note"])
        w.writeheader()
        w.writerows(rows)
    scored = sum(1 for r in rows if r["probability"] != "")
    out.print(f"{scored:,} of {len(rows):,} scored as of {day} ({note}); written to {out_file}")


def _read_keys(path: Path, column: str) -> list[str]:
    import csv

    if not path.exists():
        raise ValueError(f"{path}: no such file")
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            return []
        idx = header.index(column) if column and column in header else 0
        if column and column not in header:
            raise ValueError(f"{path.name}: no column {column!r} (columns: {', '.join(header)})")
        return [row[idx].strip() for row in reader if len(row) > idx and row[idx].strip()]


@risk_app.command("uplift")
def risk_uplift(
    since: Annotated[str, typer.Option(help="visits checked on or after this date")] = "",
) -> None:
    """Findings in the purely random share vs the targeted share, and the model judged on the random share alone."""
    import datetime as dt

    django_setup()
    from shijian.risk import platform

    out.print_json(json.dumps(platform.uplift(dt.date.fromisoformat(since) if since else None)))


@risk_app.command("versions")
def risk_versions() -> None:
    """Model versions: kind, data date, backtest AUC, status and the promotion decision."""
    django_setup()
    from shijian.risk.models import ModelVersion

    view = Table("version", "model", "data before", "AUC", "status", "decision")
    for v in ModelVersion.objects.order_by("-id")[:30]:
        auc = v.metrics.get("backtest", {}).get("mean", {}).get(v.kind, {}).get("auc")
        view.add_row(f"v{v.pk}", v.kind, str(v.as_of), f"{auc:.4f}" if auc else "", v.status, v.decision)
    out.print(view)


@risk_app.command("factors")
def risk_factors(
    markdown: Annotated[bool, typer.Option("--markdown", help="print the catalogue as Markdown")] = False,
) -> None:
    """The factor catalogue: every factor the platform's model can use, and how it is computed."""
    from shijian.risk import factors

    if markdown:
        out.print(factors.catalogue_markdown(), markup=False, highlight=False, soft_wrap=True)
        return
    view = Table("factor", "中文", "group", "how")
    for f in factors.CATALOGUE:
        view.add_row(f.name, f.zh, f.group, f.describe)
    out.print(view)


@calendar_app.command("import")
def calendar_import(
    csv_file: Annotated[Path, typer.Argument(help="CSV of date,workday (0/1),note: holidays and make-up days")],
) -> None:
    """Add or replace calendar exceptions (e.g. next year's State Council holiday notice)."""
    django_setup()
    from shijian.supervision.calendar import read_exceptions
    from shijian.supervision.models import CalendarDay

    try:
        rows = read_exceptions(csv_file)
    except (OSError, ValueError) as exc:
        fail(str(exc))
    for day, (workday, note) in rows.items():
        CalendarDay.objects.update_or_create(date=day, defaults={"workday": workday, "note": note})
    out.print(f"{len(rows)} calendar days imported")


def _demo_risk() -> None:
    """The first risk model of the demo district and its classes, so that the draw is stratified by real classes."""
    from django.conf import settings

    from shijian.risk import platform

    if platform.live_version() is not None or not platform.record_files(Path(settings.SHIJIAN_LAKE)):
        return
    with progress_bar() as update:
        v = platform.fit_version(Path(settings.SHIJIAN_LAKE), "gbm", user="demo", progress=update)
        r = platform.refresh(Path(settings.SHIJIAN_LAKE), progress=update)
    auc = v.metrics["backtest"]["mean"][v.kind]["auc"]
    console.print(
        f"risk model v{v.pk} ({v.kind}, backtest AUC {auc:.3f}); classes: "
        + ", ".join(f"{c} {n:,}" for c, n in r.classes.items())
    )


def _demo_draw() -> None:
    """A first 双随机 plan of the demo district, frozen and drawn, so that every screen has something to show."""
    import datetime as dt

    from django.utils import timezone

    from shijian.accounts.models import User
    from shijian.registry.models import Department, SpotCheckItem
    from shijian.supervision import services
    from shijian.supervision.draw import DrawError
    from shijian.supervision.models import Batch, Plan

    dept = Department.objects.filter(code="440608-SAMR").first()
    user = User.objects.filter(username="samr").first()
    items = SpotCheckItem.objects.filter(code__in=["FOOD-02", "SPEQ-01"])
    if Plan.objects.exists() or dept is None or user is None or not items.exists():
        return
    year = timezone.localdate().year
    plan = Plan.objects.create(
        code=f"GM{year}",
        name=f"高明区{year}年度双随机联合抽查计划",
        year=year,
        level="district",
        department=dept,
        region_code="440608",
        created_by=user,
    )
    batch = Batch.objects.create(
        plan=plan,
        code=f"GM{year}-01",
        name="餐饮服务与特种设备联合抽查",
        department=dept,
        mode="stratified",
        ratios={"A": "3", "B": "5", "C": "30", "D": "80"},
        window_start=dt.date(year, 1, 1),
        window_end=dt.date(year, 12, 31),
    )
    batch.items.set(items)
    try:
        draw = services.freeze([batch], user, "beacon", beacon_source="演示：冻结后公布的公开数值")
        result = services.perform(draw, user, public_value="demo-2026")
    except DrawError as exc:
        console.print(f"demo draw skipped: {exc}")
        return
    console.print(
        f"demo draw {draw.code}: {result.visits:,} joint visits"
        + (f", {len(result.infeasible)} could not be staffed" if result.infeasible else ", all staffed")
    )


def _ensure_demo_users() -> None:
    from shijian.accounts.models import User
    from shijian.registry.models import Department

    for username, role, region, dept_code in DEMO_USERS:
        if User.objects.filter(username=username).exists():
            continue
        dept = Department.objects.filter(code=dept_code).first() if dept_code else None
        user = User.objects.create_user(
            username, password=DEMO_PASSWORD, role=role, region_code=region, department=dept
        )
        if role == "inspector" and dept is not None:
            from shijian.registry.models import Inspector

            officer = Inspector.objects.filter(department=dept, active=True, user__isnull=True).first()
            if officer is not None:
                officer.user = user
                officer.save(update_fields=["user"])


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(help="gunicorn worker processes")] = 2,
) -> None:
    """Serve the web app with gunicorn (static files served by the app itself; no CDN)."""
    django_setup()
    args = [
        sys.executable,
        "-m",
        "gunicorn",
        "shijian.config.wsgi:application",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--access-logfile",
        "-",
        "--timeout",
        "120",
    ]
    os.execv(sys.executable, args)


@app.command()
def demo(
    host: str = "127.0.0.1",
    port: int = 8000,
    scale: Annotated[str, typer.Option(help="gaoming or a number of entities")] = "gaoming",
    seed: int = 1,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="set up only; do not start the server")] = False,
) -> None:
    """Generate the Gaoming demo district, load its register, ingest its feeds and build the entity files (first
    run only), create demo users, and serve the app."""
    os.environ.setdefault("SHIJIAN_HTTPS", "0")  # loopback demo over plain HTTP
    django_setup()
    from django.conf import settings
    from django.core.management import call_command

    from shijian.core.request_context import acting_as
    from shijian.registry.loader import load_district
    from shijian.registry.models import Entity
    from shijian.synth.generator import generate, resolve_scale

    t0 = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    folder = Path(settings.HOME) / "synth" / f"{scale}-seed{seed}"
    if not Entity.objects.exists():
        with progress_bar() as update:
            if not (folder / "manifest.json").exists():
                console.print(f"generating the {scale} demo district into {folder} ...")
                generate(resolve_scale(scale), seed, folder, update)
            with acting_as(None):
                result = load_district(folder, Path(settings.HOME) / "loads" / "demo", update)
        r = result["register"][0]
        console.print(f"loaded {r['loaded']:,} entities ({r['quarantined']} quarantined, {r['duplicates']} duplicates)")
    from shijian.lake.store import Lake

    store = Lake(Path(settings.SHIJIAN_LAKE))
    if not store.has_records() and (folder / "feeds").is_dir():
        from shijian.ingest.mapping import load_mappings
        from shijian.ingest.pipeline import ingest as run_ingest
        from shijian.ingest.pipeline import summary
        from shijian.lake.build import run_build

        with progress_bar() as update:
            totals = summary(run_ingest([folder], load_mappings(), store, update))
            console.print(
                f"ingested {totals['rows_read']:,} departmental rows: {totals['accepted']:,} records, "
                f"{totals['quarantined']:,} quarantined, {totals['duplicates']:,} duplicates"
            )
            build_report = run_build(store, update)
        console.print(f"built {build_report.synced:,} entity files in {build_report.total_seconds:.0f} s")
    _ensure_demo_users()
    _demo_risk()
    _demo_draw()
    from shijian.hazards.models import Reminder
    from shijian.hazards.services import refresh_reminders

    if not Reminder.objects.exists():
        counts = refresh_reminders(Path(settings.SHIJIAN_LAKE))
        console.print("compliance reminders: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    _refresh_analytics()
    console.print(f"demo ready in {time.perf_counter() - t0:.1f} s")
    console.print(f"\n  open http://{host}:{port}/  and log in as one of:")
    for username, role, region, _d in DEMO_USERS:
        console.print(f"    {username:<10} ({role}, {region})")
    console.print(f"  password for all demo users: [bold]{DEMO_PASSWORD}[/]\n")
    if not no_serve:
        serve(host=host, port=port, workers=2)


@bench_app.command("web")
def bench_web(
    scale: Annotated[str, typer.Option(help="foshan (780k entities), gaoming or a number")] = "foshan",
    requests: Annotated[int, typer.Option(help="requests per page kind")] = 300,
    db: Annotated[Path, typer.Option(help="SQLite file to (re)use")] = Path("var/bench/web.sqlite3"),
) -> None:
    """Entity list and page latency (median, p95) and bulk-load rate at scale, in SQLite."""
    from shijian.bench.web import run

    report = run(scale, requests, db, console)
    out.print_json(json.dumps(report, ensure_ascii=False))


@bench_app.command("draw")
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


@bench_app.command("hazards")
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


@bench_app.command("ingest")
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


@bench_app.command("analytics")
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


@bench_app.command("risk")
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


def main() -> None:
    try:
        app()
    except Exception as exc:
        # database problems are the user's to fix (set up, migrate, start the server): a message, not a traceback
        if type(exc).__module__.startswith("django.db") and type(exc).__name__ in (
            "OperationalError",
            "ProgrammingError",
        ):
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if "no such table" in text or "does not exist" in text:
                text = f"the database is not set up or not up to date ({text}): run `shijian migrate`"
            console.print(f"[red]error:[/] {text}", highlight=False)
            sys.exit(2)
        raise


if __name__ == "__main__":
    main()
