"""Reading 营业执照 photos: clean and distorted renders, the code correction rule, a photo with no licence."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from shijian.core.codes import uscc
from shijian.ocr import render, uscc_fix

pytest.importorskip("rapidocr_onnxruntime", reason="rapidocr_onnxruntime is not installed (requirements/lock.txt)")
if not render.available_fonts():
    pytest.skip("no Chinese font: scripts/ensure_fonts.sh installs fonts-wqy-zenhei", allow_module_level=True)

from shijian.ocr.reader import Line, parse, read_licence
from shijian.ocr.register import match_register

CODE = uscc.make("91", "440604", "MA4UQ7XK")


def test_it_reads_a_clean_licence_exactly() -> None:
    spec, data = render.sample(7, 0, distorted=False)
    fields = read_licence(data)
    assert (fields.uscc.value, fields.name.value) == (spec.uscc, spec.name)
    assert fields.legal_rep.value == spec.legal_rep
    assert fields.address.value == spec.address
    assert not fields.uscc_corrected and fields.message == ""


def test_a_distorted_photo_still_yields_a_valid_code() -> None:
    spec, data = render.sample(1, 1)
    fields = read_licence(data)
    assert uscc.is_valid(fields.uscc.value)
    assert fields.uscc.value == spec.uscc


def _line(text: str, y: float = 0.0) -> Line:
    return Line(text, 0.99, ((0.0, y), (300.0, y), (300.0, y + 30), (0.0, y + 30)))


def test_a_confusion_is_corrected_only_when_the_check_character_then_validates() -> None:
    misread = CODE.replace("0", "O")
    assert misread != CODE
    assert uscc_fix.correct(misread) == CODE
    fields = parse([_line("统一社会信用代码"), _line(misread, 40)])
    assert fields.uscc.value == CODE and fields.uscc.confidence == pytest.approx(0.891)
    assert fields.uscc_corrected and fields.uscc_raw == misread
    wrong = CODE[:5] + ("3" if CODE[5] != "3" else "5") + CODE[6:]  # a substitution no look-alike explains
    assert uscc_fix.correct(wrong) is None
    fields = parse([_line(wrong), _line("名称佛山华美商贸有限公司", 40)])
    assert fields.uscc.value == "" and fields.uscc_raw == wrong and not fields.uscc_corrected
    assert fields.name.value == "佛山华美商贸有限公司"


def test_a_photo_with_no_licence_gives_empty_fields_and_a_reason() -> None:
    rng = np.random.default_rng(3)
    pixels = (rng.normal(128, 20, (480, 640, 3))).clip(0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG")
    fields = read_licence(out.getvalue())
    assert not fields.found and fields.message in {"no_text", "no_licence"}
    assert read_licence(b"not an image").message == "not_an_image"


@pytest.mark.django_db
def test_it_matches_the_register_by_code_then_by_name() -> None:
    from shijian.registry.models import Entity

    def entity(code: str, name: str) -> Entity:
        return Entity.objects.create(uscc=code, name=name, entity_type="llc", industry_code="6210",
                                     industry_section="H", region_code="440604004001", town_code="440604004",
                                     district_code="440604", status="active")  # fmt: skip

    by_code = entity(CODE, "佛山华美商贸有限公司")
    by_name = entity(uscc.make("91", "440604", "MA4UQ7XL"), "佛山恒通五金制品有限公司")
    fields = parse([_line(CODE), _line("名称佛山某某有限公司", 40)])
    assert match_register(fields) == (by_code, "uscc")
    fields = parse([_line("91440604MAXXXXXXXX"), _line("名称佛山恒通五金制品有限公司", 40)])
    assert match_register(fields)[0] == by_name  # no valid code read: the name (both addresses empty)
    assert match_register(parse([])) == (None, "")
