"""Per-request context (request id, acting user) kept in ContextVars, as NetBox does for its change log."""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

request_id_var: ContextVar[str] = ContextVar("request_id", default="")
actor_var: ContextVar[Any] = ContextVar("actor", default=None)
client_ip_var: ContextVar[str] = ContextVar("client_ip", default="")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in _networks(tuple(settings.SHIJIAN_TRUSTED_PROXIES)))


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, unless that is a trusted proxy (``SHIJIAN_TRUSTED_PROXIES``); then the
    right-most X-Forwarded-For entry that is not itself a trusted proxy. A client cannot choose its address by
    sending the header itself: entries left of the last untrusted hop are never read."""
    remote = str(request.META.get("REMOTE_ADDR", ""))
    if not _trusted(remote):
        return remote
    hops = [h.strip() for h in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",") if h.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return remote
        if not _trusted(hop):
            return hop
    return hops[0] if hops else remote


def current_client_ip() -> str:
    return client_ip_var.get()


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
        """A fresh request id for every request (a client's X-Request-Id is not taken: the audit trail's ids are
        the server's own), and the client address for the audit trail."""
        rid = uuid.uuid4().hex
        token = request_id_var.set(rid)
        ip_token = client_ip_var.set(client_ip(request))
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
            client_ip_var.reset(ip_token)
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
