"""A leader's first sign-in on a 390 px phone: password, then the authenticator's QR code, its first code, the
recovery codes shown once, and in. No script runs on these pages (CSP: scripts from this server only)."""

from __future__ import annotations

from typing import Any

from tests.browser import ARTIFACTS, in_browser
from tests.conftest import PASSWORD

pytestmark = in_browser

PHONE = {"width": 390, "height": 844}


def test_a_leader_enrols_an_authenticator_on_a_phone(
    live_db: None, world: Any, live_server: Any, browser_page: Any
) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.otp import current_code

    page, base = browser_page, live_server.url
    page.set_viewport_size(PHONE)
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", "leader")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/otp/setup/" in url)
    qr = page.locator(".otp-qr svg")
    assert qr.is_visible()
    box = qr.bounding_box()
    assert box is not None and box["width"] >= 120 and box["x"] + box["width"] <= PHONE["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert "两步验证" in page.content()
    page.screenshot(path=str(ARTIFACTS / "otp-setup-phone.png"), full_page=True)
    device = TOTPDevice.objects.get(user=world.users["leader"], confirmed=False)
    page.fill("input[name=code]", current_code(device))
    page.click("button[type=submit]")
    codes = page.locator(".recovery-codes code")
    codes.first.wait_for()
    assert codes.count() == 10
    page.screenshot(path=str(ARTIFACTS / "otp-recovery-phone.png"), full_page=True)
    page.click("a.button.primary")
    page.wait_for_url(lambda url: "/otp/" not in url and "/login/" not in url)
    assert page.errors == []
