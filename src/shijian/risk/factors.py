"""The platform's risk factors: one row per entity, computed from the entity files as of a date (no look-ahead).

Inputs are three Parquet sources: the register snapshot (one row per entity: type, industry, town, capital,
establishment date, legal representative, address), the lake's linked records (``build/by_entity``: every
department's records with the entity they belong to) and the hazard library snapshot (entries with their opening
and closing times). ``compute(sources, as_of)`` uses only what was registered, recorded or opened *before*
``as_of``; with ``horizon_months`` it adds the label: whether the entity's first inspection in the following
months found a problem (null when it was not inspected then), and whether it was inspected at all in that window.

The catalogue below documents each factor (docs/risk-factors.md is generated from it) and gives the plain Chinese
phrase the entity page uses to explain a score.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from shijian.lake.steps import RESULT_OK

LICENCE_VALID_YEARS = 5


@dataclass(frozen=True)
class Factor:
    name: str
    zh: str  # short Chinese name
    en: str
    group: str  # register, inspections, enforcement, complaints, licences, credit, hazards, related
    numeric: bool
    describe: str  # how it is computed (English, for the catalogue)
    unit: str = ""  # the unit after the value in the Chinese phrase


CATALOGUE: tuple[Factor, ...] = (
    Factor(
        "age_years", "存续年限", "years in existence", "register", True, "years from establishment to the date", "年"
    ),
    Factor(
        "capital", "注册资本", "registered capital", "register", True, "registered/subscribed capital, 10k yuan", "万元"
    ),
    Factor("capital_missing", "注册资本缺失", "no capital declared", "register", True, "1 when no capital is declared"),
    Factor("entity_type", "主体类型", "entity type", "register", False, "company, individual business, branch, ..."),
    Factor("industry_section", "行业门类", "industry section", "register", False, "GB/T 4754-2017 section (letter)"),
    Factor(
        "industry_division", "行业大类", "industry division", "register", False, "GB/T 4754-2017 division (2 digits)"
    ),
    Factor("town_code", "所在镇街", "town / street", "register", False, "the 9-digit town or street code"),
    Factor("records", "部门记录数", "records", "register", True, "records from every department before the date", "条"),
    Factor(
        "departments", "涉及部门数", "departments", "register", True, "departments with a record before the date", "个"
    ),
    Factor("changes", "变更登记次数", "registration changes", "register", True, "registration changes, all time", "次"),
    Factor(
        "changes_12m",
        "近一年变更次数",
        "changes, last 12 months",
        "register",
        True,
        "changes in the 365 days before",
        "次",
    ),
    Factor("inspections", "历史检查次数", "inspections", "inspections", True, "inspections before the date", "次"),
    Factor(
        "inspections_failed",
        "历史检查发现问题次数",
        "inspections with findings",
        "inspections",
        True,
        "inspections whose result was not 未发现问题",
        "次",
    ),
    Factor(
        "failed_12m",
        "近一年检查发现问题次数",
        "findings, last 12 months",
        "inspections",
        True,
        "inspections with findings in the 365 days before",
        "次",
    ),
    Factor(
        "fail_rate",
        "历史检查问题率",
        "share of inspections with findings",
        "inspections",
        True,
        "inspections_failed / inspections (missing when never inspected)",
    ),
    Factor(
        "days_since_inspection",
        "距上次检查天数",
        "days since the last inspection",
        "inspections",
        True,
        "missing when never inspected",
        "天",
    ),
    Factor(
        "days_since_finding",
        "距上次发现问题天数",
        "days since the last finding",
        "inspections",
        True,
        "missing when nothing was ever found",
        "天",
    ),
    Factor(
        "penalties", "行政处罚次数", "administrative penalties", "enforcement", True, "penalties before the date", "次"
    ),
    Factor(
        "penalties_12m",
        "近一年行政处罚次数",
        "penalties, last 12 months",
        "enforcement",
        True,
        "penalties in the 365 days before",
        "次",
    ),
    Factor(
        "penalty_amount", "处罚金额", "penalty amount", "enforcement", True, "sum of penalty amounts, 10k yuan", "万元"
    ),
    Factor(
        "complaints",
        "投诉举报次数",
        "complaints",
        "complaints",
        True,
        "complaints and 12315 reports before the date",
        "次",
    ),
    Factor(
        "complaints_12m",
        "近一年投诉举报次数",
        "complaints, last 12 months",
        "complaints",
        True,
        "complaints in the 365 days before",
        "次",
    ),
    Factor(
        "licences_held",
        "有效许可证数",
        "licences held",
        "licences",
        True,
        f"valid licences issued in the {LICENCE_VALID_YEARS} years before",
        "个",
    ),
    Factor(
        "licences_expired",
        "过期或注销许可证数",
        "licences expired or cancelled",
        "licences",
        True,
        f"licences cancelled, expired, or issued more than {LICENCE_VALID_YEARS} years before",
        "个",
    ),
    Factor(
        "abnormal_listings",
        "经营异常名录列入次数",
        "abnormal-operation listings",
        "credit",
        True,
        "listings (not removals) before the date",
        "次",
    ),
    Factor(
        "annual_reports_late",
        "年报逾期或未公示次数",
        "annual reports late or missing",
        "credit",
        True,
        "annual reports 逾期公示 or 未公示",
        "次",
    ),
    Factor("litigation", "涉诉次数", "lawsuits", "credit", True, "court cases before the date", "次"),
    Factor(
        "litigation_defendant",
        "作为被告或被执行人次数",
        "as defendant or judgment debtor",
        "credit",
        True,
        "court cases as 被告 or 被执行人",
        "次",
    ),
    Factor(
        "tax_grade", "纳税信用等级", "tax credit grade", "credit", False, "the latest grade before the date (A–D, M)"
    ),
    Factor(
        "hazards", "问题隐患条目数", "hazard-library entries", "hazards", True, "entries opened before the date", "条"
    ),
    Factor(
        "hazards_12m",
        "近一年问题隐患条目数",
        "entries, last 12 months",
        "hazards",
        True,
        "entries opened in the 365 days before",
        "条",
    ),
    Factor("hazards_open", "未整改隐患数", "entries still open", "hazards", True, "entries open at the date", "条"),
    Factor(
        "related_rep",
        "同一法定代表人的失信主体数",
        "related by legal representative",
        "related",
        True,
        "other entities with the same legal representative that were penalised or listed before the date",
        "户",
    ),
    Factor(
        "related_address",
        "同一地址的失信主体数",
        "related by address",
        "related",
        True,
        "other entities at the same address that were penalised or listed before the date",
        "户",
    ),
)
FACTORS = {f.name: f for f in CATALOGUE}
NUMERIC = [f.name for f in CATALOGUE if f.numeric]
CATEGORICAL = [f.name for f in CATALOGUE if not f.numeric]
LABEL = "label"  # the first inspection in the window after the date found a problem (null: not inspected)
KEY = "entity_id"


@dataclass(frozen=True)
class Sources:
    register: Path  # Parquet: id, entity_type, industry_code, industry_section, town_code, registered_capital,
    # established_on, legal_rep, address
    records: list[str]  # Parquet files of linked records (entity_id, source, record_type, event_date, amount, result)
    hazards: Path | None = None  # Parquet: entity_id, opened_on, closed_on
    # Parquet of the platform's own decided penalties (shijian.cases), shaped like records (source 'platform')
    penalties: Path | None = None

    def describe(self) -> dict[str, object]:
        out: dict[str, object] = {
            "register": str(self.register),
            "record_files": len(self.records),
            "hazards": str(self.hazards or ""),
        }
        if self.penalties is not None:
            out["penalties"] = str(self.penalties)
        return out


def _q(p: Path | str) -> str:
    return "'" + str(p).replace("'", "''") + "'"


def _connect(threads: int | None = None) -> duckdb.DuckDBPyConnection:
    import os
    import tempfile

    con = duckdb.connect(
        config={
            "threads": threads or os.cpu_count() or 2,
            "preserve_insertion_order": True,
            # bounded memory at any scale: DuckDB spills past this (the build's setting, SHIJIAN_BUILD_MEMORY)
            "memory_limit": os.environ.get("SHIJIAN_BUILD_MEMORY", "4GB"),
            "temp_directory": str(Path(tempfile.gettempdir()) / f"shijian-duckdb-{os.getpid()}"),
        }
    )
    con.execute("SET enable_progress_bar = false")
    return con


def data_end(sources: Sources) -> dt.date | None:
    """The day after the last dated record: labels are complete up to here."""
    if not sources.records:
        return None
    con = _connect()
    row = con.execute(f"SELECT max(event_date) FROM read_parquet({sources.records!r})").fetchone()
    con.close()
    if not row or row[0] is None:
        return None
    last: dt.date = row[0]
    return last + dt.timedelta(days=1)


def compute(
    sources: Sources,
    as_of: dt.date,
    horizon_months: int | None = None,
    entity_ids: list[int] | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> pa.Table:
    """The factor table as of ``as_of`` (and the label over the following ``horizon_months``), sorted by entity."""
    con = con or _connect()
    ok = RESULT_OK
    if sources.records:
        con.execute(f"CREATE OR REPLACE TEMP VIEW recs_lake AS SELECT * FROM read_parquet({sources.records!r})")
    else:
        con.execute(
            "CREATE OR REPLACE TEMP VIEW recs_lake AS SELECT NULL::BIGINT AS entity_id, ''::VARCHAR AS source, "
            "''::VARCHAR AS record_type, NULL::DATE AS event_date, NULL::DOUBLE AS amount, ''::VARCHAR AS result "
            "WHERE false"
        )
    if sources.penalties and sources.penalties.exists():
        con.execute(
            "CREATE OR REPLACE TEMP VIEW recs AS SELECT * FROM recs_lake UNION ALL BY NAME "
            f"SELECT * FROM read_parquet({_q(sources.penalties)})"
        )
    else:
        con.execute("CREATE OR REPLACE TEMP VIEW recs AS SELECT * FROM recs_lake")
    if sources.hazards and sources.hazards.exists():
        con.execute(f"CREATE OR REPLACE TEMP VIEW haz AS SELECT * FROM read_parquet({_q(sources.hazards)})")
    else:
        con.execute(
            "CREATE OR REPLACE TEMP VIEW haz AS SELECT NULL::BIGINT AS entity_id, NULL::DATE AS opened_on, "
            "NULL::DATE AS closed_on WHERE false"
        )
    only = ""
    params: list[object] = [as_of]
    if entity_ids is not None:
        con.execute("CREATE OR REPLACE TEMP TABLE wanted AS SELECT unnest(?::BIGINT[]) AS id", [entity_ids])
        only = "AND id IN (SELECT id FROM wanted)"
    lic_from = dt.date(as_of.year - LICENCE_VALID_YEARS, as_of.month, min(as_of.day, 28))
    year_ago = as_of - dt.timedelta(days=365)
    if horizon_months:
        end = _add_months(as_of, horizon_months)
        label_sql = f"""
            , future AS (
                SELECT entity_id, arg_min(result NOT IN {ok}, event_date) AS label
                FROM recs
                WHERE record_type = 'inspection' AND event_date >= DATE '{as_of}' AND event_date < DATE '{end}'
                GROUP BY entity_id
            )"""
        label_cols = ", f.label AS label, (f.entity_id IS NOT NULL) AS inspected_next"
        label_join = "LEFT JOIN future f ON f.entity_id = r.id"
    else:
        label_sql = label_cols = label_join = ""
    sql = f"""
    WITH reg AS (
        SELECT * FROM read_parquet({_q(sources.register)})
        WHERE (established_on IS NULL OR established_on < ?) {only}
    ),
    past AS (
        SELECT entity_id,
            count(*) AS records,
            count(DISTINCT source) AS departments,
            count(*) FILTER (WHERE record_type = 'registration_change') AS changes,
            count(*) FILTER (WHERE record_type = 'registration_change' AND event_date >= DATE '{year_ago}')
                AS changes_12m,
            count(*) FILTER (WHERE record_type = 'inspection') AS inspections,
            count(*) FILTER (WHERE record_type = 'inspection' AND result NOT IN {ok}) AS inspections_failed,
            count(*) FILTER (WHERE record_type = 'inspection' AND result NOT IN {ok}
                             AND event_date >= DATE '{year_ago}') AS failed_12m,
            date_diff('day', max(event_date) FILTER (WHERE record_type = 'inspection'), DATE '{as_of}')
                AS days_since_inspection,
            date_diff('day', max(event_date) FILTER (WHERE record_type = 'inspection' AND result NOT IN {ok}),
                      DATE '{as_of}') AS days_since_finding,
            count(*) FILTER (WHERE record_type = 'penalty') AS penalties,
            count(*) FILTER (WHERE record_type = 'penalty' AND event_date >= DATE '{year_ago}') AS penalties_12m,
            coalesce(sum(amount) FILTER (WHERE record_type = 'penalty'), 0) AS penalty_amount,
            count(*) FILTER (WHERE record_type = 'complaint') AS complaints,
            count(*) FILTER (WHERE record_type = 'complaint' AND event_date >= DATE '{year_ago}') AS complaints_12m,
            count(*) FILTER (WHERE record_type = 'licence' AND result IN ('有效', '')
                             AND event_date >= DATE '{lic_from}') AS licences_held,
            count(*) FILTER (WHERE record_type = 'licence' AND (result NOT IN ('有效', '')
                             OR event_date < DATE '{lic_from}')) AS licences_expired,
            count(*) FILTER (WHERE record_type = 'abnormal' AND result <> '已移出') AS abnormal_listings,
            count(*) FILTER (WHERE record_type = 'annual_report' AND result IN ('逾期公示', '未公示'))
                AS annual_reports_late,
            count(*) FILTER (WHERE record_type = 'litigation') AS litigation,
            count(*) FILTER (WHERE record_type = 'litigation' AND result IN ('被告', '被执行人'))
                AS litigation_defendant,
            arg_max(result, event_date) FILTER (WHERE record_type = 'tax') AS tax_grade
        FROM recs
        WHERE event_date < DATE '{as_of}'
        GROUP BY entity_id
    ),
    hz AS (
        SELECT entity_id, count(*) AS hazards,
               count(*) FILTER (WHERE opened_on >= DATE '{year_ago}') AS hazards_12m,
               count(*) FILTER (WHERE closed_on IS NULL OR closed_on >= DATE '{as_of}') AS hazards_open
        FROM haz WHERE opened_on < DATE '{as_of}' GROUP BY entity_id
    ),
    flagged AS (
        SELECT r.id, r.legal_rep, regexp_replace(coalesce(r.address, ''), '\\s+', '', 'g') AS address_key,
               (coalesce(p.penalties, 0) + coalesce(p.abnormal_listings, 0) > 0)::INT AS bad
        FROM read_parquet({_q(sources.register)}) r LEFT JOIN past p ON p.entity_id = r.id
        WHERE r.established_on IS NULL OR r.established_on < DATE '{as_of}'
    ),
    related AS (
        SELECT id,
               CASE WHEN coalesce(legal_rep, '') <> '' THEN sum(bad) OVER (PARTITION BY legal_rep) - bad ELSE 0 END
                   AS related_rep,
               CASE WHEN address_key <> '' THEN sum(bad) OVER (PARTITION BY address_key) - bad ELSE 0 END
                   AS related_address
        FROM flagged
    )
    {label_sql}
    SELECT r.id AS entity_id,
           date_diff('day', r.established_on, DATE '{as_of}') / 365.25 AS age_years,
           CAST(r.registered_capital AS DOUBLE) AS capital,
           (r.registered_capital IS NULL)::INT::DOUBLE AS capital_missing,
           coalesce(r.entity_type, '') AS entity_type,
           coalesce(r.industry_section, '') AS industry_section,
           coalesce(substr(r.industry_code, 1, 2), '') AS industry_division,
           coalesce(r.town_code, '') AS town_code,
           {", ".join(f"coalesce(p.{c}, 0)::DOUBLE AS {c}" for c in _PAST_COUNTS)},
           CASE WHEN p.inspections > 0 THEN p.inspections_failed / p.inspections END AS fail_rate,
           p.days_since_inspection::DOUBLE AS days_since_inspection,
           p.days_since_finding::DOUBLE AS days_since_finding,
           coalesce(p.tax_grade, '') AS tax_grade,
           coalesce(h.hazards, 0)::DOUBLE AS hazards,
           coalesce(h.hazards_12m, 0)::DOUBLE AS hazards_12m,
           coalesce(h.hazards_open, 0)::DOUBLE AS hazards_open,
           coalesce(rel.related_rep, 0)::DOUBLE AS related_rep,
           coalesce(rel.related_address, 0)::DOUBLE AS related_address
           {label_cols}
    FROM reg r
    LEFT JOIN past p ON p.entity_id = r.id
    LEFT JOIN hz h ON h.entity_id = r.id
    LEFT JOIN related rel ON rel.id = r.id
    {label_join}
    ORDER BY r.id
    """
    return con.sql(sql, params=params).to_arrow_table()


_PAST_COUNTS = (
    "records", "departments", "changes", "changes_12m", "inspections", "inspections_failed", "failed_12m",
    "penalties", "penalties_12m", "penalty_amount", "complaints", "complaints_12m", "licences_held",
    "licences_expired", "abnormal_listings", "annual_reports_late", "litigation", "litigation_defendant",
)  # fmt: skip


def _add_months(d: dt.date, months: int) -> dt.date:
    m = d.month - 1 + months
    y, m = d.year + m // 12, m % 12 + 1
    import calendar

    return dt.date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def add_months(d: dt.date, months: int) -> dt.date:
    """``d`` plus (or minus) whole months, the day clipped to the month's last."""
    return _add_months(d, months)


