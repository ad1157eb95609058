"""执法: a case from a hazard escalation through every step to 结案, evidence by SHA-256, the hazard closed."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_django import Settings

from shijian.cases import complaints, enforcement
from shijian.cases.enforcement import CaseError
from shijian.cases.models import Case
from shijian.hazards import services as hazards
from shijian.hazards import workflow
from shijian.hazards.models import Hazard
from shijian.supervision.calendar import add_working_days
from tests.conftest import World


def _escalated(world: World) -> Hazard:
    h = hazards.open_entry(
        world.entities["hecheng"],
        source="manual",
        title="无证经营",
        department=world.depts["hecheng"],
        scores={"severity": 10, "extent": 10, "confidence": 10},
        user=world.users["hecheng"],
    )
    return hazards.change(h, workflow.ESCALATED, world.users["hecheng"], reason="拒不整改")


def test_a_case_from_an_escalated_entry_runs_to_closing_and_closes_the_entry(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    staff = world.users["hecheng"]
    h = _escalated(world)
    case = enforcement.from_hazard(h, staff)
    assert case.process is not None and case.process.current == "lead"
    assert case.process.due_on == add_working_days(case.lead_on, 15, complaints.exceptions())  # 第十八条
    with pytest.raises(CaseError):
        enforcement.from_hazard(h, staff)  # one case per entry
    case = enforcement.act(case, "lead", {"filed": True}, staff, note="立案")
    assert case.filed_on is not None and case.process is not None
    import datetime as dt

    assert case.process.due_on == case.filed_on + dt.timedelta(days=90)  # 第六十四条: 90 days from 立案
    ev = enforcement.add_evidence(
        case, name="现场照片.jpg", data=b"\xff\xd8photo", content_type="image/jpeg", user=staff
    )
    assert len(ev.sha256) == 64 and enforcement.evidence_intact(ev)
    case = enforcement.act(case, "investigate", {}, staff, note="询问笔录两份")
    case = enforcement.act(case, "review", {}, staff, note="法制审核通过")
    case = enforcement.act(case, "inform", {"hearing_requested": True}, staff, note="告知书已送达")
    assert case.process is not None and case.process.current == "hearing"
    case = enforcement.act(case, "hearing", {}, staff, note="听证会已举行")
    with pytest.raises(CaseError):
        enforcement.act(case, "decide", {"penalty": True}, staff, note="决定")
    case = enforcement.act(
        case,
        "decide",
        {
            "penalty": True,
            "fine": "5000",
            "decision_no": "高市监罚〔2026〕1号",
            "legal_basis": "《无证无照经营查处办法》第十三条",
        },
        staff,
        note="决定处罚",
    )
    for step in ("serve", "execute"):
        case = enforcement.act(case, step, {}, staff, note=step)
    inspector = world.users["inspector"]
    with pytest.raises(CaseError):
        enforcement.act(case, "close", {}, inspector, note="结案")
    case = enforcement.act(case, "close", {}, staff, note="结案")
    assert case.closed_at is not None and case.process is not None and case.process.completed
    h.refresh_from_db()
    assert h.state == workflow.ENFORCEMENT_CLOSED
    assert enforcement.penalties_of(world.entities["hecheng"]) == [case]


def test_tampered_evidence_is_detected(world: World, settings: Settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path
    case = enforcement.open_case(
        world.entities["hecheng"], source="manual", title="虚假宣传", user=world.users["hecheng"]
    )
    ev = enforcement.add_evidence(
        case, name="a.pdf", data=b"%PDF-1.4 a", content_type="application/pdf", user=world.users["hecheng"]
    )
    with open(ev.file.path, "wb") as f:
        f.write(b"%PDF-1.4 b")
    assert not enforcement.evidence_intact(ev)


def test_not_filing_ends_the_case_and_needs_a_reason(world: World) -> None:
    case = enforcement.open_case(world.entities["hecheng"], source="manual", title="线索", user=world.users["hecheng"])
    with pytest.raises(CaseError):
        enforcement.act(case, "lead", {"filed": False}, world.users["hecheng"])
    case = enforcement.act(case, "lead", {"filed": False}, world.users["hecheng"], note="证据不足")
    assert case.process is not None and case.process.completed and case.process.ended_at_node == "end_not_filed"


def test_a_case_outside_the_jurisdiction_cannot_be_acted_on(world: World) -> None:
    case = enforcement.open_case(world.entities["hecheng"], source="manual", title="线索", user=world.users["hecheng"])
    with pytest.raises(CaseError):
        enforcement.act(case, "lead", {"filed": True}, world.users["yanghe"], note="x")
    assert Case.objects.get(pk=case.pk).filed_on is None


def test_a_decided_penalty_counts_as_a_risk_factor(world: World, tmp_path: Path) -> None:
    import dataclasses
    import datetime as dt

    import pyarrow as pa

    from shijian.risk import factors
    from tests.test_risk_platform import BEFORE, _small_sources

    src = _small_sources(tmp_path, BEFORE)
    as_of = dt.date(2025, 1, 1)
    base = {r["entity_id"]: r for r in factors.compute(src, as_of).to_pylist()}
    e = world.entities["hecheng"]
    case = enforcement.open_case(e, source="manual", title="罚款", user=world.users["hecheng"])
    Case.objects.filter(pk=case.pk).update(
        decided_on=dt.date(2024, 10, 1), fine="20000", decision_no="高市监罚〔2024〕9号"
    )
    assert enforcement.snapshot_penalties(tmp_path / "penalties.parquet") == 1
    # the small register's entity 4 stands for the world's entity (its ids are 1-4)
    import pyarrow.parquet as pq

    table = pq.read_table(tmp_path / "penalties.parquet")
    assert table.column("entity_id").to_pylist() == [e.pk]
    pq.write_table(table.set_column(0, "entity_id", pa.array([4], pa.int64())), tmp_path / "penalties.parquet")
    with_platform = dataclasses.replace(src, penalties=tmp_path / "penalties.parquet")
    after = {r["entity_id"]: r for r in factors.compute(with_platform, as_of).to_pylist()}
    assert after[4]["penalties"] == base[4]["penalties"] + 1
    assert after[4]["penalties_12m"] == base[4]["penalties_12m"] + 1
    assert after[4]["penalty_amount"] == pytest.approx(base[4]["penalty_amount"] + 2.0)
    assert after[1]["penalties"] == base[1]["penalties"]
