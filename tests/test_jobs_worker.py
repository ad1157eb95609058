"""A real worker process killed in the middle of an export: nothing half-written, the job run again once the
worker is back (an export is safe to repeat), and no worker process left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

ROWS = 10_000
pytestmark = pytest.mark.reaches_database  # the workers are processes on a database of the suite's engine


@pytest.fixture(scope="module")
def worker_env(tmp_path_factory: Any) -> Iterator[tuple[dict[str, str], int]]:
    """A database of its own (the suite's engine), a queue file and a home, for processes outside this test's
    transaction; migrated, with ROWS entities and one queued entity export (its number is the second value)."""
    home = tmp_path_factory.mktemp("worker")
    url = os.environ.get("SHIJIAN_DATABASE_URL", "")
    env = {k: v for k, v in os.environ.items() if k != "SHIJIAN_TEST_NOW"}
    env |= {"SHIJIAN_HOME": str(home), "SHIJIAN_JOBS_URL": "", "SHIJIAN_JOBS_WORKERS": "1", "SHIJIAN_HTTPS": "0"}
    drop: Callable[[], None] = lambda: None  # noqa: E731
    if url.startswith("postgres"):
        import psycopg

        parsed = urlparse(url)
        name = f"{parsed.path.lstrip('/')}_worker"
        admin = parsed._replace(path="/postgres").geturl()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        env["SHIJIAN_DATABASE_URL"] = parsed._replace(path=f"/{name}").geturl()

        def drop() -> None:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        env["SHIJIAN_DATABASE_URL"] = f"sqlite:///{home / 'worker.sqlite3'}"
    seed = subprocess.run(
        [sys.executable, str(Path(__file__).parent / "jobs_seed.py"), str(ROWS)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert seed.returncode == 0, seed.stderr
    yield env, int(seed.stdout.split()[-1])
    drop()


def job_row(env: dict[str, str], pk: int) -> dict[str, Any]:
    """The Job row as the worker left it, read straight from its database (no Django in this process's way)."""
    url = env["SHIJIAN_DATABASE_URL"]
    sql = f"SELECT status, progress, attempts, log, result_file FROM jobs_job WHERE id = {int(pk)}"
    if url.startswith("postgres"):
        import psycopg

        with psycopg.connect(url) as conn:
            values = conn.execute(sql).fetchone()
    else:
        import sqlite3

        lite = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=20)
        try:
            values = lite.execute(sql).fetchone()
        finally:
            lite.close()
    assert values is not None
    return dict(zip(("status", "progress", "attempts", "log", "result_file"), values, strict=True))


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_worker_killed_mid_export_leaves_nothing_half_written_and_the_job_runs_again(
    worker_env: tuple[dict[str, str], int],
) -> None:
    from openpyxl import load_workbook

    env, pk = worker_env
    jobs_dir = Path(env["SHIJIAN_HOME"]) / "jobs"
    cmd = [sys.executable, "-m", "shijian.jobs.worker"]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        first = subprocess.Popen(cmd, env=env)
        procs.append(first)
        wait_for(lambda: job_row(env, pk)["progress"] > 0, 240, "the export to be under way")
        first.send_signal(signal.SIGKILL)
        first.wait(30)
        row = job_row(env, pk)
        assert row["status"] == "running" and row["result_file"] == ""
        assert not list(jobs_dir.glob("*.xlsx"))  # nothing half-written where a download would look
        second = subprocess.Popen([sys.executable, "-m", "shijian.cli", "worker"], env=env)  # the CLI
        procs.append(second)
        wait_for(lambda: job_row(env, pk)["status"] == "succeeded", 300, "the export to be run again")
        second.send_signal(signal.SIGINT)
        second.wait(60)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    row = job_row(env, pk)
    assert row["attempts"] == 2 and "interrupted" in row["log"]
    files = list(jobs_dir.iterdir())
    assert [f.name for f in files] == [row["result_file"]] and files[0].suffix == ".xlsx"
    sheet = load_workbook(files[0], read_only=True).active
    assert sum(1 for _ in sheet.iter_rows(values_only=True)) == ROWS + 1
    assert all(p.poll() is not None for p in procs)


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def children(pid: int) -> dict[int, str]:
    """Child processes of ``pid``: their command lines."""
    out = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                out[int(stat.parent.name)] = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
    return out


def test_serve_starts_a_worker_beside_gunicorn_and_stopping_it_stops_both(
    worker_env: tuple[dict[str, str], int],
) -> None:
    import socket
    import urllib.request

    env, _pk = worker_env
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    serve = subprocess.Popen(
        [sys.executable, "-m", "shijian.cli", "serve", "--port", str(port), "--workers", "1"], env=env
    )
    kids: dict[int, str] = {}
    try:

        def up() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    return bool(r.status == 200)
            except OSError:
                return False

        wait_for(up, 120, "the server to answer")
        kids = children(serve.pid)
        assert any("shijian.jobs.worker" in c for c in kids.values()) and any("gunicorn" in c for c in kids.values())
        serve.send_signal(signal.SIGTERM)  # as a service manager stops it
        serve.wait(60)
        wait_for(lambda: not any(alive(k) for k in kids), 30, "the worker and gunicorn to stop")
    finally:
        for k in kids:
            if alive(k):
                os.kill(k, signal.SIGKILL)
        if serve.poll() is None:
            serve.kill()
            serve.wait()
    assert serve.returncode is not None and not [
        k for k in kids if Path(f"/proc/{k}/stat").exists() and k in children(1)
    ]
