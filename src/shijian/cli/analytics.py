"""统计分析 commands: dashboard figures, forecasts, the monthly report."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from shijian.cli.common import console, django_setup, fail, refresh_analytics

app = typer.Typer(help="统计分析: dashboard figures per scope, forecasts.", no_args_is_help=True)


@app.command("refresh")
def analytics_refresh() -> None:
    """Recompute the dashboard figures of the district, every town/street and every department."""
    django_setup()
    refresh_analytics()


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


@app.command("forecast")
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


@app.command("report")
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
