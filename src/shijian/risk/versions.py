"""Model versions on the platform's data: backtest a recipe, fit the final model, store it (its SHA-256 checked on
every load) and promote it only if its mean backtest AUC beats the live version's."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from shijian.risk import factors, learn, metrics
from shijian.risk.backtest import means as backtest_means
from shijian.risk.snapshots import snapshot
from shijian.risk.store import DEFAULT_BUDGET, DEFAULT_HORIZON, KINDS, Progress, RiskError, home


@dataclass
class Tables:
    """Factor tables by (date, horizon), computed once per backtest."""

    sources: factors.Sources

    def __post_init__(self) -> None:
        self.cache: dict[tuple[dt.date, int], pa.Table] = {}
        self.con = factors._connect()

    def get(self, as_of: dt.date, horizon: int) -> pa.Table:
        key = (as_of, horizon)
        if key not in self.cache:
            self.cache[key] = labelled(factors.compute(self.sources, as_of, horizon, con=self.con))
        return self.cache[key]


def y_of(t: pa.Table) -> np.ndarray:
    return np.asarray(t[factors.LABEL].cast(pa.int8()).to_numpy(zero_copy_only=False), dtype=int)


def labelled(t: pa.Table) -> pa.Table:
    """The rows with a label: entities inspected in the window."""
    return t.filter(t["inspected_next"])


def test_dates(end: dt.date, horizon: int, folds: int, step: int) -> list[dt.date]:
    """Evaluation dates T (newest last): each T + horizon is on or before ``end``, so its labels are complete."""
    last = factors.add_months(end, -horizon)
    return sorted(factors.add_months(last, -step * k) for k in range(folds))


def backtest(
    tables: Tables,
    kind: str,
    end: dt.date,
    horizon: int = DEFAULT_HORIZON,
    folds: int = 4,
    step: int = 3,
    budget_share: float = DEFAULT_BUDGET,
    baseline: bool = True,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Per evaluation date T: fit on factors as of T − horizon (labels up to T), score factors as of T."""
    out: dict[str, Any] = {"kind": kind, "horizon_months": horizon, "budget_share": budget_share, "folds": []}
    dates = test_dates(end, horizon, folds, step)
    for i, t_date in enumerate(dates):
        train = tables.get(factors.add_months(t_date, -horizon), horizon)
        test = tables.get(t_date, horizon)
        ytr, yte = y_of(train), y_of(test)
        if ytr.sum() < 20 or yte.sum() < 5 or (1 - ytr).sum() < 20:
            raise RiskError(
                f"too few violations to fit before {t_date}: {int(ytr.sum())} in training, {int(yte.sum())} after"
            )
        model = learn.fit(kind, train, ytr, factors.NUMERIC, factors.CATEGORICAL)
        scores = {kind: model.predict(test)}
        if baseline:
            scores["past_violations"] = _past_violations(test)
        budget = max(1, round(test.num_rows * budget_share))
        fold: dict[str, Any] = {
            "evaluated_from": t_date.isoformat(),
            "until": factors.add_months(t_date, horizon).isoformat(),
            "train_rows": train.num_rows,
            "test_rows": test.num_rows,
            "test_positives": int(yte.sum()),
            "budget": budget,
            "models": {},
        }
        for name, s in scores.items():
            fold["models"][name] = metrics.scored(yte, s, budget)
            if name == kind:
                fold["models"][name]["brier"] = round(float(np.mean((s - yte) ** 2)), 5)
                fold["models"][name]["calibration"] = metrics.calibration(yte, s)
            fold["models"][name]["budgets"] = {
                f"{b:.3f}": metrics.as_dict(metrics.at_budget(yte, s, max(1, round(test.num_rows * b))))
                for b in metrics.BUDGETS
            }
        out["folds"].append(fold)
        if progress:
            progress(f"backtest {kind}", i + 1, len(dates))
    out["mean"] = backtest_means(out["folds"])
    return out


def _past_violations(t: pa.Table) -> np.ndarray:
    """The simplest baseline: past findings and penalties (ties broken by nothing)."""
    a = np.asarray(t["inspections_failed"].to_numpy(zero_copy_only=False), dtype=float)
    b = np.asarray(t["penalties"].to_numpy(zero_copy_only=False), dtype=float)
    return np.asarray(a + b)


