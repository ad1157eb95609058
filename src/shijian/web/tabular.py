"""Reading uploaded tables (CSV in UTF-8 or GB18030, Excel .xlsx) into rows of strings, and writing .xlsx."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import Any

from django.http import HttpResponse
from django.utils import timezone


class TableError(ValueError):
    """The uploaded file cannot be read as a table; the message says why, for the user."""


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM) first, then GB18030 (a superset of GBK and GB2312)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableError("the file is neither UTF-8 nor GB18030 text")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        moment: dt.datetime = value
        if timezone.is_aware(moment):
            moment = timezone.localtime(moment).replace(tzinfo=None)  # the time a user reads: Beijing time
        return moment.date().isoformat() if moment.time() == dt.time() else moment.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_table(filename: str, data: bytes) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and (line number, row) pairs. Line numbers are as the user sees them (header = line 1)."""
    if not data:
        raise TableError("the file is empty")
    name = filename.lower()
    rows: list[list[str]]
    if name.endswith(".xlsx"):
        try:
            from openpyxl import load_workbook

            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for a corrupt file
            raise TableError(f"not a readable .xlsx workbook ({type(exc).__name__})") from exc
        ws = wb.worksheets[0]
        rows = [[_cell(v) for v in row] for row in ws.iter_rows(values_only=True)]
        wb.close()
    elif name.endswith((".csv", ".txt")):
        text = decode_text(data)
        try:
            rows = [[c.strip() for c in r] for r in csv.reader(io.StringIO(text))]
        except csv.Error as exc:
            raise TableError(f"malformed CSV: {exc}") from exc
    else:
        raise TableError("upload a .csv or .xlsx file")
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows:
        raise TableError("the file has no header row")
    header = [h.strip() for h in rows[0]]
    if len(set(h for h in header if h)) != len([h for h in header if h]):
        raise TableError("the header repeats a column name")
    out: list[tuple[int, dict[str, str]]] = []
    for i, raw in enumerate(rows[1:], start=2):
        if not any(raw):
            continue
        if len(raw) > len(header) and any(raw[len(header) :]):
            raise TableError(f"line {i} has more cells than the header")
        out.append((i, {h: (raw[j] if j < len(raw) else "") for j, h in enumerate(header) if h}))
    return header, out


def xlsx_response(filename: str, body: bytes) -> HttpResponse:
    """An Excel download."""
    response = HttpResponse(body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def write_xlsx(headers: Sequence[str], rows: Iterable[Sequence[Any]], sheet: str = "data") -> bytes:
    return write_xlsx_sheets([(sheet, headers, rows)])


def write_xlsx_sheets(sheets: Iterable[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]) -> bytes:
    """One workbook, one sheet per (title, headers, rows); titles cut to Excel's 31 characters, made unique."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    used: set[str] = set()
    for title, headers, rows in sheets:
        name = "".join(ch for ch in title if ch not in "[]:*?/\\")[:28] or "data"
        base, n = name, 2
        while name in used:
            name, n = f"{base}{n}", n + 1
        used.add(name)
        ws = wb.create_sheet(title=name)
        ws.append(list(headers))
        for row in rows:
            ws.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
