"""Where the risk models live and what their use cases share: the folder, the error a user can fix, the defaults."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

Progress = Callable[[str, int, int], None]
DEFAULT_HORIZON = 3  # months: the label is the first inspection in this window
DEFAULT_BUDGET = 0.05  # share of entities a year's plans inspect (Foshan: ~4% drawn per batch)
KINDS = ("gbm", "scorecard", "logistic")


class RiskError(Exception):
    """Something a user can fix: the message says what."""


def home() -> Path:
    from django.conf import settings

    p = Path(settings.HOME) / "risk"
    p.mkdir(parents=True, exist_ok=True)
    return p
