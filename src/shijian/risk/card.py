"""The model card: what a risk model learnt from, which factors it kept and dropped (and why), how it ranks against
a random draw and against past violations at several budgets (the seed's 3.7% included), how well its
probabilities are calibrated, how the classes moved, and who bears the inspections it sends.

The figures come from what is stored: for the platform the live ``ModelVersion.metrics`` (its most recent backtest
period) and the refresh tables; for the shared datasets (chicago, ccf) ``prospective.evaluate`` on a held-out
period. Rendered as HTML (the 信用风险 page and ``shijian risk report --out card.html``) or PDF (reportlab).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _

from shijian.core import clock
from shijian.risk import classes, factors, labels, metrics

SEED_ACCURACY = 0.776  # the seed's "77.6% accuracy", given without a base rate
SEED_BASE_RATE = 0.066  # the positives of the seed's data
SEED_SPARED = 68  # "68 of 100 law-abiding entities spared"
FAIRNESS_MONTHS = 12


def _budgets(models: dict[str, Any], kind: str, rows_evaluated: int) -> list[dict[str, Any]]:
    """Per budget: what the model and the baselines find per inspection, and what random finds (a version fitted
    before budgets were stored has its one budget)."""
    stored: dict[str, dict[str, Any]] = {}
    for n, o in models.items():
        if o.get("budgets"):
            stored[n] = o["budgets"]
        elif "budget" in o.get("at_budget", {}):
            stored[n] = {f"{o['at_budget']['budget'] / max(1, rows_evaluated):.3f}": o["at_budget"]}
    if kind not in stored:
        return []
    rows = []
    for share, m in sorted(stored[kind].items(), key=lambda kv: float(kv[0])):
        baselines = {labels.model_name(n): b.get(share) for n, b in stored.items() if n != kind}
        seed = abs(float(share) - metrics.SEED_BUDGET) < 5e-4
        rows.append({"share": float(share), "percent": f"{100 * float(share):.1f}", "model": m, "seed": seed,
                     "baselines": baselines})  # fmt: skip
    return rows


def _claims(base_rate: float, rows: list[dict[str, Any]]) -> dict[str, Any]:
    seed_row = next((r for r in rows if r["seed"]), rows[0] if rows else None)
    claims = {
        "seed_accuracy": SEED_ACCURACY,
        "seed_base_rate": SEED_BASE_RATE,
        "seed_nobody": round(1 - SEED_BASE_RATE, 4),
        "seed_spared": SEED_SPARED,
        "our_base_rate": base_rate,
        "our_nobody": round(1 - base_rate, 4),
        "our_spared": seed_row["model"]["spared_per_100"] if seed_row else None,
        "our_precision": seed_row["model"]["precision"] if seed_row else None,
    }
    return claims | {"text": claims_text(claims)}


def _label(name: str) -> str:
    f = factors.FACTORS.get(name)
    return f.zh if f else labels.dataset_factor(name)


def claims_text(c: dict[str, Any]) -> list[str]:
    return [
        _("The seed claimed %(acc).3f accuracy without a base rate: at %(base).3f positives, predicting that nobody "
          "violates scores %(nobody).3f.") % {"acc": c["seed_accuracy"], "base": c["seed_base_rate"],
                                             "nobody": c["seed_nobody"]},
        _('Here the base rate is %(base).4f, so "nobody violates" would score %(nobody).4f accuracy: accuracy says '
          "nothing; we report AUC and findings per inspection at a budget.") % {"base": c["our_base_rate"],
                                                                                 "nobody": c["our_nobody"]},
        _("The seed claimed %(s)s of 100 law-abiding entities spared; measured here at the seed's budget the model "
          "spares %(ours).1f per 100 inspections compared with a random draw (it finds a problem in %(p).3f of its "
          "inspections).") % {"s": c["seed_spared"], "ours": c["our_spared"] or 0, "p": c["our_precision"] or 0},
    ]  # fmt: skip


def _factors_of(
    screening: list[dict[str, Any]], used: list[str], dropped: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Kept and dropped factors with the reason: the scorecard's screening where the model has one, else every
    factor the model uses; ``dropped``: factors left out of the dataset before any fit (e.g. known only later)."""
    if screening:
        out = [{"factor": d["factor"], "label": _label(d["factor"]), "kept": d["kept"],
                "reason": labels.screening_reason(d["reason"], d.get("detail")), "iv": d["iv"]}
               for d in screening]  # fmt: skip
    else:
        note = _("used: the gradient-boosted model weighs every factor (screening applies to the scorecard)")
        out = [{"factor": f, "label": _label(f), "kept": True, "reason": note, "iv": None} for f in used]
    out += [
        {"factor": f, "label": _label(f), "kept": False, "reason": labels.dropped_reason(why), "iv": None}
        for f, why in (dropped or {}).items()
    ]
    return out


