"""Grading of an entry (重大 / 较大 / 一般), capped by its worst dimension, as the UK food hygiene rating is.

Three dimensions are scored in steps of 5, higher is worse: severity of the harm (0–25), extent (who and how many
are exposed, 0–25), and management confidence (the entity's record and its control of the risk, 0–30). The total
gives a grade, and the worst single dimension caps it: an entry cannot be graded better than its worst dimension
allows, however good the others are.
"""

from __future__ import annotations

from collections.abc import Mapping

MAJOR, SERIOUS, GENERAL = "major", "serious", "general"  # 重大, 较大, 一般
ORDER = {GENERAL: 0, SERIOUS: 1, MAJOR: 2}
DIMENSIONS: dict[str, int] = {"severity": 25, "extent": 25, "confidence": 30}  # name -> maximum score
TOTAL_BANDS = ((45, MAJOR), (25, SERIOUS), (0, GENERAL))  # total >= threshold -> grade
WORST_CAPS = ((20, MAJOR), (15, SERIOUS), (0, GENERAL))  # any one dimension >= threshold -> at least this grade
DEADLINE_DAYS = {MAJOR: 7, SERIOUS: 15, GENERAL: 30}  # default rectification period


class GradingError(ValueError):
    pass


def validate(scores: Mapping[str, int]) -> dict[str, int]:
    out = {}
    for name, top in DIMENSIONS.items():
        value = scores.get(name)
        if not isinstance(value, int) or value < 0 or value > top or value % 5:
            raise GradingError(f"{name} is scored 0 to {top} in steps of 5, not {value!r}")
        out[name] = value
    unknown = set(scores) - set(DIMENSIONS)
    if unknown:
        raise GradingError(f"unknown dimensions: {', '.join(sorted(unknown))}")
    return out


def _band(value: int, bands: tuple[tuple[int, str], ...]) -> str:
    return next(grade for threshold, grade in bands if value >= threshold)


def grade(scores: Mapping[str, int]) -> str:
    """The grade of the scores: by their total, never better than the worst dimension allows."""
    s = validate(scores)
    by_total = _band(sum(s.values()), TOTAL_BANDS)
    by_worst = _band(max(s.values()), WORST_CAPS)
    return by_total if ORDER[by_total] >= ORDER[by_worst] else by_worst
