"""In a browser: a citizen files a report and follows it by receipt number; staff accept it, find a violation and
open a case; the case page draws its BPMN diagram (bpmn-js, served locally) with the current step marked."""

from __future__ import annotations

import re
from typing import Any

from tests.browser import ARTIFACTS, login, needs_chromium

pytestmark = needs_chromium  # its forms are posted through a browser alone: on both engines


def test_a_citizen_files_and_follows_staff_accept_find_a_violation_and_open_a_case(
    live_db: None, world: Any, live_server: Any, browser_page: Any, settings: Any
) -> None:
    from shijian.cases.models import Case, Complaint

    page, base = browser_page, live_server.url
    entity = world.entities["hecheng"]
    page.goto(f"{base}/public/complaints/")
    page.select_option("select[name=kind]", "report")
    page.fill("input[name=complainant_name]", "王小明")
    page.fill("input[name=complainant_phone]", "13800138000")
    page.fill("input[name=entity_name]", entity.name)
    page.fill("input[name=entity_uscc]", entity.uscc)
    page.fill("input[name=subject]", "后厨有老鼠")
    page.fill("textarea[name=content]", "昨晚就餐时看到后厨有老鼠。")
    page.click("#complaint-form button[type=submit]")
    receipt = page.inner_text("#receipt-no")
    assert re.fullmatch(r"TS\d{14}", receipt)
    page.goto(f"{base}/public/complaints/status/")
    page.fill("input[name=receipt_no]", receipt)
    page.fill("input[name=phone]", "13800138000")
    page.click("#status-form button[type=submit]")
    assert "分派承办部门" in page.inner_text("#status-step")
    c = Complaint.objects.get(receipt_no=receipt)

    login(page, base, "hecheng")
    page.goto(f"{base}/complaints/{c.pk}/")
    assert "13800138000" in page.inner_text("#complainant")  # the handling department sees the complainant
    page.click("#step-form button[type=submit]")  # triage: the department offered first is the user's own
    page.wait_for_selector("#current-step:has-text('受理审查')")
    page.select_option("select[name=decision]", "1")
    page.click("#step-form button[type=submit]")
    page.wait_for_selector("#current-step:has-text('举报核查')")
    page.select_option("select[name=decision]", "1")
    page.select_option("select[name=opens]", "case")
    page.fill("textarea[name=note]", "现场核实属实")
    page.click("#step-form button[type=submit]")
    page.wait_for_selector("#outcome:has-text('发现违法行为')")
    case = Case.objects.get(complaint=c)
    page.goto(f"{base}/cases/{case.pk}/")
    assert page.inner_text("#current-step") == "线索核查"
    page.wait_for_selector("#bpmn-canvas[data-rendered='1']", timeout=15000)
    assert page.locator("#bpmn-canvas .step-current").count() >= 1  # the current step is marked
    page.screenshot(path=str(ARTIFACTS / "case-diagram.png"), full_page=True)
    page.select_option("select[name=decision]", "1")
    page.fill("textarea[name=note]", "证据充分，立案")
    page.click("#step-form button[type=submit]")
    page.wait_for_selector("#current-step:has-text('调查取证')")
    assert not page.errors, page.errors  # no script error, no CSP refusal

    login(page, base, "leader")
    page.goto(f"{base}/complaints/{c.pk}/")
    assert "13800138000" not in page.inner_text("#complainant")  # masked outside the handling department


def test_staff_take_a_case_to_a_signed_decision_and_the_public_page_checks_it(
    live_db: None, world: Any, live_server: Any, browser_page: Any, settings: Any, tmp_path: Any
) -> None:
    from shijian.cases import enforcement

    settings.HOME, settings.MEDIA_ROOT = tmp_path, tmp_path / "media"
    staff = world.users["hecheng"]
    case = enforcement.open_case(world.entities["hecheng"], source="manual", title="无照经营", user=staff)
    case = enforcement.act(case, "lead", {"filed": True}, staff, note="立案")
    for step in ("investigate", "review"):
        case = enforcement.act(case, step, {}, staff, note=step)
    case = enforcement.act(case, "inform", {"hearing_requested": False}, staff, note="已告知")
    page, base = browser_page, live_server.url
    login(page, base, "hecheng")
    page.goto(f"{base}/cases/{case.pk}/")
    assert page.inner_text("#current-step") == "处罚决定"
    page.select_option("select[name=decision]", "1")
    page.fill("input[name=fine]", "5000")
    page.fill("input[name=decision_no]", "高市监罚〔2026〕8号")
    page.fill("input[name=legal_basis]", "《无证无照经营查处办法》第十三条")
    page.fill("textarea[name=note]", "集体讨论决定")
    page.click("#step-form button[type=submit]")
    page.wait_for_selector("#current-step:has-text('送达')")
    with page.expect_download() as got:
        page.click("#decision-pdf")
    signed = tmp_path / "decision.pdf"
    got.value.save_as(signed)
    data = signed.read_bytes()
    assert data.startswith(b"%PDF-")
    modified = tmp_path / "modified.pdf"
    i = data.find(b"/Title")
    modified.write_bytes(data[:i] + data[i:].replace(b"/Title", b"/Titel", 1))

    page.context.clear_cookies()
    page.goto(f"{base}/public/verify/")
    page.set_input_files("input[name=file]", str(signed))
    page.click("#verify-form button[type=submit]")
    assert "签章有效" in page.inner_text("#verdict-result")
    assert "高明区市场监督管理局" in page.inner_text("#verdict-signer")
    page.screenshot(path=str(ARTIFACTS / "verify-valid.png"), full_page=True)
    page.set_input_files("input[name=file]", str(modified))
    page.click("#verify-form button[type=submit]")
    assert "签章无效" in page.inner_text("#verdict-result")
    assert not page.errors, page.errors
