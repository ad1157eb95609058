"""The risk page names models and decisions in Chinese, not by their codes."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse


def _version(
    kind: str, status: str, auc: float, live_pk: int | None = None, live_auc: float = 0.0, live_kind: str = ""
):
    from shijian.risk.models import ModelVersion

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


def test_the_risk_page_names_models_and_decisions_in_chinese(world) -> None:
    first = _version("gbm", "retired", 0.7)
    _version("scorecard", "rejected", 0.65, first.pk, 0.7, "gbm")
    _version("logistic", "live", 0.72, first.pk, 0.7, "gbm")
    page = world.client("leader").get(reverse("risk_overview")).content.decode()
    assert "梯度提升树" in page and "评分卡" in page and "基线：既往违法" in page
    assert "首个模型" in page and "未上线" in page and "上线" in page
    for code in (">gbm<", ">past_violations<", "first model", "backtest AUC", "shijian risk fit"):
        assert code not in page, code
