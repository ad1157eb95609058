"""The worker: a Huey consumer (threads) that runs queued jobs and ticks the schedules every minute.

``shijian worker`` runs it in the foreground; ``embedded()`` starts one beside the web server (``shijian serve``
and ``shijian demo``), so the demo needs no other process. Interrupted jobs of a dead worker are recovered first.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager


def run(workers: int | None = None) -> None:
    """Run the consumer until SIGINT / SIGTERM."""
    from django.conf import settings

    from shijian.jobs.queue import huey
    from shijian.jobs.runner import recover

    recover()
    consumer = huey.create_consumer(
        workers=workers or settings.SHIJIAN_JOBS_WORKERS, worker_type="thread", periodic=True, check_worker_health=True
    )
    consumer.run()


def spawn() -> subprocess.Popen[bytes]:
    """A worker in a child process, with this process's settings."""
    return subprocess.Popen([sys.executable, "-m", "shijian.jobs.worker"], env=os.environ.copy())


def stop(proc: subprocess.Popen[bytes], timeout: float = 15) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # Huey's consumer: finish nothing new, exit
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def embedded() -> Iterator[subprocess.Popen[bytes]]:
    proc = spawn()
    try:
        yield proc
    finally:
        stop(proc)


def main() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shijian.config.settings")
    django.setup()
    run()


if __name__ == "__main__":
    main()
