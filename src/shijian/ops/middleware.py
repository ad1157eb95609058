"""One log line and one latency observation per request (inside RequestIdMiddleware, so the request id is set)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from shijian.core.request_context import current_request_id
from shijian.ops.metrics import observe_request

log = logging.getLogger("shijian.request")


class RequestLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        t0 = time.perf_counter()
        response = self.get_response(request)
        seconds = time.perf_counter() - t0
        match = getattr(request, "resolver_match", None)
        view = (match.view_name if match is not None else "") or "unmatched"
        observe_request(view, request.method or "", response.status_code, seconds)
        user = getattr(request, "user", None)
        log.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "request_id": current_request_id(),
                "user": user.get_username() if user is not None and user.is_authenticated else "",
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round(seconds * 1000, 1),
                "view": view,
            },
        )
        return response
