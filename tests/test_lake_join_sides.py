"""The records' join to their keys keeps the keys as its hash table (``lake/sql.py:joins_as_written``).

DuckDB estimates a ``read_parquet`` over many files as the first file's rows times the number of files; when that
comes out below the key combinations, its optimizer builds the records (with their texts) into the hash table and
streams the keys through it. These tests make that situation small: 20 record files, the first of 10 rows (an
estimate of 200 records for 9,510), and 5,000 key combinations."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from shijian.bench.join import Planning, build_side
from shijian.lake import steps
from shijian.lake.build import write_by_entity
from shijian.lake.sql import joins_as_written

FILES = [10] + [500] * 19
RECORDS = sum(FILES)
KEYS = 5_000
BUCKETS = 8


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """The records in ``FILES``; their key combinations as the full build leaves them (``keys`` with each
    combination's hash), one in 50 without an entity."""
    con = duckdb.connect()
    lake = tmp_path / "lake"
    lake.mkdir()
    start = 0
    for f, n in enumerate(FILES):
        con.execute(
            f"""COPY (
                SELECT 'U' || (i % {KEYS}) AS uscc, 'G' || (i % {KEYS}) AS reg_no, 'dept' || (i % 3) AS source,
                       'inspection' AS record_type, DATE '2024-01-01' + (i % 300)::INT AS event_date,
                       NULL::DOUBLE AS amount, '未发现问题' AS result, repeat('检查记录', 20) AS detail,
                       'R' || i AS record_id, '企业' || (i % {KEYS}) AS name, 'f{f}.csv' AS file, i AS line,
                       '地址' || (i % {KEYS}) AS address
                FROM range({start}, {start + n}) t(i)
            ) TO '{lake}/part-{f:02}.parquet' (FORMAT parquet)"""
        )
        start += n
    con.execute(f"CREATE VIEW records AS SELECT * FROM read_parquet('{lake}/part-*.parquet')")
    con.execute(
        f"""CREATE TABLE keys AS
            SELECT 'U' || i AS uscc, 'G' || i AS reg_no_raw, '企业' || i AS name, '地址' || i AS address,
                   CASE WHEN i % 50 <> 0 THEN i % 997 END AS entity_id,
                   CASE WHEN i % 50 <> 0 THEN 'uscc' END AS link_method, NULL::DOUBLE AS match_probability
            FROM range({KEYS}) t(i)"""
    )
    con.execute("ALTER TABLE keys ADD COLUMN key_hash UBIGINT DEFAULT NULL")
    con.execute(f"UPDATE keys SET key_hash = {steps.KEY_HASH}")
    return con


def disabled(con: duckdb.DuckDBPyConnection) -> str:
    return str(con.execute("SELECT current_setting('disabled_optimizers')").fetchall()[0][0])


def record_columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [str(r[0]) for r in con.execute("DESCRIBE records").fetchall()]


@pytest.mark.parametrize("hashed", [True, False])
def test_left_to_itself_duckdb_builds_the_records(con: duckdb.DuckDBPyConnection, hashed: bool) -> None:
    # The situation the helper is for; if a DuckDB release estimates it better, this test says so.
    assert build_side(con, steps.records_linked_select(BUCKETS, record_columns(con), hashed)) == "records"


def test_inside_the_keys_are_built_and_the_setting_is_restored(con: duckdb.DuckDBPyConnection) -> None:
    select = steps.records_linked_select(BUCKETS, record_columns(con), hashed=True)
    con.execute("SET disabled_optimizers = 'compressed_materialization'")
    with joins_as_written(con):
        assert build_side(con, select) == "keys"
        assert set(disabled(con).split(",")) == {"compressed_materialization", "build_side_probe_side"}
    assert disabled(con) == "compressed_materialization"
    assert build_side(con, select) == "records"


def test_restored_after_an_error(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(duckdb.Error), joins_as_written(con):
        con.execute("SELECT * FROM no_such_table")
    assert disabled(con) == ""


def test_a_result_left_open_does_not_hide_the_error_that_left(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(ValueError, match="the caller's"), joins_as_written(con):
        reader = con.sql("SELECT * FROM range(1000000)").to_arrow_reader(1024)
        reader.read_next_batch()
        raise ValueError("the caller's")
    reader.close()
    con.execute("SELECT 1").fetchall()


@pytest.mark.parametrize("hashed", [True, False])
def test_the_by_entity_pass_builds_the_keys_and_writes_every_record_once(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, hashed: bool
) -> None:
    columns = record_columns(con)
    planning = Planning(con)
    out = tmp_path / "build"
    written = write_by_entity(
        planning,  # type: ignore[arg-type] # the connection, seen planning
        steps.records_linked_select(BUCKETS, columns, hashed),
        BUCKETS,
        out,
        unlinked=(out / "unlinked.parquet", columns),
    )

    assert planning.sides == ["keys"]
    unlinked = sum(1 for i in range(RECORDS) if i % KEYS % 50 == 0)
    assert written == RECORDS - unlinked
    assert pq.read_table(out / "unlinked.parquet").num_rows == unlinked
    by_entity = con.execute(
        f"SELECT count(*), count(DISTINCT record_id), bool_and(entity_id % {BUCKETS} = bucket) "
        f"FROM read_parquet('{out}/by_entity/*/*.parquet', hive_partitioning = true)"
    ).fetchall()
    assert by_entity == [(written, written, True)]
    assert disabled(con) == ""
    con.execute("SELECT 1").fetchall()  # no result left open on the connection
