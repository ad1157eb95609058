"""The second factor's screens: enrol an authenticator, enter a code at sign-in, and a data administrator's reset.
Thin: the rules are in ``accounts.otp`` and ``accounts.services``."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from shijian.accounts import otp


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return "/"


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


@login_required
def otp_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator: scan the QR code (or type the secret), confirm with its first code."""
    user = request.user
    if otp.enrolled(user) and not user.is_verified():  # type: ignore[union-attr]
        # A password alone may not replace an enrolled authenticator: that is the administrator's reset.
        return redirect(f"{reverse('otp_verify')}?{urlencode({'next': _next(request)})}")
    if otp.enrolled(user):
        return render(request, "accounts/otp_enrolled.html")
    device = otp.pending_device(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = otp.confirm(user, device, form.cleaned_data["code"])
        if codes is not None:
            otp_login(request, device)
            page = render(request, "accounts/otp_recovery.html", {"codes": codes, "next": _next(request)})
            return _no_store(page)
        form.add_error("code", _("The code is wrong or has expired. Enter the code now shown by the app."))
    context = {"form": form, "qr": otp.qr_svg(device), "secret": otp.secret_text(device), "next": _next(request)}
    return _no_store(render(request, "accounts/otp_setup.html", context))


@login_required
def otp_verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in: a code from the authenticator, or one of the recovery codes."""
    user = request.user
    if not otp.enrolled(user):
        return redirect(f"{reverse('otp_setup')}?{urlencode({'next': _next(request)})}")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = otp.verify(user, form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            return redirect(_next(request))
        form.add_error("code", _("The code is wrong or has expired."))
    return _no_store(render(request, "accounts/otp_verify.html", {"form": form, "next": _next(request)}))


@login_required
@require_POST
def otp_recovery_codes(request: HttpRequest) -> HttpResponse:
    """Replace one's recovery codes (after using some), once signed in with the second factor."""
    user = request.user
    if not otp.enrolled(user) or not user.is_verified():  # type: ignore[union-attr]
        return redirect("otp_setup")
    codes = otp.replace_recovery_codes(user)
    return _no_store(render(request, "accounts/otp_recovery.html", {"codes": codes, "next": reverse("home")}))
