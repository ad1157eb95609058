"""Benchmarks sign in as people who have passed both factors (password and, for the roles that need one, the
authenticator code), so that the pages timed are the pages those people get, not the second-factor prompt."""

from __future__ import annotations

from typing import Any

from django.test import Client


def authenticator(user: Any) -> Any:
    """The user's confirmed authenticator, enrolled now if they have none."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from shijian.accounts import otp

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=otp.AUTHENTICATOR, confirmed=True)
    return device


def pass_second_factor(session: Any, user: Any) -> None:
    """Mark ``session`` as having passed the second factor, where the user's role requires one."""
    from django_otp import DEVICE_ID_SESSION_KEY

    from shijian.accounts import otp

    if otp.required(user):
        session[DEVICE_ID_SESSION_KEY] = authenticator(user).persistent_id


def client_for(user: Any) -> Client:
    """A test client signed in as ``user`` with both factors."""
    client = Client()
    client.force_login(user)
    session = client.session
    pass_second_factor(session, user)
    session.save()
    return client


def session_cookie(user: Any) -> str:
    """A ``Cookie`` header value for a session of ``user`` with both factors (for benches that speak HTTP)."""
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    pass_second_factor(session, user)
    session.create()
    return f"sessionid={session.session_key}"
