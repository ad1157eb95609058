"""The second factor (TOTP authenticator, recovery codes) that leaders and data administrators pass at sign-in."""

from __future__ import annotations

import time

from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from shijian.core.models import AuditEvent
from tests.conftest import PASSWORD, World
from tests.otp import authenticator, current_code


def _password_login(username: str) -> Client:
    c = Client()
    r = c.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert r.status_code == 302, r.status_code
    return c


def test_it_enrols_a_leader_at_the_first_sign_in(world: World) -> None:
    c = _password_login("leader")
    r = c.get(reverse("home"))
    assert r.status_code == 302 and r["Location"].startswith(reverse("otp_setup"))
    r = c.get(r["Location"])
    assert r.status_code == 200 and "<svg" in r.content.decode() and r["Cache-Control"] == "no-store"
    device = TOTPDevice.objects.get(user=world.users["leader"], confirmed=False)
    r = c.post(reverse("otp_setup"), {"code": "000000", "next": "/"})
    assert r.status_code == 200 and "code" in r.context["form"].errors
    assert c.get(reverse("entity_list")).status_code == 302  # still held at the second step
    time.sleep(1.1)  # django-otp's throttle: one failure closes the device for 1 s (doubling with each next)
    r = c.post(reverse("otp_setup"), {"code": current_code(device), "next": "/"})
    assert r.status_code == 200 and len(r.context["codes"]) == 10
    device.refresh_from_db()
    assert device.confirmed
    assert c.get(reverse("entity_list")).status_code == 200
    assert AuditEvent.objects.filter(actor_name="leader", reason__startswith="second factor enrolled").exists()


def test_it_asks_an_enrolled_administrator_for_the_code(world: World) -> None:
    device = authenticator(world.users["admin"])
    c = _password_login("admin")
    r = c.get(reverse("user_list"))
    assert r.status_code == 302 and r["Location"].startswith(reverse("otp_verify"))
    r = c.post(reverse("otp_verify"), {"code": "123456", "next": reverse("user_list")})
    assert r.status_code == 200 and "code" in r.context["form"].errors
    assert AuditEvent.objects.filter(action="login_failed", reason="second factor: wrong code").count() == 1
    r = c.post(reverse("otp_verify"), {"code": current_code(device), "next": reverse("user_list")})
    assert r.status_code == 200  # throttled: the right code within 1 s of a wrong one is refused too
    time.sleep(1.1)
    r = c.post(reverse("otp_verify"), {"code": current_code(device), "next": reverse("user_list")})
    assert r.status_code == 302 and r["Location"] == reverse("user_list")
    assert c.get(reverse("user_list")).status_code == 200


def test_a_code_is_accepted_once(world: World) -> None:
    device = authenticator(world.users["admin"])
    code = current_code(device)
    c = _password_login("admin")
    assert c.post(reverse("otp_verify"), {"code": code}).status_code == 302
    c2 = _password_login("admin")
    assert c2.post(reverse("otp_verify"), {"code": code}).status_code == 200  # replayed: refused


def test_a_recovery_code_works_once(world: World) -> None:
    from shijian.accounts import otp

    authenticator(world.users["leader"])
    codes = otp.new_recovery_codes(world.users["leader"])
    c = _password_login("leader")
    assert c.post(reverse("otp_verify"), {"code": codes[0]}).status_code == 302
    assert c.get(reverse("home"), follow=True).status_code == 200
    c2 = _password_login("leader")
    assert c2.post(reverse("otp_verify"), {"code": codes[0]}).status_code == 200


def test_a_password_alone_cannot_replace_an_enrolled_authenticator(world: World) -> None:
    authenticator(world.users["leader"])
    c = _password_login("leader")
    r = c.get(reverse("otp_setup"))
    assert r.status_code == 302 and r["Location"].startswith(reverse("otp_verify"))
    assert not TOTPDevice.objects.filter(user=world.users["leader"], confirmed=False).exists()


def test_roles_without_the_requirement_go_straight_in(world: World) -> None:
    c = _password_login("inspector")
    r = c.get(reverse("home"), follow=True)
    assert r.status_code == 200
    assert not any(reverse("otp_setup") in url for url, _ in r.redirect_chain)


