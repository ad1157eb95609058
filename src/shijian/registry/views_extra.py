"""Registry screens that are not plain object CRUD."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shijian.core.codes import uscc
from shijian.core.jurisdiction import restrict
from shijian.core.permissions import allowed
from shijian.registry.models import Entity, Inspector, InspectorConflict
from shijian.web.params import int_param


class DeclareConflictForm(forms.Form):
    entity_uscc = forms.CharField(label=gettext_lazy("entity (unified social credit code)"), required=False)
    person_name = forms.CharField(label=gettext_lazy("person"), max_length=60, required=False)
    reason = forms.CharField(label=gettext_lazy("reason"), max_length=200)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        code = str(data.get("entity_uscc") or "").strip()
        entity = None
        if code:
            result = uscc.validate(code)
            # Only within the user's jurisdiction: the form must not tell whether a code exists elsewhere.
            entity = restrict(Entity.objects.filter(uscc=result.code), self.user).first() if result.ok else None
            if entity is None:
                self.add_error("entity_uscc", _("No entity with this code."))
        elif not data.get("person_name"):
            raise forms.ValidationError(_("Name an entity or a person."))
        data["entity"] = entity
        return data


@login_required
def conflict_add(request: HttpRequest, pk: int) -> HttpResponse:
    if not allowed(request.user, "inspector", "change"):
        raise PermissionDenied
    inspector = restrict(Inspector.objects.all(), request.user, "change").filter(pk=pk).first()
    if inspector is None:
        raise Http404
    form = DeclareConflictForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            InspectorConflict.objects.create(
                inspector=inspector,
                entity=form.cleaned_data["entity"],
                person_name=form.cleaned_data["person_name"],
                reason=form.cleaned_data["reason"],
                declared_on=timezone.localdate(),
            )
        messages.success(request, _("Conflict of interest recorded."))
        return redirect("inspector_detail", pk=inspector.pk)
    return render(request, "registry/conflict_add.html", {"form": form, "inspector": inspector})


RECORD_TYPE_LABELS = {
    "registration_change": gettext_lazy("registration change"),
    "licence": gettext_lazy("licence"),
    "inspection": gettext_lazy("inspection"),
    "penalty": gettext_lazy("administrative penalty"),
    "complaint": gettext_lazy("complaint"),
    "abnormal": gettext_lazy("abnormal-operation listing"),
    "annual_report": gettext_lazy("annual report"),
    "tax": gettext_lazy("tax credit"),
    "litigation": gettext_lazy("litigation"),
    "other": gettext_lazy("other"),
}


def entity_file_context(request: HttpRequest, entity: Entity) -> dict[str, object]:
    """The entity file (一户一档): aggregates from the last build and the first page of the record timeline."""
    from shijian.registry.models import EntityFile

    file = EntityFile.objects.filter(entity=entity).first()
    return {
        "entity_file": file,
        **_risk_context(entity),
        **_platform_context(request, entity),
        **_timeline_context(request, entity),
    }


def _platform_context(request: HttpRequest, entity: Entity) -> dict[str, object]:
    """The platform's own records of the entity: its hazard-library entries and its inspections with results."""
    from shijian.hazards.models import Hazard
    from shijian.supervision.models import Visit

    user = request.user
    entries = (
        restrict(Hazard.objects.all(), user)
        .filter(entity=entity)
        .select_related("department")
        .order_by("-opened_at", "-id")[:50]
    )
    checks = (
        restrict(Visit.objects.all(), user)
        .filter(entity=entity)
        .select_related("draw")
        .prefetch_related("checks__item")
        .order_by("-window_end", "-id")[:50]
    )
    from shijian.cases.models import Case

    cases = (
        restrict(Case.objects.all(), user)
        .filter(entity=entity)
        .select_related("process")
        .order_by("-created_at", "-id")[:50]
    )
    return {
        "entity_hazards": list(entries),
        "entity_visits": list(checks),
        "entity_cases": list(cases),
        "may_cases": allowed(user, "case", "view"),
        "may_hazards": allowed(user, "hazard", "view"),
        "may_visits": allowed(user, "visit", "view"),
    }


def _risk_context(entity: Entity) -> dict[str, object]:
    """The latest risk assessment explained in plain Chinese, and the entity's class history."""
    from shijian.risk.labels import model_name
    from shijian.risk.models import Assessment
    from shijian.risk.platform import RiskError, explain

    try:
        why = explain(entity.pk)
    except RiskError as exc:
        return {"risk_error": str(exc)}
    history = list(
        Assessment.objects.filter(entity=entity)
        .select_related("refresh")
        .order_by("-refresh_id")
        .values("refresh__as_of", "risk_class", "previous_class", "probability", "refresh__model_id")[:12]
    )
    return {"risk": why, "risk_kind": model_name(why.kind) if why else "", "risk_history": history}


def _timeline_context(request: HttpRequest, entity: Entity) -> dict[str, object]:
    from django.conf import settings

    from shijian.lake.query import entity_timeline
    from shijian.lake.store import Lake
    from shijian.registry.models import Department

    per_page = 50
    page = int_param(request, "page", 1, low=1, high=1_000_000) or 1
    source = request.GET.get("source", "")[:40]
    rtype = request.GET.get("type", "")[:40]
    tl = entity_timeline(
        Lake(settings.SHIJIAN_LAKE),
        entity.pk,
        source=source,
        record_type=rtype,
        offset=(page - 1) * per_page,
        limit=per_page,
    )
    names = dict(Department.objects.filter(code__in=[s for s, _n in tl.sources]).values_list("code", "name"))
    for row in tl.rows:
        row["source_name"] = names.get(row["source"], row["source"])
        # where the record came from, without the server's paths: the department and the line of its feed
        row["origin"] = _("%(source)s, line %(line)s of its feed") % {"source": row["source_name"], "line": row["line"]}
        row["type_label"] = RECORD_TYPE_LABELS.get(row["record_type"], row["record_type"])
    pages = max(1, -(-tl.total // per_page))
    return {
        "timeline": tl,
        "timeline_sources": [(s, names.get(s, s), n) for s, n in tl.sources],
        "timeline_types": [(t, RECORD_TYPE_LABELS.get(t, t), n) for t, n in tl.types],
        "timeline_filter": {"source": source, "type": rtype},
        "timeline_page": page,
        "timeline_pages": pages,
    }


@login_required
def entity_records(request: HttpRequest, pk: int) -> HttpResponse:
    """The timeline alone (htmx: filter and page without reloading the entity page)."""
    if not allowed(request.user, "entity", "view"):
        raise PermissionDenied
    entity = restrict(Entity.objects.all(), request.user, "view").filter(pk=pk).first()
    if entity is None:
        raise Http404
    return render(request, "registry/entity_timeline.html", {"object": entity, **_timeline_context(request, entity)})
