"""The upload page and the resumable upload protocol's two URLs (``uploads.py`` says how it works)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from shijian.core.jurisdiction import restrict
from shijian.core.permissions import require
from shijian.dataadmin import feeds, uploads
from shijian.dataadmin.models import Upload
from shijian.dataadmin.views import _feed
from shijian.web.params import BadParameter, int_param, parse_int


def _state(up: Upload, status: int = 200) -> JsonResponse:
    body = {"id": up.pk, "url": reverse("upload_detail", args=[up.pk]), "offset": up.offset, "size": up.size}
    body["status"] = up.status
    body["job"] = reverse("job_detail", args=[up.job_id]) if up.job_id else ""
    response = JsonResponse(body, status=status)
    response["Upload-Offset"] = str(up.offset)
    response["Upload-Length"] = str(up.size)
    response["Cache-Control"] = "no-store"
    return response


def _refused(exc: uploads.Refused) -> JsonResponse:
    response = JsonResponse({"error": str(exc), "offset": exc.offset}, status=exc.status)
    if exc.offset is not None:
        response["Upload-Offset"] = str(exc.offset)
    return response


@login_required
def feed_upload(request: HttpRequest, pk: int) -> HttpResponse:
    feed = _feed(request, pk, "import")
    recent = Upload.objects.filter(feed=feed).select_related("job")[:20]
    piece = int_param(request, "piece", 8 * 1024 * 1024, low=64, high=64 * 1024 * 1024)
    context = {"feed": feed, "recent": recent, "has_mapping": feeds.has_mapping(feed), "piece": piece}
    return render(request, "dataadmin/upload.html", context)


@login_required
@require_POST
def upload_create(request: HttpRequest, pk: int) -> HttpResponse:
    feed = _feed(request, pk, "import")
    try:
        size = parse_int("size", request.POST.get("size", ""), low=0)
        up = uploads.start(feed, request.user, request.POST.get("filename", ""), size)
    except BadParameter as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    except uploads.Refused as exc:
        return _refused(exc)
    return _state(up, 201)


@login_required
@require_http_methods(["GET", "HEAD", "PATCH"])
def upload_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, "feed", "import")
    up = get_object_or_404(restrict(Upload.objects.select_related("feed"), request.user, "import"), pk=pk)
    if request.method != "PATCH":
        return _state(up)
    try:
        offset = parse_int("Upload-Offset", request.headers.get("Upload-Offset", ""), low=0)
        length = parse_int("Content-Length", request.headers.get("Content-Length", ""), low=0)
        up = uploads.append(up, offset, request, length)  # type: ignore[arg-type]
    except BadParameter as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    except uploads.Refused as exc:
        return _refused(exc)
    return _state(up)
