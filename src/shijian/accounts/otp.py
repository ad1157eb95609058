"""The second factor: a TOTP authenticator (RFC 6238, django-otp) and one-use recovery codes.

Required of the roles in ``SHIJIAN_OTP_ROLES`` (leaders and data administrators by default) and of superusers,
whatever way they signed in (password, LDAP or OIDC). A user without a confirmed authenticator enrols one right
after the first factor; one with an authenticator is asked for its code (or a recovery code). Enrolment, its reset
by a data administrator and every failed code are audit events; the secret never enters the log.
"""

from __future__ import annotations

from typing import Any

import segno
from django.conf import settings
from django.db import transaction
from django_otp import devices_for_user, match_token, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from shijian.core import audit

AUTHENTICATOR = "authenticator"
RECOVERY = "recovery"
RECOVERY_CODES = 10


def required(user: Any) -> bool:
    """Whether ``user`` must pass a second factor before anything else."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser or getattr(user, "role", "") in settings.SHIJIAN_OTP_ROLES)


def enrolled(user: Any) -> bool:
    return bool(user_has_device(user, confirmed=True))


def pending_device(user: Any) -> TOTPDevice:
    """The user's authenticator being enrolled: the same one (the same QR code) until it is confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False, name=AUTHENTICATOR).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR, confirmed=False)
    return device


def qr_svg(device: TOTPDevice) -> str:
    """The enrolment QR code as inline SVG (drawn here: no image service, no CDN)."""
    svg: str = segno.make(device.config_url, error="m").svg_inline(scale=5, border=2, dark="#111", light="#fff")
    return svg


def secret_text(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for typing into an authenticator by hand."""
    import base64

    raw = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def new_recovery_codes(user: Any) -> list[str]:
    """Replace the user's recovery codes with ``RECOVERY_CODES`` fresh ones (each usable once)."""
    device, _ = StaticDevice.objects.get_or_create(user=user, name=RECOVERY, defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def confirm(user: Any, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirm a pending authenticator with its first code; returns the new recovery codes, or None if wrong."""
    if not device.verify_token(token.strip().replace(" ", "")):
        audit.record(
            audit.Action.LOGIN_FAILED,
            object_type="accounts.user",
            object_id=str(user.pk),
            object_repr=user.username,
            reason="second factor: wrong code at enrolment",
        )
        return None
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = new_recovery_codes(user)
        audit.record(
            audit.Action.UPDATE,
            object_type="accounts.user",
            object_id=str(user.pk),
            object_repr=user.username,
            reason="second factor enrolled (authenticator and recovery codes)",
            actor=user,
        )
    return codes


def replace_recovery_codes(user: Any) -> list[str]:
    """New recovery codes for an enrolled user (the old ones stop working). Audited."""
    with transaction.atomic():
        codes = new_recovery_codes(user)
        audit.record(
            audit.Action.UPDATE,
            object_type="accounts.user",
            object_id=str(user.pk),
            object_repr=user.username,
            reason="second factor: new recovery codes",
            actor=user,
        )
    return codes


def verify(user: Any, token: str) -> Any:
    """The confirmed device that accepts ``token`` (authenticator code or recovery code), else None. Audited."""
    device = match_token(user, token.strip().replace(" ", ""))
    if device is None:
        audit.record(
            audit.Action.LOGIN_FAILED,
            object_type="accounts.user",
            object_id=str(user.pk),
            object_repr=user.username,
            reason="second factor: wrong code",
            actor=user,
        )
        return None
    kind = "recovery code" if isinstance(device, StaticDevice) else "authenticator"
    audit.record(
        audit.Action.LOGIN,
        object_type="accounts.user",
        object_id=str(user.pk),
        object_repr=user.username,
        reason=f"second factor passed ({kind})",
        actor=user,
    )
    return device


def remove_devices(user: Any) -> int:
    """Delete every second-factor device of ``user`` (the next sign-in enrols anew); the number removed."""
    removed = 0
    for device in list(devices_for_user(user, confirmed=None)):
        device.delete()
        removed += 1
    return removed
