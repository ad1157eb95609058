"""Staff screens of complaints (维权) and enforcement cases (执法): lists, intake, 12315 import, a file with its
diagram and the form of its current step, evidence."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shijian.cases import complaints, enforcement, engine, signed_views, steps
from shijian.cases.forms import CaseForm, EvidenceForm, ImportForm, StaffComplaintForm, StepForm
from shijian.cases.models import Case, Complaint, Evidence
from shijian.core import audit
from shijian.core.jurisdiction import choices, restrict
from shijian.core.permissions import allowed, require
from shijian.files import stored
from shijian.registry.models import Department, Entity
from shijian.web.pagination import BoundedPaginator
from shijian.web.tabular import TableError, read_table

# the columns of a 12315 export (登记表), as the platform names them
IMPORT_COLUMNS = {
    "external_no": "登记编号",
    "kind": "类型",
    "complainant_name": "投诉人",
    "complainant_phone": "联系电话",
    "entity_name": "被投诉人",
    "entity_uscc": "统一社会信用代码",
    "entity_address": "被投诉人地址",
    "subject": "主题",
    "content": "内容",
    "amount": "涉及金额",
}
KIND_WORDS = {"投诉": "complaint", "举报": "report"}


def _one(qs: Any, pk: int) -> Any:
    obj = qs.filter(pk=pk).first()
    if obj is None:
        raise Http404
    return obj


# -- complaints ----------------------------------------------------------------------------------------------


@login_required
def complaint_list(request: HttpRequest) -> HttpResponse:
    require(request.user, "complaint", "view")
    qs = restrict(Complaint.objects.all(), request.user).select_related("department", "entity", "process")
    state = request.GET.get("state", "")
    if state == "open":
        qs = qs.filter(closed_at__isnull=True)
    page = BoundedPaginator(qs.order_by("-received_at", "-id"), 50).get_page(request.GET.get("page"))
    rows = [(c, complaints.person(request.user, c)) for c in page.object_list]
    return render(
        request,
        "cases/complaint_list.html",
        {
            "page": page,
            "rows": rows,
            "state": state,
            "can_add": allowed(request.user, "complaint", "add"),
            "can_import": allowed(request.user, "complaint", "import"),
        },
    )


@login_required
def complaint_add(request: HttpRequest) -> HttpResponse:
    require(request.user, "complaint", "add")
    form = StaffComplaintForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            c = complaints.file(
                complaints.Filing(
                    kind=d["kind"],
                    channel=d["channel"],
                    complainant_name=d["complainant_name"],
                    complainant_phone=d["complainant_phone"],
                    entity_name=d["entity_name"],
                    entity_uscc=d["entity_uscc"],
                    entity_address=d["entity_address"],
                    subject=d["subject"],
                    content=d["content"],
                    amount=d["amount"],
                ),
                request.user,
            )
        except complaints.ComplaintError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Registered with receipt number %(no)s.") % {"no": c.receipt_no})
            if restrict(Complaint.objects.filter(pk=c.pk), request.user).exists():
                return redirect(c)
            return redirect("complaint_list")
    return render(request, "cases/form.html", {"form": form, "title": _("Register a complaint or report")})


def _filing_from_row(row: dict[str, str]) -> complaints.Filing:
    get = {k: row.get(col, "").strip() for k, col in IMPORT_COLUMNS.items()}
    kind = KIND_WORDS.get(get["kind"], get["kind"])
    amount: Decimal | None = None
    if get["amount"]:
        try:
            amount = Decimal(get["amount"].replace(",", ""))
        except InvalidOperation:
            raise complaints.ComplaintError(_("the amount is not a number")) from None
    for k in ("external_no", "complainant_phone", "entity_name", "subject"):
        if not get[k]:
            raise complaints.ComplaintError(_("%(column)s is empty") % {"column": IMPORT_COLUMNS[k]})
    return complaints.Filing(
        kind=kind,
        channel="12315",
        complainant_name=get["complainant_name"] or "—",
        complainant_phone=get["complainant_phone"],
        entity_name=get["entity_name"],
        entity_uscc=get["entity_uscc"],
        entity_address=get["entity_address"],
        subject=get["subject"],
        content=get["content"] or get["subject"],
        amount=amount,
        external_no=get["external_no"],
    )


@login_required
def complaint_import(request: HttpRequest) -> HttpResponse:
    """A 12315 export: every row checked first; rows already imported (by 登记编号) are skipped."""
    require(request.user, "complaint", "import")
    form = ImportForm(request.POST or None, request.FILES or None)
    report: dict[str, Any] | None = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        errors: list[str] = []
        filings: list[complaints.Filing] = []
        try:
            _header, rows = read_table(upload.name, upload.read(), max_rows=5000)
        except TableError as exc:
            form.add_error("file", str(exc))
            rows = []
        for line, row in rows:
            try:
                filings.append(_filing_from_row(row))
            except complaints.ComplaintError as exc:
                errors.append(_("line %(n)d: %(e)s") % {"n": line, "e": exc})
        if errors:
            report = {"errors": errors}
        elif rows:
            known = set(
                Complaint.objects.filter(external_no__in=[f.external_no for f in filings]).values_list(
                    "external_no", flat=True
                )
            )
            added = 0
            for f in filings:
                if f.external_no in known:
                    continue
                complaints.file(f, request.user)
                known.add(f.external_no)
                added += 1
            audit.record(
                "import",
                object_type="cases.complaint",
                object_repr=upload.name[:200],
                after={"rows": len(filings), "added": added, "skipped": len(filings) - added},
            )
            report = {"added": added, "skipped": len(filings) - added}
    return render(request, "cases/import.html", {"form": form, "report": report, "columns": IMPORT_COLUMNS.values()})


def _step_form(request: HttpRequest, step: str, user: Any) -> StepForm:
    form = StepForm(request.POST or None)
    if step in steps.CHOICES:
        decision = form.fields["decision"]
        assert isinstance(decision, forms.ChoiceField)
        decision.choices = steps.CHOICES[step][1]
        decision.required = True
    if step == "triage":
        form.fields["department"].widget.choices = [  # type: ignore[attr-defined]
            (d.pk, d.name) for d in choices(Department.objects.filter(active=True), user).order_by("code")
        ]
    for name in list(form.fields):
        if name not in steps.fields_for(step):
            del form.fields[name]
    return form


def _diagram(instance: Any) -> dict[str, Any]:
    if instance is None:
        return {}
    return {"diagram_xml": instance.definition.xml, "diagram_marks": engine.highlight(instance)}


@login_required
def complaint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, "complaint", "view")
    c = _one(restrict(Complaint.objects.all(), request.user).select_related("process__definition", "entity"), pk)
    may_act = restrict(Complaint.objects.filter(pk=c.pk), request.user, "change").exists()
    step = c.process.current if c.process and not c.process.completed else ""
    form = _step_form(request, step, request.user) if may_act and step else None
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            complaints.act(
                c, step, steps.data_from(step, form.cleaned_data), request.user, form.cleaned_data.get("note", "")
            )
        except complaints.ComplaintError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Step recorded."))
            return redirect(c)
    history = list(c.process.steps.select_related("actor").order_by("at", "id")) if c.process else []
    return render(
        request,
        "cases/complaint_detail.html",
        {
            "c": c,
            "person": complaints.person(request.user, c),
            "form": form,
            "history": history,
            "cases": restrict(Case.objects.filter(complaint=c), request.user),
            **_diagram(c.process),
        },
    )


# -- cases -----------------------------------------------------------------------------------------------------


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    require(request.user, "case", "view")
    qs = restrict(Case.objects.all(), request.user).select_related("entity", "department", "process")
    page = BoundedPaginator(qs.order_by("-created_at", "-id"), 50).get_page(request.GET.get("page"))
    return render(request, "cases/case_list.html", {"page": page, "can_add": allowed(request.user, "case", "add")})


@login_required
def case_add(request: HttpRequest) -> HttpResponse:
    """A case by hand: a lead on an entity of the user's jurisdiction."""
    require(request.user, "case", "add")
    form = CaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        entity = restrict(Entity.objects.all(), request.user).filter(uscc=d["uscc"].strip().upper()).first()
        if entity is None:
            form.add_error("uscc", _("No entity with this code in your jurisdiction."))
        else:
            c = enforcement.open_case(entity, source="manual", title=d["title"], facts=d["facts"], user=request.user)
            return redirect(c)
    return render(request, "cases/form.html", {"form": form, "title": _("Open an enforcement case")})


