"""Running one job: queued -> running -> succeeded / failed / cancelled, with progress, a log and an outcome.

The work itself is a plain function registered in ``kinds``; it gets a ``Context`` to report progress (which is
also where a cancellation is noticed). A job's work must leave nothing half-written if the process dies: files are
written beside their final name and renamed when complete, database writes go in transactions.
"""

from __future__ import annotations

import os
import socket
import time
import traceback
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.translation import gettext as _

from shijian.core.request_context import acting_as
from shijian.jobs.models import Job, Status

RETRY_DELAY_SECONDS = 30


class Cancelled(Exception):
    """Raised inside a job (by ``Context.progress``) once a cancellation was asked for."""


def job_dir() -> Path:
    path = Path(settings.HOME) / "jobs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Context:
    """What a job's function sees: its Job row, ``progress`` and ``log``."""

    def __init__(self, job: Job, min_interval: float = 0.5) -> None:
        self.job = job
        self._last = 0.0
        self._min_interval = min_interval

    def log(self, line: str) -> None:
        stamp = timezone.localtime().strftime("%H:%M:%S")
        Job.objects.filter(pk=self.job.pk).update(log=Concat(F("log"), Value(f"{stamp} {line}\n")))

    def progress(self, message: str, done: int = 0, total: int = 0) -> None:
        """Report ``done`` of ``total`` (the signature of the CLI's progress callbacks); raise Cancelled if asked."""
        now = time.monotonic()
        if now - self._last < self._min_interval and done < total:
            return
        self._last = now
        pct = min(100, int(100 * done / total)) if total else 0
        Job.objects.filter(pk=self.job.pk).update(progress=pct, message=str(message)[:300])
        if Job.objects.filter(pk=self.job.pk, cancel_requested=True).exists():
            raise Cancelled

    def file(self, name: str) -> Path:
        """Where to write the job's result file (keep the name; write to ``.part`` and rename)."""
        return job_dir() / f"job-{self.job.pk}-{name}"


def enqueue(kind: str, params: dict[str, Any] | None = None, user: Any = None, schedule: Any = None) -> Job:
    """Record a Job and put it on the queue."""
    from shijian.jobs.kinds import KINDS
    from shijian.jobs.queue import run_job

    if kind not in KINDS:
        raise KeyError(f"unknown job kind {kind!r}")
    job = Job.objects.create(
        kind=kind,
        params=params or {},
        created_by=user if user is not None and getattr(user, "is_authenticated", False) else None,
        schedule=schedule,
    )
    run_job(job.pk)
    return job


def cancel(job: Job) -> None:
    """A queued job is cancelled at once; a running one at its next progress report."""
    if Job.objects.filter(pk=job.pk, status=Status.QUEUED).update(
        status=Status.CANCELLED, cancel_requested=True, finished_at=timezone.now(), message=str(_("Cancelled"))
    ):
        return
    Job.objects.filter(pk=job.pk, status=Status.RUNNING).update(cancel_requested=True)


def _claim(job_id: int) -> Job | None:
    """queued -> running, once: a job delivered twice (a retried message) runs once."""
    n = Job.objects.filter(pk=job_id, status=Status.QUEUED).update(
        status=Status.RUNNING,
        started_at=timezone.now(),
        attempts=F("attempts") + 1,
        worker=this_worker(),
        progress=0,
    )
    return Job.objects.get(pk=job_id) if n else None


def execute(job_id: int) -> None:
    """The worker's side: run the job's function and record how it ended."""
    from shijian.jobs.kinds import KINDS

    job = _claim(job_id)
    if job is None:
        return
    spec = KINDS[job.kind]
    ctx = Context(job)
    ctx.log(f"started (attempt {job.attempts}) on {job.worker}")
    try:
        with acting_as(job.created_by, f"job-{job.pk}"):
            outcome = spec.run(ctx, **job.params)
    except Cancelled:
        _finish(job, Status.CANCELLED, message=str(_("Cancelled")))
        ctx.log("cancelled")
        return
    except Exception as exc:
        _failed(job, spec.retries, exc, traceback.format_exc())
        return
    _finish(job, Status.SUCCEEDED, outcome=outcome or {}, progress=100)
    ctx.log("succeeded")


def _finish(job: Job, status: str, **fields: Any) -> None:
    Job.objects.filter(pk=job.pk).update(status=status, finished_at=timezone.now(), **fields)
    from shijian.jobs.schedules import record_outcome

    record_outcome(Job.objects.get(pk=job.pk))


def _failed(job: Job, retries: int, exc: Exception, trace: str) -> None:
    from shijian.jobs.queue import run_job

    Context(job).log(f"failed: {type(exc).__name__}: {exc}")
    if job.attempts <= retries:
        retry_message = _("Failed; retried in %(s)d s: %(error)s") % {"s": RETRY_DELAY_SECONDS, "error": exc}
        Job.objects.filter(pk=job.pk).update(status=Status.QUEUED, error=trace, message=retry_message[:300])
        run_job.schedule((job.pk,), delay=RETRY_DELAY_SECONDS)
        return
    _finish(job, Status.FAILED, error=trace, message=(str(exc) or type(exc).__name__)[:300])
    from shijian.notify.services import job_failed

    job_failed(Job.objects.get(pk=job.pk))


def recover(worker_prefix: str | None = None) -> int:
    """After a worker died: its running jobs are failed ("interrupted") or, where safe, queued again.

    Called when a worker starts. Only jobs of workers on this host whose process is gone are touched.
    """
    from shijian.jobs.kinds import KINDS
    from shijian.jobs.queue import run_job

    host = socket.gethostname()
    n = 0
    for job in Job.objects.filter(status=Status.RUNNING, worker__startswith=f"{host}:"):
        pid = int(job.worker.rsplit(":", 1)[1] or 0)
        if _alive(pid):
            continue
        for part in job_dir().glob(f"job-{job.pk}-*.part"):
            part.unlink()
        spec = KINDS.get(job.kind)
        if spec is not None and job.attempts <= spec.retries:
            Job.objects.filter(pk=job.pk).update(
                status=Status.QUEUED, message=str(_("Interrupted (the worker stopped); queued again."))
            )
            Context(job).log("interrupted (the worker stopped); queued again")
            run_job(job.pk)
        else:
            _finish(job, Status.FAILED, message=str(_("Interrupted (the worker stopped).")), error="worker stopped")
            Context(job).log("interrupted (the worker stopped)")
        n += 1
    return n


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (killed, not yet reaped) is dead for our purpose.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True
