"""The build's distinct key combinations, found by their hash: the same as a DISTINCT over the texts, and a hash that
two combinations share is noticed (the build then groups by the texts; tests/test_build.py runs that path)."""

from __future__ import annotations

import duckdb
import pytest

from shijian.lake import steps

ROWS = [
    ("91440608MA4UXXXX1X", "440608000012345", "佛山市高明区甲商行", "高明区荷城街道1号"),
    ("91440608MA4UXXXX1X", "440608000012345", "佛山市高明区甲商行", "高明区荷城街道1号"),  # the same again
    (None, "440608000012345", "佛山市高明区甲商行", "高明区荷城街道1号"),  # no USCC
    ("", "440608000012345", "佛山市高明区甲商行", "高明区荷城街道1号"),  # an empty one, not the same
    (None, None, "佛山市高明区乙餐厅", "高明区明城镇2号"),
    (None, None, "佛山市高明区乙餐厅", "高明区明城镇3号"),  # the same name elsewhere
    (None, None, "佛山市高明区乙餐厅", None),
]


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    c.execute("CREATE TABLE records (uscc VARCHAR, reg_no VARCHAR, name VARCHAR, address VARCHAR)")
    c.executemany("INSERT INTO records VALUES (?, ?, ?, ?)", ROWS)
    return c


def _combos(con: duckdb.DuckDBPyConnection, select: str) -> list[tuple[str | None, ...]]:
    return sorted(con.sql(f"SELECT uscc, reg_no, name, address FROM ({select})").fetchall(), key=repr)


def test_grouping_by_the_hash_finds_every_distinct_combination_once(con: duckdb.DuckDBPyConnection) -> None:
    found = _combos(con, steps.distinct_keys_by_hash())
    assert found == _combos(con, "SELECT DISTINCT * FROM records")
    assert len(found) == 6
    assert con.sql(f"SELECT bool_or(ambiguous) FROM ({steps.distinct_keys_by_hash()})").fetchall() == [(False,)]
    # The key hash is the one the records' join and the key table use.
    hashes = con.sql(f"SELECT key_hash FROM ({steps.distinct_keys_by_hash()})").fetchall()
    assert sorted(hashes) == sorted(con.sql(f"SELECT DISTINCT {steps.RECORD_KEY_HASH} FROM records").fetchall())


def test_two_combinations_sharing_a_hash_are_flagged(con: duckdb.DuckDBPyConnection) -> None:
    # A hash of the name alone stands for several combinations: every such group is flagged, and only those.
    weak = steps.distinct_keys_by_hash(key_hash="hash(name)")
    flagged = dict(con.sql(f"SELECT name, ambiguous FROM ({weak})").fetchall())
    assert flagged == {"佛山市高明区甲商行": True, "佛山市高明区乙餐厅": True}
    # A null and an empty USCC are two combinations to the check too.
    con.execute("DELETE FROM records WHERE name = '佛山市高明区乙餐厅' OR uscc = '91440608MA4UXXXX1X'")
    assert con.sql(f"SELECT ambiguous FROM ({weak})").fetchall() == [(True,)]
    con.execute("DELETE FROM records WHERE uscc IS NULL")
    assert con.sql(f"SELECT ambiguous FROM ({weak})").fetchall() == [(False,)]
