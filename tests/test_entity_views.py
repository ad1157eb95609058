from __future__ import annotations

from io import BytesIO

from django.urls import reverse
from openpyxl import load_workbook
from pytest_django import DjangoAssertNumQueries

from tests.conftest import World


def test_it_filters_and_searches_the_entity_list(world: World) -> None:
    c = world.client("leader")
    body = c.get(reverse("entity_list") + "?town=440608106").content.decode()
    assert "佛山市杨和餐饮有限公司" in body and "佛山市荷城餐饮有限公司" not in body
    body = c.get(reverse("entity_list") + "?q=荷城餐饮").content.decode()
    assert "佛山市荷城餐饮有限公司" in body and "佛山市杨和餐饮有限公司" not in body
    code = world.entities["yanghe"].uscc
    body = c.get(reverse("entity_list") + f"?q={code.lower()}").content.decode()
    assert "佛山市杨和餐饮有限公司" in body and "佛山市荷城餐饮有限公司" not in body
    body = c.get(reverse("entity_list") + "?section=C").content.decode()
    assert "佛山市杨和餐饮有限公司" not in body


def test_it_ignores_unknown_sort_keys(world: World) -> None:
    r = world.client("leader").get(reverse("entity_list") + "?sort=legal_rep")
    assert r.status_code == 200


def test_it_answers_htmx_with_the_rows_only(world: World) -> None:
    r = world.client("leader").get(reverse("entity_list"), headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert "<html" not in r.content.decode()


def test_it_masks_the_legal_representative_on_export(world: World) -> None:
    r = world.client("leader").get(reverse("entity_export"))
    ws = load_workbook(BytesIO(r.content)).active
    header = [c.value for c in ws[1]]
    col = header.index("法定代表人")
    values = {row[col] for row in ws.iter_rows(min_row=2, values_only=True)}
    assert values == {"张**"}


def test_the_entity_page_shows_the_file(world: World) -> None:
    e = world.entities["hecheng"]
    body = world.client("leader").get(reverse("entity_detail", args=[e.pk])).content.decode()
    assert e.uscc in body and "张三丰" in body and 'id="file"' in body


def test_the_ui_is_chinese_by_default_and_english_on_request(world: World) -> None:
    c = world.client("leader")
    body = c.get(reverse("entity_list"), headers={"Accept-Language": "en-US,en;q=0.9"}).content.decode()
    assert "市场主体" in body and 'lang="zh-hans"' in body  # whatever the browser prefers
    c.post(reverse("set_language"), {"language": "en", "next": "/"})
    body = c.get(reverse("entity_list")).content.decode()
    assert "Market entities" in body and 'lang="en"' in body


def test_static_assets_are_local(world: World) -> None:
    body = world.client("leader").get(reverse("entity_list")).content.decode()
    assert "http://" not in body.replace("http://www.w3.org", "") and "https://" not in body
    assert "/static/shijian/vendor/htmx" in body


def test_the_list_page_makes_a_bounded_number_of_queries(
    world: World, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    c = world.client("leader")
    with django_assert_max_num_queries(12):
        c.get(reverse("entity_list"))
    with django_assert_max_num_queries(12):
        c.get(reverse("inspector_list"))
    with django_assert_max_num_queries(12):
        c.get(reverse("item_list"))


def test_name_search_uses_the_trigram_index_and_follows_changes(world: World) -> None:
    from shijian.registry.models import Entity
    from shijian.registry.search import name_contains

    assert list(Entity.objects.filter(name_contains("荷城餐饮")).values_list("name", flat=True)) == [
        "佛山市荷城餐饮有限公司"
    ]
    e = world.entities["yanghe"]
    e.name = "佛山市杨和新名字有限公司"
    e.save()
    assert not Entity.objects.filter(name_contains("杨和餐饮")).exists()
    assert Entity.objects.filter(name_contains("杨和新名字")).count() == 1
    e.delete()
    assert not Entity.objects.filter(name_contains("杨和新名字")).exists()
    assert Entity.objects.filter(name_contains("餐饮")).count() == 2  # short terms fall back to a scan


def test_counts_are_exact_below_the_cap_and_bounded_above(world: World) -> None:
    from shijian.registry.models import Entity
    from shijian.web.pagination import BoundedPaginator

    exact = BoundedPaginator(Entity.objects.order_by("id"), 1, cap=10)
    assert exact.count == 3 and exact.exact and exact.num_pages == 3
    bounded = BoundedPaginator(Entity.objects.order_by("id"), 1, cap=2)
    assert bounded.count == 2 and not bounded.exact
    known = BoundedPaginator(Entity.objects.order_by("id"), 1, cap=2, known_total=3)
    assert known.count == 3 and known.exact and known.num_pages == 3


def test_a_city_level_user_sees_every_district_of_the_city(world: World) -> None:
    from django.test import Client

    from shijian.accounts.models import User

    u = User.objects.create_user("city", password="x-long-password-1", role="leader", region_code="4406")
    c = Client()
    c.force_login(u)
    body = c.get(reverse("entity_list")).content.decode()
    assert "佛山市荷城餐饮有限公司" in body and "佛山市禅城餐饮有限公司" in body


def test_the_home_page_counts_follow_changes(world: World) -> None:
    c = world.client("hecheng")
    assert ">1</b>" in c.get(reverse("home") + "?overview=1").content.decode()
    e = world.entities["yanghe"]
    e.region_code, e.town_code = "440608004001", "440608004"
    e.save()
    assert ">2</b>" in c.get(reverse("home") + "?overview=1").content.decode()
