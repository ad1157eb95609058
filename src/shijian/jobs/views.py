"""Jobs list and detail (progress polled by htmx), cancel, download; the schedules page for administrators."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from shijian.core.permissions import allowed, require
from shijian.jobs import runner, schedules
from shijian.jobs.models import Job
from shijian.web.pagination import BoundedPaginator


def visible_jobs(user: Any) -> QuerySet[Job]:
    """Everyone sees the jobs they started; those who may see schedules also see the scheduled jobs and the jobs
    of users inside their own region (an export holds its creator's rows: it stays within jurisdiction)."""
    qs = Job.objects.select_related("created_by", "schedule")
    if user.is_superuser:
        return qs
    mine = Q(created_by=user)
    if allowed(user, "schedule", "view") and user.region_code:
        mine |= Q(created_by__isnull=True) | Q(created_by__region_code__startswith=user.region_code)
    return qs.filter(mine)


@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    require(request.user, "job", "view")
    page = BoundedPaginator(visible_jobs(request.user), 50).get_page(request.GET.get("page"))
    may_schedules = allowed(request.user, "schedule", "view")
    return render(request, "jobs/job_list.html", {"page": page, "querystring": "", "may_schedules": may_schedules})


@login_required
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, "job", "view")
    job = get_object_or_404(visible_jobs(request.user), pk=pk)
    template = "jobs/_progress.html" if request.headers.get("HX-Request") else "jobs/job_detail.html"
    return render(request, template, {"job": job})


@login_required
@require_POST
def job_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, "job", "view")
    job = get_object_or_404(visible_jobs(request.user), pk=pk)
    runner.cancel(job)
    return redirect(job)


@login_required
def job_download(request: HttpRequest, pk: int) -> FileResponse:
    require(request.user, "job", "view")
    job = get_object_or_404(visible_jobs(request.user), pk=pk)
    path = runner.job_dir() / job.result_file
    if not job.result_file or not path.is_file():
        raise Http404
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name.split("-", 2)[-1])


@login_required
def schedule_list(request: HttpRequest) -> HttpResponse:
    require(request.user, "schedule", "view")
    return render(request, "jobs/schedules.html", {"rows": schedules.overview()})
