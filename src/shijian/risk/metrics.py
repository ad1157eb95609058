"""Evaluation of a ranking of entities to inspect, against a random draw at the same budget.

- ``at_budget``: precision and recall when the top ``budget`` entities by score are inspected, and the
  law-abiding entities disturbed per 100 inspections compared with a random draw of the same size (the seed
  platform's claim: 68 fewer).
- ``schedule``: Chicago's evaluation of its food-inspection forecasts. The inspections of a period happen in some
  actual order at some daily capacity; re-ordering them by score at the same capacity, how many days earlier is
  each violation found on average, and what share of the violations falls in the first half of the period.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import roc_auc_score

SEED_BUDGET = 29 / 780  # the seed platform's claim: 29k inspected of 780k entities (3.7%)
BUDGETS = (SEED_BUDGET, 0.1, 0.25, 0.5)


def auc(y: ArrayLike, score: ArrayLike) -> float:
    """Area under the ROC curve (scikit-learn's; ties counted half); NaN with only one class."""
    yy = np.asarray(y, dtype=bool)
    if yy.all() or not yy.any():
        return float("nan")
    return float(roc_auc_score(yy, np.asarray(score, dtype=float)))


@dataclass(frozen=True)
class AtBudget:
    budget: int
    precision: float
    recall: float
    base_rate: float  # what a random draw finds per inspection, in expectation
    lift: float
    law_abiding_per_100: float  # disturbed per 100 inspections, by the model's choice
    law_abiding_per_100_random: float
    spared_per_100: float  # fewer law-abiding entities disturbed per 100 inspections than random


def at_budget(y: ArrayLike, score: ArrayLike, budget: int) -> AtBudget:
    yy = np.asarray(y, dtype=bool)
    s = np.asarray(score, dtype=float)
    budget = max(1, min(budget, len(yy)))
    top = np.argsort(-s, kind="mergesort")[:budget]
    found = int(yy[top].sum())
    base = float(yy.mean())
    precision = found / budget
    return AtBudget(
        budget=budget,
        precision=precision,
        recall=found / max(1, int(yy.sum())),
        base_rate=base,
        lift=precision / base if base else float("nan"),
        law_abiding_per_100=100 * (1 - precision),
        law_abiding_per_100_random=100 * (1 - base),
        spared_per_100=100 * (precision - base),
    )


@dataclass(frozen=True)
class Schedule:
    inspections: int
    violations: int
    days_earlier: float  # mean, over inspections with a violation, of actual day minus simulated day
    first_half_actual: float  # share of the period's violations found in its first half, actual order
    first_half_model: float
    first_half_gain: float  # relative: model / actual - 1 (Chicago: +25%)


def schedule(dates: list[dt.date], y: ArrayLike, score: ArrayLike) -> Schedule:
    """Re-order a period's inspections by score, keeping the number done each day, and compare."""
    yy = np.asarray(y, dtype=bool)
    s = np.asarray(score, dtype=float)
    days = np.array([d.toordinal() for d in dates])
    slots = np.sort(days)  # the capacity: the k-th inspection of the period happens on slots[k]
    order = np.lexsort((days, -s))  # by score, ties by actual date
    simulated = np.empty(len(days), dtype=int)
    simulated[order] = slots
    start, end = int(slots.min()), int(slots.max())
    mid = start + (end - start) / 2
    v = int(yy.sum())
    if v == 0:
        return Schedule(len(days), 0, 0.0, float("nan"), float("nan"), float("nan"))
    actual_half = float((days[yy] <= mid).sum() / v)
    model_half = float((simulated[yy] <= mid).sum() / v)
    return Schedule(
        inspections=len(days),
        violations=v,
        days_earlier=float((days[yy] - simulated[yy]).mean()),
        first_half_actual=actual_half,
        first_half_model=model_half,
        first_half_gain=model_half / actual_half - 1 if actual_half else float("nan"),
    )


def as_dict(obj: Any) -> dict[str, Any]:
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in obj.__dict__.items()}


def scored(y: np.ndarray, s: np.ndarray, budget: int) -> dict[str, Any]:
    """What every backtest fold reports for one model: AUC and the figures at the inspection budget."""
    return {"auc": round(auc(y, s), 4), "at_budget": as_dict(at_budget(y, s, budget))}


def calibration(y: ArrayLike, p: ArrayLike, bins: int = 10) -> list[dict[str, Any]]:
    """Reliability by decile of the predicted probability: per decile the entities, the mean predicted chance and
    the share observed with a problem (a calibrated model has the two equal)."""
    yy = np.asarray(y, dtype=float)
    pp = np.asarray(p, dtype=float)
    order = np.argsort(pp, kind="mergesort")
    out = []
    for part in np.array_split(order, min(bins, len(order))):
        if len(part):
            out.append({"n": len(part), "predicted": round(float(pp[part].mean()), 4),
                        "observed": round(float(yy[part].mean()), 4)})  # fmt: skip
    return out
