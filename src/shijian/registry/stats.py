"""Small aggregates over the register, cached until the register changes."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db.models import Count

from shijian.core.jurisdiction import restrict
from shijian.registry.models import Entity

VERSION_KEY = "registry:entity-version"


def bump_version() -> None:
    """Called after any entity change or bulk load: cached aggregates are recomputed on next use."""
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 1, timeout=None)


def status_counts(user: Any) -> dict[str, int]:
    version = cache.get_or_set(VERSION_KEY, 1, timeout=None)
    key = f"registry:status-counts:{version}:{user.pk}:{user.region_code}:{user.role}"
    counts: dict[str, int] | None = cache.get(key)
    if counts is None:
        qs = restrict(Entity.objects.all(), user, "view")
        counts = dict(qs.values_list("status").annotate(n=Count("id")).order_by())
        cache.set(key, counts, timeout=3600)
    return counts
