"""``shijian bench search``: full-text search over the record texts of the 130M-record lake.

Reuses the world of ``shijian bench ingest`` (its build's ``by_entity`` files and its register). Builds the index
(timed: the rows, the engine's index), then asks a fixed mix of questions as a superuser, a city official, a
district leader and a town clerk: words common and rare, one character, two words, filtered by town, department,
record type and dates, a first page and the page after it; then the pages themselves through Django. Each question
is also answered by a scan of the same texts held in memory by DuckDB, without an index (the baseline, in the same
run; the counts must agree), and one by reading the lake's records themselves (what a search without the index
table would do). With ``--engine postgresql`` the index goes into
a fresh PostgreSQL database (the register's codes are read from the world's SQLite file) and the same questions
are asked there.
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import sqlite3
import statistics
import time
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from rich.console import Console

WORDS = [
    "检查",  # in most texts
    "未发现违法违规行为",
    "过期",
    "超过保质期",
    "虚假宣传",
    "广告法",
    "婴幼儿奶粉",
    "特种设备超期未检验",
    "预付卡 停业",
    "油",  # one character: a prefix
    "直播 功效",
    "臭豆腐",  # in no text
]


def _ms(samples: list[float]) -> dict[str, float]:
    s = sorted(samples)
    return {
        "median_ms": round(statistics.median(s) * 1000, 1),
        "p95_ms": round(s[max(0, int(len(s) * 0.95 + 0.5) - 1)] * 1000, 1),
        "max_ms": round(s[-1] * 1000, 1),
        "n": len(s),
    }


def _codes_from_sqlite(db: Path) -> pa.Table:
    from shijian.lake.fulltext.index import codes_table

    con = sqlite3.connect(db)
    rows = con.execute("SELECT id, district_code, town_code, region_code FROM registry_entity").fetchall()
    con.close()
    return codes_table(rows)


def _create_database(url: str) -> None:
    """The PostgreSQL database named in ``url``, created when missing (the bench fills it; nothing else uses it)."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres", scheme="postgresql"))
    with psycopg.connect(admin, autocommit=True) as con:
        if not con.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            con.execute(f'CREATE DATABASE "{name}"')


