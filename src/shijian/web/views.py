from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from shijian.accounts.usernames import normalise_username
from shijian.core import audit
from shijian.core.permissions import allowed
from shijian.core.request_context import client_ip
from shijian.registry.models import EntityStatus
from shijian.registry.stats import status_counts
from shijian.web import throttle
from shijian.web.params import BadParameter


def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"ok": True})


# Where each role starts its day: an inspector on its tasks, a leader on the figures, ...
ROLE_HOME = {
    "inspector": "task_list",
    "leader": "analytics",
    "dept_staff": "operations",
    "auditor": "audit_list",
}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    target = ROLE_HOME.get(getattr(request.user, "role", ""))
    if target and not request.GET.get("overview"):
        return redirect(target)
    return overview(request)


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    """The entity counts of the user's jurisdiction (the data administrator's start page)."""
    by_status = status_counts(request.user)

    rows = [(label, by_status.get(key, 0), key) for key, label in EntityStatus.choices]
    return render(request, "web/home.html", {"status_rows": rows, "total": sum(by_status.values())})


class LoginView(auth_views.LoginView):
    """Django's login on the normalised user name (``accounts.usernames``), with failures throttled per name and
    per client address (``web.throttle``); failures, lockouts and logins are recorded in the audit log."""

    template_name = "web/login.html"
    redirect_authenticated_user = True

    def _username(self) -> str:
        return normalise_username(self.request.POST.get("username", ""))

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        if "data" in kwargs:
            data = kwargs["data"].copy()
            data["username"] = self._username()
            kwargs["data"] = data
        return kwargs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["oidc_enabled"] = settings.SHIJIAN_OIDC_ENABLED
        context["sso_failed"] = self.request.GET.get("sso") == "failed"
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if throttle.is_locked(self._username(), client_ip(request)):
            audit.record(audit.Action.LOGIN_LOCKED, object_type="accounts.user", object_repr=self._username())
            form = self.get_form()
            form.errors.clear()
            context = self.get_context_data(form=form, locked=True)
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: Any) -> HttpResponse:
        throttle.note_failure(self._username(), client_ip(self.request))
        audit.record(audit.Action.LOGIN_FAILED, object_type="accounts.user", object_repr=self._username())
        return super().form_invalid(form)

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        throttle.reset(user.get_username())
        audit.record(
            audit.Action.LOGIN,
            object_type="accounts.user",
            object_id=str(user.pk),
            object_repr=user.username,
            actor=user,
        )
        return super().form_valid(form)


@login_required
def audit_verify(request: HttpRequest) -> HttpResponse:
    if not allowed(request.user, "audit", "view"):
        raise PermissionDenied
    report = audit.verify_chain()
    return render(request, "web/audit_verify.html", {"report": report})


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", {"message": _("You do not have permission to do this.")}, status=403)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A malformed query or form value (``web.params``): its message; anything else, a generic one."""
    message = str(exception) if isinstance(exception, BadParameter) else _("The request is malformed.")
    if request.path.startswith("/api/"):  # a machine's request: the API's own error shape
        return JsonResponse({"detail": message}, status=400)
    return render(request, "400.html", {"message": message}, status=400)
