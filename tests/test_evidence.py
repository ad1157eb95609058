"""Evidence from a phone: the photo keeps the time and (when allowed) the place the device reported."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pytest_django import Settings

from tests.conftest import World
from tests.test_browser_phone import _a_visit

JPEG = b"\xff\xd8\xff\xe0" + b"0" * 64


def test_a_photo_keeps_its_time_and_place_and_shows_as_a_thumbnail(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    visit = _a_visit(world)
    c = world.client("inspector")
    page = c.get(reverse("visit_detail", args=[visit.pk])).content.decode()
    assert 'accept="image/*"' in page and 'capture="environment"' in page and "shijian/evidence.js" in page
    photo = SimpleUploadedFile("后厨.jpg", JPEG, content_type="image/jpeg")
    data = {"file": photo, "taken_at": "2026-12-05T02:15:00Z", "latitude": "22.893512", "longitude": "112.881204",
            "accuracy_m": "12"}  # fmt: skip
    c.post(reverse("attachment_add", args=[visit.pk]), data)
    att = visit.attachments.get()
    assert att.latitude == Decimal("22.893512") and att.longitude == Decimal("112.881204") and att.accuracy_m == 12
    assert att.taken_at is not None and att.taken_at.isoformat().startswith("2026-12-05T02:15")
    page = c.get(reverse("visit_detail", args=[visit.pk])).content.decode()
    assert 'class="thumb"' in page and "2026-12-05 10:15" in page and "22.893512, 112.881204" in page


def test_without_a_place_the_upload_still_works_and_a_future_time_is_not_believed(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    visit = _a_visit(world)
    photo = SimpleUploadedFile("门头.jpg", JPEG, content_type="image/jpeg")
    world.client("inspector").post(
        reverse("attachment_add", args=[visit.pk]), {"file": photo, "taken_at": "2030-01-01T00:00:00Z"}
    )
    att = visit.attachments.get()
    assert att.latitude is None and att.taken_at is not None and att.taken_at.year < 2030
