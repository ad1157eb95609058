"""The signed documents of a visit (检查通知书, 现场检查记录) and of a case (立案审批表): made (POST) by those who may
change the visit or case, downloaded (GET) by those who may view it; each request audited."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shijian.cases import documents, signing
from shijian.cases.models import Case, DocumentKind, SignedDocument
from shijian.core import audit
from shijian.core.jurisdiction import restrict
from shijian.core.permissions import require
from shijian.files import stored
from shijian.supervision.models import Visit

VISIT_FORMS = {"notice": DocumentKind.NOTICE, "record": DocumentKind.RECORD}


def _one(model: Any, kind: str, request: HttpRequest, pk: int, action: str) -> Any:
    require(request.user, kind, action)
    obj = restrict(model.objects.all(), request.user, action).filter(pk=pk).distinct().first()
    if obj is None:
        raise Http404
    return obj


def _visit_kind(form: str) -> str:
    if form not in VISIT_FORMS:
        raise Http404
    return VISIT_FORMS[form]


def _download(request: HttpRequest, obj: Visit | Case, kind: str) -> HttpResponseBase:
    doc = documents.kept(obj, kind)
    if doc is None:
        messages.error(request, _("This document has not been signed yet."))
        return redirect(obj)
    name = str(doc.file.name).rsplit("/", 1)[-1]
    response = stored.serve(request, doc.file, doc.sha256, object_type="cases.signeddocument", object_id=doc.pk,
                            filename=name, content_type="application/pdf")  # fmt: skip
    if response.status_code == 200:
        audit.record("view", object_type="cases.signeddocument", object_id=str(doc.pk), object_repr=str(doc))
    return response


def _sign(request: HttpRequest, obj: Visit | Case, kind: str) -> HttpResponse:
    try:
        doc = documents.signed(obj, request.user, kind)
    except documents.DocumentError as exc:
        messages.error(request, str(exc))
    except signing.SigningError as exc:
        messages.error(request, str(exc))
    else:
        label = dict(SignedDocument._meta.get_field("kind").flatchoices).get(doc.kind, doc.kind)
        messages.success(request, _("%(document)s signed and kept.") % {"document": label})
    return redirect(obj)


@login_required
def visit_document(request: HttpRequest, pk: int, form: str) -> HttpResponseBase:
    """The signed 检查通知书 or 现场检查记录 of a visit the user may see."""
    return _download(request, _one(Visit, "visit", request, pk, "view"), _visit_kind(form))


@login_required
@require_POST
def visit_document_sign(request: HttpRequest, pk: int, form: str) -> HttpResponse:
    """Sign the visit's 检查通知书 (any time) or 现场检查记录 (once its results are recorded)."""
    return _sign(request, _one(Visit, "visit", request, pk, "change"), _visit_kind(form))


@login_required
def case_filing(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The signed 立案审批表 of a case the user may see."""
    return _download(request, _one(Case, "case", request, pk, "view"), DocumentKind.FILING)


@login_required
@require_POST
def case_filing_sign(request: HttpRequest, pk: int) -> HttpResponse:
    """Sign the case's 立案审批表 (once it is filed)."""
    return _sign(request, _one(Case, "case", request, pk, "change"), DocumentKind.FILING)


def section(obj: Visit | Case, may_change: bool) -> list[dict[str, Any]]:
    """The rows of a page's 签章文书 section: each document, kept or not, and whether it may be signed now."""
    from django.urls import reverse

    docs = {d.kind: d for d in obj.documents.all()}
    if isinstance(obj, Visit):
        recorded = obj.checked_on is not None and obj.status != "assigned"
        rows = [
            (DocumentKind.NOTICE, True, "notice", _("Any time after the visit is created.")),
            (DocumentKind.RECORD, recorded, "record", _("Once the results are recorded.")),
        ]
        links = {
            k: (reverse("visit_document", args=[obj.pk, f]), reverse("visit_document_sign", args=[obj.pk, f]))
            for k, _ready, f, _when in rows
        }
    else:
        rows = [(DocumentKind.FILING, obj.filed_on is not None, "filing", _("Once the case is filed."))]
        links = {
            DocumentKind.FILING: (reverse("case_filing", args=[obj.pk]), reverse("case_filing_sign", args=[obj.pk]))
        }
    return [
        {
            "kind": kind,
            "label": DocumentKind(kind).label,
            "doc": docs.get(kind),
            "ready": ready,
            "when": when,
            "download": links[kind][0],
            "sign": links[kind][1] if may_change and ready and kind not in docs else "",
        }
        for kind, ready, _form, when in rows
    ]
