"""The Chicago food-inspection data (../shared/data/chicago_food_inspections): outcomes (canvass inspections and
whether they found a critical violation) and ONE feature function, ``features``, that describes an establishment
(a licence number) as known on a date. Training, backtests, ``risk evaluate`` and ``risk score`` all call it: a
training row is an inspection described as of its own date, a scored establishment is described as of the scoring
date. Everything dated on or after the date is ignored: inspections, assignments and complaints by their date,
licence terms by their start (a test describes establishments from the full data and from a copy cut the day
before, and compares every factor).

What is known on the date, per factor (docs/risk-factors.md):

- history: the establishment's latest inspection of any type before the date (its fail flag and critical, serious
  and minor counts), the years since it (capped at 2), whether there is none (firstRecord), and all its
  inspections before the date (how many, the share failed, the share with a critical violation);
- place: the location and facility type of the latest inspection before the date, else the location of the latest
  licence term started before it (facility type 'Other');
- licences: the business-licence terms started before the date (activity flags; age since the first licence);
- heat (burglaries, garbage-cart and sanitation complaints nearby): the City computed a heat value at every
  inspection from the complaints before it; as of a date we take the mean of the values of the 5 inspections
  nearest to the establishment among those of the 90 days before the first of the date's month;
- findings nearby: the share of the NEAR nearest canvass inspections of the days before the date (60 and 240) that
  found a critical violation. Sanitarians are assigned by area and find criticals at very different rates (2% to
  38% in the assignment files); the recent findings around an establishment carry its area's sanitarian and its
  neighbourhood, from outcomes known on the date;
- inspector: dropped. The establishment's or its area's latest assignment is known before an inspection, but the
  assignment files end in April 2014: for a later date the assignment is months old (in 2014 it named the actual
  sanitarian of 14% of the inspections), while the findings nearby are current;
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
NEAR = {"nearCritical": (30, 60), "nearCriticalLong": (60, 240)}  # nearest inspections, days before the date
NUMERIC = [*HISTORY, "ageAtInspection", *LICENCE_FLAGS, *HEAT, *NEAR]
CATEGORICAL = ["Facility_Type"]
# the chance of a critical violation can only rise with these (LightGBM's monotone constraints)
INCREASING = ["pastFail", "pastCritical", "pastSerious", "pastFailShare", "pastCriticalShare", *NEAR]
# smaller trees, more rows per leaf and a stronger L2 penalty than the defaults: chosen on the backtest's six
# two-month periods (the 3.7% budget gains most: the surest finds come first)
GBM = {"num_leaves": 7, "min_data_in_leaf": 100, "lambda_l2": 10.0}
# factors left out before any fit: a code per factor (risk.labels.DROPPED_REASONS says it in the user's language)
DROPPED = {
    "precipIntensity": "weather_unknown",
    "temperatureMax": "weather_unknown",
    "windSpeed": "weather_unknown",
    "humidity": "weather_unknown",
    "Inspector_Assigned": "assignments_stale",
}
_LAST = "the establishment's latest inspection (any type) before the date"
_LICENCE = "business-licence terms started before the date (any of them has the activity)"
_HEAT = (
    "mean of the City's values at the 5 nearest inspections of the 90 days before the first of the month (the "
    "establishment located by its latest inspection before the date, else its latest licence term)"
)
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
    "nearCritical": "share of the 30 nearest canvass inspections of the 60 days before the date with a critical "
    "violation (the area's sanitarian and neighbourhood, as found lately)",
    "nearCriticalLong": "the same over the 60 nearest of the 240 days before the date",
    "Facility_Type": "the facility type recorded at the latest inspection before the date ('Other' when none)",
}
HEAT_DAYS = 90
HEAT_NEAREST = 5
FILES = {
    "insp": "23_food_insp_features.csv",
    "bus": "24_bus_features.csv",
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
    WITH seen AS (  -- the establishment as its latest inspection before the date saw it
        SELECT r.rid, i.lat, i.lon, i.Facility_Type_Clean AS Facility_Type
        FROM req r ASOF JOIN insp i ON r.License = i.License AND r.date > i.date
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
    terms AS (  -- the licence register: each term is known from its start
        SELECT DISTINCT TRY_CAST(TRY_CAST(LICENSE_NUMBER AS DOUBLE) AS BIGINT) AS License, ID,
               TRY_CAST(LICENSE_TERM_START_DATE AS DATE) AS start, TRY_CAST(minDate AS DATE) AS first_licence,
               TRY_CAST(LATITUDE AS DOUBLE) AS lat, TRY_CAST(LONGITUDE AS DOUBLE) AS lon,
               {", ".join(LICENCE_FLAGS)}
        FROM read_csv('{f["bus"]}', header = true, all_varchar = true)
    ),
    lic AS (
        SELECT r.rid, min(b.first_licence) AS first_licence, arg_max(b.lat, b.start) AS lat,
               arg_max(b.lon, b.start) AS lon, {flags}
        FROM req r JOIN terms b ON b.License = r.License AND b.start < r.date GROUP BY r.rid
    )
    SELECT r.rid, r.License, r.date, (p.rid IS NOT NULL OR lic.rid IS NOT NULL) AS known,
           coalesce(l.fail_flag, 0)::DOUBLE AS pastFail, coalesce(l.criticalCount, 0)::DOUBLE AS pastCritical,
           coalesce(l.seriousCount, 0)::DOUBLE AS pastSerious, coalesce(l.minorCount, 0)::DOUBLE AS pastMinor,
           least(coalesce(date_diff('day', l.last_date, r.date) / 365.0, 2), 2)::DOUBLE AS timeSinceLast,
           (l.last_date IS NULL)::DOUBLE AS firstRecord, coalesce(l.n, 0)::DOUBLE AS pastInspections,
           (l.n_fail / l.n)::DOUBLE AS pastFailShare, (l.n_critical / l.n)::DOUBLE AS pastCriticalShare,
           (date_diff('day', lic.first_licence, r.date) / 365.0)::DOUBLE AS ageAtInspection,
           {", ".join(f"lic.{c}::DOUBLE AS {c}" for c in LICENCE_FLAGS)},
           coalesce(p.lat, lic.lat) AS lat, coalesce(p.lon, lic.lon) AS lon,
           coalesce(p.Facility_Type, 'Other') AS Facility_Type
    FROM req r
    LEFT JOIN seen p USING (rid)
    LEFT JOIN last l USING (rid)
    LEFT JOIN lic USING (rid)
    ORDER BY r.rid
    """).to_arrow_table()
    heat = _heat(con, f, t) | _near(con, t)
    for name in [*HEAT, *NEAR]:
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


