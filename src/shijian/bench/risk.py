"""``shijian bench risk``: the risk model at Foshan's entity count (780,000), on a synthetic district run through
the real pipeline (register load, feed ingest, entity-file build), built once in the working directory and reused.

Figures: factor computation as of a date against a raw DuckDB scan of the same entity-file Parquet (measured in the
same run); training (LightGBM, and the scorecard with its screening) on the labelled rows; scoring all entities
(predict + classes) — target under 10 s — and the whole monthly refresh (factors, scores, 780k assessments and
classes written to the database); peak memory.
"""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from shijian.core import clock


def _peak_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def world(entities: int, records: int, work: Path, console: Console, seed: int = 3) -> Path:
    """Generate, load, ingest and build the district once; return the lake."""
    from django.conf import settings

    from shijian.ingest.mapping import load_mappings
    from shijian.ingest.pipeline import ingest, summary
    from shijian.lake.build import run_build
    from shijian.lake.store import Lake
    from shijian.registry.loader import load_district
    from shijian.registry.models import Entity
    from shijian.synth.generator import generate, resolve_scale

    folder = work / "synth"
    lake = Lake(Path(settings.SHIJIAN_LAKE))
    if (lake.root / "build" / "build-report.json").exists() and Entity.objects.count() >= entities * 0.99:
        return lake.root
    from shijian.cli.common import progress_bar

    t0 = time.perf_counter()
    with progress_bar() as update:
        if not (folder / "manifest.json").exists():
            generate(resolve_scale(str(entities), records=records), seed, folder, update)
        if not Entity.objects.exists():
            load_district(folder, work / "loads", update)
        if not lake.has_records():
            summary(ingest([folder], load_mappings(), lake, update))
        run_build(lake, update, probabilistic=False)
    console.print(f"world built in {time.perf_counter() - t0:.0f} s")
    return lake.root


def run(entities: int, records: int, horizon: int, work: Path, console: Console) -> dict[str, Any]:
    import duckdb
    import numpy as np

    from shijian.risk import classes, factors, learn, platform, versions

    lake = world(entities, records, work, console)
    report: dict[str, Any] = {"entities_target": entities, "records_target": records, "horizon_months": horizon}

    t0 = time.perf_counter()
    src, info = platform.snapshot(lake, work / "snap")
    report["snapshot_seconds"] = round(time.perf_counter() - t0, 2)
    report["entities"], report["records"] = info["entities"], info.get("records")
    end = factors.data_end(src)
    assert end is not None
    train_on = factors.add_months(end, -horizon)

    # baseline: a raw scan of the same record files (every row read: count, a sum, distinct entities)
    con = duckdb.connect()
    t0 = time.perf_counter()
    con.execute(
        f"SELECT count(*), sum(amount), count(DISTINCT entity_id), max(event_date) FROM read_parquet({src.records!r})"
    ).fetchone()
    raw = time.perf_counter() - t0
    report["raw_scan_seconds"] = round(raw, 2)

    t0 = time.perf_counter()
    table = factors.compute(src, train_on, horizon)
    fsec = time.perf_counter() - t0
    report["factors_seconds"] = round(fsec, 2)
    report["factors_vs_raw_scan"] = round(fsec / raw, 2)
    train = platform.labelled(table)
    y = versions.y_of(train)
    report["train_rows"], report["train_positives"] = train.num_rows, int(y.sum())

    t0 = time.perf_counter()
    model = learn.fit("gbm", train, y, factors.NUMERIC, factors.CATEGORICAL)
    report["train_gbm_seconds"] = round(time.perf_counter() - t0, 2)
    report["gbm_rounds"] = model.params.get("rounds")
    t0 = time.perf_counter()
    learn.fit("scorecard", train, y, factors.NUMERIC, factors.CATEGORICAL)
    report["train_scorecard_seconds"] = round(time.perf_counter() - t0, 2)

    t0 = time.perf_counter()
    now = factors.compute(src, end)
    report["factors_now_seconds"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    p = model.predict(now)
    cls = classes.classify(p, classes.relative_cutoffs(float(np.mean(p))))
    report["score_all_seconds"] = round(time.perf_counter() - t0, 2)
    report["scored"] = now.num_rows
    report["classes"] = {c: cls.count(c) for c in classes.CLASSES}
    t0 = time.perf_counter()
    model.explain(now.slice(0, 10_000))
    report["explain_10k_seconds"] = round(time.perf_counter() - t0, 2)

    # the whole monthly job as officials run it: a version (with its backtest) and a refresh into the database
    t0 = time.perf_counter()
    v = platform.fit_version(lake, "gbm", as_of=None, horizon=horizon, folds=1, user="bench")
    report["fit_version_seconds"] = round(time.perf_counter() - t0, 2)
    report["backtest_auc"] = v.metrics["backtest"]["mean"]["gbm"]["auc"]
    report["backtest_spared_per_100"] = v.metrics["backtest"]["mean"]["gbm"]["spared_per_100"]
    report["past_violations_auc"] = v.metrics["backtest"]["mean"]["past_violations"]["auc"]
    if v.status != "live":
        from shijian.risk.models import ModelVersion, VersionStatus

        ModelVersion.objects.filter(status=VersionStatus.LIVE).update(status=VersionStatus.RETIRED)
        ModelVersion.objects.filter(pk=v.pk).update(status=VersionStatus.LIVE)
    t0 = time.perf_counter()
    r = platform.refresh(lake, clock.today())
    report["refresh_seconds"] = round(time.perf_counter() - t0, 2)
    report["refresh_entities"] = r.entities
    report["peak_memory_mb"] = _peak_mb()
    report["cpu_count"] = os.cpu_count()
    return report
