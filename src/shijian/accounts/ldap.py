"""LDAP sign-in (django-auth-ldap): the directory checks the password, its groups give role, region, department.

Enabled by ``SHIJIAN_LDAP_URL`` (``config/identity.py`` builds django-auth-ldap's settings). Local accounts keep
signing in with their own password first; a directory user is created on their first sign-in, without a local
password, and their assignment is copied from the groups at every sign-in (``accounts.directory``).
"""

from __future__ import annotations

from typing import Any

from django_auth_ldap.backend import LDAPBackend as _LDAPBackend

from shijian.accounts import directory
from shijian.accounts.services import public_fields
from shijian.accounts.usernames import normalise_username


class LDAPBackend(_LDAPBackend):  # type: ignore[misc]
    def ldap_to_django_username(self, username: str) -> str:
        return normalise_username(username)

    def get_or_build_user(self, username: str, ldap_user: Any) -> tuple[Any, bool]:
        user, built = super().get_or_build_user(username, ldap_user)
        try:
            assignment = directory.assignment_from_groups(username, ldap_user.group_names)
            user._directory_before = None if built else public_fields(user)
            directory.apply(user, assignment)
        except directory.DirectoryRefusal as exc:
            directory.refuse(exc, "LDAP")
        return user, built

    def authenticate_ldap_user(self, ldap_user: Any, password: str) -> Any:
        user = super().authenticate_ldap_user(ldap_user, password)
        if user is not None:
            directory.record_sync(user, getattr(user, "_directory_before", None), "LDAP")
        return user
