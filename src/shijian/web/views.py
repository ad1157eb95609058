from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from shijian.core import audit
from shijian.core.permissions import allowed
from shijian.registry.models import EntityStatus
from shijian.registry.stats import status_counts
from shijian.web import throttle


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
    """Django's login, with failures throttled per (username, address) and recorded in the audit log."""

    template_name = "web/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        username = request.POST.get("username", "")[:150]
        ip = throttle.client_ip(request)
        if throttle.is_locked(username, ip):
            form = self.get_form()
            form.errors.clear()
            context = self.get_context_data(form=form, locked=True)
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: Any) -> HttpResponse:
        username = self.request.POST.get("username", "")[:150]
        throttle.note_failure(username, throttle.client_ip(self.request))
        audit.record(audit.Action.LOGIN_FAILED, object_type="accounts.user", object_repr=username)
        return super().form_invalid(form)

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        throttle.reset(user.get_username(), throttle.client_ip(self.request))
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
