"""Users from a directory (LDAP or OIDC): their groups say their role, region and department.

One rule for both sign-ins. Group names (an LDAP group's ``cn``, an OIDC ``groups`` claim's values) follow the
convention ``{prefix}-role-{role}``, ``{prefix}-region-{division code}`` and ``{prefix}-dept-{department code}``,
with the prefix ``SHIJIAN_DIRECTORY_GROUP_PREFIX`` (``shijian``). A user needs exactly one role group; the region
comes from exactly one region group, else from the department; groups that do not start with the prefix are
ignored. A user whose groups do not say all that, or say it twice, is refused sign-in (with the reason in the
log). The directory never makes a superuser and never changes one. Each sign-in copies the groups' assignment onto
the user; a change (or a new user) is an audit event.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction

from shijian.accounts.models import Role, User
from shijian.core import audit
from shijian.registry.models import Department

log = logging.getLogger("shijian.accounts")


class DirectoryRefusal(PermissionDenied):
    """The directory's groups do not give this user a valid assignment: sign-in is refused."""


@dataclass(frozen=True)
class Assignment:
    role: str
    region: str
    department: Department | None


def _values(groups: Iterable[str], kind: str) -> set[str]:
    start = f"{settings.SHIJIAN_DIRECTORY_GROUP_PREFIX}-{kind}-"
    return {g[len(start) :].strip() for g in groups if g.startswith(start) and g[len(start) :].strip()}


def _one(values: set[str], what: str, username: str) -> str:
    if len(values) != 1:
        found = ", ".join(sorted(values)) or "none"
        raise DirectoryRefusal(f"{username}: the directory must give exactly one {what} group (found: {found})")
    return next(iter(values))


def assignment_from_groups(username: str, groups: Iterable[str]) -> Assignment:
    """The role, region and department that ``groups`` give ``username``; DirectoryRefusal if they do not."""
    from shijian.core.codes.tables import divisions

    groups = list(groups)
    role = _one(_values(groups, "role"), "role", username)
    if role not in Role.values:
        raise DirectoryRefusal(f"{username}: unknown role {role!r} in the directory")
    dept_codes = _values(groups, "dept")
    department = None
    if dept_codes:
        code = _one(dept_codes, "department", username)
        department = Department.objects.filter(code=code).first()
        if department is None:
            raise DirectoryRefusal(f"{username}: unknown department {code!r} in the directory")
    regions = _values(groups, "region")
    if regions:
        region = _one(regions, "region", username)
    elif department is not None:
        region = department.region_code
    else:
        raise DirectoryRefusal(f"{username}: the directory gives neither a region nor a department")
    if region not in divisions():
        raise DirectoryRefusal(f"{username}: unknown division code {region!r} in the directory")
    return Assignment(role=role, region=region, department=department)


def apply(user: User, assignment: Assignment) -> bool:
    """Copy the assignment onto an unsaved or saved ``user``; whether anything changed."""
    if user.is_superuser:
        raise DirectoryRefusal(f"{user.username}: a superuser signs in with the local password only")
    before = (user.role, user.region_code, user.department_id)
    user.role, user.region_code, user.department = assignment.role, assignment.region, assignment.department
    return before != (user.role, user.region_code, user.department_id) or user.pk is None


def record_sync(user: User, before: dict[str, Any] | None, source: str) -> None:
    """The audit event of a directory sign-in that created the user (``before`` None) or changed them."""
    from shijian.accounts.services import public_fields

    after = public_fields(user)
    if before == after:
        return
    with transaction.atomic():
        audit.record(
            audit.Action.CREATE if before is None else audit.Action.UPDATE,
            object_type="accounts.user",
            object_id=str(user.pk),
            object_repr=user.username,
            before=before,
            after=after,
            reason=f"assignment from the directory ({source})",
            actor=user,
        )


def refuse(exc: DirectoryRefusal, source: str) -> None:
    """Log a refusal (the reason names groups, never secrets) and re-raise it: Django's ``authenticate`` then
    answers None and the sign-in fails like a wrong password."""
    log.warning("%s sign-in refused: %s", source, exc)
    audit.record(audit.Action.LOGIN_FAILED, object_type="accounts.user", reason=f"{source}: {exc}")
    raise exc
