"""The BPMN engine: SpiffWorkflow running the diagrams shipped in ``processes/``.

A diagram is deployed as a ``ProcessDefinition`` row per content (SHA-256): editing the .bpmn file and restarting
gives the next version to new instances. An instance is SpiffWorkflow's serialised JSON, which holds its own copy
of the spec it was started with, so that running instances finish on the version they began on. Every completed
step is a ``Step`` row and an audit event (who, when, which step, the data entered).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.util.task import TaskState

from shijian.cases.models import ProcessDefinition, ProcessInstance, Step
from shijian.core import audit, clock

PROCESSES = Path(__file__).with_name("processes")
_SERIALIZER = BpmnWorkflowSerializer()

__all__ = ["EngineError", "Ready", "complete", "deploy", "diagram_path", "ready", "start"]


class EngineError(ValueError):
    """A step that cannot be completed now (not the ready step, or the diagram cannot route the data)."""


@dataclass(frozen=True)
class Ready:
    task: str  # the BPMN element id
    name: str  # its label in the diagram


def diagram_path(key: str) -> Path:
    return PROCESSES / f"{key}.bpmn"


def deploy(key: str, xml: str | None = None) -> ProcessDefinition:
    """The definition of the diagram's current content (the shipped file unless ``xml`` is given), a new
    version when the content is new."""
    text = xml if xml is not None else diagram_path(key).read_text(encoding="utf-8")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    found = ProcessDefinition.objects.filter(key=key, sha256=digest).first()
    if found is not None:
        return found
    try:  # refuse a diagram that does not parse before it becomes a version
        _parse(key, text)
    except Exception as exc:  # lxml's and SpiffWorkflow's validation errors
        raise EngineError(f"{key}: {exc}") from None
    with transaction.atomic():
        last = ProcessDefinition.objects.select_for_update().filter(key=key).order_by("-version").first()
        d = ProcessDefinition.objects.create(
            key=key, version=(last.version + 1) if last else 1, sha256=digest, xml=text, deployed_at=timezone.now()
        )
        audit.record(
            "create",
            object_type="cases.processdefinition",
            object_id=str(d.pk),
            object_repr=str(d),
            after={"key": key, "version": d.version, "sha256": digest},
        )
    return d


def _parse(key: str, text: str) -> Any:
    parser = BpmnParser()
    parser.add_bpmn_str(text.encode("utf-8"))
    return parser.get_spec(key)


def _load(instance: ProcessInstance) -> BpmnWorkflow:
    return _SERIALIZER.deserialize_json(instance.state)


def _store(instance: ProcessInstance, wf: BpmnWorkflow) -> None:
    instance.state = _SERIALIZER.serialize_json(wf)
    task = _ready_task(wf)
    instance.current = task.task_spec.name if task else ""
    instance.current_name = (task.task_spec.bpmn_name or task.task_spec.name) if task else ""
    instance.completed = wf.is_completed()
    if instance.completed:
        ends = [t for t in wf.get_tasks(state=TaskState.COMPLETED) if type(t.task_spec).__name__ == "EndEvent"]
        instance.ended_at_node = ends[-1].task_spec.name if ends else ""
    instance.updated_at = timezone.now()


def _ready_task(wf: BpmnWorkflow) -> Any:
    tasks = wf.get_tasks(state=TaskState.READY, manual=True)
    return tasks[0] if tasks else None


def start(key: str, data: dict[str, Any], user: Any, definition: ProcessDefinition | None = None) -> ProcessInstance:
    """Start an instance of the latest deployed version (deploying the shipped file if it changed)."""
    definition = definition or deploy(key)
    wf = BpmnWorkflow(_parse(key, definition.xml))
    wf.data.update(data)
    wf.get_tasks(state=TaskState.READY)[0].data.update(data)
    wf.do_engine_steps()
    now = timezone.now()
    inst = ProcessInstance(definition=definition, state="", started_at=now, updated_at=now)
    _store(inst, wf)
    inst.save(force_insert=True)
    audit.record(
        "create",
        object_type="cases.processinstance",
        object_id=str(inst.pk),
        object_repr=str(inst),
        after={"definition": str(definition), "step": inst.current},
        actor=user,
    )
    return inst


def ready(instance: ProcessInstance) -> Ready | None:
    if instance.completed or not instance.current:
        return None
    return Ready(instance.current, instance.current_name)


def complete(
    instance: ProcessInstance, task: str, data: dict[str, Any], user: Any, note: str = "", due_on: Any = None
) -> Step:
    """Complete the ready step ``task`` with ``data`` (routed by the diagram's gateways); one Step row and one
    audit event. Runs in the caller's transaction, on the row locked for update."""
    with transaction.atomic():
        inst = ProcessInstance.objects.select_for_update().get(pk=instance.pk)
        wf = _load(inst)
        t = _ready_task(wf)
        if t is None or t.task_spec.name != task:
            raise EngineError(task)
        t.data.update(data)
        try:
            t.run()
            wf.do_engine_steps()
        except Exception as exc:  # a gateway with no matching outgoing flow, a bad expression in an edited diagram
            raise EngineError(f"{task}: {exc}") from None
        before = {"step": inst.current}
        name = t.task_spec.bpmn_name or task
        _store(inst, wf)
        now = inst.updated_at
        late = bool(due_on and clock.local_date(now) > due_on)
        inst.save()
        step = Step.objects.create(
            instance=inst,
            task=task,
            task_name=name,
            data=audit.normalised(data),
            note=note,
            actor=user,
            at=now,
            due_on=due_on,
            late=late,
        )
        audit.record(
            "update",
            object_type="cases.processinstance",
            object_id=str(inst.pk),
            object_repr=str(inst),
            before=before,
            after={"completed": task, "data": data, "next": inst.current or inst.ended_at_node},
            reason=note[:500],
            actor=user,
        )
    instance.refresh_from_db()
    return step


def highlight(instance: ProcessInstance) -> dict[str, list[str]]:
    """Element ids to mark on the diagram: the steps done and the current one."""
    done = list(instance.steps.values_list("task", flat=True))
    return {"done": done, "current": [instance.current] if instance.current else [], "end": [instance.ended_at_node]}
