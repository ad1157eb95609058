"""Working days (工作日): Monday to Friday, less public holidays, plus the weekends made working days (调休).

The exceptions ship as ``data/holidays_cn.csv`` (from the State Council General Office's yearly notice) and are
loaded into ``CalendarDay`` rows, which data administrators extend each year (``shijian calendar import``).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Mapping
from pathlib import Path

SHIPPED = Path(__file__).with_name("data") / "holidays_cn.csv"


def read_exceptions(path: Path = SHIPPED) -> dict[dt.date, tuple[bool, str]]:
    """date -> (is a working day, note), from a CSV of date,workday(0/1),note."""
    out: dict[dt.date, tuple[bool, str]] = {}
    with path.open(encoding="utf-8-sig", newline="") as f:
        for n, row in enumerate(csv.DictReader(f), start=2):
            try:
                day = dt.date.fromisoformat(row["date"].strip())
                flag = row["workday"].strip()
            except (KeyError, ValueError, AttributeError):
                raise ValueError(f"{path.name} line {n}: expected date (YYYY-MM-DD),workday (0/1),note") from None
            if flag not in ("0", "1"):
                raise ValueError(f"{path.name} line {n}: workday must be 0 or 1, not {flag!r}")
            out[day] = (flag == "1", (row.get("note") or "").strip())
    return out


def is_workday(day: dt.date, exceptions: Mapping[dt.date, bool]) -> bool:
    return exceptions.get(day, day.weekday() < 5)


def add_working_days(start: dt.date, n: int, exceptions: Mapping[dt.date, bool]) -> dt.date:
    """The n-th working day after ``start`` (``start`` itself not counted)."""
    day = start
    while n > 0:
        day += dt.timedelta(days=1)
        if is_workday(day, exceptions):
            n -= 1
    return day


def working_days_between(start: dt.date, end: dt.date, exceptions: Mapping[dt.date, bool]) -> int:
    """Working days after ``start`` up to and including ``end`` (negative when end is before start)."""
    if end < start:
        return -working_days_between(end, start, exceptions)
    days = (end - start).days
    return sum(1 for i in range(1, days + 1) if is_workday(start + dt.timedelta(days=i), exceptions))
