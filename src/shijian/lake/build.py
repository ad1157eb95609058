"""``shijian build``: link lake records to entities, aggregate one file per entity, sync it to the database.

Steps (each timed in the report):
1. snapshot  — the register's keys (id, USCC, registration number, normalised name and address) to Parquet;
2. link      — every record to an entity: by USCC, else registration number, else exact name + address, else a
               name that only one entity has; the method is stored with each link, unlinked records are kept
               for the review queue (``unlinked.parquet``);
3. by_entity — linked records rewritten in hash partitions of the entity id (about ``ROWS_PER_BUCKET`` records
               each), so that one entity's timeline is read from one small file (the entity page reads it); the
               unlinked records set aside for review, and the records that carry a free text for the search
               index, in the same pass;
4. aggregate — per-entity counts, dates, penalties, complaints, licences, listings ... (``entity_files.parquet``),
               while the search index is rebuilt from the texts set aside (the two at once);
5. sync      — the aggregates replace ``registry_entityfile`` in the operational database in one transaction.
The SQL is plain DuckDB SQL over Parquet; see docs/lake.md for running the same steps on Spark.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from shijian.lake import file_codes, steps
from shijian.lake import state as build_state
from shijian.lake.fulltext import index as fulltext_index
from shijian.lake.fulltext.tokens import TOKENIZER_VERSION
from shijian.lake.linkage import link_pairs
from shijian.lake.partition import write_partitioned
from shijian.lake.sql import PARQUET, joins_as_written, scalar, sql_literal
from shijian.lake.store import Lake
from shijian.lake.sync import sync_entity_files, sync_reviews

MODEL = "linkage-model.json"
ROWS_PER_BUCKET = 100_000  # one entity's timeline is read from one file of about this many records
MAX_BUCKETS = 1024


def bucket_count(records: int) -> int:
    n = 16
    while n < MAX_BUCKETS and records / n > ROWS_PER_BUCKET:
        n *= 2
    return n


Progress = Callable[[str, int, int], None]


@dataclass
class BuildReport:
    records: int = 0
    buckets: int = 16
    linked: dict[str, int] = field(default_factory=dict)
    unlinked: int = 0
    probabilistic: dict[str, Any] = field(default_factory=dict)
    key_hash_join: bool = False
    reviews: int = 0
    entities_with_records: int = 0
    synced: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    seconds_detail: dict[str, float] = field(default_factory=dict)  # parts of a step, not added to the total
    raw_scan_seconds: float = 0.0
    finished_at: str = ""
    mode: str = "full"  # or "incremental"
    reason: str = ""  # why an incremental build ran in full, or did nothing
    new_loads: int = 0
    affected_entities: int = 0
    texts: int = 0  # record texts written to the full-text index
    file_numbers: bool = False  # the pass carried each record's delivered file as its lake file's number

    @property
    def total_seconds(self) -> float:
        return round(sum(self.seconds.values()), 2)


def snapshot_entities(lake: Lake) -> Path:
    """The register's linkage keys, from the operational database, as Parquet."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT id, uscc, reg_no, name, address FROM registry_entity ORDER BY id")
        rows = cur.fetchall()
    cols: list[Any] = list(zip(*rows, strict=True)) if rows else [(), (), (), (), ()]
    table = pa.table(
        {
            "id": pa.array(cols[0], pa.int64()),
            "uscc": pa.array(cols[1], pa.string()),
            "reg_no": pa.array(cols[2], pa.string()),
            "name": pa.array(cols[3], pa.string()),
            "address": pa.array(cols[4], pa.string()),
        }
    )
    path = lake.root / "build" / "entities.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd")
    return path


def snapshot_decisions(lake: Lake) -> Path:
    """Officials' linkage decisions (name + address -> entity, or none) as Parquet for the build."""
    from shijian.lake.models import LinkDecision

    rows = list(LinkDecision.objects.order_by("id").values_list("name_key", "address_key", "entity_id"))
    cols: list[Any] = list(zip(*rows, strict=True)) if rows else [(), (), ()]
    path = lake.root / "build" / "decisions.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        pa.table(
            {
                "name_key": pa.array(cols[0], pa.string()),
                "address_key": pa.array(cols[1], pa.string()),
                "entity_id": pa.array(cols[2], pa.int64()),
            }
        ),
        path,
    )
    return path


