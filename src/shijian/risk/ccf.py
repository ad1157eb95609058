"""The CCF BDCI 2020 enterprise-risk data (../shared/data/ccf2020_enterprise_risk): outcomes (10,000 labelled
enterprises; label 1 = illegal fund-raising risk) and ONE feature function, ``features``, for any enterprise id:
the labelled ones, the thousands present only in the side tables, and ids in no table at all (base features).

The base registration table is not shared, so features come from the side tables: annual reports, tax records,
news sentiment and legal/other records, aggregated per enterprise. Being present in a side table is itself
predictive of the label, so presence is an explicit feature and a presence-only model is reported as a baseline:
whatever the full model adds beyond it is what the contents of the records are worth.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

PRESENCE = ["in_annual", "in_tax", "in_news", "in_other"]
NUMERIC = [
    *PRESENCE,
    "annual_reports",
    "annual_last_year",
    "annual_employees",
    "annual_website",
    "annual_foreign_invest",
    "annual_stock_transfer",
    "annual_state_mean",
    "tax_records",
    "tax_categories",
    "tax_amount",
    "tax_amount_max",
    "tax_rate_mean",
    "news",
    "news_negative",
    "news_positive",
    "news_negative_share",
    "legal_judgments",
    "brands",
    "patents",
]


_ANN = "annual reports due before the date (year Y's by 30 June of Y+1)"
KNOWN = {
    "in_annual": f"any of the {_ANN}",
    "in_tax": "any tax record whose period ended before the date",
    "in_news": "any news item published before the date",
    "in_other": "any legal/brand/patent record (undated: only without a date)",
    **{c: _ANN for c in NUMERIC if c.startswith("annual_")},
    **{c: "tax records whose period ended before the date" for c in NUMERIC if c.startswith("tax_")},
    **{c: "news published before the date" for c in NUMERIC if c.startswith("news")},
    **{c: "the undated other-information table: used only when scoring without a date" for c in NUMERIC[-3:]},
}


def outcomes(folder: Path) -> pa.Table:
    """The labelled enterprises: id, label (the labels carry no date)."""
    f = _files(folder)
    return (
        duckdb.connect()
        .sql(
            f"SELECT id, CAST(label AS INTEGER) = 1 AS label FROM read_csv('{f['labels']}', header = true) ORDER BY id"
        )
        .to_arrow_table()
    )


def _files(folder: Path) -> dict[str, str]:
    files = {n: folder / f"{n}.csv" for n in ("labels", "annual_report_info", "tax_info", "news_info", "other_info")}
    missing = [str(p) for p in files.values() if not p.exists()]
    if missing:
        raise FileNotFoundError(f"CCF data missing: {', '.join(missing)}")
    return {k: str(v) for k, v in files.items()}


def features(folder: Path, ids: Sequence[str], as_of: dt.date | None = None) -> pa.Table:
    """One row per requested id, in request order: id, known (the id is in some table, labels included), NUMERIC.
    An id with no records gets the base features (not present anywhere, counts 0, the rest missing). With
    ``as_of``, only what was known before that date: tax periods that ended before it, news published before it,
    annual reports due before it (year Y's report by 30 June of Y+1); the undated other-information table
    (judgments, brands, patents) is left out entirely."""
    f = _files(folder)
    con = duckdb.connect(config={"threads": 1})  # one thread: sums in the same order, the same answer every time
    con.register("req", pa.table({"rid": pa.array(range(len(ids)), pa.int64()), "id": pa.array(ids, pa.string())}))
    when_ann = when_tax = when_news = "true"
    when_oth = "true"
    if as_of is not None:
        last_year = as_of.year - 2 if as_of < dt.date(as_of.year, 7, 1) else as_of.year - 1
        when_ann = f"ANCHEYEAR <= {last_year}"
        when_tax = f"CAST(END_DATE AS DATE) < DATE '{as_of}'"
        when_news = f"TRY_CAST(public_date AS DATE) < DATE '{as_of}'"
        when_oth = "false"
    sql = f"""
    WITH every AS (
        SELECT id FROM read_csv('{f["labels"]}', header = true)
        UNION SELECT id FROM read_csv('{f["annual_report_info"]}', header = true)
        UNION SELECT id FROM read_csv('{f["tax_info"]}', header = true)
        UNION SELECT id FROM read_csv('{f["news_info"]}', header = true)
        UNION SELECT id FROM read_csv('{f["other_info"]}', header = true)
    ),
    ann AS (
        SELECT id, count(*) AS annual_reports, max(ANCHEYEAR) AS annual_last_year, avg(EMPNUM) AS annual_employees,
               avg(CASE WHEN WEBSITSIGN = 1 THEN 1 ELSE 0 END) AS annual_website,
               avg(CASE WHEN FORINVESTSIGN = 1 THEN 1 ELSE 0 END) AS annual_foreign_invest,
               avg(CASE WHEN STOCKTRANSIGN = 1 THEN 1 ELSE 0 END) AS annual_stock_transfer,
               avg(STATE) AS annual_state_mean
        FROM read_csv('{f["annual_report_info"]}', header = true) WHERE {when_ann} GROUP BY id
    ),
    tax AS (
        SELECT id, count(*) AS tax_records, count(DISTINCT TAX_CATEGORIES) AS tax_categories,
               sum(TAX_AMOUNT) AS tax_amount, max(TAX_AMOUNT) AS tax_amount_max, avg(TAX_RATE) AS tax_rate_mean
        FROM read_csv('{f["tax_info"]}', header = true) WHERE {when_tax} GROUP BY id
    ),
    news AS (
        SELECT id, count(*) AS news, count(*) FILTER (WHERE positive_negtive = '消极') AS news_negative,
               count(*) FILTER (WHERE positive_negtive = '积极') AS news_positive
        FROM read_csv('{f["news_info"]}', header = true) WHERE {when_news} GROUP BY id
    ),
    oth AS (
        SELECT id, sum(legal_judgment_num) AS legal_judgments, sum(brand_num) AS brands, sum(patent_num) AS patents
        FROM read_csv('{f["other_info"]}', header = true) WHERE {when_oth} GROUP BY id
    )
    SELECT req.id, (every.id IS NOT NULL) AS known,
           (ann.id IS NOT NULL)::DOUBLE AS in_annual, (tax.id IS NOT NULL)::DOUBLE AS in_tax,
           (news.id IS NOT NULL)::DOUBLE AS in_news, (oth.id IS NOT NULL)::DOUBLE AS in_other,
           annual_reports::DOUBLE AS annual_reports, annual_last_year::DOUBLE AS annual_last_year,
           annual_employees::DOUBLE AS annual_employees, annual_website::DOUBLE AS annual_website,
           annual_foreign_invest::DOUBLE AS annual_foreign_invest,
           annual_stock_transfer::DOUBLE AS annual_stock_transfer,
           annual_state_mean::DOUBLE AS annual_state_mean,
           tax_records::DOUBLE AS tax_records, tax_categories::DOUBLE AS tax_categories,
           tax_amount::DOUBLE AS tax_amount, tax_amount_max::DOUBLE AS tax_amount_max,
           tax_rate_mean::DOUBLE AS tax_rate_mean,
           coalesce(news, 0)::DOUBLE AS news, coalesce(news_negative, 0)::DOUBLE AS news_negative,
           coalesce(news_positive, 0)::DOUBLE AS news_positive,
           CASE WHEN news > 0 THEN news_negative / news END::DOUBLE AS news_negative_share,
           legal_judgments::DOUBLE AS legal_judgments, brands::DOUBLE AS brands, patents::DOUBLE AS patents
    FROM req LEFT JOIN every USING (id)
    LEFT JOIN ann USING (id) LEFT JOIN tax USING (id) LEFT JOIN news USING (id) LEFT JOIN oth USING (id)
    ORDER BY req.rid
    """
    return con.sql(sql).to_arrow_table()


def load(folder: Path, as_of: dt.date | None = None) -> pa.Table:
    """The labelled enterprises described by ``features`` (as of ``as_of``): id, label, known, NUMERIC."""
    out = outcomes(folder)
    feats = features(folder, out["id"].to_pylist(), as_of)
    return out.append_column("known", feats["known"]).join(feats.drop_columns(["known"]), "id").sort_by("id")
