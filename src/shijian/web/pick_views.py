"""The JSON answers of the pickers (static/shijian/picker.js) while a user types or chooses.

- ``pick/regions/?under=CODE``: the divisions directly under CODE (district → town → village) that lie in the
  user's jurisdiction; without ``under``, the user's own region. A region outside the jurisdiction answers nothing.
- ``pick/industries/?q=``: GB/T 4754 entries whose code starts with, or whose name contains, the term.
- ``pick/entities/?q=``: the first entities the user may see that the search finds (name, credit code, address).

The forms validate what is submitted as before; a picker only saves typing codes.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse

from shijian.core.codes import tables
from shijian.core.jurisdiction import in_jurisdiction, region_of
from shijian.core.permissions import allowed
from shijian.web.search import first_entities

SHOWN = 20


def _json(items: list[dict[str, Any]], cache: bool = True) -> JsonResponse:
    response = JsonResponse({"items": items})
    # code tables may stay in the browser a while; what the register holds is never kept
    response["Cache-Control"] = "private, max-age=300" if cache else "no-store"
    return response


def regions(request: HttpRequest) -> JsonResponse:
    user = request.user
    top = region_of(user) or ("" if getattr(user, "is_superuser", False) else settings.SHIJIAN_HOME_REGION)
    under = request.GET.get("under", "").strip()
    divisions = tables.divisions()
    if not under:
        root = divisions.get(top or settings.SHIJIAN_HOME_REGION)
        found = [root] if root is not None else []
    elif in_jurisdiction(user, under):
        found = tables.children(under)
    elif under in tables.ancestors(top):  # above the user's region: only the branch that leads to it
        found = [d for d in tables.children(under) if top.startswith(d.code)]
    else:
        found = []
    return _json([{"code": d.code, "name": d.name, "level": d.level} for d in found])


def industries(request: HttpRequest) -> JsonResponse:
    term = request.GET.get("q", "").strip()[:40]
    if not term:
        return _json([])
    upper = term.upper()
    found = [i for i in tables.industries().values() if i.code.startswith(upper) or term in i.name]
    found.sort(key=lambda i: (not i.code.startswith(upper), len(i.code), i.code))
    return _json([{"code": i.code, "name": i.name, "level": i.level} for i in found[:SHOWN]])


def entities(request: HttpRequest) -> JsonResponse:
    term = request.GET.get("q", "").strip()[:100]
    if not term or not allowed(request.user, "entity", "view"):
        return _json([], cache=False)
    found = first_entities(request.user, term, 10)  # as the header's search (fast for few matches on PostgreSQL)
    return _json([{"code": e.uscc, "name": e.name, "detail": e.address} for e in found if e.uscc], cache=False)
