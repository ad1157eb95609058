"""The risk model on the platform's own data: fit, backtest, promote, refresh the classes, explain, score.

The life of a model:
1. ``fit_version`` snapshots the register and the hazard library, computes the factors from the lake (the entity
   files) as of dates before the data's end, backtests the recipe (train on factors as of T − horizon with the
   label of [T − horizon, T); evaluate on factors as of T with the label of [T, T + horizon); several T), fits the
   final model on the latest complete window, and stores it as a ``ModelVersion`` with its snapshot, parameters,
   factors and backtest. The live version's recipe is backtested on the same periods; the candidate goes live only
   if its mean AUC is higher (ties keep the live one).
2. ``refresh`` (monthly: ``shijian risk refresh`` is a no-op when this month already has one) scores every entity
   with the live version as of a date, stores an ``Assessment`` per entity (with the class before), writes
   ``Entity.risk_class`` (read by the 双随机 draw) and keeps the factor snapshot for explanations.
3. ``explain`` turns one entity's largest contributions into plain Chinese for the entity page.
4. ``uplift`` measures the model on the purely random share of the plans: there, who was inspected did not depend
   on the model, so the findings are an unbiased sample of the population (targeted inspections alone are not).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from shijian.core.stats import wilson_rate
from shijian.risk import classes, drift, factors, learn, metrics
from shijian.risk.backtest import means as backtest_means

Progress = Callable[[str, int, int], None]
DEFAULT_HORIZON = 3  # months: the label is the first inspection in this window
DEFAULT_BUDGET = 0.05  # share of entities a year's plans inspect (Foshan: ~4% drawn per batch)
KINDS = ("gbm", "scorecard", "logistic")


class RiskError(Exception):
    """Something a user can fix: the message says what."""


def home() -> Path:
    from django.conf import settings

    p = Path(settings.HOME) / "risk"
    p.mkdir(parents=True, exist_ok=True)
    return p


# -- snapshots of the operational data -----------------------------------------------------------------------


def snapshot_register(path: Path) -> int:
    """The register's factor columns to Parquet (one row per entity, by id)."""
    from django.db import connection

    cols = ["id", "entity_type", "industry_code", "industry_section", "town_code", "registered_capital",
            "established_on", "legal_rep", "address"]  # fmt: skip
    sql = (
        "SELECT id, entity_type, industry_code, industry_section, town_code, "
        "CAST(registered_capital AS DOUBLE PRECISION), established_on, legal_rep, address "
        "FROM registry_entity ORDER BY id"
    )
    data: dict[str, list[Any]] = {c: [] for c in cols}
    with connection.cursor() as cur:
        cur.execute(sql)
        while rows := cur.fetchmany(50_000):
            for c, values in zip(cols, zip(*rows, strict=True), strict=True):
                data[c].extend(values)
    est = pa.array([_date(v) for v in data["established_on"]], pa.date32())
    table = pa.table(
        {
            "id": pa.array(data["id"], pa.int64()),
            **{c: pa.array(data[c], pa.string()) for c in cols[1:5]},
            "registered_capital": pa.array(data["registered_capital"], pa.float64()),
            "established_on": est,
            "legal_rep": pa.array(data["legal_rep"], pa.string()),
            "address": pa.array(data["address"], pa.string()),
        }
    )
    pq.write_table(table, path, compression="zstd")
    return int(table.num_rows)


def snapshot_hazards(path: Path) -> int:
    """Hazard-library entries (entity, opened and closed dates, local time) to Parquet."""
    from django.db import connection
    from django.utils import timezone

    ents: list[int] = []
    opened: list[dt.date | None] = []
    closed: list[dt.date | None] = []
    with connection.cursor() as cur:
        cur.execute("SELECT entity_id, opened_at, closed_at FROM hazards_hazard")
        while rows := cur.fetchmany(50_000):
            for e, o, c in rows:
                ents.append(e)
                opened.append(_local_date(o, timezone))
                closed.append(_local_date(c, timezone))
    pq.write_table(
        pa.table(
            {
                "entity_id": pa.array(ents, pa.int64()),
                "opened_on": pa.array(opened, pa.date32()),
                "closed_on": pa.array(closed, pa.date32()),
            }
        ),
        path,
        compression="zstd",
    )
    return len(ents)


def _date(v: Any) -> dt.date | None:
    if v is None or isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v)[:10])


def _local_date(v: Any, timezone: Any) -> dt.date | None:
    if v is None:
        return None
    if not isinstance(v, dt.datetime):
        v = dt.datetime.fromisoformat(str(v))
    if v.tzinfo is None:
        v = v.replace(tzinfo=dt.UTC)
    local: dt.date = timezone.localtime(v).date()
    return local


