"""Every migration applies to an empty SQLite database through the command operators use (`shijian migrate`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_a_fresh_sqlite_database_migrates_to_the_latest_schema(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "SHIJIAN_HOME": str(tmp_path),
        "SHIJIAN_DATABASE_URL": f"sqlite:///{tmp_path}/fresh.sqlite3",
    }
    done = subprocess.run(
        [sys.executable, "-m", "shijian.cli", "migrate"], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    shown = subprocess.run(
        [sys.executable, "-m", "django", "showmigrations", "--plan", "--settings=shijian.config.settings"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert shown.returncode == 0 and "[X]  registry.0005" in shown.stdout, shown.stdout + shown.stderr
    assert "[ ]" not in shown.stdout
