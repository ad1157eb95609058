"""Factor screening: WOE binning and information value, then correlation and stability checks; keep the few
strongest (12 by default) and say why every other factor was dropped.

Binning: up to ``max_bins`` equal-frequency bins on the non-missing values (each at least ``min_share`` of the
rows), missing values a bin of their own, adjacent bins merged until the event rate is monotone (pool-adjacent-
violators), so each factor reads "the more X, the riskier" or the reverse. WOE = ln(share of events / share of
non-events) per bin, with 0.5 added to empty counts; IV = Σ (share of events − share of non-events) × WOE.
Categorical factors are binned by level (rare levels pooled as "other").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

MISSING = "missing"


def bin_index(edges: Sequence[float] | np.ndarray, x: np.ndarray, missing: int) -> np.ndarray:
    """The one binning convention of screening and drift: ``edges`` are the upper bounds (inclusive) of every bin
    but the last, so a value equal to an edge falls in the bin below it; missing values go to bin ``missing``."""
    idx = np.searchsorted(np.asarray(edges, dtype=float), x, side="left")
    return np.where(np.isnan(x), missing, idx)


@dataclass
class Bins:
    name: str
    kind: str  # "numeric" | "categorical"
    edges: list[float] = field(default_factory=list)  # numeric: upper bounds of all bins but the last
    levels: dict[str, int] = field(default_factory=dict)  # categorical: level -> bin
    labels: list[str] = field(default_factory=list)
    woe: list[float] = field(default_factory=list)  # per bin; the last is the missing / other bin
    events: list[int] = field(default_factory=list)
    totals: list[int] = field(default_factory=list)
    iv: float = 0.0

    def assign(self, values: Sequence[Any]) -> np.ndarray:
        """The bin index of each value (the last bin is missing for numeric, other for categorical)."""
        if self.kind == "numeric":
            return bin_index(self.edges, np.asarray(values, dtype=float), len(self.labels) - 1)
        other = len(self.labels) - 1
        return np.array([self.levels.get(str(v), other) for v in values], dtype=int)

    def transform(self, values: Sequence[Any]) -> np.ndarray:
        return np.asarray(np.asarray(self.woe)[self.assign(values)], dtype=float)


def _woe_iv(events: np.ndarray, totals: np.ndarray) -> tuple[list[float], float]:
    goods = totals - events
    e = (events + 0.5) / (events.sum() + 0.5 * len(events))
    g = (goods + 0.5) / (goods.sum() + 0.5 * len(goods))
    woe = np.log(e / g)
    return [float(w) for w in woe], float(((e - g) * woe).sum())


def _monotone(edges: list[float], ev: list[int], tot: list[int]) -> tuple[list[float], list[int], list[int]]:
    """Merge adjacent bins until the event rate is monotone in the direction of the overall trend."""
    if len(ev) <= 2:
        return edges, ev, tot
    rates = [e / t if t else 0 for e, t in zip(ev, tot, strict=True)]
    up = rates[-1] >= rates[0]
    changed = True
    while changed and len(ev) > 1:
        changed = False
        for i in range(len(ev) - 1):
            a, b = ev[i] / max(tot[i], 1), ev[i + 1] / max(tot[i + 1], 1)
            if (up and b < a) or (not up and b > a):
                ev[i : i + 2], tot[i : i + 2] = [ev[i] + ev[i + 1]], [tot[i] + tot[i + 1]]
                del edges[i]
                changed = True
                break
    return edges, ev, tot


def bin_numeric(name: str, x: np.ndarray, y: np.ndarray, max_bins: int = 10, min_share: float = 0.05) -> Bins:
    ok = ~np.isnan(x)
    xs, ys = x[ok], y[ok]
    edges: list[float] = []
    if len(xs):
        qs = np.unique(np.quantile(xs, np.linspace(0, 1, max_bins + 1)[1:-1]))
        edges = [float(q) for q in qs]
    idx = np.searchsorted(np.asarray(edges), xs, side="left")
    ev = [int(ys[idx == i].sum()) for i in range(len(edges) + 1)]
    tot = [int((idx == i).sum()) for i in range(len(edges) + 1)]
    # merge bins smaller than min_share into their neighbour
    i = 0
    while i < len(tot) and len(tot) > 1:
        if tot[i] < min_share * len(x):
            j = i + 1 if i + 1 < len(tot) else i - 1
            lo, hi = min(i, j), max(i, j)
            ev[lo : hi + 1], tot[lo : hi + 1] = [ev[lo] + ev[hi]], [tot[lo] + tot[hi]]
            del edges[lo]
            i = 0
            continue
        i += 1
    edges, ev, tot = _monotone(edges, ev, tot)
    ev.append(int(y[~ok].sum()))
    tot.append(int((~ok).sum()))
    woe, iv = _woe_iv(np.array(ev), np.array(tot))
    bounds = [-np.inf, *edges, np.inf]
    labels = [f"({bounds[k]:.4g}, {bounds[k + 1]:.4g}]" for k in range(len(edges) + 1)] + [MISSING]
    return Bins(name, "numeric", edges, {}, labels, woe, ev, tot, iv)


def bin_categorical(name: str, v: np.ndarray, y: np.ndarray, min_share: float = 0.02) -> Bins:
    values, counts = np.unique(v.astype(str), return_counts=True)
    kept = [str(lv) for lv, n in zip(values, counts, strict=True) if n >= min_share * len(v)]
    levels = {lv: i for i, lv in enumerate(kept)}
    idx = np.array([levels.get(str(s), len(kept)) for s in v])
    ev = [int(y[idx == i].sum()) for i in range(len(kept) + 1)]
    tot = [int((idx == i).sum()) for i in range(len(kept) + 1)]
    woe, iv = _woe_iv(np.array(ev), np.array(tot))
    return Bins(name, "categorical", [], levels, [*kept, "other"], woe, ev, tot, iv)


def psi(expected: np.ndarray, actual: np.ndarray, n_bins: int) -> float:
    """Population stability index between two samples' bin indices."""
    e = np.bincount(expected, minlength=n_bins) + 0.5
    a = np.bincount(actual, minlength=n_bins) + 0.5
    e, a = e / e.sum(), a / a.sum()
    return float(((a - e) * np.log(a / e)).sum())


