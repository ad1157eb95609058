"""Which entity gets which record on which day: calibrated rates, heavy tails, exposure by age, seasonality.

Every entity is exposed from its establishment (or the lake's start) to its closure (or the lake's end). Event
counts are Poisson around ``reference.RATES`` (per entity-year, by kind) times the entity's exposure, a risk
multiplier and a gamma frailty (the heavy tail: most entities have none, a few carry most). Days are drawn
uniformly in the exposure and thinned by season and by age (little in the first months). Annual reports are due
each year by 30 June; a missed one lists the entity as abnormal in July, and some are removed again (revived).
Tax rows (the bulk) fill the district's record budget, spread by exposure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from shijian.synth import reference

EPOCH = dt.date(1970, 1, 1).toordinal()
# Month-of-year weights: Spring Festival lull, 3·15, golden weeks, year-end campaigns.
SEASON: dict[str, tuple[float, ...]] = {
    "inspection": (0.6, 0.5, 0.9, 1.0, 1.0, 1.1, 1.0, 1.0, 1.1, 1.1, 1.3, 1.4),
    "penalty": (0.7, 0.5, 0.9, 1.0, 1.0, 1.1, 1.0, 1.0, 1.1, 1.1, 1.2, 1.5),
    "complaint": (1.0, 1.1, 1.4, 1.0, 1.0, 1.0, 1.1, 1.1, 1.0, 1.1, 1.2, 1.0),
    "litigation": (1.0, 0.6, 1.0, 1.0, 1.0, 1.1, 1.0, 1.0, 1.0, 1.0, 1.1, 1.3),
    "licence": (1.0, 0.6, 1.1, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
    "registration_change": (1.0, 0.6, 1.1, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
}
# Age ramp (days since establishment -> share of the full rate): a new business is rarely inspected or fined.
RAMP: dict[str, tuple[float, float]] = {
    "inspection": (0.3, 0.7),
    "penalty": (0.15, 0.5),
    "complaint": (0.3, 0.7),
    "litigation": (0.1, 0.4),
    "licence": (1.0, 1.0),
    "registration_change": (0.5, 1.0),
}
# How strongly the latent risk (standardised) drives each count: log-rate per standard deviation.
SIGNAL: dict[str, float] = {
    "inspection": 0.15,
    "penalty": 0.45,
    "complaint": 0.35,
    "litigation": 0.35,
    "licence": 0.0,
    "registration_change": 0.0,
}
FINDING_SIGNAL = 1.4  # log-odds of an inspection finding per standard deviation of latent risk
REPORT_SIGNAL = 0.45  # log-rate of missed annual reports per standard deviation of latent risk
REPORT_HABIT = 0.06  # gamma shape of the per-entity habit of missing reports (small: a few miss them all)
ABNORMAL_OTHER = 0.004  # listings for other reasons (unreachable address...) per entity-year
REMOVED_AFTER_LISTING = 0.4  # share of listed entities that file and are removed from the list


@dataclass
class Rows:
    """Rows of one record type: entity index, day (ordinal) and whether the entity misbehaved."""

    idx: np.ndarray
    day: np.ndarray
    bad: np.ndarray


@dataclass(frozen=True)
class Population:
    kind: np.ndarray  # "enterprise" | "individual"
    est: np.ndarray  # establishment day ordinal
    start: np.ndarray  # exposure start (ordinal)
    stop: np.ndarray  # exposure end (ordinal, inclusive); stop < start: never exposed
    z: np.ndarray  # standardised latent risk
    risk: np.ndarray  # the truth's risk (probability of misbehaving on a record)

    @property
    def years(self) -> np.ndarray:
        return np.asarray(np.maximum(self.stop - self.start + 1, 0) / 365.25)


def population(
    entity_type: np.ndarray, est: np.ndarray, closed: np.ndarray, risk: np.ndarray, start: dt.date, end: dt.date
) -> Population:
    kind = np.where(entity_type == "individual", "individual", "enterprise")
    stop = np.where(closed > 0, np.minimum(closed, end.toordinal()), end.toordinal())
    logit = np.log(risk / (1 - risk))
    z = (logit - logit.mean()) / max(float(logit.std()), 1e-9)
    return Population(kind, est, np.maximum(est, start.toordinal()), stop, z, risk)


def _thin(rng: np.random.Generator, rtype: str, est: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Keep a row with probability season(month) / max(season) x ramp(age)."""
    season = np.array(SEASON[rtype])
    month = _months(day)
    keep = season[month - 1] / season.max()
    r1, r2 = RAMP[rtype]
    age = day - est
    keep = keep * np.where(age < 183, r1, np.where(age < 365, r2, 1.0))
    return np.asarray(rng.random(day.size) < keep)


