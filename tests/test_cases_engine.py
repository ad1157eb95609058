"""The BPMN engine: instances kept in the database, on the diagram version they started with, every step audited."""

from __future__ import annotations

import pytest

from shijian.cases import engine
from shijian.cases.models import ProcessDefinition, ProcessInstance, Step
from shijian.core.models import AuditEvent
from tests.conftest import World


def test_it_deploys_the_shipped_diagram_once_per_content(db: None) -> None:
    a = engine.deploy("complaint")
    b = engine.deploy("complaint")
    assert a.pk == b.pk and a.version == 1
    assert ProcessDefinition.objects.filter(key="complaint").count() == 1


def test_it_refuses_a_diagram_that_does_not_parse(db: None) -> None:
    with pytest.raises(engine.EngineError):
        engine.deploy("complaint", "<not-bpmn/>")
    assert not ProcessDefinition.objects.exists()


def test_an_instance_survives_a_restart_and_routes_by_the_data(world: World) -> None:
    user = world.users["samr"]
    inst = engine.start("complaint", {"kind": "report"}, user)
    assert inst.current == "triage"
    # a "restart": nothing in memory, only the row
    again = ProcessInstance.objects.get(pk=inst.pk)
    engine.complete(again, "triage", {}, user)
    engine.complete(ProcessInstance.objects.get(pk=inst.pk), "accept", {"accepted": True}, user)
    inst.refresh_from_db()
    assert inst.current == "verify"  # a report goes to 核查, a complaint would go to 调解
    engine.complete(inst, "verify", {"violation": False}, user, note="未发现")
    inst.refresh_from_db()
    assert inst.completed and inst.ended_at_node == "end_clear"
    steps = list(Step.objects.filter(instance=inst).values_list("task", "actor_id"))
    assert steps == [("triage", user.pk), ("accept", user.pk), ("verify", user.pk)]
    events = AuditEvent.objects.filter(object_type="cases.processinstance", object_id=str(inst.pk))
    assert events.count() == 4  # started + three steps
    assert events.filter(actor_name="samr", after__completed="verify").exists()


def test_only_the_ready_step_can_be_completed(world: World) -> None:
    inst = engine.start("complaint", {"kind": "complaint"}, world.users["samr"])
    with pytest.raises(engine.EngineError):
        engine.complete(inst, "accept", {"accepted": True}, world.users["samr"])


def test_an_upgraded_diagram_does_not_change_running_instances(world: World) -> None:
    user = world.users["samr"]
    old = engine.start("complaint", {"kind": "complaint"}, user)
    engine.complete(old, "triage", {}, user)
    # version 2 of the diagram: the triage step is removed (start goes straight to acceptance)
    xml = engine.diagram_path("complaint").read_text(encoding="utf-8")
    v2 = xml.replace(
        '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="triage"/>',
        '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="accept"/>',
    ).replace("<bpmn:incoming>f1</bpmn:incoming></bpmn:userTask>", "<bpmn:incoming>f0</bpmn:incoming></bpmn:userTask>")
    v2 = v2.replace(
        '<bpmn:userTask id="triage" name="分派承办部门"><bpmn:incoming>f0</bpmn:incoming>',
        '<bpmn:userTask id="triage" name="分派承办部门">',
    )
    assert v2 != xml
    d2 = engine.deploy("complaint", v2)
    assert d2.version == 2
    new = engine.start("complaint", {"kind": "complaint"}, user, definition=d2)
    assert new.current == "accept"
    old.refresh_from_db()
    assert old.definition.version == 1 and old.current == "accept"
    engine.complete(old, "accept", {"accepted": True}, user)
    old.refresh_from_db()
    assert old.current == "mediate"  # still the old diagram's route
    assert engine.highlight(old)["done"] == ["triage", "accept"]
