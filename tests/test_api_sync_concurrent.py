"""Incremental sync under concurrent writes, on PostgreSQL: writer threads create and change entities, hazards
and visits in transactions that commit a while after their rows were stamped, while a client pages through the
API with its cursor. Every row comes, in its last version, and no version comes twice."""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from shijian.api import clients
from shijian.core.codes.uscc import make
from shijian.registry.models import Entity


def _ms(at: dt.datetime) -> dt.datetime | None:
    """The API writes times to the millisecond (the cursor keeps the microseconds)."""
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


LAG = 1.0  # seconds: longer than any writer's transaction below (at most 0.3 s from stamp to commit)


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SHIJIAN_DATABASE_URL=postgres://...): SQLite has one writer")


def _entity(n: int, i: int) -> Entity:
    return Entity(
        uscc=make("91", "440608", f"T{n}{i:06d}"), name=f"并发{n}-{i}", entity_type="llc", industry_code="6210",
        industry_section="H", region_code="440608004001", town_code="440608004", district_code="440608",
        status="active",
    )  # fmt: skip


def _write(n: int, i: int, rnd: random.Random, mine: list[int]) -> tuple[int, dt.datetime]:
    """One write, stamped now. Even writers save through the ORM (audited: the audit's advisory lock orders their
    commits, and they commit at once); odd ones write in bulk as loaders and the risk refresh do, in transactions
    that commit up to 0.3 s after the stamp, in any order."""
    change = bool(mine) and rnd.random() < 0.4  # a row this writer made, which may have been synced already
    if n % 2 == 0:
        e = Entity.objects.select_for_update().get(pk=rnd.choice(mine)) if change else _entity(n, i)
        e.address = f"新地址{n}-{i}"
        e.save()
        return e.pk, e.updated_at
    if change:
        pk, now = rnd.choice(mine), timezone.now()
        Entity.objects.filter(pk=pk).update(address=f"新地址{n}-{i}", updated_at=now)
        return pk, now
    (e,) = Entity.objects.bulk_create([_entity(n, i)])
    return e.pk, e.updated_at


def _writer(n: int, rounds: int, committed: list[tuple[int, Any]], lock: threading.Lock, errors: list[str]) -> None:
    rnd = random.Random(n)
    mine: list[int] = []
    try:
        for i in range(rounds):
            with transaction.atomic():
                pk, stamp = _write(n, i, rnd, mine)
                if n % 2:  # stamped already, visible only at commit
                    time.sleep(rnd.uniform(0, 0.3))
            if pk not in mine:
                mine.append(pk)
            with lock:
                committed.append((pk, stamp))
            time.sleep(rnd.uniform(0, 0.1))
    except Exception as exc:  # reported by the test, not lost in the thread
        errors.append(repr(exc))
    finally:
        connection.close()


def test_a_partner_paging_during_concurrent_writes_misses_nothing_and_sees_nothing_twice(
    live_db: Any, world: Any, settings: Any
) -> None:
    settings.SHIJIAN_API_SYNC_LAG_SECONDS = LAG
    client, secret = clients.create_client("sync", "leader", "440608", ["entities"], None, "test", 100_000)
    issued = clients.issue_token(client.client_id, secret)
    assert issued is not None
    c = Client()
    auth: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {issued[0]}"}
    assert c.get("/api/entities?limit=1", **auth).status_code == 200  # warm: the first request builds the schema
    committed: list[tuple[int, Any]] = []
    lock = threading.Lock()
    errors: list[str] = []
    writers = [threading.Thread(target=_writer, args=(n, 25, committed, lock, errors), daemon=True) for n in range(4)]
    for w in writers:
        w.start()
    seen: list[tuple[int, str]] = []
    cursor = ""

    def page() -> int:
        nonlocal cursor
        r = c.get(f"/api/entities?limit=50&cursor={cursor}", **auth)
        assert r.status_code == 200, r.content
        body = r.json()
        seen.extend((x["id"], x["updated_at"]) for x in body["items"])
        cursor = body["next"] or cursor
        return len(body["items"])

    pages = 0
    while any(w.is_alive() for w in writers):
        pages += 1
        page()
        time.sleep(0.02)
    for w in writers:
        w.join()
    assert not errors, errors
    time.sleep(LAG + 0.2)  # the last writes are older than the lag now
    while page():
        pages += 1
    assert len(seen) == len(set(seen)), "a version came twice"
    ids = [pk for pk, _at in seen]
    expected = set(Entity.objects.filter(district_code="440608").values_list("pk", flat=True))
    assert set(ids) == expected, f"missed {sorted(expected - set(ids))}"
    # each row's last version is the last one the partner got
    last_seen: dict[int, str] = {}
    for pk, at in seen:
        last_seen[pk] = at
    latest = {e.pk: _ms(e.updated_at) for e in Entity.objects.filter(pk__in=expected)}
    assert {pk: parse_datetime(at) for pk, at in last_seen.items()} == latest
    assert len(committed) == 100 and pages > 10  # the writes really overlapped the paging
