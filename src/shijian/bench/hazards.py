"""``shijian bench hazards``: the hazard library's list and dashboard with 500k entries, in SQLite.

Reuses the world of ``shijian bench draw`` (780k entities, 20 departments; built if missing), adds N entries with
their state changes (plain inserts), and times pages through Django's full stack (middleware, templates) in
process: the library list under each filter, and the dashboards. Baseline in the same run: ``/healthz``.
"""

from __future__ import annotations

import datetime as dt
import random
import resource
import statistics
import time
from typing import Any

from rich.console import Console

from shijian.bench.draw import build_world
from shijian.bench.web import _percentile

STATES = ["registered", "assigned", "rectifying", "submitted", "closed", "escalated", "enforcement_closed"]
WEIGHTS = [5, 10, 15, 5, 50, 5, 10]


def populate(n: int, console: Console) -> None:
    from django.db import connection, transaction

    from shijian.core import clock
    from shijian.hazards.models import Hazard, Transition
    from shijian.registry.models import Department, Entity

    if Hazard.objects.count() >= n:
        return
    t0 = time.perf_counter()
    rnd = random.Random(11)
    Transition.objects.all().delete()
    Hazard.objects.all().delete()
    ents = list(Entity.objects.values_list("pk", "town_code", "district_code")[: n * 2])
    depts: dict[str, list[int]] = {}
    for pk, region in Department.objects.values_list("pk", "region_code"):
        depts.setdefault(region[:6], []).append(pk)
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    hz_rows, tr_rows = [], []
    for i in range(1, n + 1):
        eid, town, district = rnd.choice(ents)
        opened = start + dt.timedelta(minutes=rnd.randrange(0, 1_400_000))
        state = rnd.choices(STATES, WEIGHTS)[0]
        grade = rnd.choices(["major", "serious", "general"], [5, 20, 75])[0]
        dept = rnd.choice(depts[district])
        deadline = clock.local_date(opened + dt.timedelta(days={"major": 7, "serious": 15, "general": 30}[grade]))
        closed = opened + dt.timedelta(days=rnd.randint(3, 40)) if state in ("closed", "enforcement_closed") else None
        hz_rows.append(
            (
                i,
                eid,
                town,
                district,
                rnd.choice(["inspection", "complaint", "penalty", "manual"]),
                "",
                rnd.choice(["problem", "hazard"]),
                grade,
                "{}",
                f"问题{i}",
                "",
                dept,
                deadline,
                state,
                rnd.random() < 0.2,
                opened,
                closed,
                state in ("registered", "assigned", "rectifying"),
                closed or opened,
            )
        )
        tr_rows.append((i, "", "registered", opened, True, "registered", "", opened, 0.0, dept, town))
        if state == "closed" and closed is not None:
            days = (closed - opened).total_seconds() / 86400
            tr_rows.append((i, "submitted", "closed", closed, False, "verified", "photos", opened, days, dept, town))
        elif state in ("escalated", "enforcement_closed"):
            at = opened + dt.timedelta(days=31)
            tr_rows.append((i, "rectifying", "escalated", at, True, "overdue", "", opened, 31.0, dept, town))
    hz_cols = (
        "id, entity_id, town_code, district_code, source, source_ref, category, grade, scores, title, description, "
        "department_id, deadline, state, repeat, opened_at, closed_at, pending, updated_at"
    )
    tr_cols = (
        "hazard_id, old_state, new_state, at, system, reason, evidence, opened_at, days_open, department_id, town_code"
    )
    with transaction.atomic(), connection.cursor() as cur:
        cur.executemany(f"INSERT INTO hazards_hazard ({hz_cols}) VALUES ({', '.join(['%s'] * 19)})", hz_rows)
        cur.executemany(f"INSERT INTO hazards_transition ({tr_cols}) VALUES ({', '.join(['%s'] * 11)})", tr_rows)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    console.print(f"{n:,} entries and {len(tr_rows):,} state changes in {time.perf_counter() - t0:.0f} s")


def run(n: int, requests: int, console: Console) -> dict[str, Any]:
    from shijian.accounts.models import User
    from shijian.bench.signin import client_for
    from shijian.registry.models import Department

    build_world(780_000, console)
    populate(n, console)
    leader, _ = User.objects.get_or_create(username="bench-leader", defaults={"role": "leader", "region_code": "4406"})
    dept = Department.objects.get(code="440606-SAMR")
    staff, _ = User.objects.get_or_create(
        username="bench-staff", defaults={"role": "dept_staff", "region_code": "440606", "department": dept}
    )
    town = "440606" + "001"
    from shijian.hazards.models import Hazard

    town = Hazard.objects.filter(district_code="440606").values_list("town_code", flat=True).first() or town
    pages = {
        "list (open, newest first)": ("leader", "/hazards/"),
        "list, grade major": ("leader", "/hazards/?grade=major"),
        "list, state rectifying": ("leader", "/hazards/?state=rectifying"),
        "list, overdue": ("leader", "/hazards/?overdue=1"),
        "list, one town": ("leader", f"/hazards/?town={town}"),
        "list, department staff": ("staff", "/hazards/"),
        "list, page 50": ("leader", "/hazards/?page=50"),
    }
    clients = {"leader": client_for(leader), "staff": client_for(staff)}
    report: dict[str, Any] = {"entries": n}

    def time_it(who: str, url: str, k: int) -> list[float]:
        c = clients[who]
        c.get(url)  # warm
        out = []
        for _ in range(k):
            t = time.perf_counter()
            r = c.get(url)
            out.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200, (url, r.status_code)
        return out

    base = time_it("leader", "/healthz", requests)
    report["baseline_healthz_ms"] = {
        "median": round(statistics.median(base), 2),
        "p95": round(_percentile(base, 0.95), 2),
    }
    lists = []
    for label, (who, url) in pages.items():
        ms = time_it(who, url, requests)
        lists += ms
        report[label] = {"median_ms": round(statistics.median(ms), 1), "p95_ms": round(_percentile(ms, 0.95), 1)}
        console.print(f"{label:<28} median {statistics.median(ms):6.1f} ms   p95 {_percentile(ms, 0.95):6.1f} ms")
    report["all lists p95_ms"] = round(_percentile(lists, 0.95), 1)
    report["all lists p95 / healthz p95"] = round(_percentile(lists, 0.95) / _percentile(base, 0.95), 1)
    for label, who in (("dashboard, district leader", "leader"), ("dashboard, department staff", "staff")):
        ms = time_it(who, "/hazards/dashboard/", max(5, requests // 20))
        report[label] = {"median_ms": round(statistics.median(ms), 1), "p95_ms": round(_percentile(ms, 0.95), 1)}
        console.print(f"{label:<28} median {statistics.median(ms):6.1f} ms   p95 {_percentile(ms, 0.95):6.1f} ms")
    report["peak_memory_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return report
