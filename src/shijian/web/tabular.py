"""Reading uploaded tables (CSV in UTF-8 or GB18030, Excel .xlsx) into rows of strings, and writing .xlsx."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _


class TableError(ValueError):
    """The uploaded file cannot be read as a table; the message says why, for the user."""


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM) first, then GB18030 (a superset of GBK and GB2312)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableError(_("the file is neither UTF-8 nor GB18030 text"))


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


MAX_COLUMNS = 200  # no import has more than a few dozen columns
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024  # what an .xlsx may expand to (a zip bomb is refused before it is read)


def _xlsx_rows(data: bytes, max_rows: int) -> Iterator[list[str]]:
    """The first sheet's rows, streamed (openpyxl read-only): the declared size is checked first, then every row
    as it is read, so a tiny file that claims or holds a huge sheet is refused before anything is expanded."""
    import zipfile

    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError) as exc:
        raise TableError(_("not a readable .xlsx workbook (%(why)s)") % {"why": type(exc).__name__}) from exc
    if unzipped > MAX_UNZIPPED_BYTES:
        raise TableError(_("the workbook expands to more than %(n)d MB") % {"n": MAX_UNZIPPED_BYTES >> 20})
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a corrupt file
        raise TableError(_("not a readable .xlsx workbook (%(why)s)") % {"why": type(exc).__name__}) from exc
    try:
        ws: Any = wb.worksheets[0]
        _check_size(ws.max_row or 0, ws.max_column or 0, max_rows)
        ws.reset_dimensions()  # rows are as long as their last cell, not as the sheet claims
        for seen, raw in enumerate(ws.iter_rows(values_only=True), start=1):
            _check_size(seen, len(raw), max_rows)
            yield [_cell(v) for v in raw]
    finally:
        wb.close()


def _check_size(rows: int, columns: int, max_rows: int) -> None:
    # blank lines between rows are allowed, as many as the data rows
    if rows > 2 * max_rows + 1:
        raise TableError(_("Too many rows: at most %(n)d per import.") % {"n": max_rows})
    if columns > MAX_COLUMNS:
        raise TableError(_("Too many columns: at most %(n)d.") % {"n": MAX_COLUMNS})


def _csv_rows(data: bytes, max_rows: int) -> Iterator[list[str]]:
    text = decode_text(data)
    try:
        for seen, r in enumerate(csv.reader(io.StringIO(text)), start=1):
            _check_size(seen, len(r), max_rows)
            yield [c.strip() for c in r]
    except csv.Error as exc:
        raise TableError(_("malformed CSV: %(why)s") % {"why": exc}) from exc


def read_table(filename: str, data: bytes, max_rows: int = 20000) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and (line number, row) pairs. Line numbers are as the user sees them (header = line 1).

    At most ``max_rows`` data rows and ``MAX_COLUMNS`` columns; a larger file is refused as it is read."""
    if not data:
        raise TableError(_("the file is empty"))
    name = filename.lower()
    if name.endswith(".xlsx"):
        stream = _xlsx_rows(data, max_rows)
    elif name.endswith((".csv", ".txt")):
        stream = _csv_rows(data, max_rows)
    else:
        raise TableError(_("upload a .csv or .xlsx file"))
    header: list[str] | None = None
    out: list[tuple[int, dict[str, str]]] = []
    for i, raw in enumerate(stream, start=1):
        if header is None:
            if not any(raw):
                continue
            header = [h.strip() for h in raw]
            named = [h for h in header if h]
            if len(set(named)) != len(named):
                raise TableError(_("the header repeats a column name"))
            continue
        if not any(raw):
            continue
        if len(raw) > len(header) and any(raw[len(header) :]):
            raise TableError(_("line %(n)d has more cells than the header") % {"n": i})
        if len(out) >= max_rows:
            raise TableError(_("Too many rows: at most %(n)d per import.") % {"n": max_rows})
        out.append((i, {h: (raw[j] if j < len(raw) else "") for j, h in enumerate(header) if h}))
    if header is None:
        raise TableError(_("the file has no header row"))
    return header, out


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value: Any) -> Any:
    """A cell value that a spreadsheet shows as text, never runs (OWASP "CSV injection"): text starting with
    ``= + - @``, a tab or a carriage return gets a leading apostrophe. Every Excel and CSV export goes through here."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(out: IO[str], headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """CSV rows, formula-safe."""
    w = csv.writer(out)
    w.writerow([formula_safe(h) for h in headers])
    for row in rows:
        w.writerow([formula_safe(v) for v in row])


def xlsx_response(filename: str, body: bytes) -> HttpResponse:
    """An Excel download (personal data: never cached)."""
    response = HttpResponse(body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
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
        ws.append([formula_safe(h) for h in headers])
        for row in rows:
            ws.append([formula_safe(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _xlsx_cell(value: Any) -> Any:
    """What xlsxwriter stores: local (Beijing) time without a zone for aware datetimes, text formula-safe."""
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        return timezone.localtime(value).replace(tzinfo=None)
    return formula_safe(value)


def write_xlsx_file(path: Path, headers: Sequence[str], rows: Iterable[Sequence[Any]], sheet: str = "data") -> int:
    """A one-sheet workbook streamed to ``path`` with xlsxwriter's ``constant_memory`` mode: each row goes to the
    sheet's XML as it comes, strings inline (no shared-string table), so memory does not grow with the rows.
    Text is always stored as text (never turned into a formula, number or link). Returns the rows written."""
    import xlsxwriter

    options = {
        "constant_memory": True,
        "strings_to_numbers": False,
        "strings_to_formulas": False,
        "strings_to_urls": False,
    }
    wb = xlsxwriter.Workbook(str(path), options)
    try:
        ws = wb.add_worksheet(sheet[:31])
        date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
        time_fmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        ws.write_row(0, 0, [formula_safe(str(h)) for h in headers])
        n = 0
        for n, row in enumerate(rows, start=1):
            for col, raw in enumerate(row):
                value = _xlsx_cell(raw)
                if value is None or value == "":
                    continue
                if isinstance(value, dt.datetime):
                    ws.write_datetime(n, col, value, time_fmt)
                elif isinstance(value, dt.date):
                    ws.write_datetime(n, col, value, date_fmt)
                elif isinstance(value, str):
                    ws.write_string(n, col, value)
                else:
                    ws.write(n, col, value)
    finally:
        wb.close()
    return n
