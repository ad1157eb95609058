"""Keyset paging for incremental sync: rows ordered by (updated_at, id), an opaque cursor naming the last row.

A partner stores the last page's ``next`` and asks again later: every row written or changed since has a later
``updated_at`` and comes once in a later page. Rows younger than ``SHIJIAN_API_SYNC_LAG_SECONDS`` are held back,
so a write whose transaction commits after a page was read (with an earlier timestamp) is not skipped.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any, TypeVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

M = TypeVar("M", bound=models.Model)


class BadCursor(ValueError):
    pass


def encode(updated_at: dt.datetime, pk: int) -> str:
    raw = json.dumps([updated_at.isoformat(), pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> tuple[dt.datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        stamp, pk = json.loads(raw)
        at = dt.datetime.fromisoformat(stamp)
        if at.tzinfo is None or not isinstance(pk, int):
            raise BadCursor("bad cursor")
        return at, pk
    except (ValueError, TypeError) as exc:
        raise BadCursor("bad cursor") from exc


def page(
    qs: models.QuerySet[M], cursor: str | None, updated_since: dt.datetime | None, limit: int
) -> tuple[list[M], str | None]:
    """One page of ``qs`` after ``cursor`` (or from ``updated_since``), and the cursor after its last row."""
    cutoff = timezone.now() - dt.timedelta(seconds=float(settings.SHIJIAN_API_SYNC_LAG_SECONDS))
    qs = qs.filter(updated_at__lte=cutoff)
    if cursor:
        at, pk = decode(cursor)
        qs = qs.filter(Q(updated_at__gt=at) | Q(updated_at=at, id__gt=pk))
    elif updated_since is not None:
        qs = qs.filter(updated_at__gte=updated_since)
    rows = list(qs.order_by("updated_at", "id")[:limit])
    last: Any = rows[-1] if rows else None
    if last is not None:
        return rows, encode(last.updated_at, last.pk)
    return rows, cursor or (encode(updated_since, 0) if updated_since else None)
