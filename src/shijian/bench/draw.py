"""``shijian bench draw``: a Foshan-scale 双随机 batch frozen, drawn and staffed, in SQLite.

The world (built once, then reused): N entities over the towns of Foshan's five districts with risk classes
A 30% / B 50% / C 15% / D 5%; 20 departments (4 per district); 100 officers each (2,000); three key items, each
answered for by two departments per district. One stratified batch (A 1%, B 3%, C 8%, D 20%, 20% purely random)
draws about 4% (~31k of 780k). Baseline in the same run: a raw ``sqlite3`` scan of the same candidate columns.
"""

from __future__ import annotations

import datetime as dt
import random
import resource
import sqlite3
import time
from typing import Any

from rich.console import Console

DISTRICTS = ["440604", "440605", "440606", "440607", "440608"]
DEPTS = [("SAMR", ("FOOD", "SPEQ", "PQ")), ("HEALTH", ("FOOD",)), ("SAFETY", ("SPEQ",)), ("ECON", ("PQ",))]
ITEMS = [
    ("FOOD-B1", "FOOD", ("SAMR", "HEALTH")),
    ("SPEQ-B1", "SPEQ", ("SAMR", "SAFETY")),
    ("PQ-B1", "PQ", ("SAMR", "ECON")),
]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build_world(n: int, console: Console) -> None:
    from shijian.core.codes import tables
    from shijian.core.codes.uscc import make
    from shijian.registry.models import Department, Entity, Inspector, ItemCategory, Responsibility, SpotCheckItem

    if Entity.objects.count() >= n:
        return
    t0 = time.perf_counter()
    rnd = random.Random(7)
    towns = {
        d: sorted(c.code for c in tables.divisions().values() if c.level == "town" and c.parent == d) for d in DISTRICTS
    }
    cats = {c: ItemCategory.objects.get_or_create(code=c, defaults={"name": c})[0] for c in ("FOOD", "SPEQ", "PQ")}
    depts = {}
    for d in DISTRICTS:
        for key, _q in DEPTS:
            depts[(d, key)] = Department.objects.get_or_create(
                code=f"{d}-{key}", defaults={"name": f"{d} {key}", "level": "district", "region_code": d}
            )[0]
    for code, cat, keys in ITEMS:
        item, _ = SpotCheckItem.objects.get_or_create(
            code=code, defaults={"name": code, "category": cats[cat], "kind": "key"}
        )
        for d in DISTRICTS:
            for key in keys:
                Responsibility.objects.get_or_create(department=depts[(d, key)], item=item, region_code=d)
    cert = 0
    for (d, key), dept in depts.items():
        quals = [cats[c] for k, cs in DEPTS if k == key for c in cs]
        for _i in range(100):
            cert += 1
            region = d if rnd.random() < 0.5 else rnd.choice(towns[d])
            o = Inspector.objects.create(
                name=f"执法{cert}", department=dept, region_code=region, cert_no=f"B{cert:06d}"
            )
            o.qualifications.set(quals)
    classes = ["A"] * 30 + ["B"] * 50 + ["C"] * 15 + ["D"] * 5
    batch: list[Entity] = []
    for i in range(n):
        d = DISTRICTS[i % 5]
        town = rnd.choice(towns[d])
        batch.append(
            Entity(
                uscc=make("91", d, f"B{i:07d}"),
                name=f"企业{i}",
                entity_type="llc",
                industry_code="6210",
                industry_section="H",
                region_code=town + "001",
                town_code=town,
                district_code=d,
                legal_rep=f"法人{i % 50_000}",
                risk_class=rnd.choice(classes),
            )
        )
        if len(batch) == 20_000:
            Entity.objects.bulk_create(batch)
            batch = []
    Entity.objects.bulk_create(batch)
    console.print(f"built the world: {n:,} entities, {cert:,} officers in {time.perf_counter() - t0:.0f} s")


def run(n: int, console: Console) -> dict[str, Any]:
    from django.conf import settings
    from django.db import connection

    from shijian.accounts.models import User
    from shijian.registry.models import Department, SpotCheckItem
    from shijian.supervision import services
    from shijian.supervision.draw import commitment
    from shijian.supervision.models import Batch, Draw, Plan, TeamMember, Visit, VisitItem

    build_world(n, console)
    # each run starts from no draws, so the figures compare
    VisitItem.objects.all().delete()
    TeamMember.objects.all().delete()
    Visit.objects.all().delete()
    Batch.objects.all().delete()
    Draw.objects.all().delete()
    Plan.objects.all().delete()
    user, _ = User.objects.get_or_create(username="bench", defaults={"role": "leader", "region_code": "4406"})
    plan = Plan.objects.create(
        code=f"FS{int(time.time())}",
        name="佛山市联合抽查",
        year=2026,
        level="city",
        department=Department.objects.get(code="440604-SAMR"),
        region_code="4406",
        created_by=user,
    )
    batch = Batch.objects.create(
        plan=plan,
        code=f"{plan.code}-01",
        name="联合抽查",
        department=plan.department,
        mode="stratified",
        ratios={"A": "1", "B": "3", "C": "8", "D": "20"},
        random_share=20,
        window_start=dt.date(2026, 3, 1),
        window_end=dt.date(2026, 12, 31),
    )
    batch.items.set(SpotCheckItem.objects.filter(code__in=[c for c, _cat, _k in ITEMS]))

    db = str(settings.DATABASES["default"]["NAME"])
    t0 = time.perf_counter()
    con = sqlite3.connect(db)
    rows = con.execute(
        "SELECT id, uscc, entity_type, industry_code, region_code, risk_class FROM registry_entity"
    ).fetchall()
    con.close()
    scan = time.perf_counter() - t0
    del rows

    t0 = time.perf_counter()
    secrets = ["bench secret 1", "bench secret 2"]
    draw = services.freeze([batch], user, "commit_reveal", commitments=[commitment(s) for s in secrets])
    freeze_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = services.perform(draw, user, secrets=secrets)
    draw_s = time.perf_counter() - t0
    connection.close()
    batch.refresh_from_db()
    visits = Visit.objects.filter(draw=draw).count()
    report = {
        "entities": n,
        "candidates": batch.candidates_count,
        "visits": visits,
        "unstaffed": len(result.infeasible),
        "team_members": TeamMember.objects.filter(visit__draw=draw).count(),
        "officers": 2000,
        "departments": 20,
        "freeze_s": round(freeze_s, 2),
        "draw_and_staff_s": round(draw_s, 2),
        "total_s": round(freeze_s + draw_s, 2),
        "baseline_raw_scan_s": round(scan, 2),
        "total_over_raw_scan": round((freeze_s + draw_s) / scan, 1),
        "peak_memory_mb": round(_peak_mb()),
    }
    console.print(
        f"{n:,} entities, {visits:,} visits staffed in {freeze_s + draw_s:.1f} s "
        f"(freeze {freeze_s:.1f} s, draw+staff+save {draw_s:.1f} s) = {report['total_over_raw_scan']}x a raw scan "
        f"({scan:.2f} s); peak {report['peak_memory_mb']} MB"
    )
    return report
