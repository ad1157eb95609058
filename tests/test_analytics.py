"""统计分析: dashboard figures per scope checked by hand, drill-down, jurisdiction, Excel export, forecasts."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.urls import reverse
from pytest_django import Settings

from shijian.analytics import forecast as fc
from shijian.analytics import snapshot
from shijian.analytics.snapshot import Scope
from shijian.supervision.models import Visit
from tests import draws
from tests.conftest import World


def _checked_visits(world: World, settings: Settings, tmp_path: Path) -> list[Visit]:
    """Two visits of a purely random batch drawn and checked: one with a finding, one without."""
    from shijian.supervision.models import VisitItem
    from tests.test_hazards import food_batch

    settings.HOME = tmp_path
    batch = food_batch(world, count=2)
    draw = draws.freeze([batch], world.users["samr"], "x")
    assert draws.perform(draw, world.users["samr"], "z").ok
    visits = list(Visit.objects.order_by("pk"))
    Visit.objects.filter(pk=visits[0].pk).update(checked_on=dt.date(2026, 3, 2), status="done")
    VisitItem.objects.filter(visit=visits[0]).update(outcome="corrected")
    Visit.objects.filter(pk=visits[1].pk).update(checked_on=dt.date(2026, 3, 5), status="done")
    VisitItem.objects.filter(visit=visits[1]).update(outcome="no_problem")
    return visits


def test_district_and_town_figures_are_counted_as_by_hand(world: World, settings: Settings, tmp_path: Path) -> None:
    from shijian.hazards import services as hz
    from shijian.registry.models import Entity

    Entity.objects.filter(pk=world.entities["yanghe"].pk).update(risk_class="D", established_on=dt.date(2026, 2, 3))
    _checked_visits(world, settings, tmp_path)
    hz.open_entry(
        world.entities["hecheng"],
        source="manual",
        title="无证经营",
        department=world.depts["hecheng"],
        scores={"severity": 10, "extent": 5, "confidence": 5},
        user=world.users["hecheng"],
        deadline=dt.date(2026, 3, 1),
        now=dt.datetime(2026, 2, 1, tzinfo=dt.UTC),
    )
    today = dt.date(2026, 3, 20)
    d = snapshot.compute(Scope("district", "440608"), today)
    assert d["entities"]["total"] == 2  # the other district's entity is not counted
    assert dict((c, n) for c, n in d["entities"]["by_class"]) == {"A": 0, "B": 1, "C": 0, "D": 1}
    assert [r for r in d["entities"]["new_by_month"] if r[1]] == [["2026-02", 1]]
    assert (d["inspections"]["planned"], d["inspections"]["done"], d["inspections"]["published"]) == (2, 2, 0)
    assert [r for r in d["inspections"]["by_month"] if r[1]] == [["2026-03", 2, 0]]
    random_share = d["findings"]["random"]
    assert (random_share["n"], random_share["found"], random_share["rate"]) == (2, 1, 0.5)
    assert 0.09 < random_share["low"] < 0.1 and 0.9 < random_share["high"] < 0.91  # Wilson 95%: 0.095–0.905
    assert d["findings"]["targeted"]["n"] == 0
    assert (d["hazards"]["open"], d["hazards"]["overdue"]) == (1, 1)
    assert [r[:5] for r in d["hazards"]["by_group"]] == [["440608004", "荷城街道", 1, 1, 0]]
    assert d["workload"]["assignments"] == 4 and d["workload"]["max"] == 2  # 2 visits, 2 officers each
    town = snapshot.compute(Scope("town", "440608106"), today)
    assert town["entities"]["total"] == 1 and town["hazards"]["open"] == 0
    assert "by_town" not in town["entities"] and town["scope"]["drill"] == {"town": "440608106"}


def test_refresh_stores_every_scope_and_pages_read_the_stored_figures(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    from shijian.analytics.models import Snapshot

    settings.SHIJIAN_LAKE = tmp_path / "lake"
    n = snapshot.refresh_all(settings.SHIJIAN_LAKE, today=dt.date(2026, 3, 20))
    keys = set(Snapshot.objects.values_list("scope", flat=True))
    assert {"district:440608", "district:440604", "town:440608004", "town:440608106"} <= keys and n == len(keys)
    Snapshot.objects.filter(scope="district:440608").update(
        data={
            **Snapshot.objects.get(scope="district:440608").data,
            "entities": {**Snapshot.objects.get(scope="district:440608").data["entities"], "total": 4242},
        }
    )
    page = world.client("leader").get(reverse("analytics")).content.decode()
    import re

    assert re.search(r"<b>4,?242</b>", page), page[page.find("kpis") : page.find("kpis") + 400]  # stored, not recounted


def test_dashboard_drills_down_exports_and_respects_jurisdiction(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    settings.SHIJIAN_LAKE = tmp_path / "lake"
    _checked_visits(world, settings, tmp_path)
    leader = world.client("leader")
    r = leader.get(reverse("analytics"))
    assert r.status_code == 200
    page = r.content.decode()
    assert 'id="chart-classes-spec"' in page and "echarts-6.1.0.min.js" in page and "cdn" not in page.lower()
    assert f"{reverse('entity_list')}?risk=B" in page  # a class's count opens the entities of that class
    assert f"{reverse('analytics')}?town=440608004" in page  # a town's row opens the town's dashboard
    # department staff see their department's figures only; a town's leader-level user sees the town
    hecheng = world.client("hecheng")
    assert "荷城市场监督管理所" in hecheng.get(reverse("analytics")).content.decode()
    assert hecheng.get(reverse("analytics") + "?town=440608004").status_code == 403
    assert hecheng.get(reverse("analytics") + "?district=440608").status_code == 403
    assert hecheng.get(reverse("analytics") + f"?department={world.depts['yanghe'].pk}").status_code == 403
    town_admin = world.client("hecheng_admin")
    assert "荷城街道" in town_admin.get(reverse("analytics")).content.decode()
    assert town_admin.get(reverse("analytics") + "?town=440608106").status_code == 403
    assert town_admin.get(reverse("analytics") + "?district=440608").status_code == 403
    assert world.client("outsider").get(reverse("analytics") + "?town=440608004").status_code == 403
    assert world.client("inspector").get(reverse("analytics")).status_code == 403
    assert leader.get(reverse("analytics") + "?town=12").status_code == 404
    # Excel: every table of the page, one sheet each, same figures
    x = leader.get(reverse("analytics") + "?format=xlsx")
    assert x.status_code == 200 and x["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(x.content))
    assert len(wb.sheetnames) >= 9
    sheet = next(ws for ws in wb.worksheets if ws.title.startswith("问题发现率：定向"))
    rows = {r[0]: r[1:] for r in sheet.iter_rows(values_only=True)}
    assert rows["纯随机抽取"][:3] == (2, 1, "50.0%")  # zh-hans by default


@pytest.fixture
def seasonal() -> list[list[Any]]:
    rng = np.random.default_rng(7)
    months = [f"{2023 + i // 12}-{i % 12 + 1:02d}" for i in range(37)]
    return [[m, int(200 + 3 * i + 40 * np.sin(2 * np.pi * i / 12) + rng.normal(0, 6))] for i, m in enumerate(months)]


def test_forecast_has_ordered_intervals_and_beats_last_years_month_on_a_seasonal_trend(
    seasonal: list[list[Any]],
) -> None:
    f = fc.forecast(seasonal, horizon=6)
    assert f.method == "ETS(A,Ad,A)" and len(f.points) == 6
    assert f.history[-1][0] == "2025-12" and f.points[0].month == "2026-01"  # the month still filling is left out
    for p in f.points:
        assert p.lo95 <= p.lo80 <= p.mean <= p.hi80 <= p.hi95
    b = f.backtest
    assert b.folds == 4 and b.horizon == 3 and b.mae is not None and b.naive_mae is not None
    assert b.mae < b.naive_mae  # a trend the seasonal naive forecast misses
    assert b.coverage80 is not None and 0 <= b.coverage80 <= 1


def test_a_short_series_gets_a_message_not_a_forecast() -> None:
    f = fc.forecast([["2026-01", 3], ["2026-02", 4], ["2026-03", 1]])
    assert f.message == "too_short" and f.points == []
    assert fc.next_months("2025-11", 3) == ["2025-12", "2026-01", "2026-02"]


def test_forecast_page_shows_the_forecast_and_its_backtest(
    world: World, settings: Settings, tmp_path: Path, seasonal: list[list[Any]]
) -> None:
    from django.utils import timezone

    from shijian.analytics.models import Snapshot

    settings.SHIJIAN_LAKE = tmp_path / "lake"
    data = snapshot.compute(Scope("district", "440608"), dt.date(2026, 1, 10))
    data["series"]["complaints"] = seasonal
    Snapshot.objects.create(scope="district:440608", data=data, computed_at=timezone.now())
    page = world.client("leader").get(reverse("forecast") + "?series=complaints").content.decode()
    assert 'id="backtest"' in page and "2026-01" in page and "chart-forecast-spec" in page
    short = world.client("leader").get(reverse("forecast") + "?series=registrations").content.decode()
    assert 'id="too-short"' in short
    assert world.client("leader").get(reverse("forecast") + "?series=x").status_code == 404


def test_scopes_are_checked_and_a_new_scope_is_computed_without_scanning_the_lake(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from shijian.cli import app

    for bad in ("department:abc", "department:99999", "town:12", "district:4406", "region:440608"):
        with pytest.raises(ValueError, match="unknown scope"):
            Scope.parse(bad)
        result = CliRunner().invoke(app, ["analytics", "forecast", "--scope", bad])
        assert result.exit_code == 2 and "unknown scope" in result.output and "Traceback" not in result.output
    assert Scope.parse(f"department:{world.depts['samr'].pk}").kind == "department"
    settings.SHIJIAN_LAKE = tmp_path / "lake"
    data, _at = snapshot.get(Scope("town", "440608004"), settings.SHIJIAN_LAKE)
    assert data["lake_pending"] is True and data["series"]["complaints"] == []
    page = world.client("leader").get(reverse("analytics") + "?town=440608004").content.decode()
    assert 'id="lake-pending"' in page


def test_refresh_fits_every_scopes_forecasts_so_the_pages_do_not(
    world: World, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shijian.analytics.models import StoredForecast
    from shijian.registry.models import Entity

    Entity.objects.filter(pk=world.entities["hecheng"].pk).update(established_on=dt.date(2026, 1, 5))
    settings.SHIJIAN_LAKE = tmp_path / "lake"
    fits: list[int] = []
    real_job = fc.fit_job

    def counted(h: list[list[Any]]) -> tuple[dict[str, Any], float]:
        fits.append(1)
        return real_job(h)

    monkeypatch.setattr(fc, "fit_job", counted)
    snapshot.refresh_all(settings.SHIJIAN_LAKE, today=dt.date(2026, 3, 20))
    monkeypatch.setattr(fc, "fit_job", real_job)
    scopes = snapshot.all_scopes()
    from shijian.analytics.models import Snapshot

    data = {s.scope: s.data for s in Snapshot.objects.all()}
    inputs = [str(snapshot.history(data[f.scope], f.series, f.section)) for f in StoredForecast.objects.all()]
    assert StoredForecast.objects.filter(section="").count() == 3 * len(scopes)
    assert len(fits) == len(set(inputs)) < len(inputs)  # identical series are fitted once
    # the next refresh refits only the series whose data changed: none, then those of one town's new entity
    refits: list[list[Any]] = []

    def refitted(h: list[list[Any]]) -> tuple[dict[str, Any], float]:
        refits.append(h)
        return real_job(h)

    monkeypatch.setattr(fc, "fit_job", refitted)
    snapshot.refresh_all(settings.SHIJIAN_LAKE, today=dt.date(2026, 3, 20))
    assert refits == [] and StoredForecast.objects.filter(section="").count() == 3 * len(scopes)
    kept = {(f.scope, f.series, f.section): f.data for f in StoredForecast.objects.all()}
    Entity.objects.filter(pk=world.entities["hecheng"].pk).update(established_on=dt.date(2026, 2, 9))
    snapshot.refresh_all(settings.SHIJIAN_LAKE, today=dt.date(2026, 3, 20))
    monkeypatch.setattr(fc, "fit_job", real_job)
    data = {s.scope: s.data for s in Snapshot.objects.all()}
    changed = {
        (f.scope, f.series, f.section)
        for f in StoredForecast.objects.all()
        if str(snapshot.history(data[f.scope], f.series, f.section)) not in inputs
    }
    assert changed and {k[1] for k in changed} == {"registrations"}  # the founding month moved
    assert 0 < len(refits) == len({str(h) for h in refits}) <= len(changed)
    assert all(str(h) not in inputs for h in refits)  # nothing unchanged was refitted
    for f in StoredForecast.objects.all():  # the rest kept their earlier forecasts
        if (f.scope, f.series, f.section) not in changed:
            assert f.data == kept[(f.scope, f.series, f.section)]
    sections = {s for s in StoredForecast.objects.exclude(section="").values_list("scope", "section")}
    assert sections and {scope for scope, _s in sections} <= {s.key for s in scopes if s.kind == "district"}
    calls: list[int] = []
    real = fc.forecast

    def called(*a: Any, **k: Any) -> fc.Forecast:
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(fc, "forecast", called)
    for query in ("", "&town=440608004", f"&department={world.depts['samr'].pk}", "&section=H"):
        assert world.client("leader").get(reverse("forecast") + "?series=complaints" + query).status_code == 200
    assert calls == []  # served from what the refresh fitted
    world.client("leader").get(reverse("forecast") + "?series=complaints&town=440608004&section=H")
    assert calls == [1]  # a town's industry forecast is fitted on its first view, then kept
    world.client("leader").get(reverse("forecast") + "?series=complaints&town=440608004&section=H")
    assert calls == [1]


def test_the_monthly_report_is_a_pdf_with_the_months_figures_and_charts(
    world: World, settings: Settings, tmp_path: Path, seasonal: list[list[Any]]
) -> None:
    import pypdf
    from django.utils import timezone

    from shijian.analytics import report
    from shijian.analytics.models import Snapshot

    settings.SHIJIAN_LAKE = tmp_path / "lake"
    data = snapshot.compute(Scope("district", "440608"), dt.date(2026, 1, 10))
    data["series"]["complaints"] = seasonal  # ... 2025-11: 4th value from the end
    Snapshot.objects.create(scope="district:440608", data=data, computed_at=timezone.now())
    client = world.client("leader")
    client.cookies["django_language"] = "en"
    r = client.get(reverse("analytics_report") + "?month=2025-11")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    pdf = pypdf.PdfReader(io.BytesIO(r.content))
    text = "".join(p.extract_text() for p in pdf.pages)
    got = dict(seasonal)
    lines = [line.strip() for line in text.splitlines()]
    at = lines.index("Complaints (12315 and departments)")
    # this month, the month before, change, a year before, change
    now, before, year = int(got["2025-11"]), int(got["2025-10"]), int(got["2024-11"])
    assert lines[at + 1 : at + 6] == [
        f"{now:,}",
        f"{before:,}",
        f"{(now - before) / before * 100:+.1f}%",
        f"{year:,}",
        f"{(now - year) / year * 100:+.1f}%",
    ]
    assert "Forecasts" in text and "Findings rate" in text
    # The charts are vector drawings on the page: many path operations beyond the tables' grid.
    content = b""
    for page in pdf.pages:
        stream = page.get_contents()
        assert stream is not None
        content += stream.get_data()
    assert content.count(b" l") > 200
    from tests.browser import ARTIFACTS

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "monthly-report-en.pdf").write_bytes(r.content)
    # A month the figures do not cover gets a message on the dashboard, not a traceback.
    r = client.get(reverse("analytics_report") + "?month=2019-01", follow=True)
    assert r.status_code == 200 and "No report for 2019-01" in r.content.decode()
    assert report.check_month(data, "") == "2025-12"  # default: the last complete month
    # Chinese by default (the standard font STSong-Light), and department staff only their own department.
    zh = world.client("leader").get(reverse("analytics_report")).content
    assert b"STSong-Light" in zh
    assert world.client("samr").get(reverse("analytics_report") + "?district=440608").status_code == 403


def test_the_report_command_writes_the_pdf_or_says_why_not(world: World, settings: Settings, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from shijian.cli import app

    settings.SHIJIAN_LAKE = tmp_path / "lake"
    out = tmp_path / "r.pdf"
    result = CliRunner().invoke(app, ["analytics", "report", "--out", str(out)])  # the home district, 440608
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:5] == b"%PDF-"
    bad = CliRunner().invoke(app, ["analytics", "report", "--scope", "district:440608", "--month", "2026-13"])
    assert bad.exit_code == 2 and "2026-13" in bad.output and "Traceback" not in bad.output
