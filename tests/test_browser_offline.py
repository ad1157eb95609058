"""An inspector fills in a visit's results with no network: the form is queued on the phone, says so in Chinese,
and is sent once the network returns; sending the queue again writes nothing twice."""

from __future__ import annotations

from typing import Any

from shijian.core.models import AuditEvent
from tests.browser import ARTIFACTS, in_browser, login
from tests.test_browser_phone import PHONE, _a_visit

pytestmark = in_browser


def _recorded(visit: Any) -> int:
    return AuditEvent.objects.filter(
        object_type="supervision.visit", object_id=str(visit.pk), reason="results recorded"
    ).count()


def _until(page: Any, condition: str, seconds: float = 20) -> None:
    """Poll a condition (``wait_for_function`` evaluates a string in the page, which the CSP forbids)."""
    for _ in range(int(seconds * 10)):
        if page.evaluate(condition):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"not met in {seconds} s: {condition}")


def test_results_filled_in_offline_are_synced_once(
    live_db: None, world: Any, live_server: Any, browser_page: Any
) -> None:
    from shijian.supervision.models import ResultSubmission, VisitItem, VisitStatus

    visit = _a_visit(world)
    page, base = browser_page, live_server.url
    page.set_viewport_size(PHONE)
    login(page, base, "inspector")
    assert page.evaluate("document.querySelector('link[rel=manifest]').href").endswith("/manifest.webmanifest")
    page.goto(f"{base}/supervision/visits/{visit.pk}/")
    assert page.evaluate("navigator.serviceWorker.ready.then(r => r.active !== null)")
    page.reload()  # now controlled by the service worker, which keeps a copy of the page
    page.context.set_offline(True)
    page.reload()  # with no network the page still opens, from the service worker's copy
    page.wait_for_selector("#results-form")
    checks = list(VisitItem.objects.filter(visit=visit).order_by("pk"))
    for c in checks:
        page.select_option(f"select[name=outcome-{c.pk}]", "no_problem")
        page.fill(f"input[name=note-{c.pk}]", "离线填写")
    page.click("#results-form button[type=submit]")
    page.wait_for_selector("#sync-status:not([hidden])")
    assert "已离线保存" in page.inner_text("#sync-status")
    assert page.url.endswith(f"/supervision/visits/{visit.pk}/")  # the page stayed: nothing was sent
    queued = page.evaluate("localStorage.getItem('shijian.outbox')")
    page.screenshot(path=str(ARTIFACTS / "phone-4-offline.png"), full_page=True)
    assert ResultSubmission.objects.count() == 0 and _recorded(visit) == 0
    # the network returns: the queue is sent, the page says so and shows the stored results
    with page.expect_navigation(timeout=30000):  # sent, then the page reloads with the stored results
        page.context.set_offline(False)
    assert page.evaluate("localStorage.getItem('shijian.outbox')") == "[]"
    assert page.input_value(f"select[name=outcome-{checks[0].pk}]") == "no_problem"
    assert ResultSubmission.objects.filter(visit=visit).count() == 1 and _recorded(visit) == 1
    assert [(c.outcome, c.note) for c in VisitItem.objects.filter(visit=visit).order_by("pk")] == [
        ("no_problem", "离线填写")
    ] * len(checks)
    visit.refresh_from_db()
    assert visit.status == VisitStatus.DONE
    # a phone that lost the answer sends the same queue again: the key is known, nothing is written twice
    page.evaluate(
        "q => { localStorage.setItem('shijian.outbox', q); window.dispatchEvent(new Event('online')); }", queued
    )
    _until(page, "localStorage.getItem('shijian.outbox') === '[]'")
    assert ResultSubmission.objects.filter(visit=visit).count() == 1 and _recorded(visit) == 1
    assert not page.errors, page.errors