def _open(work: Path, engine: str, pg_url: str) -> tuple[Path, pa.Table | None]:
    """Django on the world's SQLite file, or on a fresh PostgreSQL database (the register's codes from the file)."""
    from shijian.bench import open_ingest_world

    if engine == "sqlite":
        return open_ingest_world(work, built=True), None
    work = work.resolve()
    db = work / "ingest.sqlite3"
    if not (work / "lake" / "build" / "by_entity").exists() or not db.exists():
        raise FileNotFoundError(f"no built world in {work}: run `shijian bench ingest --scale foshan` first")
    _create_database(pg_url)
    os.environ["SHIJIAN_DATABASE_URL"] = pg_url
    os.environ["SHIJIAN_LAKE"] = str(work / "lake")
    os.environ.setdefault("SHIJIAN_HOME", str(work / "home"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shijian.config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    return work, _codes_from_sqlite(db)


def _questions(towns: list[str], sources: list[str], last: dt.date) -> list[tuple[str, dict[str, Any]]]:
    """(words, filters) pairs: every word alone, then with each kind of filter."""
    year = {"date_from": last - dt.timedelta(days=365), "date_to": last}
    out: list[tuple[str, dict[str, Any]]] = [(w, {}) for w in WORDS]
    for i, w in enumerate(WORDS):
        out.append((w, {"town": towns[i % len(towns)]}))
        out.append((w, {"source": sources[i % len(sources)]}))
        out.append((w, {"record_type": ("complaint", "penalty", "inspection")[i % 3], **year}))
    out.append(("", {"town": towns[0]}))  # no words: a town's newest texts
    return out


def _scan(con: duckdb.DuckDBPyConnection, words: str, f: dict[str, Any]) -> int:
    """The baseline: the same question as a scan of the index's rows in DuckDB (no index), counted."""
    cond = ["TRUE"] + [f"text LIKE '%{w}%'" for w in words.split()]
    if f.get("town"):
        cond.append(f"town_code = '{f['town']}'")
    if f.get("source"):
        cond.append(f"source = '{f['source']}'")
    if f.get("record_type"):
        cond.append(f"record_type = '{f['record_type']}'")
    if f.get("date_from"):
        cond.append(f"event_date BETWEEN DATE '{f['date_from']}' AND DATE '{f['date_to']}'")
    row = con.execute(f"SELECT count(*) FROM texts WHERE {' AND '.join(cond)}").fetchone()
    return int(row[0]) if row else 0


def run(work: Path, engine: str, pg_url: str, rebuild: bool, console: Console) -> dict[str, Any]:
    work, codes = _open(work, engine, pg_url)
    from django.db import connection
    from django.db.models import Count

    from shijian.accounts.models import User
    from shijian.lake.build import bucket_count
    from shijian.lake.fulltext import index, query
    from shijian.lake.models import RecordText
    from shijian.lake.store import Lake

    lake = Lake(work / "lake")
    report: dict[str, Any] = {"engine": connection.vendor, "machine": f"{os.cpu_count()} cores"}
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    files = index.by_entity_files(lake)
    report["lake_records"] = int(con.execute(f"SELECT count(*) FROM read_parquet({files!r})").fetchall()[0][0])
    if rebuild or codes is not None or not RecordText.objects.exists():  # PostgreSQL: filled afresh from this lake
        t0 = time.perf_counter()
        buckets = bucket_count(report["lake_records"])
        n = index.rebuild(lake, buckets, codes=codes)
        report["index_build"] = {"texts": n, "seconds": round(time.perf_counter() - t0, 1)}
        console.print(f"index: {n:,} texts in {report['index_build']['seconds']} s")
    report["texts"] = RecordText.objects.count()

    # The baseline's table: the same rows as the index holds, read from the database into DuckDB (not timed).
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("SELECT town_code, source, record_type, event_date, text FROM lake_recordtext")
        rows = cur.fetchall()
    cols = list(zip(*rows, strict=True))
    con.register(
        "texts_arrow",
        pa.table(
            {
                "town_code": pa.array(cols[0], pa.string()),
                "source": pa.array(cols[1], pa.string()),
                "record_type": pa.array(cols[2], pa.string()),
                "event_date": pa.array([dt.date.fromisoformat(str(d)) if d else None for d in cols[3]], pa.date32()),
                "text": pa.array(cols[4], pa.string()),
            }
        ),
    )
    con.execute("CREATE TABLE texts AS SELECT * FROM texts_arrow")
    del rows, cols
    report["baseline_table_s"] = round(time.perf_counter() - t0, 1)

    towns = [t for t, _n in RecordText.objects.values_list("town_code").annotate(n=Count("id")).order_by("-n")[:6]]
    sources = [s for s, _n in RecordText.objects.values_list("source").annotate(n=Count("id")).order_by("-n")[:6]]
    newest = RecordText.objects.order_by("-id").values_list("event_date", flat=True).first() or dt.date.today()
    users = {
        "superuser": User.objects.update_or_create(
            username="bench-search-root", defaults={"role": "leader", "is_superuser": True, "region_code": ""}
        )[0],
        "city official": User.objects.update_or_create(
            username="bench-search-city", defaults={"role": "leader", "region_code": towns[0][:4]}
        )[0],
        "district leader": User.objects.update_or_create(
            username="bench-search-district", defaults={"role": "leader", "region_code": towns[0][:6]}
        )[0],
        "town clerk": User.objects.update_or_create(
            username="bench-search-town", defaults={"role": "inspector", "region_code": towns[0]}
        )[0],
    }
    questions = _questions(towns, sources, newest)
    report["questions"] = len(questions)
    report["per_user"] = {}
    every: list[float] = []
    scans: list[float] = []
    examples: list[dict[str, Any]] = []
    disagreements = 0  # questions whose count differs from the scan's (the index must answer what a scan does)
    uncounted = 0  # questions whose total was not counted within the time budget (PostgreSQL)
    for who, user in users.items():
        first: list[float] = []
        second: list[float] = []
        for words, f in questions:
            filters = query.Filters(**f)
            t0 = time.perf_counter()
            page = query.search(user, words, filters)
            first.append(time.perf_counter() - t0)
            if page.next_before is not None:
                t0 = time.perf_counter()
                query.search(user, words, filters, page.next_before)
                second.append(time.perf_counter() - t0)
            if who == "superuser":
                t0 = time.perf_counter()
                scanned = _scan(con, words, f)
                scans.append(time.perf_counter() - t0)
                agrees = page.count == min(scanned, query.COUNT_CAP) and page.capped == (scanned > query.COUNT_CAP)
                if not page.counted:  # no total within the budget: then the page must be full and more must exist
                    agrees = len(page.rows) == query.PAGE and scanned > query.PAGE
                    uncounted += 1
                disagreements += 0 if agrees else 1
                if not f:
                    examples.append({"words": words, "matches": scanned, "index_count": page.count})
        report["per_user"][who] = {"first page": _ms(first), "next page": _ms(second) if second else None}
        every += first + second
        console.print(f"{who}: p95 {report['per_user'][who]['first page']['p95_ms']} ms")
    report["all_requests"] = _ms(every)
    # The pages themselves, through Django (form, search, entity names, template), as the district leader.
    from django.conf import settings
    from django.utils.http import urlencode

    from shijian.bench.signin import client_for

    settings.ALLOWED_HOSTS = ["*"]
    client = client_for(users["district leader"])
    pages: list[float] = []
    for words, f in questions:
        url = "/records/search/?" + urlencode({"q": words, **{k: str(v) for k, v in f.items()}})
        t0 = time.perf_counter()
        r = client.get(url)
        pages.append(time.perf_counter() - t0)
        assert r.status_code == 200, (url, r.status_code)
    report["pages_district_leader"] = _ms(pages)
    # Without any index: one question answered by reading the lake's records themselves (every by_entity file).
    types = "('complaint', 'penalty', 'inspection')"
    t0 = time.perf_counter()
    con.execute(
        f"SELECT count(*) FROM read_parquet({files!r}) WHERE record_type IN {types} AND detail LIKE '%婴幼儿奶粉%'"
    ).fetchall()
    report["baseline_lake_scan_one_question_s"] = round(time.perf_counter() - t0, 2)
    report["baseline_scan"] = _ms(scans)
    report["ratio_p95_index_to_scan"] = round(report["all_requests"]["p95_ms"] / report["baseline_scan"]["p95_ms"], 4)
    report["examples"] = examples
    report["counts_differing_from_scan"] = disagreements
    report["totals_not_counted_in_budget"] = uncounted
    report["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    con.close()
    return report
