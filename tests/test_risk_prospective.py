"""One scoring path per dataset, judged prospectively: the backtest is ``evaluate`` repeated, every key is scored,
and a feature describes an entity as known on the date, whatever came later."""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from shijian.risk import prospective

SHARED = Path(os.environ.get("SHIJIAN_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
CHICAGO = SHARED / "chicago_food_inspections"
CCF = SHARED / "ccf2020_enterprise_risk"


def _table(tmp_path: Path) -> Path:
    """Shops inspected monthly for two years; the riskier ones keep a high 'dirt' and fail more often."""
    rng = np.random.default_rng(11)
    shops = [f"S{i:03d}" for i in range(200)]
    risk = {s: rng.normal() for s in shops}
    rows = []
    for m in range(24):
        day = dt.date(2020 + m // 12, m % 12 + 1, 5)
        for s in rng.choice(shops, 60, replace=False):
            dirt = risk[s] + rng.normal(scale=0.5)
            fail = rng.random() < 1 / (1 + np.exp(-(2 * risk[s] - 1)))
            rows.append({"shop": s, "date": day.isoformat(), "dirt": round(dirt, 3), "kind": "a" if risk[s] > 0 else
                         "b", "label": int(fail)})  # fmt: skip
    path = tmp_path / "shops.csv"
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def test_the_backtest_is_evaluate_repeated_on_a_table(tmp_path: Path) -> None:
    ds = prospective.table(_table(tmp_path), key="shop", label="label", date="date")
    bt = prospective.backtest(ds, n_folds=2, months=2, kinds=("logistic",))
    assert [f["period"] for f in bt["folds"]] == [["2021-09-01", "2021-10-31"], ["2021-11-01", "2021-12-31"]]
    held_out = prospective.evaluate(ds, dt.date(2021, 11, 1), dt.date(2021, 12, 31), kinds=("logistic",))
    assert bt["folds"][-1] == held_out
    assert held_out["models"]["logistic"]["auc"] > 0.6
    # a key as of a date is its latest row on or before it: rows after the date do not change it
    before = ds.features(["S000"], [dt.date(2021, 11, 1)]).to_pylist()[0]
    cut = tmp_path / "cut.csv"
    lines = (tmp_path / "shops.csv").read_text().splitlines()
    cut.write_text("\n".join([lines[0], *(x for x in lines[1:] if x.split(",")[1] <= "2021-11-01")]) + "\n")
    alone = prospective.table(cut, key="shop", label="label", date="date")
    assert alone.features(["S000"], [dt.date(2021, 11, 1)]).to_pylist()[0] == before and before["known"]


def test_a_table_scores_any_key_and_names_the_unknown(tmp_path: Path) -> None:
    ds = prospective.table(_table(tmp_path), key="shop", label="label", date="date")
    rows, note = prospective.score(ds, dt.date(2021, 6, 1), ["S001", "NEW1"], kind="logistic")
    got = {r["key"]: r for r in rows}
    assert 0 < got["S001"]["probability"] < 1 and got["S001"]["note"] == ""
    assert 0 < got["NEW1"]["probability"] < 1 and got["NEW1"]["note"] == "unknown key (in no table): base features"
    assert "before 2021-06-01" in note


@pytest.mark.skipif(not CHICAGO.is_dir(), reason=f"real data not found at {SHARED}")
def test_chicago_backtest_row_and_evaluate_give_identical_numbers() -> None:
    ds = prospective.chicago(CHICAGO)
    bt = prospective.backtest(ds, n_folds=1, months=2)
    held_out = prospective.evaluate(ds, dt.date(2014, 7, 1), dt.date(2014, 8, 31))
    assert bt["folds"] == [held_out]
    assert held_out["test_rows"] == 1675 and held_out["period"] == ["2014-07-01", "2014-08-31"]
    gbm, past = held_out["models"]["gbm"], held_out["models"]["past_violations"]
    assert set(held_out["models"]) == {"gbm", "past_violations"}
    assert gbm["auc"] > past["auc"] > 0.5
    assert gbm["schedule"]["days_earlier"] > past["schedule"]["days_earlier"] > 0
    assert gbm["at_budget"]["spared_per_100"] > 0
    assert set(gbm["budgets"]) == {"0.037", "0.100", "0.250", "0.500"}


@pytest.mark.skipif(not CHICAGO.is_dir(), reason=f"real data not found at {SHARED}")
def test_chicago_features_as_of_a_date_ignore_what_came_after(tmp_path: Path) -> None:
    """Every establishment inspected in July–August 2014, described as of 1 July from the full data and from a copy
    that stops the day before (inspections and logs by their date, licence terms by their start): every factor
    agrees, so nothing dated on or after the scoring date is read."""
    day = dt.date(2014, 7, 1)
    cut = tmp_path / "chicago"
    shutil.copytree(CHICAGO, cut)
    dated = (("23_food_insp_features.csv", "Inspection_Date"), ("inspectors.csv", "Inspection_Date"),
             ("24_bus_features.csv", "LICENSE_TERM_START_DATE"))  # fmt: skip
    dropped = 0
    for name, column in dated:
        with (CHICAGO / name).open(newline="") as src, (cut / name).open("w", newline="") as dst:
            r, w = csv.DictReader(src), None
            for row in r:
                if w is None:
                    w = csv.DictWriter(dst, fieldnames=list(row))
                    w.writeheader()
                if row[column][:10] < day.isoformat():
                    w.writerow(row)
                else:
                    dropped += 1
    assert dropped > 1000
    from shijian.risk import chicago

    period = chicago.outcomes(CHICAGO)
    period = period.filter(pc.greater_equal(period["date"], pa.scalar(day)))
    licences = [*sorted(set(period["License"].to_pylist())), 999_999_999]
    full = chicago.features(CHICAGO, licences, [day] * len(licences))
    before = chicago.features(cut, licences, [day] * len(licences))

    def plain(t: pa.Table) -> list[dict[str, object]]:
        return [{k: None if isinstance(v, float) and np.isnan(v) else v for k, v in r.items()} for r in t.to_pylist()]

    assert full.column_names == before.column_names and {*chicago.NUMERIC, *chicago.CATEGORICAL} <= set(
        full.column_names
    )
    assert plain(full) == plain(before)
    rows = plain(full)[:-1]
    assert sum(r["nearCritical"] is not None for r in rows) > 0.9 * len(rows)
    assert sum(r["heat_sanitation"] is not None for r in rows) > 0.9 * len(rows)
    unknown = full.to_pylist()[-1]
    assert unknown["known"] is False and (unknown["firstRecord"], unknown["timeSinceLast"]) == (1.0, 2.0)


@pytest.mark.skipif(not CCF.is_dir(), reason=f"real data not found at {SHARED}")
def test_ccf_scores_enterprises_that_have_records_but_no_label() -> None:
    import pyarrow.csv as pacsv

    from shijian.risk import ccf

    labelled = set(ccf.outcomes(CCF)["id"].to_pylist())
    side = pacsv.read_csv(CCF / "news_info.csv")["id"].to_pylist()
    unlabelled = sorted(set(side) - labelled)[:20]
    assert len(unlabelled) == 20
    rows, _note = prospective.score(prospective.ccf(CCF), dt.date(2018, 1, 1), [*unlabelled, "nobody"])
    got = {r["key"]: r for r in rows}
    assert all(0 < got[k]["probability"] < 1 for k in unlabelled)
    assert {got[k]["note"] for k in unlabelled} == {"no labelled history: features from its other records"}
    assert got["nobody"]["note"] == "unknown key (in no table): base features"
    assert got["nobody"]["class"] in "ABCD"


@pytest.mark.skipif(not CCF.is_dir(), reason=f"real data not found at {SHARED}")
def test_ccf_backtest_is_evaluate_on_each_fold() -> None:
    ds = prospective.ccf(CCF)
    bt = prospective.backtest(ds, as_of=None)  # all records (the undated other-information table included)
    assert len(bt["folds"]) == prospective.FOLDS
    assert bt["folds"][2] == prospective.evaluate(ds, None, fold=2)
    assert sum(f["test_rows"] for f in bt["folds"]) == 10_000
    m = bt["mean"]
    assert m["presence"]["auc"] > 0.6  # being present in a side table is itself predictive
    assert m["gbm"]["auc"] > m["presence"]["auc"] + 0.03  # the records' contents add to it


def test_screening_and_drift_put_a_value_on_an_edge_in_the_same_bin() -> None:
    from shijian.risk import drift, screening

    x = np.array([0.0] * 50 + [1.0] * 50 + [2.0] * 50 + [np.nan] * 10)
    ib, _ia, n = drift._bins(pa.chunked_array([x]), pa.chunked_array([x]))
    edges = np.unique(np.quantile(x[np.isfinite(x)], np.linspace(0.1, 0.9, 9)))
    assert list(ib) == list(screening.bin_index(edges, x, n - 1))
    assert ib[0] == 0 and ib[50] == 1  # a value equal to an edge is in the bin that edge closes


def test_risk_evaluate_on_the_command_line_is_the_same_evaluation(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from shijian.cli import app

    path = _table(tmp_path)
    report = tmp_path / "eval.json"
    args = ["risk", "evaluate", "--dataset", str(path), "--key", "shop", "--as-of", "2021-11-01",
            "--until", "2021-12-31", "--models", "logistic", "--out", str(report)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    got = json.loads(report.read_text())
    got.pop("seconds")
    ds = prospective.table(path, key="shop", label="label", date="date")
    assert got == prospective.evaluate(ds, dt.date(2021, 11, 1), dt.date(2021, 12, 31), kinds=("logistic",))
    assert "AUC" in result.output and "logistic" in result.output
    bad = CliRunner().invoke(app, [*args[:6], "--until", "2021-01-01", "--models", "logistic"])
    assert bad.exit_code != 0 and "--until" in bad.output
