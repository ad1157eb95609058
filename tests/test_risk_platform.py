"""The risk model on the platform's own data: factors as of a date, versions and promotion, monthly class refreshes
with history, explanations on the entity page, scoring listed entities, and the uplift on the random share."""

from __future__ import annotations

import csv
import datetime as dt
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.test import Client
from django.urls import reverse
from pytest_django import Settings
from typer.testing import CliRunner

from shijian.risk import classes, drift, factors, platform, versions
from shijian.synth.generator import generate, resolve_scale
from tests import draws
from tests.conftest import World

SHARED = Path(os.environ.get("SHIJIAN_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


# -- factors, no look-ahead ---------------------------------------------------------------------------------------


def _small_sources(tmp: Path, records: list[tuple[int, str, str, str, float | None, str]]) -> factors.Sources:
    reg = pa.table(
        {
            "id": pa.array([1, 2, 3, 4], pa.int64()),
            "entity_type": ["llc", "individual", "llc", "llc"],
            "industry_code": ["6210", "5211", "6210", "6210"],
            "industry_section": ["H", "F", "H", "H"],
            "town_code": ["440608004", "440608106", "440608004", "440608004"],
            "registered_capital": pa.array([100.0, None, 50.0, 10.0], pa.float64()),
            "established_on": pa.array(
                [dt.date(2015, 1, 1), dt.date(2020, 6, 1), dt.date(2025, 3, 1), dt.date(2016, 1, 1)], pa.date32()
            ),
            "legal_rep": ["张三", "李四", "张三", "张三"],
            "address": ["人民路1号", "人民路2号", "人民路3号", "人民路 1号"],
        }
    )
    pq.write_table(reg, tmp / "register.parquet")
    cols: list[Sequence[Any]] = list(zip(*records, strict=True)) if records else [[]] * 6
    recs = pa.table(
        {
            "entity_id": pa.array(cols[0], pa.int64()),
            "source": pa.array(cols[1], pa.string()),
            "record_type": pa.array(cols[2], pa.string()),
            "event_date": pa.array([dt.date.fromisoformat(d) for d in cols[3]], pa.date32()),
            "amount": pa.array(cols[4], pa.float64()),
            "result": pa.array(cols[5], pa.string()),
        }
    )
    pq.write_table(recs, tmp / "records.parquet")
    haz = pa.table(
        {
            "entity_id": pa.array([2, 2], pa.int64()),
            "opened_on": pa.array([dt.date(2024, 5, 1), dt.date(2024, 12, 1)], pa.date32()),
            "closed_on": pa.array([dt.date(2024, 6, 1), None], pa.date32()),
        }
    )
    pq.write_table(haz, tmp / "hazards.parquet")
    return factors.Sources(tmp / "register.parquet", [str(tmp / "records.parquet")], tmp / "hazards.parquet")


BEFORE = [
    (1, "SAMR", "inspection", "2023-04-01", None, "未发现问题"),
    (1, "SAMR", "inspection", "2024-06-01", None, "发现问题已责令改正"),
    (1, "SAMR", "penalty", "2024-07-01", 2.5, "已执行"),
    (1, "TAX", "tax", "2023-05-01", None, "B"),
    (1, "TAX", "tax", "2024-05-01", None, "M"),
    (2, "12345", "complaint", "2024-11-01", None, "已办结"),
    (2, "SAMR", "abnormal", "2022-01-01", None, "未按规定公示年度报告"),
    (2, "HEALTH", "licence", "2018-01-01", None, "有效"),
    (2, "HEALTH", "licence", "2023-01-01", None, "有效"),
]
AFTER = [
    (1, "SAMR", "inspection", "2025-02-01", None, "未发现问题"),
    (1, "SAMR", "inspection", "2025-03-01", None, "发现问题待后续处理"),
    (2, "SAMR", "inspection", "2025-02-15", None, "不配合检查"),
    (2, "SAMR", "penalty", "2025-02-20", 9.0, "已执行"),
    (3, "SAMR", "inspection", "2025-06-01", None, "发现问题已责令改正"),
]
AS_OF = dt.date(2025, 1, 1)


def test_factors_use_only_what_came_before_and_the_label_only_what_came_after(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    before = factors.compute(_small_sources(a, BEFORE), AS_OF, 3)
    both = factors.compute(_small_sources(b, BEFORE + AFTER), AS_OF, 3)
    features = [c for c in before.column_names if c not in ("label", "inspected_next")]
    assert before.select(features).equals(both.select(features))  # later records change no factor
    rows = {r["entity_id"]: r for r in both.to_pylist()}
    assert set(rows) == {1, 2, 4}  # entity 3 was established after the date
    one, two = rows[1], rows[2]
    assert (one["inspections"], one["inspections_failed"], one["failed_12m"], one["fail_rate"]) == (2, 1, 1, 0.5)
    assert (one["penalties"], one["penalty_amount"], one["tax_grade"]) == (1, 2.5, "M")
    assert one["days_since_inspection"] == (AS_OF - dt.date(2024, 6, 1)).days
    # entity 4 shares entity 1's representative and (spaces aside) address, and entity 1 was penalised
    assert (rows[4]["related_rep"], rows[4]["related_address"]) == (1, 1)
    assert (one["related_rep"], one["related_address"], two["related_rep"]) == (0, 0, 0)
    assert two["inspections"] == 0 and two["fail_rate"] is None and two["days_since_inspection"] is None
    assert (two["complaints"], two["complaints_12m"], two["abnormal_listings"]) == (1, 1, 1)
    assert (two["licences_held"], two["licences_expired"]) == (1, 1)  # the 2018 licence is past five years
    assert (two["hazards"], two["hazards_12m"], two["hazards_open"]) == (2, 2, 1)
    assert (two["capital"], two["capital_missing"]) == (None, 1.0)
    # label: the FIRST inspection within three months found a problem (entity 1: no; entity 2: yes)
    assert (one["label"], one["inspected_next"]) == (False, True)
    assert (two["label"], two["inspected_next"]) == (True, True)
    later = factors.compute(_small_sources(b, BEFORE + AFTER), dt.date(2025, 3, 1), 1)
    assert {r["entity_id"]: r["label"] for r in later.to_pylist()}[1] is True
    assert factors.data_end(_small_sources(b, BEFORE + AFTER)) == dt.date(2025, 6, 2)


def test_phrases_are_plain_chinese() -> None:
    assert factors.phrase("penalties_12m", 3.0, 0.4) == "近一年行政处罚次数：3次，风险升高"
    assert factors.phrase("fail_rate", 0.25, -0.1) == "历史检查问题率：25%，风险降低"
    assert factors.phrase("days_since_inspection", float("nan"), 0.2) == "距上次检查天数：无记录，风险升高"
    assert factors.phrase("entity_type", "individual", 0.1) == "主体类型：个体工商户，风险升高"
    assert factors.phrase("industry_division", "52", 0.1) == "行业大类：零售业（52），风险升高"
    md = factors.catalogue_markdown()
    assert all(f"`{f.name}`" in md for f in factors.CATALOGUE)
    doc = Path(__file__).resolve().parents[1] / "docs" / "risk-factors.md"
    assert doc.read_text(encoding="utf-8") == md + "\n", "regenerate: shijian risk factors --markdown"


def test_the_uplift_estimate() -> None:
    rows = [(True, i < 10, i / 100) for i in range(40)] + [(False, i < 12, None) for i in range(30)]
    u = platform.estimate(rows)
    assert (u["random"]["n"], u["random"]["found"], u["random"]["rate"]) == (40, 10, 0.25)
    assert u["random"]["low"] < 0.25 < u["random"]["high"]
    assert (u["targeted"]["n"], u["targeted"]["found"], u["targeted_vs_random"]) == (30, 12, 1.6)
    # the scores are low exactly where findings were made: the model is worse than random on this share
    assert u["model_on_random"]["auc"] == 0.0 and u["model_on_random"]["top_fifth_rate"] == 0.0
    assert platform.estimate([])["random"]["rate"] is None


# -- the whole life on a small district ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("risk") / "d"
    generate(resolve_scale("2000", records=120_000, intensity=8.0), 5, out)
    return out


@pytest.fixture
def lake(district: Path, db: None, tmp_path: Path, settings: Settings) -> Path:
    from shijian.ingest.mapping import load_mappings
    from shijian.ingest.pipeline import ingest
    from shijian.lake.build import run_build
    from shijian.lake.store import Lake
    from shijian.registry.loader import load_district

    settings.HOME = tmp_path / "home"
    settings.SHIJIAN_LAKE = tmp_path / "lake"
    load_district(district, tmp_path / "report")
    store = Lake(settings.SHIJIAN_LAKE)
    ingest([district], load_mappings(), store, workers=1)
    run_build(store, threads=2, probabilistic=False)
    return store.root


def _versions_are_stored_and_promoted_only_when_better(lake: Path) -> Any:
    from shijian.risk.models import ModelVersion, VersionStatus

    first = platform.fit_version(lake, "gbm", folds=2)
    assert first.status == VersionStatus.LIVE and first.decision.startswith("first model")
    bt = first.metrics["backtest"]
    assert len(bt["folds"]) == 2 and first.metrics["live_backtest"] is None
    for fold in bt["folds"]:  # trained strictly before the evaluated window; evaluated on a 3-month window
        assert fold["until"] == factors.add_months(dt.date.fromisoformat(fold["evaluated_from"]), 3).isoformat()
        assert set(fold["models"]) == {"gbm", "past_violations"}
    assert bt["mean"]["gbm"]["auc"] > bt["mean"]["past_violations"]["auc"] > 0.5
    assert first.snapshot["entities"] == 2000 - 2 and first.snapshot["record_files"] > 0  # the register's rows
    assert first.params["objective"] == "binary" and "age_years" in first.factors
    assert Path(first.artifact).exists() and len(first.sha256) == 64
    second = platform.fit_version(lake, "scorecard", folds=2)
    new, old = (
        second.metrics["backtest"]["mean"]["scorecard"]["auc"],
        second.metrics["live_backtest"]["mean"]["gbm"]["auc"],
    )
    first.refresh_from_db()
    if new > old:
        assert (second.status, first.status) == (VersionStatus.LIVE, VersionStatus.RETIRED)
    else:
        assert (second.status, first.status) == (VersionStatus.REJECTED, VersionStatus.LIVE)
    assert ModelVersion.objects.filter(status=VersionStatus.LIVE).count() == 1
    return platform.live_version()


def _refreshes_write_classes_with_history(lake: Path, live: Any, monkeypatch: Any) -> None:
    from shijian.registry.models import Entity
    from shijian.risk.models import Assessment

    day = live.as_of + dt.timedelta(days=3)
    r1 = platform.refresh(lake, day)
    n = Entity.objects.filter(established_on__lt=day).count() + Entity.objects.filter(established_on=None).count()
    assert r1.entities == n == Assessment.objects.filter(refresh=r1).count()
    kept = {p.name for p in Path(r1.factors_file).parent.iterdir()}
    assert kept == {"scores.parquet"}  # what explanations need; the register copy is not kept per refresh
    assert sum(r1.classes.values()) == n and len([c for c, k in r1.classes.items() if k]) >= 2
    mismatched = sum(1 for a in Assessment.objects.filter(refresh=r1).select_related("entity")
                     if a.entity.risk_class != a.risk_class)  # fmt: skip
    assert mismatched == 0
    assert {a.previous_class for a in Assessment.objects.filter(refresh=r1)} == {"B"}  # everyone was B before
    probs = list(Assessment.objects.filter(refresh=r1).values_list("probability", "risk_class"))
    mean = sum(p for p, _c in probs) / len(probs)
    assert r1.cutoffs == pytest.approx([0.5 * mean, 1.5 * mean, 2.5 * mean], rel=1e-3)  # relative by default
    assert all(classes.classify([p], r1.cutoffs)[0] == c for p, c in probs)
    assert not platform.due(day) and platform.due(factors.add_months(day, 1))
    with pytest.raises(platform.RiskError, match="would use the future"):
        platform.refresh(lake, live.as_of - dt.timedelta(days=1))
    # next month: the class before is the first refresh's, the movement matrix accounts for everyone
    monkeypatch.setenv("SHIJIAN_RISK_CUTOFFS", "0.1,0.2,0.3")  # a bureau's own policy
    r2 = platform.refresh(lake, factors.add_months(day, 1))
    assert r2.cutoffs == [0.1, 0.2, 0.3]
    assert all(classes.classify([p], r2.cutoffs)[0] == c
               for p, c in Assessment.objects.filter(refresh=r2).values_list("probability", "risk_class"))  # fmt: skip
    before = dict(Assessment.objects.filter(refresh=r1).values_list("entity_id", "risk_class"))
    assert all(
        before.get(e, "B") == p
        for e, p in Assessment.objects.filter(refresh=r2).values_list("entity_id", "previous_class")
    )
    assert sum(sum(row.values()) for row in r2.movement.values()) == r2.entities
    # Drift: the first refresh has nothing to compare with; the second compares every factor and the probability.
    assert r1.drift == {}
    got = {d["factor"]: d for d in r2.drift["factors"]}
    assert r2.drift["refresh_before"] == r1.pk and "probability" in got
    assert set(got) - {"probability"} <= set(live.factors) and len(got) > 1
    assert all(d["psi"] >= 0 and d["status"] == drift.status(d["psi"]) for d in got.values())


def _the_entity_page_explains_the_class(lake: Path, world_client: Any) -> None:
    from shijian.registry.models import Entity

    e = Entity.objects.filter(risk_class="D").first() or Entity.objects.exclude(assessments=None).first()
    assert e is not None
    why = platform.explain(e.pk)
    assert platform.explain(10**9) is None  # no such entity in the refresh
    assert why is not None and why.risk_class == e.risk_class and 1 <= len(why.reasons) <= 5
    assert all("风险升高" in text or "风险降低" in text for text, _c in why.reasons)
    page = world_client.get(reverse("entity_detail", args=[e.pk])).content.decode()
    assert why.reasons[0][0] in page and f"risk-{e.risk_class}" in page
    risk = world_client.get(reverse("risk_overview")).content.decode()
    assert "模型版本" in risk and f"v{why.version}" in risk


def _listed_entities_are_scored_from_the_data_before_the_date(lake: Path, tmp_path: Path) -> None:
    from shijian.cli import app
    from shijian.registry.models import Entity

    codes = [
        c for c in Entity.objects.exclude(uscc=None).order_by("id").values_list("uscc", flat=True)[:5] if c is not None
    ]
    listed = tmp_path / "list.csv"
    listed.write_text("uscc\n" + "\n".join(codes) + "\n91440608NOTACODE00\n999999999\n", encoding="utf-8")
    out = tmp_path / "scores.csv"
    live = platform.live_version()
    early = factors.add_months(live.as_of, -6)
    result = CliRunner().invoke(app, ["risk", "score", "--as-of", early.isoformat(), "--entities", str(listed),
                                      "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "fitted on data before" in result.output  # the live model learnt from later data: not used
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert [r["key"] for r in rows] == [*codes, "91440608NOTACODE00", "999999999"]
    assert not list((platform.home() / "score").glob("*"))  # the working snapshot is removed
    # unknown keys are reported as such, and still scored (every factor missing: the base features)
    assert [r["note"] for r in rows[-2:]] == ["未知主体：按基础特征评分（各因子均缺失）"] * 2  # written in Chinese
    assert 0 < float(rows[-1]["probability"]) < 1 and rows[-1]["class"] in "ABCD"
    scored = [r for r in rows[:-2] if not r["note"]]
    assert scored and all(r["class"] in "ABCD" and "风险" in r["top_factors"] for r in scored)


def _the_card_reads_the_stored_backtest_and_refreshes(live: Any) -> None:
    from shijian.risk import card, metrics
    from shijian.risk.models import Refresh

    got = card.platform_card()
    fold = live.metrics["backtest"]["folds"][-1]
    assert got is not None and sum(r["n"] for r in got["calibration"]) == fold["test_rows"]
    assert len(got["budgets"]) == len(metrics.BUDGETS) and [r["seed"] for r in got["budgets"]].count(True) == 1
    assert all(r["model"]["budget"] == round(fold["test_rows"] * r["share"]) for r in got["budgets"])
    assert sum(sum(row) for _a, row in got["movement"]) == Refresh.objects.order_by("-id")[0].entities
    if live.kind == "scorecard":  # the screening stored with the model: kept and dropped, each dropped with why
        assert any(f["kept"] for f in got["factors"]) and all(f["reason"] for f in got["factors"] if not f["kept"])
    else:
        assert [f["factor"] for f in got["factors"]] == live.factors


def _a_tampered_model_file_is_refused(live: Any) -> None:
    versions._load.cache_clear()
    Path(live.artifact).write_bytes(Path(live.artifact).read_bytes() + b"x")
    with pytest.raises(platform.RiskError, match="does not match"):
        platform.load_model(live)
    versions._load.cache_clear()


def test_the_risk_life_on_a_small_district(
    lake: Path, tmp_path: Path, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shijian.accounts.models import User

    live = _versions_are_stored_and_promoted_only_when_better(lake)
    _refreshes_write_classes_with_history(lake, live, monkeypatch)
    User.objects.create_user("leader", password="pw-leader-2026!", role="leader", region_code="440608")
    client.login(username="leader", password="pw-leader-2026!")
    _the_entity_page_explains_the_class(lake, client)
    _listed_entities_are_scored_from_the_data_before_the_date(lake, tmp_path)
    _the_card_reads_the_stored_backtest_and_refreshes(live)
    _a_tampered_model_file_is_refused(live)


def test_without_a_model_or_a_lake_the_messages_say_what_to_do(db: None, tmp_path: Path, settings: Settings) -> None:
    settings.HOME = tmp_path
    with pytest.raises(platform.RiskError, match="shijian risk fit"):
        platform.refresh(tmp_path / "lake")
    with pytest.raises(platform.RiskError, match="shijian build"):
        platform.fit_version(tmp_path / "lake")
    assert platform.explain(1) is None


def test_the_risk_page_needs_the_right_role(world: World) -> None:
    assert world.client("inspector").get(reverse("risk_overview")).status_code == 403
    page = world.client("leader").get(reverse("risk_overview")).content.decode()
    assert "命令行" in page and "shijian risk fit" not in page  # no model yet: says who fits one, not a command


def test_uplift_reads_the_random_share_of_checked_visits(world: World, settings: Settings, tmp_path: Path) -> None:
    from shijian.risk.models import Assessment, ModelVersion, Refresh
    from shijian.supervision.models import Visit, VisitItem
    from tests.test_hazards import food_batch

    settings.HOME = tmp_path
    batch = food_batch(world, count=2)
    v = ModelVersion.objects.create(kind="gbm", as_of=dt.date(2026, 1, 1), artifact="x", sha256="0" * 64, status="live")
    r = Refresh.objects.create(model=v, as_of=dt.date(2026, 1, 1))
    for e in world.entities.values():
        Assessment.objects.create(refresh=r, entity=e, probability=0.3, risk_class="C")
    draw = draws.freeze([batch], world.users["samr"], "x")
    assert draws.perform(draw, world.users["samr"], "z").ok
    visits = list(Visit.objects.all())
    assert len(visits) == 2 and all(c.control for c in VisitItem.objects.all())  # a purely random batch
    Visit.objects.filter(pk=visits[0].pk).update(checked_on=dt.date(2026, 3, 2))
    VisitItem.objects.filter(visit=visits[0]).update(outcome="corrected")
    u = platform.uplift()
    assert (u["checked"], u["random"]["n"], u["random"]["found"], u["targeted"]["n"]) == (1, 1, 1, 0)
    assert u["random_scored"] == 1  # the assessment made before the draw is the one used
    assert platform.uplift(since=dt.date(2026, 4, 1))["checked"] == 0


@pytest.mark.skipif(not (SHARED / "chicago_food_inspections").is_dir(), reason="../shared/data not present")
def test_chicago_and_ccf_entities_are_scored_as_of_a_date(tmp_path: Path) -> None:
    from shijian.cli import app

    listed = tmp_path / "licences.csv"
    listed.write_text("License\n30790\n1475890\n999999999\nabc\n", encoding="utf-8")
    out = tmp_path / "chicago.csv"
    args = ["risk", "score", "--dataset", "chicago", "--shared", str(SHARED), "--as-of", "2014-07-01",
            "--entities", str(listed), "--out", str(out)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = {r["key"]: r for r in csv.DictReader(out.open(encoding="utf-8-sig"))}
    assert rows["30790"]["class"] in "ABCD" and 0 < float(rows["30790"]["probability"]) < 1
    assert rows["30790"]["top_factors"] and not any(
        name in rows["30790"]["top_factors"] for name in ("nearCritical", "pastCritical", "heat_")
    )  # the factors named in Chinese
    # nothing is refused: a key that is no licence number, or one in no table, gets the base features and a note
    assert rows["abc"]["note"] == "不是有效的编号：按基础特征评分（各因子均缺失）" and rows["abc"]["class"] in "ABCD"
    assert rows["999999999"]["note"] == "未知编号（任何数据表中都没有）：按基础特征评分（各因子均缺失）"
    assert "4 of 4 scored" in result.output
    # a licence never inspected before the date is described as a first record
    from shijian.risk import chicago

    first = chicago.features(SHARED / "chicago_food_inspections", [999_999_999], [dt.date(2014, 7, 1)]).to_pylist()[0]
    assert (first["firstRecord"], first["timeSinceLast"], first["known"]) == (1.0, 2.0, False)
    ids = [
        line.split(",")[0] for line in (SHARED / "ccf2020_enterprise_risk" / "labels.csv").read_text().splitlines()[1:4]
    ]
    (tmp_path / "ids.csv").write_text("id\n" + "\n".join(ids) + "\n", encoding="utf-8")
    args = ["risk", "score", "--dataset", "ccf", "--shared", str(SHARED), "--as-of", "2018-01-01",
            "--entities", str(tmp_path / "ids.csv"), "--out", str(tmp_path / "ccf.csv")]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert all(r["class"] in "ABCD" for r in csv.DictReader((tmp_path / "ccf.csv").open(encoding="utf-8-sig")))


def test_an_unset_database_gets_a_message_not_a_traceback(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "SHIJIAN_HOME": str(tmp_path), "SHIJIAN_DATABASE_URL": f"sqlite:///{tmp_path / 'new.sqlite3'}"}
    r = subprocess.run([sys.executable, "-m", "shijian.cli", "risk", "refresh"], env=env, capture_output=True,
                       text=True, timeout=120)  # fmt: skip
    assert r.returncode == 2, r.stderr
    assert "shijian migrate" in r.stderr and "Traceback" not in r.stderr


def test_drift_tells_a_shifted_factor_from_a_stable_one(tmp_path: Path) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(3)
    n = 20_000
    same = rng.normal(0, 1, n)
    before = pa.table({"age": same, "kind": ["a"] * (n // 2) + ["b"] * (n // 2), "probability": rng.random(n)})
    after = pa.table(
        {
            "age": rng.normal(0, 1, n),  # a new sample of the same population
            "kind": ["a"] * (n // 5) + ["b"] * (n - n // 5),  # the mix moved from 50/50 to 20/80
            "probability": rng.random(n) ** 2,  # scores moved down
        }
    )
    pq.write_table(before, tmp_path / "b.parquet")
    pq.write_table(after, tmp_path / "a.parquet")
    got = {
        d["factor"]: d
        for d in drift.compare(tmp_path / "b.parquet", tmp_path / "a.parquet", ["age", "kind"])["factors"]
    }
    assert got["age"]["status"] == "stable" and got["age"]["psi"] < 0.01
    expected = (0.8 - 0.5) * np.log(0.8 / 0.5) + (0.2 - 0.5) * np.log(0.2 / 0.5)  # the two levels' terms
    assert got["kind"]["status"] == "shift" and got["kind"]["psi"] == pytest.approx(expected, rel=0.01)
    assert got["probability"]["status"] in {"watch", "shift"}
