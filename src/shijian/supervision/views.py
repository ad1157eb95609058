"""Screens of 双随机 for officials and inspectors (thin: the use cases live in ``services``)."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, F, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from shijian.cases import signed_views
from shijian.core import audit
from shijian.core.jurisdiction import in_jurisdiction, restrict
from shijian.core.permissions import allowed, require
from shijian.files import stored
from shijian.jobs.runner import enqueue
from shijian.registry.models import Entity
from shijian.registry.search import entity_q
from shijian.supervision import masking, services
from shijian.supervision.draw import DrawError
from shijian.supervision.forms import (
    OUTCOME_CHOICES,
    AttachmentForm,
    BatchForm,
    FreezeForm,
    PlanForm,
    SeedForm,
    display_name,
)
from shijian.supervision.models import (
    FINDING_OUTCOMES,
    Attachment,
    Batch,
    Draw,
    Plan,
    SeedMethod,
    Visit,
    VisitItem,
    VisitStatus,
)
from shijian.web.pagination import BoundedPaginator
from shijian.web.params import BadParameter, id_value


@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    require(request.user, "plan", "view")
    plans = restrict(Plan.objects.all(), request.user).select_related("department").annotate(n_batches=Count("batches"))
    return render(
        request,
        "supervision/plan_list.html",
        {"plans": plans[:500], "can_add": allowed(request.user, "plan", "add")},
    )


@login_required
def plan_add(request: HttpRequest) -> HttpResponse:
    require(request.user, "plan", "add")
    form = PlanForm(request.POST or None, user=request.user, initial={"year": timezone.localdate().year})
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            plan = form.save(commit=False)
            plan.created_by = request.user
            plan.save()
            audit.record(
                "create",
                object_type="supervision.plan",
                object_id=str(plan.pk),
                object_repr=str(plan),
                after=audit.snapshot(plan),
            )
        return redirect(plan)
    return render(request, "supervision/form.html", {"form": form, "title": _("New plan")})


@login_required
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, "plan", "view")
    plan = get_object_or_404(restrict(Plan.objects.all(), request.user).select_related("department"), pk=pk)
    can_change = restrict(Plan.objects.all(), request.user, "change").filter(pk=pk).exists()
    freeze = FreezeForm(plan=plan, initial={"seed_method": SeedMethod.BEACON, "prefer_region": True})
    return render(
        request,
        "supervision/plan_detail.html",
        {
            "plan": plan,
            "batches": plan.batches.select_related("department", "draw").prefetch_related("items"),
            "draws": plan.draws.all(),
            "can_change": can_change,
            "freeze": freeze,
        },
    )


def _changeable_plan(request: HttpRequest, pk: int) -> Plan:
    require(request.user, "plan", "change")
    return get_object_or_404(restrict(Plan.objects.all(), request.user, "change"), pk=pk)


@login_required
def batch_add(request: HttpRequest, plan_pk: int) -> HttpResponse:
    plan = _changeable_plan(request, plan_pk)
    form = BatchForm(request.POST or None, plan=plan, user=request.user)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            batch = form.save()
            audit.record(
                "create",
                object_type="supervision.batch",
                object_id=str(batch.pk),
                object_repr=str(batch),
                after=audit.snapshot(batch),
            )
        messages.success(request, _("Batch %(code)s saved.") % {"code": batch.code})
        return redirect(plan)
    return render(
        request, "supervision/form.html", {"form": form, "title": _("New batch of %(plan)s") % {"plan": plan}}
    )


@login_required
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, "plan", "view")
    batch = get_object_or_404(
        restrict(Batch.objects.all(), request.user).select_related("plan", "department", "draw"), pk=pk
    )
    return render(
        request, "supervision/batch_detail.html", {"batch": batch, "items": batch.items.select_related("category")}
    )


@login_required
def freeze(request: HttpRequest, plan_pk: int) -> HttpResponse:
    plan = _changeable_plan(request, plan_pk)
    if request.method != "POST":
        return redirect(plan)
    form = FreezeForm(request.POST, plan=plan)
    if not form.is_valid():
        for field, errs in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label} {' '.join(str(e) for e in errs)}")
        return redirect(plan)
    d = form.cleaned_data
    try:  # what can be refused at once is refused here, not after a trip through the queue
        services.check_seed_plan(
            d["seed_method"], d["beacon_source"], [d["commitment_1"], d["commitment_2"]], d["beacon_at"]
        )
    except DrawError as exc:
        messages.error(request, str(exc))
        return redirect(plan)
    # freezing a Foshan-scale batch takes longer than a request; the worker does it.
    job = enqueue(
        "freeze",
        {
            "batch_ids": [b.pk for b in d["batches"]],
            "seed_method": d["seed_method"],
            "beacon_source": d["beacon_source"],
            "beacon_at": d["beacon_at"].isoformat() if d["beacon_at"] else None,
            "commitments": [d["commitment_1"], d["commitment_2"]],
            "prefer_region": d["prefer_region"],
        },
        request.user,
    )
    messages.info(request, _("Freezing runs as a job; this page shows its progress and links to the draw."))
    return redirect(job)


@login_required
def draw_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, "draw", "view")
    draw = get_object_or_404(restrict(Draw.objects.all(), request.user).select_related("plan"), pk=pk)
    can_draw = draw.status == "frozen" and restrict(Draw.objects.all(), request.user, "change").filter(pk=pk).exists()
    form = SeedForm(request.POST or None)
    if request.method == "POST":
        if not can_draw:
            raise PermissionDenied
        if form.is_valid():
            d = form.cleaned_data
            try:  # refused at once (e.g. before the announced time), not after a trip through the queue
                services.check_seed(draw, d["public_value"], [d["secret_1"], d["secret_2"]])
            except DrawError as exc:
                messages.error(request, str(exc))
                return redirect(draw)
            # the draw runs as a job; its page links back to the draw.
            job = enqueue(
                "draw",
                {"draw_id": draw.pk, "public_value": d["public_value"], "secrets": [d["secret_1"], d["secret_2"]]},
                request.user,
            )
            messages.info(request, _("The draw runs as a job; this page shows its progress and links to the draw."))
            return redirect(job)
    # Only the visits in the user's jurisdiction (a district draw spans towns), names masked as on the public page
    # where the viewer may not see the officer or the entity.
    visits = (
        restrict(draw.visits.all(), request.user)
        .select_related("entity")
        .prefetch_related("members__inspector__department")
        .order_by("entity_key")
    )
    page = BoundedPaginator(visits, 50).get_page(request.GET.get("page"))
    rows = masking.visit_rows(list(page.object_list), request.user)
    reasons = masking.visible_reasons(draw, request.user)
    whole = in_jurisdiction(request.user, draw.plan.region_code)
    return render(
        request,
        "supervision/draw_detail.html",
        {
            "draw": draw,
            "batches": draw.batches.all(),
            "form": form,
            "can_draw": can_draw,
            "page": page,
            "rows": rows,
            "reasons": reasons,
            "reasons_total": draw.last_attempt.get("visits") if whole else None,
            "querystring": "",
        },
    )


@login_required
def draw_staff_file(request: HttpRequest, pk: int, name: str) -> FileResponse:
    """The full record (certificates, conflict pairs, teams) and the full candidate lists (codes, classes, salts):
    for staff who may see the draw, never for the public."""
    require(request.user, "draw", "view")
    draw = get_object_or_404(restrict(Draw.objects.all(), request.user), pk=pk)
    allowed = {services.FULL_RECORD} | {f"{b.code}.candidates.full.csv" for b in draw.batches.all()}
    path = services.draw_dir(draw.code) / name
    if name not in allowed or not path.exists():
        raise Http404
    ctype = "application/json" if name.endswith(".json") else "text/csv; charset=utf-8"
    return FileResponse(path.open("rb"), content_type=ctype, filename=name)


@login_required
def task_list(request: HttpRequest) -> HttpResponse:
    require(request.user, "visit", "view")
    qs = (
        restrict(Visit.objects.all(), request.user)
        .select_related("entity", "draw")
        .order_by("status", "window_end", "entity_key")
    )
    status = request.GET.get("status", "")
    if status in VisitStatus.values:
        qs = qs.filter(status=status)
    due = request.GET.get("due", "")
    if due in services.DUE:
        qs = qs.filter(services.due_q(due, timezone.localdate()))
    term = request.GET.get("q", "").strip()
    if term:
        qs = qs.filter(Q(draw__code=term) | Q(entity__in=Entity.objects.filter(entity_q(term)).values("pk")))
    page = BoundedPaginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "supervision/task_list.html",
        {
            "page": page,
            "status": status,
            "q": term,
            "statuses": VisitStatus.choices,
            "due": due if due in services.DUE else "",
            "dues": [
                ("today", _("window open today")),
                ("late", _("window passed, not checked")),
                ("unpublished", _("checked, not yet published")),
                ("publish_late", _("past the publication deadline")),
            ],
            "querystring": urlencode({k: v for k, v in (("status", status), ("due", due), ("q", term)) if v}),
        },
    )


def _visit(request: HttpRequest, pk: int, action: str = "view") -> Visit:
    require(request.user, "visit", action)
    return get_object_or_404(
        restrict(Visit.objects.all(), request.user, action).select_related("entity", "draw").distinct(), pk=pk
    )


@login_required
def visit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    visit = _visit(request, pk)
    may_change = restrict(Visit.objects.all(), request.user, "change").filter(pk=pk).exists()
    can_record = visit.status != VisitStatus.PUBLISHED and may_change
    checks = list(visit.checks.select_related("item__category", "batch"))
    if request.method == "POST":
        if not can_record:
            raise PermissionDenied
        return _answer(request, visit, _submit(request, visit, checks))
    return render(
        request,
        "supervision/visit_detail.html",
        {
            "visit": visit,
            "checks": checks,
            "members": visit.members.select_related("inspector__department"),
            "departments": visit.departments.all(),
            "attachments": visit.attachments.all(),
            "can_record": can_record,
            "outcomes": OUTCOME_CHOICES,
            "upload": AttachmentForm(),
            "findings": FINDING_OUTCOMES,
            "can_open_hazard": allowed(request.user, "hazard", "add"),
            "can_open_case": allowed(request.user, "case", "add"),
            "today": timezone.localdate().isoformat(),
            "signed_rows": signed_views.section(visit, may_change and allowed(request.user, "visit", "change")),
        },
    )


def _submit(request: HttpRequest, visit: Visit, checks: list[VisitItem]) -> services.Submitted:
    results = {}
    for c in checks:
        outcome = request.POST.get(f"outcome-{c.pk}", "")
        if outcome and outcome not in dict(OUTCOME_CHOICES):
            return services.Submitted(False, str(_("Unknown result.")))
        results[c.pk] = (outcome, request.POST.get(f"note-{c.pk}", "").strip()[:2000])
    try:
        checked_on = dt.date.fromisoformat(request.POST.get("checked_on", ""))
    except ValueError:
        return services.Submitted(False, str(_("Give the date of the check (YYYY-MM-DD).")))
    raw_key = request.POST.get("submission_key", "")
    try:
        key = uuid.UUID(raw_key) if raw_key else None
    except ValueError:
        raise BadParameter(_("The submission key is not a UUID.")) from None
    return services.submit_results(visit, results, checked_on, request.user, key)


def _answer(request: HttpRequest, visit: Visit, outcome: services.Submitted) -> HttpResponse:
    """A form sent by the page's offline queue (it asks for JSON) gets the outcome; a plain form a redirect."""
    if "application/json" in request.headers.get("Accept", ""):
        body = {"ok": outcome.ok, "message": outcome.message, "replayed": outcome.replayed}
        return JsonResponse(body, status=200 if outcome.ok else 400)
    (messages.success if outcome.ok else messages.error)(request, outcome.message)
    return redirect(visit)


