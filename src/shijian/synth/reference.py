"""The reference figures a synthetic district is calibrated to, in one place.

The generator draws its rates from ``RATES`` and the realism report (``synth/report.py``) compares the generated
district with ``REFERENCES``; docs/data.md carries the same table (a test checks that it does). Each figure says
where it comes from: a real table under ``../shared/data`` (measured, the query is in docs/data.md), a public
statistic, or an assumption with a range. Rates are events per entity-year of exposure (from establishment, or the
lake's start, to closure or the lake's end); shares are of the entities exposed for at least a year.
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("enterprise", "individual")
EVENT_TYPES = (
    "inspection",
    "penalty",
    "complaint",
    "litigation",
    "licence",
    "registration_change",
)


@dataclass(frozen=True)
class Reference:
    key: str
    text: str
    value: float  # the point the generator aims at
    low: float  # the report fails outside [low, high]
    high: float
    source: str

    def contains(self, measured: float) -> bool:
        return self.low <= measured <= self.high


def _ref(key: str, text: str, value: float, source: str, span: tuple[float, float] | None = None) -> Reference:
    """A point reference is met within 1.5x either way; a stated range is met inside it."""
    low, high = span if span else (value / 1.5, value * 1.5)
    return Reference(key, text, value, low, high, source)


CHI = "Chicago food inspections 2011-09..2014-08 (../shared/data, 23_food_insp_features)"
CCF = "CCF BDCI 2020 enterprise risk (../shared/data)"
ASSUMED = "assumption (range)"

# Events per entity-year by kind: the generator's targets. Sources in REFERENCES below.
RATES: dict[str, dict[str, float]] = {
    "inspection": {"enterprise": 0.38, "individual": 0.24},
    "penalty": {"enterprise": 0.020, "individual": 0.010},
    "complaint": {"enterprise": 0.060, "individual": 0.040},
    "litigation": {"enterprise": 0.030, "individual": 0.005},
    "licence": {"enterprise": 0.12, "individual": 0.10},
    "registration_change": {"enterprise": 0.15, "individual": 0.05},
}
# Heavy tails: event counts are Poisson around an entity's rate times a gamma frailty of this shape (mean 1).
# Smaller is more concentrated; the report checks the share of events the top 5% of entities carry.
FRAILTY_SHAPE: dict[str, float] = {
    "inspection": 2.0,
    "penalty": 0.2,
    "complaint": 0.2,
    "litigation": 0.08,
    "licence": 1.5,
    "registration_change": 1.0,
}
ANNUAL_REPORT_FILED = {"enterprise": 0.90, "individual": 0.85}  # per due report, for an average entity
INSPECTION_FINDING = 0.12  # share of inspections that find a problem, for an average entity
TAX_ROWS = {"enterprise": 2.5, "individual": 1.0}  # relative weight of tax rows per entity-year

REFERENCES: tuple[Reference, ...] = (
    _ref(
        "inspection.rate.enterprise",
        "inspections per enterprise-year (all departments)",
        0.38,
        "Chicago canvass inspections 0.69 per food establishment-year (food is inspected most); 双随机 general "
        "items 3-5% a year per item; assumption 0.15-0.45",
        (0.15, 0.45),
    ),
    _ref(
        "inspection.rate.individual",
        "inspections per individual-business-year",
        0.24,
        "assumption, below enterprises (individual businesses are drawn at lower ratios)",
        (0.10, 0.30),
    ),
    _ref(
        "inspection.finding",
        "share of inspections that find a problem",
        0.12,
        f"{CHI}: fail 19.7%, critical 13.6%; published 双随机 results mostly 5-15% with problems",
        (0.08, 0.20),
    ),
    _ref(
        "inspection.finding.ceiling",
        "AUC of the truth's latent risk for an inspection's finding (about the best any model on it can score)",
        0.79,
        "set so that the platform's risk model lands where it does on real sets (Chicago GBM 0.69, CCF 0.77; "
        "docs/benchmarks.md), not above",
        (0.77, 0.84),
    ),
    _ref(
        "penalty.rate.enterprise",
        "administrative penalties per enterprise-year (all departments)",
        0.020,
        "SAMR and other departments decide a few million penalties a year over ~180M market entities: about "
        "1-3% a year; assumption",
        (0.010, 0.030),
    ),
    _ref(
        "penalty.rate.individual",
        "administrative penalties per individual-business-year",
        0.010,
        ASSUMED + ": about half the enterprises' rate",
        (0.005, 0.015),
    ),
    _ref(
        "penalty.share",
        "share of entities with at least one penalty",
        0.05,
        ASSUMED + ": most entities never meet a penalty",
        (0.02, 0.10),
    ),
    _ref(
        "penalty.top5",
        "share of penalties carried by the top 5% of entities",
        0.70,
        ASSUMED + f" (heavy tail; {CHI}: the top 5% of establishments carry 26% of fails, inspections being "
        "far more frequent than penalties)",
        (0.55, 1.0),
    ),
    _ref(
        "complaint.rate.all",
        "complaints per entity-year",
        0.05,
        "12315 received ~15M complaints a year over ~180M entities (0.08), concentrated on platforms and large "
        "firms; local assumption 0.03-0.08",
        (0.03, 0.08),
    ),
    _ref(
        "complaint.share",
        "share of entities with at least one complaint",
        0.10,
        f"{CHI}: 34% of food establishments failed at least once in three years; complaints rarer; assumption",
        (0.05, 0.20),
    ),
    _ref(
        "litigation.rate.enterprise",
        "lawsuits per enterprise-year",
        0.030,
        ASSUMED + ": courts decide ~30M civil cases a year, most between persons",
        (0.02, 0.06),
    ),
    _ref(
        "litigation.share.enterprise",
        "share of enterprises with at least one lawsuit",
        0.08,
        f"{CCF}: 7.6% of enterprises (1,888 of 24,865) have legal records (other_info)",
    ),
    _ref(
        "litigation.top5",
        "share of lawsuits carried by the top 5% of entities",
        0.75,
        ASSUMED + ": a few debtors carry most suits (CCF other_info: median 3 judgments, mean 14.8)",
        (0.55, 1.0),
    ),
    _ref(
        "abnormal.share",
        "share of entities ever on the abnormal-operations list",
        0.12,
        "SAMR annual-report rates ~90% (a missed report lists the entity); assumption 5-20%",
        (0.05, 0.20),
    ),
    _ref(
        "annual_report.rate",
        "annual reports per entity-year",
        0.80,
        f"{CCF}: 2.5 reports per reporting enterprise over 2015-2018 (0.63-0.84 a year); SAMR filing rate ~90%",
        (0.60, 0.95),
    ),
    _ref(
        "licence.rate.all",
        "licence records per entity-year",
        0.11,
        ASSUMED + ": a food or trade licence every few years, renewed every five",
        (0.05, 0.20),
    ),
    _ref(
        "registration_change.rate.all",
        "registration changes per entity-year",
        0.09,
        ASSUMED,
        (0.04, 0.15),
    ),
    _ref(
        "tax.rate.enterprise",
        "tax records per enterprise-year",
        30.0,
        f"{CCF}: 36 tax rows per enterprise with tax records, over a median span of one month (several taxes "
        "per declaration); monthly and quarterly filers: assumption 8-60 a year",
        (8.0, 60.0),
    ),
    _ref(
        "bulk.share",
        "share of records that are tax, annual reports and licences",
        0.93,
        ASSUMED + ": filings are the bulk of what departments hold",
        (0.85, 0.99),
    ),
    _ref(
        "young.penalty_share",
        "share of entities younger than six months with a penalty",
        0.002,
        ASSUMED + ": young businesses have little history",
        (0.0, 0.01),
    ),
    _ref(
        "young.records_ex_tax",
        "records other than tax per entity younger than six months",
        0.3,
        ASSUMED + ": a licence, perhaps an inspection",
        (0.0, 1.0),
    ),
    _ref(
        "foundings.max_year_share",
        "largest share of the register founded in one year",
        0.09,
        "SAMR: ~30M new entities a year since 2019 against a stock of ~180M, so no year dominates",
        (0.0, 0.12),
    ),
    _ref(
        "lake.last_month_complete",
        "the lake's last month is complete (1 = yes)",
        1.0,
        "the issue's rule: generate through the end of the last complete month before the as-of date",
        (1.0, 1.0),
    ),
)


def by_key() -> dict[str, Reference]:
    return {r.key: r for r in REFERENCES}


def markdown() -> str:
    """The reference table as docs/data.md carries it (a test keeps the two equal)."""
    rows = ["| figure | what | target | accepted | source |", "|---|---|---|---|---|"]
    for r in REFERENCES:
        rows.append(f"| `{r.key}` | {r.text} | {r.value:g} | {r.low:.4g}–{r.high:.4g} | {r.source} |")
    return "\n".join(rows)
