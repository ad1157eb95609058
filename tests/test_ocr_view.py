"""The 识别营业执照 endpoint: permission-checked, a photo in, the fields and the register match out as JSON."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from shijian.ocr import render

pytest.importorskip("rapidocr_onnxruntime", reason="rapidocr_onnxruntime is not installed (requirements/lock.txt)")
if not render.available_fonts():
    pytest.skip("no Chinese font: scripts/ensure_fonts.sh installs fonts-wqy-zenhei", allow_module_level=True)


def _photo(entity: Any) -> SimpleUploadedFile:
    spec = render.LicenceSpec(entity.uscc, entity.name, "张伟", "广东省佛山市高明区荷城街道沧江路1号")
    data = render.clean_bytes(render.draw_licence(spec, render.available_fonts()[0]))
    return SimpleUploadedFile("licence.png", data, content_type="image/png")


def test_it_fills_the_fields_and_names_the_registered_entity(world: Any) -> None:
    entity = world.entities["hecheng"]
    r = world.client("admin").post(reverse("licence_ocr"), {"image": _photo(entity)})
    assert r.status_code == 200
    body = r.json()
    assert (body["uscc"]["value"], body["name"]["value"]) == (entity.uscc, entity.name)
    assert body["legal_rep"]["value"] == "张伟"
    assert body["entity"] == {"id": entity.pk, "name": entity.name, "uscc": entity.uscc, "how": "uscc"}


def test_it_hides_a_match_outside_the_jurisdiction(world: Any) -> None:
    entity = world.entities["hecheng"]
    r = world.client("outsider").post(reverse("licence_ocr"), {"image": _photo(entity)})
    assert r.status_code == 200
    assert r.json()["uscc"]["value"] == entity.uscc and r.json()["entity"] is None


def test_it_refuses_a_read_only_role_and_an_anonymous_visitor(world: Any) -> None:
    url = reverse("licence_ocr")
    r = world.client("auditor").post(url, {"image": SimpleUploadedFile("x.png", b"x", content_type="image/png")})
    assert r.status_code == 403 and r.json()["error"] == "您无权识别营业执照。"
    r = world.client("anonymous").post(url, {})
    assert r.status_code == 302 and "/login" in r["Location"]


def test_a_file_that_is_not_an_image_gets_a_message(world: Any) -> None:
    r = world.client("admin").post(reverse("licence_ocr"), {"image": SimpleUploadedFile("a.txt", b"hello")})
    assert r.status_code == 200 and r.json()["message"] == "文件不是图片。" and r.json()["uscc"]["value"] == ""


def test_the_entity_form_offers_the_button(world: Any) -> None:
    r = world.client("admin").get(reverse("entity_add"))
    assert r.status_code == 200
    page = r.content.decode()
    assert "识别营业执照" in page and "shijian/licence-ocr.js" in page and reverse("licence_ocr") in page


def test_the_complaint_intake_offers_the_button_for_the_business_fields(world: Any) -> None:
    r = world.client("samr").get(reverse("complaint_add"))
    assert r.status_code == 200
    page = r.content.decode()
    assert "识别营业执照" in page and "uscc:id_entity_uscc name:id_entity_name" in page
    assert 'id="id_entity_uscc"' in page
