"""Freeze and draw in tests: a beacon is announced for a minute after the freeze, and the draw travels past it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import time_machine
from django.utils import timezone

from shijian.supervision import services
from shijian.supervision.models import Batch, Draw


def freeze(batches: Sequence[Batch], user: Any, source: str = "x", **kw: Any) -> Draw:
    at = timezone.now() + dt.timedelta(minutes=1)
    return services.freeze(list(batches), user, "beacon", beacon_source=source, beacon_at=at, **kw)


def perform(draw: Draw, user: Any, value: str = "v") -> services.DrawResult:
    assert draw.beacon_at is not None
    with time_machine.travel(draw.beacon_at + dt.timedelta(seconds=1), tick=True):
        return services.perform(draw, user, public_value=value)