@login_required
@require_POST
def case_from_hazard(request: HttpRequest, pk: int) -> HttpResponse:
    from shijian.hazards.models import Hazard

    require(request.user, "case", "add")
    h = _one(restrict(Hazard.objects.all(), request.user, "change"), pk)
    try:
        c = enforcement.from_hazard(h, request.user)
    except enforcement.CaseError as exc:
        messages.error(request, str(exc))
        return redirect(h)
    return redirect(c)


@login_required
@require_POST
def case_from_check(request: HttpRequest, check_pk: int) -> HttpResponse:
    """From an inspection result with a finding, one step to a case (its lead)."""
    from shijian.supervision.models import Visit, VisitItem

    require(request.user, "case", "add")
    visits = restrict(Visit.objects.all(), request.user).values("pk")
    check = _one(VisitItem.objects.filter(visit__in=visits).select_related("visit__entity", "item"), check_pk)
    existing = restrict(Case.objects.filter(visit_item=check), request.user).first()
    if existing is not None:
        return redirect(existing)
    try:
        c = enforcement.from_finding(check, request.user)
    except enforcement.CaseError as exc:
        messages.error(request, str(exc))
        return redirect(check.visit)
    return redirect(c)


@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, "case", "view")
    c = _one(restrict(Case.objects.all(), request.user).select_related("process__definition", "entity"), pk)
    may_act = restrict(Case.objects.filter(pk=c.pk), request.user, "change").exists()
    step = c.process.current if c.process and not c.process.completed else ""
    form = _step_form(request, step, request.user) if may_act and step else None
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            enforcement.act(
                c, step, steps.data_from(step, form.cleaned_data), request.user, form.cleaned_data.get("note", "")
            )
        except enforcement.CaseError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Step recorded."))
            return redirect(c)
    history = list(c.process.steps.select_related("actor").order_by("at", "id")) if c.process else []
    return render(
        request,
        "cases/case_detail.html",
        {
            "c": c,
            "form": form,
            "history": history,
            "evidence": list(c.evidence.all()),
            "evidence_form": EvidenceForm() if may_act else None,
            "signed_rows": signed_views.section(c, may_act and allowed(request.user, "case", "change")),
            **_diagram(c.process),
        },
    )


