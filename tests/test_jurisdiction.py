"""Jurisdiction under independent checks: a town's staff write, see and are told only of their own town."""

from __future__ import annotations

import datetime as dt
import re
from operator import attrgetter
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django import Settings

from shijian.core import jurisdiction
from shijian.core.codes.uscc import make
from shijian.hazards import services as hazard_services
from shijian.hazards.models import Hazard, Notification
from shijian.registry.models import Entity, Inspector, InspectorConflict, Responsibility
from shijian.supervision import services
from shijian.supervision.draw import DrawError
from shijian.supervision.models import Batch, Draw, Plan, Visit
from tests import draws
from tests.conftest import World


@pytest.fixture(autouse=True)
def _english() -> Any:
    from django.utils import translation

    with translation.override("en"):
        yield


def zh(message: str, **args: str) -> str:
    """A message as the screens show it (in Chinese, the default language)."""
    from django.utils import translation

    with translation.override("zh-hans"):
        return translation.gettext(message) % args if args else translation.gettext(message)


def individuals(town: str, n: int, prefix: str) -> list[Entity]:
    return Entity.objects.bulk_create(
        [
            Entity(
                uscc=make("92", town[:6], f"{prefix}{i:05d}"),
                name=f"{town[6:9]}号个体餐馆{i}",
                entity_type="individual",
                industry_code="6210",
                industry_section="H",
                region_code=town + "001",
                town_code=town,
                district_code=town[:6],
                legal_rep=f"王{i}",
                status="active",
            )
            for i in range(n)
        ]
    )


def town_plan(world: Any) -> Plan:
    return Plan.objects.create(
        code="HC2026",
        name="荷城2026年度抽查计划",
        year=2026,
        level="town",
        department=world.depts["hecheng"],
        region_code=world.hecheng,
        created_by=world.users["hecheng"],
    )


def batch_of(plan: Plan, world: Any, regions: list[str], dept: str = "hecheng", **kw: Any) -> Batch:
    b = Batch.objects.create(
        plan=plan,
        code=f"{plan.code}-01",
        name="餐饮抽查",
        department=world.depts[dept],
        mode="random",
        count=kw.pop("count", 100),
        window_start=dt.date(2026, 3, 1),
        window_end=dt.date(2026, 12, 31),
        scope_regions=regions,
        **kw,
    )
    b.items.set([world.items["food"]])
    return b


# -- finding 1: writes outside the town -----------------------------------------------------------------------


def test_a_town_user_cannot_create_a_district_plan(world: World) -> None:
    r = world.client("hecheng").post(
        reverse("plan_add"),
        {
            "code": "HC-X",
            "name": "越权计划",
            "year": "2026",
            "level": "district",
            "department": world.depts["hecheng"].pk,
            "region_code": world.district,
        },
    )
    assert r.status_code == 200 and "errorlist" in r.content.decode()
    assert not Plan.objects.exists()
    # the department choices offer only departments inside the town (not the district bureau above it)
    page = world.client("hecheng").get(reverse("plan_add")).content.decode()
    assert world.depts["hecheng"].name in page and world.depts["samr"].name not in page


def test_a_town_batch_cannot_name_the_district(world: World) -> None:
    plan = town_plan(world)
    r = world.client("hecheng").post(
        reverse("batch_add", args=[plan.pk]),
        {
            "code": "HC2026-01",
            "name": "越权批次",
            "department": world.depts["hecheng"].pk,
            "items": [world.items["food"].pk],
            "mode": "random",
            "count": "10",
            "window_start": "2026-03-01",
            "window_end": "2026-12-31",
            "regions": world.district,
        },
    )
    expected = zh("%(code)s is not a region code within the plan's region.", code=world.district)
    assert r.status_code == 200 and expected in r.content.decode()
    assert not Batch.objects.exists()


