"""The linkage review queue (officials confirm or reject uncertain matches; the next build uses their decision)
and the full-text search over the lake's records."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shijian.accounts.models import User
from shijian.core import audit
from shijian.core.jurisdiction import restrict
from shijian.core.permissions import allowed
from shijian.lake.models import LinkDecision, LinkReview
from shijian.registry.models import Department, Entity
from shijian.web.pagination import BoundedPaginator


def visible_reviews(user: Any) -> QuerySet[LinkReview]:
    """Review groups whose best candidate the user may see (core.jurisdiction's rule for reviews)."""
    return restrict(LinkReview.objects.all(), user, "view")


@login_required
def review_list(request: HttpRequest) -> HttpResponse:
    if not allowed(request.user, "linkage", "view"):
        raise PermissionDenied
    status = request.GET.get("status", LinkReview.Status.PENDING)
    if status not in LinkReview.Status.values:
        status = LinkReview.Status.PENDING
    qs = (
        visible_reviews(request.user)
        .filter(status=status)
        .select_related("best_entity")
        .order_by("-best_probability", "id")
    )
    page = BoundedPaginator(qs, 50).get_page(request.GET.get("page"))
    covered = qs.order_by().aggregate(n=Sum("records"))["n"] or 0
    ids = {c["entity_id"] for r in page.object_list for c in r.candidates}
    entities = {e.pk: e for e in restrict(Entity.objects.filter(pk__in=ids), request.user, "view")}
    rows = [
        (r, [(entities[c["entity_id"]], c["probability"]) for c in r.candidates if c["entity_id"] in entities])
        for r in page.object_list
    ]
    return render(
        request,
        "lake/review_list.html",
        {
            "page": page,
            "rows": rows,
            "status": status,
            "covered": covered,
            "statuses": LinkReview.Status.choices,
            "can_decide": allowed(request.user, "linkage", "change"),
            "querystring": f"status={status}",
        },
    )


class DecisionForm(forms.Form):
    entity = forms.IntegerField(required=False)
    decision = forms.ChoiceField(choices=[("accept", "accept"), ("reject", "reject")])
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=300, required=False)


@login_required
def review_decide(request: HttpRequest, pk: int) -> HttpResponse:
    if not allowed(request.user, "linkage", "change"):
        raise PermissionDenied
    review = visible_reviews(request.user).filter(pk=pk, status=LinkReview.Status.PENDING).first()
    if review is None:
        raise Http404
    if request.method != "POST":
        return redirect("review_list")
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a candidate or reject them all."))
        return redirect("review_list")
    accept = form.cleaned_data["decision"] == "accept"
    user = User.objects.get(pk=getattr(request.user, "pk", 0))
    entity = None
    if accept:
        chosen = form.cleaned_data["entity"]
        if chosen not in {c["entity_id"] for c in review.candidates}:
            messages.error(request, _("Choose one of the candidates."))
            return redirect("review_list")
        entity = restrict(Entity.objects.filter(pk=chosen), request.user, "view").first()
        if entity is None:
            raise Http404
    with transaction.atomic():
        decision, _created = LinkDecision.objects.update_or_create(
            name_key=review.name_key,
            address_key=review.address_key,
            defaults={
                "entity": entity,
                "decided_by": user,
                "decided_at": timezone.now(),
                "reason": form.cleaned_data["reason"],
            },
        )
        review.status = LinkReview.Status.ACCEPTED if accept else LinkReview.Status.REJECTED
        review.decided_by = user
        review.decided_at = timezone.now()
        review.save(update_fields=["status", "decided_by", "decided_at"])
        audit.record(
            audit.Action.UPDATE,
            object_type="lake.linkdecision",
            object_id=str(decision.pk),
            object_repr=str(decision)[:200],
            after={
                "name": review.name_key,
                "address": review.address_key,
                "entity_id": entity.pk if entity else None,
                "records": review.records,
                "probability": review.best_probability,
            },
            reason=form.cleaned_data["reason"] or ("accepted match" if accept else "rejected all candidates"),
        )
    messages.success(request, _("Decision recorded; the next build links these records accordingly."))
    return redirect("review_list")


class RecordSearchForm(forms.Form):
    """The record search's terms and filters; bad values are cleared with a message, never an error page."""

    q = forms.CharField(label=gettext_lazy("Words"), max_length=100, required=False)
    source = forms.ChoiceField(label=gettext_lazy("Department"), required=False)
    town = forms.ChoiceField(label=gettext_lazy("Town / street"), required=False)
    record_type = forms.ChoiceField(label=gettext_lazy("Record type"), required=False)
    date_from = forms.DateField(label=gettext_lazy("From"), required=False, widget=forms.DateInput({"type": "date"}))
    date_to = forms.DateField(label=gettext_lazy("To"), required=False, widget=forms.DateInput({"type": "date"}))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        from shijian.lake.fulltext.index import TEXT_TYPES
        from shijian.registry.models import Department
        from shijian.registry.views import towns_under
        from shijian.registry.views_extra import RECORD_TYPE_LABELS

        super().__init__(*args, **kwargs)
        every = [("", gettext_lazy("all"))]
        depts = restrict(Department.objects.order_by("code"), user, "view").values_list("code", "name")
        choice: dict[str, list[tuple[str, Any]]] = {
            "source": every + list(depts),
            "town": every + towns_under(user.region_code or settings.SHIJIAN_HOME_REGION),
            "record_type": every + [(t, RECORD_TYPE_LABELS[t]) for t in TEXT_TYPES],
        }
        for name, options in choice.items():
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = options


@login_required
def record_search(request: HttpRequest) -> HttpResponse:
    """Full-text search over the lake's complaint texts, penalty reasons and inspection findings."""
    from shijian.lake.fulltext import query
    from shijian.registry.views_extra import RECORD_TYPE_LABELS

    if not allowed(request.user, "record", "view"):
        raise PermissionDenied
    form = RecordSearchForm(request.GET, user=request.user)
    page = query.Page()
    term = ""
    if form.is_valid():
        term = form.cleaned_data["q"].strip()
        filters = query.Filters(
            source=form.cleaned_data["source"],
            town=form.cleaned_data["town"],
            record_type=form.cleaned_data["record_type"],
            date_from=form.cleaned_data["date_from"],
            date_to=form.cleaned_data["date_to"],
        )
        before = request.GET.get("before", "")
        cursor = int(before) if re.fullmatch(r"[0-9]{1,19}", before) else None  # ASCII digits: an id, or ignored
        page = query.search(request.user, term, filters, cursor)
    entities = {e.pk: e for e in restrict(Entity.objects.filter(pk__in={r.entity_id for r in page.rows}), request.user)}
    names = dict(Department.objects.filter(code__in={r.source for r in page.rows}).values_list("code", "name"))
    rows = [
        {
            "row": r,
            "entity": entities.get(r.entity_id),
            "department": names.get(r.source, r.source),
            "type": RECORD_TYPE_LABELS.get(r.record_type, r.record_type),
            "pieces": query.highlight(r.text, term),
        }
        for r in page.rows
    ]
    more = ""
    if page.next_before is not None:
        params = request.GET.copy()
        params["before"] = str(page.next_before)
        more = "?" + params.urlencode()
    return render(
        request,
        "lake/record_search.html",
        {"form": form, "page": page, "rows": rows, "term": term, "more": more, "first": "before" not in request.GET},
    )
