"""Statutory time limits of each step, on the working-day calendar (docs/cases.md cites each article).

《市场监督管理投诉举报处理暂行办法》 (SAMR Order No. 20, 2019; amended 2022) for complaints and reports;
《市场监督管理行政处罚程序规定》 (SAMR Order No. 2, 2018; amended 2021 and 2022) and 《行政处罚法》 (2021) for cases.
Pure Python: the services pass the calendar's exceptions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from shijian.supervision import calendar


@dataclass(frozen=True)
class Limit:
    days: int
    working: bool  # working days (工作日) or calendar days (日)
    anchor: str  # what the count starts from: received, accepted, lead, filed, step (the step's start)
    basis: str  # the article, as cited in docs/cases.md


# (process, step) -> its limit
LIMITS: dict[tuple[str, str], Limit] = {
    # assignment is internal; the 7-working-day acceptance limit below runs from receipt all the same
    ("complaint", "triage"): Limit(7, True, "received", "《投诉举报处理暂行办法》第十四条"),
    ("complaint", "accept"): Limit(7, True, "received", "《投诉举报处理暂行办法》第十四条"),
    ("complaint", "mediate"): Limit(45, True, "accepted", "《投诉举报处理暂行办法》第二十一条"),
    ("complaint", "verify"): Limit(15, True, "received", "《行政处罚程序规定》第十八条（举报按处罚程序核查）"),
    ("case", "lead"): Limit(15, True, "lead", "《行政处罚程序规定》第十八条"),
    ("case", "investigate"): Limit(90, False, "filed", "《行政处罚程序规定》第六十四条"),
    ("case", "review"): Limit(90, False, "filed", "《行政处罚程序规定》第六十四条"),
    ("case", "inform"): Limit(90, False, "filed", "《行政处罚程序规定》第六十四条"),
    ("case", "hearing"): Limit(90, False, "filed", "《行政处罚程序规定》第六十四条（听证时间不计入）"),
    ("case", "decide"): Limit(90, False, "filed", "《行政处罚程序规定》第六十四条"),
    ("case", "serve"): Limit(7, False, "step", "《行政处罚法》第六十一条"),
    ("case", "execute"): Limit(15, False, "step", "《行政处罚法》第六十七条"),
}
# Days before the limit at which the handling department is reminded.
REMIND_BEFORE_WORKING_DAYS = 2


def due(limit: Limit, start: dt.date, exceptions: Mapping[dt.date, bool]) -> dt.date:
    """The last day of a limit counted from ``start`` (``start`` itself not counted)."""
    if limit.working:
        return calendar.add_working_days(start, limit.days, exceptions)
    return start + dt.timedelta(days=limit.days)


def due_for(
    process: str, step: str, anchors: Mapping[str, dt.date | None], exceptions: Mapping[dt.date, bool]
) -> dt.date | None:
    """The due date of ``step``, from the anchor dates known (None: the step has no limit or no anchor yet)."""
    limit = LIMITS.get((process, step))
    if limit is None:
        return None
    start = anchors.get(limit.anchor)
    return due(limit, start, exceptions) if start is not None else None


def remind_on(due_on: dt.date, exceptions: Mapping[dt.date, bool]) -> dt.date:
    """The working day REMIND_BEFORE_WORKING_DAYS before ``due_on``."""
    day, n = due_on, REMIND_BEFORE_WORKING_DAYS
    while n > 0:
        day -= dt.timedelta(days=1)
        if calendar.is_workday(day, exceptions):
            n -= 1
    return day
