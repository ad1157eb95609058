"""The models: a penalised logistic regression (glmnet-style: ridge, the penalty chosen by cross-validation; the
City of Chicago used glmnet) and gradient boosting (LightGBM), both calibrated. Features arrive as a pyarrow
table; the caller names the numeric and the categorical columns. Deterministic: fixed seeds, one thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


@dataclass
class Encoder:
    """Numeric columns (median-imputed, plus missing flags; for the logistic model log-scaled and standardised)
    and one-hot categories (levels seen in training; rare levels pooled)."""

    numeric: Sequence[str]
    categorical: Sequence[str]
    min_level: int = 20
    medians: dict[str, float] = field(default_factory=dict)
    means: dict[str, float] = field(default_factory=dict)
    stds: dict[str, float] = field(default_factory=dict)
    levels: dict[str, list[str]] = field(default_factory=dict)
    with_missing: list[str] = field(default_factory=list)

    def fit(self, t: pa.Table) -> Encoder:
        for c in self.numeric:
            x = _num(t, c)
            ok = ~np.isnan(x)
            self.medians[c] = float(np.median(x[ok])) if ok.any() else 0.0
            filled = _slog(np.where(ok, x, self.medians[c]))
            self.means[c], self.stds[c] = float(filled.mean()), float(filled.std() or 1.0)
            if not ok.all():
                self.with_missing.append(c)
        for c in self.categorical:
            vc = pc.value_counts(_strings(t, c))
            self.levels[c] = sorted(
                str(v) for v, n in zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist(), strict=True)
                if n >= self.min_level
            )  # fmt: skip
        return self

    def codes(self, t: pa.Table, c: str) -> np.ndarray:
        """The index of each row's level of categorical ``c`` in ``levels[c]``; -1 for a level not seen in training."""
        idx = pc.index_in(_strings(t, c), value_set=pa.array(self.levels[c], pa.string()))
        return np.asarray(pc.fill_null(idx, -1).to_numpy(zero_copy_only=False), dtype=np.int64)

    def names(self) -> list[str]:
        out = list(self.numeric) + [f"{c}_missing" for c in self.with_missing]
        for c in self.categorical:
            out += [f"{c}={lv}" for lv in self.levels[c]]
        return out

    def transform(self, t: pa.Table, standardise: bool) -> np.ndarray:
        cols = []
        for c in self.numeric:
            x = _num(t, c)
            x = np.where(np.isnan(x), self.medians[c], x)
            cols.append((_slog(x) - self.means[c]) / self.stds[c] if standardise else x)
        for c in self.with_missing:
            cols.append(np.isnan(_num(t, c)).astype(float))
        for c in self.categorical:
            code = self.codes(t, c)
            cols += [(code == i).astype(float) for i in range(len(self.levels[c]))]
        return np.column_stack(cols) if cols else np.zeros((t.num_rows, 0))

    def raw(self, t: pa.Table) -> np.ndarray:
        """For the tree model: numeric as they are (NaN kept), categories as integer codes (-1 unseen)."""
        cols = [_num(t, c) for c in self.numeric]
        for c in self.categorical:
            cols.append(self.codes(t, c).astype(float))
        return np.column_stack(cols)


def _strings(t: pa.Table, c: str) -> pa.ChunkedArray:
    """A categorical column as strings, missing values as "None" (one level like any other)."""
    return pc.fill_null(t[c].cast(pa.string()), "None")


def _slog(x: np.ndarray) -> np.ndarray:
    """sign(x)·log(1 + |x|): counts and amounts with long tails, on a scale a linear model can use."""
    return np.asarray(np.sign(x) * np.log1p(np.abs(x)))


def _num(t: pa.Table, c: str) -> np.ndarray:
    return np.asarray(t[c].cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=float)


def _cores() -> int:
    import os

    return os.cpu_count() or 1


