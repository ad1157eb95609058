"""The model card: calibration by decile, the card on the risk page (only for roles that may see risk), the CLI's
PDF and HTML, who bears the inspections (each dimension sums to all of them), and a shared dataset's card."""

from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.urls import reverse
from pytest_django import Settings
from typer.testing import CliRunner

from shijian.core import clock
from shijian.risk import card, metrics
from tests import draws
from tests.conftest import World

SHARED = Path(os.environ.get("SHIJIAN_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def test_calibration_by_decile() -> None:
    rng = np.random.default_rng(7)
    p = rng.uniform(0, 0.4, 5000)
    y = rng.uniform(0, 1, 5000) < p  # calibrated by construction
    rows = metrics.calibration(y, p)
    assert len(rows) == 10 and sum(r["n"] for r in rows) == 5000
    assert [r["predicted"] for r in rows] == sorted(r["predicted"] for r in rows)
    assert all(abs(r["predicted"] - r["observed"]) < 0.05 for r in rows)
    assert metrics.calibration(y, np.full(5000, 0.5))[0]["observed"] == pytest.approx(y[:500].mean(), abs=1e-4)
    assert "<script" not in card.calibration_svg(rows) and card.calibration_svg(rows).count("<circle") == 10


def _fold(rng: np.random.Generator) -> dict[str, Any]:
    """A backtest period as ``platform.backtest`` stores it, from scores on 2,000 entities."""
    y = (rng.uniform(0, 1, 2000) < 0.08).astype(int)
    scores = {"gbm": np.clip(0.05 + 0.1 * y + rng.normal(0, 0.05, 2000), 0, 1), "past_violations": rng.poisson(1, 2000)}
    models: dict[str, Any] = {}
    for name, s in scores.items():
        models[name] = metrics.scored(y, s, 100)
        models[name]["budgets"] = {f"{b:.3f}": metrics.as_dict(metrics.at_budget(y, s, round(2000 * b)))
                                   for b in metrics.BUDGETS}  # fmt: skip
    models["gbm"]["calibration"] = metrics.calibration(y, scores["gbm"])
    return {"evaluated_from": "2026-01-01", "until": "2026-04-01", "train_rows": 5000, "test_rows": 2000,
            "test_positives": int(y.sum()), "budget": 100, "models": models}  # fmt: skip


def _live_model_and_checked_visits(world: Any) -> Any:
    from shijian.risk.models import ModelVersion, Refresh
    from shijian.supervision.models import Visit, VisitItem
    from tests.test_hazards import food_batch

    v = ModelVersion.objects.create(
        kind="gbm", as_of=dt.date(2026, 1, 1), artifact="x", sha256="0" * 64, status="live",
        factors=["age_years", "penalties"], metrics={"backtest": {"folds": [_fold(np.random.default_rng(1))]}},
    )  # fmt: skip
    Refresh.objects.create(model=v, as_of=dt.date(2026, 2, 1), entities=3, classes={"A": 1, "B": 1, "C": 1, "D": 0},
                           movement={"B": {"A": 1, "B": 1, "C": 1}})  # fmt: skip
    draw = draws.freeze([food_batch(world, count=2)], world.users["samr"], "x")
    assert draws.perform(draw, world.users["samr"], "z").ok
    visits = list(Visit.objects.order_by("id"))
    Visit.objects.filter(pk__in=[x.pk for x in visits]).update(checked_on=clock.today() - dt.timedelta(days=30))
    VisitItem.objects.filter(visit=visits[0]).update(outcome="corrected")
    return v


def test_the_card_is_on_the_risk_page_for_roles_that_may_see_risk(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    settings.HOME = tmp_path
    assert "模型卡" not in world.client("leader").get(reverse("risk_overview")).content.decode()  # no model yet
    v = _live_model_and_checked_visits(world)
    page = world.client("leader").get(reverse("risk_overview")).content.decode()
    assert f"模型卡：模型 v{v.pk}" in page and 'id="card-calibration"' in page and "<svg" in page
    assert "原平台的78万户中检查2.9万户" in page and "0.934" in page  # the seed's budget, "nobody violates"
    assert "检查落在谁身上" in page and "检查占比" in page and 'id="card-movement"' in page
    assert world.client("inspector").get(reverse("risk_overview")).status_code == 403


def test_the_inspections_by_town_industry_and_type_sum_to_all_of_them(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    settings.HOME = tmp_path
    _live_model_and_checked_visits(world)
    got = card.fairness(clock.today() - dt.timedelta(days=365))
    assert [d["total"] for d in got] == [2, 2, 2]
    for dim in got:
        assert sum(g["visits"] for g in dim["groups"]) == 2 and sum(g["found"] for g in dim["groups"]) == 1
        assert sum(g["share"] for g in dim["groups"]) == pytest.approx(100, abs=0.1 * len(dim["groups"]))
    assert card.fairness(clock.today())[0]["groups"] == []  # nothing checked since today


def test_the_cli_writes_the_card_as_pdf_and_html(world: World, settings: Settings, tmp_path: Path) -> None:
    from pypdf import PdfReader

    from shijian.cli import app

    settings.HOME = tmp_path
    result = CliRunner().invoke(app, ["risk", "report", "--out", str(tmp_path / "card.pdf")])
    assert result.exit_code != 0 and "shijian risk fit" in result.output  # no live model yet
    v = _live_model_and_checked_visits(world)
    result = CliRunner().invoke(app, ["risk", "report", "--out", str(tmp_path / "card.pdf")])
    assert result.exit_code == 0, result.output
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO((tmp_path / "card.pdf").read_bytes())).pages)
    auc = v.metrics["backtest"]["folds"][0]["models"]["gbm"]["auc"]
    assert f"v{v.pk}" in text and str(auc) in text and "3.7%" in text
    assert CliRunner().invoke(app, ["risk", "report", "--out", str(tmp_path / "card.html")]).exit_code == 0
    html = (tmp_path / "card.html").read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and html.rstrip().endswith("</html>") and str(auc) in html
    bad = CliRunner().invoke(app, ["risk", "report", "--out", str(tmp_path / "card.txt")])
    assert bad.exit_code != 0 and ".html or .pdf" in bad.output


@pytest.mark.skipif(not (SHARED / "chicago_food_inspections").is_dir(), reason="../shared/data not present")
def test_a_shared_dataset_card_from_a_held_out_period(db: None) -> None:
    from shijian.risk import chicago, prospective

    ds = prospective.chicago(SHARED / "chicago_food_inspections")
    report = card.held_out(ds, "scorecard")
    got = card.dataset_card(ds, report, "scorecard")
    assert report["period"] == ["2014-07-01", "2014-08-31"]
    assert sum(r["n"] for r in got["calibration"]) == report["test_rows"]
    kept = [f for f in got["factors"] if f["kept"]]
    dropped = {f["factor"]: f["reason"] for f in got["factors"] if not f["kept"]}
    assert kept and set(chicago.DROPPED) <= set(dropped) and all(dropped.values())
    # stored as codes, shown in Chinese: the reasons, the factors and the dataset
    assert "天气" in dropped["temperatureMax"] and "检查员" in dropped["Inspector_Assigned"]
    assert all(not f["reason"].isascii() for f in got["factors"])
    assert all(not f["label"].isascii() for f in got["factors"]) and "芝加哥" in got["title"]
    page = card.html(got)
    assert "weather:" not in page and "weak:" not in page and "区分力弱" in page
    seed = [r for r in got["budgets"] if r["seed"]]
    assert len(seed) == 1 and seed[0]["model"]["budget"] == round(report["test_rows"] * metrics.SEED_BUDGET)
    assert got["claims"]["our_nobody"] == pytest.approx(1 - report["base_rate"])
    from pypdf import PdfReader

    from shijian.risk import card_pdf

    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(card_pdf.render(got))).pages)
    assert any("<" in why for why in dropped.values())  # "weak: IV 0.010 < 0.02": markup-safe in the PDF
    assert " < 0.02" in text and "&lt;" not in text and "2014-07-01" in text
