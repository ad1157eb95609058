"""API clients: credentials (create, rotate, revoke), tokens (client credentials -> bearer), rate limits.

A client acts as a ``Principal``: the same role, region and department attributes as a user, so the one
jurisdiction rule (``core.jurisdiction.restrict``) and the role matrix apply to it unchanged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from shijian.api.models import ApiClient, ApiToken
from shijian.core import audit, clock
from shijian.core.permissions import ALL_ROLES, INSPECTOR
from shijian.registry.models import Department

# The resources a client may be given (docs/api.md has the endpoints of each).
SCOPES = frozenset({"entities", "risk", "records", "codes", "visits", "hazards", "draws", "loads", "ingest"})
ROLES = ALL_ROLES - {INSPECTOR}  # an inspector's rule names the person; a machine is none


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Principal:
    """An API client acting: what ``restrict`` and ``allowed`` read of a user."""

    client_pk: int
    name: str
    role: str
    region_code: str
    department_id: int | None
    scopes: frozenset[str] = field(default_factory=frozenset)
    pk: None = None  # not a user: audit rows carry no user id, the name says which client
    is_superuser: bool = False
    is_active: bool = True
    is_authenticated: bool = True

    @property
    def username(self) -> str:
        return f"api:{self.name}"


def principal(client: ApiClient) -> Principal:
    return Principal(
        client.pk, client.name, client.role, client.region_code, client.department_id, frozenset(client.scopes)
    )


def create_client(
    name: str,
    role: str,
    region: str,
    scopes: list[str],
    department: Department | None,
    created_by: str,
    rate_limit: int = 120,
    daily_quota: int = 0,
) -> tuple[ApiClient, str]:
    """A new client and its secret (shown once; only its hash is kept)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(sorted(ROLES))}")
    if rate_limit < 1 or daily_quota < 0:
        raise ValueError("the rate limit is at least 1 request per minute; the daily quota 0 (none) or more")
    unknown = set(scopes) - SCOPES
    if unknown:
        raise ValueError(f"unknown scopes {', '.join(sorted(unknown))}; known: {', '.join(sorted(SCOPES))}")
    if not region.isdigit() or len(region) not in (2, 4, 6, 9, 12):
        raise ValueError("region must be a 2/4/6/9/12-digit division code")
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        client = ApiClient.objects.create(
            name=name,
            client_id=f"sj_{secrets.token_hex(8)}",
            secret_hash=digest(secret),
            role=role,
            region_code=region,
            department=department,
            scopes=sorted(set(scopes)),
            rate_limit=rate_limit,
            daily_quota=daily_quota,
            created_by=created_by,
            bucket_tokens=float(rate_limit),
        )
        audit.record(
            audit.Action.CREATE,
            object_type="api.client",
            object_id=str(client.pk),
            object_repr=name,
            after={
                "role": role,
                "region": region,
                "scopes": client.scopes,
                "rate_limit": rate_limit,
                "daily_quota": daily_quota,
            },
        )
    return client, secret


def rotate(client: ApiClient) -> str:
    """A new secret; the old one and every token issued with it stop working."""
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        client.secret_hash = digest(secret)
        client.save(update_fields=["secret_hash"])
        client.tokens.all().delete()
        audit.record(
            audit.Action.UPDATE,
            object_type="api.client",
            object_id=str(client.pk),
            object_repr=client.name,
            reason="secret rotated",
        )
    return secret


def set_limits(client: ApiClient, rate_limit: int | None = None, daily_quota: int | None = None) -> None:
    """Change the client's requests per minute and per business day (0: no daily quota); audited."""
    before = {"rate_limit": client.rate_limit, "daily_quota": client.daily_quota}
    if rate_limit is not None:
        if rate_limit < 1:
            raise ValueError("the rate limit is at least 1 request per minute")
        client.rate_limit = rate_limit
    if daily_quota is not None:
        if daily_quota < 0:
            raise ValueError("the daily quota is 0 (none) or more")
        client.daily_quota = daily_quota
    with transaction.atomic():
        client.save(update_fields=["rate_limit", "daily_quota"])
        audit.record(
            audit.Action.UPDATE,
            object_type="api.client",
            object_id=str(client.pk),
            object_repr=client.name,
            before=before,
            after={"rate_limit": client.rate_limit, "daily_quota": client.daily_quota},
            reason="limits changed",
        )


def revoke(client: ApiClient) -> None:
    with transaction.atomic():
        client.active = False
        client.save(update_fields=["active"])
        client.tokens.all().delete()
        audit.record(
            audit.Action.UPDATE,
            object_type="api.client",
            object_id=str(client.pk),
            object_repr=client.name,
            reason="revoked",
        )


def issue_token(client_id: str, client_secret: str) -> tuple[str, int] | None:
    """A bearer token and its lifetime in seconds for valid, active credentials; None otherwise."""
    client = ApiClient.objects.filter(client_id=client_id, active=True).first()
    if client is None or not hmac.compare_digest(client.secret_hash, digest(client_secret)):
        return None
    ttl = int(settings.SHIJIAN_API_TOKEN_SECONDS)
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    ApiToken.objects.filter(client=client, expires_at__lt=now).delete()
    ApiToken.objects.create(client=client, token_hash=digest(token), expires_at=now + dt.timedelta(seconds=ttl))
    return token, ttl


def authenticate(token: str) -> ApiClient | None:
    """The active client a live bearer token belongs to."""
    row = (
        ApiToken.objects.select_related("client")
        .filter(token_hash=digest(token), expires_at__gt=timezone.now(), client__active=True)
        .first()
    )
    return row.client if row else None


class Refusal(StrEnum):
    RATE = "rate limit exceeded"
    QUOTA = "daily quota exhausted"


def take(client_pk: int) -> Refusal | None:
    """Take one request from the client's token bucket (``rate_limit`` per minute, bursts up to it) and from its
    daily quota (``daily_quota`` per business day, 0: none); why not, if either is spent."""
    with transaction.atomic():
        client = ApiClient.objects.select_for_update().get(pk=client_pk)
        now = timezone.now()
        elapsed = (now - client.bucket_at).total_seconds() if client.bucket_at else 60.0
        tokens = min(float(client.rate_limit), client.bucket_tokens + elapsed * client.rate_limit / 60.0)
        day = clock.local_date(now)
        used = client.quota_used if client.quota_day == day else 0
        refusal = None
        if tokens < 1.0:
            refusal = Refusal.RATE
        elif client.daily_quota and used >= client.daily_quota:
            refusal = Refusal.QUOTA
        client.bucket_tokens = tokens if refusal else tokens - 1.0
        client.bucket_at = now
        client.quota_day, client.quota_used = day, used if refusal else used + 1
        client.save(update_fields=["bucket_tokens", "bucket_at", "quota_day", "quota_used"])
    return refusal
