"""What every command shares: the consoles, Django set-up, errors as messages, progress bars."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

console = Console(stderr=True)
out = Console()


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


def lake_dir(lake: Path | None) -> Path:
    """The lake a command works on: --lake, else settings.SHIJIAN_LAKE."""
    from django.conf import settings

    return lake or Path(settings.SHIJIAN_LAKE)


def refresh_analytics() -> None:
    """Dashboard figures follow every change of the data they show (called after load, build, refresh, demo)."""
    from django.conf import settings

    from shijian.analytics.snapshot import refresh_all

    t0 = time.perf_counter()
    with progress_bar() as update:
        n = refresh_all(Path(settings.SHIJIAN_LAKE), progress=update)
    console.print(f"dashboard figures recomputed for {n} scopes in {time.perf_counter() - t0:.1f} s")
