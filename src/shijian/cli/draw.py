"""双随机 draws and the working-day calendar."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from shijian.cli.common import django_setup, fail, out

draw_app = typer.Typer(help="双随机 draws: verify a published record.", no_args_is_help=True)
log_app = typer.Typer(
    help="The transparency log: freezes and the audit chain's head, in a signed Merkle tree.", no_args_is_help=True
)
calendar_app = typer.Typer(
    help="The working-day calendar (public holidays, make-up working days).", no_args_is_help=True
)


@draw_app.command("verify")
def draw_verify(
    record_file: Annotated[Path, typer.Argument(help="a draw record (record.json) from the public page")],
    candidates_dir: Annotated[
        Path | None, typer.Option(help="folder of the candidate lists (default: the record's folder)")
    ] = None,
    log: Annotated[
        Path | None, typer.Option(help="the transparency log (/public/log.json; default: log.json beside the record)")
    ] = None,
) -> None:
    """Re-run a published draw from its frozen inputs and check that its freeze was announced on the transparency
    log before the seed existed, with no other freeze of its batches; print VERIFIED (exit 0) or every problem."""
    from shijian.supervision import record as rec
    from shijian.supervision.draw import DrawError

    data = _read_json(record_file)
    folder = candidates_dir or record_file.parent
    log_data = _read_json(log or record_file.parent / "log.json", "download the transparency log (/public/log.json)")

    def read(name: str) -> bytes:
        path = folder / Path(name).name
        try:
            return path.read_bytes()
        except OSError:
            fail(f"candidate list {path} is missing: download it from the draw's public page")

    try:
        problems = rec.verify(data, read, log_data)
    except (DrawError, KeyError, TypeError, ValueError) as exc:
        fail(f"not a valid draw record: {exc}")
    if not problems:
        n = len(data["outputs"]["visits"])
        scope = "teams included" if "staffing" in data else "public copy: teams are checked with the full record"
        out.print(f"VERIFIED: draw {data.get('draw')} ({n:,} visits; {scope}) re-runs identically from its frozen")
        out.print("  inputs, announced on the transparency log before the seed existed")
        return
    out.print(f"DIFFERENT: {len(problems)} problem(s) with the record")
    for p in problems[:200]:
        out.print(f"  {p}")
    raise typer.Exit(1)


@draw_app.command("receipt")
def draw_receipt(
    code: Annotated[str, typer.Argument(help="the draw's code")],
    key: Annotated[str, typer.Argument(help="the entity's unified social credit code (or ID + internal id)")],
) -> None:
    """An entity's receipt: its salt and commitment in a draw, so it can find its own line on the public list."""
    django_setup()
    from shijian.supervision.draw import entity_commitment
    from shijian.supervision.models import Draw
    from shijian.supervision.services import salt_for

    if not Draw.objects.filter(code=code).exists():
        fail(f"no draw {code}")
    salt = salt_for(code, key.strip().upper())
    out.print(f"draw {code}\nentity {key.strip().upper()}\nsalt {salt}")
    out.print(f"commitment {entity_commitment(key.strip().upper(), salt)}")


def _read_json(path: Path, hint: str = "") -> Any:
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        fail(f"cannot read {path}: {exc}" + (f"; {hint}" if hint else ""))


@log_app.command("verify")
def log_verify(
    file: Annotated[
        Path | None, typer.Option(help="a log export (/public/log.json); default: this installation's log")
    ] = None,
    known: Annotated[
        list[Path] | None, typer.Option(help="a tree head saved earlier (JSON); may be given more than once")
    ] = None,
) -> None:
    """Recompute the transparency log's tree at every signed tree head, check each signature and the consistency of
    each head with the next (and with heads saved earlier); exit 1 on any problem."""
    from shijian.translog.verify import verify_log

    if file is None:
        django_setup()
        from shijian.translog.services import export

        data = export()
    else:
        data = _read_json(file)
    heads = [_read_json(p) for p in known or []]
    try:
        problems = verify_log(data, heads)
    except (KeyError, TypeError, ValueError) as exc:
        fail(f"not a valid log: {exc}")
    if problems:
        out.print(f"BROKEN: {len(problems)} problem(s) with the transparency log")
        for p in problems[:200]:
            out.print(f"  {p}")
        raise typer.Exit(1)
    n = len(data["entries"])
    out.print(f"OK: transparency log consistent, {n:,} entries, {len(data['tree_heads']):,} signed tree heads")


@log_app.command("audit-head")
def log_audit_head() -> None:
    """Announce the audit chain's head on the transparency log (run daily; nothing when it has not moved)."""
    django_setup()
    from shijian.translog.services import log_audit_head as append_head

    entry = append_head()
    out.print(f"logged as entry {entry.index}" if entry is not None else "the audit chain's head is already logged")


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
