"""What every endpoint shares: the acting client (scope, rate limit, quota), the error schema, the sync page.

Thin endpoints: each calls ``use`` (scope, then one request from the client's rate limit and quota), restricts its
queryset by the one jurisdiction rule, pages it with ``sync_page`` and writes one audit row naming the client.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, TypeVar

from django.db import models
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.errors import HttpError
from pydantic import BeforeValidator

from shijian.api import clients, paging
from shijian.api.clients import Principal
from shijian.core import audit
from shijian.core.permissions import allowed

M = TypeVar("M", bound=models.Model)


def _iso_only(value: Any) -> Any:
    """An ISO 8601 time, never a bare number (pydantic would read one as Unix seconds)."""
    if isinstance(value, str) and not re.match(r"^\d{4}-\d{2}-\d{2}[T ]", value):
        raise ValueError("an ISO 8601 date-time with a time zone, e.g. 2026-12-01T00:00:00+08:00")
    return value


IsoTime = Annotated[dt.datetime, BeforeValidator(_iso_only)]
Limit = Annotated[int, Field(ge=1, le=1000)]


class Problem(Schema):
    detail: Any = Field(description="what went wrong (a list of field errors for a 422)")


# The answers every authenticated endpoint may give besides its own (declared, so the schema is honest).
ERRORS: dict[int, Any] = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 422: Problem, 429: Problem}

NEXT = Field(None, description="opaque cursor: pass it back as ?cursor= for the rows after these")


def use(request: HttpRequest, scope: str, kind: str = "") -> Principal:
    """The acting client, once it holds ``scope`` (and its role may view ``kind``, when given) and its rate limit
    and daily quota allow one more request."""
    who: Principal = request.auth  # type: ignore[attr-defined]
    if scope not in who.scopes:
        raise HttpError(403, f"scope {scope!r} required")
    if kind and not allowed(who, kind, "view"):
        raise HttpError(403, f"the client's role may not view {kind}")
    refusal = clients.take(who.client_pk)
    if refusal is not None:
        raise HttpError(429, str(refusal))
    return who


def sync_page(
    who: Principal,
    qs: models.QuerySet[M],
    object_type: str,
    cursor: str | None,
    updated_since: dt.datetime | None,
    limit: int,
) -> tuple[list[M], str | None]:
    """One page of ``qs`` (already restricted) in (updated_at, id) order, and its audit row."""
    if updated_since is not None and updated_since.tzinfo is None:
        raise HttpError(400, "updated_since needs a time zone")
    try:
        rows, nxt = paging.page(qs, cursor, updated_since, limit)
    except paging.BadCursor as exc:
        raise HttpError(400, str(exc)) from exc
    audit.record(
        audit.Action.VIEW,
        object_type=object_type,
        object_repr=f"{len(rows)} rows",
        reason=f"cursor={cursor or ''} updated_since={updated_since or ''}",
        actor=who,
    )
    return rows, nxt


def viewed(who: Principal, object_type: str, pk: Any, text: str) -> None:
    """The audit row of one object read through the API."""
    audit.record(audit.Action.VIEW, object_type=object_type, object_id=str(pk), object_repr=text[:200], actor=who)
