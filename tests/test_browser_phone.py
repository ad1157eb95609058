"""An inspector on a 390 px phone: task list, visit, results, evidence and the printable notice fit the screen."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from tests.browser import ARTIFACTS, in_browser, login
from tests.draws import district_draw

pytestmark = in_browser

PHONE = {"width": 390, "height": 844}


def _a_visit(world: Any) -> Any:
    from shijian.supervision.models import TeamMember, Visit, VisitItem
    from tests.test_supervision import make_batch

    world.inspectors["samr"].user = world.users["inspector"]
    world.inspectors["samr"].save()
    draw = district_draw(world, "高明区2026年度双随机抽查计划")
    plan = draw.plan
    today = timezone.localdate()
    v = Visit.objects.create(
        draw=draw, entity=world.entities["hecheng"], entity_key=world.entities["hecheng"].uscc,
        window_start=today - dt.timedelta(days=3), window_end=today + dt.timedelta(days=20),
    )  # fmt: skip
    v.departments.set([world.depts["samr"], world.depts["hecheng"]])
    TeamMember.objects.create(visit=v, inspector=world.inspectors["samr"])
    batch = make_batch(plan, world)
    VisitItem.objects.create(visit=v, item=world.items["food"], batch=batch)
    VisitItem.objects.create(visit=v, item=world.items["reg"], batch=batch)
    return v


def _overflow(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def test_an_inspector_works_a_visit_on_a_phone(
    live_db: None, world: Any, live_server: Any, browser_page: Any, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    visit = _a_visit(world)
    page, base = browser_page, live_server.url
    page.set_viewport_size(PHONE)
    login(page, base, "inspector")
    assert "/supervision/tasks/" in page.url  # an inspector starts on the tasks
    assert _overflow(page) <= 0, "task list wider than the phone"
    page.screenshot(path=str(ARTIFACTS / "phone-1-tasks.png"), full_page=True)
    page.click(f"a[href='/supervision/visits/{visit.pk}/']")
    page.wait_for_selector("#results-form")
    assert _overflow(page) <= 0, "visit page wider than the phone"
    capture = page.locator("#evidence-form input[type=file]")
    assert capture.get_attribute("capture") == "environment" and capture.get_attribute("accept") == "image/*"
    # the result selects and the save button are full-width targets
    box = page.locator("#results-form button[type=submit]").bounding_box()
    assert box is not None and box["height"] >= 44
    page.screenshot(path=str(ARTIFACTS / "phone-2-visit.png"), full_page=True)
    page.goto(f"{base}/supervision/visits/{visit.pk}/print/notice/")
    assert _overflow(page) <= 0, "notice wider than the phone"
    page.screenshot(path=str(ARTIFACTS / "phone-3-notice.png"), full_page=True)
    assert not page.errors, page.errors
