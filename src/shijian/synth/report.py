"""Realism report of a generated district: each measured rate beside its reference (``synth/reference.py``).

Measured from the district's truth (``truth/entities.parquet`` and ``truth/records/*.parquet``, which carry each
record's entity, day and whether it went against the entity), so it needs no load or ingest.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb

from shijian.synth import reference

RECORD_TYPES = (*reference.EVENT_TYPES, "abnormal", "annual_report", "tax")


@dataclass(frozen=True)
class Line:
    ref: reference.Reference
    measured: float

    @property
    def ok(self) -> bool:
        return self.ref.contains(self.measured)

    @property
    def ratio(self) -> float:
        return self.measured / self.ref.value if self.ref.value else float("nan")


def _records_view(con: duckdb.DuckDBPyConnection, folder: Path) -> None:
    pattern = str(folder / "truth" / "records" / "*.parquet")
    types = "|".join(RECORD_TYPES)
    con.execute(
        f"""CREATE VIEW rec AS SELECT entity_no, event_date, adverse,
            regexp_extract(filename, '_({types})_[0-9]+\\.parquet$', 1) AS record_type
            FROM read_parquet('{pattern}', filename = true)"""
    )


def measure(folder: Path) -> dict[str, float]:
    """Every rate the references name, measured on the district under ``folder``."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    start = dt.date.fromisoformat(manifest["feeds"]["start"])
    end = dt.date.fromisoformat(manifest["feeds"]["end"])
    con = duckdb.connect()
    _records_view(con, folder)
    con.execute(
        f"""CREATE TABLE ent AS SELECT entity_no,
              CASE WHEN entity_type = 'individual' THEN 'individual' ELSE 'enterprise' END AS kind,
              established_on,
              greatest(0, datediff('day', greatest(established_on, DATE '{start}'),
                                   least(coalesce(closed_on, DATE '{end}'), DATE '{end}')) + 1) / 365.25 AS years
            FROM read_parquet('{folder / "truth" / "entities.parquet"}')"""
    )
    con.execute(
        """CREATE TABLE per AS SELECT e.entity_no, e.kind, e.years, e.established_on, r.record_type,
                  count(r.record_type) AS n, count(*) FILTER (WHERE r.adverse) AS n_bad
           FROM ent e LEFT JOIN rec r USING (entity_no) GROUP BY ALL"""
    )
    out: dict[str, float] = {}

    def one(sql: str) -> float:
        row = con.execute(sql).fetchone()
        return float(row[0]) if row and row[0] is not None else 0.0

    def rate(rtype: str, kind: str | None) -> float:
        cond = f"AND kind = '{kind}'" if kind else ""
        events = one(f"SELECT sum(n) FROM per WHERE record_type = '{rtype}' {cond}")
        years = one(f"SELECT sum(years) FROM ent WHERE true {cond}")
        return events / years if years else 0.0

    def share(rtype: str, kind: str | None = None, column: str = "n") -> float:
        cond = f"AND kind = '{kind}'" if kind else ""
        hit = one(f"SELECT count(DISTINCT entity_no) FROM per WHERE record_type = '{rtype}' AND {column} > 0 {cond}")
        return hit / max(one(f"SELECT count(*) FROM ent WHERE years >= 1 {cond}"), 1.0)

    def top5(rtype: str) -> float:
        return one(
            f"""WITH c AS (SELECT e.entity_no, coalesce(sum(p.n), 0) AS n FROM ent e LEFT JOIN per p
                  ON p.entity_no = e.entity_no AND p.record_type = '{rtype}' WHERE e.years > 0 GROUP BY ALL),
                r AS (SELECT n, row_number() OVER (ORDER BY n DESC) AS k, count(*) OVER () AS m FROM c)
                SELECT sum(n) FILTER (WHERE k <= m * 0.05) / nullif(sum(n), 0) FROM r"""
        )

    for rtype in ("inspection", "penalty", "litigation", "tax"):
        for kind in reference.KINDS:
            out[f"{rtype}.rate.{kind}"] = rate(rtype, kind)
    for rtype in ("complaint", "licence", "registration_change"):
        out[f"{rtype}.rate.all"] = rate(rtype, None)
    out["annual_report.rate"] = rate("annual_report", None)
    out["inspection.finding"] = one("SELECT avg(adverse::INT) FROM rec WHERE record_type = 'inspection'")
    out["inspection.finding.ceiling"] = one(
        f"""WITH x AS (SELECT r.adverse, rank() OVER (ORDER BY t.risk) AS k FROM rec r
                JOIN read_parquet('{folder / "truth" / "entities.parquet"}') t USING (entity_no)
                WHERE r.record_type = 'inspection'),
            n AS (SELECT count(*) FILTER (WHERE adverse) AS pos, count(*) FILTER (WHERE NOT adverse) AS neg FROM x)
            SELECT (sum(k) FILTER (WHERE adverse) - any_value(pos) * (any_value(pos) + 1) / 2.0)
                   / nullif(any_value(pos) * any_value(neg), 0) FROM x, n"""
    )
    out["penalty.share"] = share("penalty")
    out["complaint.share"] = share("complaint")
    out["litigation.share.enterprise"] = share("litigation", "enterprise")
    out["abnormal.share"] = share("abnormal", column="n_bad")
    out["penalty.top5"] = top5("penalty")
    out["litigation.top5"] = top5("litigation")
    out["bulk.share"] = one("SELECT avg((record_type IN ('tax', 'annual_report', 'licence'))::INT) FROM rec")
    young = f"established_on > DATE '{end}' - INTERVAL 183 DAY"
    n_young = max(one(f"SELECT count(*) FROM ent WHERE {young}"), 1.0)
    out["young.penalty_share"] = (
        one(f"SELECT count(DISTINCT entity_no) FROM per WHERE {young} AND record_type = 'penalty' AND n > 0") / n_young
    )
    out["young.records_ex_tax"] = (
        one(f"SELECT sum(n) FROM per WHERE {young} AND record_type IS NOT NULL AND record_type <> 'tax'") / n_young
    )
    out["foundings.max_year_share"] = one(
        "SELECT max(c) / sum(c) FROM (SELECT count(*) AS c FROM ent GROUP BY year(established_on))"
    )
    last = con.execute("SELECT max(event_date) FROM rec").fetchone()
    last_day = last[0] if last else None
    month_end = (end + dt.timedelta(days=1)).day == 1
    out["lake.last_month_complete"] = float(
        month_end and last_day is not None and (last_day.year, last_day.month) == (end.year, end.month)
    )
    con.close()
    return out


def compare(folder: Path) -> list[Line]:
    measured = measure(folder)
    return [Line(ref, measured[ref.key]) for ref in reference.REFERENCES]


def render(lines: list[Line]) -> str:
    head = f"{'figure':<32} {'measured':>10} {'reference':>10} {'range':>17} {'ratio':>6}  ok"
    rows = [head]
    for line in lines:
        r = line.ref
        rows.append(
            f"{r.key:<32} {line.measured:>10.4g} {r.value:>10.4g} {f'{r.low:.4g}-{r.high:.4g}':>17} "
            f"{line.ratio:>6.2f}  {'yes' if line.ok else 'NO'}"
        )
    return "\n".join(rows)