def platform_card() -> dict[str, Any] | None:
    """The card of the live model version, from its stored backtest and the refreshes; None without one."""
    from shijian.risk import platform
    from shijian.risk.models import Refresh

    live = platform.live_version()
    if live is None or not live.metrics.get("backtest", {}).get("folds"):
        return None
    fold = live.metrics["backtest"]["folds"][-1]  # the most recent period evaluated
    models = fold["models"]
    screening: list[dict[str, Any]] = []
    if live.kind == "scorecard":
        model = platform.load_model(live)
        screening = [{**d.__dict__, "iv": round(float(d.iv), 4)} for d in model.decisions]  # detail: since codes
    base = round(fold.get("test_positives", 0) / max(1, fold.get("test_rows", 0)), 4)
    rows = _budgets(models, live.kind, fold.get("test_rows", 0))
    refreshes = list(Refresh.objects.order_by("-id")[:6])
    latest = refreshes[0] if refreshes else None
    return {
        "dataset": "platform",
        "title": _("Model v%(v)s (%(kind)s)") % {"v": live.pk, "kind": labels.model_name(live.kind)},
        "data": [
            (_("data before"), live.as_of.isoformat()),
            (_("trained on outcomes of entities described as of"), live.snapshot.get("trained_on", "—")),
            (_("training rows"), live.snapshot.get("train_rows", fold.get("train_rows", "—"))),
            (_("held-out period"), f"{fold.get('evaluated_from', '—')} – {fold.get('until', '—')}"),
            (_("entities evaluated"), fold.get("test_rows", "—")),
            (_("with findings"), fold.get("test_positives", "—")),
        ],
        "base_rate": base,
        "auc": {labels.model_name(n): m.get("auc") for n, m in models.items()},
        "factors": _factors_of(screening, list(live.factors)),
        "budgets": rows,
        "calibration": models.get(live.kind, {}).get("calibration", []),
        "claims": _claims(base, rows),
        "classes": [(r.as_of.isoformat(), [r.classes.get(c, 0) for c in classes.CLASSES]) for r in refreshes],
        "movement": [(a, [latest.movement.get(a, {}).get(b, 0) for b in classes.CLASSES]) for a in classes.CLASSES]
        if latest
        else [],
        "fairness": fairness(clock.today() - dt.timedelta(days=round(FAIRNESS_MONTHS * 30.44))),
    }


def dataset_card(ds: Any, report: dict[str, Any], kind: str) -> dict[str, Any]:
    """The card of a shared dataset from ``prospective.evaluate``'s report (a held-out period)."""
    from shijian.risk import chicago

    models = report["models"]
    rows = _budgets(models, kind, report["test_rows"])
    dropped = chicago.DROPPED if ds.name == "chicago" else {}
    return {
        "dataset": ds.name,
        "title": f"{labels.dataset_name(ds.name)} · {labels.model_name(kind)}",
        "data": [
            (_("held-out period"), " – ".join(report["period"])),
            (_("training rows"), report["train_rows"]),
            (_("entities evaluated"), report["test_rows"]),
            (_("with findings"), report["test_positives"]),
        ],
        "base_rate": report["base_rate"],
        "auc": {labels.model_name(n): m["auc"] for n, m in models.items()},
        "factors": _factors_of(models[kind].get("screening", []), [*ds.numeric, *ds.categorical], dropped),
        "budgets": rows,
        "calibration": models[kind].get("calibration", []),
        "claims": _claims(report["base_rate"], rows),
        "classes": [],
        "movement": [],
        "fairness": [],
    }