def _months(day: np.ndarray) -> np.ndarray:
    as_dates = (day - EPOCH).astype("datetime64[D]")
    return np.asarray(as_dates.astype("datetime64[M]").astype(np.int64) % 12 + 1)


def _years(day: np.ndarray) -> np.ndarray:
    as_dates = (day - EPOCH).astype("datetime64[D]")
    return np.asarray(as_dates.astype("datetime64[Y]").astype(np.int64) + 1970)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


def _intercept(target: float, slope: float, z: np.ndarray, weight: np.ndarray) -> float:
    """The log-odds intercept at which the weighted mean of sigmoid(a + slope z) is the target (bisection)."""
    lo, hi = -12.0, 12.0
    for _ in range(50):
        mid = (lo + hi) / 2
        mean = float(np.average(_sigmoid(mid + slope * z), weights=weight)) if weight.sum() > 0 else target
        lo, hi = (mid, hi) if mean < target else (lo, mid)
    return (lo + hi) / 2


def events(rng: np.random.Generator, pop: Population, rtype: str, intensity: float = 1.0) -> Rows:
    """Counts around the reference rate x exposure x risk multiplier x gamma frailty; days thinned by season and age."""
    rate = np.where(
        pop.kind == "individual", reference.RATES[rtype]["individual"], reference.RATES[rtype]["enterprise"]
    )
    rate = rate * intensity
    years = pop.years
    mult = np.exp(SIGNAL[rtype] * pop.z)
    mult /= np.average(mult, weights=np.maximum(years, 1e-9))
    shape = reference.FRAILTY_SHAPE[rtype]
    frailty = rng.gamma(shape, 1.0 / shape, pop.z.size)
    season = np.array(SEASON[rtype])
    lam = rate * years * mult * frailty * season.max() / season.mean()
    counts = rng.poisson(lam)
    idx = np.repeat(np.arange(pop.z.size, dtype=np.int64), counts)
    span = np.maximum(pop.stop - pop.start + 1, 1)[idx]
    day = pop.start[idx] + (rng.random(idx.size) * span).astype(np.int64)
    keep = _thin(rng, rtype, pop.est[idx], day)
    idx, day = idx[keep], day[keep]
    if rtype == "inspection":
        a = _intercept(reference.INSPECTION_FINDING, FINDING_SIGNAL, pop.z[idx], np.ones(idx.size))
        bad = rng.random(idx.size) < _sigmoid(a + FINDING_SIGNAL * pop.z[idx])
    else:
        bad = rng.random(idx.size) < pop.risk[idx]
    return Rows(idx, day, np.asarray(bad))