class Platt:
    """Logistic calibration of a score on held-out data (monotone: the ranking is unchanged)."""

    def __init__(self) -> None:
        self.a, self.b = 1.0, 0.0

    def fit(self, score: np.ndarray, y: np.ndarray) -> Platt:
        from sklearn.linear_model import LogisticRegression

        lr = LogisticRegression(C=1e6, max_iter=1000).fit(score.reshape(-1, 1), y)
        self.a, self.b = float(lr.coef_[0][0]), float(lr.intercept_[0])
        return self

    def __call__(self, score: np.ndarray) -> np.ndarray:
        return np.asarray(1 / (1 + np.exp(-(self.a * score + self.b))))


PDO = 20.0  # scorecard points that double the odds of a finding
BASE = 500.0  # scorecard points at even odds


@dataclass
class Model:
    kind: str
    encoder: Encoder
    estimator: Any
    calibration: Platt
    params: dict[str, Any]
    bins: dict[str, Any] = field(default_factory=dict)  # scorecard: factor -> screening.Bins
    decisions: list[Any] = field(default_factory=list)  # scorecard: screening decisions (kept and dropped, why)

    def _woe(self, t: pa.Table) -> np.ndarray:
        return np.column_stack([b.transform(t[c].to_pylist()) for c, b in self.bins.items()])

    def raw_score(self, t: pa.Table) -> np.ndarray:
        if self.kind == "logistic":
            return np.asarray(self.estimator.decision_function(self.encoder.transform(t, standardise=True)))
        if self.kind == "scorecard":
            return np.asarray(self.estimator.decision_function(self._woe(t)))
        # prediction is deterministic whatever the threads: use every core (training stays on one)
        return np.asarray(self.estimator.predict(self.encoder.raw(t), raw_score=True, num_threads=_cores()))

    def points(self) -> list[tuple[str, str, int]]:
        """The scorecard: points per factor band (higher = riskier); the base points are listed first."""
        if self.kind != "scorecard":
            raise ValueError("points exist for the scorecard only")
        factor = PDO / np.log(2)
        out = [("base", "", round(BASE + factor * float(self.estimator.intercept_[0])))]
        for coef, (c, b) in zip(self.estimator.coef_[0], self.bins.items(), strict=True):
            out += [(c, label, round(factor * float(coef) * w)) for label, w in zip(b.labels, b.woe, strict=True)]
        return out

    def explain(self, t: pa.Table, top: int = 5) -> list[list[tuple[str, float]]]:
        """Per row, the factors that push its score most (scorecard points, or SHAP values in log-odds)."""
        if self.kind == "scorecard":
            contrib = self._woe(t) * self.estimator.coef_[0] * (PDO / np.log(2))
            names = list(self.bins)
        elif self.kind == "gbm":
            contrib = np.asarray(self.estimator.predict(self.encoder.raw(t), pred_contrib=True, num_threads=_cores()))[
                :, :-1
            ]
            names = list(self.encoder.numeric) + list(self.encoder.categorical)
        else:
            contrib = self.encoder.transform(t, standardise=True) * self.estimator.coef_[0]
            names = self.encoder.names()
        out = []
        for row in contrib:
            order = np.argsort(-np.abs(row))[:top]
            out.append([(names[i], round(float(row[i]), 3)) for i in order if row[i] != 0])
        return out

    def predict(self, t: pa.Table) -> np.ndarray:
        return self.calibration(self.raw_score(t))


GBM_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.03,
    "num_leaves": 15,
    "min_data_in_leaf": 40,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "num_threads": 1,
    "seed": 7,
    "deterministic": True,
    "verbose": -1,
}


LARGE = 100_000  # rows from which the trees learn faster


def gbm_params(rows: int) -> dict[str, Any]:
    """Small tables learn slowly (0.03, as on Chicago's 20k inspections, where it gains ~0.004 AUC); from LARGE rows
    on, 0.1: about four times fewer trees for the same AUC on the synthetic district (0.7790 against 0.7795), so that
    scoring 780k entities stays within seconds."""
    return {**GBM_PARAMS, "learning_rate": 0.1 if rows >= LARGE else GBM_PARAMS["learning_rate"]}