def test_an_administrator_resets_a_lost_second_factor_audited(world: World) -> None:
    leader = world.users["leader"]
    authenticator(leader)
    admin = world.client("admin")
    r = admin.post(reverse("user_reset_otp", args=[leader.pk]))
    assert r.status_code == 302
    assert not TOTPDevice.objects.filter(user=leader).exists()
    event = AuditEvent.objects.get(reason__startswith="second factor reset")
    assert event.actor_name == "admin" and event.object_repr == "leader"
    c = _password_login("leader")
    assert c.get(reverse("home"))["Location"].startswith(reverse("otp_setup"))


def test_only_an_administrator_of_the_region_may_reset(world: World) -> None:
    leader = world.users["leader"]
    authenticator(leader)
    assert world.client("samr").post(reverse("user_reset_otp", args=[leader.pk])).status_code == 403
    assert TOTPDevice.objects.filter(user=leader).exists()


def test_the_demo_prints_a_key_that_signs_the_leader_in(world: World) -> None:
    import base64

    from django_otp.oath import TOTP

    from shijian.demo import demo_authenticator_keys

    keys = demo_authenticator_keys()
    assert set(keys) == {"leader", "admin"} and demo_authenticator_keys() == keys  # enrolled once, then reused
    code = f"{TOTP(base64.b32decode(keys['leader'] + '=' * (-len(keys['leader']) % 8))).token():06d}"
    c = _password_login("leader")
    assert c.post(reverse("otp_verify"), {"code": code}).status_code == 302


def test_the_operator_resets_a_second_factor_from_the_command_line(world: World) -> None:
    from typer.testing import CliRunner

    from shijian.cli import app

    authenticator(world.users["admin"])
    result = CliRunner().invoke(app, ["user", "reset-otp", "admin"])
    assert result.exit_code == 0, result.output
    assert not TOTPDevice.objects.filter(user=world.users["admin"]).exists()
    assert AuditEvent.objects.filter(actor_name="cli", reason__startswith="second factor reset").exists()
    result = CliRunner().invoke(app, ["user", "reset-otp", "nobody"])
    assert result.exit_code != 0 and "Traceback" not in result.output


def test_new_recovery_codes_replace_the_old_ones(world: World) -> None:
    from shijian.accounts import otp

    old = otp.new_recovery_codes(world.users["leader"])
    c = world.client("leader")  # signed in with both factors
    page = c.get(reverse("otp_setup")).content.decode()
    assert reverse("otp_recovery_codes") in page
    r = c.post(reverse("otp_recovery_codes"))
    assert r.status_code == 200 and r["Cache-Control"] == "no-store"
    new = r.context["codes"]
    assert len(new) == 10 and not set(new) & set(old)
    c2 = _password_login("leader")
    assert c2.post(reverse("otp_verify"), {"code": old[0]}).status_code == 200  # the old ones no longer work
    assert c2.post(reverse("otp_recovery_codes")).status_code == 302  # not before the second factor
    time.sleep(1.1)  # the failure above throttles the codes for 1 s
    assert c2.post(reverse("otp_verify"), {"code": new[0]}).status_code == 302


def test_benches_time_the_pages_not_the_second_factor_prompt(world: World) -> None:
    """The benches' sessions pass both factors, so a leader's bench times the entity list, not the prompt."""
    from django.contrib.sessions.backends.db import SessionStore

    from shijian.bench.signin import session_cookie

    leader = world.users["leader"]
    bench = Client()
    bench.cookies["sessionid"] = session_cookie(leader).split("=", 1)[1]
    assert bench.get(reverse("entity_list")).status_code == 200
    # the same session without the second factor is sent to the prompt
    half = SessionStore()
    half["_auth_user_id"] = str(leader.pk)
    half["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    half["_auth_user_hash"] = leader.get_session_auth_hash()
    half.create()
    prompt = Client()
    prompt.cookies["sessionid"] = half.session_key or ""
    r = prompt.get(reverse("entity_list"))
    assert r.status_code == 302 and r["Location"].startswith(reverse("otp_verify")), r["Location"]
