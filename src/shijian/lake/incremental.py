"""``shijian build --incremental``: a day's delivery updates only the entities it touches.

The full build (``lake/build.py``) leaves what it was made from in ``build/state.json`` and every key combination's
link in ``build/keys.parquet``. An incremental build reads only the loads committed since, and:

1. link      — the new records' key combinations not seen before are resolved by the same exact rules against the
               same register; a name + address pair that an earlier build resolved (officials' decision or the
               probabilistic model) or left for review keeps that outcome; pairs never seen go through officials'
               decisions and the probabilistic model, as in the full build;
2. by_entity — the new linked records are written as one more file per bucket (``part-<id>.parquet``) beside the
               full build's; the unlinked ones join ``unlinked.parquet`` and the review queue;
3. aggregate — the new records' per-entity aggregates are merged into ``entity_files.parquet`` and
               ``entity_counts.parquet`` (counts and sums add, first/last dates take min/max, the tax grade is the
               later one's, departments are counted from the merged counts by department);
4. sync      — only the affected entities' rows of ``registry_entityfile`` are replaced.

The result equals a full build of the same lake (tested: the same entity files, records by entity, unlinked records
and review queue). It runs in full instead, and says why, when it cannot be equal: no state (never built, or a build
stopped half-way), a load was removed or replaced (re-processing), the register or officials' decisions changed,
or DuckDB's version changed (the key hashes are DuckDB's). A full build also compacts the parts into one file per
bucket.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import duckdb

from shijian.lake import state as build_state
from shijian.lake import steps
from shijian.lake.build import (
    MODEL,
    BuildReport,
    Progress,
    _one,
    _sql,
    build_connection,
    decisions_digest,
    finish,
    records_view,
    register_digest,
    resolve_pending,
    run_build,
    snapshot_decisions,
    snapshot_entities,
    sync_entity_files,
    sync_reviews,
    write_by_entity,
    write_review,
)
from shijian.lake.store import Lake

OUTPUTS = ("keys.parquet", "unlinked.parquet", "review.parquet", "entity_files.parquet", "entity_counts.parquet")


def why_full(lake: Lake, state: build_state.BuildState | None, loads: list[str]) -> str:
    """The reason an incremental build cannot equal a full one, or "" when it can."""
    if state is None:
        return "no previous build to add to"
    if state.duckdb != duckdb.__version__:
        return f"DuckDB changed ({state.duckdb} -> {duckdb.__version__})"
    if not state.synced:
        return "the previous build did not reach the database"
    if set(state.loads) - set(loads):
        return "loads were removed or replaced since the last build"
    if not all((lake.root / "build" / name).exists() for name in OUTPUTS):
        return "the previous build's outputs are incomplete"
    snapshot_entities(lake)
    if register_digest(lake) != state.register:
        return "the register changed since the last build"
    snapshot_decisions(lake)
    if decisions_digest(lake) != state.decisions:
        return "officials' linkage decisions changed since the last build"
    return ""


def run_incremental(lake: Lake, progress: Progress | None = None, threads: int | None = None) -> BuildReport:
    """Add the loads committed since the last build; a full build where an incremental one cannot be equal."""
    if not lake.has_records():
        raise FileNotFoundError(f"no records in {lake.root}: run `shijian ingest` first")
    tmp = lake.root / "build.tmp"
    build_state.roll_forward(lake, tmp)
    state = build_state.read_state(lake)
    build_state.drop_unlisted_parts(lake, state)
    loads = build_state.record_files(lake)
    t0 = time.perf_counter()
    reason = why_full(lake, state, loads)
    if reason or state is None:
        report = run_build(lake, progress, threads)
        report.reason = reason
        return report
    new = sorted(set(loads) - set(state.loads))
    report = BuildReport(mode="incremental", buckets=state.buckets, key_hash_join=state.key_hash)
    report.seconds["check"] = round(time.perf_counter() - t0, 2)
    if not new:
        report.reason = "no new loads since the last build"
        return report
    report.new_loads = len(new)
    tmp.mkdir()
    con = build_connection(tmp, threads)
    try:
        part = _build_part(con, lake, state, new, tmp, report, progress)
    finally:
        con.close()
    t0 = time.perf_counter()
    out = lake.root / "build"
    moves = [(name, name) for name in (*OUTPUTS, "affected.parquet")]
    for bucket in sorted((tmp / "by_entity").glob("bucket=*")):
        moves.append((f"by_entity/{bucket.name}/data_0.parquet", f"by_entity/{bucket.name}/part-{part}.parquet"))
    state.loads = loads
    state.parts = [*state.parts, part]
    state.synced = False
    build_state.commit(lake, tmp, moves, state)
    report.synced = sync_entity_files(
        out / "entity_files.parquet", out / "entity_counts.parquet", only=out / "affected.parquet"
    )
    report.reviews = sync_reviews(out / "review.parquet")
    state.synced = True
    build_state.write_state(lake, state)
    report.seconds["commit + sync"] = round(time.perf_counter() - t0, 2)
    finish(lake, report)
    return report


def _build_part(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    state: build_state.BuildState,
    new: list[str],
    tmp: Path,
    report: BuildReport,
    progress: Progress | None,
) -> str:
    out = lake.root / "build"
    con.execute(f"CREATE VIEW records AS {records_view(lake, new)}")
    report.records = _one(con, "SELECT count(*) FROM records")

    t0 = time.perf_counter()
    _link(con, lake, state)
    report.seconds["link"] = round(time.perf_counter() - t0, 2)
    if progress:
        progress("build", 1, 3)

    t0 = time.perf_counter()
    linked = steps.linked_select(state.buckets, state.key_hash)
    write_by_entity(con, linked, state.buckets, tmp)
    con.execute(f"""
        COPY (SELECT * FROM read_parquet({_sql(out / "unlinked.parquet")})
              UNION ALL BY NAME {steps.unlinked_select(state.key_hash)})
        TO {_sql(tmp / "unlinked.parquet")} (FORMAT parquet, COMPRESSION zstd)
    """)
    con.execute(f"CREATE VIEW unlinked_records AS SELECT * FROM read_parquet({_sql(tmp / 'unlinked.parquet')})")
    con.execute("CREATE TABLE unlinked_groups AS " + steps.unlinked_groups_select(state.key_hash, "unlinked_records"))
    _carry_review_candidates(con, out / "review.parquet")
    write_review(con, tmp / "review.parquet")
    report.unlinked = _one(con, f"SELECT count(*) FROM ({steps.unlinked_select(state.key_hash)})")
    con.execute(f"COPY keys TO {_sql(tmp / 'keys.parquet')} (FORMAT parquet, COMPRESSION zstd)")
    report.seconds["by_entity"] = round(time.perf_counter() - t0, 2)
    if progress:
        progress("build", 2, 3)

    t0 = time.perf_counter()
    by_entity = _sql(tmp / "by_entity" / "*" / "*.parquet")
    con.execute(f"CREATE VIEW by_entity AS SELECT * FROM read_parquet({by_entity}, hive_partitioning = true)")
    for method, n in con.execute("SELECT link_method, count(*) FROM by_entity GROUP BY ALL").fetchall():
        report.linked[method] = int(n)
    _merge_aggregates(con, out, tmp)
    report.affected_entities = _one(con, "SELECT count(*) FROM affected")
    report.entities_with_records = _one(con, f"SELECT count(*) FROM read_parquet({_sql(tmp / 'entity_files.parquet')})")
    report.seconds["aggregate"] = round(time.perf_counter() - t0, 2)
    if progress:
        progress("build", 3, 3)
    return uuid.uuid4().hex[:12]


def _link(con: duckdb.DuckDBPyConnection, lake: Lake, state: build_state.BuildState) -> None:
    """``keys``: the earlier build's keys plus the new records' new key combinations, resolved as a full build
    would resolve them against the same register and decisions."""
    out = lake.root / "build"
    con.execute(f"CREATE VIEW entities AS SELECT * FROM read_parquet({_sql(out / 'entities.parquet')})")
    con.execute("CREATE TABLE ent AS " + steps.ent_select())
    for name, select in steps.KEY_TABLES:
        con.execute(f"CREATE TABLE {name} AS {select}")
    con.execute(f"CREATE TABLE old_keys AS SELECT * FROM read_parquet({_sql(out / 'keys.parquet')})")
    con.execute(f"""
        CREATE TABLE keys_exact AS
        SELECT n.* FROM ({steps.keys_select()}) n
        ANTI JOIN old_keys o ON o.uscc IS NOT DISTINCT FROM n.uscc AND o.reg_no_raw = n.reg_no_raw
                            AND o.name = n.name AND o.address = n.address
    """)
    # What earlier builds made of the name + address pairs the exact rules left: a link (decision or model) or
    # nothing (left for review). The same pair keeps that outcome.
    con.execute("""
        CREATE TABLE earlier AS
        SELECT DISTINCT name_key, address_key, entity_id, link_method, match_probability FROM old_keys
        WHERE entity_id IS NULL OR link_method IN ('reviewed', 'probabilistic')
    """)
    con.execute(f"""
        CREATE TABLE pending AS
        SELECT * FROM ({steps.pending_select()}) p ANTI JOIN earlier e USING (name_key, address_key)
    """)
    con.execute("CREATE TABLE ent_keys AS SELECT id, name_key, address_key FROM ent")
    resolve_pending(con, lake, probabilistic=True, model=out / MODEL, train=False)
    con.execute("""
        INSERT INTO resolved
        SELECT name_key, address_key, entity_id, link_method, match_probability FROM earlier
        WHERE entity_id IS NOT NULL
    """)
    con.execute(f"""
        CREATE TABLE keys AS
        SELECT * FROM old_keys
        UNION ALL BY NAME
        SELECT *, {steps.KEY_HASH} AS key_hash FROM ({steps.resolved_keys_select()})
    """)
    if state.key_hash and _one(con, "SELECT count(*) = count(DISTINCT key_hash) FROM keys") != 1:
        # A new key combination collides with another's hash (never seen): join on the four columns instead.
        state.key_hash = False


def _carry_review_candidates(con: duckdb.DuckDBPyConnection, review: Path) -> None:
    """Pairs already in the review queue keep the model's candidates from the build that scored them."""
    con.execute(f"""
        CREATE TABLE old_review AS
        SELECT r.name_key, r.address_key, r.candidates FROM read_parquet({_sql(review)}) r
        ANTI JOIN unresolved u USING (name_key, address_key)
    """)
    con.execute("""
        INSERT INTO unresolved
        SELECT (SELECT coalesce(max(pair_id), 0) FROM unresolved) + row_number() OVER (ORDER BY name_key, address_key),
               name_key, address_key
        FROM old_review
    """)
    con.execute("""
        INSERT INTO prob_reviews
        SELECT pair_id, c.entity_id, c.probability, rank
        FROM (SELECT u.pair_id, unnest(o.candidates) AS c, generate_subscripts(o.candidates, 1) AS rank
              FROM old_review o JOIN unresolved u USING (name_key, address_key))
    """)


