"""``shijian risk score`` on the shared datasets and on any table: fit on what was known before the date, score
the listed entities from what was known before it, and say why (the top factors)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shijian.risk import classes, factors, learn

Rows = list[dict[str, Any]]


def _y(t: pa.Table, label: str) -> np.ndarray:
    return np.asarray(t[label].cast(pa.int8()).to_numpy(zero_copy_only=False), dtype=int)


def _rows(keys: Sequence[str], scored_keys: Sequence[str], model: learn.Model, t: pa.Table, missing: str) -> Rows:
    p = model.predict(t) if t.num_rows else np.zeros(0)
    cls = classes.classify(p, classes.relative_cutoffs(float(model.params["base_rate"])))
    why = model.explain(t, top=3) if t.num_rows else []
    values = t.to_pylist()
    hit: dict[str, dict[str, Any]] = {}
    for i, k in enumerate(scored_keys):
        phrases = "；".join(text for text, _c in factors.reasons(why[i], values[i]))
        hit[k] = {"probability": round(float(p[i]), 6), "class": cls[i], "top_factors": phrases, "note": ""}
    empty = {"probability": "", "class": "", "top_factors": ""}
    return [{"key": k, **hit[k]} if k in hit else {"key": k, **empty, "note": missing} for k in keys]


def _check(y: np.ndarray, what: str) -> None:
    if y.sum() < 10 or (1 - y).sum() < 10:
        raise ValueError(f"too few labelled rows before the date to fit on {what}")


def chicago(folder: Path, day: dt.date, keys: Sequence[str]) -> tuple[Rows, str]:
    """Chicago: LightGBM on the canvass inspections before ``day``; establishments (licence numbers) scored as if
    inspected on ``day``."""
    from shijian.risk import chicago as data

    t = data.load(folder)
    train = t.filter(pc.less(t["date"], pa.scalar(day)))
    y = _y(train, "criticalFound")
    _check(y, "the Chicago inspections")
    # the inspector is not known before the inspection is assigned: that factor is left out here
    model = learn.fit("gbm", train, y, data.NUMERIC, [c for c in data.CATEGORICAL if c != "Inspector_Assigned"])
    licences = sorted({int(float(k)) for k in keys if _number(k)})
    feats = data.as_of(folder, day, licences)
    scored = [str(v) for v in feats["License"].to_pylist()]
    norm = [str(int(float(k))) if _number(k) else k for k in keys]
    rows = _rows(norm, scored, model, feats, "not a licence number")
    return rows, f"gbm on {train.num_rows:,} canvass inspections before {day}"


def ccf(folder: Path, day: dt.date, keys: Sequence[str]) -> tuple[Rows, str]:
    """CCF: LightGBM on the labelled enterprises not listed, with side-table records from before ``day`` only
    (the labels themselves carry no date)."""
    from shijian.risk import ccf as data

    t = data.load(folder, day)
    wanted = pa.array(list(keys), pa.string())
    listed = pc.is_in(t["id"], value_set=wanted)
    train = t.filter(pc.invert(listed))
    y = _y(train, "label")
    _check(y, "the CCF enterprises")
    model = learn.fit("gbm", train, y, data.NUMERIC, [])
    feats = t.filter(listed)
    rows = _rows(keys, feats["id"].to_pylist(), model, feats, "not among the CCF enterprises")
    return rows, f"gbm on {train.num_rows:,} other labelled enterprises, side tables before {day}"


def table(path: Path, day: dt.date, keys: Sequence[str], *, key: str, label: str, date: str) -> tuple[Rows, str]:
    """Any table: fit on rows dated before ``day``; each listed key is scored from its latest row before ``day``."""
    from shijian.risk import tables

    t, numeric, categorical = tables.read(path, label=label, date=date, key=key)
    if key not in t.column_names:
        raise ValueError(f"{path.name}: no key column {key!r} (give --key)")
    numeric = [c for c in numeric if c != key]
    categorical = [c for c in categorical if c != key]
    before = t.filter(pc.less(t[date], pa.scalar(day)))
    y = _y(before, label)
    _check(y, path.name)
    model = learn.fit("gbm", before, y, numeric, categorical)
    k = before[key].cast(pa.string())
    before = before.set_column(before.column_names.index(key), key, k)
    latest: dict[str, int] = {}
    for i, v in enumerate(k.to_pylist()):
        latest[v] = i  # rows are in date order: the last one wins
    idx = [latest[x] for x in keys if x in latest]
    feats = before.take(pa.array(idx, pa.int64())) if idx else before.slice(0, 0)
    rows = _rows(keys, feats[key].to_pylist(), model, feats, f"no row before {day}")
    return rows, f"gbm on {before.num_rows:,} rows of {path.name} before {day}"


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
