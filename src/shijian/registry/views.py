"""Declarations of the registry screens; behaviour lives in shijian.web.generic."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from shijian.core.codes import tables
from shijian.core.jurisdiction import restrict, subtree_q
from shijian.registry import forms
from shijian.registry.display import industry_name, mask_person, money, region_name, region_path, source_label
from shijian.registry.models import (
    Department,
    Entity,
    EntityStatus,
    EntityType,
    Inspector,
    ItemKind,
    Level,
    Responsibility,
    RiskClass,
    SpotCheckItem,
    Tag,
)
from shijian.registry.search import entity_q
from shijian.registry.stats import status_counts
from shijian.registry.views_extra import entity_file_context
from shijian.web.generic import Column, Filter, Importer, ObjectSpec
from shijian.web.params import id_value


def choice_label(model: Any, field: str) -> Any:
    """A choice field's label as text, looked up once per language and value: ``get_FOO_display`` on each of
    780k exported rows costs more than writing the row."""
    choices = dict(model._meta.get_field(field).flatchoices)
    memo: dict[tuple[str | None, Any], str] = {}

    def label(obj: Any) -> str:
        value = getattr(obj, field)
        key = (get_language(), value)
        if key not in memo:
            memo[key] = str(choices.get(value, value))
        return memo[key]

    return label


def _towns_for(user: Any) -> list[tuple[str, str]]:
    return towns_under(user.region_code or settings.SHIJIAN_HOME_REGION)


@cache
def towns_under(region: str) -> list[tuple[str, str]]:
    if len(region) >= 9:
        return [(region[:9], region_name(region[:9]))]
    return [
        (d.code, f"{region_name(d.parent)} {d.name}" if len(region) < 6 else d.name)
        for d in tables.divisions().values()
        if d.level == "town" and d.code.startswith(region)
    ]


def _sections(user: Any) -> list[tuple[str, str]]:
    return [(i.code, f"{i.code} {i.name}") for i in tables.industries().values() if i.level == "section"]


def _tag_choices(user: Any) -> list[tuple[str, str]]:
    return [(t.code, t.name) for t in Tag.objects.all()]


def _tag_q(code: str) -> Q:
    # A membership test on the through table lets the database walk the id order and stop after one page.
    return Q(pk__in=Entity.tags.through.objects.filter(tag__code=code).values("entity_id"))


def _dept_choices(user: Any) -> list[tuple[str, str]]:
    return [(str(d.pk), d.name) for d in restrict(Department.objects.all(), user, "view")]


ENTITY = ObjectSpec(
    kind="entity",
    model=Entity,
    form_class=forms.EntityForm,
    title=_("Market entities"),
    columns=[
        Column(_("name"), lambda e: e.name, link=True),
        Column(_("unified social credit code"), lambda e: e.uscc or "—"),
        Column(_("type"), choice_label(Entity, "entity_type")),
        Column(_("industry"), lambda e: industry_name(e.industry_code)),
        Column(_("town / street"), lambda e: region_name(e.town_code)),
        Column(_("established on"), lambda e: e.established_on.isoformat() if e.established_on else ""),
        Column(_("status"), choice_label(Entity, "status")),
    ],
    detail=[
        (_("unified social credit code"), lambda e: e.uscc or "—"),
        (_("old registration number"), lambda e: e.reg_no or "—"),
        (_("former names"), lambda e: e.former_names or "—"),
        (_("type"), lambda e: e.get_entity_type_display()),
        (_("industry"), lambda e: " / ".join(f"{i.code} {i.name}" for i in tables.industry_path(e.industry_code))),
        (_("region"), lambda e: region_path(e.region_code)),
        (_("address"), lambda e: e.address),
        (_("legal representative"), lambda e: e.legal_rep),
        (
            _("subscribed capital (10k yuan)"),
            lambda e: money(e.registered_capital),
        ),
        (_("established on"), lambda e: e.established_on.isoformat() if e.established_on else "—"),
        (_("status"), lambda e: e.get_status_display()),
        (_("tags"), lambda e: "、".join(t.name for t in e.tags.all()) or "—"),
        (_("source"), lambda e: source_label(e.source)),
    ],
    filters=[
        Filter("town", _("town / street"), lambda v: Q(town_code=v), _towns_for),
        Filter(
            "village", _("village / community"), lambda v: Q(region_code=v), children_of="town", label_of=region_name
        ),
        Filter("section", _("industry section"), lambda v: Q(industry_section=v), _sections),
        Filter("industry", _("industry"), lambda v: Q(industry_code__startswith=v), suggest="industry"),
        Filter("type", _("type"), lambda v: Q(entity_type=v), lambda u: list(EntityType.choices)),
        Filter("status", _("status"), lambda v: Q(status=v), lambda u: list(EntityStatus.choices)),
        Filter("risk", _("risk class"), lambda v: Q(risk_class=v), lambda u: list(RiskClass.choices)),
        Filter("tag", _("tag"), _tag_q, _tag_choices),
    ],
    search=entity_q,
    search_help=_("name or former name, credit code or registration number, legal representative, address"),
    orderings={
        "id": (_("registration order"), ("id",)),
        "-id": (_("newest first"), ("-id",)),
        "name": (_("name"), ("name", "id")),
        "-established_on": (_("established, newest first"), ("-established_on", "-id")),
        "established_on": (_("established, oldest first"), ("established_on", "id")),
        "-registered_capital": (_("capital, largest first"), ("-registered_capital", "-id")),
    },
    default_ordering="-id",
    importer=Importer(
        columns={
            "uscc": ["统一社会信用代码"],
            "reg_no": ["注册号"],
            "name": ["名称", "企业名称"],
            "former_names": ["曾用名"],
            "entity_type": ["类型", "主体类型"],
            "industry_code": ["行业代码"],
            "region_code": ["区划代码", "村居代码"],
            "address": ["地址", "住所"],
            "legal_rep": ["法定代表人", "负责人"],
            "registered_capital": ["注册资本", "认缴出资额"],
            "established_on": ["成立日期"],
            "status": ["状态", "登记状态"],
            "tags": ["标识", "特征标识"],
        },
        to_data=forms.entity_import_data,
    ),
    export_columns=[
        ("统一社会信用代码", lambda e: e.uscc or ""),
        ("名称", lambda e: e.name),
        ("类型", choice_label(Entity, "entity_type")),
        ("行业代码", lambda e: e.industry_code),
        ("区划代码", lambda e: e.region_code),
        ("镇街", lambda e: region_name(e.town_code)),
        ("地址", lambda e: e.address),
        ("法定代表人", lambda e: mask_person(e.legal_rep)),
        ("认缴出资额(万元)", lambda e: float(e.registered_capital) if e.registered_capital is not None else None),
        ("成立日期", lambda e: e.established_on),
        ("状态", choice_label(Entity, "status")),
    ],
    detail_template="registry/entity_detail.html",
    audit_detail_views=True,
    total=lambda user: sum(status_counts(user).values()),
    detail_context=entity_file_context,
    prefetch_related=(),
)

DEPARTMENT = ObjectSpec(
    kind="department",
    model=Department,
    form_class=forms.DepartmentForm,
    title=_("Departments"),
    columns=[
        Column(_("code"), lambda d: d.code),
        Column(_("name"), lambda d: d.name, link=True),
        Column(_("level"), lambda d: d.get_level_display()),
        Column(_("region"), lambda d: region_name(d.region_code)),
        Column(_("active"), lambda d: d.active),
    ],
    detail=[
        (_("code"), lambda d: d.code),
        (_("level"), lambda d: d.get_level_display()),
        (_("region"), lambda d: region_path(d.region_code)),
        (_("active"), lambda d: d.active),
        (_("inspectors"), lambda d: d.inspectors.count()),
        (_("spot-check items"), lambda d: d.items.count()),
    ],
    filters=[
        Filter("level", _("level"), lambda v: Q(level=v), lambda u: list(Level.choices)),
        Filter("region", _("region code"), subtree_q, suggest="region"),
    ],
    search=lambda t: Q(name__contains=t) | Q(code__startswith=t),
    search_help=_("name or code"),
    orderings={"code": (_("code"), ("code",)), "name": (_("name"), ("name", "id"))},
    default_ordering="code",
    importer=Importer(
        columns={
            "code": ["部门代码", "代码"],
            "name": ["部门名称", "名称"],
            "level": ["层级"],
            "region_code": ["区划代码"],
            "active": ["启用"],
        },
        to_data=lambda r: {
            **r,
            "level": {"区": "district", "镇街": "town", "村居": "village"}.get(r.get("level", ""), r.get("level", "")),
            "active": r.get("active", "1").strip().lower() not in {"0", "false", "否"},
        },
    ),
    export_columns=[
        ("部门代码", lambda d: d.code),
        ("部门名称", lambda d: d.name),
        ("层级", lambda d: d.level),
        ("区划代码", lambda d: d.region_code),
        ("启用", lambda d: d.active),
    ],
)

INSPECTOR = ObjectSpec(
    kind="inspector",
    model=Inspector,
    form_class=forms.InspectorForm,
    title=_("Inspectors"),
    columns=[
        Column(_("name"), lambda i: i.name, link=True),
        Column(_("enforcement certificate number"), lambda i: i.cert_no),
        Column(_("department"), lambda i: i.department.name),
        Column(_("region"), lambda i: region_name(i.region_code)),
        Column(_("qualifications"), lambda i: "、".join(q.name for q in i.qualifications.all())),
        Column(_("active"), lambda i: i.active),
    ],
    detail=[
        (_("enforcement certificate number"), lambda i: i.cert_no),
        (_("department"), lambda i: i.department.name),
        (_("region"), lambda i: region_path(i.region_code)),
        (_("qualifications"), lambda i: "、".join(q.name for q in i.qualifications.all()) or "—"),
        (_("active"), lambda i: i.active),
        (
            _("conflicts of interest"),
            lambda i: (
                "；".join(f"{c.entity.name if c.entity else c.person_name}（{c.reason}）" for c in i.conflicts.all())
                or "—"
            ),
        ),
    ],
    filters=[
        Filter("department", _("department"), lambda v: Q(department_id=id_value("department", v)), _dept_choices),
        Filter("region", _("region code"), subtree_q, suggest="region"),
        Filter("active", _("active"), lambda v: Q(active=v == "1"), lambda u: [("1", "✓"), ("0", "✗")]),
    ],
    search=lambda t: Q(name__contains=t) | Q(cert_no__startswith=t),
    search_help=_("name or certificate number"),
    orderings={"name": (_("name"), ("name", "id")), "department": (_("department"), ("department_id", "name", "id"))},
    default_ordering="department",
    select_related=("department",),
    prefetch_related=("qualifications",),
    importer=Importer(
        columns={
            "name": ["姓名"],
            "department": ["部门代码"],
            "region_code": ["区划代码"],
            "cert_no": ["执法证号"],
            "qualifications": ["资格", "检查资格"],
            "active": ["在岗"],
        },
        to_data=forms.inspector_import_data,
    ),
    export_columns=[
        ("姓名", lambda i: i.name),
        ("部门代码", lambda i: i.department.code),
        ("部门", lambda i: i.department.name),
        ("区划代码", lambda i: i.region_code),
        ("执法证号", lambda i: i.cert_no),
        ("检查资格", lambda i: ",".join(q.code for q in i.qualifications.all())),
        ("在岗", lambda i: i.active),
    ],
    detail_template="registry/inspector_detail.html",
)

ITEM = ObjectSpec(
    kind="item",
    model=SpotCheckItem,
    form_class=forms.SpotCheckItemForm,
    title=_("Spot-check items"),
    columns=[
        Column(_("code"), lambda i: i.code),
        Column(_("name"), lambda i: i.name, link=True),
        Column(_("category"), lambda i: i.category.name),
        Column(_("kind"), lambda i: i.get_kind_display()),
        Column(_("ratio cap (%)"), lambda i: i.ratio_cap if i.ratio_cap is not None else "—"),
        Column(_("responsible departments"), lambda i: "、".join(d.name for d in i.departments.all())),
    ],
    detail=[
        (_("code"), lambda i: i.code),
        (_("category"), lambda i: i.category.name),
        (_("sub-items"), lambda i: "；".join(i.sub_items) or "—"),
        (_("legal basis"), lambda i: i.legal_basis or "—"),
        (_("responsible departments"), lambda i: "、".join(d.name for d in i.departments.all()) or "—"),
        (
            _("target entity types"),
            lambda i: "、".join(str(dict(EntityType.choices).get(t, t)) for t in i.target_entity_types) or "—",
        ),
        (_("target industries"), lambda i: "、".join(industry_name(c) for c in i.target_industries) or "—"),
        (_("kind"), lambda i: i.get_kind_display()),
        (_("ratio cap (%)"), lambda i: i.ratio_cap if i.ratio_cap is not None else "—"),
        (_("frequency"), lambda i: i.frequency or "—"),
        (_("method"), lambda i: i.method or "—"),
        (_("inspector requirements"), lambda i: i.inspector_requirements or "—"),
        (_("active"), lambda i: i.active),
    ],
    filters=[
        Filter("kind", _("kind"), lambda v: Q(kind=v), lambda u: list(ItemKind.choices)),
        Filter(
            "department",
            _("department"),
            lambda v: Q(departments__id=id_value("department", v)),
            _dept_choices,
        ),
    ],
    search=lambda t: Q(name__contains=t) | Q(code__startswith=t),
    search_help=_("name or code"),
    orderings={"code": (_("code"), ("code",))},
    default_ordering="code",
    select_related=("category",),
    prefetch_related=("departments",),
    importer=Importer(
        columns={
            "code": ["事项代码", "代码"],
            "name": ["事项名称", "名称"],
            "category": ["类别", "事项类别"],
            "sub_items": ["检查子项", "子项"],
            "legal_basis": ["法律依据", "依据"],
            "departments": ["责任部门"],
            "target_entity_types": ["对象类型"],
            "target_industries": ["对象行业"],
            "kind": ["事项类型"],
            "ratio_cap": ["抽查比例上限"],
            "frequency": ["抽查频次"],
            "method": ["检查方式"],
            "inspector_requirements": ["人员要求"],
            "active": ["启用"],
        },
        to_data=forms.item_import_data,
    ),
    export_columns=[
        ("事项代码", lambda i: i.code),
        ("事项名称", lambda i: i.name),
        ("类别", lambda i: i.category.code),
        ("检查子项", lambda i: "；".join(i.sub_items)),
        ("法律依据", lambda i: i.legal_basis),
        ("责任部门", lambda i: ",".join(d.code for d in i.departments.all())),
        ("对象类型", lambda i: ",".join(i.target_entity_types)),
        ("对象行业", lambda i: ",".join(i.target_industries)),
        ("事项类型", lambda i: "重点" if i.kind == "key" else "一般"),
        ("抽查比例上限", lambda i: float(i.ratio_cap) if i.ratio_cap is not None else None),
        ("抽查频次", lambda i: i.frequency),
        ("检查方式", lambda i: i.method),
        ("人员要求", lambda i: i.inspector_requirements),
    ],
)

RESPONSIBILITY = ObjectSpec(
    kind="responsibility",
    model=Responsibility,
    form_class=forms.ResponsibilityForm,
    title=_("Responsibilities"),
    columns=[
        Column(_("item"), lambda r: f"{r.item.code} {r.item.name}", link=True),
        Column(_("department"), lambda r: r.department.name),
        Column(_("region"), lambda r: region_name(r.region_code)),
        Column(_("note"), lambda r: r.note),
    ],
    detail=[
        (_("item"), lambda r: f"{r.item.code} {r.item.name}"),
        (_("department"), lambda r: r.department.name),
        (_("region"), lambda r: region_path(r.region_code)),
        (_("note"), lambda r: r.note or "—"),
    ],
    filters=[
        Filter("department", _("department"), lambda v: Q(department_id=id_value("department", v)), _dept_choices),
        Filter("region", _("region code"), subtree_q, suggest="region"),
    ],
    search=lambda t: Q(item__name__contains=t) | Q(item__code__startswith=t),
    search_help=_("item name or code"),
    orderings={"item": (_("item"), ("item__code", "department__code", "region_code"))},
    default_ordering="item",
    select_related=("item", "department"),
    importer=Importer(
        columns={
            "department": ["部门代码"],
            "item": ["事项代码"],
            "region_code": ["区划代码"],
            "note": ["备注"],
        },
    ),
    export_columns=[
        ("事项代码", lambda r: r.item.code),
        ("事项名称", lambda r: r.item.name),
        ("部门代码", lambda r: r.department.code),
        ("部门", lambda r: r.department.name),
        ("区划代码", lambda r: r.region_code),
        ("备注", lambda r: r.note),
    ],
)

SPECS = [ENTITY, DEPARTMENT, INSPECTOR, ITEM, RESPONSIBILITY]
