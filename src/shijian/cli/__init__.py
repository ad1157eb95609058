"""``shijian``: the one command-line entry point of the platform, one module per topic.

Each module keeps its commands thin: it parses options, calls the domain's services and prints the outcome.
"""

from __future__ import annotations

import sys

import typer

from shijian.cli import accounts, analytics, api, bench, data, draw, files, hazards, jobs, ops, risk, serve
from shijian.cli.common import console

app = typer.Typer(
    help="Shijian (市监): smart market-supervision platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(data.app)
app.add_typer(serve.app)
app.add_typer(ops.app)
app.add_typer(hazards.app, name="hazards")
app.add_typer(risk.app, name="risk")
app.add_typer(analytics.app, name="analytics")
app.add_typer(draw.draw_app, name="draw")
app.add_typer(draw.calendar_app, name="calendar")
app.add_typer(draw.log_app, name="log")
app.add_typer(accounts.audit_app, name="audit")
app.add_typer(accounts.user_app, name="user")
app.add_typer(accounts.identity_app, name="identity")
app.add_typer(bench.app, name="bench")
app.add_typer(jobs.app)
app.add_typer(jobs.jobs_app, name="jobs")
app.add_typer(api.api_app, name="api")
app.add_typer(files.app, name="files")

__all__ = ["app", "main"]


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
