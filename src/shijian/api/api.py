"""The REST API (OpenAPI 3.1 at /api/openapi.json, docs at /api/docs served from local static files).

Thin: each endpoint checks the scope, takes one request from the client's rate limit, restricts the queryset by
the one jurisdiction rule, pages it and writes one audit row naming the client.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Form, NinjaAPI, Schema, Status
from ninja.errors import HttpError
from ninja.security import HttpBearer
from pydantic import BeforeValidator

from shijian.api import clients, paging
from shijian.api.clients import Principal
from shijian.core import audit
from shijian.core.codes.tables import divisions, industries
from shijian.core.jurisdiction import restrict
from shijian.core.permissions import allowed
from shijian.registry.models import Entity


def _iso_only(value: Any) -> Any:
    """An ISO 8601 time, never a bare number (pydantic would read one as Unix seconds)."""
    if isinstance(value, str) and not re.match(r"^\d{4}-\d{2}-\d{2}[T ]", value):
        raise ValueError("an ISO 8601 date-time with a time zone, e.g. 2026-12-01T00:00:00+08:00")
    return value


IsoTime = Annotated[dt.datetime, BeforeValidator(_iso_only)]


class Bearer(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Principal | None:
        client = clients.authenticate(token)
        return clients.principal(client) if client else None


api = NinjaAPI(title="Shijian API", version="1", urls_namespace="api", auth=Bearer())


def _use(request: HttpRequest, scope: str) -> Principal:
    """The acting client, once it holds ``scope`` and its rate limit allows one more request."""
    who: Principal = request.auth  # type: ignore[attr-defined]
    if scope not in who.scopes:
        raise HttpError(403, f"scope {scope!r} required")
    if not clients.take(who.client_pk):
        raise HttpError(429, "rate limit exceeded")
    return who


class Problem(Schema):
    detail: Any = Field(description="what went wrong (a list of field errors for a 422)")


# The answers every authenticated endpoint may give besides its own (declared, so the schema is honest).
ERRORS: dict[int, Any] = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 422: Problem, 429: Problem}


class TokenOut(Schema):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class EntityOut(Schema):
    id: int
    uscc: str | None
    name: str
    entity_type: str
    industry_code: str
    region_code: str
    town_code: str
    district_code: str
    address: str
    legal_rep: str
    status: str
    established_on: dt.date | None
    updated_at: dt.datetime
    risk_class: str | None = None


class EntityPage(Schema):
    items: list[EntityOut]
    next: str | None = Field(None, description="opaque cursor: pass it back as ?cursor= for the rows after these")


class CodeOut(Schema):
    code: str
    name: str


def _entity_out(entity: Entity, who: Principal) -> EntityOut:
    out = EntityOut.model_validate(entity, from_attributes=True)
    shows_risk = "risk" in who.scopes and allowed(who, "risk", "view")
    out.risk_class = entity.risk_class if shows_risk else None
    return out


@api.post("/token", auth=None, response={200: TokenOut, 401: Problem, 422: Problem}, tags=["auth"])
def token(request: HttpRequest, client_id: Form[str], client_secret: Form[str]) -> Any:
    """OAuth2 client credentials: ``client_id`` + ``client_secret`` -> a short-lived bearer token."""
    issued = clients.issue_token(client_id, client_secret)
    if issued is None:
        return Status(401, {"detail": "invalid client credentials"})
    return Status(200, TokenOut(access_token=issued[0], expires_in=issued[1]))


@api.get("/entities", response={200: EntityPage, **ERRORS}, tags=["entities"])
def entities(
    request: HttpRequest,
    cursor: str | None = None,
    updated_since: IsoTime | None = None,
    limit: Annotated[int, Field(ge=1, le=1000)] = 100,
) -> EntityPage:
    """Entities in the client's jurisdiction ordered by (updated_at, id): sync with ``next``."""
    who = _use(request, "entities")
    if updated_since is not None and updated_since.tzinfo is None:
        raise HttpError(400, "updated_since needs a time zone")
    try:
        rows, nxt = paging.page(restrict(Entity.objects.all(), who), cursor, updated_since, limit)
    except paging.BadCursor as exc:
        raise HttpError(400, str(exc)) from exc
    audit.record(
        audit.Action.VIEW,
        object_type="api.entities",
        object_repr=f"{len(rows)} rows",
        reason=f"cursor={cursor or ''} updated_since={updated_since or ''}",
        actor=who,
    )
    return EntityPage(items=[_entity_out(e, who) for e in rows], next=nxt)


@api.get("/entities/{entity_id}", response={200: EntityOut, **ERRORS}, tags=["entities"])
def entity(request: HttpRequest, entity_id: int) -> EntityOut:
    """One entity of the client's jurisdiction (404 outside it)."""
    who = _use(request, "entities")
    row = get_object_or_404(restrict(Entity.objects.all(), who), pk=entity_id)
    audit.record(
        audit.Action.VIEW, object_type="registry.entity", object_id=str(row.pk), object_repr=row.name, actor=who
    )
    return _entity_out(row, who)


@api.get("/codes/{table}", response={200: list[CodeOut], **ERRORS}, tags=["codes"])
def codes(request: HttpRequest, table: Literal["divisions", "industries"]) -> list[CodeOut]:
    """A code table: administrative divisions (GB/T 2260 and below) or industries (GB/T 4754)."""
    who = _use(request, "codes")
    audit.record(audit.Action.VIEW, object_type="api.codes", object_repr=table, actor=who)
    if table == "divisions":
        return [CodeOut(code=c, name=d.name) for c, d in sorted(divisions().items())]
    return [CodeOut(code=c, name=i.name) for c, i in sorted(industries().items())]
