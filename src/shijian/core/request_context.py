"""Per-request context (request id, acting user) kept in ContextVars, as NetBox does for its change log."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse

request_id_var: ContextVar[str] = ContextVar("request_id", default="")
actor_var: ContextVar[Any] = ContextVar("actor", default=None)


def current_request_id() -> str:
    return request_id_var.get()


def current_actor() -> Any:
    return actor_var.get()


@contextmanager
def acting_as(user: Any, request_id: str | None = None) -> Iterator[str]:
    """Run a block (a CLI command, a scheduled job) as ``user`` with its own request id."""
    rid = request_id or f"cli-{uuid.uuid4().hex[:16]}"
    t1 = request_id_var.set(rid)
    t2 = actor_var.set(user)
    try:
        yield rid
    finally:
        request_id_var.reset(t1)
        actor_var.reset(t2)


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-Id", "")
        rid = incoming if incoming.isalnum() and len(incoming) <= 64 else uuid.uuid4().hex
        token = request_id_var.set(rid)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-Id"] = rid
        return response


class CurrentUserMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        token = actor_var.set(user if user is not None and user.is_authenticated else None)
        try:
            return self.get_response(request)
        finally:
            actor_var.reset(token)
