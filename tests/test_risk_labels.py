"""The risk page names models and decisions in Chinese, not by their codes."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from shijian.risk.models import ModelVersion
from tests.conftest import World


def _version(
    kind: str, status: str, auc: float, live_pk: int | None = None, live_auc: float = 0.0, live_kind: str = ""
) -> ModelVersion:
    at_budget = {"precision": 0.3, "spared_per_100": 12.0}
    models = {kind: {"auc": auc, "at_budget": at_budget}, "past_violations": {"auc": 0.55, "at_budget": at_budget}}
    fold = {"evaluated_from": "2026-05-01", "test_rows": 900, "test_positives": 90, "models": models}
    metrics = {"backtest": {"mean": {kind: {"auc": auc}}, "folds": [fold]}, "live_version": live_pk}
    if live_pk is not None:
        metrics["live_backtest"] = {"mean": {live_kind: {"auc": live_auc}}}
    return ModelVersion.objects.create(
        kind=kind, as_of=dt.date(2026, 11, 1), metrics=metrics, status=status, decision="first model: backtest AUC",
        artifact="x", sha256="0" * 64,
    )  # fmt: skip


def test_the_risk_page_names_models_and_decisions_in_chinese(world: World) -> None:
    first = _version("gbm", "retired", 0.7)
    _version("scorecard", "rejected", 0.65, first.pk, 0.7, "gbm")
    _version("logistic", "live", 0.72, first.pk, 0.7, "gbm")
    page = world.client("leader").get(reverse("risk_overview")).content.decode()
    assert "梯度提升树" in page and "评分卡" in page and "基线：既往违法" in page
    assert "首个模型" in page and "未上线" in page and "上线" in page
    for code in (">gbm<", ">past_violations<", "first model", "backtest AUC", "shijian risk fit"):
        assert code not in page, code


def test_screening_and_dropped_reasons_are_stored_as_codes_and_shown_in_chinese(db: None) -> None:
    from shijian.risk import ccf, chicago, labels

    assert labels.screening_reason("weak", {"iv": 0.0104, "min": 0.02}) == "区分力弱：IV 0.010 < 0.02"
    assert labels.screening_reason("collinear", {"other": "pastCritical", "r": 0.91}).startswith("与 pastCritical 共线")
    assert labels.screening_reason("kept") == "保留"
    # a reason stored as text before the codes existed is shown as it is
    assert labels.screening_reason("weak: IV 0.010 < 0.02") == "weak: IV 0.010 < 0.02"
    assert set(chicago.DROPPED.values()) <= set(labels.DROPPED_REASONS)
    assert all(not labels.dropped_reason(code).isascii() for code in chicago.DROPPED.values())
    assert all(
        not labels.dataset_factor(f).isascii()
        for f in [*chicago.NUMERIC, *chicago.CATEGORICAL, *chicago.DROPPED, *ccf.NUMERIC]
    )


def test_score_notes_are_written_in_chinese(db: None) -> None:
    from shijian.risk import labels

    assert labels.score_note("") == ""
    assert labels.score_note("unknown key (in no table): base features") == (
        "未知编号（任何数据表中都没有）：按基础特征评分（各因子均缺失）"
    )
    assert labels.score_note("not established before 2026-11-01: base features").startswith("2026-11-01 前尚未成立")
    for note in ("not a valid key: base features", "unknown entity: base features",
                 "no labelled history: features from its other records"):  # fmt: skip
        assert not any(c.isascii() and c.isalpha() for c in labels.score_note(note)), note
