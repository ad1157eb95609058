"""The job worker, and queueing a job from the command line."""

from __future__ import annotations

from typing import Annotated

import typer

from shijian.cli.common import django_setup, fail, out

app = typer.Typer()
jobs_app = typer.Typer(help="Jobs: queue one, list the recent ones.", no_args_is_help=True)


@app.command()
def worker(
    threads: Annotated[int, typer.Option(help="jobs run at once (default: $SHIJIAN_JOBS_WORKERS)")] = 0,
) -> None:
    """Run the job worker: queued jobs, and the schedules (escalation, reminders, refreshes) on time."""
    django_setup()
    from shijian.jobs.worker import run

    run(threads or None)


@jobs_app.command("run")
def jobs_run(
    kind: Annotated[str, typer.Argument(help="escalate, remind, deadlines, analytics_refresh, risk_refresh, ...")],
) -> None:
    """Queue one job now (the worker runs it); prints its number."""
    django_setup()
    from shijian.jobs.kinds import KINDS
    from shijian.jobs.runner import enqueue

    if kind not in KINDS:
        fail(f"unknown job kind {kind!r}; one of: {', '.join(sorted(KINDS))}")
    job = enqueue(kind)
    out.print(f"job {job.pk} queued ({kind})")


@jobs_app.command("list")
def jobs_list(limit: int = 20) -> None:
    """The latest jobs: number, kind, status, progress, message."""
    django_setup()
    from shijian.jobs.models import Job

    for job in Job.objects.all()[:limit]:
        out.print(f"{job.pk:>6} {job.kind:<18} {job.status:<10} {job.progress:>3}% {job.message}")
