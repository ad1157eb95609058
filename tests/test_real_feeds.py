"""The shipped mappings ingest the real data in ../shared/data, and every count reconciles."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import duckdb
import pytest

from shijian.ingest.mapping import load_mappings
from shijian.ingest.pipeline import LoadReport, ingest, summary
from shijian.lake.store import Lake

SHARED = Path(os.environ.get("SHIJIAN_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason=f"real data not found at {SHARED}")


def _data_rows(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as f:
        return sum(1 for _ in csv.reader(f)) - 1


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Lake, dict[str, LoadReport]]:
    lake = Lake(tmp_path_factory.mktemp("real") / "lake")
    reports = ingest([SHARED / "chicago_food_inspections", SHARED / "ccf2020_enterprise_risk"], load_mappings(), lake)
    return lake, {Path(r.file).name: r for r in reports}


@pytest.mark.parametrize(
    "name",
    [
        "23_food_insp_features.csv",
        "24_bus_features.csv",
        "15_sanitation_code.csv",
        "annual_report_info.csv",
        "tax_info.csv",
        "news_info.csv",
        "other_info.csv",
    ],
)
def test_every_real_feed_loads_and_reconciles(loaded: tuple[Lake, dict[str, LoadReport]], name: str) -> None:
    _lake, reports = loaded
    r = reports[name]
    assert r.status == "loaded", r.message
    folder = "chicago_food_inspections" if name[0].isdigit() else "ccf2020_enterprise_risk"
    assert r.rows_read == _data_rows(SHARED / folder / name)
    assert r.rows_read == r.accepted + r.quarantined + r.duplicates
    assert r.accepted > 0.7 * r.rows_read


def test_non_feed_files_are_skipped_not_rejected(loaded: tuple[Lake, dict[str, LoadReport]]) -> None:
    _lake, reports = loaded
    assert summary(list(reports.values()))["rejected"] == 0
    assert reports["labels.csv"].status == "skipped" and reports["inspectors.csv"].status == "skipped"


def test_chicago_inspections_keep_licence_numbers_and_extras(loaded: tuple[Lake, dict[str, LoadReport]]) -> None:
    lake, _reports = loaded
    con = duckdb.connect()
    row = con.execute(
        f"SELECT count(*), count(DISTINCT licence_no), min(event_date)::VARCHAR, max(event_date)::VARCHAR, "
        f"count(*) FILTER (WHERE licence_no LIKE '%.0') "
        f"FROM read_parquet('{lake.records}/source=chicago-inspections/*/records.parquet')"
    ).fetchone()
    assert row is not None
    n, licences, first, last, float_artefacts = row
    assert n == 24518 and licences > 10000 and float_artefacts == 0
    assert first >= "2011-01-01" and last < "2014-09-01"  # nothing after the withheld period's start
    first_row = con.execute(
        f"SELECT json_extract_string(extra, '$.Risk') FROM "
        f"read_parquet('{lake.records}/source=chicago-inspections/*/records.parquet') LIMIT 1"
    ).fetchone()
    assert first_row is not None
    extra = first_row[0]
    assert extra.startswith("Risk ")


def test_relative_dates_in_ccf_news_are_quarantined_as_unreadable(loaded: tuple[Lake, dict[str, LoadReport]]) -> None:
    lake, reports = loaded
    r = reports["news_info.csv"]
    assert r.reasons.get("unreadable date", 0) == r.quarantined > 0
    row = (
        duckdb.connect()
        .execute(f"SELECT raw FROM read_parquet('{lake.records}/source=ccf-news/*/quarantine.parquet') LIMIT 1")
        .fetchone()
    )
    assert row is not None
    raw = row[0]
    assert "前" in raw and '"ord"' not in raw  # the row as delivered, e.g. "4小时前"
