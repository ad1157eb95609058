"""Shared by the browser tests: Playwright on Debian's Chromium (``make test`` installs it when missing; without it
the tests skip with the reason). Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("SHIJIAN_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("SHIJIAN_TEST_ARTIFACTS", "test-artifacts"))

needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM} (make test installs Debian's chromium as root)"
)
# What a browser adds to a page (layout on a phone, scripts, offline assets, Chinese text) is the same on every
# engine, and the pages' queries run on both engines through the test client (test_jurisdiction_urls,
# test_query_params and each domain's view tests): when `make test` runs both, these browser tests run once, on
# the production engine. A browser test that posts forms no other test posts (the draw's commit-reveal, the case
# steps) keeps ``needs_chromium`` alone and runs on both.
in_browser = [
    needs_chromium,
    pytest.mark.one_engine(
        "postgresql", reason="a browser's view of a page does not depend on the engine; its queries run on both"
    ),
]


@pytest.fixture
def browser_page(monkeypatch: Any) -> Any:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.errors = errors  # type: ignore[attr-defined]
        yield page
        browser.close()


def login(page: Any, base: str, username: str) -> None:
    from tests.conftest import PASSWORD

    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: url.startswith(base) and "/login/" not in url)  # each role has its start page
    if "/otp/" in page.url:  # leaders and administrators: the code from their authenticator (tests/otp.py)
        from shijian.accounts.models import User
        from tests.otp import authenticator, current_code

        code = current_code(authenticator(User.objects.get(username=username)))
        if "/otp/setup/" in page.url:  # none was enrolled before this sign-in: its page shows a new key
            page.reload()
        page.fill("input[name=code]", code)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: url.startswith(base) and "/otp/" not in url)
