"""Write the shipped process diagrams (src/shijian/cases/processes/*.bpmn) with their layout (BPMN DI).

A developer's helper: the .bpmn files are the source of truth once written (a bureau edits them in any BPMN
modeler, e.g. bpmn.io); this script only drew the first version of each. Run: python scripts/bpmn_layout.py
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

OUT = Path(__file__).resolve().parents[1] / "src" / "shijian" / "cases" / "processes"

# node: (id, kind, name, column, row); flow: (source, target, condition or "", name)
Node = tuple[str, str, str, int, int]
Flow = tuple[str, str, str, str]

COMPLAINT: tuple[list[Node], list[Flow]] = (
    [
        ("start", "startEvent", "收到投诉举报", 0, 0),
        ("triage", "userTask", "分派承办部门", 1, 0),
        ("accept", "userTask", "受理审查", 2, 0),
        ("accepted", "exclusiveGateway", "是否受理", 3, 0),
        ("end_rejected", "endEvent", "不予受理", 3, 2),
        ("kind", "exclusiveGateway", "投诉或举报", 4, 0),
        ("mediate", "userTask", "调解", 5, 0),
        ("end_mediated", "endEvent", "调解终结", 6, 0),
        ("verify", "userTask", "举报核查", 5, 1),
        ("violation", "exclusiveGateway", "是否违法", 6, 1),
        ("end_violation", "endEvent", "转隐患或立案", 7, 1),
        ("end_clear", "endEvent", "未发现违法", 7, 2),
    ],
    [
        ("start", "triage", "", ""),
        ("triage", "accept", "", ""),
        ("accept", "accepted", "", ""),
        ("accepted", "kind", "accepted == True", "受理"),
        ("accepted", "end_rejected", "accepted == False", "不予受理"),
        ("kind", "mediate", "kind == 'complaint'", "投诉"),
        ("kind", "verify", "kind == 'report'", "举报"),
        ("mediate", "end_mediated", "", ""),
        ("verify", "violation", "", ""),
        ("violation", "end_violation", "violation == True", "发现违法"),
        ("violation", "end_clear", "violation == False", "未发现"),
    ],
)

CASE: tuple[list[Node], list[Flow]] = (
    [
        ("start", "startEvent", "案件线索", 0, 0),
        ("lead", "userTask", "线索核查", 1, 0),
        ("filed", "exclusiveGateway", "是否立案", 2, 0),
        ("end_not_filed", "endEvent", "不予立案", 2, 2),
        ("investigate", "userTask", "调查取证", 3, 0),
        ("review", "userTask", "案件审核/法制审核", 4, 0),
        ("inform", "userTask", "行政处罚告知", 5, 0),
        ("hearing_q", "exclusiveGateway", "是否申请听证", 6, 0),
        ("hearing", "userTask", "听证", 6, 1),
        ("decide", "userTask", "处罚决定", 7, 0),
        ("penalised", "exclusiveGateway", "是否处罚", 8, 0),
        ("serve", "userTask", "送达", 9, 0),
        ("execute", "userTask", "执行", 10, 0),
        ("close", "userTask", "结案", 11, 0),
        ("end", "endEvent", "结案", 12, 0),
    ],
    [
        ("start", "lead", "", ""),
        ("lead", "filed", "", ""),
        ("filed", "investigate", "filed == True", "立案"),
        ("filed", "end_not_filed", "filed == False", "不予立案"),
        ("investigate", "review", "", ""),
        ("review", "inform", "", ""),
        ("inform", "hearing_q", "", ""),
        ("hearing_q", "hearing", "hearing_requested == True", "申请听证"),
        ("hearing_q", "decide", "hearing_requested == False", "未申请"),
        ("hearing", "decide", "", ""),
        ("decide", "penalised", "", ""),
        ("penalised", "serve", "penalty == True", "给予处罚"),
        ("penalised", "close", "penalty == False", "不予处罚"),
        ("serve", "execute", "", ""),
        ("execute", "close", "", ""),
        ("close", "end", "", ""),
    ],
)

SIZES = {"startEvent": (36, 36), "endEvent": (36, 36), "exclusiveGateway": (50, 50), "userTask": (110, 70)}
COL, ROW, X0, Y0 = 150, 120, 40, 60


def _box(kind: str, col: int, row: int) -> tuple[int, int, int, int]:
    w, h = SIZES[kind]
    cx, cy = X0 + col * COL + 55, Y0 + row * ROW + 35
    return cx - w // 2, cy - h // 2, w, h


def write(key: str, name: str, nodes: list[Node], flows: list[Flow], version: str) -> str:
    boxes = {n[0]: _box(n[1], n[3], n[4]) for n in nodes}
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
        'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" '
        f'id="defs_{key}" targetNamespace="https://shijian.example/bpmn" exporter="shijian" '
        f'exporterVersion="{version}">',
        f'  <bpmn:process id="{key}" name="{escape(name)}" isExecutable="true">',
    ]
    incoming: dict[str, list[str]] = {}
    outgoing: dict[str, list[str]] = {}
    for i, (s, t, _c, _n) in enumerate(flows):
        outgoing.setdefault(s, []).append(f"f{i}")
        incoming.setdefault(t, []).append(f"f{i}")
    for nid, kind, label, _c, _r in nodes:
        inner = "".join(f"<bpmn:incoming>{f}</bpmn:incoming>" for f in incoming.get(nid, []))
        inner += "".join(f"<bpmn:outgoing>{f}</bpmn:outgoing>" for f in outgoing.get(nid, []))
        out.append(f'    <bpmn:{kind} id="{nid}" name="{escape(label)}">{inner}</bpmn:{kind}>')
    for i, (s, t, cond, label) in enumerate(flows):
        attrs = f'id="f{i}" sourceRef="{s}" targetRef="{t}"' + (f' name="{escape(label)}"' if label else "")
        if cond:
            out.append(
                f"    <bpmn:sequenceFlow {attrs}><bpmn:conditionExpression>{escape(cond)}"
                "</bpmn:conditionExpression></bpmn:sequenceFlow>"
            )
        else:
            out.append(f"    <bpmn:sequenceFlow {attrs}/>")
    out.append("  </bpmn:process>")
    out.append(f'  <bpmndi:BPMNDiagram id="diagram_{key}"><bpmndi:BPMNPlane id="plane_{key}" bpmnElement="{key}">')
    for nid, _kind, _l, _c, _r in nodes:
        x, y, w, h = boxes[nid]
        out.append(
            f'    <bpmndi:BPMNShape id="{nid}_di" bpmnElement="{nid}">'
            f'<dc:Bounds x="{x}" y="{y}" width="{w}" height="{h}"/></bpmndi:BPMNShape>'
        )
    for i, (s, t, _c, _n) in enumerate(flows):
        sx, sy, sw, sh = boxes[s]
        tx, ty, tw, th = boxes[t]
        a = (sx + sw, sy + sh // 2) if ty == sy or tx > sx + sw else (sx + sw // 2, sy + sh)
        if ty > sy + sh:  # downwards: leave from the bottom, enter at the left or the top
            a = (sx + sw // 2, sy + sh)
            pts = [a, (a[0], ty + th // 2), (tx, ty + th // 2)] if tx > a[0] else [a, (a[0], ty)]
        elif ty + th < sy:  # upwards: back to the main row
            a = (sx + sw, sy + sh // 2)
            pts = [a, (tx + tw // 2, a[1]), (tx + tw // 2, ty + th)]
        else:
            pts = [(sx + sw, sy + sh // 2), (tx, ty + th // 2)]
        wps = "".join(f'<di:waypoint x="{px}" y="{py}"/>' for px, py in pts)
        out.append(f'    <bpmndi:BPMNEdge id="f{i}_di" bpmnElement="f{i}">{wps}</bpmndi:BPMNEdge>')
    out.append("  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>")
    out.append("</bpmn:definitions>")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "complaint.bpmn").write_text(write("complaint", "投诉举报处理", *COMPLAINT, "1"), encoding="utf-8")
    (OUT / "case.bpmn").write_text(write("case", "行政处罚案件办理", *CASE, "1"), encoding="utf-8")
