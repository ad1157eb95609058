"""Capped blocking keys of the probabilistic linkage (lake/linkage.py): work grows with the pairs, not their square."""

from __future__ import annotations

import duckdb

from shijian.lake import linkage


def _con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    # 150 register entities share the head 星辰电器 and the address 高明市场; 3 share the head 明珠.
    rows = [(i, f"星辰电器{i:03d}分店", "高明市场") for i in range(150)]
    rows += [(1000 + i, f"明珠五金{i}", f"荷城街道{i}号") for i in range(3)]
    con.execute("CREATE TABLE core_right (unique_id BIGINT, name_core VARCHAR, address_core VARCHAR)")
    con.executemany("INSERT INTO core_right VALUES (?, ?, ?)", rows)
    con.execute(
        "CREATE TABLE core_left AS SELECT * FROM (VALUES "
        "(1, '星辰电器007分店', '高明市场'), (2, '明珠五金9', '别处1号'), (3, '', '')) "
        "t(unique_id, name_core, address_core)"
    )
    con.execute(f"CREATE TABLE block_sizes AS {linkage.block_sizes_select('core_right')}")
    return con


def test_it_lengthens_a_crowded_head_and_drops_a_crowded_address() -> None:
    con = _con()
    got = {
        r[0]: r[1:]
        for r in con.execute(
            f"SELECT unique_id, b_head, b_tail, b_addr FROM ({linkage.blocked_select('core_left')})"
        ).fetchall()
    }
    # 星辰电器 (150 entities) is too crowded at 4 characters; at 6 (星辰电器00: 10 entities) it is not.
    assert got[1][0] == "星辰电器00"
    assert got[1][2] is None  # 150 entities at 高明市场: no address block
    assert got[2] == ("明珠五金", "明珠五金9"[-4:], "别处1号")
    assert got[3] == (None, None, None)  # nothing to block on


def test_it_bounds_every_block_by_the_cap() -> None:
    con = _con()
    con.execute(f"CREATE TABLE r AS {linkage.blocked_select('core_right')}")
    for col in ("b_head", "b_tail", "b_addr"):
        row = con.execute(
            f"SELECT coalesce(max(n), 0) FROM (SELECT count(*) n FROM r WHERE {col} IS NOT NULL GROUP BY {col})"
        ).fetchone()
        assert row is not None
        biggest = row[0]
        assert 0 < biggest <= linkage.BLOCK_CAP or col == "b_addr"
