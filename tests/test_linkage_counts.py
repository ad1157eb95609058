"""Linkage review and the operations centre count the same thing the same way; print pages have their icon."""

from __future__ import annotations

import json
from pathlib import Path

from django.urls import reverse
from django.utils import timezone
from pytest_django import Settings

from tests.conftest import World


def test_the_review_page_and_the_operations_centre_agree(world: World, settings: Settings, tmp_path: Path) -> None:
    from shijian.lake.models import LinkReview

    settings.SHIJIAN_LAKE = tmp_path / "lake"
    (settings.SHIJIAN_LAKE / "build").mkdir(parents=True)
    report = {"records": 20000, "linked": {"uscc": 9212}, "unlinked": 10788, "entities_with_records": 3}
    (settings.SHIJIAN_LAKE / "build" / "build-report.json").write_text(json.dumps(report), encoding="utf-8")
    for i, (n, e) in enumerate(((30, "hecheng"), (8, "yanghe"), (500, "chancheng"))):
        entity = world.entities[e]
        LinkReview.objects.create(
            name_key=f"名称{i}", address_key=f"住所{i}", records=n, best_entity=entity, best_probability=0.6,
            candidates=[{"entity_id": entity.pk, "probability": 0.6}], built_at=timezone.now(),
        )  # fmt: skip
    c = world.client("leader")
    review = c.get(reverse("review_list")).content.decode()
    assert "共 2 组名称与住所，涉及 38 条记录" in review  # Chancheng's group lies outside Gaoming
    ops = c.get(reverse("operations")).content.decode()
    assert "2 组名称与住所待审核，涉及 38 条记录" in ops and "10788 条未能关联" in ops
    assert "shijian risk fit" not in ops  # no command line in the page


def test_print_pages_have_their_icon_and_fit_a_phone(world: World) -> None:
    from django.template.loader import render_to_string

    for name in ("print_notice", "print_record"):
        html = render_to_string(f"supervision/{name}.html", {"visit": None})
        assert 'rel="icon"' in html and 'name="viewport"' in html, name
