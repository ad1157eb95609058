"""The walk: every role, every page of its navigation, on a desk (1280 px) and on a phone (390 px).

Fails on a page wider than the screen, a console error, or visible English words in the zh-hans UI (codes and a
few names excepted). Links answering 400 or more are the Django-client walk's job (test_walk_links.py).
Screenshots go to test-artifacts/walk/.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser import ARTIFACTS, in_browser, login

pytestmark = in_browser

# Words that stay as they are in a Chinese UI: standards, formats, model names, units.
ALLOWED = {"AUC", "PDF", "Excel", "ETS", "SHA", "JPEG", "PNG", "CSV", "JSON", "GB", "ID", "MAE", "MAPE", "URL", "API"}
WORD = re.compile(r"(?<![A-Za-z0-9_.\-/])[A-Za-z]{3,}(?![A-Za-z0-9_\-/])")
SIZES = {"desk": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def _english(text: str) -> list[str]:
    return sorted({w for w in WORD.findall(text) if w not in ALLOWED and not w.isupper()})


@pytest.mark.parametrize("who", ["leader", "samr", "inspector", "auditor", "admin"])
def test_every_page_of_every_role_fits_and_speaks_chinese(
    live_db: None, world: Any, live_server: Any, browser_page: Any, who: str
) -> None:
    from django.urls import reverse

    from shijian.core.permissions import allowed
    from shijian.web.context import NAV

    page, base = browser_page, live_server.url
    login(page, base, who)
    user = world.users[who]
    paths = ["/?overview=1"] + [reverse(url) for kind, url, _l in NAV if allowed(user, kind, "view")]
    from shijian.accounts.models import User

    usernames = sorted(User.objects.values_list("username", flat=True), key=len, reverse=True)
    problems: list[str] = []
    (ARTIFACTS / "walk").mkdir(parents=True, exist_ok=True)
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        for path in paths:
            page.errors.clear()
            page.goto(base + path)
            page.wait_for_load_state("load")
            wide = int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))
            if wide > 0:
                problems.append(f"{size} {path}: {wide} px wider than the screen")
            for e in page.errors:
                problems.append(f"{size} {path}: console error {e}")
            body = page.inner_text("body")
            for name in usernames:  # account names are names, not English text (the user screen lists them)
                body = body.replace(name, "")
            words = _english(body)
            if words:
                problems.append(f"{size} {path}: English {words[:12]}")
            name = path.strip("/").replace("/", "-").replace("?", "-") or "home"
            page.screenshot(path=str(ARTIFACTS / "walk" / f"{who}-{size}-{name}.png"), full_page=True)
    assert not problems, "\n".join(problems)
