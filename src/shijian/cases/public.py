"""互联网+维权, the public side: file a complaint or report without an account, and follow it by receipt number and
telephone. Throttled per client address; CSRF-protected; nothing of another filing is ever shown."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_protect

from shijian.cases import complaints
from shijian.cases.forms import PublicComplaintForm, StatusForm
from shijian.core.request_context import client_ip
from shijian.web import throttle

FILINGS_PER_HOUR = 10
QUERIES_PER_HOUR = 30


def _throttled(request: HttpRequest, kind: str, limit: int) -> bool:
    return not throttle.allow(kind, client_ip(request), limit, 3600)


@csrf_protect
def complaint_form(request: HttpRequest) -> HttpResponse:
    form = PublicComplaintForm(request.POST or None)
    if request.method == "POST":
        if _throttled(request, "complaint", FILINGS_PER_HOUR):
            form.add_error(None, _("Too many filings from your address; try again in an hour or call 12315."))
        elif form.is_valid():
            d = form.cleaned_data
            try:
                c = complaints.file(
                    complaints.Filing(
                        kind=d["kind"],
                        channel="web",
                        complainant_name=d["complainant_name"],
                        complainant_phone=d["complainant_phone"],
                        entity_name=d["entity_name"],
                        entity_uscc=d["entity_uscc"],
                        entity_address=d["entity_address"],
                        subject=d["subject"],
                        content=d["content"],
                        amount=d["amount"],
                    )
                )
            except complaints.ComplaintError as exc:
                form.add_error(None, str(exc))
            else:
                request.session["complaint_receipt"] = c.receipt_no
                return redirect("public_complaint_done")
    return render(request, "cases/public_form.html", {"form": form})


def complaint_done(request: HttpRequest) -> HttpResponse:
    receipt = request.session.get("complaint_receipt", "")
    if not receipt:
        return redirect("public_complaint")
    return render(request, "cases/public_done.html", {"receipt": receipt})


@csrf_protect
def complaint_status(request: HttpRequest) -> HttpResponse:
    form = StatusForm(request.POST or None)
    found = None
    if request.method == "POST":
        if _throttled(request, "complaint-status", QUERIES_PER_HOUR):
            form.add_error(None, _("Too many queries from your address; try again in an hour."))
        elif form.is_valid():
            found = complaints.public_lookup(form.cleaned_data["receipt_no"], form.cleaned_data["phone"])
            if found is None:
                form.add_error(None, _("No filing matches this receipt number and telephone."))
    return render(request, "cases/public_status.html", {"form": form, "c": found})


VERIFICATIONS_PER_HOUR = 60
MAX_VERIFY_BYTES = 20 * 1024 * 1024


@csrf_protect
def verify_document(request: HttpRequest) -> HttpResponse:
    """Upload a PDF: whether it carries the bureau's valid signature, who signed it, when, and whether it is
    unchanged since. Nothing is stored."""
    from shijian.cases import signing
    from shijian.cases.forms import VerifyForm

    form = VerifyForm(request.POST or None, request.FILES or None)
    verdict = None
    if request.method == "POST":
        if _throttled(request, "verify", VERIFICATIONS_PER_HOUR):
            form.add_error(None, _("Too many queries from your address; try again in an hour."))
        elif form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > MAX_VERIFY_BYTES:
                form.add_error("file", _("A file may be at most 20 MB."))
            else:
                verdict = signing.verify_pdf(upload.read())
    return render(request, "cases/public_verify.html", {"form": form, "verdict": verdict})
