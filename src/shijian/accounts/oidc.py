"""OIDC sign-in (mozilla-django-oidc): "统一身份认证登录" through the bureau's identity provider.

Enabled by ``SHIJIAN_OIDC_CLIENT_ID`` and the provider's endpoints (``config/identity.py``). The user is found by
the ``preferred_username`` claim (else ``sub``); the groups claim (``SHIJIAN_OIDC_GROUPS_CLAIM``) gives role,
region and department at every sign-in (``accounts.directory``). Leaders and administrators still pass this
platform's own second factor afterwards.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from shijian.accounts import directory
from shijian.accounts.models import User
from shijian.accounts.services import public_fields
from shijian.accounts.usernames import normalise_username
from shijian.core import audit

log = logging.getLogger("shijian.accounts")


def _username(claims: dict[str, Any]) -> str:
    return normalise_username(str(claims.get("preferred_username") or claims.get("sub") or ""))


def _assignment(claims: dict[str, Any]) -> directory.Assignment:
    groups = claims.get(settings.SHIJIAN_OIDC_GROUPS_CLAIM) or []
    if isinstance(groups, str):
        groups = [groups]
    try:
        return directory.assignment_from_groups(_username(claims), [str(g) for g in groups])
    except directory.DirectoryRefusal as exc:
        directory.refuse(exc, "OIDC")
        raise


class OIDCBackend(OIDCAuthenticationBackend):  # type: ignore[misc]
    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> Any:
        """The library's code exchange and token checks; a provider that cannot be reached, or a token that is
        expired, forged or malformed, fails the sign-in with the login page's message instead of an error page."""
        import jwt
        import requests

        try:
            return super().authenticate(request, **kwargs)
        except directory.DirectoryRefusal:
            raise
        except (jwt.PyJWTError, requests.RequestException, SuspiciousOperation, ValueError, KeyError) as exc:
            log.warning("OIDC sign-in failed: %s: %s", type(exc).__name__, exc)
            audit.record(audit.Action.LOGIN_FAILED, object_type="accounts.user", reason=f"OIDC: {type(exc).__name__}")
            return None

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        return bool(_username(claims))

    def filter_users_by_claims(self, claims: dict[str, Any]) -> Any:
        return User.objects.filter(username=_username(claims))

    def create_user(self, claims: dict[str, Any]) -> User:
        assignment = _assignment(claims)
        user = User(username=_username(claims), email=str(claims.get("email") or ""))
        user.set_unusable_password()
        directory.apply(user, assignment)
        user.save()
        directory.record_sync(user, None, "OIDC")
        return user

    def update_user(self, user: User, claims: dict[str, Any]) -> User:
        assignment = _assignment(claims)
        before = public_fields(user)
        if directory.apply(user, assignment):
            user.save(update_fields=["role", "region_code", "department"])
        directory.record_sync(user, before, "OIDC")
        return user


class _Callback(OIDCAuthenticationCallbackView):  # type: ignore[misc]
    def login_success(self) -> HttpResponse:
        audit.record(
            audit.Action.LOGIN,
            object_type="accounts.user",
            object_id=str(self.user.pk),
            object_repr=self.user.username,
            reason="OIDC",
            actor=self.user,
        )
        response: HttpResponse = super().login_success()
        return response


def _enabled() -> None:
    if not settings.SHIJIAN_OIDC_ENABLED:
        raise Http404("OIDC sign-in is not configured")


def oidc_login(request: HttpRequest) -> HttpResponse:
    """Send the browser to the identity provider."""
    _enabled()
    response: HttpResponse = OIDCAuthenticationRequestView.as_view()(request)
    return response


def oidc_callback(request: HttpRequest) -> HttpResponse:
    """The provider sends the browser back here with a code; the code is exchanged and the user signed in."""
    _enabled()
    response: HttpResponse = _Callback.as_view()(request)
    return response
