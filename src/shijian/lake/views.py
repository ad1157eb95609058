"""The linkage review queue: officials confirm or reject uncertain matches; the next build uses their decision."""

from __future__ import annotations

from typing import Any

from django import forms
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
from shijian.registry.models import Entity
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
