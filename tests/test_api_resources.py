"""The API's resources beyond entities: visits and results, hazards and their transitions, draws (public parts),
risk classes, the entity file and its records from the lake; the daily quota; the audit row of each read."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.test import Client

from shijian.api import clients
from shijian.api.models import ApiClient
from shijian.core import clock
from shijian.core.models import AuditEvent
from shijian.hazards import services
from shijian.registry.models import EntityFile
from tests.api_rows import supervision_rows

ALL = ["entities", "risk", "records", "codes", "visits", "hazards", "draws", "loads"]


@pytest.fixture(autouse=True)
def _no_lag(settings: Any, tmp_path: Path) -> None:
    settings.SHIJIAN_API_SYNC_LAG_SECONDS = 0
    settings.SHIJIAN_LAKE = tmp_path / "lake"


def _token(world: Any, name: str = "hecheng-sync", region: str = "440608004", dept: str = "hecheng", **kw: Any) -> str:
    kw.setdefault("scopes", ALL)
    kw.setdefault("role", "dept_staff")
    client, secret = clients.create_client(
        name, kw["role"], region, kw["scopes"], world.depts[dept], "test", kw.get("rate", 1000), kw.get("quota", 0)
    )
    issued = clients.issue_token(client.client_id, secret)
    assert issued is not None
    return issued[0]


def _get(url: str, token: str) -> Any:
    return Client().get(url, HTTP_AUTHORIZATION=f"Bearer {token}")


def _all(url: str, token: str) -> tuple[list[dict[str, Any]], str]:
    """Every item of a list, page by page (limit 1), and the last cursor."""
    items, cursor = [], ""
    while True:
        r = _get(f"{url}?limit=1&cursor={cursor}", token)
        assert r.status_code == 200, r.content
        items += r.json()["items"]
        cursor = r.json()["next"] or cursor
        if not r.json()["items"]:
            return items, cursor


def test_it_lists_a_towns_visits_with_their_results_and_syncs_a_new_result(world: Any) -> None:
    rows = supervision_rows(world)
    token = _token(world)
    items, cursor = _all("/api/visits", token)
    assert [v["id"] for v in items] == [rows.visits["hecheng"].pk]
    visit = items[0]
    assert visit["draw_code"] == "GM2026-D1" and visit["departments"] == ["440608004-SAMRS"]
    assert [(c["item_code"], c["outcome"]) for c in visit["checks"]] == [("FOOD-02", "corrected")]
    assert visit["team"] == ["陈**"]  # officers by surname, as the public record shows them
    assert _get(f"/api/visits/{rows.visits['yanghe'].pk}", token).status_code == 404
    assert _get(f"/api/visits/{rows.visits['hecheng'].pk}", token).json()["status"] == "done"
    v = rows.visits["hecheng"]
    v.status = "published"
    v.save(update_fields=["status"])  # a save of some fields moves updated_at too
    again = _get(f"/api/visits?cursor={cursor}", token).json()["items"]
    assert [(x["id"], x["status"]) for x in again] == [(v.pk, "published")]


def test_it_lists_a_departments_hazards_with_their_transitions(world: Any) -> None:
    rows = supervision_rows(world)
    token = _token(world)
    items, cursor = _all("/api/hazards", token)
    assert [h["id"] for h in items] == [rows.hazards["hecheng"].pk]
    assert [(t["old_state"], t["new_state"]) for t in items[0]["transitions"]] == [("", "registered")]
    assert _get(f"/api/hazards/{rows.hazards['yanghe'].pk}", token).status_code == 404
    services.change(rows.hazards["hecheng"], "assigned", world.users["hecheng"], reason="交办")
    again = _get(f"/api/hazards?cursor={cursor}", token).json()["items"]
    assert [t["new_state"] for t in again[0]["transitions"]] == ["registered", "assigned"]
    assert again[0]["state"] == "assigned"
    # a district leader's client sees both towns' entries
    leader = _token(world, "district", region="440608", dept="samr", role="leader")
    assert {h["id"] for h in _all("/api/hazards", leader)[0]} == {h.pk for h in rows.hazards.values()}


def test_it_gives_a_draws_public_parts_only(world: Any) -> None:
    rows = supervision_rows(world)
    token = _token(world)
    items, _cursor = _all("/api/draws", token)
    assert [d["code"] for d in items] == ["GM2026-D1"]  # a district plan's draw is visible to its towns
    d = items[0]
    assert d["seed"] == "ab" * 32 and d["record_sha256"] == "cd" * 32 and d["plan"]["code"] == "GM2026"
    assert d["public_url"] == f"/public/draws/{rows.draw.code}/"
    assert not {"commitments", "last_attempt", "created_by"} & set(d)
    rows.draw.status, rows.draw.seed = "frozen", ""
    rows.draw.save(update_fields=["status", "seed"])
    assert _get(f"/api/draws/{rows.draw.pk}", token).json()["seed"] is None
    outsider = _token(world, "chancheng", region="440604", dept="chancheng")
    assert _get(f"/api/draws/{rows.draw.pk}", outsider).status_code == 404


def test_it_gives_risk_classes_only_with_the_scope(world: Any) -> None:
    with_scope = _token(world)
    without = _token(world, "plain", scopes=["entities"])
    r = _get("/api/risk-classes", with_scope)
    assert r.status_code == 200
    assert [(x["entity_id"], x["risk_class"]) for x in r.json()["items"]] == [(world.entities["hecheng"].pk, "B")]
    assert _get("/api/risk-classes", without).status_code == 403


def _lake_build(root: Path, entity_id: int, n: int) -> None:
    """A built lake as the build writes it for the timeline: by_entity/bucket=<id % buckets>/*.parquet."""
    folder = root / "build" / "by_entity" / f"bucket={entity_id % 4}"
    folder.mkdir(parents=True)
    (root / "build" / "build-report.json").write_text(json.dumps({"buckets": 4}))
    table = pa.table(
        {
            "entity_id": [entity_id] * n,
            "event_date": [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(n)],
            "source": ["tax"] * n,
            "record_type": ["penalty"] * n,
            "result": ["罚款"] * n,
            "detail": [f"第{i}次" for i in range(n)],
            "amount": [1.5] * n,
            "record_id": [f"R{i}" for i in range(n)],
            "link_method": ["uscc"] * n,
            "file": ["f.csv"] * n,
            "line": list(range(n)),
        }
    )
    pq.write_table(table, folder / "part-0.parquet")


def test_it_pages_an_entitys_records_from_the_lake_and_refuses_a_cursor_of_an_old_build(
    world: Any, settings: Any
) -> None:
    pk = world.entities["hecheng"].pk
    token = _token(world)
    assert _get(f"/api/entities/{pk}/records", token).json() == {"items": [], "total": 0, "next": None}
    _lake_build(settings.SHIJIAN_LAKE, pk, 5)
    first = _get(f"/api/entities/{pk}/records?limit=2", token).json()
    assert first["total"] == 5 and [r["record_id"] for r in first["items"]] == ["R4", "R3"]
    second = _get(f"/api/entities/{pk}/records?limit=2&cursor={first['next']}", token).json()
    third = _get(f"/api/entities/{pk}/records?limit=2&cursor={second['next']}", token).json()
    assert [r["record_id"] for r in second["items"] + third["items"]] == ["R2", "R1", "R0"]
    assert third["next"] is None and third["items"][0]["amount"] == 1.5
    report = settings.SHIJIAN_LAKE / "build" / "build-report.json"
    report.write_text(report.read_text() + " ")  # rebuilt
    import os

    os.utime(report, ns=(1, 1))
    assert _get(f"/api/entities/{pk}/records?cursor={second['next']}", token).status_code == 400
    assert _get(f"/api/entities/{world.entities['yanghe'].pk}/records", token).status_code == 404


def test_it_gives_the_entity_file_after_a_build(world: Any, settings: Any) -> None:
    e = world.entities["hecheng"]
    token = _token(world)
    assert _get(f"/api/entities/{e.pk}/file", token).status_code == 404
    file = EntityFile.objects.create(entity=e, records=7, departments=1, penalties=7, built_at=clock.now())
    # Counts the lake cannot give (no build there yet, or one replacing the records): try again later.
    assert _get(f"/api/entities/{e.pk}/file", token).status_code == 503
    _lake_build(settings.SHIJIAN_LAKE, e.pk, 7)
    file.records = 8
    file.save()
    answer = _get(f"/api/entities/{e.pk}/file", token)
    assert answer.status_code == 503 and "try again" in answer.json()["detail"]
    file.records = 7
    file.save()
    body = _get(f"/api/entities/{e.pk}/file", token).json()
    assert (body["records"], body["departments"], body["penalties"]) == (7, 1, 7)
    # The counts by type and by department are read from the lake's records of the entity.
    assert (body["by_type"], body["by_source"]) == ({"penalty": 7}, {"tax": 7})
    assert _get(f"/api/entities/{e.pk}/file", _token(world, "no-records", scopes=["entities"])).status_code == 403


def test_it_stops_a_client_at_its_daily_quota_until_the_next_business_day(world: Any) -> None:
    token = _token(world, quota=2)
    codes = [_get("/api/codes/industries", token).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert _get("/api/codes/industries", token).json()["detail"] == "daily quota exhausted"
    client = ApiClient.objects.get(name="hecheng-sync")
    assert client.quota_day == clock.today() and client.quota_used == 2
    client.quota_day = clock.today() - dt.timedelta(days=1)  # the business day turned
    client.save(update_fields=["quota_day"])
    assert _get("/api/codes/industries", token).status_code == 200


def test_it_audits_every_read_of_every_resource_with_the_client(world: Any) -> None:
    rows = supervision_rows(world)
    token = _token(world)
    before = AuditEvent.objects.count()
    for url in (
        "/api/visits",
        f"/api/visits/{rows.visits['hecheng'].pk}",
        "/api/hazards",
        f"/api/hazards/{rows.hazards['hecheng'].pk}",
        "/api/draws",
        f"/api/draws/{rows.draw.pk}",
        "/api/risk-classes",
        f"/api/entities/{world.entities['hecheng'].pk}/records",
        "/api/loads",
    ):
        assert _get(url, token).status_code == 200, url
    got = [(r.actor_name, r.object_type) for r in AuditEvent.objects.order_by("id")[before:]]
    assert got == [
        ("api:hecheng-sync", t)
        for t in (
            "api.visits",
            "supervision.visit",
            "api.hazards",
            "hazards.hazard",
            "api.draws",
            "supervision.draw",
            "api.risk_classes",
            "api.records",
            "api.loads",
        )
    ]


def test_a_refused_api_request_is_audited_with_the_client(world: Any) -> None:
    token = _token(world, scopes=["entities"])
    before = AuditEvent.objects.count()
    assert _get(f"/api/entities/{world.entities['yanghe'].pk}", token).status_code == 404
    assert _get("/api/hazards", token).status_code == 403
    got = [
        (r.actor_name, r.action, r.object_repr, (r.after or {})["status"])
        for r in AuditEvent.objects.order_by("id")[before:]
    ]
    assert got == [
        ("api:hecheng-sync", "denied", f"/api/entities/{world.entities['yanghe'].pk}", 404),
        ("api:hecheng-sync", "denied", "/api/hazards", 403),
    ]


@pytest.mark.parametrize("resource", ["entities", "risk-classes", "visits", "hazards", "draws", "loads"])
def test_every_list_takes_updated_since_and_refuses_a_forged_cursor(world: Any, resource: str) -> None:
    supervision_rows(world)
    token = _token(world, "district", region="440608", dept="samr", role="data_admin", scopes=[*ALL, "ingest"])
    if resource == "loads":
        from django.core.files.uploadedfile import SimpleUploadedFile

        csv = "统一社会信用代码,企业名称,记录类型,日期\n91440608MA000001X0,某公司,行政处罚,2026-11-02\n".encode()
        upload = SimpleUploadedFile("a.csv", csv)
        assert Client().post("/api/loads", {"file": upload}, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 201
    everything = _get(f"/api/{resource}?updated_since=2020-01-01T00:00:00%2B08:00", token).json()["items"]
    assert everything, resource
    later = (clock.now() + dt.timedelta(hours=1)).isoformat().replace("+", "%2B")
    assert _get(f"/api/{resource}?updated_since={later}", token).json()["items"] == []
    assert _get(f"/api/{resource}?cursor=Zm9yZ2Vk", token).status_code == 400