@dataclass
class Decision:
    """A factor kept or dropped by the screening. ``reason`` is a code (kept, weak, unstable, collinear,
    not_strongest) and ``detail`` its figures; ``risk.labels.screening_reason`` says it in the user's language."""

    factor: str
    iv: float
    psi: float
    kept: bool
    reason: str
    detail: dict[str, Any] = field(default_factory=dict)


def screen(
    t: pa.Table,
    y: np.ndarray,
    numeric: Sequence[str],
    categorical: Sequence[str],
    *,
    keep: int = 12,
    min_iv: float = 0.02,
    max_corr: float = 0.7,
    max_psi: float = 0.25,
) -> tuple[list[Decision], dict[str, Bins]]:
    """Rows in time order: stability compares the first and the second half."""
    bins: dict[str, Bins] = {}
    for c in numeric:
        bins[c] = bin_numeric(c, np.asarray(t[c].cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=float), y)
    for c in categorical:
        bins[c] = bin_categorical(c, np.asarray(t[c].to_pylist(), dtype=object), y)
    half = t.num_rows // 2
    woe = {c: b.transform(t[c].to_pylist()) for c, b in bins.items()}
    decisions: list[Decision] = []
    kept: list[str] = []
    for c in sorted(bins, key=lambda c: -bins[c].iv):
        idx = bins[c].assign(t[c].to_pylist())
        stab = psi(idx[:half], idx[half:], len(bins[c].labels))
        reason = ""
        detail: dict[str, Any] = {}
        if bins[c].iv < min_iv:
            reason, detail = "weak", {"iv": round(bins[c].iv, 4), "min": min_iv}
        elif stab > max_psi:
            reason, detail = "unstable", {"psi": round(stab, 4), "max": max_psi}
        else:
            for k in kept:
                r = _corr(woe[c], woe[k])
                if abs(r) > max_corr:
                    reason, detail = "collinear", {"other": k, "r": round(abs(r), 4)}
                    break
        if not reason and len(kept) >= keep:
            reason, detail = "not_strongest", {"keep": keep}
        if not reason:
            kept.append(c)
        decisions.append(Decision(c, round(bins[c].iv, 4), round(stab, 4), not reason, reason or "kept", detail))
    return decisions, {c: bins[c] for c in kept}


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    if a.std() == 0 or b.std() == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])