@login_required
def visit_print(request: HttpRequest, pk: int, form: str) -> HttpResponse:
    visit = _visit(request, pk)
    if form not in ("notice", "record"):
        raise Http404
    return render(
        request,
        f"supervision/print_{form}.html",
        {
            "visit": visit,
            "checks": visit.checks.select_related("item"),
            "members": visit.members.select_related("inspector__department"),
            "departments": visit.departments.all(),
        },
    )


@login_required
def attachment_add(request: HttpRequest, pk: int) -> HttpResponse:
    visit = _visit(request, pk, "change")
    if request.method != "POST":
        return redirect(visit)
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        for err in form.errors.get("file", []):
            messages.error(request, str(err))
        return redirect(visit)
    f = form.cleaned_data["file"]
    digest = hashlib.sha256()
    for chunk in f.chunks():
        digest.update(chunk)
    f.seek(0)
    with transaction.atomic():
        att = Attachment(
            visit=visit,
            name=f.display_name,
            content_type=f.detected_type,
            size=f.size,
            uploaded_by=request.user,  # type: ignore[misc]
            **_where_and_when(form.cleaned_data),
        )
        att.sha256 = stored.save(att.file, f"{digest.hexdigest()[:16]}{_suffix(f.detected_type)}", f)
        att.save()
        audit.record(
            "create",
            object_type="supervision.attachment",
            object_id=str(att.pk),
            object_repr=att.name,
            after={"sha256": att.sha256, "size": att.size},
            reason="evidence uploaded",
        )
    messages.success(request, _("Attachment saved."))
    return redirect(visit)


