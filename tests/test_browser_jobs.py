"""A browser watches a running job's page: progress is polled (htmx) and the result appears when it is done;
the header badge counts unread notifications."""

from __future__ import annotations

from typing import Any

from tests.browser import ARTIFACTS, in_browser, login

pytestmark = in_browser


def test_the_job_page_follows_the_job_until_it_is_done(
    live_db: None, world: Any, live_server: Any, browser_page: Any
) -> None:
    from shijian.jobs.models import Job, Status
    from shijian.notify.services import notify

    job = Job.objects.create(kind="freeze", created_by=world.users["samr"], status=Status.RUNNING, progress=30)
    notify("job_failed", [world.users["samr"]], "一个作业失败")
    page, base = browser_page, live_server.url
    login(page, base, "samr")
    page.goto(f"{base}/jobs/{job.pk}/")
    assert page.inner_text("#unread-count") == "1"
    assert page.get_attribute("#job-progress progress", "value") == "30"
    Job.objects.filter(pk=job.pk).update(
        status=Status.SUCCEEDED, progress=100, outcome={"url": "/supervision/plans/"}, message="完成"
    )
    page.wait_for_selector("#job-result", timeout=15000)  # the next poll swaps the card in place
    page.screenshot(path=str(ARTIFACTS / "job-done.png"), full_page=True)
    assert page.get_attribute("#job-progress progress", "value") == "100"
    assert page.get_attribute("#job-progress", "hx-trigger") is None  # finished: polling stops