def write_by_entity(
    con: duckdb.DuckDBPyConnection,
    linked: str,
    buckets: int,
    tmp: Path,
    progress: Callable[[int], None] | None = None,
    unlinked: tuple[Path, Sequence[str]] | None = None,
    texts: Path | None = None,
    file_labels: list[str | None] | None = None,
) -> int:
    """The linked records into ``tmp/by_entity/bucket=N/`` in one pass with bounded memory (``lake/partition.py``).
    DuckDB's own partitioned write buffers a row group per open file: at 1,024 buckets and 130M records it spilled
    tens of GB under the 6 GB cap, and a two-pass write through coarse groups took 419 s (docs/benchmarks.md).

    With ``unlinked`` (a path and the records' columns), ``linked`` is ``steps.records_linked_select``: the records
    without an entity are written there, in the same pass, with the records' own columns.

    With ``texts``, the linked records of the kinds that carry a free text are also written there, in the same pass
    (the search index's input, ``fulltext.index.TEXT_COLUMNS``): the index is not read back from every file.

    With ``file_labels``, ``linked`` has each record's ``file`` as its lake file's number (``file_codes``): the
    labels are put back as a dictionary array, so every file written holds the texts."""
    tmp.mkdir(parents=True, exist_ok=True)
    # Batches small enough for the reordering's random reads to stay in the CPU caches. The keys are the join's hash
    # table and the records stream through it; the connection takes no other query until the reader is closed.
    with joins_as_written(con):
        reader = con.sql(f"SELECT * EXCLUDE (bucket) FROM ({linked})").to_arrow_reader(1 << 17)
        batches: Iterable[pa.RecordBatch] = reader
        fields = plain = reader.schema  # plain: the unlinked and text files' columns, ``file`` a string as in the lake
        if file_labels is not None:
            batches, fields = file_codes.decoded(reader, file_labels), file_codes.schema(reader.schema)
            plain = file_codes.schema(reader.schema, text=True)
        rest = text_rows = None
        try:
            others = [c for c in unlinked[1] if c not in steps.RECORD_COLUMNS] if unlinked else []
            schema = pa.schema([f for f in fields if f.name not in others])
            if unlinked:
                rest = _RowGroups(unlinked[0], pa.schema([plain.field(c) for c in unlinked[1]]))
            if texts:
                text_rows = _RowGroups(texts, pa.schema([plain.field(c) for c in fulltext_index.TEXT_COLUMNS]))
            written = write_partitioned(
                _with_texts(batches, text_rows) if text_rows else batches,
                schema,
                "entity_id",
                buckets,
                tmp / "by_entity",
                # Within a bucket, names, departments, types, results and files repeat: dictionary pages pay there.
                dictionary=[n for n in schema.names if n not in ("detail", "record_id", "line", "amount", "key_hash")],
                statistics=["entity_id", "event_date"],
                progress=progress,
                rest=rest.add if rest else None,
            )
        finally:
            reader.close()
            if rest:
                rest.close()
            if text_rows:
                text_rows.close()
    return sum(written)


def _with_texts(batches: Iterable[pa.RecordBatch], out: _RowGroups) -> Iterator[pa.RecordBatch]:
    """``batches`` as they come, their linked records of the text-carrying kinds with a text added to ``out`` (the
    index applies its rule again where it reads them, ``fulltext.index._texts_select``)."""
    kinds = pa.array(fulltext_index.TEXT_TYPES)
    for batch in batches:
        detail = batch.column("detail")
        keep = pc.and_(
            pc.and_(pc.is_valid(batch.column("entity_id")), pc.is_in(batch.column("record_type"), kinds)),
            pc.and_(pc.is_valid(detail), pc.not_equal(detail, "")),
        )
        out.add(batch.filter(keep))
        yield batch


class _RowGroups:
    """A Parquet file written from a stream of small batches (their columns as ``schema`` names and types them: a
    dictionary column is written as its values), in row groups of about ``rows`` rows."""

    def __init__(self, path: Path, schema: pa.Schema, rows: int = 1 << 17) -> None:
        self.writer = pq.ParquetWriter(path, schema, compression="zstd")
        self.schema, self.rows = schema, rows
        self.pending: list[pa.RecordBatch] = []
        self.count = 0

    def add(self, batch: pa.RecordBatch) -> None:
        batch = batch.select(self.schema.names)
        self.pending.append(batch if batch.schema == self.schema else batch.cast(self.schema))
        self.count += batch.num_rows
        if self.count >= self.rows:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.writer.write_table(pa.Table.from_batches(self.pending, self.schema))
        self.pending, self.count = [], 0

    def close(self) -> None:
        self.flush()
        self.writer.close()