ENTITY_TYPES_ZH = {
    "llc": "有限责任公司", "joint_stock": "股份有限公司", "state_owned": "非公司企业法人", "foreign": "外商投资企业",
    "partnership": "合伙企业", "sole": "个人独资企业", "branch": "分支机构", "individual": "个体工商户",
    "cooperative": "农民专业合作社",
}  # fmt: skip


def _code_name(name: str, value: str) -> str:
    """The Chinese name of a coded value (type, industry, town), with the code."""
    from shijian.core.codes import tables

    if name == "entity_type":
        return ENTITY_TYPES_ZH.get(value, value)
    if name in ("industry_division", "industry_section"):
        ind = tables.industries().get(value)
        return f"{ind.name}（{value}）" if ind else value
    if name == "town_code":
        div = tables.divisions().get(value)
        return div.name if div else value
    return value


def phrase(name: str, value: object, contribution: float) -> str:
    """One factor of an explanation in plain Chinese, e.g. 「近一年行政处罚次数：3次，风险升高」."""
    f = FACTORS.get(name)
    label = f.zh if f else _dataset_label(name)
    if value is None or (isinstance(value, float) and value != value):  # missing (NaN)
        shown = "无记录"
    elif name.endswith("_rate") and isinstance(value, int | float):
        shown = f"{100 * value:.0f}%"
    elif isinstance(value, float):
        shown = f"{value:,.1f}".removesuffix(".0") + (f.unit if f else "")
    elif value == "":
        shown = "无"
    elif f is not None and not f.numeric:
        shown = _code_name(name, str(value))
    else:
        shown = str(value) + (f.unit if f and f.numeric else "")
    direction = "风险升高" if contribution > 0 else "风险降低"
    return f"{label}：{shown}，{direction}"


