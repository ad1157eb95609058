"""The inspector's phone app: a web app manifest and a service worker, both served from this origin (the service
worker from the root, so that it may serve the task list and the visit pages when the network is gone)."""

from __future__ import annotations

from pathlib import Path

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

SERVICE_WORKER = Path(__file__).parent / "static" / "shijian" / "sw.js"


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    body = {
        "name": _("Shijian market supervision"),
        "short_name": _("Shijian"),
        "start_url": reverse("task_list"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#b3261e",
        "icons": [
            {"src": static("shijian/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("shijian/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {"src": static("shijian/favicon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(SERVICE_WORKER.read_bytes(), content_type="text/javascript")
    response["Cache-Control"] = "no-cache"  # a new version is picked up at the next visit
    return response
