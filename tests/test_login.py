from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from pytest_django import Settings

from tests.conftest import PASSWORD, World

PRODUCTION_HASHERS = list(importlib.import_module("shijian.config.settings").PASSWORD_HASHERS)


def test_it_logs_in_and_audits(world: World) -> None:
    from shijian.core.models import AuditEvent

    c = Client()
    r = c.post(reverse("login"), {"username": "samr", "password": PASSWORD})
    assert r.status_code == 302
    assert AuditEvent.objects.filter(action="login", actor_name="samr").exists()


def test_it_throttles_repeated_failures(world: World) -> None:
    c = Client()
    for _ in range(settings.SHIJIAN_LOGIN_MAX_FAILURES):
        r = c.post(reverse("login"), {"username": "samr", "password": "wrong-password"})
        assert r.status_code == 200
    # Locked now, even with the right password.
    r = c.post(reverse("login"), {"username": "samr", "password": PASSWORD})
    assert r.status_code == 429
    assert "_auth_user_id" not in c.session
    from shijian.core.models import AuditEvent

    assert AuditEvent.objects.filter(action="login_failed").count() == settings.SHIJIAN_LOGIN_MAX_FAILURES


def test_it_requires_csrf_tokens(world: World) -> None:
    c = Client(enforce_csrf_checks=True)
    r = c.post(reverse("login"), {"username": "samr", "password": PASSWORD})
    assert r.status_code == 403
    c.force_login(world.users["admin"])
    r = c.post(reverse("entity_delete", args=[world.entities["hecheng"].pk]), {"reason": "x"})
    assert r.status_code == 403


def test_sessions_are_secure_by_default() -> None:
    assert settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE
    assert settings.SESSION_COOKIE_HTTPONLY
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"
    assert PRODUCTION_HASHERS[0] == "shijian.accounts.hashers.Argon2idPasswordHasher"


def test_logout_needs_a_post(world: World) -> None:
    c = world.client("samr")
    assert c.get(reverse("logout")).status_code == 405
    assert c.post(reverse("logout")).status_code == 302


def _fail(c: Client, username: str, n: int, **extra: Any) -> None:
    for _ in range(n):
        assert (
            c.post(reverse("login"), {"username": username, "password": "wrong-password"}, **extra).status_code == 200
        )


@pytest.mark.parametrize("variant", [" samr", "samr  ", "ｓａｍｒ", "SAMR", "\tsamr"])
def test_a_locked_name_stays_locked_however_it_is_typed(world: World, variant: str) -> None:
    from shijian.core.models import AuditEvent

    c = Client()
    _fail(c, "samr", settings.SHIJIAN_LOGIN_MAX_FAILURES)
    r = c.post(reverse("login"), {"username": variant, "password": PASSWORD})
    assert r.status_code == 429
    assert "_auth_user_id" not in c.session
    locked = AuditEvent.objects.get(action="login_locked")
    assert locked.object_repr == variant.strip().replace("ｓａｍｒ", "samr") and locked.client_ip == "127.0.0.1"


def test_a_spaced_or_full_width_name_logs_in_as_the_same_user(world: World) -> None:
    c = Client()
    r = c.post(reverse("login"), {"username": " ｓａｍｒ ", "password": PASSWORD})
    assert r.status_code == 302
    assert c.session["_auth_user_id"] == str(world.users["samr"].pk)


def test_a_name_is_locked_whatever_address_the_guesses_come_from(world: World) -> None:
    c = Client()
    for i in range(settings.SHIJIAN_LOGIN_MAX_FAILURES):
        _fail(c, "samr", 1, REMOTE_ADDR=f"203.0.113.{i + 1}")
    assert c.post(reverse("login"), {"username": "samr", "password": PASSWORD}).status_code == 429


def test_an_address_is_locked_whatever_names_it_tries(world: World, settings: Settings) -> None:
    settings.SHIJIAN_LOGIN_MAX_FAILURES_PER_ADDRESS = 3
    c = Client()
    for name in ("a1", "a2", "a3"):
        _fail(c, name, 1, REMOTE_ADDR="198.51.100.7")
    r = c.post(reverse("login"), {"username": "samr", "password": PASSWORD}, REMOTE_ADDR="198.51.100.7")
    assert r.status_code == 429
    r = c.post(reverse("login"), {"username": "samr", "password": PASSWORD}, REMOTE_ADDR="198.51.100.8")
    assert r.status_code == 302


def test_forwarded_addresses_count_only_through_a_trusted_proxy(world: World, settings: Settings) -> None:
    from django.test import RequestFactory

    from shijian.core.request_context import client_ip

    rf = RequestFactory()
    spoofed = rf.get("/", REMOTE_ADDR="192.0.2.9", HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert client_ip(spoofed) == "192.0.2.9"
    settings.SHIJIAN_TRUSTED_PROXIES = ["10.0.0.0/24"]
    proxied = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 192.0.2.10, 10.0.0.3")
    assert client_ip(proxied) == "192.0.2.10"  # the client cannot choose: 6.6.6.6 is what it sent
    assert client_ip(rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="junk")) == "10.0.0.2"
    # behind the proxy, each client has its own address counter
    settings.SHIJIAN_LOGIN_MAX_FAILURES_PER_ADDRESS = 2
    c = Client()
    _fail(c, "x1", 2, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.10")
    r = c.post(
        reverse("login"),
        {"username": "samr", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="192.0.2.11",
    )
    assert r.status_code == 302


def test_passwords_are_argon2_and_old_pbkdf2_hashes_still_work_and_upgrade(world: World, settings: Settings) -> None:
    from django.contrib.auth.hashers import make_password

    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS
    user = world.users["samr"]
    user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    user.save(update_fields=["password"])
    c = Client()
    assert c.post(reverse("login"), {"username": "samr", "password": PASSWORD}).status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$") and "m=47104,t=1,p=1" in user.password