def _where_and_when(data: dict[str, Any]) -> dict[str, Any]:
    """The device's capture time (never in the future) and place; a place needs both coordinates."""
    taken = data.get("taken_at")
    now = timezone.now()
    out: dict[str, Any] = {"taken_at": min(taken, now) if taken else now}
    if data.get("latitude") is not None and data.get("longitude") is not None:
        out |= {"latitude": data["latitude"], "longitude": data["longitude"], "accuracy_m": data.get("accuracy_m")}
    return out


def _suffix(content_type: str) -> str:
    return {"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf"}.get(content_type, ".bin")


@login_required
def attachment_get(request: HttpRequest, pk: int) -> HttpResponseBase:
    att = get_object_or_404(Attachment, pk=pk)
    _visit(request, att.visit_id)
    name = display_name(att.name, att.content_type)  # rows from before names were cleaned are cleaned here
    return stored.serve(request, att.file, att.sha256, object_type="supervision.attachment", object_id=att.pk,
                        filename=name, content_type=att.content_type, as_attachment=False)  # fmt: skip


@login_required
def publication(request: HttpRequest) -> HttpResponse:
    require(request.user, "publication", "view")
    qs = (
        restrict(Visit.objects.all(), request.user)
        .filter(status=VisitStatus.DONE)
        .select_related("entity", "draw")
        .order_by("publish_by")
    )
    if request.method == "POST":
        require(request.user, "publication", "change")
        chosen = qs.filter(pk__in=[id_value("visit", v) for v in request.POST.getlist("visit")])
        n = services.publish(list(chosen), request.user)
        messages.success(request, _("%(n)d results published.") % {"n": n})
        return redirect("publication")
    today = timezone.localdate()
    overdue = qs.filter(publish_by__lt=today).count()
    published = restrict(Visit.objects.all(), request.user).filter(status=VisitStatus.PUBLISHED).count()
    late = (
        restrict(Visit.objects.all(), request.user)
        .filter(status=VisitStatus.PUBLISHED, published_at__date__gt=F("publish_by"))
        .count()
    )
    page = BoundedPaginator(qs, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "supervision/publication.html",
        {
            "page": page,
            "today": today,
            "due": qs.count(),
            "overdue": overdue,
            "published": published,
            "late": late,
            "can_publish": allowed(request.user, "publication", "change"),
            "querystring": "",
        },
    )
