"""pyspark (491 MB) is an optional extra: the platform installs, runs and says what to do without it."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent


def test_it_keeps_pyspark_out_of_the_base_install_and_pins_it_as_an_extra() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not [d for d in project["dependencies"] if d.startswith("pyspark")]
    assert [d for d in project["optional-dependencies"]["spark"] if d.startswith("pyspark")]
    lock = (ROOT / "requirements" / "lock.txt").read_text()
    assert "pyspark==" not in lock
    assert "pyspark==" in (ROOT / "requirements" / "spark.txt").read_text()


def test_it_says_how_to_install_spark_when_it_is_missing(
    db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shijian.cli import app

    monkeypatch.setitem(sys.modules, "pyspark", None)  # `import pyspark` raises ImportError, as when not installed
    result = CliRunner().invoke(app, ["build", "--engine", "spark", "--lake", str(tmp_path / "lake")])
    assert result.exit_code == 2, result.output
    assert "shijian[spark]" in result.output
    assert "Traceback" not in result.output
