"""``shijian build --incremental``: a day's delivery, register changes and officials' decisions, applied to the
entities they touch.

The full build (``lake/build.py``) leaves what it was made from in ``build/state.json`` and every key combination's
link in ``build/keys/``; each record in ``by_entity`` carries its key combination's hash. An incremental
build reads only the loads committed since, and:

1. link      — the new records' key combinations go through the same exact rules against the current register.
               When the register or officials' decisions changed, every earlier key combination is resolved again
               too, and those whose link changed are *moved*. A name + address pair that no exact rule resolves
               keeps its earlier outcome (model link, or none) unless an official decided it (then the decision)
               or its entity left the register; pairs never seen are scored by the last full build's model;
2. by_entity — the new linked records become one more file per bucket (``part-<id>.parquet``); a bucket that
               records move into or out of is rewritten as one file. Unlinked records join ``unlinked.parquet``
               (records that lose their link are read back from the lake), and the review queue;
3. aggregate — entities in rewritten buckets are aggregated again from their records; other entities touched by
               the delivery have its aggregates merged into theirs (counts and sums add, first/last dates take
               min/max, the tax grade is the later record's, departments are counted from the merged counts);
4. sync      — only those entities' rows of ``registry_entityfile`` are replaced.

The result equals a full build of the same lake, except that pairs left to the probabilistic model are not
rescored with a model retrained on the new data (the next full build retrains). It runs in full instead, and says
why, when it cannot add to the last build: no state (never built, or a build stopped half-way), a load removed or
replaced (re-processing), the database not synced by the last build, or DuckDB's version changed (the key hashes
are DuckDB's). A full build also compacts the parts into one file per bucket.
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
    build_connection,
    decisions_digest,
    finish,
    full_build,
    records_view,
    register_digest,
    register_keys,
    resolve_pending,
    snapshot_decisions,
    snapshot_entities,
    write_by_entity,
    write_review,
)
from shijian.lake.fulltext import index as fulltext_index
from shijian.lake.fulltext.tokens import TOKENIZER_VERSION
from shijian.lake.sql import PARQUET, scalar, sql_literal
from shijian.lake.store import Lake
from shijian.lake.sync import sync_affected, sync_reviews

OUTPUTS = ("unlinked.parquet", "review.parquet", "entity_files.parquet")
FOLDERS = ("keys", "entity_counts")  # a full build's file, then one more per incremental build
# The columns of a by_entity file, in order (the bucket is the folder's name).
BY_ENTITY = (
    "entity_id, link_method, match_probability, source, record_type, event_date, amount, result, detail, "
    "record_id, name, file, line, key_hash"
)
SUMMED = (
    *("records", "inspections", "inspections_failed", "penalties", "penalty_amount", "complaints"),
    *("licences", "licences_expired", "abnormal_listings", "annual_reports_late", "litigation"),
)


NOTHING = "nothing changed since the last build"
NAME_LIST_MAX = 5000  # records that lose their link are found in the lake by name first, up to this many names


class CannotAdd(Exception):
    """This incremental build cannot equal a full one: the message says why; a full build runs instead."""


def why_full(lake: Lake, state: build_state.BuildState | None, loads: list[str]) -> str:
    """The reason an incremental build cannot add to the last build, or "" when it can."""
    if state is None:
        return "no previous build to add to"
    if state.duckdb != duckdb.__version__:
        return f"DuckDB changed ({state.duckdb} -> {duckdb.__version__})"
    if not state.synced:
        return "the previous build did not reach the database"
    if state.search_tokens != TOKENIZER_VERSION:  # an index row is removed by the words it was indexed with
        return "the full-text tokenizer changed"
    if not state.key_hash:
        return "the previous build could not tell key combinations apart by hash"
    if set(state.loads) - set(loads):
        return "loads were removed or replaced since the last build"
    out = lake.root / "build"
    if not all((out / name).exists() for name in (*OUTPUTS, "entities.parquet")) or not all(
        any(out.glob(f"{folder}/*.parquet")) for folder in FOLDERS
    ):
        return "the previous build's outputs are incomplete"
    return ""


def run_incremental(lake: Lake, progress: Progress | None = None, threads: int | None = None) -> BuildReport:
    """Add what changed since the last build; a full build (with the reason) where it cannot add to it. One build
    at a time per lake: a build already running is waited for, and this one then adds only what is left."""
    if not lake.has_records():
        raise FileNotFoundError(f"no records in {lake.root}: run `shijian ingest` first")
    with build_state.build_lock(lake):
        return _incremental(lake, progress, threads)


def _incremental(lake: Lake, progress: Progress | None, threads: int | None) -> BuildReport:
    tmp = lake.root / "build.tmp"
    build_state.roll_forward(lake, tmp)
    state = build_state.read_state(lake)
    build_state.drop_unlisted_parts(lake, state)
    loads = build_state.record_files(lake)
    t0 = time.perf_counter()
    reason = why_full(lake, state, loads)
    if reason or state is None:
        return _full(lake, progress, threads, reason)
    version = build_state.register_version()
    if version is not None and version == state.register_version:
        register = state.register  # the database counted no change to the register's keys: no need to read it
    else:
        snapshot_entities(lake)
        register = register_digest(lake)
    snapshot_decisions(lake)
    decisions = decisions_digest(lake)
    relink = (register, decisions) != (state.register, state.decisions)
    new = sorted(set(loads) - set(state.loads))
    report = BuildReport(mode="incremental", buckets=state.buckets, key_hash_join=True, new_loads=len(new))
    report.seconds["check"] = round(time.perf_counter() - t0, 2)
    if not new and not relink:
        report.reason = NOTHING
        return report
    if relink:
        report.reason = "the register or officials' decisions changed: earlier links checked again"
    tmp.mkdir()
    con = build_connection(tmp, threads)
    try:
        part, rewritten = _build_part(con, lake, state, new, relink, register != state.register, tmp, report, progress)
    except CannotAdd as exc:
        con.close()
        build_state.roll_forward(lake, tmp)  # nothing committed: the staged files are discarded
        return _full(lake, progress, threads, str(exc))
    finally:
        con.close()
    t0 = time.perf_counter()
    out = lake.root / "build"
    deletions: list[str] = []
    moves = [(name, name) for name in (*OUTPUTS, "affected.parquet", "affected_files.parquet")]
    moves += [(f"register_keys/{p.name}",) * 2 for p in sorted((tmp / "register_keys").glob("*.parquet"))]
    moves.append(("keys.parquet", f"keys/part-{part}.parquet"))
    moves.append(("entity_counts.parquet", f"entity_counts/part-{part}.parquet"))
    if rewritten:  # the counts were written whole: the new file replaces the others
        deletions += [f"entity_counts/{p.name}" for p in (out / "entity_counts").glob("*.parquet")]
    for bucket in sorted((tmp / "by_entity").glob("bucket=*")):
        moves.append((f"by_entity/{bucket.name}/data_0.parquet", f"by_entity/{bucket.name}/part-{part}.parquet"))
    if (out / "affected_counts.parquet").exists():  # what the sync read before it read affected_files.parquet
        deletions.append("affected_counts.parquet")
    if relink:  # every key combination is in the new file
        deletions += [f"keys/{p.name}" for p in (out / "keys").glob("*.parquet")]
    for b in rewritten:
        folder = f"by_entity/bucket={b}"
        deletions += [f"{folder}/{p.name}" for p in (out / folder).glob("*.parquet")]
        moves.append((f"rewritten/bucket={b}.parquet", f"{folder}/part-{part}.parquet"))
    state.loads, state.register, state.decisions, state.register_version = loads, register, decisions, version
    state.parts = [*state.parts, part]
    state.synced = False
    build_state.commit(lake, tmp, moves, state, deletions)
    report.seconds["commit"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    report.synced = sync_affected(out / "affected_files.parquet", out / "affected.parquet")
    report.reviews = sync_reviews(out / "review.parquet")
    report.seconds["sync"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    written = sorted((out / "by_entity").glob(f"bucket=*/part-{part}.parquet"))
    report.texts = fulltext_index.update(lake, written, rewritten, state.buckets)
    state.synced = True
    build_state.write_state(lake, state)
    report.seconds["search index"] = round(time.perf_counter() - t0, 2)
    finish(lake, report)
    return report


def _full(lake: Lake, progress: Progress | None, threads: int | None, reason: str) -> BuildReport:
    report = full_build(lake, progress, threads)
    report.reason = reason
    return report


def _build_part(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    state: build_state.BuildState,
    new: list[str],
    relink: bool,
    register_changed: bool,
    tmp: Path,
    report: BuildReport,
    progress: Progress | None,
) -> tuple[str, list[int]]:
    """Stage everything under ``tmp``; returns the part's id and the buckets rewritten as one file."""
    out = lake.root / "build"
    buckets = state.buckets
    con.execute(f"CREATE VIEW records AS {records_view(lake, new)}" if new else _empty_records(con, lake, state))
    report.records = scalar(con, "SELECT count(*) FROM records")

    t0 = time.perf_counter()
    _link(con, lake, tmp, relink, register_changed)
    report.seconds["link"] = round(time.perf_counter() - t0, 2)
    if progress:
        progress("build", 1, 3)

    t0 = time.perf_counter()
    # One pass over the delivery: its linked records to the parts beside the buckets, the others set aside.
    columns = [str(r[0]) for r in con.execute("DESCRIBE SELECT * FROM records").fetchall()]
    delivered_unlinked = tmp / "delivered_unlinked.parquet"
    select = steps.records_linked_select(buckets, columns, True)
    write_by_entity(con, select, buckets, tmp, unlinked=(delivered_unlinked, columns))
    delivered = sorted(str(p) for p in (tmp / "by_entity").glob("*/*.parquet"))
    if delivered:
        for method, n in con.execute(
            f"SELECT link_method, count(*) FROM read_parquet({delivered!r}) GROUP BY ALL"
        ).fetchall():
            report.linked[method] = int(n)
    if relink:
        rewritten = _move_records(con, lake, state, tmp)
    else:
        rewritten = []
        con.execute("CREATE TABLE moved_out AS SELECT * FROM records LIMIT 0")
    old_unlinked = f"read_parquet({sql_literal(out / 'unlinked.parquet')})"
    con.execute(f"""
        COPY (SELECT * FROM {old_unlinked}
              WHERE hash(uscc, reg_no, name, address) NOT IN (SELECT key_hash FROM moved)
              UNION ALL BY NAME SELECT * FROM moved_out
              UNION ALL BY NAME SELECT * FROM read_parquet({sql_literal(delivered_unlinked)}))
        TO {sql_literal(tmp / "unlinked.parquet")} (FORMAT parquet, COMPRESSION zstd)
    """)
    con.execute(f"CREATE VIEW unlinked_records AS SELECT * FROM read_parquet({sql_literal(tmp / 'unlinked.parquet')})")
    con.execute("CREATE TABLE unlinked_groups AS " + steps.unlinked_groups_select(True, "unlinked_records"))
    _carry_review_candidates(con, out / "review.parquet")
    write_review(con, tmp / "review.parquet")
    report.unlinked = scalar(con, "SELECT count(*) FROM unlinked_records")  # all of them, as a full build reports
    # Keys: the new combinations as one more file; after a relink, all of them in a file that replaces the rest.
    keys = "keys" if relink else "keys WHERE key_hash NOT IN (SELECT key_hash FROM old_keys)"
    con.execute(
        f"COPY (SELECT * FROM {keys}) TO {sql_literal(tmp / 'keys.parquet')} (FORMAT parquet, COMPRESSION zstd)"
    )
    report.seconds["by_entity"] = round(time.perf_counter() - t0, 2)
    if progress:
        progress("build", 2, 3)

    t0 = time.perf_counter()
    delta = sorted(str(p) for p in (tmp / "by_entity").glob("*/*.parquet"))  # parts beside unrewritten buckets
    if delta:
        con.execute(f"CREATE VIEW delta AS SELECT {BY_ENTITY} FROM read_parquet({delta!r})")
    else:
        con.execute(f"CREATE VIEW delta AS SELECT {BY_ENTITY} FROM ({steps.linked_select(buckets, True)}) LIMIT 0")
    _aggregate(con, out, tmp, rewritten, buckets)
    report.affected_entities = scalar(con, "SELECT count(*) FROM affected")
    report.entities_with_records = scalar(
        con, f"SELECT count(*) FROM read_parquet({sql_literal(tmp / 'entity_files.parquet')})"
    )
    report.seconds["aggregate"] = round(time.perf_counter() - t0, 2)
    if progress:
        progress("build", 3, 3)
    return uuid.uuid4().hex[:12], rewritten


