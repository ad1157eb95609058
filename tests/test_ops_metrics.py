"""/metrics (Prometheus) and the JSON request log."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django import Settings

from shijian.core.request_context import acting_as
from shijian.ops.logs import ContextFilter, JsonFormatter
from shijian.ops.metrics import record_job
from tests.conftest import World


def test_it_exposes_request_latency_by_view_and_the_database(world: World) -> None:
    c = world.client("admin")  # administrators' start page is the overview itself (others are redirected)
    assert c.get(reverse("home")).status_code == 200
    r = c.get("/metrics")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/plain")
    body = r.content.decode()
    assert re.search(r'shijian_http_request_duration_seconds_count\{method="GET",view="home"\} [1-9]', body)
    assert 'shijian_http_requests_total{method="GET",status="200",view="home"}' in body
    assert "shijian_database_up 1.0" in body
    assert "shijian_database_info{" in body


def test_it_counts_ingested_rows_from_the_lake(db: None, settings: Settings, tmp_path: Path, client: Client) -> None:
    load = tmp_path / "lake" / "records" / "source=tax" / "load=a1"
    load.mkdir(parents=True)
    (load / "load.json").write_text(json.dumps({"source": "tax", "accepted": 90, "quarantined": 7, "duplicates": 3}))
    settings.SHIJIAN_LAKE = tmp_path / "lake"
    body = client.get("/metrics").content.decode()
    assert 'shijian_ingest_rows_total{outcome="accepted",source="tax"} 90.0' in body
    assert 'shijian_ingest_rows_total{outcome="quarantined",source="tax"} 7.0' in body
    assert 'shijian_ingest_loads_total{source="tax"} 1.0' in body


def test_it_has_a_hook_for_jobs(db: None, client: Client) -> None:
    record_job("analytics.refresh", "succeeded", 1.5)
    body = client.get("/metrics").content.decode()
    assert 'shijian_jobs_total{job="analytics.refresh",outcome="succeeded"}' in body


def test_it_answers_only_loopback_or_the_token(db: None, client: Client, settings: Settings) -> None:
    settings.SHIJIAN_METRICS_TOKEN = ""
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 403
    # through a proxy on the same machine: REMOTE_ADDR is loopback, but the request came from elsewhere
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION="Bearer anything").status_code == 403
    settings.SHIJIAN_METRICS_TOKEN = "s3cret-token"
    ok = client.get("/metrics", REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert ok.status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403


def test_each_request_is_one_json_log_line_with_its_request_id_and_user(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    c = world.client("hecheng")
    with caplog.at_level(logging.INFO, logger="shijian.request"):
        r = c.get(reverse("entity_list"), {"q": "x"})
    [record] = [rec for rec in caplog.records if rec.name == "shijian.request"]
    line = JsonFormatter().format(record)
    assert "\n" not in line
    data = json.loads(line)
    assert data["request_id"] == r["X-Request-Id"] != ""
    assert data["user"] == "hecheng"
    assert (data["method"], data["path"], data["status"], data["level"]) == ("GET", "/entities/", 200, "INFO")
    assert data["view"] == "entity_list" and isinstance(data["duration_ms"], float)
    assert data["time"].endswith("+00:00")


def test_other_log_lines_carry_the_request_id_and_user_of_their_context() -> None:
    class Who:
        username = "inspector"

    record = logging.LogRecord("shijian.ingest", logging.WARNING, __file__, 1, "slow %s", ("feed",), None)
    with acting_as(Who(), request_id="abc123"):
        ContextFilter().filter(record)
    data = json.loads(JsonFormatter().format(record))
    assert (data["request_id"], data["user"], data["message"], data["level"]) == (
        "abc123",
        "inspector",
        "slow feed",
        "WARNING",
    )
