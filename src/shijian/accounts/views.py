"""User administration for data administrators, and password change for everyone. Thin: rules in services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shijian.accounts import services
from shijian.accounts.forms import AssignmentForm, NewUserForm
from shijian.accounts.models import User
from shijian.core import audit
from shijian.core.permissions import allowed, require


@login_required
def user_list(request: HttpRequest) -> HttpResponse:
    require(request.user, "user", "view")
    q = request.GET.get("q", "")
    qs = services.search(services.manageable_users(request.user), q)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/user_list.html",
        {"page": page, "q": q, "can_add": allowed(request.user, "user", "add")},
    )


def _shown_once(request: HttpRequest, target: User, secret: str) -> HttpResponse:
    response = render(request, "accounts/one_time_password.html", {"target": target, "secret": secret})
    response["Cache-Control"] = "no-store"
    return response


def _assignment_error(form: Any, exc: ValidationError) -> None:
    for message in exc.messages:
        form.add_error(None, message)


@login_required
def user_add(request: HttpRequest) -> HttpResponse:
    require(request.user, "user", "add")
    form = NewUserForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user, secret = services.create_user(
                request.user,
                username=data["username"],
                role=data["role"],
                region=data["region"],
                department=data["department"],
            )
        except ValidationError as exc:
            _assignment_error(form, exc)
        else:
            return _shown_once(request, user, secret)
    return render(request, "accounts/user_form.html", {"form": form, "target": None})


def _target(request: HttpRequest, pk: int) -> User:
    """A user the actor may manage; any other answers 404 (its existence is not revealed)."""
    return get_object_or_404(services.manageable_users(request.user), pk=pk)


@login_required
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, "user", "change")
    target = _target(request, pk)
    initial = {"role": target.role, "region": target.region_code, "department": target.department}
    form = AssignmentForm(request.POST or None, actor=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.change_user(
                request.user, target, role=data["role"], region=data["region"], department=data["department"]
            )
        except ValidationError as exc:
            _assignment_error(form, exc)
        else:
            messages.success(request, _("User %(name)s saved.") % {"name": target.username})
            return redirect("user_list")
    return render(request, "accounts/user_form.html", {"form": form, "target": target})


@login_required
@require_POST
def user_active(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, "user", "change")
    target = _target(request, pk)
    active = request.POST.get("active") == "1"
    try:
        services.set_active(request.user, target, active, reason=request.POST.get("reason", "")[:500])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        text = _("User %(name)s reactivated.") if active else _("User %(name)s deactivated.")
        messages.success(request, text % {"name": target.username})
    return redirect("user_list")


@login_required
@require_POST
def user_reset(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, "user", "change")
    target = _target(request, pk)
    return _shown_once(request, target, services.reset_password(request.user, target))


@login_required
@require_POST
def user_reset_otp(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove a user's authenticator and recovery codes (a lost phone); they enrol anew at the next login."""
    require(request.user, "user", "change")
    target = _target(request, pk)
    services.reset_second_factor(request.user, target)
    text = _("The second factor of %(name)s was reset: they enrol anew at the next login.")
    messages.success(request, text % {"name": target.username})
    return redirect("user_list")


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change in the project's templates; clears a reset's "must change" and is audited."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("password_change_done")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        user = form.user
        if user.must_change_password:
            user.must_change_password = False
            user.save(update_fields=["must_change_password"])
        audit.record(
            audit.Action.UPDATE,
            object_type="accounts.user",
            object_id=str(user.pk),
            object_repr=user.username,
            reason="password changed by the user",
            actor=user,
        )
        return response


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"
