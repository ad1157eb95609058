"""The signed documents (电子签章): rendered to PDF (``render``, the Chinese font embedded), signed with the bureau's
key (``cases.signing``) and kept once with their SHA-256.

Of a filing: 受理/不予受理通知书; of a case: 立案审批表 and 行政处罚决定书 (``casefile``); of an inspection visit:
检查通知书 and 现场检查记录 (``inspection``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from shijian.cases import signing
from shijian.cases.documents import casefile, inspection
from shijian.cases.documents.casefile import Content, DocumentError
from shijian.cases.documents.render import DOCUMENT_FONT, render_pdf
from shijian.cases.models import Case, Complaint, DocumentKind, SignedDocument
from shijian.core import audit
from shijian.files import stored
from shijian.supervision.models import Visit

__all__ = ["DOCUMENT_FONT", "DocumentError", "kept", "render_pdf", "signed"]

Owner = Complaint | Case | Visit

# the kinds of document each owner has, and how its content is written
CONTENT: dict[str, Callable[[Any], Content]] = {
    DocumentKind.NOTICE: inspection.notice,
    DocumentKind.RECORD: inspection.record,
    DocumentKind.FILING: casefile.filing,
    DocumentKind.DECISION: casefile.decision,
}
VISIT_KINDS = (DocumentKind.NOTICE, DocumentKind.RECORD)
CASE_KINDS = (DocumentKind.FILING, DocumentKind.DECISION)


def _field(obj: Owner) -> str:
    return "complaint" if isinstance(obj, Complaint) else "case" if isinstance(obj, Case) else "visit"


def _issuer(obj: Owner) -> str:
    if isinstance(obj, Visit):
        return str(obj.draw.plan.department.name)
    return str(obj.department.name)


def _content(obj: Owner, kind: str | None) -> Content:
    if isinstance(obj, Complaint):
        return casefile.complaint_notice(obj)
    if kind is None:
        kind = DocumentKind.DECISION if isinstance(obj, Case) else DocumentKind.NOTICE
    if kind not in (VISIT_KINDS if isinstance(obj, Visit) else CASE_KINDS):
        raise DocumentError(f"{kind} is not a document of {_field(obj)}")
    return CONTENT[kind](obj)


def kept(obj: Owner, kind: str) -> SignedDocument | None:
    """The signed document of this kind already made for the object, if any."""
    return SignedDocument.objects.filter(kind=kind, **{_field(obj): obj}).first()


def signed(obj: Owner, user: Any, kind: str | None = None) -> SignedDocument:
    """The signed document of a filing (its acceptance decision), a case (``kind`` filing, or its penalty decision
    by default) or a visit (``kind`` notice, the default, or record), made once and kept."""
    kind_, title, blocks = _content(obj, kind)
    found = kept(obj, kind_)
    if found is not None:
        return found
    issuer = _issuer(obj)
    data = signing.sign_pdf(render_pdf(title, [b for b in blocks if b], issuer), reason=title, location=issuer)
    verdict = signing.verify_pdf(data)
    try:
        with transaction.atomic():
            doc = SignedDocument(
                kind=kind_,
                signer=verdict.signer[:200],
                signed_at=verdict.signed_at or timezone.now(),
                created_by=user,
                **{_field(obj): obj},
            )
            doc.sha256 = stored.save(doc.file, f"{kind_}-{obj.pk}.pdf", data)
            doc.save()
            audit.record(
                "create",
                object_type="cases.signeddocument",
                object_id=str(doc.pk),
                object_repr=f"{title} {obj}",
                after={"kind": kind_, "sha256": doc.sha256, "signer": doc.signer, _field(obj): obj.pk},
                actor=user,
            )
    except IntegrityError:  # made at the same moment by another request: that one is kept
        doc.file.delete(save=False)
        again = kept(obj, kind_)
        if again is None:
            raise
        return again
    return doc