def _split_for_calibration(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows are in time order: the last fifth calibrates (and stops the trees); the rest trains."""
    cut = int(n * 0.8)
    idx = np.arange(n)
    return idx[:cut], idx[cut:]


def fit(
    kind: str,
    t: pa.Table,
    y: np.ndarray,
    numeric: Sequence[str],
    categorical: Sequence[str],
    increasing: Sequence[str] = (),
    gbm: dict[str, Any] | None = None,
) -> Model:
    """Fit ``kind`` ("logistic" or "gbm") on rows in time order; calibrate on the latest fifth. ``increasing``:
    numeric factors the chance can only rise with (the trees are constrained to be monotone in them); ``gbm``:
    LightGBM parameters that replace the defaults (a dataset's own regularisation)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # scikit-learn 1.8 renames the elastic-net arguments
        model = _fit(kind, t, y, numeric, categorical, increasing, gbm or {})
    model.params["base_rate"] = round(float(np.mean(y)), 6)  # the classes' default cut-offs are relative to it
    return model


def _fit(
    kind: str,
    t: pa.Table,
    y: np.ndarray,
    numeric: Sequence[str],
    categorical: Sequence[str],
    increasing: Sequence[str],
    gbm: dict[str, Any],
) -> Model:
    enc = Encoder(numeric, categorical).fit(t)
    tr, cal = _split_for_calibration(t.num_rows)
    if kind == "logistic":
        from sklearn.linear_model import LogisticRegression, LogisticRegressionCV

        X = enc.transform(t, standardise=True)
        # ridge (glmnet with alpha = 0), the penalty chosen by 4-fold CV on AUC; lbfgs converges in seconds where
        # the elastic net's saga solver took minutes on long-tailed features
        est = LogisticRegressionCV(Cs=8, cv=4, scoring="roc_auc", max_iter=2000, random_state=7)
        est.fit(X[tr], y[tr])
        c = float(np.atleast_1d(est.C_)[0])
        m = Model(kind, enc, est, Platt(), {"C": c, "penalty": "l2"})
        m.calibration.fit(m.raw_score(t.take(cal)), y[cal])
        m.estimator = LogisticRegression(C=c, max_iter=2000).fit(X, y)  # refit on all rows, same penalty
        return m
    if kind == "scorecard":
        from sklearn.linear_model import LogisticRegression

        from shijian.risk import screening

        decisions, kept = screening.screen(t.take(tr), y[tr], numeric, categorical)
        if not kept:
            raise ValueError("no factor passed the screening: nothing to build a scorecard on")
        m = Model(kind, enc, None, Platt(), {"factors": list(kept)}, kept, decisions)
        X = m._woe(t)
        m.estimator = LogisticRegression(C=1.0, max_iter=2000).fit(X[tr], y[tr])
        m.calibration.fit(m.raw_score(t.take(cal)), y[cal])
        m.estimator = LogisticRegression(C=1.0, max_iter=2000).fit(X, y)
        return m
    if kind == "gbm":
        import lightgbm as lgb

        X = enc.raw(t)
        params = {**gbm_params(t.num_rows), **gbm}
        if increasing:
            params["monotone_constraints"] = [int(c in increasing) for c in numeric] + [0] * len(categorical)
        cat_idx = list(range(len(numeric), len(numeric) + len(categorical)))
        dtrain = lgb.Dataset(X[tr], y[tr], categorical_feature=cat_idx, free_raw_data=False)
        dval = lgb.Dataset(X[cal], y[cal], categorical_feature=cat_idx, reference=dtrain)
        booster = lgb.train(
            params,
            dtrain,
            num_boost_round=600,
            valid_sets=[dval],
            callbacks=[lgb.early_stopping(50, verbose=False)],
        )
        rounds = booster.best_iteration or 600
        m = Model(kind, enc, booster, Platt(), {**params, "rounds": rounds})
        m.calibration.fit(m.raw_score(t.take(cal)), y[cal])
        full = lgb.Dataset(X, y, categorical_feature=cat_idx)
        m.estimator = lgb.train(params, full, num_boost_round=rounds)
        return m
    raise ValueError(f"unknown model kind {kind!r}")
