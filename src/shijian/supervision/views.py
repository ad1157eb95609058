"""Screens of 双随机 for officials and inspectors (thin: the use cases live in ``services``)."""

from __future__ import annotations

import datetime as dt
import hashlib
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, F
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from shijian.core import audit
from shijian.core.permissions import allowed, require
from shijian.jobs.runner import enqueue
from shijian.supervision import scope, services
from shijian.supervision.draw import DrawError
from shijian.supervision.forms import OUTCOME_CHOICES, AttachmentForm, BatchForm, FreezeForm, PlanForm, SeedForm
from shijian.supervision.models import FINDING_OUTCOMES, Attachment, Batch, Plan, SeedMethod, Visit, VisitStatus
from shijian.web.pagination import BoundedPaginator


@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    require(request.user, "plan", "view")
    plans = scope.plans(request.user).select_related("department").annotate(n_batches=Count("batches"))
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
    plan = get_object_or_404(scope.plans(request.user).select_related("department"), pk=pk)
    can_change = scope.plans(request.user, "change").filter(pk=pk).exists()
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
    return get_object_or_404(scope.plans(request.user, "change"), pk=pk)


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
        Batch.objects.filter(plan__in=scope.plans(request.user)).select_related("plan", "department", "draw"), pk=pk
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
    # START jobs (issue 20): freezing a Foshan-scale batch takes longer than a request; the worker does it.
    job = enqueue(
        "freeze",
        {
            "batch_ids": [b.pk for b in d["batches"]],
            "seed_method": d["seed_method"],
            "beacon_source": d["beacon_source"],
            "commitments": [d["commitment_1"], d["commitment_2"]],
            "prefer_region": d["prefer_region"],
        },
        request.user,
    )
    messages.info(request, _("Freezing runs as a job; this page shows its progress and links to the draw."))
    return redirect(job)
    # END jobs


@login_required
def draw_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, "draw", "view")
    draw = get_object_or_404(scope.draws(request.user).select_related("plan"), pk=pk)
    can_draw = draw.status == "frozen" and scope.draws(request.user, "change").filter(pk=pk).exists()
    form = SeedForm(request.POST or None)
    if request.method == "POST":
        if not can_draw:
            raise PermissionDenied
        if form.is_valid():
            d = form.cleaned_data
            # START jobs (issue 20): the draw runs as a job; its page links back to the draw.
            job = enqueue(
                "draw",
                {"draw_id": draw.pk, "public_value": d["public_value"], "secrets": [d["secret_1"], d["secret_2"]]},
                request.user,
            )
            messages.info(request, _("The draw runs as a job; this page shows its progress and links to the draw."))
            return redirect(job)
            # END jobs
    visits = (
        draw.visits.select_related("entity").prefetch_related("members__inspector__department").order_by("entity_key")
    )
    page = BoundedPaginator(visits, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "supervision/draw_detail.html",
        {
            "draw": draw,
            "batches": draw.batches.all(),
            "form": form,
            "can_draw": can_draw,
            "page": page,
            "querystring": "",
        },
    )


@login_required
def task_list(request: HttpRequest) -> HttpResponse:
    require(request.user, "visit", "view")
    qs = scope.visits(request.user).select_related("entity", "draw").order_by("status", "window_end", "entity_key")
    status = request.GET.get("status", "")
    if status in VisitStatus.values:
        qs = qs.filter(status=status)
    due = request.GET.get("due", "")
    if due in services.DUE:
        qs = qs.filter(services.due_q(due, timezone.localdate()))
    page = BoundedPaginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "supervision/task_list.html",
        {
            "page": page,
            "status": status,
            "statuses": VisitStatus.choices,
            "due": due if due in services.DUE else "",
            "dues": [
                ("today", _("window open today")),
                ("late", _("window passed, not checked")),
                ("unpublished", _("checked, not yet published")),
                ("publish_late", _("past the publication deadline")),
            ],
            "querystring": urlencode({k: v for k, v in (("status", status), ("due", due)) if v}),
        },
    )


def _visit(request: HttpRequest, pk: int, action: str = "view") -> Visit:
    require(request.user, "visit", action)
    return get_object_or_404(scope.visits(request.user, action).select_related("entity", "draw").distinct(), pk=pk)


@login_required
def visit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    visit = _visit(request, pk)
    can_record = visit.status != VisitStatus.PUBLISHED and scope.visits(request.user, "change").filter(pk=pk).exists()
    checks = list(visit.checks.select_related("item__category", "batch"))
    if request.method == "POST":
        if not can_record:
            raise PermissionDenied
        results = {}
        for c in checks:
            outcome = request.POST.get(f"outcome-{c.pk}", "")
            if outcome and outcome not in dict(OUTCOME_CHOICES):
                messages.error(request, _("Unknown result."))
                return redirect(visit)
            results[c.pk] = (outcome, request.POST.get(f"note-{c.pk}", "").strip()[:2000])
        try:
            checked_on = dt.date.fromisoformat(request.POST.get("checked_on", ""))
        except ValueError:
            messages.error(request, _("Give the date of the check (YYYY-MM-DD)."))
            return redirect(visit)
        try:
            services.record_results(visit, results, checked_on, request.user)
        except DrawError as exc:
            messages.error(request, str(exc))
            return redirect(visit)
        visit.refresh_from_db()
        if visit.status == VisitStatus.DONE:
            messages.success(request, _("Results recorded; to be published by %(date)s.") % {"date": visit.publish_by})
        else:
            messages.success(request, _("Results saved; some items still have no result."))
        return redirect(visit)
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
            "today": timezone.localdate().isoformat(),
        },
    )


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
            name=f.name[:200],
            content_type=f.detected_type,
            size=f.size,
            sha256=digest.hexdigest(),
            uploaded_by=request.user,  # type: ignore[misc]
        )
        att.file.save(f"{digest.hexdigest()[:16]}{_suffix(f.detected_type)}", f, save=False)
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


def _suffix(content_type: str) -> str:
    return {"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf"}.get(content_type, ".bin")


@login_required
def attachment_get(request: HttpRequest, pk: int) -> FileResponse:
    att = get_object_or_404(Attachment, pk=pk)
    _visit(request, att.visit_id)
    return FileResponse(att.file.open("rb"), content_type=att.content_type, filename=att.name)


@login_required
def publication(request: HttpRequest) -> HttpResponse:
    require(request.user, "publication", "view")
    qs = (
        scope.visits(request.user)
        .filter(status=VisitStatus.DONE)
        .select_related("entity", "draw")
        .order_by("publish_by")
    )
    if request.method == "POST":
        require(request.user, "publication", "change")
        chosen = qs.filter(pk__in=request.POST.getlist("visit"))
        n = services.publish(list(chosen), request.user)
        messages.success(request, _("%(n)d results published.") % {"n": n})
        return redirect("publication")
    today = timezone.localdate()
    overdue = qs.filter(publish_by__lt=today).count()
    published = scope.visits(request.user).filter(status=VisitStatus.PUBLISHED).count()
    late = (
        scope.visits(request.user).filter(status=VisitStatus.PUBLISHED, published_at__date__gt=F("publish_by")).count()
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
