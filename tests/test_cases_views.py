"""The complaint screens: the public form (receipt, CSRF, throttling), the progress query, staff intake, the 12315
import, masking on the staff pages."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from pytest_django import Settings

from shijian.cases.models import Complaint
from tests.conftest import World


def _form(world: World, **kw: str) -> dict[str, str]:
    e = world.entities["hecheng"]
    return {
        "kind": "report",
        "complainant_name": "王小明",
        "complainant_phone": "13800138000",
        "entity_name": e.name,
        "entity_uscc": e.uscc,
        "entity_address": "",
        "subject": "后厨卫生差",
        "content": "看到老鼠",
        "amount": "",
    } | kw


def test_it_files_without_login_and_shows_the_receipt_once(world: World) -> None:
    c = Client()
    r = c.post(reverse("public_complaint"), _form(world), follow=True)
    filed = Complaint.objects.get()
    assert r.status_code == 200 and filed.receipt_no in r.content.decode()
    assert filed.channel == "web" and filed.department == world.depts["hecheng"]


def test_the_public_form_needs_its_csrf_token(world: World) -> None:
    c = Client(enforce_csrf_checks=True)
    assert c.post(reverse("public_complaint"), _form(world)).status_code == 403
    assert not Complaint.objects.exists()


def test_filings_are_throttled_per_address(world: World, settings: Settings) -> None:
    c = Client()
    for i in range(10):
        c.post(reverse("public_complaint"), _form(world, subject=f"事项{i}"))
    assert Complaint.objects.count() == 10
    r = c.post(reverse("public_complaint"), _form(world, subject="第十一件"))
    assert r.status_code == 200 and "提交次数过多" in r.content.decode()
    assert Complaint.objects.count() == 10


def test_the_progress_query_shows_only_a_matching_filing(world: World) -> None:
    c = Client()
    c.post(reverse("public_complaint"), _form(world))
    filed = Complaint.objects.get()
    wrong = c.post(reverse("public_complaint_status"), {"receipt_no": filed.receipt_no, "phone": "13900000000"})
    body = wrong.content.decode()
    assert "没有与该受理编号和电话相符" in body and "后厨卫生差" not in body
    right = c.post(reverse("public_complaint_status"), {"receipt_no": filed.receipt_no, "phone": "13800138000"})
    assert "分派承办部门" in right.content.decode()


def test_staff_register_a_telephone_filing(world: World) -> None:
    r = world.client("hecheng").post(reverse("complaint_add"), _form(world, channel="phone"))
    filed = Complaint.objects.get()
    assert r.status_code == 302 and filed.channel == "phone"
    assert world.client("hecheng").get(reverse("complaint_detail", args=[filed.pk])).status_code == 200


def _csv(rows: list[str]) -> SimpleUploadedFile:
    head = "登记编号,类型,投诉人,联系电话,被投诉人,统一社会信用代码,被投诉人地址,主题,内容,涉及金额"
    return SimpleUploadedFile("12315.csv", ("\n".join([head, *rows]) + "\n").encode("utf-8"), "text/csv")


def test_a_12315_export_is_imported_once_and_a_bad_row_imports_nothing(world: World) -> None:
    e, y = world.entities["hecheng"], world.entities["yanghe"]
    c = world.client("admin")
    rows = [
        f"1440608000001,举报,李四,13700000001,{e.name},{e.uscc},,无证经营,无证经营,",
        f"1440608000002,投诉,张五,13700000002,{y.name},,人民路1号,退款纠纷,要求退款,1200",
    ]
    bad = c.post(reverse("complaint_import"), {"file": _csv([*rows, "1440608000003,投诉,,,,,,,,abc"])})
    assert "第 4 行" in bad.content.decode() and not Complaint.objects.exists()
    r = c.post(reverse("complaint_import"), {"file": _csv(rows)})
    assert r.status_code == 200 and Complaint.objects.count() == 2
    second = Complaint.objects.get(external_no="1440608000002")
    assert second.kind == "complaint" and second.entity == y and second.channel == "12315"
    again = c.post(reverse("complaint_import"), {"file": _csv(rows)})
    assert Complaint.objects.count() == 2 and "2 件此前已存在" in again.content.decode()


def test_staff_pages_mask_the_complainant_outside_the_handling_department(world: World) -> None:
    Client().post(reverse("public_complaint"), _form(world))
    filed = Complaint.objects.get()
    own = world.client("hecheng").get(reverse("complaint_detail", args=[filed.pk])).content.decode()
    assert "13800138000" in own and "王小明" in own
    for who in ("leader", "auditor"):
        for url in (reverse("complaint_detail", args=[filed.pk]), reverse("complaint_list")):
            body = world.client(who).get(url).content.decode()
            assert "13800138000" not in body and "王小明" not in body, (who, url)
