"""Small statistics shared by the modules."""

from __future__ import annotations

import math
from typing import Any


def wilson_rate(n: int, k: int, z: float = 1.96) -> dict[str, Any]:
    """k of n as a rate with its Wilson interval (95% by default); None figures when n is 0."""
    if n == 0:
        return {"n": 0, "found": 0, "rate": None, "low": None, "high": None}
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return {"n": n, "found": k, "rate": round(p, 4), "low": round(centre - half, 4), "high": round(centre + half, 4)}
