"""The problem and hazard library's scheduled jobs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shijian.cli.common import django_setup, fail, out, progress_bar

app = typer.Typer(help="The problem and hazard library: scheduled jobs.", no_args_is_help=True)


@app.command("escalate")
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


@app.command("remind")
def hazards_remind(
    lake: Annotated[Path | None, typer.Option(help="lake directory (default: $SHIJIAN_LAKE)")] = None,
) -> None:
    """Rebuild the compliance reminders (annual reports due, licences expiring) from the lake. Run after builds."""
    django_setup()
    from django.conf import settings

    from shijian.hazards.services import refresh_reminders

    counts = refresh_reminders(lake or Path(settings.SHIJIAN_LAKE))
    out.print(", ".join(f"{k}: {v:,}" for k, v in counts.items()))
