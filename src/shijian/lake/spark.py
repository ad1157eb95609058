"""``shijian build --engine spark``: the build's SQL (``shijian.lake.steps``) on Apache Spark.

The statements are the DuckDB ones, transpiled by ``sqlglot``; the outputs are the same files in the same layout,
so the entity page and the database sync do not care which engine built them. ``--spark-master`` points at a
cluster (``spark://host:7077``, ``yarn``); the default ``local[*]`` runs on this machine (a parity check: about ten
times slower than DuckDB on one machine). The lake must then sit on storage every executor reads (HDFS, S3, a
shared disk). Officials' review decisions and the probabilistic step run on DuckDB in the driver over the few
distinct name + address pairs that no exact rule resolved (``build.resolve_pending``, the same code as the DuckDB
build); their result goes back to Spark as a small table, and the review queue is written the same way.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from shijian.lake import state as build_state
from shijian.lake import steps
from shijian.lake.build import (
    BuildReport,
    Progress,
    bucket_count,
    resolve_pending,
    snapshot_entities,
    write_review,
)
from shijian.lake.fulltext import index as fulltext_index
from shijian.lake.store import Lake
from shijian.lake.sync import sync_entity_files, sync_reviews


def transpile(sql: str) -> str:
    import sqlglot

    return str(sqlglot.transpile(sql, read="duckdb", write="spark")[0])


SPARK_MISSING = (
    "--engine spark needs pyspark, an optional extra (491 MB with its jars): "
    "pip install 'shijian[spark]' (pinned: pip install -r requirements/spark.txt) and a Java 17 runtime"
)


class SparkUnavailable(RuntimeError):
    """pyspark is not installed: the message says how to install it."""


def require_pyspark() -> None:
    """Raise SparkUnavailable, saying how to install the extra, when pyspark cannot be imported."""
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise SparkUnavailable(SPARK_MISSING) from exc


def spark_session(master: str = "local[*]") -> Any:
    require_pyspark()
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master(master)
        .appName("shijian-build")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.driver.memory", "4g")
        .getOrCreate()
    )


RESOLVED_SCHEMA = "name_key string, address_key string, entity_id bigint, link_method string, match_probability double"


def run_build_spark(
    lake: Lake, progress: Progress | None = None, master: str = "local[*]", probabilistic: bool = True
) -> BuildReport:
    """The full build on Spark (one build at a time per lake, as with DuckDB)."""
    with build_state.build_lock(lake):
        return _spark_build(lake, progress, master, probabilistic)


def _spark_build(lake: Lake, progress: Progress | None, master: str, probabilistic: bool) -> BuildReport:
    import duckdb

    require_pyspark()
    report = BuildReport()
    files = sorted(str(p) for p in lake.records.glob("source=*/load=*/records.parquet"))
    if not files:
        raise FileNotFoundError(f"no records in {lake.root}: run `shijian ingest` first")
    spark = spark_session(master)
    out = lake.root / "build"
    out.mkdir(parents=True, exist_ok=True)
    tmp = lake.root / "build.tmp"
    build_state.roll_forward(lake, tmp)  # an incremental build's interrupted commit is finished first
    build_state.drop_state(lake)  # the next incremental build starts from a full DuckDB build
    tmp.mkdir()

    def sql(statement: str) -> Any:
        return spark.sql(transpile(statement))

    t0 = time.perf_counter()
    records = spark.read.option("basePath", str(lake.records)).parquet(*files)
    records.createOrReplaceTempView("records")
    report.records = records.count()
    report.raw_scan_seconds = round(time.perf_counter() - t0, 3)
    report.buckets = bucket_count(report.records)
    report.seconds["raw scan"] = report.raw_scan_seconds

    t0 = time.perf_counter()
    ent_path = snapshot_entities(lake)
    spark.read.parquet(str(ent_path)).createOrReplaceTempView("entities")
    report.seconds["snapshot"] = round(time.perf_counter() - t0, 2)

    t0 = time.perf_counter()
    sql(steps.ent_select()).cache().createOrReplaceTempView("ent")
    for name, select in steps.KEY_TABLES:
        sql(select).cache().createOrReplaceTempView(name)
    sql(steps.keys_select()).cache().createOrReplaceTempView("keys_exact")
    # Decisions and the probabilistic step: DuckDB in the driver, over the pending pairs only.
    local = duckdb.connect()
    local.execute("SET enable_progress_bar = false")
    local.register("pending_arrow", sql(steps.pending_select()).toArrow())
    local.execute("CREATE TABLE pending AS SELECT * FROM pending_arrow")
    local.execute(f"CREATE VIEW entities AS SELECT * FROM read_parquet('{ent_path}')")
    local.execute(f"CREATE TABLE ent_keys AS SELECT id, name_key, address_key FROM ({steps.ent_select()})")
    report.probabilistic = resolve_pending(local, lake, probabilistic)
    resolved = local.execute("SELECT * FROM resolved ORDER BY name_key, address_key").fetchall()
    spark.createDataFrame(resolved, RESOLVED_SCHEMA).createOrReplaceTempView("resolved")
    sql(steps.resolved_keys_select()).cache().createOrReplaceTempView("keys")
    report.seconds["link"] = round(time.perf_counter() - t0, 2)
    if progress:
        progress("build", 3, 6)

    t0 = time.perf_counter()
    staged = tmp / "by_entity"
    sql(steps.linked_select(report.buckets)).write.mode("overwrite").partitionBy("bucket").parquet(str(staged))
    sql(steps.unlinked_select()).coalesce(1).write.mode("overwrite").parquet(str(tmp / "unlinked"))
    local.register("groups_arrow", sql(steps.unlinked_groups_select()).toArrow())
    local.execute("CREATE TABLE unlinked_groups AS SELECT * FROM groups_arrow")
    write_review(local, tmp / "review.parquet")
    local.close()
    report.seconds["by_entity"] = round(time.perf_counter() - t0, 2)

    t0 = time.perf_counter()
    by_entity = spark.read.parquet(str(staged))
    by_entity.createOrReplaceTempView("by_entity")
    for method, n in by_entity.groupBy("link_method").count().collect():
        report.linked[str(method)] = int(n)
    report.unlinked = spark.read.parquet(str(tmp / "unlinked")).count()
    sql(steps.aggregate_select()).coalesce(1).write.mode("overwrite").parquet(str(tmp / "entity_files"))
    sql(steps.counts_select()).coalesce(1).write.mode("overwrite").parquet(str(tmp / "entity_counts"))
    report.entities_with_records = spark.read.parquet(str(tmp / "entity_files")).count()
    report.seconds["aggregate"] = round(time.perf_counter() - t0, 2)
    spark.catalog.clearCache()

    # Same layout as the DuckDB build: one file each, by_entity/bucket=N/*.parquet.
    final = out / "by_entity"
    shutil.rmtree(final, ignore_errors=True)
    os.rename(staged, final)
    for name in ("unlinked", "entity_files", "entity_counts"):
        part = next((tmp / name).glob("*.parquet"))
        os.replace(part, out / f"{name}.parquet")
    os.replace(tmp / "review.parquet", out / "review.parquet")
    shutil.rmtree(tmp, ignore_errors=True)

    t0 = time.perf_counter()
    report.synced = sync_entity_files(out / "entity_files.parquet")
    report.reviews = sync_reviews(out / "review.parquet")
    report.texts = fulltext_index.rebuild(lake, report.buckets)
    report.seconds["sync"] = round(time.perf_counter() - t0, 2)
    import datetime as dt
    import json

    report.finished_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    (out / "build-report.json").write_text(json.dumps(asdict(report) | {"engine": "spark"}, ensure_ascii=False))
    return report


def entity_files_rows(path: Path, order: str = "entity_id") -> list[tuple[Any, ...]]:
    """The rows of a build's output, sorted, floats rounded: what the parity test compares."""
    import duckdb

    rows = duckdb.connect().execute(f"SELECT * FROM read_parquet('{path}') ORDER BY {order}").fetchall()
    return [tuple(round(v, 6) if isinstance(v, float) else v for v in r) for r in rows]
