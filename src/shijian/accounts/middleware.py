"""Steps a signed-in user passes before anything else: the second factor, then a reset password's change."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode


class PasswordChangeRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and getattr(user, "must_change_password", False):
            allowed = {reverse("password_change"), reverse("logout")}
            if request.path not in allowed and not request.path.startswith(("/static/", "/i18n/")):
                return redirect("password_change")
        return self.get_response(request)


class SecondFactorRequiredMiddleware:
    """A user whose role requires a second factor (``accounts.otp.required``) passes it before anything else:
    enrolment when they have no authenticator yet, else the code. After django-otp's ``OTPMiddleware``."""

    EXEMPT_NAMES = ("otp_setup", "otp_verify", "logout")
    EXEMPT_PREFIXES = ("/static/", "/i18n/", "/api/", "/metrics", "/healthz")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from shijian.accounts import otp

        user = getattr(request, "user", None)
        if otp.required(user) and not user.is_verified():  # type: ignore[union-attr]
            exempt = {reverse(name) for name in self.EXEMPT_NAMES}
            if request.path not in exempt and not request.path.startswith(self.EXEMPT_PREFIXES):
                step = "otp_verify" if otp.enrolled(user) else "otp_setup"
                return redirect(f"{reverse(step)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
