"""The global search in the header: entities, hazard entries, inspections and the lake's record texts, each restricted
to what the user sees.

One term, four small result lists (the first few of each) with a link to the full list filtered by the same term.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from shijian.core.jurisdiction import restrict
from shijian.core.permissions import allowed
from shijian.registry.models import Entity
from shijian.registry.search import entity_q
from shijian.web.pagination import FEW_MATCHES, by_index_conditions

SHOWN = 10


@dataclass
class Section:
    title: Any
    more_url: str
    rows: list[tuple[str, str, str]] = field(default_factory=list)  # (url, label, detail)


def first_entities(user: Any, term: str, n: int) -> list[Entity]:
    """The newest ``n`` entities the user may see that ``term`` finds."""
    qs = restrict(Entity.objects.filter(entity_q(term)), user, "view")
    # PostgreSQL only (see by_index_conditions): the list's bounded count says whether the matches are few
    few = connection.vendor == "postgresql" and qs.order_by()[: FEW_MATCHES + 1].count() <= FEW_MATCHES
    with by_index_conditions(few):
        return list(qs.order_by("-id")[:n])


def _entities(user: Any, term: str) -> Section:
    found = first_entities(user, term, SHOWN)
    return Section(
        _("Market entities"),
        reverse("entity_list") + "?" + urlencode({"q": term}),
        [(e.get_absolute_url(), e.name, " · ".join(x for x in (e.uscc or "", e.address) if x)) for e in found],
    )


def _hazards(user: Any, term: str) -> Section:
    from shijian.hazards.models import Hazard

    matching = Entity.objects.filter(entity_q(term)).values("pk")
    qs = restrict(Hazard.objects.all(), user).filter(Q(title__contains=term) | Q(entity__in=matching))
    qs = qs.select_related("entity").order_by("-opened_at", "-id")[:SHOWN]
    return Section(
        _("Problems and hazards"),
        reverse("hazard_list") + "?" + urlencode({"q": term, "open": "all"}),
        [(h.get_absolute_url(), h.title, f"{h.entity.name} · {h.get_state_display()}") for h in qs],
    )


def _visits(user: Any, term: str) -> Section:
    from shijian.supervision.models import Visit

    matching = Entity.objects.filter(entity_q(term)).values("pk")
    qs = restrict(Visit.objects.all(), user).filter(Q(draw__code=term) | Q(entity__in=matching))
    qs = qs.select_related("entity", "draw").order_by("-window_end", "-id")[:SHOWN]
    return Section(
        _("Inspections"),
        reverse("task_list") + "?" + urlencode({"q": term}),
        [(v.get_absolute_url(), v.entity.name, f"{v.draw.code} · {v.get_status_display()}") for v in qs],
    )


def _records(user: Any, term: str) -> Section:
    """The newest lake record texts holding the term (complaints, penalty reasons, inspection findings)."""
    from shijian.lake.fulltext import query
    from shijian.lake.fulltext.tokens import parse

    found = query.search(user, term, limit=SHOWN).rows if parse(term) else []
    names = dict(
        restrict(Entity.objects.filter(pk__in={r.entity_id for r in found}), user, "view").values_list("pk", "name")
    )
    return Section(
        _("Records from departments"),
        reverse("record_search") + "?" + urlencode({"q": term}),
        [
            (reverse("entity_detail", args=[r.entity_id]), names.get(r.entity_id, ""), f"{r.event_date} · {r.text}")
            for r in found
            if r.entity_id in names
        ],
    )


def search(user: Any, term: str) -> list[Section]:
    """The sections the user's role may open, each with its first matches."""
    term = term.strip()[:100]
    if not term:
        return []
    sections = []
    for kind, find in (("entity", _entities), ("hazard", _hazards), ("visit", _visits), ("record", _records)):
        if allowed(user, kind, "view"):
            sections.append(find(user, term))
    return sections


def search_view(request: HttpRequest) -> HttpResponse:
    term = request.GET.get("q", "").strip()
    return render(request, "web/search.html", {"q": term, "sections": search(request.user, term)})
