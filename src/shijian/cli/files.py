"""Stored files: retention (docs/deploy.md, "Retention")."""

from __future__ import annotations

from typing import Annotated

import typer

from shijian.cli.common import django_setup, fail, out

app = typer.Typer(help="Stored files: retention.", no_args_is_help=True)


@app.command("retention")
def files_retention(
    apply: Annotated[bool, typer.Option("--apply", help="delete the expired files not under a legal hold")] = False,
    today: Annotated[str | None, typer.Option(help="judge by this date (YYYY-MM-DD; default today)")] = None,
) -> None:
    """List the stored files whose retention has ended (a dry run); with --apply, delete them (held ones stay)."""
    import datetime as dt

    django_setup()
    from shijian.files import retention

    try:
        day = dt.date.fromisoformat(today) if today else None
    except ValueError:
        fail(f"--today must be YYYY-MM-DD, not {today!r}")
    items = retention.expired(day)
    for item in items:
        mark = "held" if item.held else ("deleted" if apply else "expired")
        out.print(f"{mark}\t{item.kind}\t{item.object_type}#{item.object_id}\t{item.stored_on}\t{item.name}")
    held = sum(1 for i in items if i.held)
    if apply:
        n = retention.apply(items)
        out.print(f"{n} files deleted, {held} under legal hold kept")
    else:
        out.print(f"{len(items)} files expired ({held} under legal hold); dry run, nothing deleted (--apply deletes)")
