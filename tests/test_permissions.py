"""Every view of every registry kind, for users who must not see or touch an object (NetBox/Healthchecks way)."""

from __future__ import annotations

import pytest
from django.db.models import Model
from django.urls import reverse

from shijian.core.permissions import MATRIX
from tests.conftest import World

KINDS = ["entity", "department", "inspector", "item", "responsibility"]


def _obj(world: World, kind: str, where: str) -> Model | None:
    return {
        "entity": world.entities,
        "department": world.depts,
        "inspector": world.inspectors,
    }.get(kind, {}).get(where) or {
        "item": {"hecheng": world.items["food"], "chancheng": world.items["other"]},
        "responsibility": {},
    }[kind].get(where)


def test_it_redirects_anonymous_users_to_login_on_every_view(world: World) -> None:
    c = world.client("anonymous")
    e = world.entities["hecheng"]
    for kind in KINDS:
        for name in ("list", "add", "import", "export"):
            r = c.get(reverse(f"{kind}_{name}"))
            assert r.status_code == 302 and "/login/" in r["Location"], (kind, name)
    for name in ("detail", "edit", "delete"):
        r = c.get(reverse(f"entity_{name}", args=[e.pk]))
        assert r.status_code == 302, name
    assert c.get(reverse("audit_list")).status_code == 302


@pytest.mark.parametrize("view", ["detail", "edit", "delete"])
def test_it_hides_another_districts_entity_from_an_outsider(world: World, view: str) -> None:
    # outsider is a data administrator of 禅城: may edit, but not Gaoming's entities.
    e = world.entities["hecheng"]
    r = world.client("outsider").get(reverse(f"entity_{view}", args=[e.pk]))
    assert r.status_code == 404


@pytest.mark.parametrize("view", ["detail", "edit", "delete"])
def test_it_hides_another_towns_entity(world: World, view: str) -> None:
    e = world.entities["yanghe"]
    r = world.client("hecheng_admin").get(reverse(f"entity_{view}", args=[e.pk]))
    assert r.status_code == 404


def test_it_lists_only_the_users_town(world: World) -> None:
    r = world.client("hecheng").get(reverse("entity_list"))
    assert r.status_code == 200
    body = r.content.decode()
    assert "佛山市荷城餐饮有限公司" in body
    assert "佛山市杨和餐饮有限公司" not in body
    assert "佛山市禅城餐饮有限公司" not in body


def test_it_lists_nothing_of_gaoming_to_an_outsider(world: World) -> None:
    for kind, hidden in [
        ("entity", "佛山市荷城餐饮有限公司"),
        ("inspector", "李执法"),
        ("department", "荷城市场监督管理所"),
        ("responsibility", "荷城市场监督管理所"),
    ]:
        body = world.client("outsider").get(reverse(f"{kind}_list")).content.decode()
        assert hidden not in body, kind


