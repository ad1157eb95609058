"""Every role, every page of its navigation: no link on it answers 403, 404 or 500 (Django's test client)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from shijian.web.context import NAV
from tests.conftest import World

HREF = re.compile(r'href="(/[^"#]*)')
SKIP = ("/static/", "/i18n/", "/logout/", "/public/", "/media/")


def _links(body: str) -> set[str]:
    return {h.replace("&amp;", "&") for h in HREF.findall(body) if not h.startswith(SKIP)}


def _pages(client: Any, user: Any) -> list[str]:
    from shijian.core.permissions import allowed

    return ["/"] + [reverse(url) for kind, url, _label in NAV if allowed(user, kind, "view")]


@pytest.mark.parametrize("who", ["leader", "admin", "samr", "hecheng", "inspector", "auditor", "yanghe_admin"])
def test_no_page_links_to_a_page_the_user_cannot_open(world: World, who: str) -> None:
    c = world.client(who)
    seen: dict[str, int] = {}
    broken = []
    for page in _pages(c, world.users[who]):
        r = c.get(page, follow=True)
        assert r.status_code == 200, (who, page, r.status_code)
        for link in sorted(_links(r.content.decode())):
            if link not in seen:
                seen[link] = c.get(link).status_code
            if seen[link] >= 400:
                broken.append((page, link, seen[link]))
    assert not broken, broken
