"""Content-Security-Policy without inline scripts; no caching of pages and exports with personal data."""

from __future__ import annotations

import re
from pathlib import Path

from django.urls import reverse

from tests.conftest import World

TEMPLATES = Path(__file__).resolve().parent.parent / "src" / "shijian"


def test_every_page_has_a_content_security_policy(world: World) -> None:
    for c in (world.client("anonymous"), world.client("leader")):
        r = c.get(reverse("home"), follow=True)
        policy = r["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
        assert "frame-ancestors 'none'" in policy


def test_no_template_runs_an_inline_script() -> None:
    """The policy allows scripts from files only: an inline <script> or on...= handler would not run."""
    bad = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag:
                bad.append((path.name, tag))
        bad += [(path.name, m) for m in re.findall(r"\son[a-z]+\s*=", text)]
    assert bad == []


def test_pages_and_exports_with_personal_data_are_not_cached(world: World) -> None:
    c = world.client("leader")
    for url in (
        reverse("entity_detail", args=[world.entities["hecheng"].pk]),
        reverse("entity_list"),
        reverse("entity_export"),
        reverse("hazard_export"),
    ):
        r = c.get(url)
        assert r.status_code == 200, url
        assert r["Cache-Control"] == "no-store", url
