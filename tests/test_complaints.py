"""维权: filing, linkage, assignment, statutory limits, duplicates, outcomes, masking, deadlines."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from shijian.cases import complaints, deadlines
from shijian.cases.complaints import ComplaintError, Filing
from shijian.cases.models import Case, Complaint, Outcome
from shijian.core.models import AuditEvent
from shijian.hazards.models import Hazard, Notification, Source
from shijian.supervision.calendar import add_working_days
from tests.conftest import World


def _filing(world: World, **kw: str) -> Filing:
    e = world.entities["hecheng"]
    base = {
        "kind": "report",
        "channel": "web",
        "complainant_name": "王小明",
        "complainant_phone": "13800138000",
        "entity_name": e.name,
        "entity_uscc": e.uscc,
        "subject": "后厨卫生差",
        "content": "看到老鼠",
    }
    return Filing(**(base | kw))


def test_it_links_by_uscc_and_assigns_the_entitys_town_department(world: World) -> None:
    c = complaints.file(_filing(world))
    assert c.entity == world.entities["hecheng"] and c.linked_by == "uscc"
    assert c.department == world.depts["hecheng"]
    assert c.receipt_no.startswith("TS") and len(c.receipt_no) == 16
    assert c.process is not None and c.process.current == "triage"
    received = timezone.localtime(c.received_at).date()
    assert c.process.due_on == add_working_days(received, 7, complaints.exceptions())  # 第十四条: 7 working days
    event = AuditEvent.objects.get(object_type="cases.complaint", object_id=str(c.pk))
    assert event.after is not None
    assert event.after["complainant_phone"] == "138****8000" and "王小明" not in str(event.after)  # auditors read it


def test_it_links_by_name_and_address_without_a_code(world: World) -> None:
    e = world.entities["yanghe"]
    c = complaints.file(_filing(world, entity_uscc="", entity_name=f" {e.name} ", entity_address="人民路1号"))
    assert c.entity == e and c.linked_by in ("name_address", "name")
    assert c.department == world.depts["yanghe"]


def test_an_unknown_entity_stays_with_the_district_until_an_official_links_it(world: World) -> None:
    c = complaints.file(_filing(world, entity_uscc="", entity_name="不存在的小店"))
    assert c.entity is None and c.department == world.depts["samr"] and c.district_code == "440608"
    complaints.link_entity(c, world.entities["hecheng"], world.users["samr"])
    assert c.town_code == "440608004"


def test_the_same_matter_filed_twice_is_merged(world: World) -> None:
    first = complaints.file(_filing(world))
    second = complaints.file(_filing(world, content="又看到老鼠"))
    assert second.duplicate_of == first and second.outcome == Outcome.DUPLICATE and second.process is None
    assert first.receipt_no in second.public_reply


def test_a_12315_number_is_imported_once(world: World) -> None:
    complaints.file(_filing(world, channel="12315", external_no="1440608000001"))
    with pytest.raises(ComplaintError):
        complaints.file(_filing(world, channel="12315", external_no="1440608000001", subject="另一件事"))


def test_a_report_found_a_violation_opens_a_hazard_entry_in_one_step(world: World) -> None:
    c = complaints.file(_filing(world))
    staff = world.users["hecheng"]
    complaints.act(c, "triage", {"department": world.depts["hecheng"].pk}, staff)
    c = complaints.act(Complaint.objects.get(pk=c.pk), "accept", {"accepted": True}, staff)
    assert c.accepted_on is not None and c.process is not None and c.process.current == "verify"
    c = complaints.act(c, "verify", {"violation": True, "open": "hazard"}, staff, note="现场核实属实")
    assert c.outcome == Outcome.VIOLATION and c.process is not None and c.process.completed
    h = Hazard.objects.get(source_ref=f"complaint:{c.pk}")
    assert h.source == Source.COMPLAINT and h.entity == c.entity


def test_a_complaint_goes_to_mediation_and_the_limit_counts_from_acceptance(world: World) -> None:
    c = complaints.file(_filing(world, kind="complaint"))
    staff = world.users["hecheng"]
    complaints.act(c, "triage", {"department": world.depts["hecheng"].pk}, staff)
    c = complaints.act(Complaint.objects.get(pk=c.pk), "accept", {"accepted": True}, staff)
    assert c.process is not None and c.process.current == "mediate"
    assert c.accepted_on is not None
    assert c.process.due_on == add_working_days(c.accepted_on, 45, complaints.exceptions())  # 第二十一条
    c = complaints.act(c, "mediate", {"agreement": True}, staff, note="退款200元")
    assert c.outcome == Outcome.MEDIATED


def test_a_violation_can_open_a_case_instead(world: World) -> None:
    c = complaints.file(_filing(world))
    staff = world.users["hecheng"]
    complaints.act(c, "triage", {"department": world.depts["hecheng"].pk}, staff)
    complaints.act(Complaint.objects.get(pk=c.pk), "accept", {"accepted": True}, staff)
    complaints.act(Complaint.objects.get(pk=c.pk), "verify", {"violation": True, "open": "case"}, staff, note="属实")
    case = Case.objects.get(complaint=c)
    assert case.source == "complaint" and case.process is not None and case.process.current == "lead"


def test_not_accepting_needs_a_reason_told_to_the_complainant(world: World) -> None:
    c = complaints.file(_filing(world))
    staff = world.users["hecheng"]
    complaints.act(c, "triage", {"department": world.depts["hecheng"].pk}, staff)
    with pytest.raises(ComplaintError):
        complaints.act(Complaint.objects.get(pk=c.pk), "accept", {"accepted": False}, staff)
    c = complaints.act(Complaint.objects.get(pk=c.pk), "accept", {"accepted": False}, staff, note="不属于本部门职责")
    assert c.outcome == Outcome.REJECTED and c.public_reply == "不属于本部门职责"


def test_another_department_cannot_act_and_sees_the_complainant_masked(world: World) -> None:
    c = complaints.file(_filing(world))
    with pytest.raises(ComplaintError):
        complaints.act(c, "triage", {"department": world.depts["yanghe"].pk}, world.users["yanghe"])
    assert complaints.person(world.users["hecheng"], c)["phone"] == "13800138000"
    for who in ("leader", "samr", "auditor"):
        shown = complaints.person(world.users[who], c)
        assert shown == {"name": "王**", "phone": "138****8000", "address": ""}, who


def test_the_progress_query_needs_the_receipt_and_the_telephone(world: World) -> None:
    c = complaints.file(_filing(world))
    assert complaints.public_lookup(c.receipt_no, "138-0013-8000") == c
    assert complaints.public_lookup(c.receipt_no, "13800138001") is None
    assert complaints.public_lookup("TS000", "13800138000") is None


def test_a_step_near_its_limit_is_reminded_and_a_late_one_escalated_once(world: World) -> None:
    c = complaints.file(_filing(world))
    assert c.process is not None and c.process.due_on is not None
    due = c.process.due_on
    from shijian.cases.limits import remind_on

    exc = complaints.exceptions()
    assert deadlines.run(remind_on(due, exc))["reminded"] >= 1
    assert Notification.objects.filter(kind="step_due", user=world.users["hecheng"]).exists()
    late = deadlines.run(due + dt.timedelta(days=1))
    assert late["escalated"] >= 2  # the department's staff and the district's leader
    assert Notification.objects.filter(kind="step_overdue", user=world.users["leader"]).exists()
    assert deadlines.run(due + dt.timedelta(days=2))["escalated"] == 0  # once
