"""The Chicago food-inspection data (../shared/data/chicago_food_inspections): outcomes (canvass inspections and
whether they found a critical violation) and ONE feature function, ``features``, that describes an establishment
(a licence number) as known on a date. Training, backtests, ``risk evaluate`` and ``risk score`` all call it: a
training row is an inspection described as of its own date, a scored establishment is described as of the scoring
date. Everything dated on or after the date is ignored (the licence's address and facility type aside: they are
attributes of the licence, known before any inspection).

What is known on the date, per factor (docs/risk-factors.md):

- history: the establishment's latest inspection of any type before the date (its fail flag and critical, serious
  and minor counts), the years since it (capped at 2), whether there is none (firstRecord), and all its
  inspections before the date (how many, the share failed, the share with a critical violation);
- licences: the business-licence terms started before the date (activity flags; age since the first licence);
- heat (burglaries, garbage-cart and sanitation complaints nearby): the City computed a heat value at every
  inspection from the complaints before it; as of a date we take the mean of the values of the 5 inspections
  nearest to the establishment among those of the 90 days before the first of the date's month;
- inspector: sanitarians are assigned by area before the inspection, so the establishment's latest assignment
  before the date is known (the assignments and the inspector logs, both up to April 2014), or else the latest
  assignment in its ZIP code ('unknown' if neither);
- weather: dropped. The weather of an inspection's day is not known when the period's schedule is drawn up, and
  the weather before the scoring date is the same for every establishment, so it cannot rank them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
from scipy.spatial import cKDTree

KEY = "License"
LABEL = "criticalFound"
HISTORY = [
    "pastFail",
    "pastCritical",
    "pastSerious",
    "pastMinor",
    "timeSinceLast",
    "firstRecord",
    "pastInspections",
    "pastFailShare",
    "pastCriticalShare",
]
LICENCE_FLAGS = [
    "consumption_on_premises_incidental_activity",
    "tobacco",
    "package_goods",
    "outdoor_patio",
    "public_place_of_amusement",
    "limited_business_license",
    "childrens_services_facility_license",
    "tavern",
    "regulated_business_license",
    "filling_station",
    "caterers_liquor_license",
    "mobile_food_license",
]
HEAT = ["heat_burglary", "heat_garbage", "heat_sanitation"]
NUMERIC = [*HISTORY, "ageAtInspection", *LICENCE_FLAGS, *HEAT]
CATEGORICAL = ["Facility_Type", "Inspector_Assigned"]
DROPPED = {
    "precipIntensity": "weather: unknown for the inspection day when the schedule is drawn up; one value for all",
    "temperatureMax": "weather: unknown for the inspection day when the schedule is drawn up; one value for all",
    "windSpeed": "weather: unknown for the inspection day when the schedule is drawn up; one value for all",
    "humidity": "weather: unknown for the inspection day when the schedule is drawn up; one value for all",
}
_LAST = "the establishment's latest inspection (any type) before the date"
_LICENCE = "business-licence terms started before the date (any of them has the activity)"
_HEAT = "mean of the City's values at the 5 nearest inspections of the 90 days before the first of the month"
KNOWN = {
    "pastFail": f"failed at {_LAST}",
    "pastCritical": f"critical violations at {_LAST}",
    "pastSerious": f"serious violations at {_LAST}",
    "pastMinor": f"minor violations at {_LAST}",
    "timeSinceLast": "years since that inspection, capped at 2 (2 when none)",
    "firstRecord": "1 when the establishment has no inspection before the date",
    "pastInspections": "inspections of the establishment before the date",
    "pastFailShare": "share of them failed (missing when none)",
    "pastCriticalShare": "share of them with a critical violation (missing when none)",
    "ageAtInspection": "years from the first licence to the date",
    **{c: _LICENCE for c in LICENCE_FLAGS},
    "heat_burglary": f"burglaries nearby: {_HEAT}",
    "heat_garbage": f"garbage-cart complaints nearby: {_HEAT}",
    "heat_sanitation": f"sanitation complaints nearby: {_HEAT}",
    "Facility_Type": "the licence's facility type (an attribute of the licence)",
    "Inspector_Assigned": "assigned by area before the inspection: the establishment's latest assignment before the "
    "date, else its ZIP code's latest ('unknown' if neither; the assignment files end in April 2014)",
}
HEAT_DAYS = 90
HEAT_NEAREST = 5
FILES = {
    "insp": "23_food_insp_features.csv",
    "bus": "24_bus_features.csv",
    "who": "19_inspector_assignments.csv",
    "log": "inspectors.csv",
    "heat_burglary": "22_burglary_heat.csv",
    "heat_garbage": "22_garbageCarts_heat.csv",
    "heat_sanitation": "22_sanitationComplaints_heat.csv",
}


def _files(folder: Path) -> dict[str, str]:
    f = {k: folder / v for k, v in FILES.items()}
    missing = [str(p) for p in f.values() if not p.exists()]
    if missing:
        raise FileNotFoundError(f"Chicago data missing: {', '.join(missing)}")
    return {k: str(v) for k, v in f.items()}


def _inspections(con: duckdb.DuckDBPyConnection, f: dict[str, str]) -> None:
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE insp AS
    SELECT CAST(Inspection_ID AS BIGINT) AS Inspection_ID, CAST(CAST(License AS DOUBLE) AS BIGINT) AS License,
           CAST(Inspection_Date AS DATE) AS date, Inspection_Type, CAST(Zip AS DOUBLE) AS Zip,
           CAST(Latitude AS DOUBLE) AS lat, CAST(Longitude AS DOUBLE) AS lon, Facility_Type_Clean,
           CAST(fail_flag AS DOUBLE) AS fail_flag, CAST(criticalCount AS DOUBLE) AS criticalCount,
           CAST(seriousCount AS DOUBLE) AS seriousCount, CAST(minorCount AS DOUBLE) AS minorCount
    FROM read_csv('{f["insp"]}', header = true)
    WHERE License IS NOT NULL
    """)


