"""Screens in the zh-hans UI name things in Chinese: reminders, hazard grading, department codes."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from tests.conftest import World


def test_reminders_name_towns_and_kinds(world: World) -> None:
    from shijian.hazards.models import Reminder

    Reminder.objects.create(
        entity=world.entities["hecheng"], town_code="440608004", kind="licence_expiry", due_on=dt.date(2026, 12, 20),
        detail="食品经营许可证", refreshed_at=timezone.now(),
    )  # fmt: skip
    body = world.client("leader").get(reverse("reminder_list")).content.decode()
    assert ">荷城街道</a>" in body and "许可证" in body
    assert ">440608004</a>" not in body and ">licence_expiry<" not in body
    assert "shijian hazards remind" not in body


def test_the_hazard_page_names_the_grading_dimensions_and_categories(world: World) -> None:
    from shijian.hazards import services

    h = services.open_entry(
        world.entities["hecheng"], source="manual", title="后厨卫生不达标", department=world.depts["hecheng"],
        scores={"severity": 10, "extent": 5, "confidence": 5}, user=world.users["hecheng"], now=timezone.now(),
    )  # fmt: skip
    body = world.client("hecheng").get(reverse("hazard_detail", args=[h.pk])).content.decode()
    assert "危害程度 10/25" in body and "管理可信度 5/30" in body
    assert "severity" not in body and "<td>problem</td>" not in body