def resolve_pending(
    con: duckdb.DuckDBPyConnection, lake: Lake, probabilistic: bool, model: Path | None = None, train: bool = True
) -> dict[str, Any]:
    """What the exact rules left: officials' decisions first, then the probabilistic model (DuckDB, whichever
    engine runs the rest of the build: these are the few distinct name + address pairs, not the records).

    Reads ``pending(name_key, address_key)`` and ``ent_keys(id, name_key, address_key)``; creates
    ``resolved(name_key, address_key, entity_id, link_method, match_probability)``, ``unresolved(pair_id, ...)``
    (the pairs given to the model) and ``prob_reviews`` (its candidates for the review queue)."""
    decisions = sql_literal(snapshot_decisions(lake))
    con.execute(f"""
        CREATE OR REPLACE TABLE resolved AS
        SELECT p.name_key, p.address_key, d.entity_id, 'reviewed' AS link_method, 1.0::DOUBLE AS match_probability
        FROM pending p JOIN read_parquet({decisions}) d USING (name_key, address_key)
        WHERE d.entity_id IS NOT NULL
    """)
    con.execute(f"""
        CREATE OR REPLACE TABLE unresolved AS
        SELECT row_number() OVER (ORDER BY name_key, address_key) AS pair_id, name_key, address_key
        FROM (SELECT name_key, address_key FROM pending WHERE name_key <> ''
              EXCEPT SELECT name_key, address_key FROM read_parquet({decisions}))
    """)
    stats: dict[str, Any] = {}
    if probabilistic:
        stats = asdict(link_pairs(con, "unresolved", "ent_keys", model, train))
    else:
        con.execute("CREATE OR REPLACE TABLE prob_links (pair_id BIGINT, entity_id BIGINT, match_probability DOUBLE)")
        con.execute(
            "CREATE OR REPLACE TABLE prob_reviews "
            "(pair_id BIGINT, entity_id BIGINT, match_probability DOUBLE, rank INT)"
        )
    con.execute("""
        INSERT INTO resolved
        SELECT u.name_key, u.address_key, p.entity_id, 'probabilistic', p.match_probability
        FROM unresolved u JOIN prob_links p USING (pair_id)
    """)
    return stats


