"""Risk evaluation: the metrics on known cases, screening, the scorecard and the classes (the prospective backtest
on the real data: tests/test_risk_prospective.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from shijian.risk import backtest, metrics


def test_auc_agrees_with_scikit_learn_including_ties() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 500)
    s = np.round(rng.normal(size=500) + y * 0.5, 1)  # many ties
    assert metrics.auc(y, s) == pytest.approx(roc_auc_score(y, s))


def test_at_budget_against_random() -> None:
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    perfect = metrics.at_budget(y, np.arange(10)[::-1], budget=2)
    assert (perfect.precision, perfect.recall, perfect.base_rate) == (1.0, 1.0, 0.2)
    assert perfect.law_abiding_per_100 == 0 and perfect.law_abiding_per_100_random == 80
    assert perfect.spared_per_100 == pytest.approx(80)
    worst = metrics.at_budget(y, np.arange(10), budget=2)
    assert worst.spared_per_100 == pytest.approx(-20)


def test_schedule_moves_violations_earlier_at_the_same_capacity() -> None:
    days = [dt.date(2014, 7, 1) + dt.timedelta(days=i) for i in range(10)]
    y = np.array([0, 0, 0, 0, 0, 0, 0, 0, 1, 1])  # the violations were found last
    perfect = metrics.schedule(days, y, y.astype(float))
    assert perfect.days_earlier == pytest.approx(8.0)  # days 9 and 10 become days 1 and 2
    assert (perfect.first_half_actual, perfect.first_half_model) == (0.0, 1.0)
    same = metrics.schedule(days, y, -np.arange(10, dtype=float))  # the actual order
    assert same.days_earlier == 0.0


def test_folds_are_consecutive_and_end_with_the_last_month() -> None:
    fs = backtest.folds(dt.date(2014, 8, 31), 3, 2)
    assert [(f.start, f.end) for f in fs] == [
        (dt.date(2014, 3, 1), dt.date(2014, 5, 1)),
        (dt.date(2014, 5, 1), dt.date(2014, 7, 1)),
        (dt.date(2014, 7, 1), dt.date(2014, 9, 1)),
    ]


def test_screening_keeps_the_strong_and_says_why_it_drops_the_rest() -> None:
    import pyarrow as pa

    from shijian.risk import screening

    rng = np.random.default_rng(5)
    n = 6000
    strong = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(strong * 1.5 - 2)))).astype(int)
    drift = np.concatenate([rng.normal(size=n // 2), rng.normal(loc=3, size=n // 2)]) + strong  # shifts over time
    t = pa.table(
        {
            "strong": strong,
            "copy": strong * 2 + 0.01 * rng.normal(size=n),
            "noise": rng.normal(size=n),
            "drift": drift,
            "kind": rng.choice(["a", "b", "c"], size=n),
        }
    )
    decisions, kept = screening.screen(t, y, ["strong", "copy", "noise", "drift"], ["kind"], keep=12)
    why = {d.factor: d.reason for d in decisions}
    detail = {d.factor: d.detail for d in decisions}
    assert len(kept) == 1
    first = next(iter(kept))
    assert first in ("strong", "copy")
    other = "copy" if first == "strong" else "strong"
    assert why[other] == "collinear" and detail[other]["other"] == first
    assert why["noise"] == "weak" and why["kind"] == "weak" and detail["noise"]["iv"] < 0.02
    assert why["drift"] == "unstable" and detail["drift"]["psi"] > 0.25
    assert why[first] == "kept"
    b = kept[first]
    rates = [e / t for e, t in zip(b.events[:-1], b.totals[:-1], strict=True)]
    assert rates == sorted(rates)  # monotone after merging
    assert b.iv > 0.3


def test_the_scorecard_points_add_up_to_its_score() -> None:
    import pyarrow as pa

    from shijian.risk import learn

    rng = np.random.default_rng(9)
    n = 4000
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(x1 - 0.8 * x2 - 1.5)))).astype(int)
    t = pa.table({"x1": x1, "x2": x2})
    m = learn.fit("scorecard", t, y, ["x1", "x2"], [])
    pts = m.points()
    base = pts[0][2]
    table = {(f, label): p for f, label, p in pts[1:]}
    row = t.slice(0, 1)
    total = base + sum(table[(c, b.labels[int(b.assign(row[c].to_pylist())[0])])] for c, b in m.bins.items())
    factor = learn.PDO / np.log(2)
    assert total == pytest.approx(learn.BASE + factor * m.raw_score(row)[0], abs=len(m.bins) + 1)  # rounding per band
    why = m.explain(row)[0]
    assert {name for name, _ in why} <= {"x1", "x2"}
    probs = m.predict(t)
    assert probs.min() > 0 and probs.max() < 1


def test_classes_from_probabilities_and_their_movement() -> None:
    from shijian.risk import classes

    assert classes.classify([0.0, 0.049, 0.05, 0.2, 0.35, 0.99]) == ["A", "A", "B", "C", "D", "D"]
    assert classes.classify([0.1, 0.3], classes.parse_cutoffs("0.1,0.2,0.3")) == ["B", "D"]
    assert classes.relative_cutoffs(0.2) == (0.1, 0.3, 0.5)
    assert classes.relative_cutoffs(0.5) == (0.25, 0.75, 0.999)  # capped below 1
    a, b, c = classes.relative_cutoffs(0.9)
    assert a < b < c < 1
    for bad in ("0.3,0.2,0.1", "0,0.5,0.9", "a,b,c", "0.1,0.2"):
        with pytest.raises(ValueError, match="cut-offs"):
            classes.parse_cutoffs(bad)
    m = classes.movement(["A", "B", "B", "D"], ["A", "C", "B", "C"])
    assert m["B"] == {"A": 0, "B": 1, "C": 1, "D": 0} and m["D"]["C"] == 1


def test_a_table_with_an_unusable_label_is_refused_with_a_message(tmp_path: Path) -> None:
    from shijian.risk import tables

    bad = tmp_path / "bad.csv"
    bad.write_text("id,date,label,x\n1,2014-01-01,maybe,3\n")
    with pytest.raises(ValueError, match="'label' must be 0/1"):
        tables.read(bad, label="label", date="date")
    with pytest.raises(ValueError, match="no column 'when'"):
        tables.read(bad, label="label", date="when")
