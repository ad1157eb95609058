"""Pickers instead of typed codes, in a browser: a town and its villages, an industry by name, an entity by search."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from shijian.registry.models import Entity
from tests.browser import ARTIFACTS, in_browser, login

pytestmark = in_browser


def _shop(world: Any) -> Entity:
    """A shop in the same town as the restaurant 荷城餐饮, in another industry (5211 百货零售)."""
    from shijian.core.codes.uscc import make

    e = world.entities["hecheng"]
    return Entity.objects.create(
        uscc=make("91", "440608", "MA000009"), name="佛山市荷城百货有限公司", entity_type="llc", industry_code="5211",
        industry_section="F", region_code=e.region_code, town_code=e.town_code, district_code=e.district_code,
        address="人民路2号", legal_rep="李四", status="active", source="test",
    )  # fmt: skip


def test_a_leader_picks_a_town_and_an_industry_and_gets_the_filtered_list(
    live_db: None, world: Any, live_server: Any, browser_page: Any
) -> None:
    shop = _shop(world)
    page, base = browser_page, live_server.url
    login(page, base, "leader")
    page.goto(f"{base}/entities/")
    body = page.locator("#rows")
    page.select_option("select[name=town]", "440608004")  # 荷城街道
    expect(body).not_to_contain_text("杨和餐饮")
    # its villages, from the code tables, fill the next select
    page.locator("select[name=village] option[value='440608004001']").wait_for(state="attached")
    villages = page.locator("select[name=village] option").all_inner_texts()
    assert "河江社区居委会" in villages and not any("杨和" in v for v in villages)
    # an industry by its name, chosen with the keyboard
    field = page.locator("input[name=industry]")
    field.click()
    field.type("正餐")
    page.wait_for_selector("ul.suggest li")
    assert "正餐服务" in page.locator("ul.suggest").inner_text()
    field.press("ArrowDown")
    field.press("ArrowUp")
    field.press("Enter")
    assert field.input_value() == "6210"  # 正餐服务
    expect(body).not_to_contain_text("荷城百货")
    text = body.inner_text()
    assert "佛山市荷城餐饮有限公司" in text and shop.name not in text and "杨和餐饮" not in text
    assert "town=440608004" in page.url and "industry=" in page.url
    page.screenshot(path=str(ARTIFACTS / "pickers-1-entity-list.png"), full_page=True)
    # the same filters at 390 px: nothing wider than the phone
    page.set_viewport_size({"width": 390, "height": 844})
    field.fill("")
    field.type("百货")
    page.wait_for_selector("ul.suggest li")
    assert int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth")) <= 0
    page.screenshot(path=str(ARTIFACTS / "pickers-2-phone.png"), full_page=True)
    assert page.errors == []  # type: ignore[attr-defined]


def test_a_hazard_is_opened_on_an_entity_chosen_by_search(
    live_db: None, world: Any, live_server: Any, browser_page: Any
) -> None:
    page, base = browser_page, live_server.url
    login(page, base, "samr")
    page.goto(f"{base}/hazards/add/")
    field = page.locator("input[name=entity_uscc]")
    field.click()
    field.type("荷城餐饮")
    page.wait_for_selector("ul.suggest li")
    options = page.locator("ul.suggest li").all_inner_texts()
    assert len(options) == 1 and "佛山市荷城餐饮有限公司" in options[0]
    field.press("Enter")
    assert field.input_value() == world.entities["hecheng"].uscc
    assert page.errors == []  # type: ignore[attr-defined]


def test_a_batch_region_is_added_from_the_district_town_village_selects(
    live_db: None, world: Any, live_server: Any, browser_page: Any
) -> None:
    from shijian.supervision.models import Plan

    plan = Plan.objects.create(
        code="GM2026", name="高明区2026年度双随机抽查计划", year=2026, level="district", department=world.depts["samr"],
        region_code="440608", created_by=world.users["samr"],
    )  # fmt: skip
    page, base = browser_page, live_server.url
    login(page, base, "samr")
    page.goto(f"{base}/supervision/plans/{plan.pk}/batches/add/")
    picker = page.locator(".region-picker")
    picker.locator("select").first.wait_for()
    picker.locator("select").first.select_option("440608004")  # the towns under 高明区
    picker.locator("select").nth(1).locator("option[value='440608004001']").wait_for(state="attached")
    picker.locator("select").nth(1).select_option("440608004001")  # 河江社区
    picker.locator("button").click()
    assert page.locator("input[name=regions]").input_value() == "440608004001"
    picker.locator("select").nth(1).select_option("")
    picker.locator("button").click()
    assert page.locator("input[name=regions]").input_value() == "440608004001, 440608004"
    assert page.errors == []  # type: ignore[attr-defined]


def test_a_department_list_is_filtered_by_a_town_picked_from_the_region_selects(
    live_db: None, world: Any, live_server: Any, browser_page: Any
) -> None:
    page, base = browser_page, live_server.url
    login(page, base, "leader")
    page.goto(f"{base}/departments/")
    picker = page.locator(".region-picker select").first
    picker.locator("option[value='440608004']").wait_for(state="attached")
    picker.select_option("440608004")
    rows = page.locator("#rows")
    expect(rows).not_to_contain_text(world.depts["yanghe"].name)
    assert world.depts["hecheng"].name in rows.inner_text()
    assert page.locator("input[name=region]").input_value() == "440608004" and "region=440608004" in page.url
    assert page.errors == []  # type: ignore[attr-defined]
