"""``shijian risk score`` on the shared datasets and on any table: the production path of ``risk.prospective``
(fit on the outcomes known before the date, describe every listed key as of the date with the dataset's one feature
function, and say why: the top factors). Every key is scored; keys without history get a note."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shijian.risk import prospective

Rows = list[dict[str, Any]]


def chicago(folder: Path, day: dt.date, keys: Sequence[str]) -> tuple[Rows, str]:
    """Chicago: establishments (licence numbers) scored as if inspected on ``day``."""
    return prospective.score(prospective.chicago(folder), day, keys)


def ccf(folder: Path, day: dt.date, keys: Sequence[str]) -> tuple[Rows, str]:
    """CCF: any enterprise id, from its side-table records before ``day``."""
    return prospective.score(prospective.ccf(folder), day, keys)


def table(path: Path, day: dt.date, keys: Sequence[str], *, key: str, label: str, date: str) -> tuple[Rows, str]:
    """Any table: each key from its latest row dated on or before ``day``."""
    return prospective.score(prospective.table(path, key=key, label=label, date=date), day, keys)
