"""The records' join to their keys keeps the keys as its hash table (``lake/sql.py:joins_as_written``).

DuckDB estimates a ``read_parquet`` over many files low; left to its optimizer, the by-entity pass built the
records into the hash table and streamed the keys through it. These tests make that situation small: records in
many Parquet files, and a keys table larger than DuckDB's estimate of them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from shijian.lake import steps
from shijian.lake.build import write_by_entity
from shijian.lake.sql import joins_as_written

RECORDS = 20_000
KEYS = 200_000


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """Records in 20 files (each key combination's hash in ``h``), keys for many more combinations than records,
    one in 50 records without an entity."""
    con = duckdb.connect()
    lake = tmp_path / "lake"
    lake.mkdir()
    per_file = RECORDS // 20
    for f in range(20):
        con.execute(
            f"""COPY (
                SELECT i AS h, 'dept' || (i % 3) AS source, 'inspection' AS record_type,
                       DATE '2024-01-01' + (i % 300)::INT AS event_date, NULL::DOUBLE AS amount, '未发现问题' AS result,
                       repeat('检查记录', 20) AS detail, 'R' || i AS record_id, '企业' || i AS name,
                       'f{f}.csv' AS file, i AS line, '地址' || i AS address
                FROM range({f * per_file}, {(f + 1) * per_file}) t(i)
            ) TO '{lake}/part-{f}.parquet' (FORMAT parquet)"""
        )
    con.execute(f"CREATE VIEW records AS SELECT * FROM read_parquet('{lake}/part-*.parquet')")
    con.execute(
        f"""CREATE TABLE keys AS
            SELECT i AS key_hash, CASE WHEN i % 50 = 0 THEN NULL ELSE i % 997 END AS entity_id,
                   CASE WHEN i % 50 = 0 THEN NULL ELSE 'uscc' END AS link_method, NULL::DOUBLE AS match_probability
            FROM range({KEYS}) t(i)"""
    )
    return con


# The records' join as the build writes it, with the hash standing for ``hash(uscc, reg_no, name, address)``.
JOIN = "SELECT r.record_id, k.entity_id FROM records r JOIN keys k ON k.key_hash = r.h"


def build_side(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    """What the plan's hash join builds its table from: ``keys`` or ``records`` (its second child is the build)."""
    plan: list[dict[str, Any]] = json.loads(con.execute("EXPLAIN (FORMAT json) " + sql).fetchall()[0][1])

    def join(node: dict[str, Any]) -> dict[str, Any] | None:
        if node["name"] == "HASH_JOIN":
            return node
        return next((j for c in node["children"] if (j := join(c)) is not None), None)

    found = join(plan[0])
    assert found is not None, plan
    return "keys" if "main.keys" in json.dumps(found["children"][1]) else "records"


def disabled(con: duckdb.DuckDBPyConnection) -> str:
    return str(con.execute("SELECT current_setting('disabled_optimizers')").fetchall()[0][0])


def test_left_to_itself_duckdb_builds_the_records(con: duckdb.DuckDBPyConnection) -> None:
    # The situation the helper is for; if a DuckDB release estimates better, this test says so.
    assert build_side(con, JOIN) == "records"


def test_inside_the_keys_are_built_and_the_setting_is_restored(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("SET disabled_optimizers = 'compressed_materialization'")
    with joins_as_written(con):
        assert build_side(con, JOIN) == "keys"
        assert set(disabled(con).split(",")) == {"compressed_materialization", "build_side_probe_side"}
    assert disabled(con) == "compressed_materialization"
    assert build_side(con, JOIN) == "records"


def test_restored_after_an_error(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(duckdb.Error), joins_as_written(con):
        con.execute("SELECT * FROM no_such_table")
    assert disabled(con) == ""


def test_the_by_entity_pass_writes_every_record_once_and_leaves_the_connection_as_it_was(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    columns = [str(r[0]) for r in con.execute("DESCRIBE records").fetchall()]
    select = steps.records_linked_select(8, columns, hashed=True).replace(
        "hash(r.uscc, r.reg_no, r.name, r.address)", "r.h"
    )
    assert build_side(con, select) == "records"  # what the pass would have done without the helper
    out = tmp_path / "build"
    written = write_by_entity(con, select, 8, out, unlinked=(out / "unlinked.parquet", columns))

    assert written == RECORDS - RECORDS // 50
    assert pq.read_table(out / "unlinked.parquet").num_rows == RECORDS // 50
    by_entity = con.execute(
        f"SELECT count(*), count(DISTINCT record_id), bool_and(entity_id % 8 = bucket) "
        f"FROM read_parquet('{out}/by_entity/*/*.parquet', hive_partitioning = true)"
    ).fetchall()
    assert by_entity == [(written, written, True)]
    assert disabled(con) == ""
    con.execute("SELECT 1").fetchall()  # no result left open on the connection
