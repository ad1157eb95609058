"""The permission matrix: which role may do what on which kind of object.

A registry, as Datasette keeps one: docs/permissions.md documents every row and a test fails when one is
missing. Jurisdiction (which rows a user may see) is applied on top, by ``shijian.core.jurisdiction``.
"""

from __future__ import annotations

from typing import Any, Literal

Action = Literal["view", "add", "change", "delete", "import", "export"]

LEADER, DEPT, INSPECTOR, ADMIN, AUDITOR = "leader", "dept_staff", "inspector", "data_admin", "auditor"
ALL_ROLES = frozenset({LEADER, DEPT, INSPECTOR, ADMIN, AUDITOR})

MATRIX: dict[tuple[str, str], frozenset[str]] = {
    ("entity", "view"): ALL_ROLES,
    ("entity", "add"): frozenset({ADMIN}),
    ("entity", "change"): frozenset({ADMIN}),
    ("entity", "delete"): frozenset({ADMIN}),
    ("entity", "import"): frozenset({ADMIN}),
    ("entity", "export"): frozenset({LEADER, DEPT, ADMIN}),
    ("department", "view"): ALL_ROLES,
    ("department", "add"): frozenset({ADMIN}),
    ("department", "change"): frozenset({ADMIN}),
    ("department", "delete"): frozenset({ADMIN}),
    ("department", "import"): frozenset({ADMIN}),
    ("department", "export"): frozenset({LEADER, DEPT, ADMIN, AUDITOR}),
    ("inspector", "view"): frozenset({LEADER, DEPT, INSPECTOR, ADMIN, AUDITOR}),
    ("inspector", "add"): frozenset({ADMIN, DEPT}),
    ("inspector", "change"): frozenset({ADMIN, DEPT}),
    ("inspector", "delete"): frozenset({ADMIN}),
    ("inspector", "import"): frozenset({ADMIN, DEPT}),
    ("inspector", "export"): frozenset({LEADER, DEPT, ADMIN, AUDITOR}),
    ("item", "view"): ALL_ROLES,
    ("item", "add"): frozenset({ADMIN, DEPT}),
    ("item", "change"): frozenset({ADMIN, DEPT}),
    ("item", "delete"): frozenset({ADMIN}),
    ("item", "import"): frozenset({ADMIN, DEPT}),
    ("item", "export"): frozenset({LEADER, DEPT, ADMIN, AUDITOR}),
    ("responsibility", "view"): ALL_ROLES,
    ("responsibility", "add"): frozenset({ADMIN, DEPT}),
    ("responsibility", "change"): frozenset({ADMIN, DEPT}),
    ("responsibility", "delete"): frozenset({ADMIN}),
    ("responsibility", "import"): frozenset({ADMIN, DEPT}),
    ("responsibility", "export"): frozenset({LEADER, DEPT, ADMIN, AUDITOR}),
    ("linkage", "view"): frozenset({LEADER, ADMIN, AUDITOR}),
    ("linkage", "change"): frozenset({ADMIN}),
    ("plan", "view"): frozenset({LEADER, DEPT, ADMIN, AUDITOR}),
    ("plan", "add"): frozenset({LEADER, DEPT}),
    ("plan", "change"): frozenset({LEADER, DEPT}),
    ("draw", "view"): frozenset({LEADER, DEPT, ADMIN, AUDITOR}),
    ("draw", "change"): frozenset({LEADER, DEPT}),
    ("visit", "view"): frozenset({LEADER, DEPT, INSPECTOR, ADMIN, AUDITOR}),
    ("visit", "change"): frozenset({INSPECTOR}),
    ("publication", "view"): frozenset({LEADER, DEPT, AUDITOR}),
    ("publication", "change"): frozenset({LEADER, DEPT}),
    ("hazard", "view"): frozenset({LEADER, DEPT, INSPECTOR, ADMIN, AUDITOR}),
    ("hazard", "add"): frozenset({LEADER, DEPT, INSPECTOR}),
    ("hazard", "change"): frozenset({LEADER, DEPT, INSPECTOR}),
    ("hazard", "export"): frozenset({LEADER, DEPT, AUDITOR}),
    ("reminder", "view"): frozenset({LEADER, DEPT, INSPECTOR, ADMIN}),
    ("reminder", "export"): frozenset({LEADER, DEPT, ADMIN}),
    ("risk", "view"): frozenset({LEADER, DEPT, ADMIN, AUDITOR}),
    ("analytics", "view"): frozenset({LEADER, DEPT, ADMIN, AUDITOR}),
    ("record", "view"): frozenset({LEADER, DEPT, INSPECTOR, ADMIN, AUDITOR}),
    ("load", "view"): frozenset({LEADER, DEPT, ADMIN, AUDITOR}),
    ("load", "import"): frozenset({DEPT, ADMIN}),
    ("job", "view"): ALL_ROLES,
    ("schedule", "view"): frozenset({LEADER, ADMIN, AUDITOR}),
    ("feed", "view"): frozenset({LEADER, ADMIN, AUDITOR}),
    ("feed", "add"): frozenset({ADMIN}),
    ("feed", "change"): frozenset({ADMIN}),
    ("feed", "import"): frozenset({ADMIN}),
    ("audit", "view"): frozenset({AUDITOR}),
    ("audit", "export"): frozenset({AUDITOR}),
    ("complaint", "view"): frozenset({LEADER, DEPT, INSPECTOR, ADMIN, AUDITOR}),
    ("complaint", "add"): frozenset({LEADER, DEPT}),
    ("complaint", "change"): frozenset({LEADER, DEPT}),
    ("complaint", "import"): frozenset({DEPT, ADMIN}),
    ("case", "view"): frozenset({LEADER, DEPT, INSPECTOR, ADMIN, AUDITOR}),
    ("case", "add"): frozenset({LEADER, DEPT}),
    ("case", "change"): frozenset({LEADER, DEPT, INSPECTOR}),
    ("user", "view"): frozenset({ADMIN}),
    ("user", "add"): frozenset({ADMIN}),
    ("user", "change"): frozenset({ADMIN}),
}


def require(user: Any, kind: str, action: str) -> None:
    """Raise PermissionDenied (HTTP 403) unless ``allowed``."""
    from django.core.exceptions import PermissionDenied

    if not allowed(user, kind, action):
        raise PermissionDenied


def allowed(user: Any, kind: str, action: str) -> bool:
    """Whether the user's role may perform ``action`` on objects of ``kind`` (jurisdiction aside)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    roles = MATRIX.get((kind, action))
    if roles is None:
        raise KeyError(f"no permission rule for ({kind!r}, {action!r}); add it to MATRIX and docs/permissions.md")
    if user.is_superuser:
        return True
    return getattr(user, "role", "") in roles
