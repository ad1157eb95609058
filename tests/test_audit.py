from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from shijian.core import audit
from shijian.core.models import AppendOnlyError, AuditEvent
from tests.conftest import World


def _events(object_type: str, object_id: object) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(object_type=object_type, object_id=str(object_id)).order_by("id"))


def test_it_records_create_update_delete_with_before_and_after(world: World) -> None:
    c = world.client("admin")
    data = {
        "uscc": "",
        "reg_no": "440608600009999",
        "name": "佛山市审计测试商行",
        "entity_type": "individual",
        "industry_code": "5211",
        "region_code": "440608004001",
        "status": "active",
        "legal_rep": "王五",
        "reason": "新设登记",
    }
    r = c.post(reverse("entity_add"), data)
    assert r.status_code == 302
    from shijian.registry.models import Entity

    e = Entity.objects.get(name="佛山市审计测试商行")
    r = c.post(reverse("entity_edit", args=[e.pk]), {**data, "address": "文华路9号", "reason": "住所变更"})
    assert r.status_code == 302
    r = c.post(reverse("entity_delete", args=[e.pk]), {"reason": "注销"})
    assert r.status_code == 302
    events = _events("registry.entity", e.pk)
    actions = [ev.action for ev in events]
    assert actions[0] == "create" and actions[-1] == "delete" and "update" in actions
    create = events[0]
    assert create.after is not None
    assert create.before is None and create.after["name"] == "佛山市审计测试商行"
    assert create.actor_name == "admin" and create.request_id and create.reason == "新设登记"
    update = next(ev for ev in events if ev.action == "update" and ev.before)
    assert update.before is not None and update.after is not None
    assert update.before["address"] == "" and update.after["address"] == "文华路9号"
    assert update.reason == "住所变更"
    assert events[-1].before is not None
    assert events[-1].reason == "注销" and events[-1].before["name"] == "佛山市审计测试商行"


def test_it_records_sensitive_reads_and_exports(world: World) -> None:
    e = world.entities["hecheng"]
    world.client("samr").get(reverse("entity_detail", args=[e.pk]))
    assert AuditEvent.objects.filter(action="view", object_id=str(e.pk), actor_name="samr").exists()
    world.client("samr").get(reverse("entity_export"))
    assert AuditEvent.objects.filter(action="export", actor_name="samr").exists()


def test_it_records_every_kind_of_change(world: World) -> None:
    for obj in [world.depts["samr"], world.inspectors["samr"], world.items["food"]]:
        before = AuditEvent.objects.count()
        obj.name = obj.name + "（改）"
        obj.save()
        assert AuditEvent.objects.count() == before + 1
    before = AuditEvent.objects.count()
    world.inspectors["samr"].qualifications.clear()
    assert AuditEvent.objects.count() == before + 1


def test_the_chain_verifies_when_intact(world: World) -> None:
    world.depts["samr"].save()
    report = audit.verify_chain()
    assert report.ok and report.checked == AuditEvent.objects.count() > 0


def test_the_application_cannot_change_or_delete_events(world: World) -> None:
    ev = AuditEvent.objects.order_by("id").first()
    assert ev is not None
    with pytest.raises(AppendOnlyError):
        ev.save()
    with pytest.raises(AppendOnlyError):
        ev.delete()


def test_the_database_refuses_updates_and_deletes(world: World) -> None:
    ev = AuditEvent.objects.order_by("id").first()
    assert ev is not None
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=ev.pk).update(reason="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=ev.pk).delete()


def _drop_guards() -> None:
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("DROP TRIGGER core_auditevent_no_update")
            cur.execute("DROP TRIGGER core_auditevent_no_delete")
        else:
            cur.execute("ALTER TABLE core_auditevent DISABLE TRIGGER USER")


def test_a_tampered_row_breaks_the_chain(world: World) -> None:
    world.depts["samr"].save()
    events = list(AuditEvent.objects.order_by("id"))
    victim = events[len(events) // 2]
    _drop_guards()  # an attacker with direct database access
    with connection.cursor() as cur:
        cur.execute("UPDATE core_auditevent SET reason = %s WHERE id = %s", ["nothing happened", victim.pk])
    report = audit.verify_chain()
    assert not report.ok
    assert report.first_bad_id == victim.pk
    assert report.checked == events.index(victim)


def test_a_deleted_row_breaks_the_chain(world: World) -> None:
    world.depts["samr"].save()
    events = list(AuditEvent.objects.order_by("id"))
    victim = events[2]
    _drop_guards()
    with connection.cursor() as cur:
        cur.execute("DELETE FROM core_auditevent WHERE id = %s", [victim.pk])
    report = audit.verify_chain()
    assert not report.ok and report.first_bad_id == events[3].pk


def test_the_cli_says_ok_or_broken(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    from typer.testing import CliRunner

    from shijian.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output
    _drop_guards()
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE core_auditevent SET actor_name = 'someone else' WHERE id = (SELECT MIN(id) FROM core_auditevent)"
        )
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "BROKEN" in result.output


def test_the_auditor_browses_and_verifies_in_the_ui(world: World) -> None:
    c = world.client("auditor")
    r = c.get(reverse("audit_list") + "?action=create")
    assert r.status_code == 200 and "市场主体" in r.content.decode()
    r = c.get(reverse("audit_verify"))
    assert r.status_code == 200
