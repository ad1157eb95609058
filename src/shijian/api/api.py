"""The REST API (OpenAPI 3.1 at /api/openapi.json, docs at /api/docs served from local static files).

One ``NinjaAPI`` with a router per domain (entities.py, supervision.py, hazards.py, loads.py); what every endpoint
shares (scope, rate limit and quota, the sync page, the audit row) is in common.py.
"""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Form, NinjaAPI, Schema, Status
from ninja.security import HttpBearer

from shijian.api import clients, entities, hazards, loads, supervision
from shijian.api.clients import Principal
from shijian.api.common import ERRORS, Problem, use
from shijian.core import audit
from shijian.core.codes.tables import divisions, industries


class Bearer(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Principal | None:
        client = clients.authenticate(token)
        return clients.principal(client) if client else None


api = NinjaAPI(title="Shijian API", version="1", urls_namespace="api", auth=Bearer())
api.add_router("", entities.router)
api.add_router("", supervision.router)
api.add_router("", hazards.router)
api.add_router("", loads.router)


class TokenOut(Schema):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class CodeOut(Schema):
    code: str
    name: str


@api.post("/token", auth=None, response={200: TokenOut, 401: Problem, 422: Problem}, tags=["auth"])
def token(request: HttpRequest, client_id: Form[str], client_secret: Form[str]) -> Any:
    """OAuth2 client credentials: ``client_id`` + ``client_secret`` -> a short-lived bearer token."""
    issued = clients.issue_token(client_id, client_secret)
    if issued is None:
        return Status(401, {"detail": "invalid client credentials"})
    return Status(200, TokenOut(access_token=issued[0], expires_in=issued[1]))


@api.get("/codes/{table}", response={200: list[CodeOut], **ERRORS}, tags=["codes"])
def codes(request: HttpRequest, table: Literal["divisions", "industries"]) -> list[CodeOut]:
    """A code table: administrative divisions (GB/T 2260 and below) or industries (GB/T 4754)."""
    who = use(request, "codes")
    audit.record(audit.Action.VIEW, object_type="api.codes", object_repr=table, actor=who)
    if table == "divisions":
        return [CodeOut(code=c, name=d.name) for c, d in sorted(divisions().items())]
    return [CodeOut(code=c, name=i.name) for c, i in sorted(industries().items())]
