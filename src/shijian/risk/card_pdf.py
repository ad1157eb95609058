"""The model card (``risk/card.py``) as a PDF: reportlab, with the Chinese font of the analytics report."""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _

from shijian.analytics.report import _font
from shijian.core import clock
from shijian.risk import classes


def _calibration(font: str, rows: list[dict[str, Any]]) -> Any:
    """Reliability diagram: observed against predicted per decile, with the diagonal of perfect calibration."""
    from reportlab.graphics.charts.lineplots import LinePlot
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors

    top = max([0.05] + [max(r["predicted"], r["observed"]) for r in rows])
    d = Drawing(260, 230)
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 40, 35, 200, 180
    plot.data = [[(0.0, 0.0), (top, top)], [(r["predicted"], r["observed"]) for r in rows]]
    plot.lines[0].strokeColor = colors.grey
    plot.lines[0].strokeDashArray = [3, 2]
    plot.lines[1].strokeColor = colors.HexColor("#c0392b")
    for axis in (plot.xValueAxis, plot.yValueAxis):
        axis.valueMin, axis.valueMax = 0, top
        axis.labels.fontName, axis.labels.fontSize = font, 7
    d.add(plot)
    d.add(String(140, 5, _("predicted"), fontName=font, fontSize=8, textAnchor="middle"))
    d.add(String(5, 222, _("observed"), fontName=font, fontSize=8))
    return d


def _rows(card: dict[str, Any]) -> list[tuple[str, list[list[Any]]]]:
    """The card's tables as (heading, rows) in the order of the HTML card."""
    data = [[k, str(v)] for k, v in card["data"]]
    data += [[_("base rate (share with findings)"), f"{card['base_rate']:.4f}"]]
    data += [["AUC", "；".join(f"{n} {a}" for n, a in card["auc"].items())]]
    names = list(card["budgets"][0]["baselines"]) if card["budgets"] else []
    head = [_("budget (share inspected)"), _("inspections"), _("model: findings per inspection")]
    head += [_("random: findings per inspection"), *names, _("recall"), _("law-abiding spared per 100 vs random")]
    budgets = [head]
    for r in card["budgets"]:
        m = r["model"]
        base = [f"{(b or {}).get('precision', 0):.3f}" for b in r["baselines"].values()]
        share = f"{r['percent']}%" + (" *" if r["seed"] else "")
        budgets.append([share, m["budget"], f"{m['precision']:.3f}", f"{m['base_rate']:.3f}", *base,
                        f"{m['recall']:.3f}", f"{m['spared_per_100']:.1f}"])  # fmt: skip
    factors = [[_("factor"), _("kept"), "IV", _("reason")]]
    factors += [[f["label"], _("yes") if f["kept"] else _("no"), "—" if f["iv"] is None else f["iv"], f["reason"]]
                for f in card["factors"]]  # fmt: skip
    out = [(_("Data and dates"), data), (_("Against random and past violations, by budget"), budgets),
           (_("Factors kept and dropped"), factors)]  # fmt: skip
    if card["classes"]:
        out.append(
            (_("Class sizes by refresh"), [[_("as of"), *classes.CLASSES], *[[d, *n] for d, n in card["classes"]]])
        )
        out.append((_("before \\ after"), [["", *classes.CLASSES], *[[a, *n] for a, n in card["movement"]]]))
    for dim in card["fairness"]:
        head = [dim["title"], _("visits"), _("share of inspections"), _("finding rate")]
        out.append((dim["title"], [head, *[[g["group"], g["visits"], f"{g['share']}%", f"{g['rate']}%"]
                                           for g in dim["groups"]]]))  # fmt: skip
    return out


def render(card: dict[str, Any]) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = _font()
    title = ParagraphStyle("t", fontName=font, fontSize=16, leading=21, spaceAfter=4)
    h2 = ParagraphStyle("h", fontName=font, fontSize=11, leading=15, spaceBefore=8, spaceAfter=3)
    cell = ParagraphStyle("c", fontName=font, fontSize=7, leading=9)
    body = ParagraphStyle("b", fontName=font, fontSize=8.5, leading=12)
    story: list[Any] = [Paragraph(escape(_("Model card: %(t)s") % {"t": card["title"]}), title)]
    for heading, rows in _rows(card):
        story.append(Paragraph(escape(heading), h2))
        t = Table([[Paragraph(escape(str(v)), cell) for v in row] for row in rows], repeatRows=1)
        t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee"))]))  # fmt: skip
        story.append(t)
    story.append(Paragraph(_("The seed's claims beside ours"), h2))
    for text in card["claims"]["text"]:
        story.append(Paragraph(escape(text), body))
    if card["calibration"]:
        story += [
            Paragraph(_("Calibration: predicted against observed, by decile"), h2),
            _calibration(font, card["calibration"]),
        ]
    story += [Spacer(1, 4 * mm), Paragraph(f"{_('Generated')} {clock.now().isoformat(timespec='minutes')}", cell)]
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, leftMargin=14 * mm, rightMargin=14 * mm, title=card["title"]).build(story)
    return buf.getvalue()
