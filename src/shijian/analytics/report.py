"""The monthly report (月度报告) of a scope as PDF: the month's figures against the month before and the same month
last year, the trends, the state today, and the next months' forecasts — charts included.

Built from the scope's stored figures (``snapshot``) and forecasts only, so it takes well under a second whatever
the number of entities. Charts are vector drawings (reportlab graphics), text is set in the PDF standard Chinese
font STSong-Light (Adobe-GB1, which every PDF reader in China provides) unless ``SHIJIAN_PDF_FONT`` names a
TrueType font file to embed instead (e.g. a bureau's SimSun or Noto Sans SC).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

Figures = dict[str, Any]

FONT = "STSong-Light"
COLORS = ["#1f5fa8", "#c62828", "#ef6c00", "#2e7d32", "#6a1b9a"]


class ReportError(ValueError):
    """A month the figures cannot report on (not in the stored months, or not yet complete)."""


def months_available(data: Figures) -> list[str]:
    """Complete months of the stored series, newest first: not the current month (still filling), nor a month
    after the last one every series covers to its end (a feed that stops on the 2nd leaves that month partial)."""
    ends = [m for m in (data.get("complete_through") or {}).values() if m]
    through = min(ends) if ends else None
    return [m for m in reversed(data["months"][:-1]) if through is None or m <= through]


def check_month(data: Figures, month: str | None) -> str:
    available = months_available(data)
    if not month:
        return available[0]
    if month not in available:
        raise ReportError(
            _("No report for %(month)s: give a complete month from %(first)s to %(last)s (YYYY-MM).")
            % {"month": month, "first": available[-1], "last": available[0]}
        )
    return month


def _value(series: list[list[Any]], month: str) -> int | None:
    for m, v in series:
        if m == month:
            return int(v)
    return None


def _shift(month: str, months: int) -> str:
    y, m = int(month[:4]), int(month[5:7]) - 1 + months
    return f"{y + m // 12:04d}-{m % 12 + 1:02d}"


def month_rows(data: Figures, month: str) -> list[tuple[str, int | None, int | None, int | None]]:
    """(label, this month, the month before, the same month a year before) of each monthly figure."""
    prev, last_year = _shift(month, -1), _shift(month, -12)
    ins = data["inspections"]["by_month"]
    checked = [[m, d] for m, d, _p in ins]
    published = [[m, p] for m, _d, p in ins]
    series = [
        (_("New registrations"), data["series"]["registrations"]),
        (_("Complaints (12315 and departments)"), data["series"]["complaints"]),
        (_("Inspections with findings"), data["series"]["findings"]),
        (_("Joint visits checked"), checked),
        (_("Results published"), published),
    ]
    return [(label, _value(s, month), _value(s, prev), _value(s, last_year)) for label, s in series]


def _font() -> str:
    from django.conf import settings
    from reportlab.pdfbase import pdfmetrics

    path = str(getattr(settings, "SHIJIAN_PDF_FONT", "") or "")
    name = "ShijianReport" if path else FONT
    if name not in pdfmetrics.getRegisteredFontNames():
        if path:
            from reportlab.pdfbase.ttfonts import TTFont

            if not Path(path).is_file():
                raise ReportError(_("SHIJIAN_PDF_FONT names no file: %(path)s") % {"path": path})
            pdfmetrics.registerFont(TTFont(name, path))
        else:
            from reportlab.pdfbase.cidfonts import UnicodeCIDFont

            pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return name


def _axes(chart: Any, font: str, categories: list[str]) -> None:
    chart.categoryAxis.categoryNames = categories
    for axis in (chart.categoryAxis, chart.valueAxis):
        axis.labels.fontName = font
        axis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0


def _line_chart(font: str, categories: list[str], series: list[tuple[str, list[float | None]]]) -> Any:
    from reportlab.graphics.charts.legends import Legend
    from reportlab.graphics.charts.linecharts import HorizontalLineChart
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib import colors

    d = Drawing(480, 190)
    chart = HorizontalLineChart()
    chart.x, chart.y, chart.width, chart.height = 40, 45, 420, 125
    chart.data = [[v if v is not None else 0 for v in values] for _n, values in series]
    _axes(chart, font, [m if i % 3 == 0 else "" for i, m in enumerate(categories)])
    for i in range(len(series)):
        chart.lines[i].strokeColor = colors.HexColor(COLORS[i % len(COLORS)])
        chart.lines[i].strokeWidth = 1.5
    d.add(chart)
    d.add(_legend(Legend(), font, [n for n, _v in series], y=12))
    return d


def _bar_chart(
    font: str, categories: list[str], series: list[tuple[str, list[float]]], height: int = 190, horizontal: bool = False
) -> Any:
    from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
    from reportlab.graphics.charts.legends import Legend
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib import colors

    d = Drawing(480, height)
    chart = HorizontalBarChart() if horizontal else VerticalBarChart()
    left = 110 if horizontal else 40
    chart.x, chart.y, chart.width, chart.height = left, 40, 460 - left, height - 55
    chart.data = [list(values) or [0] for _n, values in series]
    _axes(chart, font, categories or [""])
    for i in range(len(series)):
        chart.bars[i].fillColor = colors.HexColor(COLORS[i % len(COLORS)])
        chart.bars[i].strokeColor = None
    d.add(chart)
    if len(series) > 1:
        d.add(_legend(Legend(), font, [n for n, _v in series], y=10))
    return d


def _legend(legend: Any, font: str, names: list[str], y: int) -> Any:
    from reportlab.lib import colors

    legend.x, legend.y = 40, y
    legend.fontName, legend.fontSize = font, 7
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.deltax = 120
    legend.colorNamePairs = [(colors.HexColor(COLORS[i % len(COLORS)]), n) for i, n in enumerate(names)]
    return legend


def _num(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:,.1f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def _change(now: int | None, before: int | None) -> str:
    if now is None or before is None:
        return "—"
    if before == 0:
        return "—" if now == 0 else "+∞"
    return f"{(now - before) / before * 100:+.1f}%"


def render(data: Figures, computed_at: Any, month: str, forecasts: dict[str, Figures]) -> bytes:
    """The PDF of one scope's month; ``forecasts`` maps a series name to its stored forecast."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = _font()
    title_style = ParagraphStyle("t", fontName=font, fontSize=17, leading=22, spaceAfter=4)
    h2 = ParagraphStyle("h", fontName=font, fontSize=12, leading=16, spaceBefore=8, spaceAfter=4)
    small = ParagraphStyle("s", fontName=font, fontSize=7.5, leading=10, textColor=colors.HexColor("#555555"))
    label = data["scope"]["label"] or _("whole district")

    def table(rows: list[list[Any]], widths: list[float] | None = None) -> Table:
        t = Table([[_num(c) for c in r] for r in rows], colWidths=widths, hAlign="LEFT", repeatRows=1)
        t.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), font),
                    ("FONTSIZE", (0, 0), (-1, -1), 8.5),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef7")),
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#c9d2e0")),
                    ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ]
            )
        )
        return t

    story: list[Any] = [
        Paragraph(
            _("Market supervision monthly report · %(scope)s · %(month)s") % {"scope": label, "month": month},
            title_style,
        ),
        Paragraph(
            _("Figures computed at %(at)s from the operational database and the entity files (一户一档).")
            % {"at": f"{timezone.localtime(computed_at):%Y-%m-%d %H:%M}"},
            small,
        ),
        Paragraph(_("The month"), h2),
        table(
            [[_("figure"), month, _("month before"), _("change"), _("a year before"), _("change")]]
            + [
                [lbl, now, prev, _change(now, prev), ly, _change(now, ly)]
                for lbl, now, prev, ly in month_rows(data, month)
            ],
            [62 * mm, 20 * mm, 22 * mm, 18 * mm, 22 * mm, 18 * mm],
        ),
    ]
    # Trends: the 24 months up to the report's month.
    months = data["months"]
    end = months.index(month) + 1
    window = months[max(0, end - 24) : end]

    def values(series: list[list[Any]]) -> list[float | None]:
        got = {m: v for m, v in series}
        return [got.get(m) for m in window]

    story += [
        Paragraph(_("Trends (24 months)"), h2),
        _line_chart(
            font,
            window,
            [
                (_("new registrations"), values(data["series"]["registrations"])),
                (_("complaints"), values(data["series"]["complaints"])),
                (_("inspections with findings"), values(data["series"]["findings"])),
            ],
        ),
    ]
    ins = [r for r in data["inspections"]["by_month"] if r[0] in window][-12:]
    story += [
        Paragraph(_("Joint visits checked and published (12 months)"), h2),
        _bar_chart(
            font,
            [m[2:] for m, _d, _p in ins],
            [(_("checked"), [d for _m, d, _p in ins]), (_("published"), [p for _m, _d, p in ins])],
        ),
    ]
    # The state today.
    ent, hz, fnd = data["entities"], data["hazards"], data["findings"]
    story += [
        Paragraph(_("The state today"), h2),
        table(
            [
                [_("figure"), _("value")],
                [_("market entities"), ent["total"]],
                [_("visits planned"), data["inspections"]["planned"]],
                [_("visits checked"), data["inspections"]["done"]],
                [_("results published"), data["inspections"]["published"]],
                [_("hazards open"), hz["open"]],
                [_("hazards overdue"), hz["overdue"]],
                [_("mean days to rectify"), hz["mean_days_to_rectify"]],
            ],
            [70 * mm, 30 * mm],
        ),
        Spacer(1, 4),
        Paragraph(_("Entities by risk class"), h2),
        _bar_chart(
            font, [c for c, _n in ent["by_class"]], [(_("entities"), [n for _c, n in ent["by_class"]])], height=150
        ),
    ]
    rate = [
        [_("share"), _("items checked"), _("with findings"), _("rate"), _("95% interval")],
        *[
            [
                name,
                r["n"],
                r["found"],
                "—" if r["rate"] is None else f"{r['rate'] * 100:.1f}%",
                "—" if r["low"] is None else f"{r['low'] * 100:.1f}–{r['high'] * 100:.1f}%",
            ]
            for name, r in ((_("purely random"), fnd["random"]), (_("targeted (risk-stratified)"), fnd["targeted"]))
        ],
    ]
    story += [Paragraph(_("Findings rate: targeted vs purely random share"), h2), table(rate)]
    if "by_town" in ent:
        towns = ent["by_town"][:12]
        story += [
            Paragraph(_("Entities by town / street"), h2),
            _bar_chart(
                font,
                [name for _c, name, _n in towns][::-1],
                [(_("entities"), [n for *_x, n in towns][::-1])],
                height=max(150, 18 * len(towns) + 50),
                horizontal=True,
            ),
        ]
    if hz["by_group"]:
        story += [
            Paragraph(_("Hazards by town / street") if hz["group"] == "town_code" else _("Hazards by department"), h2),
            table(
                [[_("name"), _("open"), _("overdue"), _("closed"), _("mean days to rectify")]]
                + [[name, o, od, c, days] for _k, name, o, od, c, days in hz["by_group"][:15]]
            ),
        ]
    # Forecasts.
    story.append(Paragraph(_("Forecasts (next months, with 80% prediction intervals)"), h2))
    names = {
        "complaints": _("Complaints (12315 and departments)"),
        "findings": _("Inspections with findings"),
        "registrations": _("New registrations"),
    }
    rows: list[list[Any]] = [[_("series"), _("month"), _("forecast"), "80%", _("backtest error (last year's month)")]]
    for name, label_ in names.items():
        f = forecasts.get(name) or {}
        if f.get("message") == "too_short" or not f.get("points"):
            rows.append([label_, "—", _("too little history"), "", ""])
            continue
        b = f["backtest"]
        for i, p in enumerate(f["points"][:3]):
            rows.append(
                [
                    label_ if i == 0 else "",
                    p["month"],
                    f"{p['mean']:.0f}",
                    f"{p['lo80']:.0f}–{p['hi80']:.0f}",
                    (f"{b['mae']:.1f} ({b['naive_mae']:.1f})" if i == 0 and b.get("mae") is not None else ""),
                ]
            )
    story.append(table(rows, [55 * mm, 18 * mm, 20 * mm, 25 * mm, 50 * mm]))
    story.append(Spacer(1, 6))
    story.append(
        Paragraph(
            _(
                "Forecasts: exponential smoothing (damped trend, yearly seasonality); the backtest error is the "
                "mean absolute error of forecasts 1–3 months ahead at 4 past origins, against repeating last "
                "year's month."
            ),
            small,
        )
    )

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 7.5)
        canvas.setFillColor(colors.HexColor("#777777"))
        canvas.drawString(15 * mm, 10 * mm, f"Shijian · {label} · {month}")
        canvas.drawRightString(A4[0] - 15 * mm, 10 * mm, _("page %(n)d") % {"n": doc.page})
        canvas.restoreState()

    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
        title=f"{label} {month}",
        author="Shijian",
        subject=_("Market supervision monthly report"),
    )
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
