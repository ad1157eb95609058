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
            fold["models"][name] = metrics.scored(yte, s, budget) | {
                "schedule": metrics.as_dict(metrics.schedule(test_dates, yte, s)),
            }
        report["folds"].append(fold)
    report["mean"] = means(report["folds"])
    return report


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


def cross_validate(
    t: pa.Table,
    *,
    label: str,
    numeric: Sequence[str],
    categorical: Sequence[str],
    feature_sets: dict[str, tuple[Sequence[str], Sequence[str]]] | None = None,
    k: int = 5,
    budget_share: float = 0.1,
    kinds: Sequence[str] = ("logistic", "gbm"),
    seed: int = 7,
) -> dict[str, Any]:
    """Stratified k-fold cross-validation, for labels without dates (the CCF task). ``feature_sets`` adds models
    on subsets of the features (name -> (numeric, categorical)), e.g. a presence-only baseline."""
    y = np.asarray(t[label].cast(pa.int8()).to_numpy(zero_copy_only=False), dtype=int)
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(y), dtype=int)
    for cls in (0, 1):
        idx = np.flatnonzero(y == cls)
        rng.shuffle(idx)
        fold_of[idx] = np.arange(len(idx)) % k
    sets = {"all": (numeric, categorical), **(feature_sets or {})}
    oof: dict[str, np.ndarray] = {}
    for set_name, (num, cat) in sets.items():
        for kind in kinds if set_name == "all" else ("logistic",):
            name = f"{kind}" if set_name == "all" else f"{set_name}_{kind}"
            scores = np.zeros(len(y))
            for f in range(k):
                train = np.flatnonzero(fold_of != f)
                # calibration takes the last fifth: a random one, the same for every model of this fold
                np.random.default_rng([seed, f]).shuffle(train)
                test = np.flatnonzero(fold_of == f)
                model = learn.fit(kind, t.take(train), y[train], num, cat)
                scores[test] = model.predict(t.take(test))
            oof[name] = scores
    budget = max(1, round(len(y) * budget_share))
    return {
        "rows": len(y),
        "positives": int(y.sum()),
        "folds": k,
        "budget": budget,
        "models": {
            name: {"auc": round(metrics.auc(y, s), 4), "at_budget": metrics.as_dict(metrics.at_budget(y, s, budget))}
            for name, s in oof.items()
        },
    }
