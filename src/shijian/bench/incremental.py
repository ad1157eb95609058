"""``shijian bench incremental``: a day's delivery added by ``build --incremental`` against a full build.

Reuses the world of ``shijian bench ingest`` (register in SQLite, the lake). In one run: a full build of the lake
(the baseline, and the state an incremental build adds to); then a delivery of ``share`` of the lake's records
(a seeded sample, given new record numbers and dates after the lake's last day, written as one department's CSV
feed) ingested as a new load; then the incremental build of that load; then a day's register changes (new
entities, renamed ones) and the incremental build that follows them. Printed: the builds' seconds by step, the
ratios to the full build, the entities touched, and the peak memory of the process. The world's register is changed
by the run (new and renamed entities stay): rebuild the world with ``shijian bench ingest`` for a pristine one.
"""

from __future__ import annotations

import os
import resource
import shutil
import time
from pathlib import Path
from typing import Any

from rich.console import Console

MAPPING = """[feed]
name = "bench delivery"
files = ["*.csv"]
source = "440600-BENCH-DAY"
entity_keys = ["uscc", "reg_no", "name_address"]
amount_unit = "wan"  # the lake holds 万元
[columns]
record_id = ["record_id"]
uscc = ["uscc"]
reg_no = ["reg_no"]
name = ["name"]
address = ["address"]
record_type = ["record_type"]
event_date = ["event_date"]
amount = ["amount"]
result = ["result"]
detail = ["detail"]
"""


def make_delivery(lake_glob: str, share: float, out: Path, seed: int = 1) -> int:
    """A seeded ``share`` of the lake's records as a new feed (new record numbers, dated after the lake's end)."""
    import duckdb

    shutil.rmtree(out, ignore_errors=True)
    (out / "feed").mkdir(parents=True)
    (out / "maps").mkdir()
    (out / "maps" / "delivery.toml").write_text(MAPPING, encoding="utf-8")
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    last = con.execute(f"SELECT max(event_date) FROM read_parquet('{lake_glob}')").fetchall()[0][0]
    con.execute(f"""
        COPY (
            SELECT 'DAY-' || row_number() OVER () AS record_id, coalesce(uscc, '') AS uscc, reg_no, name, address,
                   record_type, DATE '{last}' + INTERVAL 1 DAY AS event_date, amount, result, detail
            FROM read_parquet('{lake_glob}') USING SAMPLE {share * 100}% (bernoulli, {seed})
        ) TO '{out / "feed" / "delivery.csv"}' (HEADER)
    """)
    n = con.execute(f"SELECT count(*) FROM read_csv('{out / 'feed' / 'delivery.csv'}')").fetchall()[0][0]
    con.close()
    return int(n)


def run(work: Path, share: float, console: Console, registrations: int = 780, renames: int = 100) -> dict[str, Any]:
    from shijian.bench import open_ingest_world

    work = open_ingest_world(work)
    from shijian.ingest.mapping import load_mappings
    from shijian.ingest.pipeline import ingest, summary
    from shijian.lake.build import run_build
    from shijian.lake.incremental import run_incremental
    from shijian.lake.store import Lake

    lake = Lake(work / "lake")
    for old in lake.records.glob("source=440600-BENCH-DAY"):  # an earlier run's delivery: the baseline is the lake
        shutil.rmtree(old)
    report: dict[str, Any] = {"machine": f"{os.cpu_count()} cores", "share": share}

    t0 = time.perf_counter()
    full = run_build(lake)
    report["full_build"] = {"seconds": round(time.perf_counter() - t0, 1), "steps": full.seconds}
    report["records"] = full.records
    console.print(f"full build (baseline): {report['full_build']['seconds']} s for {full.records:,} records")

    t0 = time.perf_counter()
    rows = make_delivery(lake.records_glob(), share, work / "delivery")
    report["delivery"] = {"records": rows, "make_s": round(time.perf_counter() - t0, 1)}
    t0 = time.perf_counter()
    loaded = summary(ingest([work / "delivery" / "feed"], load_mappings(work / "delivery" / "maps"), lake, workers=1))
    report["delivery"]["ingest_s"] = round(time.perf_counter() - t0, 1)
    report["delivery"]["accepted"] = loaded["accepted"]
    console.print(
        f"delivery: {rows:,} records ({rows / full.records:.2%}), ingested in {report['delivery']['ingest_s']} s"
    )

    t0 = time.perf_counter()
    inc = run_incremental(lake)
    secs = time.perf_counter() - t0
    report["incremental_build"] = {
        "seconds": round(secs, 1),
        "mode": inc.mode,
        "reason": inc.reason,
        "steps": inc.seconds,
        "affected_entities": inc.affected_entities,
        "records_linked": sum(inc.linked.values()),
        "unlinked": inc.unlinked,
    }
    report["ratio_incremental_to_full"] = round(secs / report["full_build"]["seconds"], 4)
    console.print(
        f"incremental build ({inc.mode}): {secs:.1f} s, {inc.affected_entities:,} entities updated; "
        f"{report['ratio_incremental_to_full']:.1%} of the full build"
    )
    t0 = time.perf_counter()
    changed = change_register(registrations, renames)
    report["register_changes"] = changed
    inc = run_incremental(lake)
    secs = time.perf_counter() - t0
    report["incremental_after_register_changes"] = {
        "seconds": round(secs, 1),
        "mode": inc.mode,
        "steps": inc.seconds,
        "affected_entities": inc.affected_entities,
    }
    report["ratio_register_changes_to_full"] = round(secs / report["full_build"]["seconds"], 4)
    console.print(
        f"register changes ({registrations} new entities, {renames} renamed), incremental ({inc.mode}): {secs:.1f} s, "
        f"{inc.affected_entities:,} entities updated; {report['ratio_register_changes_to_full']:.1%} of the full build"
    )
    report["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return report


def change_register(registrations: int, renames: int, seed: int = 1) -> dict[str, int]:
    """A day's register changes: new entities (copies of existing ones under new codes, names and addresses) and
    renamed ones (a new name and address), through the ORM as the loader writes them."""
    import random

    from shijian.core.codes import uscc
    from shijian.registry.models import Entity

    rng = random.Random(seed)
    ids = list(Entity.objects.values_list("id", flat=True))
    known = set(Entity.objects.exclude(uscc=None).values_list("uscc", flat=True))
    new = []
    for k, src in enumerate(Entity.objects.filter(pk__in=rng.sample(ids, registrations))):
        code = uscc.make("92", src.district_code, f"MB{k:06d}")
        if code in known:
            continue
        src.pk, src.uscc, src.reg_no = None, code, ""
        src.name, src.address = f"佛山市新登记商行{k}号店", f"{src.address}附{k}号"
        new.append(src)
    Entity.objects.bulk_create(new, batch_size=1000)
    for k, pk in enumerate(rng.sample(ids, renames)):
        Entity.objects.filter(pk=pk).update(name=f"佛山市更名贸易{k}有限公司", address=f"高明区更名路{k}号")
    return {"registered": len(new), "renamed": renames}
