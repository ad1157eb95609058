"""Login throttling: a bounded number of failures per (username, client address) per window."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


def _key(username: str, ip: str) -> str:
    digest = hashlib.sha256(f"{username.lower()}|{ip}".encode()).hexdigest()[:32]
    return f"login-fail:{digest}"


def is_locked(username: str, ip: str) -> bool:
    return int(cache.get(_key(username, ip), 0)) >= settings.SHIJIAN_LOGIN_MAX_FAILURES


def note_failure(username: str, ip: str) -> None:
    key = _key(username, ip)
    if cache.add(key, 1, timeout=settings.SHIJIAN_LOGIN_WINDOW_SECONDS):
        return
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=settings.SHIJIAN_LOGIN_WINDOW_SECONDS)


def reset(username: str, ip: str) -> None:
    cache.delete(_key(username, ip))
