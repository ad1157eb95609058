"""Credit-risk classes A (low) to D (high) from calibrated probabilities, with configurable cut-offs.

The classes drive the 双随机 sampling ratios (defaults A 3% · B 10% · C 30% · D 80%), so the cut-offs are a policy
choice: ``SHIJIAN_RISK_CUTOFFS`` (three increasing probabilities, e.g. ``0.05,0.15,0.35``) fixes them. By default
they are relative to the average chance of a finding (the mean probability over the entities scored): D from 2.5
times the average, C from 1.5 times, B from half of it, A below. On the synthetic district that gives about
A 33% · B 45% · C 16% · D 6%; a bureau whose inspections find more or less keeps the same meaning of a class.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

CLASSES = ("A", "B", "C", "D")
DEFAULT_CUTOFFS = (0.05, 0.15, 0.35)  # absolute, for callers without a mean
RELATIVE = (0.5, 1.5, 2.5)  # default: multiples of the average probability


def relative_cutoffs(mean: float, multiples: Sequence[float] = RELATIVE) -> tuple[float, float, float]:
    """Cut-offs at multiples of the mean probability, kept strictly increasing and below 1."""
    a, b, c = (min(0.999, max(1e-6, m * mean)) for m in multiples)
    b, c = max(b, a + 1e-6), max(c, b + 2e-6)
    return round(a, 6), round(b, 6), round(c, 6)


def parse_cutoffs(text: str) -> tuple[float, float, float]:
    """'0.05,0.15,0.35' -> (0.05, 0.15, 0.35); three increasing probabilities strictly between 0 and 1."""
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"cut-offs are three probabilities separated by commas, not {text!r}") from None
    if len(values) != 3 or not all(0 < v < 1 for v in values) or not values[0] < values[1] < values[2]:
        raise ValueError(f"cut-offs must be three increasing probabilities between 0 and 1, not {text!r}")
    return values[0], values[1], values[2]


def classify(probabilities: ArrayLike, cutoffs: Sequence[float] = DEFAULT_CUTOFFS) -> list[str]:
    """The class of each probability: A below the first cut-off, D at or above the last."""
    p = np.asarray(probabilities, dtype=float)
    idx = np.searchsorted(np.asarray(cutoffs, dtype=float), p, side="right")
    return [CLASSES[i] for i in idx]


def movement(before: Sequence[str], after: Sequence[str]) -> dict[str, dict[str, int]]:
    """A transition matrix of classes between two refreshes: before -> after -> count."""
    out: dict[str, dict[str, int]] = {a: dict.fromkeys(CLASSES, 0) for a in CLASSES}
    for a, b in zip(before, after, strict=True):
        out[a][b] += 1
    return out
