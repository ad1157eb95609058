"""Registry screens that are not plain object CRUD."""

from __future__ import annotations

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
from shijian.core.permissions import allowed
from shijian.registry.models import Entity, Inspector, InspectorConflict
from shijian.registry.scope import restrict


class DeclareConflictForm(forms.Form):
    entity_uscc = forms.CharField(label=gettext_lazy("entity (unified social credit code)"), required=False)
    person_name = forms.CharField(label=gettext_lazy("person"), max_length=60, required=False)
    reason = forms.CharField(label=gettext_lazy("reason"), max_length=200)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        code = str(data.get("entity_uscc") or "").strip()
        entity = None
        if code:
            result = uscc.validate(code)
            entity = Entity.objects.filter(uscc=result.code).first() if result.ok else None
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
    form = DeclareConflictForm(request.POST or None)
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
