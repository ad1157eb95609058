"""Pagination whose count stays cheap at any table size."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import Any

from django.core.paginator import Page, Paginator
from django.db import connection, transaction


class BoundedPaginator(Paginator):  # type: ignore[type-arg]
    """Counts at most ``cap`` rows (``SELECT COUNT(*) FROM (SELECT ... LIMIT cap + 1)``, without ORDER BY).

    Below the cap the count is exact; above it the page says "more than N" and asks for narrower filters. When
    the caller already knows the exact total (the unfiltered jurisdiction, from cached aggregates), it passes
    ``known_total`` and nothing is counted.
    """

    def __init__(
        self,
        object_list: Any,
        per_page: int,
        cap: int = 10_000,
        known_total: int | None = None,
        counted: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap
        self.known_total = known_total
        self.counted = counted  # the bounded count, already taken by the caller (at most cap + 1)

    @cached_property
    def _bounded(self) -> int:
        if self.counted is not None:
            return self.counted
        if self.known_total is not None:
            self.cap = max(self.cap, self.known_total)
            return self.known_total
        qs: Any = self.object_list
        return int(qs.order_by()[: self.cap + 1].count())

    @cached_property
    def count(self) -> int:
        return min(self._bounded, self.cap)

    @property
    def exact(self) -> bool:
        return self._bounded <= self.cap


FEW_MATCHES = 10_000  # an exact count up to the cap: the matches are few enough to fetch by index and sort


@contextmanager
def by_index_conditions(enabled: bool) -> Iterator[None]:
    """Fetch a page of few matches through the search's own indexes, never by walking the sort order's index.

    PostgreSQL plans ``WHERE <trigram LIKEs> ORDER BY id DESC LIMIT 3`` as a backward walk of the primary key that
    stops after three matches: it expects them early, but when only three of 780k rows match it reads them all
    (0.9-1.7 s at Foshan scale). When the bounded count has already said the matches are few, ``SET LOCAL
    enable_indexscan = off`` for this one query leaves the bitmap scans of the trigram (and other) indexes and a
    sort of the few rows (under 1 ms for 3 matches). SQLite answers the same queries through its FTS5 table."""
    if not enabled or connection.vendor != "postgresql":
        yield
        return
    enclosed = connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT current_setting('enable_indexscan'), set_config('enable_indexscan', 'off', true)")
        before = cur.fetchone()[0]
        yield
        if enclosed:  # SET LOCAL would outlive this block (an error rolls the savepoint back, and the setting)
            cur.execute("SELECT set_config('enable_indexscan', %s, true)", [before])


def page_by_ids(qs: Any, per_page: int, number: Any, cap: int = 10_000) -> tuple[Page[Any], list[Any] | None] | None:
    """PostgreSQL, rows ordered by the primary key only (a list's default): the bounded count taken as the matching
    ids, so a search's trigram indexes are read once, not once for the count and again for the page.

    Few matches (at most ``cap``): the ids are sorted here and the page's rows fetched by their ids (primary-key
    lookups): ``(page, rows)``. Many: ``(page, None)``, the page's rows still to be read (the count is reused; the
    database walks the primary key and finds a page of many matches at once). Other databases and orderings:
    ``None``, nothing asked.
    """
    pk = qs.model._meta.pk.name
    order = tuple(qs.query.order_by)
    if connection.vendor != "postgresql" or order not in {("id",), ("-id",), (pk,), (f"-{pk}",)}:
        return None
    ids = list(qs.order_by().values_list("pk", flat=True)[: cap + 1])
    if len(ids) > cap:
        return BoundedPaginator(qs, per_page, cap=cap, counted=len(ids)).get_page(number), None
    ids.sort(reverse=order[0].startswith("-"))
    page = BoundedPaginator(ids, per_page, cap=cap, counted=len(ids)).get_page(number)
    # the page's rows by their ids alone (they came from the restricted, filtered query), related rows as the list
    rows = qs.model._default_manager.filter(pk__in=list(page.object_list)).order_by(*order)
    rows.query.select_related = qs.query.select_related
    rows = rows.prefetch_related(*qs._prefetch_related_lookups)
    return page, list(rows)
