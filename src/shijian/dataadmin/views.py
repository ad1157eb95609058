"""Data administration screens: feeds and their quality, the mapping editor, uploads, quarantine, re-processing."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shijian.core.jurisdiction import choices, restrict
from shijian.core.permissions import allowed, require
from shijian.dataadmin import feeds, loads, quality, quarantine
from shijian.dataadmin.explain import KINDS
from shijian.dataadmin.forms import FeedForm
from shijian.dataadmin.models import Feed, Upload
from shijian.registry.models import Department
from shijian.web.params import int_param


def _feed(request: HttpRequest, pk: int, action: str = "view") -> Feed:
    require(request.user, "feed", action)
    return get_object_or_404(restrict(Feed.objects.select_related("department"), request.user, action), pk=pk)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    require(request.user, "feed", "view")
    rows = [quality.of(f) for f in restrict(Feed.objects.select_related("department"), request.user)]
    may_add = allowed(request.user, "feed", "add")
    return render(request, "dataadmin/home.html", {"rows": rows, "may_add": may_add})


@login_required
def feed_add(request: HttpRequest) -> HttpResponse:
    require(request.user, "feed", "add")
    form = FeedForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        feed = form.save()
        messages.success(request, _("Feed %(name)s added: now write its mapping.") % {"name": feed.name})
        return redirect("feed_mapping", pk=feed.pk)
    return render(request, "dataadmin/feed_form.html", {"form": form})


@login_required
def feed_detail(request: HttpRequest, pk: int) -> HttpResponse:
    feed = _feed(request, pk)
    may_change = allowed(request.user, "feed", "change")
    form = FeedForm(instance=feed, user=request.user) if may_change else None
    if request.method == "POST":
        feed = _feed(request, pk, "change")
        form = FeedForm(request.POST, instance=feed, user=request.user)
        if form.is_valid():
            form.save()
            messages.success(request, _("Saved."))
            return redirect(feed)
    q = quality.of(feed)
    uploads = Upload.objects.filter(feed=feed).select_related("job")[:20] if may_change else []
    context = {"feed": feed, "q": q, "form": form, "may_change": may_change, "uploads": uploads}
    context["has_mapping"] = feeds.has_mapping(feed)
    context["trend"] = quality.trend_points(q)
    return render(request, "dataadmin/feed_detail.html", context)


@login_required
def department_quality(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, "feed", "view")
    dept = get_object_or_404(choices(Department.objects.all(), request.user), pk=pk)
    rows = [quality.of(f) for f in restrict(Feed.objects.filter(department=dept), request.user)]
    return render(request, "dataadmin/department.html", {"department": dept, "rows": rows})


@login_required
def feed_quarantine(request: HttpRequest, pk: int) -> HttpResponse:
    feed = _feed(request, pk, "change")
    f = quarantine.Filters(
        load=request.GET.get("load", "").strip()[:60],
        kind=request.GET.get("kind", "").strip()[:20],
        file=request.GET.get("file", "").strip()[:100],
    )
    page = int_param(request, "page", 1, low=1, high=100_000) or 1
    size = 50
    lake = loads.lake()
    mapping = feeds.current_mapping(feed)
    rows, total = quarantine.rows(lake, feed.slug, mapping, f, (page - 1) * size, size)
    reports = [r for r in reversed(loads.reports(feed, lake))]
    context: dict[str, Any] = {"feed": feed, "rows": rows, "total": total, "filters": f, "page": page}
    context |= {"pages": max(1, -(-total // size)), "reports": reports, "kinds": _kind_counts(lake, feed)}
    context["has_mapping"] = feeds.has_mapping(feed)
    return render(request, "dataadmin/quarantine.html", context)


def _kind_counts(lake: Any, feed: Feed) -> list[tuple[str, Any, int]]:
    counts = quarantine.by_kind(lake, feed.slug)
    labels = {k: label for k, (label, _p) in KINDS.items()} | {"row": _("malformed line")}
    return [(k, labels[k], n) for k, n in counts.items()]


@login_required
@require_POST
def feed_reprocess(request: HttpRequest, pk: int) -> HttpResponse:
    from shijian.jobs.runner import enqueue

    feed = _feed(request, pk, "change")
    known = {r["load_id"]: r for r in loads.reports(feed)}
    chosen = [x for x in request.POST.getlist("load") if x in known]
    if not request.POST.getlist("load"):
        chosen = [i for i, r in known.items() if r.get("quarantined")]
    if not chosen:
        messages.info(request, _("No load with quarantined rows to re-process."))
        return redirect("feed_quarantine", pk=feed.pk)
    if not feeds.has_mapping(feed):
        messages.error(request, _("The feed has no saved mapping yet: save one in the mapping editor first."))
        return redirect("feed_quarantine", pk=feed.pk)
    job = enqueue("reprocess", {"feed": feed.pk, "loads": chosen}, request.user)
    messages.success(request, _("Re-processing %(n)d load(s) with the current mapping.") % {"n": len(chosen)})
    return redirect(job)
