"""One clock for business dates: every date a user sees or a rule counts is a date in Asia/Shanghai.

The server's own clock and time zone (often UTC) never decide a business date: between 00:00 and 08:00 Beijing
time the UTC date is still yesterday. Use `today()` for "today" and `local_date(moment)` for the business date
of a stored instant; never `datetime.date()` on an aware instant and never `date.today()`.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

__all__ = ["local_date", "now", "today"]


def now() -> dt.datetime:
    """The current instant (aware, UTC)."""
    return timezone.now()


def today() -> dt.date:
    """Today's business date (Asia/Shanghai, settings.TIME_ZONE)."""
    return timezone.localdate()


def local_date(moment: dt.datetime | dt.date) -> dt.date:
    """The business date of an instant; a plain date is returned as it is. A naive instant is taken as local."""
    if isinstance(moment, dt.datetime):
        if timezone.is_naive(moment):
            return moment.date()
        return timezone.localtime(moment).date()
    return moment
