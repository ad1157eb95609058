"""The second factor in tests: enrol a user's authenticator and compute its current code, as a phone would.

The test client's ``login`` and ``force_login`` stand for a whole sign-in in the suite, so conftest makes them pass
the second factor too (``pass_second_factor``); tests of the second factor itself post the login form instead.
"""

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
    from django_otp import DEVICE_ID_SESSION_KEY

    from shijian.accounts import otp

    if not otp.required(user):
        return
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = authenticator(user).persistent_id
    session.save()
