"""Pagination whose count stays cheap at any table size."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.core.paginator import Paginator


class BoundedPaginator(Paginator):  # type: ignore[type-arg]
    """Counts at most ``cap`` rows (``SELECT COUNT(*) FROM (SELECT ... LIMIT cap + 1)``, without ORDER BY).

    Below the cap the count is exact; above it the page says "more than N" and asks for narrower filters. When
    the caller already knows the exact total (the unfiltered jurisdiction, from cached aggregates), it passes
    ``known_total`` and nothing is counted.
    """

    def __init__(
        self, object_list: Any, per_page: int, cap: int = 10_000, known_total: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap
        self.known_total = known_total

    @cached_property
    def _bounded(self) -> int:
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