def _merge_aggregates(con: duckdb.DuckDBPyConnection, out: Path, tmp: Path) -> None:
    """The new records' aggregates merged into the previous entity files and counts (``affected``: the entities)."""
    con.execute(f"CREATE TABLE delta_files AS {steps.aggregate_select()}")
    con.execute(f"CREATE TABLE delta_counts AS {steps.counts_select()}")
    con.execute("CREATE TABLE affected AS SELECT entity_id FROM delta_files")
    old_files = f"read_parquet({_sql(out / 'entity_files.parquet')})"
    old_counts = f"read_parquet({_sql(out / 'entity_counts.parquet')})"
    con.execute(f"""
        CREATE TABLE merged_counts AS
        SELECT entity_id, kind, key, sum(n)::BIGINT AS n FROM (
            SELECT * FROM {old_counts} WHERE entity_id IN (SELECT entity_id FROM affected)
            UNION ALL SELECT * FROM delta_counts
        ) GROUP BY ALL
    """)
    con.execute(f"""
        COPY (
            SELECT * FROM {old_counts} WHERE entity_id NOT IN (SELECT entity_id FROM affected)
            UNION ALL SELECT * FROM merged_counts
        ) TO {_sql(tmp / "entity_counts.parquet")} (FORMAT parquet, COMPRESSION zstd)
    """)
    sums = [
        *("records", "inspections", "inspections_failed", "penalties", "penalty_amount", "complaints"),
        *("licences", "licences_expired", "abnormal_listings", "annual_reports_late", "litigation"),
    ]
    summed = ", ".join(f"coalesce(o.{c}, 0) + d.{c} AS {c}" for c in sums)
    con.execute(f"""
        COPY (
            SELECT * FROM {old_files} WHERE entity_id NOT IN (SELECT entity_id FROM affected)
            UNION ALL BY NAME
            SELECT d.entity_id, {summed},
                   (SELECT count(*) FROM merged_counts m WHERE m.entity_id = d.entity_id AND m.kind = 'source')
                       AS departments,
                   least(o.first_record_on, d.first_record_on) AS first_record_on,
                   greatest(o.last_record_on, d.last_record_on) AS last_record_on,
                   CASE WHEN d.tax_on IS NOT NULL AND (o.tax_on IS NULL OR d.tax_on >= o.tax_on)
                        THEN d.tax_grade ELSE coalesce(o.tax_grade, '') END AS tax_grade,
                   greatest(o.tax_on, d.tax_on) AS tax_on
            FROM delta_files d LEFT JOIN {old_files} o USING (entity_id)
        ) TO {_sql(tmp / "entity_files.parquet")} (FORMAT parquet, COMPRESSION zstd)
    """)
    con.execute(f"COPY affected TO {_sql(tmp / 'affected.parquet')} (FORMAT parquet)")


__all__ = ["run_incremental", "why_full"]