def _dataset_label(name: str) -> str:
    """A shared dataset's factor (Chicago, CCF) by its Chinese name where Django's translations are set up."""
    from django.conf import settings

    if not settings.configured:
        return name
    from shijian.risk import labels

    return labels.dataset_factor(name)


def reasons(contributions: list[tuple[str, float]], values: dict[str, object]) -> list[tuple[str, float]]:
    """A row's largest contributions (as ``Model.explain`` gives them: a factor, or an encoded "factor=level" or
    "factor_missing") as plain Chinese phrases with the row's values."""
    out = []
    for name, contribution in contributions:
        base = name.split("=")[0].removesuffix("_missing")
        out.append((phrase(base, values.get(base), contribution), contribution))
    return out


def catalogue_markdown() -> str:
    """docs/risk-factors.md: the factor catalogue."""
    lines = [
        "# Risk factor catalogue (风险因子目录)",
        "",
        "Generated from `src/shijian/risk/factors.py` (`shijian risk factors --markdown`). Every factor is computed",
        "as of a date from what was registered, recorded or opened before that date (no look-ahead).",
        "",
        "| factor | 中文 | group | type | how |",
        "|---|---|---|---|---|",
    ]
    for f in CATALOGUE:
        kind = "number" if f.numeric else "category"
        lines.append(f"| `{f.name}` | {f.zh} | {f.group} | {kind} | {f.describe} |")
    lines += [
        "",
        "Label (`label`): the entity's first inspection within the horizon after the date (3 months by default)",
        "found a problem (any result other than 未发现问题); empty when it was not inspected in that window",
        "(`inspected_next`), and such rows are left out of training and evaluation. This is Chicago's question (will",
        "the next inspection find a violation?) and the one the draw's class ratios act on. Inspected entities are",
        "not a random sample where inspections are targeted: the purely random share of each plan measures the",
        "model's real uplift (`shijian risk uplift`, docs/risk.md).",
        "",
    ]
    return "\n".join(lines + _shared_catalogue())


