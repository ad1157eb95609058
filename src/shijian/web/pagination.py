"""Pagination whose count stays cheap at any table size."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.core.paginator import Paginator


class BoundedPaginator(Paginator):  # type: ignore[type-arg]
    """Counts at most ``cap`` rows (``SELECT COUNT(*) FROM (... LIMIT cap + 1)``).

    Below the cap the count is exact; above it the page says "more than N" and asks for narrower filters.
    A district's whole register (~60k-250k) stays exact with the default cap; a city-wide unfiltered list does not
    need an exact count to be browsed (dashboards carry the totals).
    """

    def __init__(self, object_list: Any, per_page: int, cap: int = 100_000, **kwargs: Any) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap

    @cached_property
    def _bounded(self) -> int:
        return int(self.object_list[: self.cap + 1].count())

    @cached_property
    def count(self) -> int:
        return min(self._bounded, self.cap)

    @property
    def exact(self) -> bool:
        return self._bounded <= self.cap