def outcomes(folder: Path) -> pa.Table:
    """The canvass inspections: Inspection_ID, License, date, criticalFound (a critical violation found), by date."""
    con = duckdb.connect()
    _inspections(con, _files(folder))
    return con.sql(
        "SELECT Inspection_ID, License, date, criticalCount > 0 AS criticalFound FROM insp "
        "WHERE Inspection_Type = 'Canvass' ORDER BY date, Inspection_ID"
    ).to_arrow_table()


def features(folder: Path, licences: Sequence[int], dates: Sequence[dt.date | None]) -> pa.Table:
    """One row per (licence, date) request, in request order: License, date, known (any record of the licence),
    NUMERIC and CATEGORICAL, each as known on the date (see the module's docstring)."""
    if any(d is None for d in dates):
        raise ValueError("a Chicago establishment is described as of a date")
    f = _files(folder)
    con = duckdb.connect(config={"threads": 1})  # one thread: the same answer every time
    _inspections(con, f)
    req = pa.table({"rid": pa.array(range(len(licences)), pa.int64()), "License": pa.array(licences, pa.int64()),
                    "date": pa.array(dates, pa.date32())})  # fmt: skip
    con.register("req", req)
    flags = ", ".join(f"max(TRY_CAST(b.{c} AS DOUBLE)) AS {c}" for c in LICENCE_FLAGS)
    t = con.sql(f"""
    WITH place AS (
        SELECT License, first(Zip ORDER BY date, Inspection_ID) AS Zip, first(lat ORDER BY date, Inspection_ID) AS lat,
               first(lon ORDER BY date, Inspection_ID) AS lon,
               first(Facility_Type_Clean ORDER BY date, Inspection_ID) AS Facility_Type
        FROM insp GROUP BY License
    ),
    one AS (  -- two inspections of one establishment on one day count as one, the worse
        SELECT License, date, max(fail_flag) AS fail_flag, max(criticalCount) AS criticalCount,
               max(seriousCount) AS seriousCount, max(minorCount) AS minorCount
        FROM insp GROUP BY License, date
    ),
    day AS (
        SELECT *, count(*) OVER w AS n, sum((fail_flag > 0)::INT) OVER w AS n_fail,
               sum((criticalCount > 0)::INT) OVER w AS n_critical
        FROM one WINDOW w AS (PARTITION BY License ORDER BY date ROWS UNBOUNDED PRECEDING)
    ),
    last AS (
        SELECT r.rid, i.date AS last_date, i.fail_flag, i.criticalCount, i.seriousCount, i.minorCount, i.n,
               i.n_fail, i.n_critical
        FROM req r ASOF LEFT JOIN day i ON r.License = i.License AND r.date > i.date
    ),
    who AS (
        SELECT License, date, min(sanitarian) AS sanitarian FROM (
            SELECT i.License, i.date, s.sanitarian
            FROM insp i JOIN read_csv('{f["who"]}', header = true) s
            ON CAST(s.inspectionID AS BIGINT) = i.Inspection_ID
            UNION ALL
            SELECT TRY_CAST(License AS BIGINT), TRY_CAST(Inspection_Date AS DATE), Inspector_Assigned
            FROM read_csv('{f["log"]}', header = true, all_varchar = true)
        ) WHERE License IS NOT NULL AND date IS NOT NULL AND sanitarian IS NOT NULL GROUP BY License, date
    ),
    zone AS (
        SELECT p.Zip, w.date, min(w.sanitarian) AS sanitarian
        FROM who w JOIN place p USING (License) WHERE p.Zip IS NOT NULL GROUP BY p.Zip, w.date
    ),
    own AS (
        SELECT r.rid, w.sanitarian FROM req r ASOF JOIN who w ON r.License = w.License AND r.date > w.date
    ),
    area AS (
        SELECT r.rid, w.sanitarian
        FROM (SELECT req.*, place.Zip FROM req JOIN place USING (License)) r
        ASOF JOIN zone w ON r.Zip = w.Zip AND r.date > w.date
    ),
    terms AS (
        SELECT DISTINCT i.License, b.ID, TRY_CAST(b.LICENSE_TERM_START_DATE AS DATE) AS start,
               TRY_CAST(b.minDate AS DATE) AS first_licence, {", ".join(f"b.{c}" for c in LICENCE_FLAGS)}
        FROM read_csv('{f["bus"]}', header = true, all_varchar = true) b
        JOIN insp i ON i.Inspection_ID = CAST(CAST(b.Inspection_ID AS DOUBLE) AS BIGINT)
    ),
    lic AS (
        SELECT r.rid, min(b.first_licence) AS first_licence, {flags}
        FROM req r JOIN terms b ON b.License = r.License AND b.start < r.date GROUP BY r.rid
    )
    SELECT r.rid, r.License, r.date, (p.License IS NOT NULL) AS known,
           coalesce(l.fail_flag, 0)::DOUBLE AS pastFail, coalesce(l.criticalCount, 0)::DOUBLE AS pastCritical,
           coalesce(l.seriousCount, 0)::DOUBLE AS pastSerious, coalesce(l.minorCount, 0)::DOUBLE AS pastMinor,
           least(coalesce(date_diff('day', l.last_date, r.date) / 365.0, 2), 2)::DOUBLE AS timeSinceLast,
           (l.last_date IS NULL)::DOUBLE AS firstRecord, coalesce(l.n, 0)::DOUBLE AS pastInspections,
           (l.n_fail / l.n)::DOUBLE AS pastFailShare, (l.n_critical / l.n)::DOUBLE AS pastCriticalShare,
           (date_diff('day', lic.first_licence, r.date) / 365.0)::DOUBLE AS ageAtInspection,
           {", ".join(f"lic.{c}::DOUBLE AS {c}" for c in LICENCE_FLAGS)},
           p.lat, p.lon,
           coalesce(p.Facility_Type, 'Other') AS Facility_Type,
           coalesce(own.sanitarian, area.sanitarian, 'unknown') AS Inspector_Assigned
    FROM req r
    LEFT JOIN place p USING (License)
    LEFT JOIN last l USING (rid)
    LEFT JOIN own USING (rid)
    LEFT JOIN area USING (rid)
    LEFT JOIN lic USING (rid)
    ORDER BY r.rid
    """).to_arrow_table()
    heat = _heat(con, f, t)
    for name in HEAT:
        t = t.append_column(name, pa.array(heat[name], pa.float64()))
    return t.drop_columns(["rid", "lat", "lon"])


