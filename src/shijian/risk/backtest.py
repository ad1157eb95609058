"""Backtest periods and their means. The backtest itself is ``risk.prospective.backtest``: ``evaluate`` repeated on
consecutive periods, each scored with the production path at its first day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Fold:
    start: dt.date
    end: dt.date  # exclusive


def month_add(d: dt.date, months: int) -> dt.date:
    m = d.month - 1 + months
    return dt.date(d.year + m // 12, m % 12 + 1, 1)


def folds(last: dt.date, n: int, months: int = 2) -> list[Fold]:
    """n consecutive periods of ``months`` months ending with the month of ``last``."""
    end = month_add(dt.date(last.year, last.month, 1), 1)
    out = []
    for _ in range(n):
        start = month_add(end, -months)
        out.append(Fold(start, end))
        end = start
    return out[::-1]


def means(fs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per model, the mean over folds of AUC, precision, recall and spared per 100 at the budget, and of the
    schedule metrics where the folds have them."""
    out: dict[str, Any] = {}
    if not fs:
        return out
    for name in fs[0]["models"]:
        rows = [f["models"][name] for f in fs]
        out[name] = {
            "auc": round(float(np.mean([r["auc"] for r in rows])), 4),
            "precision_at_budget": round(float(np.mean([r["at_budget"]["precision"] for r in rows])), 4),
            "recall_at_budget": round(float(np.mean([r["at_budget"]["recall"] for r in rows])), 4),
            "spared_per_100": round(float(np.mean([r["at_budget"]["spared_per_100"] for r in rows])), 2),
        }
        if "schedule" in rows[0]:
            out[name]["days_earlier"] = round(float(np.mean([r["schedule"]["days_earlier"] for r in rows])), 2)
            out[name]["first_half_gain"] = round(float(np.mean([r["schedule"]["first_half_gain"] for r in rows])), 4)
    return out
