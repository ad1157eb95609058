"""Schemathesis against the API's own OpenAPI schema: every generated request, with a valid token, answers a
status the schema declares with a body that validates against it, and never a server error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from shijian.api import clients
from tests.api_rows import supervision_rows

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())


@pytest.fixture(autouse=True)
def _connection_kept() -> Any:
    """The WSGI calls run inside the test's transaction: keep Django from closing the connection at the end of each
    request (as its own test client does)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(world: Any, settings: Any, tmp_path: Path) -> str:
    """A district data administrator's client with every scope (it may read everything and push loads), over a
    world with visits, hazards, a draw and a lake of its own."""
    settings.SHIJIAN_API_SYNC_LAG_SECONDS = 0
    settings.SHIJIAN_LAKE = tmp_path / "lake"
    settings.HOME = tmp_path
    supervision_rows(world)
    client, secret = clients.create_client(
        "fuzz", "data_admin", "440608", sorted(clients.SCOPES), world.depts["samr"], "test", rate_limit=100_000
    )
    issued = clients.issue_token(client.client_id, secret)
    assert issued is not None
    return issued[0]


PUSHES: dict[str, Any] = {"method": "POST", "path_regex": "^/api/loads"}
CHECKS_OFF = [positive_data_acceptance, negative_data_rejection]


@schema.exclude(**PUSHES).parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_response_matches_the_schema(case: Any, token: str) -> None:
    if case.path == "/api/token":
        case.call_and_validate()  # no token needed; wrong credentials are a declared 401
        return
    # A cursor is any string to the schema (it is opaque) but only one the API gave out is valid: a forged one is a
    # 400, which the positive-data check would call a valid request rejected. Unknown query parameters are ignored
    # (a partner on a newer client keeps working), which the negative-data check would call invalid data accepted.
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, excluded_checks=CHECKS_OFF)


@schema.include(**PUSHES).parametrize()
@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_push_answer_matches_the_schema(case: Any, token: str) -> None:
    """Pushes run the ingest pipeline on each generated body (fewer examples: each is a load). A body that is no
    feed the pipeline can read is a declared 400 with the reason, which the positive-data check would call a valid
    request rejected."""
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, excluded_checks=CHECKS_OFF)
