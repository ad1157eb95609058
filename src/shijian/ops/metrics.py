"""Prometheus metrics at ``/metrics``: request latency by view, ingest rows, jobs, the database connection.

Under gunicorn every worker process counts its own requests; ``shijian serve`` points
``PROMETHEUS_MULTIPROC_DIR`` at a fresh folder so that one scrape adds up every worker (prometheus_client's
multiprocess mode). Ingest rows are read from the lake's load reports at scrape time (they are written by
``shijian ingest``, another process), so they survive restarts. ``/metrics`` answers only the machine itself
(a loopback address, not through a proxy) or a request carrying ``Authorization: Bearer $SHIJIAN_METRICS_TOKEN``.
"""

from __future__ import annotations

import hmac
import os
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector

REQUEST_SECONDS = Histogram(
    "shijian_http_request_duration_seconds",
    "Time to answer a request, by Django view name and method.",
    ["view", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
REQUESTS = Counter(
    "shijian_http_requests", "Requests answered, by view, method and status.", ["view", "method", "status"]
)
JOBS = Counter("shijian_jobs", "Background jobs finished, by job name and outcome.", ["job", "outcome"])
JOB_SECONDS = Histogram("shijian_job_duration_seconds", "Run time of background jobs, by job name.", ["job"])

LOOPBACK = {"127.0.0.1", "::1"}
PROXY_HEADERS = ("X-Forwarded-For", "X-Real-IP", "Forwarded")


def observe_request(view: str, method: str, status: int, seconds: float) -> None:
    REQUEST_SECONDS.labels(view, method).observe(seconds)
    REQUESTS.labels(view, method, str(status)).inc()


def record_job(job: str, outcome: str, seconds: float) -> None:
    """The hook a job runner calls when a job ends (outcome: succeeded, failed, cancelled...)."""
    JOBS.labels(job, outcome).inc()
    JOB_SECONDS.labels(job).observe(seconds)


class IngestCollector(Collector):
    """Rows read by ``shijian ingest``, accepted and quarantined, per source: from the lake's load reports."""

    def __init__(self, lake: Path) -> None:
        self.lake = lake

    def collect(self) -> Iterator[Metric]:
        from shijian.lake.store import Lake

        rows = CounterMetricFamily(
            "shijian_ingest_rows", "Departmental rows ingested into the lake.", labels=["source", "outcome"]
        )
        totals: dict[tuple[str, str], int] = defaultdict(int)
        loads = CounterMetricFamily("shijian_ingest_loads", "Files committed to the lake.", labels=["source"])
        per_source: dict[str, int] = defaultdict(int)
        for report in Lake(self.lake).load_reports():
            source = str(report.get("source", ""))
            per_source[source] += 1
            for outcome in ("accepted", "quarantined", "duplicates"):
                totals[(source, outcome)] += int(report.get(outcome, 0) or 0)
        for (source, outcome), value in sorted(totals.items()):
            rows.add_metric([source, outcome], value)
        for source, value in sorted(per_source.items()):
            loads.add_metric([source], value)
        yield rows
        yield loads


class DatabaseCollector(Collector):
    """Which database, whether it answers and how fast (one ``SELECT 1`` per scrape)."""

    def collect(self) -> Iterator[Metric]:
        from django.conf import settings
        from django.db import connection

        db = settings.DATABASES["default"]
        info = InfoMetricFamily("shijian_database", "The operational database.")
        info.add_metric(
            [],
            {
                "vendor": connection.vendor,
                "host": str(db.get("HOST") or ""),
                "name": str(db.get("NAME") if connection.vendor != "sqlite" else Path(str(db["NAME"])).name),
                "conn_max_age": str(db.get("CONN_MAX_AGE", 0)),
            },
        )
        yield info
        up = GaugeMetricFamily("shijian_database_up", "1 when SELECT 1 succeeded at this scrape.")
        latency = GaugeMetricFamily("shijian_database_ping_seconds", "Time of SELECT 1 at this scrape.")
        t0 = time.perf_counter()
        try:
            with connection.cursor() as cur:
                cur.execute("SELECT 1")
                cur.fetchone()
            up.add_metric([], 1)
        except Exception:
            up.add_metric([], 0)
        latency.add_metric([], time.perf_counter() - t0)
        yield up
        yield latency


def exposition(lake: Path) -> bytes:
    """The text of one scrape: this process's (or, in multiprocess mode, every worker's) metrics and the collectors."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        text = generate_latest(registry)
    else:
        text = generate_latest(REGISTRY)
    extra = CollectorRegistry()
    extra.register(IngestCollector(lake))
    extra.register(DatabaseCollector())
    return text + generate_latest(extra)


def may_scrape(remote_addr: str, headers: Any, token: str) -> bool:
    """Loopback without a proxy in between, or the bearer token (when one is configured)."""
    if token:
        given = str(headers.get("Authorization", ""))
        if given.startswith("Bearer ") and hmac.compare_digest(given[7:].strip().encode(), token.encode()):
            return True
    proxied = any(headers.get(h) for h in PROXY_HEADERS)
    return remote_addr in LOOPBACK and not proxied
