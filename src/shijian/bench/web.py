"""``shijian bench web``: entity list/page latency and bulk-load rate at scale, in SQLite or PostgreSQL.

Baselines measured in the same run:
- load: a raw ``sqlite3.executemany`` (SQLite) or ``COPY`` (PostgreSQL) of the same register rows into an unindexed
  table (no validation);
- pages: ``/healthz``, a trivial view through the same middleware stack and server.
Each figure is printed as absolute seconds/milliseconds and as a ratio to its baseline, with peak memory.
"""

from __future__ import annotations

import csv
import http.client
import os
import random
import resource
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _raw_insert_baseline(register: Path, tmp_db: Path) -> tuple[int, float]:
    """Parse the same CSV and insert it, unvalidated, into an unindexed SQLite table."""
    if tmp_db.exists():
        tmp_db.unlink()
    t0 = time.perf_counter()
    with register.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))[1:]
    con = sqlite3.connect(tmp_db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("CREATE TABLE e (" + ", ".join(f"c{i} TEXT" for i in range(len(rows[0]))) + ")")
    con.executemany("INSERT INTO e VALUES (" + ",".join("?" * len(rows[0])) + ")", rows)
    con.commit()
    con.close()
    dt = time.perf_counter() - t0
    tmp_db.unlink()
    return len(rows), dt


def _trade_name(name: str, town_code: str) -> str:
    """What a user types to find a generated name: its trade name and trade (兴丰广告), no region prefix."""
    from shijian.core.codes.tables import divisions

    town = divisions()[town_code].name.removesuffix("街道").removesuffix("镇")
    rest = name.removeprefix("广东").removeprefix("佛山市")
    if "区" in rest[:4]:
        rest = rest.split("区", 1)[1]
    return rest.removeprefix(town)[:4]


DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/shijian_bench_web"


def database_url(db: str) -> str:
    """``--db``: a SQLite file, ``postgres`` (the default bench database on this host) or a ``postgres://`` URL."""
    if db == "postgres":
        return os.environ.get("SHIJIAN_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    if db.startswith(("postgres://", "postgresql://")):
        return db
    return f"sqlite:///{Path(db).resolve()}"


def _ensure_postgres_database(url: str) -> None:
    """Create the bench database if it is missing (connecting to the server's ``postgres`` database)."""
    import psycopg

    from shijian.config.env import database_from_url

    cfg = database_from_url(url, Path.cwd())
    name = str(cfg["NAME"])
    with psycopg.connect(
        host=str(cfg["HOST"]),
        port=int(str(cfg["PORT"])),
        user=str(cfg["USER"]),
        password=str(cfg["PASSWORD"]) or None,
        dbname="postgres",
        autocommit=True,
    ) as con:
        if con.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            con.execute(f'CREATE DATABASE "{name}"')


def _raw_copy_baseline(register: Path) -> tuple[int, float]:
    """Parse the same CSV and ``COPY`` it, unvalidated, into an unindexed temporary PostgreSQL table."""
    from django.db import connection

    t0 = time.perf_counter()
    with register.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))[1:]
    width = len(rows[0])
    with connection.cursor() as cur:
        cur.execute("CREATE TEMPORARY TABLE raw_baseline (" + ", ".join(f"c{i} text" for i in range(width)) + ")")
        with cur.connection.cursor().copy("COPY raw_baseline FROM STDIN") as copy:  # type: ignore[attr-defined]
            for row in rows:
                copy.write_row(row)
        cur.execute("DROP TABLE raw_baseline")
    return len(rows), time.perf_counter() - t0


def _has_entities(db: Path | None) -> bool:
    if db is None:  # PostgreSQL: ask through Django (the tables may not exist yet)
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute("SELECT to_regclass('registry_entity') IS NOT NULL")
            if not cur.fetchone()[0]:
                return False
            cur.execute("SELECT EXISTS (SELECT 1 FROM registry_entity)")
            return bool(cur.fetchone()[0])
    if not db.exists():
        return False
    try:
        con = sqlite3.connect(db)
        n = con.execute("SELECT COUNT(*) FROM registry_entity").fetchone()[0]
        con.close()
        return bool(n)
    except sqlite3.Error:
        return False