@login_required
@require_POST
def evidence_add(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, "case", "change")
    c = _one(restrict(Case.objects.all(), request.user, "change"), pk)
    form = EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        f = form.cleaned_data["file"]
        try:
            enforcement.add_evidence(
                c,
                name=f.name,
                data=f.read(),
                content_type=f.content_type or "",
                user=request.user,
                description=form.cleaned_data["description"],
            )
        except enforcement.CaseError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Evidence stored."))
    else:
        messages.error(request, _("Choose a file."))
    return redirect(c)


@login_required
def evidence_get(request: HttpRequest, pk: int) -> HttpResponseBase:
    require(request.user, "case", "view")
    ev = _one(restrict(Evidence.objects.all(), request.user), pk)
    response = stored.serve(request, ev.file, ev.sha256, object_type="cases.evidence", object_id=ev.pk,
                            filename=ev.name, content_type=ev.content_type)  # fmt: skip
    if response.status_code == 200:
        audit.record("view", object_type="cases.evidence", object_id=str(ev.pk), object_repr=ev.name)
    return response


# -- signed documents ------------------------------------------------------------------------------------------


def _document_response(request: HttpRequest, obj: Complaint | Case) -> HttpResponseBase:
    from shijian.cases import documents, signing

    try:
        doc = documents.signed(obj, request.user)
    except documents.DocumentError as exc:
        raise Http404(str(exc)) from None
    except signing.SigningError as exc:
        messages.error(request, str(exc))
        return redirect(obj)
    response = stored.serve(request, doc.file, doc.sha256, object_type="cases.signeddocument", object_id=doc.pk,
                            filename=f"{doc.kind}-{obj.pk}.pdf", content_type="application/pdf")  # fmt: skip
    if response.status_code == 200:
        audit.record("view", object_type="cases.signeddocument", object_id=str(doc.pk), object_repr=str(doc))
    return response


@login_required
def complaint_notice(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The signed 受理/不予受理通知书 (404 until the decision is made)."""
    require(request.user, "complaint", "view")
    return _document_response(request, _one(restrict(Complaint.objects.all(), request.user), pk))


@login_required
def case_decision(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The signed 行政处罚决定书 (404 until a penalty is decided)."""
    require(request.user, "case", "view")
    return _document_response(request, _one(restrict(Case.objects.all(), request.user).select_related("entity"), pk))
