"""The Chicago food-inspection data (../shared/data/chicago_food_inspections) as one table of features per canvass
inspection, rebuilt the way the City's model table was (its 30_model_table_train.csv stops in April 2014; the
inspections and their features go on to 31 August 2014, so the last months can be held out).

Label: the inspection found a critical violation. Features: the establishment's history before the inspection
(past fails, criticals, serious and minor violations, days since the last inspection, first record), its licences
(age, activities), the density of burglaries, garbage-cart and sanitation complaints nearby, the weather of the three
days before, the facility type, and the inspector (sanitarian) assigned.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa

NUMERIC = [
    "pastFail",
    "pastCritical",
    "pastSerious",
    "pastMinor",
    "timeSinceLast",
    "firstRecord",
    "ageAtInspection",
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
    "heat_burglary",
    "heat_garbage",
    "heat_sanitation",
    "precipIntensity",
    "temperatureMax",
    "windSpeed",
    "humidity",
]
CATEGORICAL = ["Facility_Type", "Inspector_Assigned"]
LICENCE_FLAGS = NUMERIC[7:19]


def load(folder: Path) -> pa.Table:
    """One row per canvass inspection: Inspection_ID, License, date, label, NUMERIC + CATEGORICAL."""
    f = {
        name: str(folder / name)
        for name in (
            "23_food_insp_features.csv",
            "24_bus_features.csv",
            "22_burglary_heat.csv",
            "22_garbageCarts_heat.csv",
            "22_sanitationComplaints_heat.csv",
            "17_mongo_weather_update.csv",
            "19_inspector_assignments.csv",
        )
    }
    missing = [p for p in f.values() if not Path(p).exists()]
    if missing:
        raise FileNotFoundError(f"Chicago data missing: {', '.join(missing)}")
    con = duckdb.connect()
    flags = ", ".join(f"any_value(CAST({c} AS DOUBLE)) AS {c}" for c in LICENCE_FLAGS)
    sql = f"""
    WITH insp AS (
        SELECT CAST(Inspection_ID AS BIGINT) AS Inspection_ID, CAST(CAST(License AS DOUBLE) AS BIGINT) AS License,
               CAST(Inspection_Date AS DATE) AS date, criticalCount > 0 AS criticalFound,
               Facility_Type_Clean AS Facility_Type, pastFail, pastCritical, pastSerious, pastMinor,
               timeSinceLast, firstRecord
        FROM read_csv('{f["23_food_insp_features.csv"]}', header = true)
        WHERE Inspection_Type = 'Canvass'
    ),
    bus AS (
        SELECT CAST(Inspection_ID AS BIGINT) AS Inspection_ID, any_value(ageAtInspection) AS ageAtInspection,
               {flags}
        FROM read_csv('{f["24_bus_features.csv"]}', header = true, all_varchar = true)
        GROUP BY 1
    ),
    heat AS (
        SELECT b.id AS Inspection_ID, b.v AS heat_burglary, g.v AS heat_garbage, s.v AS heat_sanitation
        FROM (SELECT CAST(Inspection_ID AS BIGINT) id, any_value(heat_values) v
              FROM read_csv('{f["22_burglary_heat.csv"]}', header = true) GROUP BY 1) b
        FULL JOIN (SELECT CAST(Inspection_ID AS BIGINT) id, any_value(heat_values) v
              FROM read_csv('{f["22_garbageCarts_heat.csv"]}', header = true) GROUP BY 1) g USING (id)
        FULL JOIN (SELECT CAST(Inspection_ID AS BIGINT) id, any_value(heat_values) v
              FROM read_csv('{f["22_sanitationComplaints_heat.csv"]}', header = true) GROUP BY 1) s USING (id)
    ),
    weather AS (
        SELECT CAST(date AS DATE) AS date,
               avg(precipIntensity) OVER w AS precipIntensity, avg(temperatureMax) OVER w AS temperatureMax,
               avg(windSpeed) OVER w AS windSpeed, avg(humidity) OVER w AS humidity
        FROM read_csv('{f["17_mongo_weather_update.csv"]}', header = true)
        WINDOW w AS (ORDER BY CAST(date AS DATE) ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)
    ),
    who AS (
        SELECT CAST(inspectionID AS BIGINT) AS Inspection_ID, any_value(sanitarian) AS Inspector_Assigned
        FROM read_csv('{f["19_inspector_assignments.csv"]}', header = true) GROUP BY 1
    )
    SELECT i.Inspection_ID, i.License, i.date, i.criticalFound,
           {", ".join(f"CAST({c} AS DOUBLE) AS {c}" for c in NUMERIC)},
           coalesce(i.Facility_Type, 'Other') AS Facility_Type,
           coalesce(who.Inspector_Assigned, 'unknown') AS Inspector_Assigned
    FROM insp i
    LEFT JOIN bus USING (Inspection_ID)
    LEFT JOIN heat USING (Inspection_ID)
    LEFT JOIN weather USING (date)
    LEFT JOIN who USING (Inspection_ID)
    ORDER BY i.date, i.Inspection_ID
    """
    return con.sql(sql).to_arrow_table()


def as_of(folder: Path, date: dt.date, licences: list[int]) -> pa.Table:
    """Features of listed establishments as if inspected on ``date``, from what was known before it: their latest
    inspection (its fail flag and violation counts become the past-* features, as in the City's table), the
    business licence features of that inspection with the age moved on, its location's heat values, the weather
    of the three days before; the inspector is not yet assigned ('unknown')."""
    f = {n: str(folder / n) for n in ("23_food_insp_features.csv", "24_bus_features.csv", "22_burglary_heat.csv",
                                       "22_garbageCarts_heat.csv", "22_sanitationComplaints_heat.csv",
                                       "17_mongo_weather_update.csv")}  # fmt: skip
    missing = [p for p in f.values() if not Path(p).exists()]
    if missing:
        raise FileNotFoundError(f"Chicago data missing: {', '.join(missing)}")
    con = duckdb.connect()
    con.execute("CREATE TEMP TABLE wanted AS SELECT unnest(?::BIGINT[]) AS License", [licences])
    flags = ", ".join(f"any_value(CAST({c} AS DOUBLE)) AS {c}" for c in LICENCE_FLAGS)
    heat = " ".join(
        f"LEFT JOIN (SELECT CAST(Inspection_ID AS BIGINT) AS id, any_value(heat_values) AS v "
        f"FROM read_csv('{f[name]}', header = true) GROUP BY 1) {alias} ON {alias}.id = l.last_id"
        for name, alias in (("22_burglary_heat.csv", "hb"), ("22_garbageCarts_heat.csv", "hg"),
                            ("22_sanitationComplaints_heat.csv", "hs"))
    )  # fmt: skip
    sql = f"""
    WITH insp AS (
        SELECT CAST(CAST(License AS DOUBLE) AS BIGINT) AS License, CAST(Inspection_Date AS DATE) AS date,
               CAST(Inspection_ID AS BIGINT) AS Inspection_ID, fail_flag, criticalCount, seriousCount, minorCount,
               Facility_Type_Clean
        FROM read_csv('{f["23_food_insp_features.csv"]}', header = true)
        WHERE CAST(Inspection_Date AS DATE) < DATE '{date}'
    ),
    l AS (
        SELECT License, max(date) AS last_date, arg_max(Inspection_ID, date) AS last_id,
               arg_max(fail_flag, date) AS pastFail, arg_max(criticalCount, date) AS pastCritical,
               arg_max(seriousCount, date) AS pastSerious, arg_max(minorCount, date) AS pastMinor,
               arg_max(Facility_Type_Clean, date) AS Facility_Type
        FROM insp WHERE License IN (SELECT License FROM wanted) GROUP BY License
    ),
    bus AS (
        SELECT CAST(Inspection_ID AS BIGINT) AS Inspection_ID, any_value(CAST(ageAtInspection AS DOUBLE)) AS age,
               {flags}
        FROM read_csv('{f["24_bus_features.csv"]}', header = true, all_varchar = true) GROUP BY 1
    ),
    weather AS (
        SELECT avg(precipIntensity) AS precipIntensity, avg(temperatureMax) AS temperatureMax,
               avg(windSpeed) AS windSpeed, avg(humidity) AS humidity
        FROM read_csv('{f["17_mongo_weather_update.csv"]}', header = true)
        WHERE CAST(date AS DATE) BETWEEN DATE '{date}' - 3 AND DATE '{date}' - 1
    )
    SELECT w.License,
           coalesce(l.pastFail, 0)::DOUBLE AS pastFail, coalesce(l.pastCritical, 0)::DOUBLE AS pastCritical,
           coalesce(l.pastSerious, 0)::DOUBLE AS pastSerious, coalesce(l.pastMinor, 0)::DOUBLE AS pastMinor,
           least(coalesce(date_diff('day', l.last_date, DATE '{date}') / 365.0, 2), 2)::DOUBLE AS timeSinceLast,
           (l.License IS NULL)::DOUBLE AS firstRecord,
           (b.age + date_diff('day', l.last_date, DATE '{date}') / 365.0)::DOUBLE AS ageAtInspection,
           {", ".join(f"b.{c}" for c in LICENCE_FLAGS)},
           hb.v::DOUBLE AS heat_burglary, hg.v::DOUBLE AS heat_garbage, hs.v::DOUBLE AS heat_sanitation,
           weather.precipIntensity::DOUBLE AS precipIntensity, weather.temperatureMax::DOUBLE AS temperatureMax,
           weather.windSpeed::DOUBLE AS windSpeed, weather.humidity::DOUBLE AS humidity,
           coalesce(l.Facility_Type, 'Other') AS Facility_Type, 'unknown' AS Inspector_Assigned
    FROM wanted w
    LEFT JOIN l USING (License)
    LEFT JOIN bus b ON b.Inspection_ID = l.last_id
    {heat}
    CROSS JOIN weather
    ORDER BY w.License
    """
    return con.sql(sql).to_arrow_table()