def write_review(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """The review queue: each unresolved name + address with its records, departments and the model's candidates.
    Reads ``unlinked_groups`` (steps.unlinked_groups_select), ``unresolved`` and ``prob_reviews``."""
    con.execute(f"""
        COPY (
            WITH recs AS (
                SELECT name_key, address_key, sum(records) AS records,
                       string_agg(source, ',' ORDER BY source) AS sources, min(name) AS name, min(address) AS address
                FROM unlinked_groups GROUP BY ALL
            )
            SELECT recs.name, recs.address, recs.name_key, recs.address_key, recs.records, recs.sources,
                   c.candidates, c.best_probability, c.best_entity
            FROM (
                SELECT pair_id,
                       list({{'entity_id': entity_id, 'probability': match_probability}} ORDER BY rank) AS candidates,
                       max(match_probability) AS best_probability,
                       arg_max(entity_id, match_probability) AS best_entity
                FROM prob_reviews GROUP BY pair_id
            ) c
            JOIN unresolved u USING (pair_id)
            JOIN recs ON recs.name_key = u.name_key AND recs.address_key = u.address_key
            ORDER BY recs.name_key, recs.address_key
        ) TO {sql_literal(path)} (FORMAT parquet, COMPRESSION zstd)
    """)


def run_build(
    lake: Lake, progress: Progress | None = None, threads: int | None = None, probabilistic: bool = True
) -> BuildReport:
    """A full build (one at a time per lake: a build already running is waited for)."""
    if not lake.has_records():
        raise FileNotFoundError(f"no records in {lake.root}: run `shijian ingest` first")
    with build_state.build_lock(lake):
        return full_build(lake, progress, threads, probabilistic)


def full_build(
    lake: Lake, progress: Progress | None = None, threads: int | None = None, probabilistic: bool = True
) -> BuildReport:
    """The full build; the caller holds the lake's build lock."""
    report = BuildReport()
    out = lake.root / "build"
    out.mkdir(parents=True, exist_ok=True)
    tmp = lake.root / "build.tmp"
    build_state.roll_forward(lake, tmp)  # an incremental build's interrupted commit is finished first
    build_state.drop_state(lake)  # until this build has synced, no state: a crash leaves the next build a full one
    tmp.mkdir()
    con = build_connection(tmp, threads)
    records = "records"
    loads = build_state.record_files(lake)
    con.execute(f"CREATE VIEW records AS {records_view(lake, loads)}")
    step_names = ["count", "snapshot", "link", "by_entity", "aggregate + search index", "sync"]

    def step(name: str, t0: float) -> None:
        report.seconds[name] = round(time.perf_counter() - t0, 2)
        if progress:
            progress("build", step_names.index(name) + 1, len(step_names))

    # The records to place, from the Parquet files' metadata (no row read). The floor a build is compared with, a
    # scan that reads every row, is measured by `shijian bench ingest` beside it, not inside every build.
    t0 = time.perf_counter()
    report.records = scalar(con, f"SELECT count(*) FROM {records}")
    report.buckets = bucket_count(report.records)
    step("count", t0)

    t0 = time.perf_counter()
    version = build_state.register_version()  # read before the register: a change meanwhile shows next time
    ent_path = snapshot_entities(lake)
    step("snapshot", t0)

    t0 = time.perf_counter()
    hashed = link(con, lake, ent_path, tmp, report, probabilistic)
    step("link", t0)

    t0 = time.perf_counter()
    staged = tmp / "by_entity"

    # Minutes at 130M records: the records written so far are shown (of all records; the unlinked stay out).
    def rows_done(n: int) -> None:
        if progress:
            progress("records by entity", n, report.records)

    # One pass: the linked records to their entities' files, the others to the review's (``unlinked.parquet``).
    columns = [str(r[0]) for r in con.execute(f"DESCRIBE SELECT * FROM {records}").fetchall()]
    # Each record's delivered file as its lake file's number where every lake file holds one (file_codes.py).
    scan = records_scan(lake, loads)
    labels = file_codes.labels(con, scan)
    report.file_numbers = labels is not None
    if labels is not None:
        con.execute(f"CREATE VIEW records_coded AS {file_codes.coded_view(scan)}")
    select = steps.records_linked_select(
        report.buckets, columns, hashed, "records" if labels is None else "records_coded"
    )
    unlinked = (tmp / "unlinked.parquet", columns)
    done = write_by_entity(con, select, report.buckets, tmp, rows_done, unlinked, tmp / "texts.parquet", labels)
    if progress:
        progress("records by entity", done, done)
    report.seconds_detail["by_entity write"] = round(time.perf_counter() - t0, 2)
    # The review queue's evidence from the unlinked records just written, not from another pass over the lake.
    con.execute(f"CREATE VIEW unlinked_records AS SELECT * FROM read_parquet({sql_literal(tmp / 'unlinked.parquet')})")
    con.execute("CREATE TABLE unlinked_groups AS " + steps.unlinked_groups_select(hashed, "unlinked_records"))
    write_review(con, tmp / "review.parquet")
    step("by_entity", t0)

    t0 = time.perf_counter()
    aggregate_and_index(con, lake, staged, tmp, report, progress)
    step("aggregate + search index", t0)

    swap_in(tmp, out)

    t0 = time.perf_counter()
    report.synced = sync_entity_files(out / "entity_files.parquet")
    report.reviews = sync_reviews(out / "review.parquet")
    step("sync", t0)
    finish(lake, report)
    build_state.write_state(
        lake,
        build_state.BuildState(
            loads=loads,
            register=register_digest(lake),
            decisions=decisions_digest(lake),
            buckets=report.buckets,
            key_hash=hashed,
            synced=True,
            register_version=version,
            search_tokens=TOKENIZER_VERSION,
        ),
    )
    return report


def link(
    con: duckdb.DuckDBPyConnection, lake: Lake, ent_path: Path, tmp: Path, report: BuildReport, probabilistic: bool
) -> bool:
    """Every key combination of the records linked (``keys``, also written to ``tmp/keys``); returns whether the
    records find their key row by its 64-bit hash."""
    con.execute(f"CREATE VIEW entities AS SELECT * FROM read_parquet({sql_literal(ent_path)})")
    register_keys(con, tmp / "register_keys")
    # Each record's keys are resolved once per distinct key combination, then joined back.
    con.execute("CREATE TABLE keys_exact AS " + steps.keys_select())
    con.execute("CREATE TABLE pending AS " + steps.pending_select())
    con.execute("CREATE TABLE ent_keys AS SELECT id, name_key, address_key FROM ent")
    report.probabilistic = resolve_pending(con, lake, probabilistic, tmp / MODEL)
    con.execute("CREATE TABLE keys AS " + steps.resolved_keys_select())
    con.execute("DROP TABLE keys_exact")
    # Records find their key row by one 64-bit hash when it is injective over the lake's key combinations
    # (checked here; otherwise, never in practice, by the four columns).
    con.execute("ALTER TABLE keys ADD COLUMN key_hash UBIGINT DEFAULT NULL")
    con.execute(f"UPDATE keys SET key_hash = {steps.KEY_HASH}")
    hashed = scalar(con, "SELECT count(*) = count(DISTINCT key_hash) FROM keys") == 1
    report.key_hash_join = hashed
    # Every key combination's link, kept for incremental builds (new records look their keys up here first).
    (tmp / "keys").mkdir()
    con.execute(f"COPY keys TO {sql_literal(tmp / 'keys' / 'base.parquet')} (FORMAT parquet, COMPRESSION zstd)")
    return hashed


def aggregate_and_index(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    staged: Path,
    tmp: Path,
    report: BuildReport,
    progress: Progress | None,
) -> None:
    """The aggregates of the records in ``staged`` and the search index from the texts the pass set aside, at once;
    closes ``con``."""
    from django.db import transaction

    # The aggregates (DuckDB, on this build's connection, in a thread) and the search index (the operational
    # database, from the texts the pass set aside, in this thread) need nothing of each other: one is mostly DuckDB's
    # threads, the other one Python and the database's writes, so together they keep both cores busy. Each one's
    # own time is in seconds_detail; the step's is the two together.
    # The index commits only once the aggregates are made: a failed build leaves the previous build's index with
    # its files. A failure or a cancel on this side interrupts the aggregates rather than waiting for them.
    t0 = time.perf_counter()
    pool = ThreadPoolExecutor(max_workers=1)
    aggregated = pool.submit(aggregate, con, staged, tmp, report)
    try:
        with transaction.atomic():
            report.texts = fulltext_index.rebuild(lake, report.buckets, progress, texts=tmp / "texts.parquet")
            report.seconds_detail["search index"] = round(time.perf_counter() - t0, 2)
            aggregated.result()
    except BaseException:
        con.interrupt()
        raise
    finally:
        pool.shutdown(wait=True)
        con.close()


def swap_in(tmp: Path, out: Path) -> None:
    """The new build's files in ``tmp`` replace the previous build's in ``out`` (``by_entity/`` by renames)."""
    staged = tmp / "by_entity"
    final = out / "by_entity"
    old = out / "by_entity.old"
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        os.rename(final, old)
    os.rename(staged, final)
    for name in ("unlinked.parquet", "entity_files.parquet", "review.parquet"):
        os.replace(tmp / name, out / name)
    (out / "entity_counts.parquet").unlink(missing_ok=True)  # the layout before counts became a folder
    for folder in ("register_keys", "keys", "entity_counts"):
        shutil.rmtree(out / folder, ignore_errors=True)
        os.rename(tmp / folder, out / folder)
    # The linkage model this build trained (incremental builds score new pairs with it); none trained, none kept.
    if (tmp / MODEL).exists():
        os.replace(tmp / MODEL, out / MODEL)
    else:
        (out / MODEL).unlink(missing_ok=True)
    shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(tmp, ignore_errors=True)


def aggregate(con: duckdb.DuckDBPyConnection, staged: Path, tmp: Path, report: BuildReport) -> None:
    """The aggregates of the records just placed in ``staged`` (``tmp/by_entity``): the links counted, one row per
    entity (``entity_files.parquet``) and its counts by type and department (``entity_counts/``)."""
    t0 = time.perf_counter()
    by_entity = f"read_parquet({sql_literal(staged / '*' / '*.parquet')}, hive_partitioning = true)"
    for method, n in con.execute(f"SELECT link_method, count(*) FROM {by_entity} GROUP BY ALL").fetchall():
        report.linked[method] = int(n)
    report.unlinked = scalar(con, f"SELECT count(*) FROM read_parquet({sql_literal(tmp / 'unlinked.parquet')})")
    con.execute(f"CREATE VIEW by_entity AS SELECT * FROM {by_entity}")
    con.execute(f"COPY ({steps.aggregate_select()}) TO {sql_literal(tmp / 'entity_files.parquet')} {PARQUET}")
    (tmp / "entity_counts").mkdir()
    con.execute(
        f"COPY ({steps.counts_select()}) TO {sql_literal(tmp / 'entity_counts' / 'base.parquet')} "
        "(FORMAT parquet, COMPRESSION zstd)"
    )
    report.entities_with_records = scalar(
        con, f"SELECT count(*) FROM read_parquet({sql_literal(tmp / 'entity_files.parquet')})"
    )
    report.seconds_detail["aggregate"] = round(time.perf_counter() - t0, 2)


def register_keys(con: duckdb.DuckDBPyConnection, save: Path | None = None, saved: Path | None = None) -> None:
    """``ent`` and the exact rules' key tables (``steps.KEY_TABLES``) from the view ``entities``; written to
    ``save``, or read back from ``saved`` (an incremental build on an unchanged register)."""
    for name, select in (("ent", steps.ent_select()), *steps.KEY_TABLES):
        if saved is not None:
            con.execute(
                f"CREATE TABLE {name} AS SELECT * FROM read_parquet({sql_literal(saved / (name + '.parquet'))})"
            )
            continue
        con.execute(f"CREATE TABLE {name} AS {select}")
        if save is not None:
            save.mkdir(parents=True, exist_ok=True)
            con.execute(f"COPY {name} TO {sql_literal(save / (name + '.parquet'))} (FORMAT parquet)")


def finish(lake: Lake, report: BuildReport) -> None:
    report.finished_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    (lake.root / "build" / "build-report.json").write_text(json.dumps(asdict(report), ensure_ascii=False, indent=1))


def build_connection(tmp: Path, threads: int | None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(
        config={
            "threads": threads or os.cpu_count() or 2,
            "temp_directory": str(tmp / "spill"),
            # Bounded memory at any scale: DuckDB spills to disk past this (SHIJIAN_BUILD_MEMORY, e.g. "12GB").
            "memory_limit": os.environ.get("SHIJIAN_BUILD_MEMORY", "6GB"),
            # Row order inside the outputs carries no meaning; not keeping it saves memory on large writes.
            "preserve_insertion_order": False,
        }
    )
    con.execute("SET enable_progress_bar = false")
    return con


def records_view(lake: Lake, loads: list[str]) -> str:
    """The records of exactly these loads (listed once at the start: a load committed meanwhile waits its turn)."""
    return f"SELECT * FROM {records_scan(lake, loads)}"


def records_scan(lake: Lake, loads: list[str]) -> str:
    files = "[" + ", ".join(sql_literal(lake.root / f) for f in loads) + "]"
    return f"read_parquet({files}, hive_partitioning = true)"


def register_digest(lake: Lake) -> str:
    return build_state.digest(lake.root / "build" / "entities.parquet", "id, uscc, reg_no, name, address")


def decisions_digest(lake: Lake) -> str:
    return build_state.digest(lake.root / "build" / "decisions.parquet", "name_key, address_key, entity_id")


def linkage_quality(lake: Lake, truth_dir: Path) -> dict[str, Any]:
    """Precision and recall of the links against a synthetic district's truth (record -> entity).

    A generated entity ``entity_no`` is the register row whose registration number ends in 600000000 + entity_no.
    """
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    be = f"read_parquet({sql_literal(lake.root / 'build' / 'by_entity' / '*' / '*.parquet')}, hive_partitioning = true)"
    ent = f"read_parquet({sql_literal(lake.root / 'build' / 'entities.parquet')})"
    truth = f"read_parquet({sql_literal(truth_dir / 'records' / '*.parquet')})"
    row = con.execute(f"""
        WITH t AS (SELECT DISTINCT record_id, entity_no FROM {truth}),
             e AS (SELECT id, CAST(right(reg_no, 9) AS BIGINT) - 600000000 AS entity_no FROM {ent}),
             linkable AS (SELECT t.record_id, e.id AS true_id FROM t JOIN e USING (entity_no)),
             links AS (SELECT DISTINCT record_id, entity_id FROM {be})
        SELECT
          (SELECT count(*) FROM links),
          (SELECT count(*) FROM links JOIN linkable USING (record_id) WHERE links.entity_id = linkable.true_id),
          (SELECT count(*) FROM linkable)
    """).fetchone()
    con.close()
    made, correct, linkable = (int(x) for x in row) if row else (0, 0, 0)
    return {
        "links": made,
        "correct": correct,
        "linkable": linkable,
        "precision": round(correct / made, 4) if made else None,
        "recall": round(correct / linkable, 4) if linkable else None,
    }
