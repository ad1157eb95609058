"""A browser walks an official through a plan and a draw, an inspector through a result, and the public page.

Playwright drives Debian's Chromium headless (``make test`` installs it when missing; without it the test skips
with the reason). Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from tests.browser import ARTIFACTS, login, needs_chromium

pytestmark = needs_chromium  # its forms are posted through a browser alone: on both engines


def test_an_official_draws_an_inspector_records_and_the_public_sees_it(
    live_db: None, world: Any, live_server: Any, browser_page: Any, settings: Any, tmp_path: Path
) -> None:
    settings.HOME = tmp_path
    world.inspectors["samr"].user = world.users["inspector"]
    world.inspectors["samr"].save()
    page, base = browser_page, live_server.url

    # an official of the district bureau creates a plan
    login(page, base, "samr")
    page.goto(f"{base}/supervision/plans/")
    page.click("a[href$='/supervision/plans/add/']")
    page.fill("input[name=code]", "GM2026")
    page.fill("input[name=name]", "高明区2026年度双随机抽查计划")
    page.fill("input[name=year]", "2026")
    page.select_option("select[name=department]", str(world.depts["samr"].pk))
    page.fill("input[name=region_code]", "440608")
    page.click("form.edit button[type=submit]")
    page.wait_for_selector("a[href*='/batches/add/']")

    # a batch: the catering item, purely random, two entities, in Hecheng
    page.click("a[href*='/batches/add/']")
    page.fill("input[name=code]", "GM2026-01")
    page.fill("input[name=name]", "餐饮服务专项抽查")
    page.select_option("select[name=department]", str(world.depts["samr"].pk))
    page.select_option("select[name=items]", [str(world.items["food"].pk)])
    page.select_option("select[name=mode]", "random")
    page.fill("input[name=count]", "1")
    page.fill("input[name=window_start]", "2026-03-01")
    page.fill("input[name=window_end]", "2026-12-31")
    page.fill("input[name=regions]", "440608004")
    page.click("form.edit button[type=submit]")
    page.wait_for_selector("#freeze-form")
    page.screenshot(path=str(ARTIFACTS / "draw-1-plan.png"), full_page=True)

    # freeze the candidates with two officials' commitments, then reveal the secrets and draw
    # (a beacon seed cannot be entered before its announced time, so this walk-through uses commit-then-reveal)
    page.check("#freeze-form input[name=batches]")
    page.select_option("#freeze-form select[name=seed_method]", "commit_reveal")
    page.fill("#freeze-form input[name=commitment_1]", hashlib.sha256("甲的秘密".encode()).hexdigest())
    page.fill("#freeze-form input[name=commitment_2]", hashlib.sha256("乙的秘密".encode()).hexdigest())
    page.click("#freeze-form button[type=submit]")
    page.click("#job-result")  # freezing and drawing run as jobs: their page links to the draw when done
    page.wait_for_selector("#seed-form")
    page.fill("#seed-form input[name=secret_1]", "甲的秘密")
    page.fill("#seed-form input[name=secret_2]", "乙的秘密")
    page.click("#seed-form button[type=submit]")
    page.click("#job-result")
    page.wait_for_selector("table.list a[href*='/supervision/visits/']")
    page.screenshot(path=str(ARTIFACTS / "draw-2-drawn.png"), full_page=True)
    assert "佛山市荷城餐饮有限公司" in page.content()

    # the inspector on the team records the result
    login(page, base, "inspector")
    page.goto(f"{base}/supervision/tasks/")
    page.click("a[href*='/supervision/visits/']")
    page.wait_for_selector("#results-form")
    page.select_option("#results-form select[name^=outcome-]", "corrected")
    page.fill("#results-form input[name^=note-]", "后厨卫生不达标，已责令改正")
    page.click("#results-form button[type=submit]")
    page.wait_for_selector("#visit-status")
    page.screenshot(path=str(ARTIFACTS / "draw-3-result.png"), full_page=True)
    from shijian.supervision.models import Visit

    assert Visit.objects.get().status == "done"

    # the official publishes; the public page shows it, with no login
    login(page, base, "samr")
    page.goto(f"{base}/supervision/publication/")
    page.click("form button.primary")
    page.wait_for_selector("#due-count")
    page.context.clear_cookies()
    page.goto(f"{base}/public/")
    page.click("a[href*='/public/draws/GM2026-D01/']")
    page.wait_for_selector("#public-results")
    page.screenshot(path=str(ARTIFACTS / "draw-4-public.png"), full_page=True)
    body = page.inner_text("#public-results")
    assert "佛山市荷城餐饮有限公司" in body and "发现问题已责令改正" in body
    assert "张三丰" not in page.content()  # the legal representative is never published
    assert page.errors == []  # type: ignore[attr-defined]
