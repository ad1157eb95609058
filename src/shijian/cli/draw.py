"""双随机 draws and the working-day calendar."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from shijian.cli.common import django_setup, fail, out

draw_app = typer.Typer(help="双随机 draws: verify a published record.", no_args_is_help=True)
calendar_app = typer.Typer(
    help="The working-day calendar (public holidays, make-up working days).", no_args_is_help=True
)


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
