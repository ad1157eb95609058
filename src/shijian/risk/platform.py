"""The risk model on the platform's own data: fit, backtest, promote, refresh the classes, explain, score.

The life of a model:
1. ``fit_version`` snapshots the register and the hazard library, computes the factors from the lake (the entity
   files) as of dates before the data's end, backtests the recipe (train on factors as of T − horizon with the
   label of [T − horizon, T); evaluate on factors as of T with the label of [T, T + horizon); several T), fits the
   final model on the latest complete window, and stores it as a ``ModelVersion`` with its snapshot, parameters,
   factors and backtest. The live version's recipe is backtested on the same periods; the candidate goes live only
   if its mean AUC is higher (ties keep the live one).
2. ``refresh`` (monthly: ``shijian risk refresh`` is a no-op when this month already has one) scores every entity
   with the live version as of a date, stores an ``Assessment`` per entity (with the class before), writes
   ``Entity.risk_class`` (read by the 双随机 draw) and keeps the factor snapshot for explanations.
3. ``explain`` turns one entity's largest contributions into plain Chinese for the entity page.
4. ``uplift`` measures the model on the purely random share of the plans: there, who was inspected did not depend
   on the model, so the findings are an unbiased sample of the population (targeted inspections alone are not).

The use cases live in one module each (this module is their public surface): ``store`` (the folder, RiskError, the
defaults), ``snapshots``, ``versions`` (backtest, fit, promote, load), ``refresh``, ``explain``, ``entities`` (scoring
listed entities as of a date) and ``uplift``.
"""

from __future__ import annotations

from shijian.risk.entities import score_entities
from shijian.risk.explain import Explanation, explain
from shijian.risk.refresh import cutoffs, due, refresh
from shijian.risk.snapshots import record_files, snapshot, snapshot_hazards, snapshot_register
from shijian.risk.store import DEFAULT_BUDGET, DEFAULT_HORIZON, KINDS, Progress, RiskError, home
from shijian.risk.uplift import estimate, uplift
from shijian.risk.versions import Tables, backtest, fit_version, labelled, live_version, load_model, test_dates

__all__ = [
    "DEFAULT_BUDGET", "DEFAULT_HORIZON", "KINDS", "Explanation", "Progress", "RiskError", "Tables", "backtest",
    "cutoffs", "due", "estimate", "explain", "fit_version", "home", "labelled", "live_version", "load_model",
    "record_files", "refresh", "score_entities", "snapshot", "snapshot_hazards", "snapshot_register", "test_dates",
    "uplift",
]  # fmt: skip
