"""Read a 营业执照 photo: OCR lines (RapidOCR, offline ONNX models), then the licence layout.

The layout: 统一社会信用代码 top left with the code under or beside it; labels 名称, 法定代表人 (经营者, 负责人,
投资人), 住所 (经营场所) with the value to their right, written with or without spaces between the characters.
The value of a label is the box nearest to its right along the label's own baseline, so a rotated photo still pairs.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from shijian.core.codes import uscc
from shijian.ocr import uscc_fix

MAX_SIDE = 1000  # pixels: the longest side is brought down to this before OCR (speed; text stays legible)
UNCLIP = 2.0  # how far a detected text box is grown (RapidOCR's 1.6 clipped the code's last character at times)
LABELS: dict[str, tuple[str, ...]] = {
    "name": ("名称", "企业名称", "字号名称"),
    "legal_rep": ("法定代表人", "经营者", "负责人", "投资人", "执行事务合伙人"),
    "address": ("住所", "经营场所", "营业场所", "主要经营场所"),
}
_OTHER_LABELS = ("类型", "组成形式", "经营范围", "注册资本", "成立日期", "注册日期", "营业期限", "登记机关",
                 "统一社会信用代码")  # fmt: skip
_PUNCT = re.compile(r"[\s:：·.。,，]")


@dataclass(frozen=True, slots=True)
class Field:
    value: str = ""
    confidence: float = 0.0


@dataclass(frozen=True, slots=True)
class Line:
    text: str
    confidence: float
    box: tuple[tuple[float, float], ...]  # four corners, clockwise from the top left of the text


@dataclass(frozen=True, slots=True)
class LicenceFields:
    """What was read. ``uscc_raw`` is the code as OCR read it; ``uscc`` the corrected one when it validates."""

    uscc: Field = Field()
    uscc_raw: str = ""
    uscc_corrected: bool = False
    name: Field = Field()
    legal_rep: Field = Field()
    address: Field = Field()
    lines: tuple[Line, ...] = ()
    message: str = ""  # why fields are empty (no image, no text, not a licence)

    @property
    def found(self) -> bool:
        return bool(self.uscc.value or self.name.value)


class OcrUnavailable(RuntimeError):
    """rapidocr_onnxruntime (or OpenCV) is not installed."""


@lru_cache(maxsize=1)
def engine() -> Any:
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise OcrUnavailable(f"rapidocr_onnxruntime cannot be imported: {exc}") from exc
    return RapidOCR()


def decode(image_bytes: bytes) -> np.ndarray | None:
    """BGR pixels, the longest side at most MAX_SIDE; None when the bytes are not an image."""
    try:
        import cv2
    except ImportError as exc:  # OpenCV needs libGL (Debian's libgl1) beside its wheel
        raise OcrUnavailable(f"OpenCV cannot be imported: {exc}") from exc

    if not image_bytes:
        return None
    img = cv2.imdecode(np.frombuffer(image_bytes, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        return None
    scale = MAX_SIDE / max(img.shape[:2])
    if scale < 1:
        img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return np.asarray(img)


def ocr_lines(img: np.ndarray) -> list[Line]:
    result, _ = engine()(img, use_cls=False, unclip_ratio=UNCLIP)
    out = []
    for box, text, score in result or []:
        corners = tuple((float(x), float(y)) for x, y in box)
        out.append(Line(str(text), float(score), corners))
    return out


def _flat(text: str) -> str:
    return _PUNCT.sub("", text)


def _label_of(text: str) -> tuple[str, str, str] | None:
    """(field, label, rest of the text) when the line starts with a known label; field "" for labels we skip."""
    flat = _flat(text)
    known = [(f, lab) for f, labs in LABELS.items() for lab in labs] + [("", lab) for lab in _OTHER_LABELS]
    for f, lab in sorted(known, key=lambda k: -len(k[1])):
        if flat.startswith(lab):
            return f, lab, flat[len(lab) :]
    return None


def _geometry(line: Line) -> tuple[np.ndarray, np.ndarray, float]:
    """(right-middle point, unit baseline direction, text height)."""
    p = np.array(line.box)
    direction = p[1] - p[0]
    norm = float(np.linalg.norm(direction)) or 1.0
    height = float(np.linalg.norm(p[3] - p[0])) or 1.0
    return (p[1] + p[2]) / 2, direction / norm, height


def _value_right_of(label: Line, lines: list[Line]) -> Line | None:
    """The nearest line whose left-middle lies to the right of the label on its baseline."""
    anchor, direction, height = _geometry(label)
    normal = np.array([-direction[1], direction[0]])
    best: tuple[float, Line] | None = None
    for other in lines:
        if other is label:
            continue
        p = np.array(other.box)
        left_mid = (p[0] + p[3]) / 2
        d = left_mid - anchor
        along, across = float(d @ direction), abs(float(d @ normal))
        if -height < along < 12 * height and across < 0.8 * height and (best is None or along < best[0]):
            best = (along, other)
    return None if best is None else best[1]


def _read_uscc(lines: list[Line]) -> tuple[Field, str, bool]:
    """(code field, raw reading, corrected?): prefer a reading that validates as read, then one corrected."""
    raws: list[tuple[str, float]] = [(c, ln.confidence) for ln in lines for c in uscc_fix.candidates(ln.text)]
    for raw, conf in raws:
        if uscc.is_valid(raw):
            return Field(raw, conf), raw, False
    for raw, conf in raws:
        fixed = uscc_fix.correct(raw)
        if fixed is not None:
            return Field(fixed, conf * 0.9), raw, True
    return Field(), (raws[0][0] if raws else ""), False


def _all_labels() -> list[str]:
    return [lab for labs in LABELS.values() for lab in labs] + list(_OTHER_LABELS)


def merge_spaced_labels(lines: list[Line]) -> list[Line]:
    """Join 名 + 称, 住 + 所: a label printed with wide spaces comes back as one box per character."""
    labels = _all_labels()
    out = list(lines)
    changed = True
    while changed:
        changed = False
        for line in out:
            head = _flat(line.text)
            if not head or len(head) >= 5 or not any(lab.startswith(head) and lab != head for lab in labels):
                continue
            nxt = _value_right_of(line, out)
            if nxt is None:
                continue
            joined = head + _flat(nxt.text)
            if any(lab.startswith(joined) or joined.startswith(lab) for lab in labels):
                box = (line.box[0], nxt.box[1], nxt.box[2], line.box[3])
                merged = Line(line.text + nxt.text, min(line.confidence, nxt.confidence), box)
                out = [merged if ln is line else ln for ln in out if ln is not nxt]
                changed = True
                break
    return out


def parse(lines: list[Line]) -> LicenceFields:
    """The fields from OCR lines (pure: the tests feed it lines directly)."""
    code, raw, corrected = _read_uscc(lines)
    lines = merge_spaced_labels(lines)
    values: dict[str, Field] = {}
    for line in lines:
        hit = _label_of(line.text)
        if hit is None or not hit[0] or hit[0] in values:
            continue
        f, _, rest = hit
        if rest and _label_of(rest) is None:
            values[f] = Field(rest, line.confidence)
            continue
        value = _value_right_of(line, lines)
        if value is not None and _label_of(value.text) is None:
            values[f] = Field(_flat(value.text) if f != "address" else value.text.strip(), value.confidence)
    fields = LicenceFields(
        uscc=code,
        uscc_raw=raw,
        uscc_corrected=corrected,
        name=values.get("name", Field()),
        legal_rep=values.get("legal_rep", Field()),
        address=values.get("address", Field()),
        lines=tuple(lines),
    )
    if not fields.found:
        return LicenceFields(lines=tuple(lines), uscc_raw=raw, message="no_licence" if lines else "no_text")
    return fields


def read_licence(image_bytes: bytes) -> LicenceFields:
    """Read a licence photo (JPEG, PNG, ...). Never raises on a bad or blank image: ``message`` says why."""
    img = decode(image_bytes)
    if img is None:
        return LicenceFields(message="not_an_image")
    return parse(ocr_lines(img))


def angle_of(line: Line) -> float:
    """The baseline angle in degrees (for debugging rotated photos)."""
    (x0, y0), (x1, y1) = line.box[0], line.box[1]
    return math.degrees(math.atan2(y1 - y0, x1 - x0))


__all__ = ["Field", "LicenceFields", "Line", "OcrUnavailable", "parse", "read_licence"]