def _near(con: duckdb.DuckDBPyConnection, t: pa.Table) -> dict[str, np.ndarray]:
    """Per request and per NEAR factor (k nearest, days): the share of the k canvass inspections nearest to the
    establishment among those of the days before the request's date that found a critical violation (NaN without a
    location or with fewer than k such inspections)."""
    known = con.sql(
        "SELECT date, lat, lon, (criticalCount > 0)::DOUBLE AS critical FROM insp "
        "WHERE Inspection_Type = 'Canvass' AND lat IS NOT NULL AND lon IS NOT NULL ORDER BY date, Inspection_ID"
    ).to_arrow_table()
    kd = np.asarray(known["date"].cast(pa.int32()).to_numpy(zero_copy_only=False))
    kxy = _xy(*(np.asarray(known[c].to_numpy(zero_copy_only=False), dtype=float) for c in ("lat", "lon")))
    kc = np.asarray(known["critical"].to_numpy(zero_copy_only=False), dtype=float)
    rxy = _xy(*(np.asarray(t[c].to_numpy(zero_copy_only=False), dtype=float) for c in ("lat", "lon")))
    rd = np.asarray(t["date"].cast(pa.int32()).to_numpy(zero_copy_only=False))
    located = np.isfinite(rxy).all(axis=1)
    out = {n: np.full(t.num_rows, np.nan) for n in NEAR}
    for day in np.unique(rd[located]):
        idx = np.flatnonzero(located & (rd == day))
        hi = int(np.searchsorted(kd, day))  # strictly before the date
        for name, (k, days) in NEAR.items():
            lo = int(np.searchsorted(kd, day - days))
            if hi - lo < k:
                continue
            _d, near = cKDTree(kxy[lo:hi]).query(rxy[idx], k=k)
            out[name][idx] = kc[lo:hi][np.asarray(near).reshape(len(idx), k)].mean(axis=1)
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