def test_it_exports_only_the_users_town(world: World) -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    r = world.client("hecheng").get(reverse("entity_export"))
    assert r.status_code == 200
    ws = load_workbook(BytesIO(r.content)).active
    names = [row[1] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert names == ["佛山市荷城餐饮有限公司"]


def test_it_exports_nothing_of_another_district(world: World) -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    for kind in KINDS:
        r = world.client("outsider").get(reverse(f"{kind}_export"))
        assert r.status_code == 200, kind
        ws = load_workbook(BytesIO(r.content)).active
        text = " ".join(str(c) for row in ws.iter_rows(values_only=True) for c in row)
        assert "荷城" not in text and "高明" not in text and "杨和" not in text, (kind, text)


def test_it_forbids_exports_to_roles_without_the_right(world: World) -> None:
    r = world.client("inspector").get(reverse("entity_export"))
    assert r.status_code == 403
    r = world.client("auditor").get(reverse("entity_export"))
    assert r.status_code == 403


@pytest.mark.parametrize("kind", KINDS)
def test_it_hides_other_towns_objects_on_every_view(world: World, kind: str) -> None:
    """A user of 杨和 gets 404 on every view of 荷城's or 禅城's objects of each kind."""
    targets = {
        "entity": [world.entities["hecheng"], world.entities["chancheng"]],
        "department": [world.depts["hecheng"], world.depts["chancheng"]],
        "inspector": [world.inspectors["hecheng"], world.inspectors["chancheng"]],
        "item": [world.items["other"]],
        "responsibility": list(world.items["food"].responsibilities.filter(region_code="440608004"))
        + list(world.items["other"].responsibilities.all()),
    }[kind]
    c = world.client("yanghe_admin")
    for obj in targets:
        for view in ("detail", "edit", "delete"):
            r = c.get(reverse(f"{kind}_{view}", args=[obj.pk]))
            if kind == "department" and view == "detail" and obj == world.depts["samr"]:
                continue
            assert r.status_code == 404, (kind, view, obj)
    # and posting an edit changes nothing
    for obj in targets:
        r = c.post(reverse(f"{kind}_delete", args=[obj.pk]), {"reason": "x"})
        assert r.status_code == 404
        assert type(obj).objects.filter(pk=obj.pk).exists()


def test_it_forbids_writes_to_read_only_roles(world: World) -> None:
    e = world.entities["hecheng"]
    for who in ("auditor", "leader", "inspector"):
        c = world.client(who)
        assert c.get(reverse("entity_add")).status_code == 403, who
        assert c.get(reverse("entity_edit", args=[e.pk])).status_code == 403, who
        assert c.post(reverse("entity_delete", args=[e.pk]), {"reason": "x"}).status_code == 403, who
        assert c.get(reverse("entity_import")).status_code == 403, who
    assert world.entities["hecheng"].__class__.objects.filter(pk=e.pk).exists()


def test_it_shows_a_department_only_its_items(world: World) -> None:
    body = world.client("yanghe").get(reverse("item_list")).content.decode()
    assert "餐饮服务提供者监督检查" in body  # 杨和 answers for FOOD-02 in its town
    assert "企业公示信息情况检查" not in body
    assert "禅城专项检查" not in body


def test_it_shows_a_department_only_its_inspectors(world: World) -> None:
    body = world.client("hecheng").get(reverse("inspector_list")).content.decode()
    assert "陈检查" in body
    assert "李执法" not in body and "黄检查" not in body


def test_it_lets_only_auditors_read_the_audit_log(world: World) -> None:
    for who in ("leader", "admin", "samr", "hecheng", "inspector", "outsider"):
        assert world.client(who).get(reverse("audit_list")).status_code == 403, who
        assert world.client(who).get(reverse("audit_verify")).status_code == 403, who
    assert world.client("auditor").get(reverse("audit_list")).status_code == 200


def test_it_refuses_to_create_an_entity_outside_the_users_jurisdiction(world: World) -> None:
    from shijian.core.codes.uscc import make
    from shijian.registry.models import Entity

    data = {
        "uscc": make("91", "440608", "MA000099"),
        "name": "佛山市越界有限公司",
        "entity_type": "llc",
        "industry_code": "6210",
        "region_code": "440608106201",
        "status": "active",
    }
    r = world.client("hecheng_admin").post(reverse("entity_add"), data)
    assert r.status_code == 200
    assert "outside your jurisdiction" in r.content.decode() or "管辖" in r.content.decode()
    assert not Entity.objects.filter(name="佛山市越界有限公司").exists()


def test_every_permission_rule_is_documented() -> None:
    from pathlib import Path

    doc = (Path(__file__).parent.parent / "docs" / "permissions.md").read_text(encoding="utf-8")
    for kind, action in MATRIX:
        assert f"| {kind} | {action} |" in doc, f"docs/permissions.md lacks ({kind}, {action})"


def test_a_user_without_a_region_sees_nothing(world: World) -> None:
    from shijian.accounts.models import User

    u = User.objects.create_user("floating", password="x-very-long-password", role="data_admin", region_code="")
    from django.test import Client

    c = Client()
    c.force_login(u)
    body = c.get(reverse("entity_list")).content.decode()
    assert "佛山市荷城餐饮有限公司" not in body