def _empty_records(con: duckdb.DuckDBPyConnection, lake: Lake, state: build_state.BuildState) -> str:
    """No new loads (only the register or decisions changed): a view of no records, with the lake's columns."""
    return f"CREATE VIEW records AS {records_view(lake, state.loads[:1])} LIMIT 0"


def _link(con: duckdb.DuckDBPyConnection, lake: Lake, tmp: Path, relink: bool, register_changed: bool) -> None:
    """``keys``: every key combination's link after this build; ``old_keys``: before it; ``moved``: the earlier
    combinations whose link changed (only when ``relink``)."""
    out = lake.root / "build"
    con.execute(f"CREATE VIEW entities AS SELECT * FROM read_parquet({sql_literal(out / 'entities.parquet')})")
    saved = out / "register_keys"
    if register_changed or not saved.is_dir():
        register_keys(con, save=tmp / "register_keys")  # kept for the next build on this register
    else:
        register_keys(con, saved=saved)
    con.execute(f"CREATE TABLE old_keys AS SELECT * FROM read_parquet({sql_literal(out / 'keys' / '*.parquet')})")
    decisions = f"read_parquet({sql_literal(out / 'decisions.parquet')})"
    if relink:  # every combination, earlier and new, against the current register
        con.execute("""
            CREATE VIEW combos AS
            SELECT uscc, reg_no_raw AS reg_no, name, address FROM old_keys
            UNION SELECT uscc, reg_no, name, address FROM records
        """)
        con.execute(f"CREATE TABLE keys_exact AS {steps.keys_select('combos')}")
    else:  # the new combinations only
        con.execute(f"""
            CREATE TABLE keys_exact AS
            SELECT n.* FROM ({steps.keys_select()}) n
            ANTI JOIN old_keys o ON o.uscc IS NOT DISTINCT FROM n.uscc AND o.reg_no_raw = n.reg_no_raw
                                AND o.name = n.name AND o.address = n.address
        """)
    # What earlier builds made of the pairs the exact rules left: the model's link, or none. The pair keeps it,
    # unless an official has decided it or its entity has left the register.
    con.execute(f"""
        CREATE TABLE earlier AS
        SELECT * FROM (
            SELECT DISTINCT name_key, address_key, entity_id, link_method, match_probability FROM old_keys
            WHERE (entity_id IS NULL OR link_method = 'probabilistic')
              AND (entity_id IS NULL OR entity_id IN (SELECT id FROM ent))
        ) e ANTI JOIN {decisions} d USING (name_key, address_key)
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
    resolved = f"SELECT *, {steps.KEY_HASH} AS key_hash FROM ({steps.resolved_keys_select()})"
    if relink:
        con.execute(f"CREATE TABLE keys AS {resolved}")
        con.execute("""
            CREATE TABLE moved AS
            SELECT key_hash, o.entity_id AS old_entity, n.entity_id AS new_entity, n.link_method, n.match_probability
            FROM keys n JOIN old_keys o USING (key_hash)
            WHERE o.entity_id IS DISTINCT FROM n.entity_id OR o.link_method IS DISTINCT FROM n.link_method
               OR o.match_probability IS DISTINCT FROM n.match_probability
        """)
    else:
        con.execute(f"CREATE TABLE keys AS SELECT * FROM old_keys UNION ALL BY NAME {resolved}")
        con.execute(
            "CREATE TABLE moved (key_hash UBIGINT, old_entity BIGINT, new_entity BIGINT, link_method VARCHAR, "
            "match_probability DOUBLE)"
        )
    if scalar(con, "SELECT count(*) = count(DISTINCT key_hash) FROM keys") != 1:
        raise CannotAdd("a new key combination's hash collides with another's")


def _move_records(con: duckdb.DuckDBPyConnection, lake: Lake, state: build_state.BuildState, tmp: Path) -> list[int]:
    """Records whose link changed: out of their old bucket, into their new one (each such bucket rewritten as one
    file, with the delivery's records for it), or into ``moved_out`` (unlinked now). Returns the rewritten buckets."""
    out = lake.root / "build"
    buckets = state.buckets
    con.execute(
        f"""CREATE TABLE touched AS
        SELECT DISTINCT b FROM (SELECT old_entity % {buckets} AS b FROM moved UNION ALL
                               SELECT new_entity % {buckets} FROM moved) WHERE b IS NOT NULL ORDER BY b"""
    )
    rewritten = [int(r[0]) for r in con.execute("SELECT b FROM touched").fetchall()]
    old_files = [str(p) for b in rewritten for p in sorted((out / "by_entity" / f"bucket={b}").glob("*.parquet"))]
    con.execute(
        f"CREATE TABLE old_rows AS SELECT {BY_ENTITY} FROM read_parquet({old_files!r})"
        if old_files
        else f"CREATE TABLE old_rows AS SELECT {BY_ENTITY} FROM ({steps.linked_select(buckets, True)}) LIMIT 0"
    )
    # Into a (new) entity: from the old buckets, or from the unlinked records, with the new link.
    con.execute(f"""
        CREATE TABLE moved_in AS
        SELECT m.new_entity AS entity_id, m.link_method, m.match_probability, r.* EXCLUDE
               (entity_id, link_method, match_probability)
        FROM old_rows r JOIN moved m USING (key_hash) WHERE m.new_entity IS NOT NULL
        UNION ALL BY NAME
        SELECT m.new_entity AS entity_id, m.link_method, m.match_probability, u.source, u.record_type, u.event_date,
               u.amount, u.result, u.detail, u.record_id, u.name, u.file, u.line, m.key_hash
        FROM read_parquet({sql_literal(out / "unlinked.parquet")}) u
        JOIN moved m ON m.key_hash = hash(u.uscc, u.reg_no, u.name, u.address)
        WHERE m.new_entity IS NOT NULL AND m.old_entity IS NULL
    """)
    # Out of every entity: the full records are read back from the lake (the entity file keeps fewer columns).
    lost = scalar(con, "SELECT count(*) FROM moved WHERE old_entity IS NOT NULL AND new_entity IS NULL")
    if lost:
        con.execute(f"CREATE VIEW all_records AS {records_view(lake, state.loads)}")
        # Their names as a list the Parquet reader filters on while it reads (3x faster than hashing every record
        # of the lake); the hash then picks the exact key combinations.
        names = [
            r[0]
            for r in con.execute("""
                SELECT DISTINCT k.name FROM old_keys k JOIN moved m USING (key_hash)
                WHERE m.old_entity IS NOT NULL AND m.new_entity IS NULL
            """).fetchall()
        ]
        by_name = "TRUE"
        if len(names) <= NAME_LIST_MAX:
            listed = ", ".join(sql_literal(n) for n in names if n is not None) or "NULL"
            by_name = f"(r.name IN ({listed}){' OR r.name IS NULL' if None in names else ''})"
        con.execute(f"""
            CREATE TABLE moved_out AS SELECT r.* FROM all_records r
            WHERE {by_name} AND hash(r.uscc, r.reg_no, r.name, r.address) IN
                  (SELECT key_hash FROM moved WHERE old_entity IS NOT NULL AND new_entity IS NULL)
        """)
    else:
        con.execute("CREATE TABLE moved_out AS SELECT * FROM records LIMIT 0")
    (tmp / "rewritten").mkdir()
    for b in rewritten:
        delta = tmp / "by_entity" / f"bucket={b}" / "data_0.parquet"
        rows = f"SELECT {BY_ENTITY} FROM old_rows WHERE entity_id % {buckets} = {b} AND key_hash NOT IN "
        rows += (
            f"(SELECT key_hash FROM moved) UNION ALL SELECT {BY_ENTITY} FROM moved_in WHERE entity_id % {buckets} = {b}"
        )
        if delta.exists():
            rows += f" UNION ALL SELECT {BY_ENTITY} FROM read_parquet({sql_literal(delta)})"
        con.execute(f"COPY ({rows}) TO {sql_literal(tmp / 'rewritten' / f'bucket={b}.parquet')} {PARQUET}")
    # The delivery's records for a rewritten bucket are in its new file, not in a part beside it.
    for b in rewritten:
        (tmp / "by_entity" / f"bucket={b}" / "data_0.parquet").unlink(missing_ok=True)
    return rewritten


def _carry_review_candidates(con: duckdb.DuckDBPyConnection, review: Path) -> None:
    """Pairs already in the review queue keep the model's candidates from the build that scored them, unless an
    official has decided them since (linked or rejected: out of the queue)."""
    decisions = review.parent / "decisions.parquet"
    con.execute(f"""
        CREATE TABLE old_review AS
        SELECT r.name_key, r.address_key, r.candidates FROM read_parquet({sql_literal(review)}) r
        ANTI JOIN unresolved u USING (name_key, address_key)
        ANTI JOIN read_parquet({sql_literal(decisions)}) d USING (name_key, address_key)
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


def _aggregate(con: duckdb.DuckDBPyConnection, out: Path, tmp: Path, rewritten: list[int], buckets: int) -> None:
    """New entity files and counts: entities of rewritten buckets aggregated again from their records, others
    touched by the delivery merged with its aggregates; ``affected``: every entity whose row may change."""
    old_files = f"read_parquet({sql_literal(out / 'entity_files.parquet')})"
    old_counts = f"read_parquet({sql_literal(out / 'entity_counts' / '*.parquet')})"  # files add up
    in_rewritten = f"entity_id % {buckets} IN (SELECT b FROM touched)" if rewritten else "FALSE"
    if rewritten:
        files = [str(tmp / "rewritten" / f"bucket={b}.parquet") for b in rewritten]
        con.execute(f"CREATE VIEW by_entity AS SELECT * FROM read_parquet({files!r})")
        con.execute(f"CREATE TABLE exact_files AS {steps.aggregate_select()}")
        con.execute(f"CREATE TABLE exact_counts AS {steps.counts_select()}")
    else:
        con.execute(f"CREATE TABLE exact_files AS SELECT * FROM {old_files} LIMIT 0")
        con.execute(f"CREATE TABLE exact_counts AS SELECT * FROM {old_counts} LIMIT 0")
    con.execute(f"CREATE OR REPLACE VIEW by_entity AS SELECT * FROM delta WHERE NOT ({in_rewritten})")
    con.execute(f"CREATE TABLE delta_files AS {steps.aggregate_select()}")
    con.execute(f"CREATE TABLE delta_counts AS {steps.counts_select()}")
    con.execute(f"""
        CREATE TABLE affected AS
        SELECT entity_id FROM delta_files
        UNION SELECT entity_id FROM {old_files} WHERE {in_rewritten}
        UNION SELECT entity_id FROM exact_files
    """)
    # The merged counts give the departments; where buckets were rewritten they are also written whole (below), else
    # the counts by department are all that is needed of them.
    kinds = "TRUE" if rewritten else "kind = 'source'"
    con.execute(f"""
        CREATE TABLE merged_counts AS
        SELECT entity_id, kind, key, sum(n)::BIGINT AS n FROM (
            SELECT * FROM {old_counts} WHERE entity_id IN (SELECT entity_id FROM delta_files) AND {kinds}
            UNION ALL SELECT * FROM delta_counts WHERE {kinds}
        ) GROUP BY ALL
    """)
    # Counts add up: the delivery's are one more file. Where buckets were rewritten, their entities' counts are
    # replaced, not added to: every count is written again, in one file that replaces the others.
    counts = (
        f"""SELECT entity_id, kind, key, sum(n)::BIGINT AS n FROM {old_counts}
            WHERE entity_id NOT IN (SELECT entity_id FROM affected) GROUP BY ALL
            UNION ALL SELECT * FROM merged_counts
            UNION ALL SELECT * FROM exact_counts"""
        if rewritten
        else "SELECT entity_id, kind, key, n::BIGINT AS n FROM delta_counts"
    )
    con.execute(f"COPY ({counts}) TO {sql_literal(tmp / 'entity_counts.parquet')} (FORMAT parquet, COMPRESSION zstd)")
    summed = ", ".join(f"coalesce(o.{c}, 0) + d.{c} AS {c}" for c in SUMMED)
    con.execute(f"""
        CREATE TABLE affected_files AS
        SELECT * FROM exact_files
        UNION ALL BY NAME
        SELECT d.entity_id, {summed},
               (SELECT count(*) FROM merged_counts m WHERE m.entity_id = d.entity_id AND m.kind = 'source')
                   AS departments,
               least(o.first_record_on, d.first_record_on) AS first_record_on,
               greatest(o.last_record_on, d.last_record_on) AS last_record_on,
               CASE WHEN d.tax_on IS NOT NULL AND (o.tax_on IS NULL OR d.tax_on > o.tax_on
                                                   OR (d.tax_on = o.tax_on AND d.tax_grade > o.tax_grade))
                    THEN d.tax_grade ELSE coalesce(o.tax_grade, '') END AS tax_grade,
               greatest(o.tax_on, d.tax_on) AS tax_on
        FROM delta_files d LEFT JOIN {old_files} o USING (entity_id)
    """)
    con.execute(f"""
        COPY (
            SELECT * FROM {old_files} WHERE entity_id NOT IN (SELECT entity_id FROM affected)
            UNION ALL BY NAME SELECT * FROM affected_files
        ) TO {sql_literal(tmp / "entity_files.parquet")} (FORMAT parquet, COMPRESSION zstd)
    """)
    con.execute(f"COPY affected TO {sql_literal(tmp / 'affected.parquet')} (FORMAT parquet)")
    # What the sync writes: the affected entities' rows, in the table's order.
    con.execute(f"""
        COPY (SELECT * FROM affected_files ORDER BY entity_id)
        TO {sql_literal(tmp / "affected_files.parquet")} (FORMAT parquet)
    """)


__all__ = ["NOTHING", "CannotAdd", "run_incremental", "why_full"]
