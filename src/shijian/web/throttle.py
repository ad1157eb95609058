"""Login throttling: bounded failures per user name (from any address) and per client address (for any name).

The user name is keyed by ``accounts.usernames.throttle_key`` (the same normalisation as the login itself), so
spaces or full-width letters do not open a fresh counter; the address is the client's as ``core.request_context``
resolves it (through the trusted proxies only). Counters live in the shared cache for the window.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache

from shijian.accounts.usernames import throttle_key


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(f"{kind}|{value}".encode()).hexdigest()[:32]
    return f"login-fail:{digest}"


def _keys(username: str, ip: str) -> list[tuple[str, int]]:
    return [
        (_key("user", throttle_key(username)), settings.SHIJIAN_LOGIN_MAX_FAILURES),
        (_key("ip", ip), settings.SHIJIAN_LOGIN_MAX_FAILURES_PER_ADDRESS),
    ]


def is_locked(username: str, ip: str) -> bool:
    return any(int(cache.get(key, 0)) >= limit for key, limit in _keys(username, ip))


def note_failure(username: str, ip: str) -> None:
    for key, _limit in _keys(username, ip):
        if cache.add(key, 1, timeout=settings.SHIJIAN_LOGIN_WINDOW_SECONDS):
            continue
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=settings.SHIJIAN_LOGIN_WINDOW_SECONDS)


def reset(username: str) -> None:
    """After a successful login: the user's counter (not the address's: one known password opens no others)."""
    cache.delete(_key("user", throttle_key(username)))


def allow(kind: str, ip: str, limit: int, window: int) -> bool:
    """Count one request of ``kind`` from ``ip``; False once ``limit`` were counted in the last ``window`` seconds
    (public forms: the complaint form and the progress query)."""
    key = _key(kind, ip).replace("login-fail:", "public-hit:")
    if cache.add(key, 1, timeout=window):
        return True
    try:
        n = int(cache.incr(key))
    except ValueError:
        cache.set(key, 1, timeout=window)
        return True
    return n <= limit
