from __future__ import annotations

from collections import Counter

from shijian.core.codes import tables


def test_it_ships_gaoming_towns_and_villages() -> None:
    div = tables.divisions()
    assert div["440608"].name == "高明区"
    towns = {d.code for d in div.values() if d.parent == "440608"}
    assert {"440608004", "440608106", "440608107", "440608108"} <= towns
    assert sum(1 for d in div.values() if d.level == "village" and d.code.startswith("440608")) > 70


def test_it_ships_all_four_industry_levels() -> None:
    levels = Counter(i.level for i in tables.industries().values())
    assert levels["section"] == 20
    assert levels["division"] == 97
    assert levels["class"] == 1381
    assert tables.industries()["3741"].name == "飞机制造"


def test_it_walks_division_ancestors() -> None:
    assert tables.ancestors("440608106201") == ["44", "4406", "440608", "440608106", "440608106201"]


def test_it_tells_street_town_township() -> None:
    assert tables.town_kind("440608004") == "street"
    assert tables.town_kind("440608106") == "town"
    assert tables.town_kind("440608250") == "township"


def test_it_matches_industries_by_section_or_prefix() -> None:
    assert tables.industry_matches("6210", ["H"])
    assert tables.industry_matches("6210", ["62"])
    assert not tables.industry_matches("6210", ["C", "52"])
    assert tables.industry_matches("6210", [])


def test_it_knows_uscc_category_codes() -> None:
    cats = tables.uscc_categories()
    assert cats["92"].category_name == "个体工商户"
    assert cats["N2"].authority_name == "农业"
