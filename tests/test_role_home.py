"""Each role lands where its day starts, and forms offer pickers instead of typed codes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import World


@pytest.mark.parametrize(
    ("who", "lands_on"),
    [("inspector", "task_list"), ("leader", "analytics"), ("samr", "operations"), ("auditor", "audit_list")],
)
def test_each_role_lands_on_its_own_start_page(world: World, who: str, lands_on: str) -> None:
    r = world.client(who).get(reverse("home"))
    assert r.status_code == 302 and r["Location"] == reverse(lands_on)
    assert world.client(who).get(reverse("home"), follow=True).status_code == 200


def test_the_data_administrator_keeps_the_entity_counts(world: World) -> None:
    r = world.client("admin").get(reverse("home"))
    assert r.status_code == 200 and "tiles" in r.content.decode()


def test_the_entity_form_offers_divisions_and_industries_by_name(world: World) -> None:
    body = world.client("hecheng_admin").get(reverse("entity_add")).content.decode()
    assert 'list="id_region_code-options"' in body and '<datalist id="id_region_code-options">' in body
    assert '<option value="440608004001">' in body  # a village of Hecheng, named
    assert '<option value="440604001001">' not in body  # not one outside the user's town
    assert 'list="id_industry_code-options"' in body and '<option value="6210">正餐服务</option>' in body


def test_a_single_department_is_preselected(world: World) -> None:
    body = world.client("samr").get(reverse("plan_add")).content.decode()  # department staff plan for their own
    assert f'<option value="{world.depts["samr"].pk}" selected>' in body
    assert '<option value="" selected>' not in body
