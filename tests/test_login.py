from __future__ import annotations

from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD


def test_it_logs_in_and_audits(world) -> None:
    from shijian.core.models import AuditEvent

    c = Client()
    r = c.post(reverse("login"), {"username": "samr", "password": PASSWORD})
    assert r.status_code == 302
    assert AuditEvent.objects.filter(action="login", actor_name="samr").exists()


def test_it_throttles_repeated_failures(world) -> None:
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


def test_it_requires_csrf_tokens(world) -> None:
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
    assert (
        "django.contrib.auth.hashers.PBKDF2PasswordHasher"
        in __import__("django.conf.global_settings", fromlist=["x"]).PASSWORD_HASHERS[0]
    )


def test_logout_needs_a_post(world) -> None:
    c = world.client("samr")
    assert c.get(reverse("logout")).status_code == 405
    assert c.post(reverse("logout")).status_code == 302
