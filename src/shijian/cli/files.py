"""Stored files: retention and legal holds (docs/deploy.md, "Retention")."""

from __future__ import annotations

from typing import Annotated

import typer

from shijian.cli.common import django_setup, fail, out

app = typer.Typer(help="Stored files: retention and legal holds.", no_args_is_help=True)


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


@app.command("hold")
def files_hold(
    object_type: Annotated[str, typer.Argument(help="cases.case, supervision.visit, cases.evidence, ...")],
    object_id: Annotated[str, typer.Argument(help="its id")],
    reason: Annotated[str, typer.Option(help="why (a lawsuit, a review, an investigation)")],
    user: Annotated[str, typer.Option(help="the user placing the hold")],
) -> None:
    """Place a legal hold: retention keeps the object's files until the hold is lifted."""
    django_setup()
    from shijian.files import holds

    try:
        h = holds.hold(object_type, object_id, reason, _user(user))
    except ValueError as exc:
        fail(str(exc))
    out.print(f"hold {h.pk} on {h}")


@app.command("release")
def files_release(
    object_type: Annotated[str, typer.Argument(help="as given to `hold`")],
    object_id: Annotated[str, typer.Argument(help="its id")],
    reason: Annotated[str, typer.Option(help="why the hold ends")],
    user: Annotated[str, typer.Option(help="the user lifting the hold")],
) -> None:
    """Lift the legal holds on an object."""
    django_setup()
    from shijian.files import holds

    out.print(f"{holds.lift(object_type, object_id, reason, _user(user))} holds lifted")


def _user(username: str) -> object:
    from django.contrib.auth import get_user_model

    found = get_user_model().objects.filter(username=username).first()
    if found is None:
        fail(f"no user {username!r}")
    return found
