"""Signed documents of a visit (检查通知书, 现场检查记录) and of a case (立案审批表): produced by who may change the
visit or case, kept once, downloaded by who may view it, verified by the public page; a modified copy refused."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from shijian.accounts.models import User
from shijian.cases import enforcement, signing
from shijian.cases.models import Case, SignedDocument
from shijian.core.models import AuditEvent
from shijian.supervision import services
from shijian.supervision.models import Batch, Draw, Plan, TeamMember, Visit, VisitItem
from tests.conftest import World
from tests.responses import streamed


@pytest.fixture
def home(settings: Any, tmp_path: Path) -> Path:
    settings.HOME = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"
    return tmp_path


@pytest.fixture
def visit(world: World) -> Visit:
    """A visit of the 荷城 entity by the hecheng officer, who is the ``inspector`` user."""
    samr, dept, entity = world.depts["samr"], world.depts["hecheng"], world.entities["hecheng"]
    staff = world.users["samr"]
    plan = Plan.objects.create(code="P-1", name="餐饮专项抽查", year=2026, department=samr, region_code="440608",
                               created_by=staff)  # fmt: skip
    draw = Draw.objects.create(code="GM2026-D01", plan=plan, status="drawn", seed_method="beacon",
                               frozen_at=timezone.now() - dt.timedelta(days=30), frozen_digest="0" * 64,
                               created_by=staff)  # fmt: skip
    batch = Batch.objects.create(plan=plan, code="GM2026-01", name="批次", department=samr, mode="random", count=1,
                                 window_start=dt.date(2026, 1, 1), window_end=dt.date(2026, 12, 31), status="drawn",
                                 draw=draw, candidates_file="x.csv")  # fmt: skip
    v = Visit.objects.create(draw=draw, entity=entity, entity_key=entity.uscc, window_start=dt.date(2026, 1, 1),
                             window_end=dt.date(2026, 12, 31))  # fmt: skip
    v.departments.set([samr, dept])
    officer = world.inspectors["hecheng"]
    officer.user = world.users["inspector"]
    officer.save()
    TeamMember.objects.create(visit=v, inspector=officer, position=0)
    VisitItem.objects.create(visit=v, item=world.items["food"], batch=batch)
    return v


def _pdf(client: Client, url: str) -> bytes:
    r = client.get(url)
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf", r.status_code
    return streamed(r)


def _text(data: bytes) -> str:
    return "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)


def _public_verdict(data: bytes) -> str:
    r = Client().post(reverse("public_verify"), {"file": SimpleUploadedFile("d.pdf", data, "application/pdf")})
    assert r.status_code == 200
    return r.content.decode()


def _modified(data: bytes) -> bytes:
    i = data.find(b"/Title")
    return data[:i] + data[i:].replace(b"/Title", b"/Titel", 1)


def _record_results(world: World, v: Visit) -> None:
    check = v.checks.get()
    outcome = services.submit_results(v, {check.pk: ("corrected", "后厨未配备防鼠设施，已责令改正")},
                                      timezone.localdate(), world.users["inspector"])  # fmt: skip
    assert outcome.ok, outcome.message


def _sign_visit(client: Client, v: Visit, form: str) -> Any:
    return client.post(reverse("visit_document_sign", args=[v.pk, form]), follow=True)


def test_it_signs_the_inspection_notice_once_and_the_public_page_verifies_it(world: World, visit: Visit,
                                                                             home: Path) -> None:  # fmt: skip
    inspector = world.client("inspector")
    r = _sign_visit(inspector, visit, "notice")
    assert r.status_code == 200 and "检查通知书已签章并保存" in r.content.decode()
    data = _pdf(inspector, reverse("visit_document", args=[visit.pk, "notice"]))
    text = _text(data)
    e = world.entities["hecheng"]
    for fact in (
        "检查通知书",
        e.name,
        str(e.uscc),
        "陈检查",
        "荷城市场监督管理所",
        "餐饮服务提供者监督检查",
        "GM2026-D01",
    ):
        assert fact in text, fact
    assert "张三丰" not in text and "张**" in text  # the legal representative masked
    v = signing.verify_pdf(data)
    assert v.valid and v.intact and v.whole_file
    _sign_visit(inspector, visit, "notice")
    again = _pdf(world.client("auditor"), reverse("visit_document", args=[visit.pk, "notice"]))
    assert again == data  # kept once: a second request answers the same file
    assert SignedDocument.objects.filter(visit=visit, kind="notice").count() == 1
    assert AuditEvent.objects.filter(object_type="cases.signeddocument", action="create").count() == 1
    assert AuditEvent.objects.filter(object_type="cases.signeddocument", action="view").count() == 2
    assert "签章有效" in _public_verdict(data)
    body = _public_verdict(_modified(data))
    assert "签章无效" in body and "签章后被修改" in body


def test_the_record_is_refused_until_the_results_are_recorded(world: World, visit: Visit, home: Path) -> None:
    inspector = world.client("inspector")
    r = _sign_visit(inspector, visit, "record")
    assert r.status_code == 200 and "尚未录入检查结果" in r.content.decode()
    assert not SignedDocument.objects.filter(visit=visit).exists()
    r = inspector.get(reverse("visit_document", args=[visit.pk, "record"]), follow=True)
    assert r.status_code == 200 and "该文书尚未签章" in r.content.decode()
    _record_results(world, visit)
    assert _sign_visit(inspector, visit, "record").status_code == 200
    data = _pdf(inspector, reverse("visit_document", args=[visit.pk, "record"]))
    text = _text(data)
    for fact in ("现场检查记录", "发现问题已责令改正", "后厨未配备防鼠设施", f"{timezone.localdate():%Y年%m月%d日}"):
        assert fact in text, fact
    assert signing.verify_pdf(data).valid
    assert not signing.verify_pdf(_modified(data)).valid


def test_a_viewer_may_download_but_not_sign(world: World, visit: Visit, home: Path) -> None:
    auditor = world.client("auditor")
    assert auditor.post(reverse("visit_document_sign", args=[visit.pk, "notice"])).status_code == 403
    page = auditor.get(reverse("visit_detail", args=[visit.pk])).content.decode()
    assert "签章文书" in page and reverse("visit_document_sign", args=[visit.pk, "notice"]) not in page
    mine = world.client("inspector").get(reverse("visit_detail", args=[visit.pk])).content.decode()
    assert reverse("visit_document_sign", args=[visit.pk, "notice"]) in mine
    assert reverse("visit_document_sign", args=[visit.pk, "record"]) not in mine  # no results yet
    _sign_visit(world.client("inspector"), visit, "notice")
    assert signing.verify_pdf(_pdf(auditor, reverse("visit_document", args=[visit.pk, "notice"]))).valid


def test_an_inspector_of_another_town_gets_nothing(world: World, visit: Visit, home: Path) -> None:
    other = User.objects.create_user("yanghe_insp", password=None, role="inspector", region_code="440608106",
                                     department=world.depts["yanghe"])  # fmt: skip
    _sign_visit(world.client("inspector"), visit, "notice")
    c = Client()
    c.force_login(other)
    for form in ("notice", "record"):
        assert c.get(reverse("visit_document", args=[visit.pk, form])).status_code in (403, 404)
        assert c.post(reverse("visit_document_sign", args=[visit.pk, form])).status_code in (403, 404)
    assert SignedDocument.objects.filter(visit=visit).count() == 1
    assert world.client("outsider").get(reverse("visit_document", args=[visit.pk, "notice"])).status_code == 404


def test_an_unknown_form_is_not_found(world: World, visit: Visit, home: Path) -> None:
    assert world.client("inspector").get(reverse("visit_document", args=[visit.pk, "permit"])).status_code == 404


def _case(world: World) -> Case:
    staff = world.users["hecheng"]
    return enforcement.open_case(world.entities["hecheng"], source="manual", title="未按规定公示年度报告",
                                 user=staff, facts="当事人未按期报送2025年度年度报告。")  # fmt: skip


def test_the_filing_form_is_signed_once_the_case_is_filed(world: World, home: Path) -> None:
    case = _case(world)
    staff = world.client("hecheng")
    sign = reverse("case_filing_sign", args=[case.pk])
    r = staff.post(sign, follow=True)
    assert r.status_code == 200 and "尚未立案" in r.content.decode()
    assert not SignedDocument.objects.filter(case=case).exists()
    case = enforcement.act(case, "lead", {"filed": True}, world.users["hecheng"], note="证据充分，建议立案")
    page = staff.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert sign in page
    staff.post(sign)
    staff.post(sign)
    assert SignedDocument.objects.filter(case=case, kind="filing").count() == 1
    data = _pdf(world.client("auditor"), reverse("case_filing", args=[case.pk]))
    text = _text(data)
    e = world.entities["hecheng"]
    for fact in ("立案审批表", case.number, "未按规定公示年度报告", e.name, str(e.uscc), "执法人员日常监督检查发现",
                 "当事人未按期报送", "证据充分，建议立案", "hecheng", "荷城市场监督管理所", "第十九条"):  # fmt: skip
        assert fact in text, fact
    assert "张三丰" not in text
    assert signing.verify_pdf(data).valid and "签章有效" in _public_verdict(data)
    assert "签章无效" in _public_verdict(_modified(data))
    assert world.client("outsider").get(reverse("case_filing", args=[case.pk])).status_code == 404
    assert world.client("auditor").post(sign).status_code == 403
