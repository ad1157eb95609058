"""Honest temporal backtests: train on what was known before T, evaluate on what happened in the months after T.

Each fold trains every model on the rows dated before its start and scores the rows of its period; the models are
compared with a random draw at the same budget and with the simplest baseline (past violations). Nothing from the
evaluation period is seen in training (the features of each row are computed from data before its date).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shijian.risk import learn, metrics


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


def run(
    t: pa.Table,
    *,
    label: str,
    date: str,
    numeric: Sequence[str],
    categorical: Sequence[str],
    baseline: Callable[[pa.Table], np.ndarray] | None,
    n_folds: int = 6,
    months: int = 2,
    budget_share: float = 0.5,
    kinds: Sequence[str] = ("logistic", "gbm"),
) -> dict[str, Any]:
    dates = t[date].to_pylist()
    y_all = np.asarray(t[label].cast(pa.int8()).to_numpy(zero_copy_only=False), dtype=int)
    report: dict[str, Any] = {"rows": t.num_rows, "positives": int(y_all.sum()), "folds": []}
    for f in folds(max(dates), n_folds, months):
        train_mask = pc.less(t[date], pa.scalar(f.start))
        test_mask = pc.and_(pc.greater_equal(t[date], pa.scalar(f.start)), pc.less(t[date], pa.scalar(f.end)))
        tr, te = t.filter(train_mask), t.filter(test_mask)
        if te.num_rows == 0 or tr.num_rows < 200:
            continue
        ytr = np.asarray(tr[label].cast(pa.int8()).to_numpy(zero_copy_only=False), dtype=int)
        yte = np.asarray(te[label].cast(pa.int8()).to_numpy(zero_copy_only=False), dtype=int)
        budget = max(1, round(te.num_rows * budget_share))
        test_dates = te[date].to_pylist()
        scores: dict[str, np.ndarray] = {}
        if baseline is not None:
            scores["past_violations"] = baseline(te)
        for kind in kinds:
            scores[kind] = learn.fit(kind, tr, ytr, numeric, categorical).predict(te)
        fold: dict[str, Any] = {
            "period": [f.start.isoformat(), (f.end - dt.timedelta(days=1)).isoformat()],
            "train_rows": tr.num_rows,
            "test_rows": te.num_rows,
            "test_positives": int(yte.sum()),
            "budget": budget,
            "models": {},
        }
        for name, s in scores.items():
            fold["models"][name] = {
                "auc": round(metrics.auc(yte, s), 4),
                "at_budget": metrics.as_dict(metrics.at_budget(yte, s, budget)),
                "schedule": metrics.as_dict(metrics.schedule(test_dates, yte, s)),
            }
        report["folds"].append(fold)
    report["mean"] = _means(report["folds"])
    return report


def _means(fs: list[dict[str, Any]]) -> dict[str, Any]:
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
            "days_earlier": round(float(np.mean([r["schedule"]["days_earlier"] for r in rows])), 2),
            "first_half_gain": round(float(np.mean([r["schedule"]["first_half_gain"] for r in rows])), 4),
        }
    return out
