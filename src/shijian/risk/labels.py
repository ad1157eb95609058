"""What the risk page calls models and decisions, in the user's language (the stored values are codes)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MODEL_NAMES: dict[str, Any] = {
    "gbm": gettext_lazy("gradient-boosted trees"),
    "logistic": gettext_lazy("logistic regression"),
    "scorecard": gettext_lazy("scorecard"),
    "past_violations": gettext_lazy("baseline: past violations"),
    "presence": gettext_lazy("baseline: records in the side tables"),
    "random": gettext_lazy("random order"),
}


def model_name(kind: str) -> str:
    return str(MODEL_NAMES.get(kind, kind))


def decision(version: Any, kinds_by_pk: dict[int, str]) -> str:
    """Why a version was or was not made live, from the figures stored with it."""
    metrics = version.metrics or {}
    new_auc = ((metrics.get("backtest") or {}).get("mean") or {}).get(version.kind, {}).get("auc")
    if new_auc is None:
        return ""
    live_pk = metrics.get("live_version")
    if live_pk is None:
        return _("first model: backtest AUC %(auc).4f") % {"auc": new_auc}
    live_kind = kinds_by_pk.get(live_pk, "")
    old = ((metrics.get("live_backtest") or {}).get("mean") or {}).get(live_kind, {}).get("auc", 0.0)
    values = {"auc": new_auc, "v": live_pk, "kind": model_name(live_kind), "old": old}
    if new_auc > old:
        return _("promoted: backtest AUC %(auc).4f above live v%(v)s (%(kind)s) %(old).4f") % values
    return _("not promoted: backtest AUC %(auc).4f not above live v%(v)s (%(kind)s) %(old).4f") % values
