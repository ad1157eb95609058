"""A document page as PDF (reportlab): a centred title, paragraphs and ruled tables in a Chinese font embedded in
the file, the issuing department and the date at the foot."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from shijian.core import clock

DOCUMENT_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")  # fonts-wqy-zenhei (scripts/ensure_fonts.sh)

# A block of a document: a paragraph, or a table (rows of cells; the first column of each row read as its label)
Table = list[list[str]]
Block = str | Table


def document_font() -> str:
    """A Chinese TrueType font embedded in the document: SHIJIAN_PDF_FONT if set, else WenQuanYi Zen Hei when
    installed, else the PDF reports' font (the standard STSong-Light, referenced, not embedded)."""
    from django.conf import settings
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    from shijian.analytics.report import _font

    if getattr(settings, "SHIJIAN_PDF_FONT", "") or not DOCUMENT_FONT.is_file():
        return _font()
    if "ShijianDocument" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("ShijianDocument", str(DOCUMENT_FONT), subfontIndex=0))
    return "ShijianDocument"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _table(rows: Table, font: str, width: float) -> Any:
    from reportlab.lib import colors
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph
    from reportlab.platypus import Table as PdfTable

    cell = ParagraphStyle("c", fontName=font, fontSize=10.5, leading=16)
    n = max(len(r) for r in rows)
    data = [[Paragraph(_escape(c), cell) for c in r] + [""] * (n - len(r)) for r in rows]
    first = width * (0.08 if rows[0][0] == "序号" else 0.22 if n > 2 else 0.26)
    widths = [first] + [(width - first) / (n - 1)] * (n - 1) if n > 1 else [width]
    t = PdfTable(data, colWidths=widths, repeatRows=0)
    style = [("GRID", (0, 0), (-1, -1), 0.6, colors.black), ("VALIGN", (0, 0), (-1, -1), "TOP")]
    style += [("SPAN", (len(r) - 1, i), (n - 1, i)) for i, r in enumerate(rows) if 0 < len(r) < n]
    t.setStyle(style)
    return t


def render_pdf(title: str, blocks: list[Block], issuer: str) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    font = document_font()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, title=title, author=issuer)
    head = ParagraphStyle("h", fontName=font, fontSize=18, leading=26, alignment=1, spaceAfter=14)
    body = ParagraphStyle("b", fontName=font, fontSize=11.5, leading=20, firstLineIndent=23)
    right = ParagraphStyle("r", fontName=font, fontSize=11.5, leading=20, alignment=2)
    story: list[Any] = [Paragraph(title, head)]
    for block in blocks:
        if isinstance(block, str):
            story.append(Paragraph(_escape(block), body))
        elif block:
            story += [Spacer(1, 4), _table(block, font, doc.width), Spacer(1, 8)]
    story += [Spacer(1, 36), Paragraph(issuer, right), Paragraph(f"{clock.today():%Y年%m月%d日}", right)]
    doc.build(story)
    return buf.getvalue()
