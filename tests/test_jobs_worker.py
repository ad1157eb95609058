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


@pytest.fixture
def worker_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A database of its own (the suite's engine) and a queue file, for processes outside this test's transaction."""
    url = os.environ.get("SHIJIAN_DATABASE_URL", "")
    env = {k: v for k, v in os.environ.items() if k != "SHIJIAN_TEST_NOW"}
    env |= {"SHIJIAN_HOME": str(tmp_path), "SHIJIAN_JOBS_URL": "", "SHIJIAN_JOBS_WORKERS": "1"}
    if url.startswith("postgres"):
        import psycopg

        parsed = urlparse(url)
        name = f"{parsed.path.lstrip('/')}_worker"
        admin = parsed._replace(path="/postgres").geturl()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        env["SHIJIAN_DATABASE_URL"] = parsed._replace(path=f"/{name}").geturl()
        yield env
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        env["SHIJIAN_DATABASE_URL"] = f"sqlite:///{tmp_path / 'worker.sqlite3'}"
        yield env


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

        conn = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=20)
        try:
            values = conn.execute(sql).fetchone()
        finally:
            conn.close()
    assert values is not None
    return dict(zip(("status", "progress", "attempts", "log", "result_file"), values, strict=True))


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_worker_killed_mid_export_leaves_nothing_half_written_and_the_job_runs_again(worker_env, tmp_path):
    from openpyxl import load_workbook

    seed = subprocess.run(
        [sys.executable, str(Path(__file__).parent / "jobs_seed.py"), str(ROWS)],
        env=worker_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert seed.returncode == 0, seed.stderr
    pk = int(seed.stdout.split()[-1])
    cmd = [sys.executable, "-m", "shijian.jobs.worker"]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        first = subprocess.Popen(cmd, env=worker_env)
        procs.append(first)
        wait_for(lambda: job_row(worker_env, pk)["progress"] > 0, 240, "the export to be under way")
        first.send_signal(signal.SIGKILL)
        first.wait(30)
        row = job_row(worker_env, pk)
        assert row["status"] == "running" and row["result_file"] == ""
        assert not list((tmp_path / "jobs").glob("*.xlsx"))  # nothing half-written where a download would look
        second = subprocess.Popen(cmd, env=worker_env)
        procs.append(second)
        wait_for(lambda: job_row(worker_env, pk)["status"] == "succeeded", 300, "the export to be run again")
        second.send_signal(signal.SIGINT)
        second.wait(60)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    row = job_row(worker_env, pk)
    assert row["attempts"] == 2 and "interrupted" in row["log"]
    files = list((tmp_path / "jobs").iterdir())
    assert [f.name for f in files] == [row["result_file"]] and files[0].suffix == ".xlsx"
    sheet = load_workbook(files[0], read_only=True).active
    assert sum(1 for _ in sheet.iter_rows(values_only=True)) == ROWS + 1
    assert all(p.poll() is not None for p in procs)
