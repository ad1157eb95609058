"""The second factor in tests: enrol a user's authenticator and compute its current code, as a phone would.

The test client's ``login`` and ``force_login`` stand for a whole sign-in in the suite, so conftest makes them pass
the second factor too (``pass_second_factor``); tests of the second factor itself post the login form instead.
"""

from __future__ import annotations

from typing import Any

from django.test import Client

from shijian.bench import signin
from shijian.bench.signin import authenticator

__all__ = ["authenticator", "current_code", "pass_second_factor"]


def current_code(device: Any) -> str:
    """The code the authenticator shows now. A code is accepted once, so a second sign-in within the same 30 s
    step would be refused, as on a real phone; tests sign in more often than people, so the step is reopened."""
    from django_otp.oath import TOTP

    device.last_t = -1
    device.save(update_fields=["last_t"])
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def pass_second_factor(client: Client, user: Any) -> None:
    """Mark the client's session as having passed the second factor (for a role that requires one)."""
    session = client.session
    signin.pass_second_factor(session, user)
    session.save()
