"""The build's SQL is written once: DuckDB and Spark (local mode) must build identical entity files."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from pytest_django import Settings

from shijian.ingest.mapping import load_mappings
from shijian.ingest.pipeline import ingest
from shijian.lake.build import run_build
from shijian.lake.store import Lake
from shijian.synth.generator import generate, resolve_scale

pytest.importorskip(
    "pyspark",
    reason="pyspark is not installed: the optional spark extra (make install-spark; pip install 'shijian[spark]')",
)
if shutil.which("java") is None:
    pytest.skip("no Java runtime for Spark on this machine", allow_module_level=True)


# The engines compared are DuckDB's and Spark's; the database only receives both builds' rows through the sync
# that every DuckDB build test runs on both databases.
@pytest.mark.one_engine("sqlite", reason="compares the lake's engines; their sync is tested on both databases")
def test_duckdb_and_spark_build_the_same_files(db: None, tmp_path: Path, settings: Settings) -> None:
    from shijian.lake.spark import entity_files_rows, run_build_spark, transpile
    from shijian.registry.loader import load_district
    from shijian.registry.models import EntityFile

    out = tmp_path / "d"
    manifest: dict[str, Any] = generate(resolve_scale("300", records=6_000, intensity=20.0), 8, out)
    load_district(out, tmp_path / "report")
    lake = Lake(tmp_path / "lake")
    ingest([out], load_mappings(), lake, workers=1)

    duck = run_build(lake, threads=2)
    duck_rows = entity_files_rows(lake.root / "build" / "entity_files.parquet")
    duck_review = entity_files_rows(lake.root / "build" / "review.parquet", order="name_key, address_key")
    duck_db = sorted(EntityFile.objects.values_list("entity_id", "records", "penalties", "tax_grade"))
    spark = run_build_spark(lake, master="local[2]")
    spark_rows = entity_files_rows(lake.root / "build" / "entity_files.parquet")
    spark_review = entity_files_rows(lake.root / "build" / "review.parquet", order="name_key, address_key")
    spark_db = sorted(EntityFile.objects.values_list("entity_id", "records", "penalties", "tax_grade"))

    assert duck.records == spark.records == manifest["feeds"]["records"]  # event types may exceed the budget
    assert duck.linked == spark.linked and duck.unlinked == spark.unlinked
    # Officials' decisions and the probabilistic step run for both engines (key-less records with misspelt
    # names are in every generated district).
    assert duck.linked.get("probabilistic", 0) > 0 and duck.probabilistic == spark.probabilistic | {
        "seconds": duck.probabilistic["seconds"]
    }
    assert duck_review == spark_review and duck.reviews == spark.reviews
    assert len(duck_rows) == len(spark_rows) > 250
    assert duck_rows == spark_rows
    assert duck_db == spark_db
    # And the Spark layout serves the entity page's timeline like DuckDB's.
    from shijian.lake.query import entity_timeline

    eid = duck_rows[0][0]
    assert entity_timeline(lake, eid).total == duck_rows[0][1]
    assert "MAX_BY" in transpile("SELECT arg_max(a, b) FROM t").upper()
