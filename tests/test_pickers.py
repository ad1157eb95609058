"""The pickers' JSON answers: regions and entities limited to the jurisdiction, industries by code or name."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from tests.conftest import World


def items(world: Any, who: str, name: str, **query: str) -> list[dict[str, str]]:
    r = world.client(who).get(reverse(name), query)
    assert r.status_code == 200 and r["Content-Type"] == "application/json"
    return list(r.json()["items"])


def codes(found: list[dict[str, str]]) -> set[str]:
    return {i["code"] for i in found}


def test_it_starts_at_the_users_region_and_goes_down_one_level_at_a_time(world: World) -> None:
    assert codes(items(world, "leader", "pick_regions")) == {"440608"}
    towns = codes(items(world, "leader", "pick_regions", under="440608"))
    assert {"440608004", "440608106"} <= towns and all(len(c) == 9 and c.startswith("440608") for c in towns)
    villages = items(world, "leader", "pick_regions", under="440608004")
    assert {"code": "440608004001", "name": "河江社区居委会", "level": "village"} in villages


def test_it_offers_no_region_outside_the_jurisdiction(world: World) -> None:
    assert codes(items(world, "hecheng", "pick_regions")) == {"440608004"}
    # above the user's town: only the branch that leads to it
    assert codes(items(world, "hecheng", "pick_regions", under="440608")) == {"440608004"}
    assert items(world, "hecheng", "pick_regions", under="440608106") == []  # 杨和镇, a neighbour
    assert items(world, "leader", "pick_regions", under="440604") == []  # another district


def test_it_finds_an_industry_by_code_or_by_name(world: World) -> None:
    by_code = items(world, "inspector", "pick_industries", q="62")
    assert by_code[0] == {"code": "62", "name": "餐饮业", "level": "division"} and {"6210", "6220"} <= codes(by_code)
    by_name = items(world, "inspector", "pick_industries", q="正餐")
    assert "6210" in codes(by_name) and all("正餐" in i["name"] for i in by_name)
    assert items(world, "inspector", "pick_industries", q="") == []


def test_it_finds_only_entities_the_user_may_see(world: World) -> None:
    mine = items(world, "hecheng", "pick_entities", q="餐饮有限公司")
    assert [i["name"] for i in mine] == ["佛山市荷城餐饮有限公司"]
    assert mine[0]["code"] == world.entities["hecheng"].uscc
    assert {i["name"] for i in items(world, "leader", "pick_entities", q="餐饮有限公司")} == {
        "佛山市荷城餐饮有限公司",
        "佛山市杨和餐饮有限公司",
    }


def test_it_answers_nothing_without_a_login(client: Client) -> None:
    r = client.get(reverse("pick_entities"), {"q": "餐饮"})
    assert r.status_code == 302 and "/login/" in r["Location"]
