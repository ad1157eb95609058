"""The deployment files say what the docs say (they are not run here: no image can be pulled on CI machines)."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_the_image_is_slim_non_root_and_installs_the_lock_file() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.findall(r"^FROM (\S+)", text, re.M) == ["python:3.11-slim", "python:3.11-slim"]
    assert "pip install -r requirements/lock.txt" in text
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and all(not u.startswith(("root", "0")) for u in users)
    assert "postgresql-client" in text  # pg_dump for `shijian backup`


def test_compose_starts_the_demo_on_postgresql() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    web, db = compose["services"]["web"], compose["services"]["db"]
    assert web["command"][:2] == ["shijian", "demo"] and "0.0.0.0" in web["command"]
    url = web["environment"]["SHIJIAN_DATABASE_URL"]
    assert url.startswith("postgres://") and "@db:5432/" in url
    assert db["environment"]["POSTGRES_PASSWORD"] in url
    assert web["depends_on"]["db"]["condition"] == "service_healthy"
    assert "worker" not in compose["services"]


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose is not installed")
def test_docker_compose_accepts_the_file() -> None:
    run = subprocess.run(["docker-compose", "-f", str(ROOT / "compose.yaml"), "config", "-q"], capture_output=True)
    assert run.returncode == 0, run.stderr


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((ROOT / "deploy" / name).read_text())
    return parser


def test_the_systemd_units_run_as_shijian_with_the_env_file() -> None:
    web = _unit("shijian.service")
    assert web["Service"]["ExecStart"].split()[:2] == ["/opt/shijian/.venv/bin/shijian", "serve"]
    assert "--host 127.0.0.1" in web["Service"]["ExecStart"]
    backup = _unit("shijian-backup.service")
    assert "shijian backup /var/backups/shijian/" in backup["Service"]["ExecStart"]
    for unit in (web, backup):
        assert unit["Service"]["User"] == "shijian"
        assert unit["Service"]["EnvironmentFile"] == "/etc/shijian/shijian.env"
    assert _unit("shijian-backup.timer")["Timer"]["OnCalendar"]
    env = (ROOT / "deploy" / "shijian.env").read_text()
    assert "SHIJIAN_METRICS_TOKEN=" in env


def test_nginx_keeps_metrics_off_the_public_site() -> None:
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    assert re.search(r"location = /metrics \{ return 404; \}", text)
    assert "proxy_pass http://127.0.0.1:8000;" in text


def test_docs_deploy_covers_every_file() -> None:
    doc = (ROOT / "docs" / "deploy.md").read_text()
    for path in ["Dockerfile", "compose.yaml", *(f"deploy/{p.name}" for p in (ROOT / "deploy").iterdir())]:
        assert path in doc, path
