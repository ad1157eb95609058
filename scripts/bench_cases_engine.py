"""The BPMN engine's cost per step: load the serialised instance, complete the ready task, run to the next, store it
(SpiffWorkflow only, no database). Run: .venv/bin/python scripts/bench_cases_engine.py (docs/benchmarks.md)."""

from __future__ import annotations

import time
from pathlib import Path

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.util.task import TaskState

ser = BpmnWorkflowSerializer()
p = BpmnParser()
p.add_bpmn_str((Path(__file__).resolve().parents[1] / "src/shijian/cases/processes/case.bpmn").read_bytes())
spec = p.get_spec("case")
data = {"lead": {"filed": True}, "inform": {"hearing_requested": True}, "decide": {"penalty": True}}
N = 200
t0 = time.perf_counter()
sizes = []
steps = 0
for _ in range(N):
    wf = BpmnWorkflow(spec)
    wf.do_engine_steps()
    s = ser.serialize_json(wf)
    while True:
        wf = ser.deserialize_json(s)
        ready = wf.get_tasks(state=TaskState.READY, manual=True)
        if not ready:
            break
        t = ready[0]
        t.data.update(data.get(t.task_spec.name, {}))
        t.run()
        wf.do_engine_steps()
        s = ser.serialize_json(wf)
        steps += 1
    sizes.append(len(s.encode()))
dt = time.perf_counter() - t0
per_step = 1000 * dt / steps
print(f"{N} cases, {steps} steps, {dt:.2f}s: {per_step:.2f} ms per step; final state {max(sizes) / 1024:.1f} KiB")