def _xy(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Kilometres on a local plane (Chicago's latitude)."""
    return np.column_stack([lat * 111.0, lon * 111.0 * np.cos(np.radians(41.85))])


def _heat(con: duckdb.DuckDBPyConnection, f: dict[str, str], t: pa.Table) -> dict[str, np.ndarray]:
    """Per request, each heat as the mean of the HEAT_NEAREST nearest inspections' values among those of the
    HEAT_DAYS days before the first of the request's month (NaN without a location or without such inspections)."""
    parts = " ".join(
        f"LEFT JOIN (SELECT CAST(Inspection_ID AS BIGINT) AS Inspection_ID, max(heat_values) AS {n} "
        f"FROM read_csv('{f[n]}', header = true) GROUP BY 1) USING (Inspection_ID)"
        for n in HEAT
    )
    known = con.sql(
        f"SELECT date, lat, lon, {', '.join(HEAT)} FROM insp {parts} "
        "WHERE lat IS NOT NULL AND lon IS NOT NULL ORDER BY date, Inspection_ID"
    ).to_arrow_table()
    kd = np.asarray(known["date"].cast(pa.int32()).to_numpy(zero_copy_only=False))
    kxy = _xy(*(np.asarray(known[c].to_numpy(zero_copy_only=False), dtype=float) for c in ("lat", "lon")))
    kv = {n: np.asarray(known[n].to_numpy(zero_copy_only=False), dtype=float) for n in HEAT}
    lat = np.asarray(t["lat"].to_numpy(zero_copy_only=False), dtype=float)
    lon = np.asarray(t["lon"].to_numpy(zero_copy_only=False), dtype=float)
    rxy = _xy(lat, lon)
    months = [d.replace(day=1) for d in t["date"].to_pylist()]
    out = {n: np.full(t.num_rows, np.nan) for n in HEAT}
    by_month: dict[dt.date, list[int]] = {}
    for i, m in enumerate(months):
        if np.isfinite(rxy[i]).all():
            by_month.setdefault(m, []).append(i)
    epoch = dt.date(1970, 1, 1)
    for m, rows in by_month.items():
        end = (m - epoch).days
        lo, hi = np.searchsorted(kd, end - HEAT_DAYS), np.searchsorted(kd, end)
        if hi - lo == 0:
            continue
        idx = np.asarray(rows)
        for n in HEAT:
            sel = np.arange(lo, hi)[np.isfinite(kv[n][lo:hi])]
            if len(sel) == 0:
                continue
            k = min(HEAT_NEAREST, len(sel))
            _d, near = cKDTree(kxy[sel]).query(rxy[idx], k=k)
            near = near.reshape(len(idx), k)
            out[n][idx] = kv[n][sel][near].mean(axis=1)
    return out


def past_violations(t: pa.Table) -> np.ndarray:
    """The simplest baseline: twice the critical plus the serious violations of the latest inspection."""
    c = np.asarray(t["pastCritical"].to_numpy(zero_copy_only=False), dtype=float)
    s = np.asarray(t["pastSerious"].to_numpy(zero_copy_only=False), dtype=float)
    return np.asarray(2 * c + s, dtype=float)


def load(folder: Path) -> pa.Table:
    """The training table: every canvass inspection described by ``features`` as of its own date."""
    out = outcomes(folder)
    feats = features(folder, out["License"].to_pylist(), out["date"].to_pylist())
    for c in feats.column_names:
        if c not in out.column_names:
            out = out.append_column(c, feats[c])
    return out