def record_files(lake_root: Path) -> list[str]:
    return sorted(str(p) for p in (lake_root / "build" / "by_entity").glob("*/*.parquet"))


def snapshot(lake_root: Path, folder: Path) -> tuple[factors.Sources, dict[str, Any]]:
    """Register and hazard snapshots in ``folder``, the lake's built records, and a description of them all."""
    folder.mkdir(parents=True, exist_ok=True)
    n_ent = snapshot_register(folder / "register.parquet")
    n_haz = snapshot_hazards(folder / "hazards.parquet")
    from shijian.cases.enforcement import snapshot_penalties

    n_pen = snapshot_penalties(folder / "penalties.parquet")
    files = record_files(lake_root)
    if not files:
        raise RiskError(f"the lake at {lake_root} has no built entity files: run `shijian ingest` and `shijian build`")
    src = factors.Sources(folder / "register.parquet", files, folder / "hazards.parquet", folder / "penalties.parquet")
    build = lake_root / "build" / "build-report.json"
    info: dict[str, Any] = {"entities": n_ent, "hazards": n_haz, "record_files": len(files), "penalties": n_pen}
    if build.exists():
        rep = json.loads(build.read_text(encoding="utf-8"))
        info |= {"build_finished_at": rep.get("finished_at"), "records": rep.get("records")}
    loads = sorted(p.parent.name for p in (lake_root / "records").glob("source=*/load=*/load.json"))
    info["loads"] = len(loads)
    info["loads_sha256"] = hashlib.sha256("\n".join(loads).encode()).hexdigest()
    return src, info


# -- backtest -------------------------------------------------------------------------------------------------


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


def _y(t: pa.Table) -> np.ndarray:
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
        ytr, yte = _y(train), _y(test)
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
        model = learn.fit(kind, train, _y(train), factors.NUMERIC, factors.CATEGORICAL)
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


# -- refresh ------------------------------------------------------------------------------------------------------


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
                f"UPDATE {ent} SET risk_class = a.risk_class FROM {table_name} a "
                f"WHERE a.refresh_id = %s AND a.entity_id = {ent}.id AND {ent}.risk_class <> a.risk_class",
                [r.pk],
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


# -- explanations -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Explanation:
    probability: float
    risk_class: str
    as_of: dt.date
    version: int
    kind: str
    reasons: list[tuple[str, float]]  # (plain Chinese phrase, contribution: log-odds or scorecard points)

    @property
    def percent(self) -> str:
        return f"{100 * self.probability:.1f}%"


def explain(entity_id: int, top: int = 5) -> Explanation | None:
    """The latest refresh's score of an entity and the factors that pushed it most, in plain Chinese."""
    from shijian.risk.models import Refresh

    r = Refresh.objects.select_related("model").order_by("-id").first()
    if r is None or not r.factors_file or not Path(r.factors_file).exists():
        return None
    row = _factor_row(r.factors_file, int(entity_id))
    if row.num_rows == 0:
        return None
    model = load_model(r.model)
    values = row.to_pylist()[0]
    reasons = factors.reasons(model.explain(row, top=top)[0], values)
    return Explanation(
        float(values["probability"]), str(values["risk_class"]), r.as_of, r.model.pk, r.model.kind, reasons
    )


@lru_cache(maxsize=2)
def _row_groups(path: str) -> tuple[pq.ParquetFile, list[tuple[int, int]]]:
    """The refresh's factor file, opened once per process, with each row group's entity-id range (sorted by id)."""
    f = pq.ParquetFile(path)
    col = f.schema_arrow.get_field_index(factors.KEY)
    ranges = []
    for i in range(f.metadata.num_row_groups):
        st = f.metadata.row_group(i).column(col).statistics
        ranges.append((int(st.min), int(st.max)))
    return f, ranges


def _factor_row(path: str, entity_id: int) -> pa.Table:
    """One entity's row, reading only the row group whose id range holds it (a few ms at 780k entities)."""
    f, ranges = _row_groups(path)
    for i, (lo, hi) in enumerate(ranges):
        if lo <= entity_id <= hi:
            group = f.read_row_group(i)
            return group.filter(pc.equal(group[factors.KEY], entity_id))
    return f.schema_arrow.empty_table()


# -- scoring listed entities as of a date --------------------------------------------------------------------------


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
        model = learn.fit(kind, train, _y(train), factors.NUMERIC, factors.CATEGORICAL)
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


# -- uplift on the purely random share ------------------------------------------------------------------------------


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
