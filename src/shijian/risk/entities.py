"""``shijian risk score --dataset platform``: listed entities (USCC or platform id) scored with data before a date
only, by the live model when it learnt from such data, else by the live recipe fitted on it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np

from shijian.risk import classes, factors, learn
from shijian.risk.refresh import cutoffs
from shijian.risk.snapshots import snapshot
from shijian.risk.store import DEFAULT_HORIZON, Progress, home
from shijian.risk.versions import labelled, live_version, load_model, y_of


def score_entities(
    lake_root: Path, as_of: dt.date, keys: list[str], progress: Progress | None = None
) -> tuple[list[dict[str, Any]], str]:
    """Score entities (by USCC or platform id) with data before ``as_of`` only. Uses the live model when it learnt
    from data before ``as_of``; otherwise fits the live recipe (or LightGBM) on the data before ``as_of``."""
    import shutil

    from django.utils import timezone

    folder = home() / "score" / timezone.now().strftime("%Y%m%d-%H%M%S-%f")
    try:
        return _score(lake_root, folder, as_of, keys, progress)
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # a working copy only


def _score(
    lake_root: Path, folder: Path, as_of: dt.date, keys: list[str], progress: Progress | None
) -> tuple[list[dict[str, Any]], str]:
    from shijian.registry.models import Entity

    def step(n: int) -> None:
        if progress:
            progress("score", n, 4)

    src, _info = snapshot(lake_root, folder)
    step(1)
    lookup: dict[str, int] = {}
    wanted = [k.strip() for k in keys if k.strip()]
    by_uscc: dict[str, int] = {}
    for i in range(0, len(wanted), 5000):  # within any database's limit on query parameters
        by_uscc.update(
            (str(u), int(pk))
            for u, pk in Entity.objects.filter(uscc__in=wanted[i : i + 5000]).values_list("uscc", "pk")
        )
    ids = sorted({int(k) for k in wanted if k.isdigit() and k not in by_uscc})
    known: set[int] = set()
    for i in range(0, len(ids), 5000):
        known.update(Entity.objects.filter(pk__in=ids[i : i + 5000]).values_list("pk", flat=True))
    for k in wanted:
        if k in by_uscc:
            lookup[k] = by_uscc[k]
        elif k.isdigit() and int(k) in known:
            lookup[k] = int(k)
    step(2)
    live = live_version()
    if live is not None and live.as_of <= as_of:
        model, note = load_model(live), f"live model v{live.pk} ({live.kind}, data before {live.as_of})"
    else:
        kind = live.kind if live is not None else "gbm"
        horizon = live.horizon_months if live is not None else DEFAULT_HORIZON
        end = min(as_of, factors.data_end(src) or as_of)
        train = labelled(factors.compute(src, factors.add_months(end, -horizon), horizon))
        model = learn.fit(kind, train, y_of(train), factors.NUMERIC, factors.CATEGORICAL)
        note = f"{kind} fitted on data before {end} (the live model learnt from later data)"
    step(3)
    table = factors.compute(src, as_of, entity_ids=sorted(set(lookup.values())))
    p = model.predict(table) if table.num_rows else np.zeros(0)
    cls = classes.classify(p, cutoffs(float(model.params.get("base_rate") or (np.mean(p) if len(p) else 0.0))))
    why = model.explain(table, top=3) if table.num_rows else []
    rows_by_id: dict[int, dict[str, Any]] = {}
    values = table.to_pylist()
    for i, eid in enumerate(table[factors.KEY].to_pylist()):
        phrases = "；".join(text for text, _c in factors.reasons(why[i], values[i]))
        rows_by_id[eid] = {"probability": round(float(p[i]), 6), "class": cls[i], "top_factors": phrases}
    from shijian.risk.prospective import base_row

    base = base_row(model, factors.NUMERIC, factors.CATEGORICAL)  # nothing known: never refused, said so
    out = []
    for k in wanted:
        eid = lookup.get(k)
        hit = rows_by_id.get(eid) if eid is not None else None
        if hit is None:
            reason = "unknown entity" if eid is None else f"not established before {as_of}"
            out.append({"key": k, **base, "note": f"{reason}: base features"})
        else:
            out.append({"key": k, **hit, "note": ""})
    step(4)
    return out, note
