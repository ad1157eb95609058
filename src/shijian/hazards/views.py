"""Screens of the hazard library: the list, an entry and its history, dashboards, repeat offenders, reminders."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shijian.core import audit
from shijian.core.codes import uscc
from shijian.core.jurisdiction import restrict
from shijian.core.permissions import allowed, require
from shijian.hazards import grading, services, workflow
from shijian.hazards.models import Category, Grade, Hazard, Reminder, ReminderKind, Source, State, Transition
from shijian.registry.display import region_name
from shijian.registry.models import Department, Entity
from shijian.registry.search import entity_q
from shijian.registry.views import towns_under
from shijian.web.pagination import BoundedPaginator
from shijian.web.params import id_value, int_param
from shijian.web.pickers import preselect_single
from shijian.web.tabular import write_xlsx, xlsx_response

FILTERS = ("q", "grade", "state", "category", "source", "department", "town", "overdue", "due_within", "open")


def _filtered(request: HttpRequest) -> tuple[Any, dict[str, str]]:
    qs = restrict(Hazard.objects.all(), request.user)
    f = {k: request.GET.get(k, "").strip() for k in FILTERS}
    today = timezone.localdate()
    if f["q"]:
        qs = qs.filter(Q(title__contains=f["q"]) | Q(entity__in=Entity.objects.filter(entity_q(f["q"])).values("pk")))
    if f["grade"] in Grade.values:
        qs = qs.filter(grade=f["grade"])
    if f["state"] in State.values:
        qs = qs.filter(state=f["state"])
    elif f["open"] != "all":
        qs = qs.filter(state__in=workflow.OPEN)
    if f["category"] in Category.values:
        qs = qs.filter(category=f["category"])
    if f["source"] in Source.values:
        qs = qs.filter(source=f["source"])
    if f["department"]:
        qs = qs.filter(department_id=id_value("department", f["department"]))
    if f["town"].isdigit() and len(f["town"]) == 9:
        qs = qs.filter(town_code=f["town"])
    if f["overdue"] == "1":
        qs = qs.filter(services.overdue_q(today))
    due_within = int_param(request, "due_within", low=1, high=366)
    if due_within is not None:
        qs = qs.filter(services.due_within_q(today, due_within))
    return qs, f


@login_required
def hazard_list(request: HttpRequest) -> HttpResponse:
    require(request.user, "hazard", "view")
    qs, f = _filtered(request)
    qs = qs.select_related("entity", "department").order_by("-opened_at", "-id")
    page = BoundedPaginator(qs, 50).get_page(request.GET.get("page"))
    departments = restrict(Department.objects.all(), request.user).order_by("code").values_list("pk", "name")
    query = "&".join(f"{k}={v}" for k, v in f.items() if v)
    return render(
        request,
        "hazards/hazard_list.html",
        {
            "page": page,
            "f": f,
            "today": timezone.localdate(),
            "grades": Grade.choices,
            "states": State.choices,
            "categories": Category.choices,
            "sources": Source.choices,
            "departments": list(departments[:300]),
            "towns": towns_under(getattr(request.user, "region_code", "") or settings.SHIJIAN_HOME_REGION),
            "querystring": query,
            "can_export": allowed(request.user, "hazard", "export"),
            "can_add": allowed(request.user, "hazard", "add"),
        },
    )


@login_required
def hazard_export(request: HttpRequest) -> HttpResponse:
    require(request.user, "hazard", "export")
    qs, _f = _filtered(request)
    rows = qs.select_related("entity", "department").order_by("-opened_at")[:200_000]
    labels = {**dict(Grade.choices), **dict(State.choices), **dict(Category.choices), **dict(Source.choices)}
    headers = [
        "编号",
        "市场主体",
        "统一社会信用代码",
        "来源",
        "类别",
        "等级",
        "状态",
        "责任部门",
        "整改期限",
        "登记时间",
        "是否重复",
    ]
    data = (
        [
            h.pk,
            h.entity.name,
            h.entity.uscc or "",
            str(labels[h.source]),
            str(labels[h.category]),
            str(labels[h.grade]),
            str(labels[h.state]),
            h.department.name,
            h.deadline,
            timezone.localtime(h.opened_at).strftime("%Y-%m-%d %H:%M"),
            "是" if h.repeat else "",
        ]
        for h in rows.iterator(chunk_size=2000)
    )
    audit.record("export", object_type="hazards.hazard", object_repr="hazard list", reason=request.GET.urlencode())
    return xlsx_response("problems-and-hazards.xlsx", write_xlsx(headers, data))


class ChangeForm(forms.Form):
    new_state = forms.ChoiceField(label=gettext_lazy("new state"), choices=State.choices)
    reason = forms.CharField(label=gettext_lazy("reason"), max_length=300)
    evidence = forms.CharField(label=gettext_lazy("evidence"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    deadline = forms.DateField(
        label=gettext_lazy("new deadline"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


@login_required
def hazard_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, "hazard", "view")
    h = get_object_or_404(restrict(Hazard.objects.all(), request.user).select_related("entity", "department"), pk=pk)
    labels = dict(State.choices)
    form = ChangeForm(request.POST or None)
    form.fields["new_state"].choices = [(s, labels[s]) for s in workflow.allowed_next(h.state)]  # type: ignore[attr-defined]
    if request.method == "POST":
        require(request.user, "hazard", "change")
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.change(
                    h, d["new_state"], request.user, reason=d["reason"], evidence=d["evidence"], deadline=d["deadline"]
                )
            except services.HazardError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _("State changed."))
                return redirect(h)
    return render(
        request,
        "hazards/hazard_detail.html",
        {
            "h": h,
            "transitions": [
                (t, labels.get(t.old_state, ""), labels.get(t.new_state, t.new_state))
                for t in h.transitions.select_related("actor").order_by("at", "id")
            ],
            "form": form,
            "can_change": allowed(request.user, "hazard", "change") and bool(workflow.allowed_next(h.state)),
            "cases": list(h.cases.order_by("id")),
            "can_open_case": h.state == workflow.ESCALATED
            and not h.cases.exists()
            and allowed(request.user, "case", "add"),
            "overdue": h.state in workflow.OVERDUE_CAN_ESCALATE and h.deadline < timezone.localdate(),
            "frequency": [
                {**r, "category": dict(Category.choices).get(r["category"], r["category"])}
                for r in services.entity_frequency(h.entity_id)
            ],
            "dimensions": [(DIMENSION_NAMES[k], h.scores.get(k), top) for k, top in grading.DIMENSIONS.items()],
        },
    )


DIMENSION_NAMES = {
    "severity": gettext_lazy("severity of harm"),
    "extent": gettext_lazy("extent"),
    "confidence": gettext_lazy("management confidence"),
}


class OpenForm(forms.Form):
    entity_uscc = forms.CharField(
        label=gettext_lazy("entity (unified social credit code)"),
        help_text=gettext_lazy("type part of the name, the address or the code, and choose"),
        widget=forms.TextInput(attrs={"data-suggest": "entity"}),  # picker.js: suggestions from pick/entities/
    )
    title = forms.CharField(label=gettext_lazy("title"), max_length=200)
    description = forms.CharField(
        label=gettext_lazy("description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    source = forms.ChoiceField(label=gettext_lazy("source"), choices=Source.choices, initial=Source.MANUAL)
    category = forms.ChoiceField(label=gettext_lazy("category"), choices=Category.choices)
    department = forms.ModelChoiceField(
        label=gettext_lazy("responsible department"), queryset=Department.objects.none()
    )
    severity = forms.TypedChoiceField(
        label=gettext_lazy("severity of harm (0–25)"), coerce=int, choices=[(i, i) for i in range(0, 30, 5)]
    )
    extent = forms.TypedChoiceField(
        label=gettext_lazy("extent (0–25)"), coerce=int, choices=[(i, i) for i in range(0, 30, 5)]
    )
    confidence = forms.TypedChoiceField(
        label=gettext_lazy("management confidence (0–30, higher is worse)"),
        coerce=int,
        choices=[(i, i) for i in range(0, 35, 5)],
    )
    deadline = forms.DateField(
        label=gettext_lazy("deadline"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("empty: by grade (7, 15 or 30 days)"),
    )


@login_required
def hazard_add(request: HttpRequest) -> HttpResponse:
    require(request.user, "hazard", "add")
    form = OpenForm(request.POST or None)
    form.fields["department"].queryset = restrict(Department.objects.filter(active=True), request.user)  # type: ignore[attr-defined]
    preselect_single(form.fields["department"])
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        code = uscc.validate(d["entity_uscc"].strip())
        entity = restrict(Entity.objects.all(), request.user).filter(uscc=code.code).first() if code.ok else None
        if entity is None:
            form.add_error("entity_uscc", _("No entity with this code in your jurisdiction."))
        else:
            try:
                h = services.open_entry(
                    entity,
                    source=d["source"],
                    title=d["title"],
                    description=d["description"],
                    category=d["category"],
                    department=d["department"],
                    scores={"severity": d["severity"], "extent": d["extent"], "confidence": d["confidence"]},
                    deadline=d["deadline"],
                    user=request.user,
                )
            except services.HazardError as exc:
                form.add_error(None, str(exc))
            else:
                return redirect(h)
    return render(request, "hazards/form.html", {"form": form, "title": _("New problem or hazard")})


@login_required
def open_from_check(request: HttpRequest, check_pk: int) -> HttpResponse:
    """From an inspection result with a finding, one step to an entry."""
    from shijian.supervision.models import Visit, VisitItem

    require(request.user, "hazard", "add")
    if request.method != "POST":
        raise PermissionDenied
    check = get_object_or_404(
        VisitItem.objects.select_related("visit__entity", "item", "batch__department"), pk=check_pk
    )
    if not restrict(Visit.objects.all(), request.user).filter(pk=check.visit_id).exists():
        raise PermissionDenied
    existing = Hazard.objects.filter(source_ref=f"visititem:{check.pk}").first()
    if existing is not None:
        return redirect(existing)
    try:
        h = services.open_from_finding(check, request.user)
    except services.HazardError as exc:
        messages.error(request, str(exc))
        return redirect(check.visit)
    messages.success(request, _("Entry #%(id)d opened in the library.") % {"id": h.pk})
    return redirect(h)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    require(request.user, "hazard", "view")
    today = timezone.localdate()
    hz, tr = restrict(Hazard.objects.all(), request.user), restrict(Transition.objects.all(), request.user)
    by_dept = services.dashboard("department", hz, tr, today)
    by_town = services.dashboard("town_code", hz, tr, today)
    names = dict(Department.objects.filter(pk__in=[int(r.key) for r in by_dept]).values_list("pk", "name"))
    from shijian.core.codes.tables import divisions

    div = divisions()
    since = timezone.now() - dt.timedelta(days=services.REPEAT_WINDOW_DAYS)
    return render(
        request,
        "hazards/dashboard.html",
        {
            "by_dept": [(names.get(int(r.key), r.key), r) for r in by_dept],
            "by_town": [(div[r.key].name if r.key in div else r.key, r) for r in by_town],
            "offenders": list(services.repeat_offenders(since, hz)[:100]),
            "threshold": services.REPEAT_OFFENDER_ENTRIES,
            "notifications": _notifications(request),
        },
    )


def _notifications(request: HttpRequest) -> list[Any]:
    from shijian.notify.services import inbox

    return list(restrict(inbox(request.user).filter(read_at__isnull=True, hazard__isnull=False), request.user)[:20])


@login_required
def reminder_list(request: HttpRequest) -> HttpResponse:
    require(request.user, "reminder", "view")
    qs = restrict(Reminder.objects.all(), request.user).select_related("entity")
    kind, town = request.GET.get("kind", ""), request.GET.get("town", "").strip()
    if kind in ReminderKind.values:
        qs = qs.filter(kind=kind)
    if town.isdigit() and len(town) == 9:
        qs = qs.filter(town_code=town)
    if request.GET.get("format") == "xlsx":
        require(request.user, "reminder", "export")
        labels = dict(ReminderKind.choices)
        data = (
            [r.entity.name, r.entity.uscc or "", region_name(r.town_code), str(labels[r.kind]), r.due_on, r.detail]
            for r in qs.order_by("town_code", "due_on").iterator(chunk_size=2000)
        )
        audit.record("export", object_type="hazards.reminder", object_repr="reminders", reason=request.GET.urlencode())
        return xlsx_response(
            "reminders.xlsx",
            write_xlsx(["市场主体", "统一社会信用代码", "镇街", "提醒事项", "期限", "说明"], data),
        )
    from django.db.models import Count

    kind_labels = dict(ReminderKind.choices)
    per_town = [
        {**r, "town_name": region_name(r["town_code"]), "kind_label": kind_labels.get(r["kind"], r["kind"])}
        for r in qs.values("town_code", "kind").annotate(n=Count("id")).order_by("town_code", "kind")[:500]
    ]
    page = BoundedPaginator(qs.order_by("due_on", "entity_id"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "hazards/reminder_list.html",
        {
            "page": page,
            "per_town": per_town,
            "kind": kind,
            "town": town,
            "kinds": ReminderKind.choices,
            "towns": towns_under(getattr(request.user, "region_code", "") or settings.SHIJIAN_HOME_REGION),
            "querystring": f"kind={kind}&town={town}",
            "can_export": allowed(request.user, "reminder", "export"),
        },
    )
