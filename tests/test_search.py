"""Search as users expect it: a box on every list, a global search in the header, any part of what they remember."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from shijian.registry.models import Entity
from tests.conftest import World
from tests.draws import district_draw


def names(world: Any, who: str, url: str) -> set[str]:
    r = world.client(who).get(url)
    assert r.status_code == 200
    body = r.content.decode()
    return {e.name for e in Entity.objects.all() if e.name in body}


@pytest.mark.parametrize(
    "url", ["entity_list", "department_list", "inspector_list", "item_list", "responsibility_list", "hazard_list"]
)
def test_it_shows_a_search_box_on_every_list(world: World, url: str) -> None:
    body = world.client("leader").get(reverse(url)).content.decode()
    assert 'type="search" name="q"' in body


def test_it_shows_a_search_box_on_the_task_list(world: World) -> None:
    body = world.client("inspector").get(reverse("task_list")).content.decode()
    assert 'type="search" name="q"' in body


def test_it_shows_the_global_search_in_the_header(world: World) -> None:
    body = world.client("inspector").get(reverse("home"), follow=True).content.decode()
    assert f'action="{reverse("search")}"' in body


def test_it_finds_an_entity_by_address(world: World) -> None:
    e = world.entities["yanghe"]
    e.address = "杨和镇沧江路88号"
    e.save()
    assert names(world, "leader", reverse("entity_list") + "?q=沧江路88") == {e.name}


def test_it_finds_an_entity_by_legal_representative(world: World) -> None:
    e = world.entities["hecheng"]
    e.legal_rep = "欧阳明"
    e.save()
    assert names(world, "leader", reverse("entity_list") + "?q=欧阳明") == {e.name}
    e.legal_rep = "林峰"  # a two-character name: matched whole
    e.save()
    assert names(world, "leader", reverse("entity_list") + "?q=林峰") == {e.name}


def test_it_finds_an_entity_by_a_former_name(world: World) -> None:
    e = world.entities["hecheng"]
    e.former_names = "高明区老字号饭店、荷城小炒店"
    e.save()
    assert names(world, "leader", reverse("entity_list") + "?q=老字号饭店") == {e.name}
    e.former_names = ""
    e.save()  # the index follows the change
    assert names(world, "leader", reverse("entity_list") + "?q=老字号饭店") == set()


def test_a_short_term_finds_by_index_only(world: World) -> None:
    # Two characters: a legal representative's whole name, or the start of a name; no scan inside 780k names.
    both = {"佛山市荷城餐饮有限公司", "佛山市杨和餐饮有限公司"}
    assert names(world, "leader", reverse("entity_list") + "?q=佛山") == both
    assert names(world, "leader", reverse("entity_list") + "?q=荷城") == set()


def test_it_finds_an_entity_by_registration_number(world: World) -> None:
    e = world.entities["hecheng"]
    e.reg_no = "440608000123456"
    e.save()
    assert names(world, "leader", reverse("entity_list") + "?q=440608000123456") == {e.name}


def test_the_search_keeps_to_the_jurisdiction(world: World) -> None:
    assert names(world, "hecheng_admin", reverse("entity_list") + "?q=人民路1号") == {"佛山市荷城餐饮有限公司"}
    assert names(world, "outsider", reverse("search") + "?q=人民路1号") == {"佛山市禅城餐饮有限公司"}


def test_the_global_search_finds_hazards_and_inspections(world: World) -> None:
    from shijian.hazards import services
    from shijian.supervision.models import TeamMember, Visit

    h = services.open_entry(
        world.entities["hecheng"],
        source="manual",
        title="冷库温度记录缺失",
        department=world.depts["hecheng"],
        scores={"severity": 10, "extent": 5, "confidence": 5},
        user=world.users["hecheng"],
        now=timezone.now(),
    )
    draw = district_draw(world)
    visit = Visit.objects.create(
        draw=draw, entity=world.entities["yanghe"], entity_key="k", window_start=dt.date(2026, 12, 1),
        window_end=dt.date(2026, 12, 31),
    )  # fmt: skip
    world.inspectors["samr"].user = world.users["inspector"]
    world.inspectors["samr"].save()
    TeamMember.objects.create(visit=visit, inspector=world.inspectors["samr"])

    body = world.client("hecheng").get(reverse("search") + "?q=冷库温度").content.decode()
    assert h.get_absolute_url() in body
    body = world.client("inspector").get(reverse("search") + "?q=杨和餐饮").content.decode()
    assert visit.get_absolute_url() in body and world.entities["yanghe"].get_absolute_url() in body
    body = world.client("inspector").get(reverse("task_list") + "?q=杨和餐饮").content.decode()
    assert visit.get_absolute_url() in body
    body = world.client("inspector").get(reverse("task_list") + "?q=荷城餐饮").content.decode()
    assert visit.get_absolute_url() not in body
    body = world.client("leader").get(reverse("hazard_list") + "?q=荷城餐饮").content.decode()
    assert h.get_absolute_url() in body
    # another district sees none of it
    body = world.client("outsider").get(reverse("search") + "?q=冷库温度").content.decode()
    assert h.get_absolute_url() not in body


def test_the_global_search_finds_record_texts_in_the_jurisdiction(world: World) -> None:
    from shijian.lake.fulltext.index import write_rows

    day = dt.date(2026, 11, 2).toordinal()
    for n, key in enumerate(("hecheng", "chancheng")):
        e = world.entities[key]
        text = f"食品安全：消费者反映{key}店内的臭豆腐发霉变质"
        codes = (e.district_code, e.town_code, e.region_code)
        write_rows([(day << 24 | n, e.pk, 0, *codes, "440608-SAMR", "complaint", dt.date(2026, 11, 2), f"R{n}", text)])
    body = world.client("hecheng").get(reverse("search") + "?q=臭豆腐").content.decode()
    assert "hecheng店内的臭豆腐" in body and "chancheng店内" not in body
    assert world.entities["hecheng"].get_absolute_url() in body and reverse("record_search") + "?q=" in body
    body = world.client("outsider").get(reverse("search") + "?q=臭豆腐").content.decode()
    assert "chancheng店内的臭豆腐" in body and "hecheng店内" not in body


def test_a_list_row_is_built_escaped_as_the_template_did() -> None:
    import datetime as dt

    from shijian.web.generic import Column, row_html

    class Obj:
        name = '<script>alert("x")</script>'

        def get_absolute_url(self) -> str:
            return "/entities/1/?a=1&b=2"

    cols = [
        Column("name", lambda o: o.name, link=True),
        Column("on", lambda o: True),
        Column("off", lambda o: False),
        Column("date", lambda o: dt.date(2026, 12, 6)),
    ]
    html = str(row_html(Obj(), cols))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert '<a href="/entities/1/?a=1&amp;b=2">' in html
    assert "<td>✓</td><td>✗</td>" in html and html.startswith("<tr>") and html.endswith("</tr>")


def test_on_postgresql_a_search_with_few_matches_is_fetched_through_its_own_indexes(world: World) -> None:
    # The planner would walk the primary key backwards for "ORDER BY id DESC LIMIT 3" and read all 780k rows.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL planner matter (SQLite answers through its FTS5 table)")
    e = world.entities["hecheng"]
    e.legal_rep = "欧阳明"
    e.save()
    client = world.client("leader")
    url = reverse("entity_list") + "?q=欧阳明"
    with CaptureQueriesContext(connection) as by_id:  # the default order: the matching ids once, then the page
        assert names(world, "leader", url) == {e.name}
    searches = [q["sql"] for q in by_id.captured_queries if "%欧阳明%" in q["sql"]]
    assert len(searches) == 1 and "ORDER BY" not in searches[0]  # the trigram indexes read once
    with CaptureQueriesContext(connection) as by_name:  # another order: the count, then the page without index walk
        assert names(world, "leader", url + "&sort=name") == {e.name}
    assert any("enable_indexscan', 'off'" in q["sql"] for q in by_name.captured_queries)
    with CaptureQueriesContext(connection) as unfiltered:
        assert client.get(reverse("entity_list")).status_code == 200
    assert not any("enable_indexscan" in q["sql"] for q in unfiltered.captured_queries)
    with connection.cursor() as cur:  # SET LOCAL: gone with the page's transaction
        cur.execute("SHOW enable_indexscan")
        assert cur.fetchone()[0] == "on"


def test_a_search_pages_through_its_matches_in_order(world: World) -> None:
    from shijian.core.codes.uscc import make

    base = world.entities["hecheng"]

    def shop(i: int) -> Entity:
        return Entity.objects.create(
            uscc=make("91", "440608", f"MA1{i:05d}"), name=f"佛山市翻页测试{i:02d}号有限公司", entity_type="llc",
            industry_code="6210", industry_section="H", region_code=base.region_code, town_code=base.town_code,
            district_code=base.district_code, address="人民路1号", status="active", source="test",
        )  # fmt: skip

    made = [shop(i) for i in range(60)]
    client = world.client("leader")
    first = client.get(reverse("entity_list") + "?q=翻页测试").content.decode()
    second = client.get(reverse("entity_list") + "?q=翻页测试&page=2").content.decode()
    assert "60" in first.split('class="count"')[1][:80]  # counted exactly
    newest, oldest = made[-1].name, made[0].name
    assert newest in first and oldest not in first and oldest in second and newest not in second
    assert first.index(made[-1].name) < first.index(made[-2].name)  # newest first
