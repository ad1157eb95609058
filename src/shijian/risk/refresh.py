"""The monthly class refresh: every entity scored with the live version as of a date, an ``Assessment`` per entity,
``Entity.risk_class`` written (the draw reads it), the factor table kept for explanations."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from shijian.risk import classes, drift, factors
from shijian.risk.snapshots import snapshot
from shijian.risk.store import Progress, RiskError, home
from shijian.risk.versions import live_version, load_model


def cutoffs(mean: float) -> tuple[float, float, float]:
    """SHIJIAN_RISK_CUTOFFS when set (absolute probabilities), else relative to ``mean`` (see risk/classes.py)."""
    import os

    text = os.environ.get("SHIJIAN_RISK_CUTOFFS", "")
    return classes.parse_cutoffs(text) if text else classes.relative_cutoffs(mean)


def due(today: dt.date) -> bool:
    """Monthly: due unless a refresh was made this calendar month."""
    from shijian.risk.models import Refresh

    return not Refresh.objects.filter(as_of__year=today.year, as_of__month=today.month).exists()


def refresh(lake_root: Path, as_of: dt.date | None = None, progress: Progress | None = None) -> Any:
    """Score every entity with the live model as of ``as_of`` (today), store the assessments, write the classes."""
    from django.db import connection, transaction
    from django.utils import timezone

    from shijian.risk.models import Assessment, Refresh

    t0 = time.perf_counter()
    live = live_version()
    if live is None:
        raise RiskError("no live model: fit one first with `shijian risk fit`")
    as_of = as_of or timezone.localdate()
    if as_of < live.as_of:
        raise RiskError(
            f"the live model v{live.pk} learnt from data up to {live.as_of}; scoring as of {as_of} would use the "
            f"future. Score with `shijian risk score --as-of {as_of}` instead"
        )
    model = load_model(live)
    folder = home() / "refreshes" / f"{as_of.isoformat()}-{timezone.now().strftime('%H%M%S%f')}"
    src, _info = snapshot(lake_root, folder)
    if progress:
        progress("factors", 0, 3)
    table = factors.compute(src, as_of)
    for done in (src.register, src.hazards, src.penalties):  # the scores file below keeps what explanations need
        if done is not None:
            done.unlink(missing_ok=True)
    if progress:
        progress("factors", 1, 3)
    p = model.predict(table)
    cut = cutoffs(float(np.mean(p)) if len(p) else 0.0)
    cls = classes.classify(p, cut)
    ids = table[factors.KEY].to_pylist()
    previous = dict(_classes_now())
    before = [previous.get(i, "B") for i in ids]
    if progress:
        progress("score", 2, 3)
    counts = {c: 0 for c in classes.CLASSES}
    for c in cls:
        counts[c] += 1
    snap = table.append_column("probability", pa.array(p, pa.float64())).append_column(
        "risk_class", pa.array(cls, pa.string())
    )
    pq.write_table(snap, folder / "scores.parquet", compression="zstd", row_group_size=8192)
    prior = Refresh.objects.order_by("-as_of", "-pk").exclude(factors_file="").first()
    inputs: dict[str, Any] = {}
    if prior is not None and Path(prior.factors_file).exists():
        inputs = drift.compare(Path(prior.factors_file), folder / "scores.parquet", list(live.factors))
        inputs["refresh_before"] = prior.pk
    with transaction.atomic():
        r = Refresh.objects.create(
            model=live,
            as_of=as_of,
            entities=len(ids),
            classes=counts,
            movement=classes.movement(before, cls),
            cutoffs=list(cut),
            factors_file=str(folder / "scores.parquet"),
            drift=inputs,
        )
        table_name = connection.ops.quote_name(Assessment._meta.db_table)
        rows = [(r.pk, i, round(float(pr), 6), c, b) for i, pr, c, b in zip(ids, p, cls, before, strict=True)]
        with connection.cursor() as cur:
            _insert_many(cur, table_name, ["refresh_id", "entity_id", "probability", "risk_class", "previous_class"],
                         rows)  # fmt: skip
        with connection.cursor() as cur:
            ent = connection.ops.quote_name("registry_entity")
            cur.execute(
                f"UPDATE {ent} SET risk_class = a.risk_class, updated_at = %s FROM {table_name} a "
                f"WHERE a.refresh_id = %s AND a.entity_id = {ent}.id AND {ent}.risk_class <> a.risk_class",
                [timezone.now(), r.pk],  # a changed class is a changed entity to the API's incremental sync
            )
        r.seconds = round(time.perf_counter() - t0, 1)
        r.save(update_fields=["seconds"])
    if progress:
        progress("score", 3, 3)
    return r


def _classes_now() -> Sequence[tuple[int, str]]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT id, risk_class FROM registry_entity")
        return [(int(i), str(c)) for i, c in cur.fetchall()]


def _insert_many(cur: Any, table: str, columns: list[str], rows: list[tuple[Any, ...]], chunk: int = 2000) -> None:
    cols = ", ".join(columns)
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    for i in range(0, len(rows), chunk):
        part = rows[i : i + chunk]
        cur.execute(
            f"INSERT INTO {table} ({cols}) VALUES " + ", ".join([one] * len(part)), [v for r in part for v in r]
        )
