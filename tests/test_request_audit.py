"""Requests in the audit trail: the client address on every event, refused requests recorded, server-made ids."""

from __future__ import annotations

from django.urls import reverse

from shijian.core import audit
from shijian.core.models import AuditEvent
from tests.conftest import World


def test_every_event_has_the_client_address(world: World) -> None:
    c = world.client("admin")
    c.get(reverse("entity_export"), REMOTE_ADDR="192.0.2.44")
    event = AuditEvent.objects.get(action="export")
    assert event.client_ip == "192.0.2.44"
    assert audit.verify_chain().ok


def test_a_forbidden_request_is_recorded(world: World) -> None:
    r = world.client("auditor").get(reverse("entity_add"), REMOTE_ADDR="192.0.2.45")
    assert r.status_code == 403
    event = AuditEvent.objects.get(action="denied")
    assert event.actor_name == "auditor" and event.object_repr == reverse("entity_add")
    assert event.after == {"status": 403, "method": "GET"} and event.client_ip == "192.0.2.45"


def test_an_object_outside_the_jurisdiction_is_recorded(world: World) -> None:
    url = reverse("entity_detail", args=[world.entities["hecheng"].pk])
    assert world.client("outsider").get(url).status_code == 404
    event = AuditEvent.objects.get(action="denied")
    assert event.after is not None
    assert event.actor_name == "outsider" and event.object_repr == url and event.after["status"] == 404


def test_the_request_id_is_the_servers_own(world: World) -> None:
    c = world.client("admin")
    r = c.get(reverse("entity_export"), headers={"X-Request-Id": "forged0001"})
    assert r["X-Request-Id"] != "forged0001" and len(r["X-Request-Id"]) == 32
    assert AuditEvent.objects.get(action="export").request_id == r["X-Request-Id"]


def test_rows_without_an_address_hash_as_before(world: World) -> None:
    """Events outside a request (the CLI, jobs) and rows from before addresses were kept hash without the field."""
    event = audit.record("view", object_type="x", object_repr="from the command line")
    assert event.client_ip is None and "client_ip" not in event.chained_fields()
    world.client("admin").get(reverse("entity_export"))
    assert audit.verify_chain().ok
