"""The model's real uplift: findings of the purely random (control) share against the targeted share, and the model
judged on the random share alone (who was inspected there did not depend on it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np

from shijian.core.stats import wilson_rate
from shijian.risk import metrics


def uplift(since: dt.date | None = None) -> dict[str, Any]:
    """Findings in the random (control) share vs the targeted share of checked visits, and the model measured on the
    random share alone: its AUC there, and the hit rate of its top classes against the random share's rate."""
    from django.db.models import Exists, OuterRef, Subquery

    from shijian.risk.models import Assessment
    from shijian.supervision.models import FINDING_OUTCOMES, Visit, VisitItem

    checks = VisitItem.objects.filter(visit=OuterRef("pk"))
    # the score each entity had when drawn: its assessment from the latest refresh made before the draw (one
    # indexed lookup per visit, on (entity, refresh), in the same query)
    when_drawn = Assessment.objects.filter(
        entity=OuterRef("entity_id"), refresh__created_at__lte=OuterRef("draw__frozen_at")
    ).order_by("-refresh_id")
    visits = Visit.objects.filter(checked_on__isnull=False).annotate(
        control=Exists(checks.filter(control=True)),
        found=Exists(checks.filter(outcome__in=list(FINDING_OUTCOMES))),
        probability=Subquery(when_drawn.values("probability")[:1]),
    )
    if since:
        visits = visits.filter(checked_on__gte=since)
    return estimate(list(visits.values_list("control", "found", "probability")))


def estimate(rows: Sequence[tuple[bool, bool, float | None]]) -> dict[str, Any]:
    """From checked visits as (drawn in the random share, a problem found, the model's probability when drawn):
    the finding rates of both shares with 95% intervals, and the model judged on the random share alone."""
    ctrl = [(f, p) for c, f, p in rows if c]
    targ = [f for c, f, _p in rows if not c]
    out: dict[str, Any] = {"checked": len(rows), "random": _rate([f for f, _p in ctrl]), "targeted": _rate(targ)}
    if out["random"]["rate"] and out["targeted"]["n"]:
        out["targeted_vs_random"] = round(out["targeted"]["rate"] / out["random"]["rate"], 3)
    scored = [(f, p) for f, p in ctrl if p is not None]
    out["random_scored"] = len(scored)
    if len(scored) >= 20 and 0 < sum(f for f, _ in scored) < len(scored):
        y = np.array([f for f, _ in scored], dtype=int)
        s = np.array([p for _, p in scored], dtype=float)
        at = metrics.at_budget(y, s, max(1, len(scored) // 5))
        out["model_on_random"] = {
            "auc": round(metrics.auc(y, s), 4),
            "top_fifth_rate": round(at.precision, 4),
            "random_rate": round(at.base_rate, 4),
            "spared_per_100": round(at.spared_per_100, 2),
        }
    return out


def _rate(found: Sequence[bool]) -> dict[str, Any]:
    """A rate with its 95% Wilson interval."""
    return wilson_rate(len(found), int(sum(bool(f) for f in found)))
