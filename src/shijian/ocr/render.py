"""Synthetic 营业执照 photos for the tests and the OCR bench: a licence drawn with Pillow, then distorted like a photo.

Every random draw comes from the seeded generator passed in; the same seed gives the same bytes.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from shijian.core.codes import uscc

FONTS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
)
WIDTH, HEIGHT = 1400, 990

_PLACES = ("佛山", "广州", "顺德", "南海", "禅城", "三水", "高明", "东莞", "中山", "江门", "珠海", "肇庆")
_WORDS = "华美新兴宏达恒通鑫源盛世金利万家安康永信博雅嘉禾明辉福瑞天成锦程聚丰德润晨光宇航启航"
_TRADES = ("五金制品", "餐饮管理", "食品", "商贸", "电子科技", "建材", "服装", "家具制造", "医药连锁", "物流")
_FORMS = ("有限公司", "有限责任公司", "股份有限公司", "商行", "经营部", "餐厅")
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗梁宋郑谢韩唐冯邓曹彭曾萧田"
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英建华志强国庆"
_ROADS = ("人民路", "建设大道", "佛山大道", "季华路", "南海大道", "文华北路", "环市东路", "工业大道")
_TYPES = ("有限责任公司(自然人投资或控股)", "个体工商户", "股份有限公司(非上市)", "有限责任公司(法人独资)")


@dataclass(frozen=True, slots=True)
class LicenceSpec:
    """What a licence says: the ground truth of one rendered image."""

    uscc: str
    name: str
    legal_rep: str
    address: str
    kind: str = "有限责任公司(自然人投资或控股)"


def _pick(rng: np.random.Generator, text: str | tuple[str, ...], k: int = 1) -> str:
    return "".join(str(text[int(i)]) for i in rng.integers(0, len(text), k))


def random_uscc(rng: np.random.Generator) -> str:
    """A valid code: category 91/92/93, a Guangdong division, an 8-character organisation body."""
    prefix = ("91", "92", "93")[int(rng.integers(0, 3))]
    division = "4406" + f"{int(rng.integers(0, 100)):02d}"
    if rng.random() < 0.7:
        body = "MA" + "".join(uscc.CHARSET[int(i)] for i in rng.integers(0, 31, 6))
    else:
        body = "".join(str(int(d)) for d in rng.integers(0, 10, 8))
    return uscc.make(prefix, division, body)


def random_spec(rng: np.random.Generator) -> LicenceSpec:
    """A plausible entity: a place, a trade name of two or three characters, a trade and a legal form."""
    name = _pick(rng, _PLACES) + _pick(rng, _WORDS, int(rng.integers(2, 4)))
    name += _pick(rng, _TRADES) + _pick(rng, _FORMS)
    rep = _pick(rng, _SURNAMES) + _pick(rng, _GIVEN, int(rng.integers(1, 3)))
    address = f"广东省佛山市{_pick(rng, ('禅城区', '南海区', '顺德区', '三水区', '高明区'))}{_pick(rng, _ROADS)}"
    floor, room = int(rng.integers(1, 30)), int(rng.integers(1, 20))
    address += f"{int(rng.integers(1, 400))}号{_pick(rng, _WORDS, 2)}大厦{floor}层{room}室"
    return LicenceSpec(random_uscc(rng), name, rep, address, _pick(rng, _TYPES))


def available_fonts() -> list[Path]:
    return [f for f in FONTS if f.exists()]


def _seal(draw: ImageDraw.ImageDraw, cx: int, cy: int, font_path: Path) -> None:
    red = (200, 30, 30)
    r = 120
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=red, width=7)
    star = [
        (
            cx + 40 * math.cos(math.radians(-90 + 36 * k)) * (1 if k % 2 == 0 else 0.4),
            cy + 40 * math.sin(math.radians(-90 + 36 * k)) * (1 if k % 2 == 0 else 0.4),
        )
        for k in range(10)
    ]
    draw.polygon(star, fill=red)
    font = ImageFont.truetype(str(font_path), 22)
    for i, ch in enumerate("佛山市市场监督管理局"):
        a = math.radians(-160 + i * 140 / 9)
        draw.text((cx + 90 * math.cos(a) - 11, cy + 90 * math.sin(a) - 11), ch, fill=red, font=font)


def draw_licence(spec: LicenceSpec, font_path: Path) -> Image.Image:
    """The licence face: border, title, the code top left, two columns of spaced labels, the seal bottom right."""
    img = Image.new("RGB", (WIDTH, HEIGHT), (250, 246, 236))
    d = ImageDraw.Draw(img)
    d.rectangle((20, 20, WIDTH - 20, HEIGHT - 20), outline=(170, 120, 40), width=10)
    d.rectangle((40, 40, WIDTH - 40, HEIGHT - 40), outline=(170, 120, 40), width=3)
    title = ImageFont.truetype(str(font_path), 96)
    d.text((WIDTH // 2, 110), "营 业 执 照", fill=(30, 30, 30), font=title, anchor="mt")
    small = ImageFont.truetype(str(font_path), 28)
    body = ImageFont.truetype(str(font_path), 32)
    ink = (25, 25, 25)
    d.text((90, 90), "统一社会信用代码", fill=ink, font=small)
    d.text((90, 128), spec.uscc, fill=ink, font=body)
    d.text((WIDTH - 300, 110), "(副    本)", fill=ink, font=small)
    left = [("名        称", spec.name), ("类        型", spec.kind), ("法定代表人", spec.legal_rep),
            ("经营范围", "销售：日用百货、五金交电")]  # fmt: skip
    right = [("注册资本", "人民币伍拾万元"), ("成立日期", "2019年03月12日"), ("营业期限", "长期")]
    y = 300
    for label, value in left:
        d.text((90, y), label, fill=ink, font=body)
        d.text((300, y), value, fill=ink, font=body)
        y += 80
    y = 300
    for label, value in right:
        d.text((860, y), label, fill=ink, font=body)
        d.text((1020, y), value, fill=ink, font=body)
        y += 80
    d.text((90, 620), "住        所", fill=ink, font=body)
    d.text((300, 620), spec.address, fill=ink, font=body)
    d.text((880, 820), "登记机关", fill=ink, font=body)
    d.text((980, 900), "2023年06月01日", fill=ink, font=small)
    _seal(d, 1100, 800, font_path)
    return img


def _perspective_coeffs(src: list[tuple[float, float]], dst: list[tuple[float, float]]) -> list[float]:
    """Coefficients for ``Image.transform(PERSPECTIVE)``, which maps output points back to input points."""
    rows = []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    a = np.array(rows, dtype=float)
    b = np.array([c for p in src for c in p], dtype=float)
    return [float(c) for c in np.linalg.solve(a, b)]


def distort(img: Image.Image, rng: np.random.Generator) -> bytes:
    """A phone photo of it: perspective, rotation ±8°, a glare blob, Gaussian blur, JPEG quality 50-80."""
    w, h = img.size
    j = rng.uniform(-0.05, 0.05, 8) * np.array([w, h] * 4)
    corners = [(0.0, 0.0), (float(w), 0.0), (float(w), float(h)), (0.0, float(h))]
    moved = [(x + float(j[2 * i]), y + float(j[2 * i + 1])) for i, (x, y) in enumerate(corners)]
    bg = tuple(int(c) for c in rng.integers(90, 180, 3))
    img = img.transform((w, h), Image.Transform.PERSPECTIVE, _perspective_coeffs(corners, moved),
                        Image.Resampling.BICUBIC, fillcolor=bg)  # fmt: skip
    img = img.rotate(float(rng.uniform(-8, 8)), Image.Resampling.BICUBIC, expand=True, fillcolor=bg)
    arr = np.asarray(img, dtype=np.float32)
    gy, gx = np.mgrid[0 : arr.shape[0], 0 : arr.shape[1]]
    cx, cy = rng.uniform(0.1, 0.9) * arr.shape[1], rng.uniform(0.1, 0.9) * arr.shape[0]
    radius = rng.uniform(0.08, 0.2) * arr.shape[1]
    glare = rng.uniform(0.4, 0.8) * np.exp(-((gx - cx) ** 2 + (gy - cy) ** 2) / (2 * radius**2))
    arr = arr + (255.0 - arr) * glare[..., None]
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    img = img.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.3, 1.6))))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=int(rng.integers(50, 81)))
    return out.getvalue()


def clean_bytes(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def sample(seed: int, index: int, distorted: bool = True) -> tuple[LicenceSpec, bytes]:
    """Image ``index`` of the seeded series: its truth and its bytes (JPEG when distorted, PNG when clean)."""
    rng = np.random.default_rng([seed, index])
    spec = random_spec(rng)
    fonts = available_fonts()
    if not fonts:
        raise FileNotFoundError("no Chinese font: run scripts/ensure_fonts.sh")
    img = draw_licence(spec, fonts[int(rng.integers(0, len(fonts)))])
    return spec, (distort(img, rng) if distorted else clean_bytes(img))
