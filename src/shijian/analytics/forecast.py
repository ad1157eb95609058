"""Monthly forecasts with prediction intervals, and an honest backtest of their error.

Model: exponential smoothing in state-space form (statsmodels ``ETSModel``): additive errors, damped additive
trend, additive yearly seasonality when the series has at least two years; the intervals are the model's
(80% and 95%). Backtest: rolling origin over the last ``folds`` months — the model is refitted on the months
before each origin and its forecast 1..``horizon`` months ahead is compared with what happened; the same for the
seasonal naive forecast (the value twelve months before), the baseline any forecast must beat. Reported: mean
absolute error, mean absolute percentage error (months with a non-zero actual), and the share of actuals inside
the 80% interval (it should be near 80%).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

SEASON = 12
# Raise when the method changes (model, folds, intervals): every stored forecast is then refitted, not only the
# series whose data changed.
METHOD_VERSION = 1


@dataclass
class Point:
    month: str
    mean: float
    lo80: float
    hi80: float
    lo95: float
    hi95: float


@dataclass
class Backtest:
    folds: int = 0
    horizon: int = 0
    mae: float | None = None
    mape: float | None = None
    naive_mae: float | None = None
    naive_mape: float | None = None
    coverage80: float | None = None


@dataclass
class Forecast:
    history: list[list[Any]]
    points: list[Point] = field(default_factory=list)
    backtest: Backtest = field(default_factory=Backtest)
    method: str = ""
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Forecast:
        return cls(
            history=d["history"],
            points=[Point(**p) for p in d["points"]],
            backtest=Backtest(**d["backtest"]),
            method=d["method"],
            message=d["message"],
        )


def next_months(last: str, n: int) -> list[str]:
    y, m = int(last[:4]), int(last[5:7])
    out = []
    for _ in range(n):
        y, m = (y, m + 1) if m < 12 else (y + 1, 1)
        out.append(f"{y:04d}-{m:02d}")
    return out


def _fit(values: np.ndarray, start: Any = None) -> Any:
    import pandas as pd
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    seasonal = "add" if len(values) >= 2 * SEASON else None
    model = ETSModel(
        pd.Series(values.astype(float)),
        error="add",
        trend="add",
        damped_trend=True,
        seasonal=seasonal,
        seasonal_periods=SEASON if seasonal else None,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(disp=False, maxiter=200, start_params=start)


Bounds = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _predict(values: np.ndarray, horizon: int, start: Any = None) -> tuple[Bounds, Any]:
    """Mean, 80% and 95% bounds, ``horizon`` steps ahead (counts cannot go below zero), and the fitted parameters.
    ``start``: parameters to start the optimiser from (a fit on fewer, earlier months: never on later ones)."""
    seasonal_ok = start is not None and (len(values) >= 2 * SEASON) == (len(start) > 6)
    fitted = _fit(values, start if seasonal_ok else None)
    n = len(values)
    pred = fitted.get_prediction(start=n, end=n + horizon - 1)
    f80 = pred.summary_frame(alpha=0.2)
    f95 = pred.summary_frame(alpha=0.05)

    def clip(a: Any) -> np.ndarray:
        out: np.ndarray = np.maximum(np.asarray(a, dtype=float), 0.0)
        return out

    bounds = (
        clip(f80["mean"]),
        clip(f80["pi_lower"]),
        clip(f80["pi_upper"]),
        clip(f95["pi_lower"]),
        clip(f95["pi_upper"]),
    )
    return bounds, fitted.params


def backtest(values: np.ndarray, horizon: int = 3, folds: int = 4) -> tuple[Backtest, Any]:
    """Rolling-origin errors of the model and of the seasonal naive forecast over the last ``folds`` origins; and
    the last fold's parameters (the optimiser's start for the fit on every month). Each fold's optimiser starts
    from the fold before (fitted on fewer, earlier months), so no fold sees a later month."""
    n = len(values)
    first_origin = n - folds - horizon + 1
    if first_origin < SEASON + 6:
        return Backtest(), None
    err, pct, nerr, npct, inside = [], [], [], [], []
    params = None
    for origin in range(first_origin, first_origin + folds):
        train, actual = values[:origin], values[origin : origin + horizon]
        (mean, lo80, hi80, _lo95, _hi95), params = _predict(train, horizon, params)
        naive = np.array([train[origin - SEASON + h] for h in range(horizon)], dtype=float)
        for h in range(len(actual)):
            a = float(actual[h])
            err.append(abs(mean[h] - a))
            nerr.append(abs(naive[h] - a))
            inside.append(lo80[h] <= a <= hi80[h])
            if a:
                pct.append(abs(mean[h] - a) / abs(a))
                npct.append(abs(naive[h] - a) / abs(a))

    def r(xs: list[Any], d: int = 2) -> float | None:
        return round(float(np.mean(xs)), d) if xs else None

    result = Backtest(
        folds=folds,
        horizon=horizon,
        mae=r(err),
        mape=r(pct, 4),
        naive_mae=r(nerr),
        naive_mape=r(npct, 4),
        coverage80=r(inside, 3),
    )
    return result, params


def _complete(history: list[list[Any]]) -> list[list[Any]]:
    complete = history[:-1] if history else []
    # Leading months before the series starts (all zero) carry no information.
    while complete and not complete[0][1]:
        complete = complete[1:]
    return complete


def fittable(history: list[list[Any]]) -> bool:
    """Enough complete months for a forecast and its backtest (a year and a half)."""
    return len(_complete(history)) >= SEASON + 6


def forecast(history: list[list[Any]], horizon: int = 6, folds: int = 4) -> Forecast:
    """``history``: [[YYYY-MM, count], ...] in order, the current month last (it is still filling, so dropped)."""
    complete = _complete(history)
    out = Forecast(history=complete)
    if not fittable(history):
        out.message = "too_short"
        return out
    values = np.array([float(v) for _m, v in complete])
    out.backtest, params = backtest(values, min(3, horizon), folds)
    (mean, lo80, hi80, lo95, hi95), _params = _predict(values, horizon, params)
    months = next_months(complete[-1][0], horizon)
    out.points = [
        Point(m, round(float(a), 1), round(float(b), 1), round(float(c), 1), round(float(d), 1), round(float(e), 1))
        for m, a, b, c, d, e in zip(months, mean, lo80, hi80, lo95, hi95, strict=True)
        if all(math.isfinite(x) for x in (a, b, c, d, e))
    ]
    out.method = "ETS(A,Ad,A)" if len(values) >= 2 * SEASON else "ETS(A,Ad,N)"
    return out


def fit_job(history: list[list[Any]]) -> tuple[dict[str, Any], float]:
    """One forecast as a plain dict and its seconds (a process pool's unit of work: no Django here)."""
    import time

    t0 = time.perf_counter()
    result = forecast(history).as_dict()
    return result, round(time.perf_counter() - t0, 3)
