"""``shijian bench analytics``: dashboard figures and pages at Foshan scale.

Reuses the world of ``shijian bench ingest`` (780k entities in SQLite, the 130M-record lake and its build):
times ``refresh_all`` (every scope's figures, from the database and the lake's entity files) and the pages
(district and town dashboards, their Excel export, stored forecasts, a town's industry forecast fitted on first
view, the monthly PDF report and the operations centre) through Django's test client, against ``/healthz``
measured in the same run as the baseline.
"""

from __future__ import annotations

import os
import resource
import statistics
import time
from pathlib import Path
from typing import Any

from rich.console import Console


def _ms(samples: list[float]) -> dict[str, float]:
    s = sorted(samples)
    return {
        "median": round(statistics.median(s) * 1000, 1),
        "p95": round(s[max(0, int(len(s) * 0.95) - 1)] * 1000, 1),
        "n": len(s),
    }


def run(work: Path, requests: int, console: Console) -> dict[str, Any]:
    from shijian.bench import open_ingest_world

    work = open_ingest_world(work, built=True)
    from django.conf import settings
    from django.utils import timezone

    from shijian.accounts.models import User
    from shijian.analytics import snapshot
    from shijian.analytics.models import Snapshot
    from shijian.bench.signin import client_for
    from shijian.registry.models import Entity

    settings.ALLOWED_HOSTS = ["*"]
    report: dict[str, Any] = {"entities": Entity.objects.count(), "machine": f"{os.cpu_count()} cores"}
    t0 = time.perf_counter()
    series = snapshot.lake_series(Path(settings.SHIJIAN_LAKE), snapshot.months_back(timezone.localdate()))
    report["lake_series_scopes"] = len(series)
    report["lake_series_s"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    n = snapshot.refresh_all(Path(settings.SHIJIAN_LAKE))
    report["refresh_all"] = {"scopes": n, "seconds": round(time.perf_counter() - t0, 1)}
    per = sorted(Snapshot.objects.values_list("scope", "seconds"), key=lambda r: -r[1])
    report["refresh_all"]["slowest_scopes_s"] = [[k, round(s, 2)] for k, s in per[:3]]
    from shijian.analytics.models import StoredForecast

    fits = list(StoredForecast.objects.values_list("seconds", flat=True))
    report["refresh_all"]["forecasts"] = {
        "fitted": len(fits),
        "fit_seconds_sum": round(sum(fits), 1),
        "slowest_fit_s": round(max(fits, default=0), 2),
    }
    console.print(f"figures for {n} scopes in {report['refresh_all']['seconds']} s")

    user, _created = User.objects.get_or_create(username="bench-leader", defaults={"role": "leader"})
    user.is_superuser = True
    user.save()
    client = client_for(user)
    district = next(k for k in Snapshot.objects.values_list("scope", flat=True) if k.startswith("district:"))
    town = max(
        (k for k in Snapshot.objects.values_list("scope", flat=True) if k.startswith("town:")),
        key=lambda k: Snapshot.objects.get(scope=k).data["entities"]["total"],
    )
    section = max(
        Snapshot.objects.get(scope=district).data["series_by_section"].items(),
        key=lambda kv: sum(n for _m, n in kv[1]["registrations"]),
    )[0]
    pages = {
        "healthz (baseline)": "/healthz",
        "dashboard, district": f"/analytics/?district={district[9:]}",
        "dashboard, largest town": f"/analytics/?town={town[5:]}",
        "dashboard Excel export": f"/analytics/?district={district[9:]}&format=xlsx",
        "forecast, district (stored)": f"/analytics/forecast/?district={district[9:]}&series=complaints",
        "forecast, largest town (stored)": f"/analytics/forecast/?town={town[5:]}&series=complaints",
        f"forecast, district, section {section} (stored)": (
            f"/analytics/forecast/?district={district[9:]}&series=registrations&section={section}"
        ),
        "monthly report PDF, district": f"/analytics/report/?district={district[9:]}",
        "operations centre": "/analytics/operations/",
    }
    timings: dict[str, Any] = {}
    for label, url in pages.items():
        samples = []
        for _ in range(requests):
            t1 = time.perf_counter()
            r = client.get(url)
            samples.append(time.perf_counter() - t1)
            assert r.status_code == 200, (url, r.status_code)
        timings[label] = _ms(samples)
    # The one forecast a page still fits on view: a town's industry section (then kept).
    for name in ("complaints", "registrations"):
        url = f"/analytics/forecast/?town={town[5:]}&series={name}&section={section}"
        StoredForecast.objects.filter(scope=town, series=name, section=section).delete()
        t1 = time.perf_counter()
        assert client.get(url).status_code == 200
        cold = time.perf_counter() - t1
        samples = []
        for _ in range(requests):
            t1 = time.perf_counter()
            client.get(url)
            samples.append(time.perf_counter() - t1)
        timings[f"forecast {name}, town, section {section}"] = {"first_view_ms": round(cold * 1000, 1), **_ms(samples)}
    report["pages_ms"] = timings
    report["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return report
