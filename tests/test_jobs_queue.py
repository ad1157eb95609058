"""The queue's backends: SQLite (the default, a file) and Redis (production), each carrying a job's message."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from shijian.config.env import ConfigError
from shijian.jobs.queue import make_huey


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_a_queued_task_travels_through_the_backend(backend: str, tmp_path: Path) -> None:
    if backend == "redis" and not _redis_up():
        pytest.skip("no Redis at 127.0.0.1:6379")
    url = f"sqlite:///{tmp_path / 'q.sqlite3'}" if backend == "sqlite" else "redis://127.0.0.1:6379/15"
    huey = make_huey(url, name=f"shijian-test-{os.getpid()}")  # the SQLite and PostgreSQL runs share this Redis
    huey.flush()
    got = []

    @huey.task()  # type: ignore[untyped-decorator]  # huey is untyped
    def run_job(job_id: int) -> None:
        got.append(job_id)

    try:
        run_job(42)
        assert huey.pending_count() == 1
        task = huey.dequeue()
        huey.execute(task)
        assert got == [42] and huey.pending_count() == 0
    finally:
        huey.flush()


def test_an_unknown_queue_url_is_refused_with_its_name() -> None:
    with pytest.raises(ConfigError, match="SHIJIAN_JOBS_URL"):
        make_huey("amqp://127.0.0.1:5672/")