def _get(conn: http.client.HTTPConnection, path: str, cookie: str) -> tuple[int, float, int]:
    t0 = time.perf_counter()
    conn.request("GET", path, headers={"Cookie": cookie, "Host": "127.0.0.1"})
    resp = conn.getresponse()
    body = resp.read()
    return resp.status, time.perf_counter() - t0, len(body)


def run(scale: str, requests: int, db: str, console: Console) -> dict[str, Any]:
    url = database_url(db)
    postgres = not url.startswith("sqlite:")
    sqlite_file = None if postgres else Path(url.removeprefix("sqlite:///"))
    # the generated register (and the server's home) beside the SQLite file, or in SHIJIAN_BENCH_WORK for PostgreSQL
    work = sqlite_file.parent if sqlite_file is not None else Path(os.environ.get("SHIJIAN_BENCH_WORK", "var/bench"))
    work = work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    if postgres:
        _ensure_postgres_database(url)
    os.environ["SHIJIAN_DATABASE_URL"] = url
    os.environ.setdefault("SHIJIAN_HOME", str(work / "home"))
    os.environ["SHIJIAN_HTTPS"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shijian.config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from shijian.core.request_context import acting_as
    from shijian.registry.loader import load_district
    from shijian.registry.models import Entity
    from shijian.synth.generator import generate, resolve_scale

    s = resolve_scale(scale, records=0)
    synth_dir = work / f"synth-{s.name}"
    report: dict[str, Any] = {
        "scale": s.name,
        "entities": s.entities,
        "database": "postgresql" if postgres else "sqlite",
        "machine": f"{os.cpu_count()} cores",
        "load_average_before": round(os.getloadavg()[0], 1),
    }
    if not (synth_dir / "manifest.json").exists():
        console.print(f"generating {s.entities:,} entities into {synth_dir} ...")
        t0 = time.perf_counter()
        generate(s, 1, synth_dir, feeds=False)
        report["generate_s"] = round(time.perf_counter() - t0, 1)

    register = synth_dir / "register" / "market_register.csv"
    if _has_entities(sqlite_file):
        console.print(f"reusing {url} (drop it to measure the load again)")
        call_command("migrate", interactive=False, verbosity=0)  # an older database gains newer tables
    else:
        if sqlite_file is not None:
            for suffix in ("", "-wal", "-shm"):
                Path(str(sqlite_file) + suffix).unlink(missing_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        if postgres:
            n_raw, raw_s = _raw_copy_baseline(register)
        else:
            n_raw, raw_s = _raw_insert_baseline(register, work / "raw-baseline.sqlite3")
        console.print(f"baseline: raw {'COPY' if postgres else 'insert'} of {n_raw:,} rows in {raw_s:.1f} s")
        t0 = time.perf_counter()
        with acting_as(None):
            result = load_district(synth_dir, work / "load-report")
        load_s = time.perf_counter() - t0
        loaded = result["register"][0]["loaded"]
        report["load"] = {
            "rows": loaded,
            "seconds": round(load_s, 1),
            "rows_per_s": round(loaded / load_s),
            "baseline_raw_insert_s": round(raw_s, 1),
            "baseline_rows_per_s": round(n_raw / raw_s),
            "ratio_to_raw_insert": round(load_s / raw_s, 2),
            "reconciles": result["register"][0]["reconciles"],
        }
        console.print(f"load: {loaded:,} entities in {load_s:.1f} s ({loaded / load_s:,.0f}/s)")

    from django.contrib.auth import get_user_model

    from shijian.bench.signin import session_cookie

    User = get_user_model()
    user, _ = User.objects.get_or_create(username="bench-leader", defaults={"role": "leader", "region_code": s.region})
    cookie = session_cookie(user)

    rng = random.Random(7)
    # in id order: the same sample in every run (PostgreSQL returns an unordered scan in any order)
    ids = list(Entity.objects.order_by("id").values_list("id", flat=True)[:: max(1, s.entities // 5000)])
    sample = list(
        Entity.objects.filter(pk__in=rng.sample(ids, min(200, len(ids)))).values(
            "uscc", "name", "town_code", "address", "legal_rep"
        )
    )
    towns = sorted({e["town_code"] for e in sample})
    # "/" is no page of its own now: it sends each role to its start page (a leader to the statistics)
    page_paths = ["/inspectors/", "/items/", "/departments/", "/responsibilities/"]
    list_paths = [
        "/entities/",
        "/entities/?page=2",
        "/entities/?page=200",
        *(f"/entities/?town={t}" for t in towns[:6]),
        "/entities/?section=F",
        "/entities/?status=revoked",
        "/entities/?type=llc&section=C",
        "/entities/?tag=catering",
        "/entities/?sort=name",
        "/entities/?sort=-established_on",
        f"/entities/?town={towns[0]}&sort=name",
        "/entities/?sort=-registered_capital",
        *(f"/entities/?q={e['uscc']}" for e in sample[:5] if e["uscc"]),
        *(f"/entities/?q={_trade_name(e['name'], e['town_code'])}" for e in sample[:5]),
    ]
    # What else users type: part of an address, a legal representative's name; and the header's global search.
    search_paths = [
        *(f"/entities/?q={e['address'][-6:]}" for e in sample[5:10] if len(e["address"]) >= 6),
        *(f"/entities/?q={e['legal_rep']}" for e in sample[10:15] if e["legal_rep"]),
        *(f"/search/?q={_trade_name(e['name'], e['town_code'])}" for e in sample[15:20]),
        *(f"/search/?q={e['address'][-6:]}" for e in sample[20:25] if len(e["address"]) >= 6),
    ]
    # Broad searches: a district + town prefix that tens of thousands of names share. Reported on their own.
    broad_paths = [f"/entities/?q={e['name'][3:7]}" for e in sample if "区" in e["name"][3:6]][:3]
    port = _free_port()
    env = dict(os.environ)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "shijian.config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--log-level",
            "warning",
        ],
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.time() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(20):  # warm both workers
            _get(conn, "/healthz", cookie)
            _get(conn, "/entities/", cookie)
        timings: dict[str, list[float]] = {
            "healthz": [],
            "entity_list": [],
            "entity_page": [],
            "other_pages": [],
            "search": [],
            "broad_name_search": [],
        }
        slowest: dict[str, tuple[float, str]] = {}
        from urllib.parse import quote

        for i in range(requests):
            for kind, path in (
                ("healthz", "/healthz"),
                ("entity_list", list_paths[i % len(list_paths)]),
                ("entity_page", f"/entities/{rng.choice(ids)}/"),
                ("other_pages", page_paths[i % len(page_paths)]),
                *([("search", search_paths[i % len(search_paths)])] if search_paths else []),
                *([("broad_name_search", broad_paths[i % len(broad_paths)])] if broad_paths and i % 5 == 0 else []),
            ):
                safe = quote(path, safe="/?=&")
                status, dt, _size = _get(conn, safe, cookie)
                if status != 200:
                    raise RuntimeError(f"{path} answered {status}")
                timings[kind].append(dt)
                if dt > slowest.get(kind, (0.0, ""))[0]:
                    slowest[kind] = (dt, path)
        base = statistics.median(timings["healthz"])
        report["pages"] = {
            kind: {
                "requests": len(v),
                "median_ms": round(statistics.median(v) * 1000, 1),
                "p95_ms": round(_percentile(v, 0.95) * 1000, 1),
                "max_ms": round(max(v) * 1000, 1),
                "median_ratio_to_healthz": round(statistics.median(v) / base, 1),
                "slowest": slowest[kind][1],
            }
            for kind, v in timings.items()
            if v
        }
        per_path: dict[str, list[float]] = {}
        for i, dt in enumerate(timings["entity_list"]):
            per_path.setdefault(list_paths[i % len(list_paths)], []).append(dt)
        report["list_by_query_median_ms"] = {p: round(statistics.median(v) * 1000, 1) for p, v in per_path.items()}
        by_search: dict[str, list[float]] = {}
        for i, dt in enumerate(timings["search"]):
            by_search.setdefault(search_paths[i % len(search_paths)], []).append(dt)
        report["search_by_query_median_ms"] = {p: round(statistics.median(v) * 1000, 1) for p, v in by_search.items()}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    report["load_average_after"] = round(os.getloadavg()[0], 1)
    report["peak_rss_mb"] = {
        "benchmark_process": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "largest_child": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
    }
    return report
