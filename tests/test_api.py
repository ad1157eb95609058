"""The REST API: tokens, scopes, jurisdiction, cursor paging under concurrent writes, rate limits, audit, schema."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from shijian.api import clients
from shijian.api.models import ApiClient
from shijian.core.codes.uscc import make
from shijian.core.models import AuditEvent
from shijian.registry.models import Entity


@pytest.fixture(autouse=True)
def _no_lag(settings: Any) -> None:
    settings.SHIJIAN_API_SYNC_LAG_SECONDS = 0


def _client(
    world: Any,
    name: str = "hecheng-sync",
    region: str = "440608004",
    scopes: Any = None,
    role: str = "dept_staff",
    rate: int = 1000,
) -> tuple[ApiClient, str]:
    return clients.create_client(name, role, region, scopes or ["entities"], world.depts["hecheng"], "test", rate)


def _token(c: Client, client: ApiClient, secret: str) -> str:
    r = c.post("/api/token", {"client_id": client.client_id, "client_secret": secret})
    assert r.status_code == 200, r.content
    return str(r.json()["access_token"])


def _get(c: Client, url: str, token: str) -> Any:
    return c.get(url, HTTP_AUTHORIZATION=f"Bearer {token}")


def test_it_refuses_without_token_and_with_bad_secret(world: Any) -> None:
    c = Client()
    client, _secret = _client(world)
    assert c.get("/api/entities").status_code == 401
    assert c.post("/api/token", {"client_id": client.client_id, "client_secret": "wrong"}).status_code == 401


def test_it_refuses_revoked_and_rotated(world: Any) -> None:
    c = Client()
    client, secret = _client(world)
    token = _token(c, client, secret)
    assert _get(c, "/api/entities", token).status_code == 200
    new_secret = clients.rotate(client)
    assert _get(c, "/api/entities", token).status_code == 401
    assert c.post("/api/token", {"client_id": client.client_id, "client_secret": secret}).status_code == 401
    token = _token(c, client, new_secret)
    clients.revoke(client)
    assert _get(c, "/api/entities", token).status_code == 401
    assert c.post("/api/token", {"client_id": client.client_id, "client_secret": new_secret}).status_code == 401


def test_it_refuses_a_missing_scope(world: Any) -> None:
    c = Client()
    client, secret = _client(world, scopes=["codes"])
    token = _token(c, client, secret)
    assert _get(c, "/api/entities", token).status_code == 403
    assert _get(c, "/api/codes/divisions", token).status_code == 200


def test_it_keeps_a_town_client_in_its_town(world: Any) -> None:
    c = Client()
    client, secret = _client(world)
    token = _token(c, client, secret)
    r = _get(c, "/api/entities?limit=1", token)
    assert r.status_code == 200
    seen = [e["id"] for e in r.json()["items"]]
    while r.json()["next"] and r.json()["items"]:
        r = _get(c, f"/api/entities?limit=1&cursor={r.json()['next']}", token)
        seen += [e["id"] for e in r.json()["items"]]
    assert seen == [world.entities["hecheng"].pk]
    assert _get(c, f"/api/entities/{world.entities['hecheng'].pk}", token).status_code == 200
    assert _get(c, f"/api/entities/{world.entities['yanghe'].pk}", token).status_code == 404
    assert _get(c, f"/api/entities/{world.entities['chancheng'].pk}", token).status_code == 404


def test_it_shows_risk_classes_only_with_the_scope_and_role(world: Any) -> None:
    c = Client()
    pk = world.entities["hecheng"].pk
    plain, s1 = _client(world, "plain")
    risky, s2 = _client(world, "risky", scopes=["entities", "risk"])
    assert _get(c, f"/api/entities/{pk}", _token(c, plain, s1)).json()["risk_class"] is None
    assert _get(c, f"/api/entities/{pk}", _token(c, risky, s2)).json()["risk_class"] == "B"


def _entity(name: str, serial: str) -> Entity:
    return Entity.objects.create(
        uscc=make("91", "440608", serial),
        name=name,
        entity_type="llc",
        industry_code="6210",
        industry_section="H",
        region_code="440608004001",
        town_code="440608004",
        district_code="440608",
        status="active",
    )


def test_it_syncs_without_gaps_or_duplicates_under_concurrent_writes(world: Any) -> None:
    c = Client()
    client, secret = _client(world, "district", region="440608", role="leader")
    token = _token(c, client, secret)
    for n in range(5):
        _entity(f"先有{n}", f"MA10000{n}")
    seen: list[int] = []
    cursor = ""
    for step in range(20):
        r = _get(c, f"/api/entities?limit=2&cursor={cursor}", token).json()
        seen += [e["id"] for e in r["items"]]
        cursor = r["next"] or cursor
        if step < 3:  # writes between pages: a new row and a change to one already synced
            _entity(f"新{step}", f"MA20000{step}")
        if step == 1:
            Entity.objects.get(pk=seen[0]).save()
        if not r["items"]:
            break
    expected = set(Entity.objects.filter(district_code="440608").values_list("pk", flat=True))
    assert set(seen) == expected
    assert len(seen) == len(expected) + 1  # the changed row comes again, once, as its new version
    assert seen.count(seen[0]) == 2


def test_it_answers_a_bad_cursor_with_400(world: Any) -> None:
    c = Client()
    client, secret = _client(world)
    token = _token(c, client, secret)
    assert _get(c, "/api/entities?cursor=not-a-cursor", token).status_code == 400
    assert _get(c, "/api/entities?updated_since=2026-01-01T00:00:00", token).status_code == 400


def test_it_rate_limits_with_429(world: Any) -> None:
    c = Client()
    client, secret = _client(world, rate=3)
    token = _token(c, client, secret)
    codes = [_get(c, "/api/entities", token).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200]
    assert codes[3:] == [429, 429]


def test_it_audits_every_read_with_the_client(world: Any) -> None:
    c = Client()
    client, secret = _client(world)
    token = _token(c, client, secret)
    before = AuditEvent.objects.count()
    _get(c, "/api/entities", token)
    _get(c, f"/api/entities/{world.entities['hecheng'].pk}", token)
    rows = list(AuditEvent.objects.order_by("id")[before:])
    assert [(r.actor_name, r.action, r.object_type) for r in rows] == [
        ("api:hecheng-sync", "view", "api.entities"),
        ("api:hecheng-sync", "view", "registry.entity"),
    ]


def test_it_serves_the_schema_and_offline_docs() -> None:
    c = Client()
    schema = c.get("/api/openapi.json").json()
    assert schema["openapi"].startswith("3.1")
    assert "/api/entities" in schema["paths"]
    page = c.get("/api/docs").content.decode()
    assert "swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()


def test_the_cli_creates_rotates_and_revokes_a_client(world: Any) -> None:
    from typer.testing import CliRunner

    from shijian.cli import app

    args = ["api", "client", "create", "partner", "--role", "dept_staff", "--region", "440608004"]
    created = CliRunner().invoke(app, [*args, "--department", "440608004-SAMRS"])
    assert created.exit_code == 0, created.output
    secret = created.output.split("client_secret=")[1].split()[0]
    client = ApiClient.objects.get(name="partner")
    assert client.secret_hash == clients.digest(secret) and secret not in str(client.__dict__)
    c = Client()
    _token(c, client, secret)
    assert CliRunner().invoke(app, ["api", "client", "rotate", "partner"]).exit_code == 0
    assert c.post("/api/token", {"client_id": client.client_id, "client_secret": secret}).status_code == 401
    assert CliRunner().invoke(app, ["api", "client", "revoke", "partner"]).exit_code == 0
    assert not ApiClient.objects.get(name="partner").active


def test_it_answers_a_nul_in_the_query_with_a_json_400(world: Any) -> None:
    c = Client()
    client, secret = _client(world)
    r = _get(c, "/api/entities?cursor=%00", _token(c, client, secret))
    assert r.status_code == 400 and r["Content-Type"] == "application/json" and "NUL" in r.json()["detail"]


def test_the_cli_sets_a_clients_limits_and_they_are_audited(world: Any) -> None:
    from typer.testing import CliRunner

    from shijian.cli import app

    client, _secret = _client(world, rate=60)
    before = AuditEvent.objects.count()
    r = CliRunner().invoke(app, ["api", "client", "limits", client.name, "--rate-limit", "30", "--daily-quota", "500"])
    assert r.exit_code == 0, r.output
    assert "30/min, daily quota 500, used today 0" in r.output
    client.refresh_from_db()
    assert (client.rate_limit, client.daily_quota) == (30, 500)
    [event] = AuditEvent.objects.order_by("id")[before:]
    assert event.after is not None
    assert event.before == {"rate_limit": 60, "daily_quota": 0} and event.after["daily_quota"] == 500
    bad = CliRunner().invoke(app, ["api", "client", "limits", client.name, "--daily-quota", "-1"])
    assert bad.exit_code != 0
