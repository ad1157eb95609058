"""Drift of the model's inputs and output between two class refreshes (population stability index, PSI).

Each factor of the live model, and the predicted probability, is binned on the earlier refresh (deciles for
numbers, plus one bin for missing values; levels holding at least 2% for categories, plus "other"), and the later
refresh's shares in those bins are compared: PSI = sum((later - earlier) * ln(later / earlier)). The usual reading:
below 0.1 stable, 0.1–0.25 worth watching, above 0.25 the population has shifted and the model should be
re-fitted (``shijian risk fit``) before its classes are trusted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from shijian.risk.screening import bin_index, psi

WATCH = 0.1
SHIFT = 0.25


def status(value: float) -> str:
    return "shift" if value > SHIFT else "watch" if value > WATCH else "stable"


def _bins(before: pa.ChunkedArray, after: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray, int]:
    if pa.types.is_integer(before.type) or pa.types.is_floating(before.type) or pa.types.is_boolean(before.type):
        b = before.cast(pa.float64()).to_numpy(zero_copy_only=False)
        a = after.cast(pa.float64()).to_numpy(zero_copy_only=False)
        finite = b[np.isfinite(b)]
        edges = np.unique(np.quantile(finite, np.linspace(0.1, 0.9, 9))) if len(finite) else np.array([])
        n = len(edges) + 2  # bins between edges, and one for missing values

        def index(v: np.ndarray) -> np.ndarray:
            return bin_index(edges, np.where(np.isfinite(v), v, np.nan), n - 1)

        return index(b), index(a), n
    b_s = np.asarray(before.cast(pa.string()).fill_null("").to_pylist(), dtype=object)
    a_s = np.asarray(after.cast(pa.string()).fill_null("").to_pylist(), dtype=object)
    values, counts = np.unique(b_s.astype(str), return_counts=True)
    levels = {v: i for i, v in enumerate(v for v, c in zip(values, counts, strict=True) if c >= 0.02 * len(b_s))}
    n = len(levels) + 1
    return (
        np.array([levels.get(str(v), n - 1) for v in b_s], dtype=np.int64),
        np.array([levels.get(str(v), n - 1) for v in a_s], dtype=np.int64),
        n,
    )


def compare(before: Path, after: Path, factors: list[str]) -> dict[str, Any]:
    """PSI of each factor (those present in both files) and of ``probability``, largest first."""
    cols = [*factors, "probability"]
    have_b = set(pq.read_schema(before).names)
    have_a = set(pq.read_schema(after).names)
    cols = [c for c in dict.fromkeys(cols) if c in have_b and c in have_a]
    tb = pq.read_table(before, columns=cols)
    ta = pq.read_table(after, columns=cols)
    rows: list[dict[str, Any]] = []
    for c in cols:
        if tb.num_rows == 0 or ta.num_rows == 0:
            continue
        ib, ia, n = _bins(tb[c], ta[c])
        value = round(psi(ib, ia, n), 4)
        rows.append({"factor": c, "psi": value, "status": status(value)})
    rows.sort(key=lambda r: (-float(r["psi"]), str(r["factor"])))
    return {
        "before": str(before),
        "entities_before": tb.num_rows,
        "entities_after": ta.num_rows,
        "factors": rows,
        "worst": rows[0]["status"] if rows else "stable",
    }