def annual_reports(rng: np.random.Generator, pop: Population, start: dt.date) -> tuple[Rows, Rows]:
    """Reports for year Y filed January-June of Y+1 by entities open then; a missed one lists the entity abnormal
    in July, some of which file later and are removed (revived); plus listings for other reasons."""
    est_year = _years(pop.est)
    first = np.maximum(est_year, start.year - 1)
    last = _years(pop.stop) - 1  # year Y+1 must reach its 30 June, checked below
    n_years = np.maximum(last - first + 1, 0)
    idx = np.repeat(np.arange(pop.z.size, dtype=np.int64), n_years)
    offset = np.arange(idx.size) - np.repeat(np.cumsum(n_years) - n_years, n_years)
    year = first[idx] + offset
    due = np.array([dt.date(int(y) + 1, 6, 30).toordinal() for y in range(1900, 2101)])[year - 1900]
    jan = np.array([dt.date(int(y) + 1, 1, 1).toordinal() for y in range(1900, 2101)])[year - 1900]
    ok = (due <= pop.stop[idx]) & (jan >= start.toordinal())
    idx, year, due, jan = idx[ok], year[ok], due[ok], jan[ok]
    # Missing a report is a habit of a few (a gamma frailty per entity), not a coin tossed every year.
    miss_rate = np.where(
        pop.kind == "individual",
        1 - reference.ANNUAL_REPORT_FILED["individual"],
        1 - reference.ANNUAL_REPORT_FILED["enterprise"],
    )
    habit = np.exp(REPORT_SIGNAL * pop.z) * rng.gamma(REPORT_HABIT, 1.0 / REPORT_HABIT, pop.z.size)
    p_miss = np.minimum(0.95, miss_rate * habit / habit.mean())
    filed = rng.random(idx.size) >= p_miss[idx]
    # filing days: most in May and June, before the deadline
    month_w = np.array([0.5, 0.3, 0.8, 1.0, 1.6, 2.8])
    month = rng.choice(6, size=idx.size, p=month_w / month_w.sum())
    filed_day = jan + (month * 30.4).astype(np.int64) + rng.integers(0, 30, idx.size)
    reports = Rows(idx[filed], np.minimum(filed_day[filed], due[filed]), rng.random(int(filed.sum())) < 0.03)
    missed = ~filed
    listed_idx = idx[missed]
    listed_day = due[missed] + rng.integers(1, 31, listed_idx.size)
    listed_ok = listed_day <= pop.stop[listed_idx]
    listed_idx, listed_day = listed_idx[listed_ok], listed_day[listed_ok]
    removed = rng.random(listed_idx.size) < REMOVED_AFTER_LISTING
    removed_day = listed_day + rng.integers(30, 400, listed_idx.size)
    removed &= removed_day <= pop.stop[listed_idx]
    years = pop.years
    other_n = rng.poisson(ABNORMAL_OTHER * years * np.exp(0.5 * pop.z))
    other_idx = np.repeat(np.arange(pop.z.size, dtype=np.int64), other_n)
    span = np.maximum(pop.stop - pop.start + 1, 1)[other_idx]
    other_day = pop.start[other_idx] + (rng.random(other_idx.size) * span).astype(np.int64)
    abnormal = Rows(
        np.concatenate([listed_idx, other_idx, listed_idx[removed]]),
        np.concatenate([listed_day, other_day, removed_day[removed]]),
        np.concatenate(
            [np.ones(listed_idx.size + other_idx.size, dtype=bool), np.zeros(int(removed.sum()), dtype=bool)]
        ),
    )
    return reports, abnormal


class TaxSampler:
    """Tax rows spread over entities by exposure (enterprises declare more often); the grade is one per
    entity-year, so many rows of one year do not each repeat an independent draw of the risk."""

    def __init__(self, pop: Population) -> None:
        self.pop = pop
        weight = pop.years * np.where(
            pop.kind == "individual", reference.TAX_ROWS["individual"], reference.TAX_ROWS["enterprise"]
        )
        self.cdf = np.cumsum(weight / max(float(weight.sum()), 1e-12))

    def draw(self, rng: np.random.Generator, k: int) -> Rows:
        idx = np.minimum(np.searchsorted(self.cdf, rng.random(k), side="right"), self.cdf.size - 1).astype(np.int64)
        span = np.maximum(self.pop.stop - self.pop.start + 1, 1)[idx]
        day = self.pop.start[idx] + (rng.random(k) * span).astype(np.int64)
        year = _years(day)
        # a per entity-year uniform from a fixed integer hash (no draw order to keep in step)
        h = (idx * 2_654_435_761 + year * 40_503 + 12_345) % 4_294_967_291
        u = (h * 1_103_515_245 % 4_294_967_291) / 4_294_967_291
        return Rows(idx, day, np.asarray(u < self.pop.risk[idx]))