def held_out(ds: Any, kind: str = "gbm") -> dict[str, Any]:
    """Evaluate ``ds`` on its last two months (undated labels: the first held-out fold)."""
    from shijian.risk import backtest, prospective

    if not ds.dated:
        return prospective.evaluate(ds, None, kinds=(kind,), budget=metrics.SEED_BUDGET)
    last = max(ds.outcomes()["date"].to_pylist())
    period = backtest.folds(last, 1, 2)[0]
    return prospective.evaluate(
        ds, period.start, period.end - dt.timedelta(days=1), kinds=(kind,), budget=metrics.SEED_BUDGET
    )


def fairness(since: dt.date) -> list[dict[str, Any]]:
    """Who bears the inspections: per town, industry section and entity type, the share of the checked visits
    since ``since`` and the share of them with a finding. Each dimension's shares sum to 100%."""
    from django.db.models import Exists, OuterRef

    from shijian.registry import display
    from shijian.registry.models import EntityType
    from shijian.supervision.models import FINDING_OUTCOMES, Visit, VisitItem

    found = VisitItem.objects.filter(visit=OuterRef("pk"), outcome__in=list(FINDING_OUTCOMES))
    visits = list(
        Visit.objects.filter(checked_on__gte=since)
        .annotate(found=Exists(found))
        .values_list("entity__town_code", "entity__industry_section", "entity__entity_type", "found")
    )
    total = len(visits)
    types = dict(EntityType.choices)
    dims: list[tuple[str, Callable[[str], str]]] = [
        (_("town / street"), display.region_name),
        (_("industry section"), display.industry_name),
        (_("entity type"), lambda t: str(types.get(t, t))),
    ]
    out = []
    for i, (title, show) in enumerate(dims):
        n = Counter(str(v[i]) for v in visits)
        f = Counter(str(v[i]) for v in visits if v[3])
        groups = [{"group": show(g), "visits": c, "found": f[g], "share": round(100 * c / total, 1),
                   "rate": round(100 * f[g] / c, 1)} for g, c in n.most_common()]  # fmt: skip
        out.append({"title": title, "total": total, "groups": groups})
    return out


def calibration_svg(rows: list[dict[str, Any]], size: int = 240) -> str:
    """A reliability diagram (predicted vs observed per decile) as inline SVG: numbers only, no script."""
    pad = 30
    top = max([0.05] + [max(r["predicted"], r["observed"]) for r in rows])
    scale = (size - 2 * pad) / top

    def xy(p: float, o: float) -> tuple[str, str]:
        return f"{pad + p * scale:.1f}", f"{size - pad - o * scale:.1f}"

    points = [xy(r["predicted"], r["observed"]) for r in rows]
    dots = "".join(f'<circle cx="{x}" cy="{y}" r="3" fill="#c0392b"/>' for x, y in points)
    line = " ".join(f"{x},{y}" for x, y in points)
    (x0, y0), (x1, y1) = xy(0, 0), xy(top, top)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" role="img" class="calibration">'
        f'<rect x="{pad}" y="{pad}" width="{size - 2 * pad}" height="{size - 2 * pad}" fill="none" stroke="#999"/>'
        f'<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y1}" stroke="#bbb" stroke-dasharray="4 3"/>'
        f'<polyline points="{line}" fill="none" stroke="#c0392b"/>{dots}'
        f'<text x="{size / 2}" y="{size - 8}" font-size="10" text-anchor="middle">{_("predicted")} 0–{top:.2f}</text>'
        f'<text x="10" y="{size / 2}" font-size="10" transform="rotate(-90 10 {size / 2})" text-anchor="middle">'
        f"{_('observed')}</text></svg>"
    )


def html(card: dict[str, Any], *, page: bool = True) -> str:
    """The card as HTML: a whole page (``shijian risk report --out card.html``) or the section of the risk page."""
    from django.template.loader import render_to_string
    from django.utils.safestring import mark_safe

    context = {"card": card, "svg": mark_safe(calibration_svg(card["calibration"])), "class_names": classes.CLASSES,
               "generated": clock.now().isoformat(timespec="minutes")}  # fmt: skip
    return render_to_string("risk/card_page.html" if page else "risk/card.html", context)
