"""One scoring path per dataset, judged prospectively.

A ``Dataset`` has outcomes (what inspections found, or labels) and ONE feature function that describes any key as
known on a date. Everything goes through it:

- ``training``: the outcomes before T, each described as of its own date (CCF: the labels outside the held-out
  fold, described as of T; their labels carry no date);
- ``score``: any list of keys as of T, with a note for keys without history or unknown to every table (they get
  the base features; none is refused);
- ``evaluate``: the production path at T (fit on ``training`` at T, describe the keys as of T), then what happened
  in [T, until]: AUC, precision, recall and law-abiding spared per 100 at several budgets, against random and the
  past-violations baseline, and for dated outcomes the schedule metrics (days earlier, first half);
- ``backtest``: ``evaluate`` repeated on consecutive periods (CCF: on each fold).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shijian.risk import classes, factors, learn, metrics

SEED_BUDGET = metrics.SEED_BUDGET
BUDGETS = metrics.BUDGETS
FOLDS = 5


@dataclass(frozen=True)
class Dataset:
    name: str
    key: str
    label: str
    numeric: list[str]
    categorical: list[str]
    outcomes: Callable[[], pa.Table]  # key, label, and ``date`` where the outcomes are dated
    features: Callable[[list[Any], list[dt.date | None]], pa.Table]  # key, ``known``, numeric, categorical; in order
    baseline: Callable[[pa.Table], np.ndarray] | None = None
    baseline_name: str = "past_violations"
    parse_key: Callable[[str], Any] = str
    dated: bool = True
    budget: float = 0.5  # the default share of a period's outcomes that can be inspected
    increasing: Sequence[str] = ()  # factors the chance can only rise with (monotone trees)
    gbm: dict[str, Any] = field(default_factory=dict)  # LightGBM parameters replacing the defaults


def chicago(folder: Path) -> Dataset:
    from shijian.risk import chicago as data

    def parse(text: str) -> int:
        return int(float(text))

    return Dataset(
        "chicago", data.KEY, data.LABEL, data.NUMERIC, data.CATEGORICAL,
        outcomes=lambda: data.outcomes(folder),
        features=lambda keys, dates: data.features(folder, keys, dates),
        baseline=data.past_violations, parse_key=parse, increasing=data.INCREASING, gbm=data.GBM,
    )  # fmt: skip


def ccf(folder: Path) -> Dataset:
    from shijian.risk import ccf as data

    def features(keys: list[Any], dates: list[dt.date | None]) -> pa.Table:
        days = set(dates)
        if len(days) > 1:
            raise ValueError("CCF enterprises are described as of one date at a time")
        return data.features(folder, keys, next(iter(days)) if days else None)

    def presence(t: pa.Table) -> np.ndarray:
        cols = [np.asarray(t[c].to_numpy(zero_copy_only=False), dtype=float) for c in data.PRESENCE]
        return np.asarray(np.sum(cols, axis=0), dtype=float)

    return Dataset(
        "ccf", "id", "label", data.NUMERIC, [], outcomes=lambda: data.outcomes(folder), features=features,
        baseline=presence, baseline_name="presence", dated=False, budget=0.1,
    )  # fmt: skip


def table(path: Path, *, key: str, label: str, date: str) -> Dataset:
    """Any table of features + label + date per key: a key as of a date is described by its latest row dated on or
    before it (a row's features are known at its date; its label is the outcome)."""
    from shijian.risk import tables

    t, numeric, categorical = tables.read(path, label=label, date=date, key=key)
    if key not in t.column_names:
        raise ValueError(f"{path.name}: no key column {key!r} (give --key)")
    t = t.set_column(t.column_names.index(key), key, t[key].cast(pa.string()))

    def outcomes() -> pa.Table:
        return t.select([key, date, label]).rename_columns([key, "date", label])

    def features(keys: list[Any], dates: list[dt.date | None]) -> pa.Table:
        return tables.as_of(t, key=key, date=date, keys=keys, dates=dates, columns=[*numeric, *categorical])

    return Dataset(path.name, key, label, numeric, categorical, outcomes, features)


def _y(t: pa.Table, label: str) -> np.ndarray:
    return np.asarray(t[label].cast(pa.int8()).to_numpy(zero_copy_only=False), dtype=int)


def in_fold(keys: Sequence[Any], fold: int, k: int = FOLDS) -> np.ndarray:
    """A stable split of undated outcomes by key: the same key is always in the same fold."""
    return np.array([int(hashlib.sha1(str(x).encode()).hexdigest()[:8], 16) % k == fold for x in keys], dtype=bool)


def _joined(ds: Dataset, rows: pa.Table, dates: Sequence[dt.date | None]) -> pa.Table:
    """The outcome rows with their features (the dataset's feature function) appended."""
    feats = ds.features(rows[ds.key].to_pylist(), list(dates))
    for c in feats.column_names:
        if c not in (ds.key, "date") and c not in rows.column_names:
            rows = rows.append_column(c, feats[c])
    return rows


def training(ds: Dataset, as_of: dt.date | None, fold: int | None = None) -> pa.Table:
    """What a model fitted on ``as_of`` learns from: dated outcomes before it, each described as of its own date;
    undated ones (minus the held-out ``fold``) described as of ``as_of``."""
    out = ds.outcomes()
    if ds.dated:
        if as_of is None:
            raise ValueError(f"{ds.name}: a date to fit on is needed")
        out = out.filter(pc.less(out["date"], pa.scalar(as_of)))
        return _joined(ds, out, out["date"].to_pylist())
    if fold is not None:
        out = out.filter(pa.array(~in_fold(out[ds.key].to_pylist(), fold)))
    return _joined(ds, out, [as_of] * out.num_rows)


def fit(ds: Dataset, as_of: dt.date | None, kind: str = "gbm", fold: int | None = None) -> tuple[learn.Model, pa.Table]:
    train = training(ds, as_of, fold)
    y = _y(train, ds.label)
    if y.sum() < 10 or (1 - y).sum() < 10:
        raise ValueError(f"too few labelled outcomes before {as_of} to fit on {ds.name}")
    return learn.fit(kind, train, y, ds.numeric, ds.categorical, ds.increasing, ds.gbm), train


def score(ds: Dataset, as_of: dt.date, keys: Sequence[str], kind: str = "gbm") -> tuple[list[dict[str, Any]], str]:
    """Every listed key scored as of ``as_of`` by the production path, with a note where it has no history."""
    model, train = fit(ds, as_of, kind)
    parsed: list[Any] = []
    notes: list[str] = []
    for k in keys:
        try:
            parsed.append(ds.parse_key(k))
            notes.append("")
        except ValueError:
            parsed.append(None)
            notes.append("not a valid key: base features")
    ok = [i for i, p in enumerate(parsed) if p is not None]
    feats = ds.features([parsed[i] for i in ok], [as_of] * len(ok))
    known = feats["known"].to_pylist()
    labelled = set(train[ds.key].to_pylist())
    for j, i in enumerate(ok):
        if not known[j]:
            notes[i] = "unknown key (in no table): base features"
        elif parsed[i] not in labelled:
            notes[i] = "no labelled history: features from its other records"
    p = model.predict(feats) if feats.num_rows else np.zeros(0)
    cls = classes.classify(p, classes.relative_cutoffs(float(model.params["base_rate"])))
    why = model.explain(feats, top=3) if feats.num_rows else []
    values = feats.to_pylist()
    base = base_row(model, ds.numeric, ds.categorical)
    rows = []
    for i, k in enumerate(keys):
        if parsed[i] is None:
            rows.append({"key": k, **base, "note": notes[i]})
            continue
        j = ok.index(i)
        phrases = "；".join(text for text, _c in factors.reasons(why[j], values[j]))
        rows.append({"key": str(parsed[i]), "probability": round(float(p[j]), 6), "class": cls[j],
                     "top_factors": phrases, "note": notes[i]})  # fmt: skip
    return rows, f"{kind} on {train.num_rows:,} outcomes known before {as_of}"


def base_row(model: learn.Model, numeric: Sequence[str], categorical: Sequence[str]) -> dict[str, Any]:
    """The score of an entity nothing is known about: every factor missing."""
    cols: dict[str, pa.Array] = {c: pa.array([None], pa.float64()) for c in numeric}
    cols |= {c: pa.array([None], pa.string()) for c in categorical}
    p = float(model.predict(pa.table(cols))[0])
    cls = classes.classify([p], classes.relative_cutoffs(float(model.params["base_rate"])))[0]
    return {"probability": round(p, 6), "class": cls, "top_factors": ""}


def evaluate(
    ds: Dataset,
    as_of: dt.date | None,
    until: dt.date | None = None,
    *,
    kinds: Sequence[str] = ("gbm",),
    budget: float | None = None,
    fold: int = 0,
) -> dict[str, Any]:
    """Score with the production path at ``as_of``, then measure what happened in [as_of, until] (undated
    outcomes: the held-out ``fold`` of the labels)."""
    out = ds.outcomes()
    if ds.dated:
        if as_of is None or until is None or until < as_of:
            raise ValueError("--until must be a date on or after --as-of")
        keep = pc.and_(pc.greater_equal(out["date"], pa.scalar(as_of)), pc.less_equal(out["date"], pa.scalar(until)))
        test = out.filter(keep)
        period = [as_of.isoformat(), until.isoformat()]
    else:
        test = out.filter(pa.array(in_fold(out[ds.key].to_pylist(), fold)))
        period = [f"fold {fold + 1} of {FOLDS}", f"records before {as_of}" if as_of else "all records"]
    if test.num_rows == 0:
        raise ValueError(f"no outcomes of {ds.name} in {period[0]} – {period[1]}")
    # the production path: every key described as of the scoring date, once
    test = _joined(ds, test, [as_of] * test.num_rows)
    y = _y(test, ds.label)
    scores: dict[str, np.ndarray] = {}
    train_rows = 0
    if ds.baseline is not None:
        scores[ds.baseline_name] = ds.baseline(test)
    screened: dict[str, list[dict[str, Any]]] = {}
    for kind in kinds:
        model, train = fit(ds, as_of, kind, None if ds.dated else fold)
        scores[kind] = model.predict(test)
        screened[kind] = [
            {**d.__dict__, "iv": round(float(d.iv), 4), "psi": round(float(d.psi), 4)} for d in model.decisions
        ]
        train_rows = train.num_rows
    share = budget if budget is not None else ds.budget
    shares = sorted({share, *BUDGETS})
    report: dict[str, Any] = {
        "dataset": ds.name, "period": period, "train_rows": train_rows, "test_rows": test.num_rows,
        "test_positives": int(y.sum()), "base_rate": round(float(y.mean()), 4),
        "budget": max(1, round(test.num_rows * share)), "models": {},
    }  # fmt: skip
    dates = test["date"].to_pylist() if ds.dated else None
    for name, s in scores.items():
        n = max(1, round(test.num_rows * share))
        row = metrics.scored(y, s, n)
        row["budgets"] = {f"{b:.3f}": metrics.as_dict(metrics.at_budget(y, s, max(1, round(test.num_rows * b))))
                          for b in shares}  # fmt: skip
        if name in screened:
            row["calibration"] = metrics.calibration(y, s)
            row["screening"] = screened[name]
        if dates is not None:
            row["schedule"] = metrics.as_dict(metrics.schedule(dates, y, s))
        report["models"][name] = row
    return report


def backtest(
    ds: Dataset,
    *,
    last: dt.date | None = None,
    n_folds: int = 6,
    months: int = 2,
    kinds: Sequence[str] = ("gbm",),
    budget: float | None = None,
    as_of: dt.date | None = None,
) -> dict[str, Any]:
    """``evaluate`` on consecutive periods of ``months`` ending with the month of ``last`` (default: the last
    outcome), or for undated outcomes on each of the FOLDS folds as of ``as_of``."""
    from shijian.risk import backtest as periods

    runs = []
    if ds.dated:
        end = last or max(ds.outcomes()["date"].to_pylist())
        for f in periods.folds(end, n_folds, months):
            try:
                runs.append(evaluate(ds, f.start, f.end - dt.timedelta(days=1), kinds=kinds, budget=budget))
            except ValueError:
                continue  # a period without outcomes or without enough history before it
    else:
        runs = [evaluate(ds, as_of, kinds=kinds, budget=budget, fold=k) for k in range(FOLDS)]
    return {"dataset": ds.name, "folds": runs, "mean": periods.means(runs)}