def test_a_town_batch_never_freezes_candidates_outside_the_town(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    settings.HOME = tmp_path
    individuals(world.yanghe, 3, "MA2")
    individuals(world.hecheng, 2, "MA3")
    batch = batch_of(town_plan(world), world, [world.district])  # saved past the form, e.g. by an import
    towns = {c.region[:9] for c in services.candidates_for(batch)}
    assert towns == {world.hecheng}
    with pytest.raises(DrawError, match="outside your jurisdiction"):
        draws.freeze([batch], world.users["hecheng"])
    assert not Draw.objects.exists()
    # nor may a town user freeze a district plan's batches
    plan = Plan.objects.create(
        code="GM",
        name="g",
        year=2026,
        department=world.depts["samr"],
        region_code=world.district,
        created_by=world.users["samr"],
    )
    with pytest.raises(DrawError):
        draws.freeze([batch_of(plan, world, [], "samr")], world.users["hecheng"])


def test_a_town_user_cannot_create_a_district_responsibility(world: World) -> None:
    before = Responsibility.objects.count()
    c = world.client("hecheng")
    r = c.post(
        reverse("responsibility_add"),
        {"department": world.depts["hecheng"].code, "item": "FOOD-02", "region_code": world.district},
    )
    expected = zh("Division %(code)s is outside your jurisdiction.", code=world.district)
    assert r.status_code == 200 and expected in r.content.decode()
    assert Responsibility.objects.count() == before
    # the district bureau is not offered as the responsible department either
    r = c.post(
        reverse("responsibility_add"),
        {"department": world.depts["samr"].code, "item": "FOOD-02", "region_code": world.hecheng},
    )
    assert r.status_code == 200 and "errorlist" in r.content.decode()
    assert Responsibility.objects.count() == before
    # inside the town it works
    r = c.post(
        reverse("responsibility_add"),
        {"department": world.depts["hecheng"].code, "item": "FOOD-02", "region_code": world.hecheng + "001"},
    )
    assert r.status_code == 302 and Responsibility.objects.count() == before + 1


def test_a_town_data_admin_cannot_edit_the_district_bureau(world: World) -> None:
    samr = world.depts["samr"]
    c = world.client("hecheng_admin")
    assert c.get(reverse("department_detail", args=[samr.pk])).status_code == 200  # seen from below
    assert c.get(reverse("department_edit", args=[samr.pk])).status_code == 404
    r = c.post(
        reverse("department_edit", args=[samr.pk]),
        {"code": samr.code, "name": "改名", "level": "district", "region_code": samr.region_code, "active": "on"},
    )
    assert r.status_code == 404
    samr.refresh_from_db()
    assert samr.name == "高明区市场监督管理局"


# -- finding 2: the draw page -----------------------------------------------------------------------------------


@pytest.fixture
def district_draw(world: World, settings: Settings, tmp_path: Path) -> Draw:
    settings.HOME = tmp_path
    for key, cert in (("samr", "44000011"), ("hecheng", "44000012"), ("yanghe", "44000013")):
        o = Inspector.objects.create(
            name=f"{world.inspectors[key].name}二",
            department=world.depts[key],
            region_code=world.inspectors[key].region_code,
            cert_no=cert,
        )
        o.qualifications.set(world.inspectors[key].qualifications.all())
    individuals(world.hecheng, 4, "MA4")
    individuals(world.yanghe, 4, "MA5")
    plan = Plan.objects.create(
        code="GM2026",
        name="高明区计划",
        year=2026,
        level="district",
        department=world.depts["samr"],
        region_code=world.district,
        created_by=world.users["samr"],
    )
    batch = batch_of(plan, world, [], "samr", count=100)
    draw = draws.freeze([batch], world.users["samr"])
    result = draws.perform(draw, world.users["samr"])
    assert result.ok, result
    return draw


def test_the_draw_page_shows_a_town_only_its_visits_and_masks_others(world: World, district_draw: Draw) -> None:
    visits = Visit.objects.filter(draw=district_draw).select_related("entity")
    mine = [v for v in visits if v.entity.town_code == world.hecheng]
    others = [v for v in visits if v.entity.town_code != world.hecheng]
    assert mine and others
    r = world.client("hecheng").get(reverse("draw_detail", args=[district_draw.pk]))
    assert r.status_code == 200
    body = r.content.decode()
    rows = re.findall(r'<a href="/supervision/visits/(\d+)/">', body)
    assert sorted(int(pk) for pk in rows) == sorted(v.pk for v in mine)
    for v in others:
        assert v.entity_key not in body and v.entity.name not in body
    for v in mine:
        assert v.entity.name in body
    # officers of other departments are shown by surname only
    foreign = {m.inspector.name for v in mine for m in v.members.select_related("inspector__department")} - set(
        Inspector.objects.filter(department=world.depts["hecheng"]).values_list("name", flat=True)
    )
    for name in foreign:
        assert name not in body and name[0] + "*" * (len(name) - 1) in body
    # the district sees every visit, names in full
    body = world.client("samr").get(reverse("draw_detail", args=[district_draw.pk])).content.decode()
    assert all(v.entity_key in body for v in visits)
    # each visit outside the town is a 404 for the town, as it was
    assert world.client("hecheng").get(others[0].get_absolute_url()).status_code == 404


# -- finding 3: the conflict form and the overdue notifications ------------------------------------------------


def test_the_conflict_form_does_not_reveal_another_towns_entity(world: World) -> None:
    c = world.client("hecheng")
    url = reverse("inspector_conflict_add", args=[world.inspectors["hecheng"].pk])
    elsewhere = c.post(url, {"entity_uscc": world.entities["yanghe"].uscc, "reason": "亲属"})
    nowhere = c.post(url, {"entity_uscc": make("91", "440608", "MA999999"), "reason": "亲属"})
    assert elsewhere.status_code == 200 and nowhere.status_code == 200
    assert zh("No entity with this code.") in elsewhere.content.decode()
    assert zh("No entity with this code.") in nowhere.content.decode()
    assert not InspectorConflict.objects.exists()
    r = c.post(url, {"entity_uscc": world.entities["hecheng"].uscc, "reason": "亲属"})
    assert r.status_code == 302 and InspectorConflict.objects.get().entity == world.entities["hecheng"]


def test_an_overdue_entry_is_notified_only_to_its_towns_department(world: World) -> None:
    def entry(entity: str, dept: str) -> Hazard:
        return hazard_services.open_entry(
            world.entities[entity],
            source="manual",
            title=f"{entity}后厨卫生不达标",
            department=world.depts[dept],
            scores={"severity": 10, "extent": 5, "confidence": 5},
            user=world.users["samr"],
            deadline=dt.date(2026, 5, 1),
        )

    own = entry("hecheng", "hecheng")
    stray = entry("yanghe", "hecheng")  # a Yanghe entry answered for by Hecheng's office (e.g. imported so)
    district = entry("yanghe", "samr")
    assert hazard_services.escalate_overdue(dt.date(2026, 5, 11)) == 3
    told = {(n.hazard_id, n.department_id) for n in Notification.objects.all()}
    assert told == {
        (own.pk, world.depts["hecheng"].pk),
        (stray.pk, world.depts["yanghe"].pk),
        (district.pk, world.depts["samr"].pk),
    }
    # and a town reads only its town's notifications on the dashboard
    Notification.objects.create(department=world.depts["hecheng"], hazard=stray, message="yanghe-only")
    r = world.client("hecheng").get(reverse("hazard_dashboard"))
    assert r.status_code == 200
    body = r.content.decode()
    assert f"#{own.pk}" in body and "yanghe-only" not in body


# -- finding 4: one region rule, indexed --------------------------------------------------------------------------


@pytest.mark.parametrize("model", sorted(jurisdiction.RULES, key=attrgetter("__name__")), ids=lambda m: m.__name__)
def test_every_model_rule_is_indexed_for_a_city(world: World, model: type[models.Model]) -> None:
    from shijian.accounts.models import User

    city = User.objects.create_user("city", role="leader", region_code="4406")
    with CaptureQueriesContext(connection) as ctx:
        list(jurisdiction.restrict(model._default_manager.all(), city)[:1])
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    coded = {"entity", "visit", "hazard", "transition", "reminder", "visititem", "attachment", "linkreview"}
    if model.__name__.lower() in coded:
        assert "LIKE" not in sql.upper() and "440608" in sql, sql


def test_the_old_scope_modules_are_gone() -> None:
    import importlib

    for name in ("shijian.registry.scope", "shijian.hazards.scope", "shijian.supervision.scope"):
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module(name)


def test_the_draw_page_shows_a_town_only_its_unstaffed_visits(world: World, settings: Settings, tmp_path: Path) -> None:
    from django.utils import timezone

    plan = Plan.objects.create(
        code="GM-U",
        name="g",
        year=2026,
        department=world.depts["samr"],
        region_code=world.district,
        created_by=world.users["samr"],
    )
    hc, yh = world.entities["hecheng"].uscc, world.entities["yanghe"].uscc
    draw = Draw.objects.create(
        code="GM-U-D01",
        plan=plan,
        seed_method="beacon",
        frozen_at=timezone.now(),
        frozen_digest="0" * 64,
        created_by=world.users["samr"],
        last_attempt={"visits": 9, "unstaffed": 2, "reasons": {hc: "无合格人员", yh: "杨和无人"}},
    )
    r = world.client("hecheng").get(reverse("draw_detail", args=[draw.pk]))
    body = r.content.decode()
    assert r.status_code == 200 and hc in body and yh not in body and "杨和无人" not in body
    assert zh("%(n)s visit in your jurisdiction could not be staffed; nothing was assigned.", n="1") in body
    body = world.client("samr").get(reverse("draw_detail", args=[draw.pk])).content.decode()
    assert hc in body and yh in body and "9" in body
