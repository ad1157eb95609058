"""The content of the documents of an inspection visit: 检查通知书 (from the visit's creation) and 现场检查记录
(once its results are recorded), in the official wording, from what the visit holds."""

from __future__ import annotations

import re

from django.utils import translation
from django.utils.translation import gettext as _

from shijian.cases.documents.casefile import Content, DocumentError
from shijian.cases.documents.render import Block
from shijian.cases.models import DocumentKind
from shijian.registry.display import mask_person
from shijian.supervision.models import Outcome, Visit, VisitStatus

NOTICE_BASIS = "《国务院关于在市场监管领域全面推行部门联合“双随机、一公开”监管的意见》"


def _outcome_words(outcome: str) -> str:
    """The published Chinese words of a result (the part in brackets of its label)."""
    if not outcome:
        return "未录入"
    with translation.override("en"):
        label = str(Outcome(outcome).label)
    found = re.search(r"\((.+)\)", label)
    return found.group(1) if found else label


def _members(visit: Visit) -> str:
    members = visit.members.select_related("inspector__department").order_by("position")
    return "、".join(
        f"{m.inspector.name}（{m.inspector.department.name}，执法证号 {m.inspector.cert_no}）" for m in members
    )


def _departments(visit: Visit) -> str:
    return "、".join(d.name for d in visit.departments.order_by("code")) or "—"


def _day(d: object) -> str:
    return f"{d:%Y年%m月%d日}" if d is not None else "—"


def notice(visit: Visit) -> Content:
    """检查通知书: who will come, when, to check what."""
    e = visit.entity
    checks = visit.checks.select_related("item").order_by("item__code", "id")
    items: list[list[str]] = [["序号", "检查事项编码", "检查事项"]]
    items += [[str(i), c.item.code, c.item.name] for i, c in enumerate(checks, 1)]
    blocks: list[Block] = [
        f"编号：{visit.draw.code}-{visit.pk}",
        f"{e.name}（统一社会信用代码：{e.uscc or visit.entity_key}；"
        f"法定代表人（负责人）：{mask_person(e.legal_rep) or '—'}）：",
        f"根据“双随机、一公开”监管工作安排，经随机抽取（抽查编号 {visit.draw.code}），本机关定于"
        f"{_day(visit.window_start)}至{_day(visit.window_end)}期间，由下列部门组成联合检查组，"
        "依法对你单位下列事项进行检查（进一次门、查多项事）。请你单位予以配合，指定人员到场，并备齐有关资料。",
        items,
        f"参与部门：{_departments(visit)}",
        f"检查人员：{_members(visit) or '—'}",
        "检查人员应当出示执法证件。检查人员与你单位有直接利害关系的，你单位有权申请回避。",
        f"依据{NOTICE_BASIS}，特此通知。",
    ]
    return DocumentKind.NOTICE, "检查通知书", blocks


def record(visit: Visit) -> Content:
    """现场检查记录: the entity, the team, and the result of each item checked."""
    if visit.status == VisitStatus.ASSIGNED or visit.checked_on is None:
        raise DocumentError(
            _(
                "The results of this visit have not been recorded yet: the on-site record exists once every item "
                "has its result."
            )
        )
    e = visit.entity
    head: list[list[str]] = [
        ["被检查单位", e.name],
        ["统一社会信用代码", e.uscc or visit.entity_key],
        ["住所（经营场所）", e.address or "—"],
        ["法定代表人（负责人）", mask_person(e.legal_rep) or "—"],
        ["检查日期", _day(visit.checked_on)],
        ["抽查编号", f"{visit.draw.code}（{visit.draw.plan.name}）"],
        ["参与部门", _departments(visit)],
        ["检查人员", _members(visit) or "—"],
    ]
    checks = visit.checks.select_related("item").order_by("item__code", "id")
    results: list[list[str]] = [["序号", "检查事项", "检查结果", "情况说明"]]
    results += [
        [str(i), f"{c.item.code} {c.item.name}", _outcome_words(c.outcome), c.note or "—"]
        for i, c in enumerate(checks, 1)
    ]
    blocks: list[Block] = [
        head,
        "检查情况：检查人员出示执法证件，表明身份，告知被检查单位申请回避的权利后，对下列事项进行了现场检查，结果如下：",
        results,
        "以上记录由检查人员根据现场检查情况录入，经本机关电子签章确认。",
    ]
    return DocumentKind.RECORD, "现场检查记录", blocks
