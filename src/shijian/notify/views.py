"""The notifications list (mark read, mark all read) and the per-kind channel preferences."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shijian.hazards.models import NoticeKind
from shijian.notify import services
from shijian.notify.channels import CHANNELS
from shijian.notify.models import Preference
from shijian.web.pagination import BoundedPaginator


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    qs = services.inbox(request.user).select_related("hazard")
    if request.GET.get("unread"):
        qs = qs.filter(read_at__isnull=True)
    page = BoundedPaginator(qs, 50).get_page(request.GET.get("page"))
    querystring = "unread=1" if request.GET.get("unread") else ""
    return render(request, "notify/list.html", {"page": page, "querystring": querystring})


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    if not services.inbox(request.user).filter(pk=pk).exists():
        raise Http404  # not the user's notice: its existence is not revealed
    services.mark_read(request.user, pk)
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return redirect(target)
    return redirect("notification_list")


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    n = services.mark_read(request.user)
    messages.success(request, _("%(n)d notifications marked read.") % {"n": n})
    return redirect("notification_list")


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    saved = {p.kind: p for p in Preference.objects.filter(user=user)}
    if request.method == "POST":
        for kind in NoticeKind.values:
            Preference.objects.update_or_create(
                user=user,
                kind=kind,
                defaults={name: request.POST.get(f"{kind}-{name}") == "on" for name in CHANNELS},
            )
        messages.success(request, _("Notification preferences saved."))
        return redirect("notification_preferences")
    rows = []
    for kind, label in NoticeKind.choices:
        pref = saved.get(kind) or Preference(user=user, kind=kind)
        rows.append({"kind": kind, "label": label, "channels": [(n, getattr(pref, n)) for n in CHANNELS]})
    ready = {name: channel.ready(user) for name, channel in CHANNELS.items()}
    return render(request, "notify/preferences.html", {"rows": rows, "ready": ready})
