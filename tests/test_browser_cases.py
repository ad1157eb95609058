"""In a browser: a citizen files a report and follows it by receipt number; staff accept it, find a violation and
open a case; the case page draws its BPMN diagram (bpmn-js, served locally) with the current step marked."""

from __future__ import annotations

import re
from typing import Any

from tests.browser import ARTIFACTS, login, needs_chromium

pytestmark = needs_chromium


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