# -- versions ---------------------------------------------------------------------------------------------------


def live_version() -> Any:
    from shijian.risk.models import ModelVersion, VersionStatus

    return ModelVersion.objects.filter(status=VersionStatus.LIVE).order_by("-id").first()


def fit_version(
    lake_root: Path,
    kind: str = "gbm",
    as_of: dt.date | None = None,
    horizon: int = DEFAULT_HORIZON,
    folds: int = 4,
    step: int = 3,
    user: str = "",
    progress: Progress | None = None,
) -> Any:
    """Fit a model version, backtest it against the live one on the same periods, promote it if better."""
    import joblib
    from django.db import transaction
    from django.utils import timezone

    from shijian.risk.models import ModelVersion, VersionStatus

    if kind not in KINDS:
        raise RiskError(f"model kind must be one of {', '.join(KINDS)}, not {kind!r}")
    t0 = time.perf_counter()
    folder = home() / "snapshots" / timezone.now().strftime("%Y%m%d-%H%M%S-%f")
    src, info = snapshot(lake_root, folder)
    end = factors.data_end(src) or timezone.localdate()
    if as_of is not None:
        end = min(end, as_of)
    info["data_end"] = end.isoformat()
    tables = Tables(src)
    try:
        bt = backtest(tables, kind, end, horizon, folds, step, progress=progress)
        live = live_version()
        live_bt = None
        if live is not None:
            live_bt = backtest(tables, live.kind, end, horizon, folds, step, baseline=False, progress=progress)
        train_on = factors.add_months(end, -horizon)
        train = tables.get(train_on, horizon)
        model = learn.fit(kind, train, y_of(train), factors.NUMERIC, factors.CATEGORICAL)
    finally:
        tables.con.close()
    fit_seconds = round(time.perf_counter() - t0, 1)
    used = _factors_used(model)
    with transaction.atomic():
        v = ModelVersion.objects.create(
            kind=kind,
            created_by=user,
            as_of=end,
            horizon_months=horizon,
            snapshot=info | {"folder": str(folder), "trained_on": train_on.isoformat(), "train_rows": train.num_rows},
            params=_jsonable(model.params),
            factors=used,
            metrics={
                "backtest": bt,
                "live_backtest": live_bt,
                "live_version": live.pk if live else None,
                "seconds": fit_seconds,
            },
            artifact="",
            sha256="",
        )
        path = home() / "models" / f"v{v.pk}-{kind}.joblib"
        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(model, path)
        v.artifact = str(path)
        v.sha256 = _sha256(path)
        new_auc = bt["mean"][kind]["auc"]
        if live is None:
            v.status, v.decision = VersionStatus.LIVE, f"first model: backtest AUC {new_auc:.4f}"
        else:
            old_auc = live_bt["mean"][live.kind]["auc"] if live_bt else 0.0
            if new_auc > old_auc:
                v.status = VersionStatus.LIVE
                v.decision = f"promoted: backtest AUC {new_auc:.4f} > live v{live.pk} ({live.kind}) {old_auc:.4f}"
                live.status = VersionStatus.RETIRED
                live.save(update_fields=["status"])
            else:
                v.status = VersionStatus.REJECTED
                v.decision = f"not promoted: backtest AUC {new_auc:.4f} ≤ live v{live.pk} ({live.kind}) {old_auc:.4f}"
        v.save()
    return v


def _factors_used(model: learn.Model) -> list[str]:
    if model.kind == "scorecard":
        return list(model.bins)
    return list(model.encoder.numeric) + list(model.encoder.categorical)


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_model(version: Any) -> learn.Model:
    return _load(version.pk, version.artifact, version.sha256)


@lru_cache(maxsize=4)
def _load(pk: int, artifact: str, sha256: str) -> learn.Model:
    import joblib

    path = Path(artifact)
    if not path.exists():
        raise RiskError(f"the file of model version {pk} is missing: {path}")
    if _sha256(path) != sha256:
        raise RiskError(f"the file of model version {pk} does not match its stored SHA-256: {path}")
    model: learn.Model = joblib.load(path)
    return model
