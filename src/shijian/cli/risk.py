"""信用风险研判 commands."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from shijian.cli.common import django_setup, fail, lake_dir, out, progress_bar, refresh_analytics

app = typer.Typer(
    help="信用风险研判: fit, backtest and promote models; monthly classes; scoring; uplift; factor screening.",
    no_args_is_help=True,
)


def _dataset(dataset: str, shared: Path, key: str, label: str, date: str) -> Any:
    """The dataset behind --dataset: chicago, ccf (the shared data) or a CSV/Parquet table."""
    from shijian.risk import prospective

    try:
        if dataset == "chicago":
            return prospective.chicago(shared / "chicago_food_inspections")
        if dataset == "ccf":
            return prospective.ccf(shared / "ccf2020_enterprise_risk")
        return prospective.table(Path(dataset), key=key or "key", label=label, date=date)
    except (OSError, ValueError) as exc:
        fail(str(exc))


def _kinds(models: str) -> list[str]:
    kinds = [k.strip() for k in models.split(",") if k.strip()]
    if not kinds or not set(kinds) <= {"scorecard", "logistic", "gbm"}:
        fail(f"--models: scorecard, logistic and/or gbm, not {models!r}")
    return kinds


def _day(text: str, option: str) -> Any:
    import datetime as dt

    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"{option} must be a date like 2014-09-01, not {text!r}")


def _summary(models: dict[str, Any]) -> Table:
    view = Table("model", "AUC", "precision", "recall", "spared per 100 vs random", "days earlier", "first half")
    for name, m in models.items():
        s = m.get("schedule")
        view.add_row(name, f"{m['auc']:.4f}", f"{m['at_budget']['precision']:.3f}", f"{m['at_budget']['recall']:.3f}",
                     f"{m['at_budget']['spared_per_100']:.1f}", f"{s['days_earlier']:.2f}" if s else "",
                     f"{s['first_half_gain']:+.1%}" if s else "")  # fmt: skip
    return view


@app.command("evaluate")
def risk_evaluate(
    as_of: Annotated[str, typer.Option(help="score with what was known before this date (CCF: side tables)")] = "",
    until: Annotated[str, typer.Option(help="measure the outcomes from --as-of to this date (inclusive)")] = "",
    dataset: Annotated[str, typer.Option(help="chicago, ccf or a CSV/Parquet table")] = "chicago",
    shared: Annotated[Path, typer.Option(help="the shared data folder")] = Path("../shared/data"),
    key: Annotated[str, typer.Option(help="key column (table files)")] = "key",
    label: Annotated[str, typer.Option(help="label column (table files)")] = "label",
    date: Annotated[str, typer.Option(help="date column (table files)")] = "date",
    fold: Annotated[int, typer.Option(help="CCF (undated labels): the held-out fold, 0-4")] = 0,
    budget: Annotated[float | None, typer.Option(help="share of the outcomes the budget allows")] = None,
    models: Annotated[str, typer.Option(help="comma-separated: scorecard, logistic, gbm")] = "gbm",
    out_file: Annotated[Path | None, typer.Option("--out", help="write the full report (JSON) here")] = None,
) -> None:
    """Prospective evaluation: score with the production path at --as-of, then measure what happened up to --until
    (AUC, precision/recall and law-abiding spared per 100 vs random at several budgets, past violations, and for
    Chicago the days earlier and the first-half share at the same daily capacity)."""
    from shijian.risk import prospective

    ds = _dataset(dataset, shared, key, label, date)
    t0 = time.perf_counter()
    try:
        report = prospective.evaluate(ds, _day(as_of, "--as-of"), _day(until, "--until"), kinds=_kinds(models),
                                      budget=budget, fold=fold)  # fmt: skip
    except ValueError as exc:
        fail(str(exc))
    report["seconds"] = round(time.perf_counter() - t0, 1)
    if out_file is not None:
        out_file.write_text(json.dumps(report, ensure_ascii=False, indent=1))
    out.print(f"{report['dataset']} {report['period'][0]} – {report['period'][1]}: {report['test_rows']:,} outcomes, "
              f"{report['test_positives']:,} positive (base rate {report['base_rate']:.1%}); budget "
              f"{report['budget']:,}; trained on {report['train_rows']:,} ({report['seconds']} s)")  # fmt: skip
    out.print(_summary(report["models"]))


@app.command("report")
def risk_report(
    dataset: Annotated[str, typer.Option(help="platform (the live model), chicago or ccf")] = "platform",
    shared: Annotated[Path, typer.Option(help="the shared data folder")] = Path("../shared/data"),
    model: Annotated[str, typer.Option(help="chicago/ccf: scorecard, logistic or gbm")] = "gbm",
    out_file: Annotated[Path | None, typer.Option("--out", help="write the card here (.html or .pdf)")] = None,
) -> None:
    """The model card: data and dates, factors kept and dropped, metrics against random and past violations at
    several budgets (the seed's 3.7% included), calibration, class movement and who bears the inspections.
    chicago/ccf: evaluated on a held-out period (the last two months; CCF: the first held-out fold)."""
    django_setup()
    from django.utils.translation import gettext as _

    from shijian.risk import card, card_pdf

    if out_file is not None and out_file.suffix.lower() not in (".html", ".pdf"):
        fail(f"--out must end in .html or .pdf, not {out_file.name!r}")
    if dataset == "platform":
        data = card.platform_card()
        if data is None:
            fail("no live model with a backtest: fit one first (shijian risk fit)")
    else:
        if dataset not in ("chicago", "ccf"):
            fail(f"--dataset must be platform, chicago or ccf, not {dataset!r}")
        ds = _dataset(dataset, shared, "key", "label", "date")
        try:
            data = card.dataset_card(ds, card.held_out(ds, model), model)
        except ValueError as exc:
            fail(str(exc))
    if out_file is not None:
        if out_file.suffix.lower() == ".pdf":
            out_file.write_bytes(card_pdf.render(data))
        else:
            out_file.write_text(card.html(data), encoding="utf-8")
        out.print(_("model card written to %(path)s") % {"path": out_file})
    out.print(f"{data['title']}: {_('base rate (share with findings)')} {data['base_rate']:.4f}; AUC "
              + "，".join(f"{n} {a}" for n, a in data["auc"].items()))  # fmt: skip
    out.print(_budget_table(data["budgets"]))
    for text in data["claims"]["text"]:
        out.print(text)


def _budget_table(rows: list[dict[str, Any]]) -> Table:
    names = list(rows[0]["baselines"]) if rows else []
    from django.utils.translation import gettext as _

    t = Table(
        _("budget (share inspected)"),
        _("inspections"),
        _("model: findings per inspection"),
        _("random: findings per inspection"),
        *names,
        _("recall"),
        _("law-abiding spared per 100 vs random"),
    )
    for r in rows:
        m = r["model"]
        seed = f" ({_('the seed')})" if r["seed"] else ""
        t.add_row(f"{r['percent']}%{seed}", f"{m['budget']:,}", f"{m['precision']:.3f}",
                  f"{m['base_rate']:.3f}", *[f"{(b or {}).get('precision', 0):.3f}" for b in r["baselines"].values()],
                  f"{m['recall']:.3f}", f"{m['spared_per_100']:.1f}")  # fmt: skip
    return t


@app.command("backtest")
def risk_backtest(
    dataset: Annotated[str, typer.Option(help="chicago, ccf or a CSV/Parquet table")] = "chicago",
    shared: Annotated[Path, typer.Option(help="the shared data folder")] = Path("../shared/data"),
    key: Annotated[str, typer.Option(help="key column (table files)")] = "key",
    label: Annotated[str, typer.Option(help="label column (table files)")] = "label",
    date: Annotated[str, typer.Option(help="date column (table files)")] = "date",
    last: Annotated[str, typer.Option(help="the last period ends with this date's month (default: the data's)")] = "",
    as_of: Annotated[str, typer.Option(help="CCF: side-table records before this date (default: all)")] = "",
    folds: Annotated[int, typer.Option(help="consecutive evaluation periods")] = 6,
    months: Annotated[int, typer.Option(help="months per evaluation period")] = 2,
    budget: Annotated[float | None, typer.Option(help="share of a period's outcomes the budget allows")] = None,
    models: Annotated[str, typer.Option(help="comma-separated: scorecard, logistic, gbm")] = "logistic,gbm",
    out_file: Annotated[Path | None, typer.Option("--out", help="write the full report (JSON) here")] = None,
) -> None:
    """Backtest: ``risk evaluate`` repeated on consecutive periods (CCF: on each of five folds of the labels)."""
    from shijian.risk import prospective

    ds = _dataset(dataset, shared, key, label, date)
    t0 = time.perf_counter()
    try:
        report = prospective.backtest(ds, last=_day(last, "--last"), n_folds=folds, months=months,
                                      kinds=_kinds(models), budget=budget, as_of=_day(as_of, "--as-of"))  # fmt: skip
    except ValueError as exc:
        fail(f"cannot fit the models on {dataset}: {exc}")
    report["seconds"] = round(time.perf_counter() - t0, 1)
    if out_file is not None:
        out_file.write_text(json.dumps(report, ensure_ascii=False, indent=1))
    out.print_json(json.dumps({"dataset": report["dataset"], "folds": len(report["folds"]), "mean": report["mean"],
                               "seconds": report["seconds"]}))  # fmt: skip


@app.command("screen")
def risk_screen(
    dataset: Annotated[str, typer.Option(help="chicago, ccf, or a CSV/Parquet table")] = "chicago",
    shared: Annotated[Path, typer.Option(help="the shared data folder")] = Path("../shared/data"),
    label: Annotated[str, typer.Option(help="label column (table files)")] = "label",
    date: Annotated[str, typer.Option(help="date column (table files)")] = "date",
    keep: Annotated[int, typer.Option(help="factors to keep at most")] = 12,
) -> None:
    """Factor screening: information value, stability and collinearity; which factors are kept and why not."""
    import numpy as np
    import pyarrow as pa

    from shijian.risk import labels, screening

    if dataset in ("chicago", "ccf"):
        from shijian.risk import ccf, chicago

        try:
            if dataset == "chicago":
                table = chicago.load(shared / "chicago_food_inspections")
                label, numeric, categorical = "criticalFound", chicago.NUMERIC, chicago.CATEGORICAL
            else:
                table = ccf.load(shared / "ccf2020_enterprise_risk")
                label, numeric, categorical = "label", ccf.NUMERIC, []
        except FileNotFoundError as exc:
            fail(str(exc))
    else:
        from shijian.risk import tables

        try:
            table, numeric, categorical = tables.read(Path(dataset), label=label, date=date)
        except (OSError, ValueError) as exc:
            fail(str(exc))
    y = np.asarray(table[label].cast(pa.int8()).to_numpy(zero_copy_only=False), dtype=int)
    decisions, kept = screening.screen(table, y, numeric, categorical, keep=keep)
    from rich.table import Table

    view = Table("factor", "IV", "PSI", "decision")
    for d in decisions:
        view.add_row(
            d.factor,
            f"{d.iv:.3f}",
            f"{d.psi:.3f}",
            ("[green]" if d.kept else "[dim]") + labels.screening_reason(d.reason, d.detail),
        )
    out.print(view)
    out.print(f"{len(kept)} kept of {len(decisions)}")


@app.command("fit")
def risk_fit(
    kind: Annotated[str, typer.Option(help="gbm (LightGBM), scorecard or logistic")] = "gbm",
    as_of: Annotated[str, typer.Option(help="use data before this date only (default: all)")] = "",
    horizon: Annotated[int, typer.Option(help="label: first inspection within this many months")] = 3,
    folds: Annotated[int, typer.Option(help="backtest periods")] = 4,
    dataset: Annotated[
        Path | None, typer.Option(help="a CSV/Parquet table of features + label + date, instead of the platform")
    ] = None,
    label: Annotated[str, typer.Option(help="label column (table files)")] = "label",
    date: Annotated[str, typer.Option(help="date column (table files)")] = "date",
    out_file: Annotated[Path | None, typer.Option("--out", help="table files: write the fitted model here")] = None,
    lake: Annotated[Path | None, typer.Option(help="lake directory (default: $SHIJIAN_LAKE)")] = None,
) -> None:
    """Fit a model version on the platform's entity files, backtest it against the live one, promote it if better.
    With --dataset, fit on any table instead (rows dated before --as-of) and write the model file."""
    import datetime as dt

    cutoff = None
    if as_of:
        try:
            cutoff = dt.date.fromisoformat(as_of)
        except ValueError:
            fail(f"--as-of must be a date like 2026-07-01, not {as_of!r}")
    if dataset is not None:
        _fit_table(dataset, kind, label, date, cutoff, out_file)
        return
    django_setup()
    from shijian.risk import platform

    try:
        with progress_bar() as update:
            v = platform.fit_version(lake_dir(lake), kind, cutoff, horizon, folds, user=os.environ.get("USER", ""),
                                     progress=update)  # fmt: skip
    except platform.RiskError as exc:
        fail(str(exc))
    bt = v.metrics["backtest"]["mean"]
    out.print(f"model v{v.pk} ({v.kind}), data before {v.as_of}, {v.metrics['seconds']} s: {v.decision}")
    view = Table("model", "AUC", "precision at budget", "recall at budget", "spared per 100 vs random")
    for name, m in bt.items():
        view.add_row(name, f"{m['auc']:.4f}", f"{m['precision_at_budget']:.3f}", f"{m.get('recall_at_budget', 0):.3f}",
                     f"{m['spared_per_100']:.1f}")  # fmt: skip
    if v.metrics.get("live_backtest"):
        for name, m in v.metrics["live_backtest"]["mean"].items():
            view.add_row(f"live v{v.metrics['live_version']} {name}", f"{m['auc']:.4f}",
                         f"{m['precision_at_budget']:.3f}", f"{m.get('recall_at_budget', 0):.3f}",
                         f"{m['spared_per_100']:.1f}")  # fmt: skip
    out.print(view)


def _fit_table(path: Path, kind: str, label: str, date: str, cutoff: Any, out_file: Path | None) -> None:
    import joblib
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from shijian.risk import learn, tables

    if kind not in ("gbm", "scorecard", "logistic"):
        fail(f"--kind: gbm, scorecard or logistic, not {kind!r}")
    try:
        table, numeric, categorical = tables.read(path, label=label, date=date)
    except (OSError, ValueError) as exc:
        fail(str(exc))
    if cutoff is not None:
        table = table.filter(pc.less(table[date], pa.scalar(cutoff)))
    y = np.asarray(table[label].cast(pa.int8()).to_numpy(zero_copy_only=False), dtype=int)
    if y.sum() < 10 or (1 - y).sum() < 10:
        fail(f"{path.name}: too few rows of each label to fit ({int(y.sum())} positive, {int((1 - y).sum())} not)")
    t0 = time.perf_counter()
    try:
        model = learn.fit(kind, table, y, numeric, categorical)
    except ValueError as exc:
        fail(f"cannot fit {kind} on {path.name}: {exc}")
    target = out_file or path.with_suffix(f".{kind}.joblib")
    joblib.dump(model, target)
    out.print(f"{kind} fitted on {table.num_rows:,} rows ({int(y.sum()):,} positive) in "
              f"{time.perf_counter() - t0:.1f} s; model written to {target}")  # fmt: skip
    if kind == "scorecard":
        view = Table("factor", "band", "points")
        for factor, band, pts in model.points():
            view.add_row(factor, band, str(pts))
        out.print(view)


@app.command("refresh")
def risk_refresh(
    as_of: Annotated[str, typer.Option(help="score as of this date (default: today)")] = "",
    force: Annotated[bool, typer.Option("--force", help="refresh even if this month already has one")] = False,
    lake: Annotated[Path | None, typer.Option(help="lake directory (default: $SHIJIAN_LAKE)")] = None,
) -> None:
    """Monthly class refresh: score every entity with the live model, store the history, write the A-D classes the
    draw uses. Safe to schedule daily: it does nothing when this month already has a refresh (unless --force)."""
    import datetime as dt

    django_setup()
    from django.utils import timezone

    from shijian.risk import platform

    try:
        day = dt.date.fromisoformat(as_of) if as_of else timezone.localdate()
    except ValueError:
        fail(f"--as-of must be a date like 2026-07-01, not {as_of!r}")
    if not force and not platform.due(day):
        out.print(f"classes already refreshed in {day:%Y-%m}; nothing to do (--force to refresh again)")
        return
    try:
        with progress_bar() as update:
            r = platform.refresh(lake_dir(lake), day, update)
    except (platform.RiskError, ValueError) as exc:
        fail(str(exc))
    moved = sum(n for a, row in r.movement.items() for b, n in row.items() if a != b)
    out.print(
        f"refresh {r.pk} as of {r.as_of} with model v{r.model_id}: {r.entities:,} entities in {r.seconds} s; "
        + ", ".join(f"{c} {n:,}" for c, n in r.classes.items())
        + f"; {moved:,} changed class"
    )
    refresh_analytics()


@app.command("score")
def risk_score(
    as_of: Annotated[str, typer.Option(help="use only data before this date")],
    entities: Annotated[Path, typer.Option(help="CSV whose first column (or --key) lists the entities' keys")],
    out_file: Annotated[Path, typer.Option("--out", help="CSV to write: key, probability, class, top factors")],
    dataset: Annotated[
        str, typer.Option(help="platform (USCC or id), chicago (licence), ccf (id), or a CSV/Parquet table")
    ] = "platform",
    key: Annotated[str, typer.Option(help="the key column of --entities (and of a table dataset)")] = "",
    shared: Annotated[Path, typer.Option(help="the shared data folder")] = Path("../shared/data"),
    label: Annotated[str, typer.Option(help="label column (table datasets)")] = "label",
    date: Annotated[str, typer.Option(help="date column (table datasets)")] = "date",
    lake: Annotated[Path | None, typer.Option(help="lake directory (default: $SHIJIAN_LAKE)")] = None,
) -> None:
    """Score listed entities with only the data before --as-of: probability, A-D class and the top factors."""
    import datetime as dt

    try:
        day = dt.date.fromisoformat(as_of)
    except ValueError:
        fail(f"--as-of must be a date like 2014-07-01, not {as_of!r}")
    try:
        keys = _read_keys(entities, key)
    except (OSError, ValueError) as exc:
        fail(str(exc))
    if not keys:
        fail(f"{entities}: no keys listed")
    django_setup()  # the top factors are named in the user's language
    from shijian.risk import scoring

    try:
        if dataset == "platform":
            from shijian.risk import platform

            with progress_bar() as update:
                rows, note = platform.score_entities(lake_dir(lake), day, keys, update)
        elif dataset == "chicago":
            rows, note = scoring.chicago(shared / "chicago_food_inspections", day, keys)
        elif dataset == "ccf":
            rows, note = scoring.ccf(shared / "ccf2020_enterprise_risk", day, keys)
        else:
            rows, note = scoring.table(Path(dataset), day, keys, key=key or "key", label=label, date=date)
    except (OSError, ValueError) as exc:
        fail(str(exc))
    except Exception as exc:  # a RiskError from the platform
        if type(exc).__name__ != "RiskError":
            raise
        fail(str(exc))
    with out_file.open("w", newline="", encoding="utf-8-sig") as f:
        from shijian.risk.labels import score_note
        from shijian.web.tabular import write_csv

        fields = ["key", "probability", "class", "top_factors", "note"]
        shown = ({**r, "note": score_note(r.get("note", ""))} for r in rows)
        write_csv(f, fields, ([r.get(k, "") for k in fields] for r in shown))
    scored = sum(1 for r in rows if r["probability"] != "")
    out.print(f"{scored:,} of {len(rows):,} scored as of {day} ({note}); written to {out_file}")


def _read_keys(path: Path, column: str) -> list[str]:
    import csv

    if not path.exists():
        raise ValueError(f"{path}: no such file")
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            return []
        idx = header.index(column) if column and column in header else 0
        if column and column not in header:
            raise ValueError(f"{path.name}: no column {column!r} (columns: {', '.join(header)})")
        return [row[idx].strip() for row in reader if len(row) > idx and row[idx].strip()]


@app.command("uplift")
def risk_uplift(
    since: Annotated[str, typer.Option(help="visits checked on or after this date")] = "",
) -> None:
    """Findings in the purely random share vs the targeted share, and the model judged on the random share alone."""
    import datetime as dt

    django_setup()
    from shijian.risk import platform

    out.print_json(json.dumps(platform.uplift(dt.date.fromisoformat(since) if since else None)))


@app.command("versions")
def risk_versions() -> None:
    """Model versions: kind, data date, backtest AUC, status and the promotion decision."""
    django_setup()
    from shijian.risk.models import ModelVersion

    view = Table("version", "model", "data before", "AUC", "status", "decision")
    for v in ModelVersion.objects.order_by("-id")[:30]:
        auc = v.metrics.get("backtest", {}).get("mean", {}).get(v.kind, {}).get("auc")
        view.add_row(f"v{v.pk}", v.kind, str(v.as_of), f"{auc:.4f}" if auc else "", v.status, v.decision)
    out.print(view)


@app.command("factors")
def risk_factors(
    markdown: Annotated[bool, typer.Option("--markdown", help="print the catalogue as Markdown")] = False,
) -> None:
    """The factor catalogue: every factor the platform's model can use, and how it is computed."""
    django_setup()
    from shijian.risk import factors

    if markdown:
        out.print(factors.catalogue_markdown(), markup=False, highlight=False, soft_wrap=True)
        return
    view = Table("factor", "中文", "group", "how")
    for f in factors.CATALOGUE:
        view.add_row(f.name, f.zh, f.group, f.describe)
    out.print(view)
