from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST

from shijian.ops.metrics import exposition, may_scrape


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus scrape: loopback only, or ``Authorization: Bearer $SHIJIAN_METRICS_TOKEN`` (docs/deploy.md)."""
    if not may_scrape(request.META.get("REMOTE_ADDR", ""), request.headers, settings.SHIJIAN_METRICS_TOKEN):
        return HttpResponse("forbidden\n", status=403, content_type="text/plain")
    return HttpResponse(exposition(Path(settings.SHIJIAN_LAKE)), content_type=CONTENT_TYPE_LATEST)