def _shared_catalogue() -> list[str]:
    """The shared datasets' factors and what of each is known at the moment of scoring."""
    from django.utils import translation

    from shijian.risk import ccf, chicago, labels

    lines = [
        "## The shared datasets: what is known at the moment of scoring",
        "",
        "One feature function per dataset describes an entity as known on a date; training (each outcome as of its",
        "own date), `risk evaluate`, `risk backtest` and `risk score` (as of the scoring date) all call it.",
        "",
        "### Chicago food inspections (`risk/chicago.py`, key: licence number)",
        "",
        "| factor | known on the date |",
        "|---|---|",
    ]
    lines += [f"| `{name}` | {how} |" for name, how in chicago.KNOWN.items()]
    with translation.override("en"):
        lines += [f"| ~~`{name}`~~ (dropped) | {labels.dropped_reason(why)} |" for name, why in chicago.DROPPED.items()]
    lines += ["", "### CCF enterprises (`risk/ccf.py`, key: enterprise id)", "", "| factor | known on the date |",
              "|---|---|"]  # fmt: skip
    lines += [f"| `{name}` | {how} |" for name, how in ccf.KNOWN.items()]
    lines += [
        "",
        "An id in no table gets the base features (present nowhere, counts 0, the rest missing) and a note.",
        "",
    ]
    return lines
