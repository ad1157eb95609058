"""User administration: who may create, change, deactivate and reset whom, and the audit trail of it.

One rule, used by the web screen and by ``shijian user``: a data administrator manages the users of their own
region (and below) only, assigns departments of that region only, and never grants superuser. A superuser (the
command line's operator) may do everything. Every change is one audit event; passwords never enter the log.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from shijian.accounts.models import Role, User
from shijian.core import audit
from shijian.core.permissions import allowed
from shijian.registry.models import Department

# Letters and digits that cannot be mistaken for one another when read aloud or copied from a screen.
_OTP_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
OTP_LENGTH = 14


def one_time_password() -> str:
    return "".join(secrets.choice(_OTP_ALPHABET) for _ in range(OTP_LENGTH))


def public_fields(user: User) -> dict[str, Any]:
    """What the audit log keeps of a user (no password hash)."""
    return {
        "username": user.username,
        "role": user.role,
        "region_code": user.region_code,
        "department_id": user.department_id,
        "is_active": user.is_active,
        "is_superuser": user.is_superuser,
        "must_change_password": user.must_change_password,
    }


def manageable_users(actor: Any) -> QuerySet[User]:
    """The users ``actor`` may see and manage: those of their region and below; never a superuser."""
    qs = User.objects.select_related("department").order_by("username")
    if not allowed(actor, "user", "view"):
        return qs.none()
    if actor.is_superuser:
        return qs
    region = actor.region_code or ""
    if not region:
        return qs.none()
    return qs.filter(region_code__startswith=region, is_superuser=False)


def assignable_departments(actor: Any) -> QuerySet[Department]:
    """Departments a user created or changed by ``actor`` may belong to: those of the actor's region and below."""
    qs = Department.objects.order_by("code")
    if actor.is_superuser:
        return qs
    region = actor.region_code or ""
    return qs.filter(region_code__startswith=region) if region else qs.none()


def check_assignment(actor: Any, role: str, region: str, department: Department | None) -> None:
    """Raise ValidationError unless ``actor`` may give a user this role, region and department."""
    from shijian.core.codes.tables import divisions

    if role not in Role.values:
        raise ValidationError(_("Unknown role %(role)s.") % {"role": role})
    if region not in divisions():
        raise ValidationError(_("Unknown division code %(code)s.") % {"code": region})
    if actor.is_superuser:
        return
    own = actor.region_code or ""
    if not own or not region.startswith(own):
        raise ValidationError(_("The region must lie within your own region (%(own)s).") % {"own": own})
    if department is not None and not assignable_departments(actor).filter(pk=department.pk).exists():
        raise ValidationError(_("The department must belong to your own region."))


def _require_manager(actor: Any, action: str) -> None:
    if not allowed(actor, "user", action):
        raise PermissionDenied


def _require_target(actor: Any, target: User) -> None:
    if not manageable_users(actor).filter(pk=target.pk).exists():
        raise PermissionDenied


def create_user(
    actor: Any,
    *,
    username: str,
    role: str,
    region: str,
    department: Department | None,
    password: str | None = None,
    superuser: bool = False,
) -> tuple[User, str]:
    """Create a user; without ``password`` a one-time password is generated (returned, to be shown once).

    A generated password must be changed at the first login. Only a superuser may create a superuser.
    """
    _require_manager(actor, "add")
    if superuser and not actor.is_superuser:
        raise PermissionDenied
    check_assignment(actor, role, region, department)
    if User.objects.filter(username=username).exists():
        raise ValidationError(_("A user named %(name)s exists.") % {"name": username})
    generated = password is None
    secret = one_time_password() if password is None else password
    candidate = User(
        username=username,
        role=role,
        region_code=region,
        department=department,
        is_superuser=superuser,
        is_staff=superuser,
    )
    validate_password(secret, candidate)
    with transaction.atomic():
        candidate.set_password(secret)
        candidate.must_change_password = generated
        candidate.save()
        audit.record(
            audit.Action.CREATE,
            object_type="accounts.user",
            object_id=str(candidate.pk),
            object_repr=username,
            after=public_fields(candidate),
            actor=actor,
        )
    return candidate, secret if generated else ""


def _save_audited(actor: Any, target: User, before: dict[str, Any], fields: list[str], reason: str = "") -> None:
    """Save the changed fields of ``target`` and record the change (before/after, never a password) atomically."""
    with transaction.atomic():
        target.save(update_fields=fields)
        audit.record(
            audit.Action.UPDATE,
            object_type="accounts.user",
            object_id=str(target.pk),
            object_repr=target.username,
            before=before,
            after=public_fields(target),
            reason=reason,
            actor=actor,
        )


def change_user(actor: Any, target: User, *, role: str, region: str, department: Department | None) -> User:
    """Change a user's role, region and department within the actor's own region."""
    _require_manager(actor, "change")
    _require_target(actor, target)
    check_assignment(actor, role, region, department)
    before = public_fields(target)
    target.role, target.region_code, target.department = role, region, department
    _save_audited(actor, target, before, ["role", "region_code", "department"])
    return target


def set_active(actor: Any, target: User, active: bool, reason: str = "") -> User:
    """Deactivate (or reactivate) a user: a deactivated user cannot log in; their history stays."""
    _require_manager(actor, "change")
    _require_target(actor, target)
    if target.pk == getattr(actor, "pk", None):
        raise ValidationError(_("You cannot deactivate yourself."))
    before = public_fields(target)
    target.is_active = active
    _save_audited(actor, target, before, ["is_active"], reason or ("reactivated" if active else "deactivated"))
    return target


def reset_password(actor: Any, target: User) -> str:
    """Give ``target`` a new one-time password (returned, to be shown once) that must be changed at next login."""
    _require_manager(actor, "change")
    _require_target(actor, target)
    secret = one_time_password()
    before = public_fields(target)
    target.set_password(secret)
    target.must_change_password = True
    _save_audited(actor, target, before, ["password", "must_change_password"], "password reset")
    return secret


def reset_second_factor(actor: Any, target: User) -> int:
    """Remove ``target``'s authenticator and recovery codes (a lost phone): they enrol anew at the next sign-in."""
    from shijian.accounts import otp

    _require_manager(actor, "change")
    _require_target(actor, target)
    with transaction.atomic():
        removed = otp.remove_devices(target)
        audit.record(
            audit.Action.UPDATE,
            object_type="accounts.user",
            object_id=str(target.pk),
            object_repr=target.username,
            reason=f"second factor reset ({removed} devices removed)",
            actor=actor,
        )
    return removed


def search(qs: QuerySet[User], text: str) -> QuerySet[User]:
    text = text.strip()
    if not text:
        return qs
    return qs.filter(
        Q(username__icontains=text)
        | Q(first_name__icontains=text)
        | Q(last_name__icontains=text)
        | Q(region_code__startswith=text)
    )
