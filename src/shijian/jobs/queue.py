"""The queue: Huey on SQLite by default (a file beside the data, no server), on Redis in production.

``SHIJIAN_JOBS_URL`` chooses: empty (default) is ``SHIJIAN_HOME/jobs.sqlite3``; ``redis://host:port/db`` uses that
Redis; ``immediate`` runs every job at once in the caller (tests, one-off scripts).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey, crontab


def make_huey(url: str, name: str = "shijian") -> Huey:
    """The queue at ``url`` (see above); ``name`` keeps queues sharing one Redis apart (the tests' runs)."""
    if url == "immediate":
        return MemoryHuey(name, immediate=True)
    if url.startswith("redis://"):
        return RedisHuey(name, url=url)
    if url and not url.startswith("sqlite:///"):
        from shijian.config.env import ConfigError

        raise ConfigError(f"SHIJIAN_JOBS_URL={url!r}: use redis://..., sqlite:///path or immediate")
    path = url.removeprefix("sqlite:///") if url else str(settings.HOME / "jobs.sqlite3")
    return SqliteHuey(name, filename=path)


huey = make_huey(settings.SHIJIAN_JOBS_URL)


@huey.pre_execute()  # type: ignore[untyped-decorator]
def _fresh_connections(task: Any) -> None:
    if huey.immediate:
        return  # in the caller's thread and transaction: its connection is not ours to close
    from django.db import close_old_connections

    close_old_connections()


@huey.post_execute()  # type: ignore[untyped-decorator]
def _release_connections(task: Any, task_value: Any, exc: Any) -> None:
    if huey.immediate:
        return
    from django.db import close_old_connections

    close_old_connections()


@huey.task(retries=0)  # type: ignore[untyped-decorator]
def run_job(job_id: int) -> None:
    from shijian.jobs.runner import execute

    execute(job_id)


@huey.periodic_task(crontab(minute="*"))  # type: ignore[untyped-decorator]
def tick_schedules() -> None:
    from shijian.jobs.schedules import tick

    tick()


@huey.task(retries=0)  # type: ignore[untyped-decorator]
def deliver_task(delivery_ids: list[int]) -> None:
    from shijian.notify.services import deliver

    deliver(delivery_ids)
