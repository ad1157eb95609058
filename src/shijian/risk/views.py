"""The risk page: the live model and its backtest, the versions and why each was or was not promoted, the latest
class refresh with its class movement, and the uplift measured on the purely random share."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from shijian.core.permissions import require
from shijian.risk import card, classes, labels, platform
from shijian.risk.models import ModelVersion, Refresh


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    require(request.user, "risk", "view")
    versions = list(ModelVersion.objects.order_by("-id")[:20])
    kinds = dict(ModelVersion.objects.values_list("pk", "kind"))
    for v in versions:
        v.mean = v.metrics.get("backtest", {}).get("mean", {})  # type: ignore[attr-defined]
        v.kind_label = labels.model_name(v.kind)  # type: ignore[attr-defined]
        v.decision_text = labels.decision(v, kinds) or v.decision  # type: ignore[attr-defined]
    live = platform.live_version()
    folds = []
    if live is not None:
        for f in live.metrics.get("backtest", {}).get("folds", []):
            for name, m in f.get("models", {}).items():
                folds.append({**f, "model": labels.model_name(name), "m": m})
    latest = Refresh.objects.select_related("model").order_by("-id").first()
    movement = []
    if latest is not None:
        movement = [(a, [latest.movement.get(a, {}).get(b, 0) for b in classes.CLASSES]) for a in classes.CLASSES]
    return render(
        request,
        "risk/overview.html",
        {
            "live": live,
            "live_kind": labels.model_name(live.kind) if live else "",
            "folds": folds,
            "versions": versions,
            "latest": latest,
            "refreshes": list(Refresh.objects.order_by("-id")[:12]),
            "movement": movement,
            "class_names": classes.CLASSES,
            "uplift": platform.uplift(),
            "card": _card(),
        },
    )


def _card() -> str:
    """The live model's card (the same as ``shijian risk report``), or nothing before a model with a backtest."""
    data = card.platform_card()
    return card.html(data, page=False) if data else ""
