"""OIDC sign-in ("统一身份认证登录") against a real provider (tests/oidc_server.py): claims give role and region."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django import Settings

from shijian.accounts.models import User
from shijian.core.models import AuditEvent
from tests.conftest import World
from tests.oidc_server import (
    Provider,
    oidc_provider,  # noqa: F401  (the fixture)
)

BACKENDS = ["django.contrib.auth.backends.ModelBackend", "shijian.accounts.oidc.OIDCBackend"]


def _real_time() -> float:
    """The machine's clock, under the suite's SHIJIAN_TEST_NOW travel or not."""
    import time

    import time_machine

    hatch = time_machine.escape_hatch
    return hatch.time.time() if hatch.is_travelling() else time.time()


@pytest.fixture
def provider(oidc_provider: Provider, settings: Settings, world: World) -> Iterator[Provider]:  # noqa: F811
    """The provider, and the suite on the real clock: the provider signs tokens on it (SHIJIAN_TEST_NOW aside)."""
    import time_machine

    for key, value in oidc_provider.settings().items():
        setattr(settings, key, value)
    settings.SHIJIAN_OIDC_ENABLED = True
    settings.AUTHENTICATION_BACKENDS = BACKENDS
    with time_machine.travel(_real_time(), tick=True):
        yield oidc_provider


def _sign_in(provider: Any, login: str) -> tuple[Client, Any]:
    c = Client()
    r = c.get(reverse("oidc_login"))
    assert r.status_code == 302 and r["Location"].startswith(provider.issuer), r
    back = urlsplit(provider.sign_in(r["Location"], login))
    assert back.path == reverse("oidc_authentication_callback")
    return c, c.get(f"{back.path}?{back.query}")


def test_the_login_page_offers_unified_identity_sign_in_when_configured(provider: Provider) -> None:
    body = Client().get(reverse("login")).content.decode()
    assert reverse("oidc_login") in body and "统一身份认证登录" in body


def test_the_login_page_offers_nothing_when_not_configured(world: World, settings: Settings) -> None:
    settings.SHIJIAN_OIDC_ENABLED = False
    assert reverse("oidc_login") not in Client().get(reverse("login")).content.decode()
    r = Client().get(reverse("oidc_login"))
    assert r.status_code == 404


def test_a_provider_user_signs_in_with_the_role_and_region_of_their_groups(provider: Provider) -> None:
    c, r = _sign_in(provider, "oidc-wang")
    assert r.status_code == 302 and "failed" not in r["Location"], r["Location"]
    user = User.objects.get(username="oidc-wang")
    assert (user.role, user.region_code, user.department, user.email) == ("leader", "440608", None, "wang@shijian.test")
    assert not user.has_usable_password()
    assert AuditEvent.objects.filter(action="login", object_repr="oidc-wang", reason="OIDC").exists()
    assert AuditEvent.objects.filter(action="create", object_repr="oidc-wang", reason__contains="OIDC").exists()
    assert c.get(reverse("home"))["Location"].startswith(reverse("otp_setup"))  # a leader: the second factor next


def test_the_department_claim_gives_the_region(provider: Provider, world: World) -> None:
    c, r = _sign_in(provider, "oidc-chen")
    assert r.status_code == 302 and "failed" not in r["Location"]
    user = User.objects.get(username="oidc-chen")
    assert (user.role, user.region_code, user.department) == ("inspector", "440608004", world.depts["hecheng"])
    assert c.get(reverse("home"), follow=True).status_code == 200


@pytest.mark.parametrize("login", ["oidc-liu", "oidc-he"], ids=["no-role-group", "no-region"])
def test_claims_that_do_not_say_role_and_region_are_refused(provider: Provider, login: str) -> None:
    c, r = _sign_in(provider, login)
    assert r.status_code == 302 and r["Location"] == "/login/?sso=failed"
    assert "_auth_user_id" not in c.session
    assert not User.objects.filter(username=login).exists()
    assert AuditEvent.objects.filter(action="login_failed", reason__startswith="OIDC: ").exists()
    assert "统一身份认证登录失败" in c.get(r["Location"]).content.decode()


def test_the_directory_updates_an_existing_user_and_never_a_superuser(provider: Provider, world: World) -> None:
    User.objects.create_user("oidc-chen", role="auditor", region_code="440608")
    _sign_in(provider, "oidc-chen")
    assert User.objects.get(username="oidc-chen").role == "inspector"
    User.objects.create_superuser("oidc-wang", password="local-superuser-pw-1")
    c, r = _sign_in(provider, "oidc-wang")
    assert r["Location"] == "/login/?sso=failed" and "_auth_user_id" not in c.session


def test_a_deactivated_user_is_refused(provider: Provider) -> None:
    User.objects.create_user("oidc-chen", role="inspector", region_code="440608", is_active=False)
    c, r = _sign_in(provider, "oidc-chen")
    assert r["Location"] == "/login/?sso=failed" and "_auth_user_id" not in c.session


def test_an_expired_id_token_fails_the_sign_in_with_a_message(provider: Provider) -> None:
    import time_machine

    c = Client()
    r = c.get(reverse("oidc_login"))
    back = urlsplit(provider.sign_in(r["Location"], "oidc-chen"))
    late = _real_time() + 7200  # two hours late: the ID token lived one
    with time_machine.travel(late, tick=True):
        r = c.get(f"{back.path}?{back.query}")
    assert r.status_code == 302 and r["Location"] == "/login/?sso=failed"
    assert "_auth_user_id" not in c.session
    assert AuditEvent.objects.filter(action="login_failed", reason="OIDC: ExpiredSignatureError").exists()


def test_the_endpoints_are_discovered_from_the_issuer(oidc_provider: Provider) -> None:  # noqa: F811
    from typer.testing import CliRunner

    from shijian.cli import app

    result = CliRunner().invoke(app, ["identity", "discover", oidc_provider.issuer])
    assert result.exit_code == 0, result.output
    lines = dict(line.split("=", 1) for line in result.output.strip().splitlines())
    # the same endpoints the suite's sign-in tests configure by hand
    expected = oidc_provider.settings()
    assert lines["SHIJIAN_OIDC_AUTHORIZATION_ENDPOINT"] == expected["OIDC_OP_AUTHORIZATION_ENDPOINT"]
    assert lines["SHIJIAN_OIDC_TOKEN_ENDPOINT"] == expected["OIDC_OP_TOKEN_ENDPOINT"]
    assert lines["SHIJIAN_OIDC_USERINFO_ENDPOINT"] == expected["OIDC_OP_USER_ENDPOINT"]
    assert lines["SHIJIAN_OIDC_JWKS_ENDPOINT"] == expected["OIDC_OP_JWKS_ENDPOINT"]
    # a wrong issuer, an algorithm the provider does not use, or no provider: a message, never a traceback
    for args, said in (
        ([oidc_provider.issuer + "/elsewhere"], "could not be read"),
        ([oidc_provider.issuer, "--sign-algo", "HS512"], "not HS512"),
        (["http://127.0.0.1:9/"], "could not be read"),
        (["sso.example"], "https://"),
    ):
        result = CliRunner().invoke(app, ["identity", "discover", *args])
        text = " ".join(result.output.split())  # the console wraps long lines
        assert result.exit_code == 2 and said in text and "Traceback" not in text, text
