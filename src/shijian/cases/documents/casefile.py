"""The content of the documents of a filing or case: 受理/不予受理通知书, 行政处罚决定书 and 立案审批表, in the
official wording, from what the filing or case holds (personal names masked)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from shijian.cases.documents.render import Block
from shijian.cases.models import Case, Complaint, DocumentKind, Outcome
from shijian.core import clock
from shijian.registry.display import mask_person


class DocumentError(ValueError):
    """No such document yet (the decision or record it carries has not been made)."""


Content = tuple[str, str, list[Block]]  # (kind, title, blocks)

SOURCE_WORDS = {
    "hazard": "隐患库移交",
    "complaint": "投诉举报",
    "inspection": "“双随机、一公开”抽查发现",
    "manual": "执法人员日常监督检查发现",
}
FILING_RULE = "《市场监督管理行政处罚程序规定》第十九条"


def complaint_notice(c: Complaint) -> Content:
    """The notice of the acceptance decision."""
    name = mask_person(c.complainant_name)
    if c.accepted_on is not None:
        return (
            DocumentKind.ACCEPTANCE,
            "受理通知书",
            [
                f"{name}：",
                f"你于{clock.local_date(c.received_at):%Y年%m月%d日}提出的投诉举报（受理编号 {c.receipt_no}，"
                f"被投诉举报人：{c.entity_name}，事项：{c.subject}）本部门已于{c.accepted_on:%Y年%m月%d日}决定受理。",
                "依据《市场监督管理投诉举报处理暂行办法》，特此告知。",
            ],
        )
    if c.outcome == Outcome.REJECTED:
        return (
            DocumentKind.REFUSAL,
            "不予受理通知书",
            [
                f"{name}：",
                f"你于{clock.local_date(c.received_at):%Y年%m月%d日}提出的投诉举报（受理编号 {c.receipt_no}，"
                f"被投诉举报人：{c.entity_name}，事项：{c.subject}）经审查，决定不予受理。",
                f"理由：{c.public_reply}",
                "依据《市场监督管理投诉举报处理暂行办法》，特此告知。",
            ],
        )
    raise DocumentError(_("The acceptance decision has not been made yet."))


def decision(c: Case) -> Content:
    if c.decided_on is None or not c.decision_no:
        raise DocumentError(_("No penalty has been decided in this case."))
    amounts = []
    if c.fine is not None:
        amounts.append(f"罚款人民币{c.fine:,.2f}元")
    if c.confiscated is not None:
        amounts.append(f"没收违法所得人民币{c.confiscated:,.2f}元")
    blocks: list[Block] = [
        f"{c.decision_no}",
        f"当事人：{c.entity.name}　统一社会信用代码：{c.entity.uscc or '—'}　住所：{c.entity.address or '—'}",
        f"本局于{c.filed_on:%Y年%m月%d日}对当事人{c.title}一案立案调查（案件编号 {c.number}）。" if c.filed_on else "",
        f"经查：{c.facts or c.title}",
        f"依据{c.legal_basis}，本局决定：{'；'.join(amounts)}。",
        "当事人应当自收到本决定书之日起十五日内缴纳罚款。逾期不缴纳的，每日按罚款数额的百分之三加处罚款。",
        "如不服本决定，可以在收到本决定书之日起六十日内依法申请行政复议，或者在六个月内依法向人民法院提起行政诉讼。",
    ]
    return DocumentKind.DECISION, "行政处罚决定书", blocks


def _source(c: Case) -> str:
    words = SOURCE_WORDS.get(c.source, c.source)
    if c.complaint_id is not None and c.complaint is not None:
        return f"{words}（受理编号 {c.complaint.receipt_no}）"
    if c.visit_item_id is not None and c.visit_item is not None:
        return f"{words}（抽查编号 {c.visit_item.visit.draw.code}，检查事项 {c.visit_item.item.name}）"
    return words


def _filing_step(c: Case) -> Any:
    """The 线索核查 step that decided to file the case (who approved, when, with what opinion)."""
    if c.process is None:
        return None
    return c.process.steps.filter(task="lead").select_related("actor").order_by("-at", "-id").first()


def filing(c: Case) -> Content:
    """立案审批表: the case as it stood when the filing was approved."""
    if c.filed_on is None:
        raise DocumentError(_("The case has not been filed yet: the filing approval form exists once it is filed."))
    step = _filing_step(c)
    approver = (
        (step.actor.get_full_name() or step.actor.username) if step is not None and step.actor is not None else "—"
    )
    opinion = step.note.strip() if step is not None and step.note.strip() else "符合立案条件"
    e = c.entity
    rows: list[list[str]] = [
        ["案件编号", c.number],
        ["案件名称", c.title],
        ["当事人", e.name],
        ["统一社会信用代码", e.uscc or "—"],
        ["住所（经营场所）", e.address or "—"],
        ["法定代表人（负责人）", mask_person(e.legal_rep) or "—"],
        ["案件来源", _source(c)],
        ["线索登记日期", f"{c.lead_on:%Y年%m月%d日}"],
        ["简要案情", c.facts or c.title],
        ["立案依据", FILING_RULE],
        ["拟适用的法律依据", c.legal_basis or "待调查终结后依法确定"],
        ["承办机构", c.department.name],
        ["审批意见", f"同意立案。{opinion.rstrip('。')}。"],
        ["审批人", approver],
        ["立案日期", f"{c.filed_on:%Y年%m月%d日}"],
    ]
    blocks: list[Block] = [
        f"经核查，当事人{e.name}涉嫌{c.title}，有证据初步证明存在违反市场监督管理法律、法规、规章的行为，"
        "依法应当给予行政处罚，属于本机关管辖，且在给予行政处罚的法定期限内，依据"
        f"{FILING_RULE}，报请立案。",
        rows,
    ]
    return DocumentKind.FILING, "立案审批表", blocks
