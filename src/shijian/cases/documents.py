"""The documents of a filing or case as PDF (reportlab, the Chinese font of the PDF reports), signed with the
bureau's key (``cases.signing``) and kept: 受理/不予受理通知书 and 行政处罚决定书."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shijian.cases import signing
from shijian.cases.models import Case, Complaint, DocumentKind, Outcome, SignedDocument
from shijian.core import audit, clock
from shijian.files import stored
from shijian.registry.display import mask_person


class DocumentError(ValueError):
    """No such document yet (the decision it records has not been made)."""


DOCUMENT_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")  # fonts-wqy-zenhei (scripts/ensure_fonts.sh)


def _document_font() -> str:
    """A Chinese TrueType font embedded in the document: SHIJIAN_PDF_FONT if set, else WenQuanYi Zen Hei when
    installed, else the PDF reports' font (the standard STSong-Light, referenced, not embedded)."""
    from django.conf import settings
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    from shijian.analytics.report import _font

    if getattr(settings, "SHIJIAN_PDF_FONT", "") or not DOCUMENT_FONT.is_file():
        return _font()
    if "ShijianDocument" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("ShijianDocument", str(DOCUMENT_FONT), subfontIndex=0))
    return "ShijianDocument"


def render_pdf(title: str, lines: list[str], issuer: str) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    font = _document_font()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, title=title, author=issuer)
    head = ParagraphStyle("h", fontName=font, fontSize=18, leading=26, alignment=1, spaceAfter=14)
    body = ParagraphStyle("b", fontName=font, fontSize=11.5, leading=20, firstLineIndent=23)
    right = ParagraphStyle("r", fontName=font, fontSize=11.5, leading=20, alignment=2)
    story: list[Any] = [Paragraph(title, head)]
    story += [Paragraph(line, body) for line in lines]
    story += [Spacer(1, 36), Paragraph(issuer, right), Paragraph(f"{clock.today():%Y年%m月%d日}", right)]
    doc.build(story)
    return buf.getvalue()


def _issuer(department: Any) -> str:
    return str(department.name)


def complaint_notice(c: Complaint) -> tuple[str, str, list[str]]:
    """(kind, title, lines) of the notice of the acceptance decision."""
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


def decision(c: Case) -> tuple[str, str, list[str]]:
    if c.decided_on is None or not c.decision_no:
        raise DocumentError(_("No penalty has been decided in this case."))
    amounts = []
    if c.fine is not None:
        amounts.append(f"罚款人民币{c.fine:,.2f}元")
    if c.confiscated is not None:
        amounts.append(f"没收违法所得人民币{c.confiscated:,.2f}元")
    return (
        DocumentKind.DECISION,
        "行政处罚决定书",
        [
            f"{c.decision_no}",
            f"当事人：{c.entity.name}　统一社会信用代码：{c.entity.uscc or '—'}　住所：{c.entity.address or '—'}",
            f"本局于{c.filed_on:%Y年%m月%d日}对当事人{c.title}一案立案调查（案件编号 {c.number}）。"
            if c.filed_on
            else "",
            f"经查：{c.facts or c.title}",
            f"依据{c.legal_basis}，本局决定：{'；'.join(amounts)}。",
            "当事人应当自收到本决定书之日起十五日内缴纳罚款。逾期不缴纳的，每日按罚款数额的百分之三加处罚款。",
            "如不服本决定，可以在收到本决定书之日起六十日内依法申请行政复议，或者在六个月内依法向人民法院提起行政诉讼。",
        ],
    )


def signed(obj: Complaint | Case, user: Any) -> SignedDocument:
    """The signed document of a filing (its acceptance decision) or a case (its penalty decision), made once."""
    kind, title, lines = complaint_notice(obj) if isinstance(obj, Complaint) else decision(obj)
    found = SignedDocument.objects.filter(kind=kind, **{_field(obj): obj}).first()
    if found is not None:
        return found
    issuer = _issuer(obj.department)
    data = signing.sign_pdf(render_pdf(title, [x for x in lines if x], issuer), reason=title, location=issuer)
    verdict = signing.verify_pdf(data)
    with transaction.atomic():
        doc = SignedDocument(
            kind=kind,
            signer=verdict.signer[:200],
            signed_at=verdict.signed_at or timezone.now(),
            created_by=user,
            **{_field(obj): obj},
        )
        doc.sha256 = stored.save(doc.file, f"{kind}-{obj.pk}.pdf", data)
        doc.save()
        audit.record(
            "create",
            object_type="cases.signeddocument",
            object_id=str(doc.pk),
            object_repr=f"{title} {obj}",
            after={"kind": kind, "sha256": doc.sha256, "signer": doc.signer},
            actor=user,
        )
    return doc


def _field(obj: Complaint | Case) -> str:
    return "complaint" if isinstance(obj, Complaint) else "case"
