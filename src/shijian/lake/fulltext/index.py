"""The full-text index the build keeps beside the entity files: one ``RecordText`` row per linked record that
carries a free text, and the engine's index of it (an FTS5 table on SQLite, a ``tsvector`` on PostgreSQL).

A full build rebuilds it from every ``by_entity`` file; an incremental build adds the files it wrote: a bucket
rewritten whole (its records moved) first loses its rows, a part beside the others only adds. Both run inside one
transaction, before the build's state is written, so a failure leaves the next build a full one. Texts are stored
and indexed with mobile numbers masked (``registry.display.mask_phones``): nobody finds a complaint by its filer's
number, and nobody sees one in a result.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import os
import pickle
import queue
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, cast

import duckdb
import pyarrow as pa

from shijian.lake.fulltext.tokens import indexed_text, tsvector_literal
from shijian.lake.store import Lake
from shijian.registry.display import mask_phones

TEXT_TYPES = ("complaint", "penalty", "inspection")  # the record kinds whose detail is a free text
# what the index reads of a linked record (from ``by_entity`` files, or the texts a full build set aside)
TEXT_COLUMNS = ("entity_id", "source", "record_type", "event_date", "record_id", "detail", "file", "line")
SHIFT = 24  # id = day_key(date) << SHIFT | n: 16.7M texts a day, any date from the year 1 (none: day 0)
FTS = "lake_recordtext_fts"
TABLE = "lake_recordtext"
COLUMNS = (
    "id",
    "entity_id",
    "bucket",
    "district_code",
    "town_code",
    "region_code",
    "source",
    "record_type",
    "event_date",
    "record_id",
    "text",
)
FETCH = 50_000
FTS_HASH_BYTES = 64 << 20  # FTS5's memory for new entries before it writes them as a segment (``_bulk_sqlite``)
PG_TAG = "_"  # PostgreSQL: the tags are lexemes of the row's tsvector, marked so that no text word can equal one
Progress = Callable[[str, int, int], None]


def day_key(day: dt.date | None) -> int:
    """A date's place in the ids: its proleptic Gregorian ordinal (0001-01-01 is 1), 0 for none."""
    return day.toordinal() if day else 0


@functools.lru_cache(maxsize=4096)
def source_tag(source: str) -> str:
    """A department's code as one index word (codes hold hyphens and capitals, which the tokenizer splits)."""
    return "s" + hashlib.blake2b(source.encode(), digest_size=6).hexdigest()


def tags(district: str, town: str, village: str, source: str, record_type: str) -> str:
    """The words a text row's filters match in the FTS5 index: region at each level, department, record type."""
    return f"d{district} t{town} v{village} {source_tag(source)} k{record_type}"


def by_entity_files(lake: Lake) -> list[str]:
    return sorted(str(p) for p in (lake.root / "build" / "by_entity").glob("bucket=*/*.parquet"))


def entity_codes(ids: Sequence[int] | None = None) -> pa.Table:
    """Every entity's region codes (or these entities'), from the operational database (the jurisdiction of their
    texts)."""
    from django.db import connection

    sql = "SELECT id, district_code, town_code, region_code FROM registry_entity"
    rows: list[Any] = []
    with connection.cursor() as cur:
        if ids is None:
            cur.execute(sql)
            rows = cur.fetchall()
        for start in range(0, len(ids or ()), 900):
            chunk = list(ids[start : start + 900]) if ids else []
            cur.execute(f"{sql} WHERE id IN ({', '.join(['%s'] * len(chunk))})", chunk)
            rows += cur.fetchall()
    return codes_table(rows)


def codes_table(rows: Sequence[tuple[Any, ...]]) -> pa.Table:
    """(id, district, town, village) rows as the table the index joins its texts to."""
    cols: list[Any] = list(zip(*rows, strict=True)) if rows else [(), (), (), ()]
    return pa.table(
        {
            "id": pa.array(cols[0], pa.int64()),
            "district_code": pa.array(cols[1], pa.string()),
            "town_code": pa.array(cols[2], pa.string()),
            "region_code": pa.array(cols[3], pa.string()),
        }
    )


def _texts_select(files: Sequence[str]) -> str:
    """The records of ``files`` that carry a text, with their day's place in the ids."""
    types = ", ".join(f"'{t}'" for t in TEXT_TYPES)
    return f"""
        SELECT {", ".join(TEXT_COLUMNS)},
               CAST(coalesce(date_diff('day', DATE '0001-01-01', event_date) + 1, 0) AS BIGINT) AS day
        FROM read_parquet({list(files)!r})
        WHERE record_type IN ({types}) AND detail IS NOT NULL AND detail <> ''
    """


def _rows(
    con: duckdb.DuckDBPyConnection, texts: str, buckets: int, offsets: dict[int, int]
) -> duckdb.DuckDBPyConnection:
    """The rows of relation ``texts``, numbered within each day after ``offsets`` (the next free number of a day)."""
    con.execute("CREATE OR REPLACE TEMP TABLE offsets (day BIGINT, next BIGINT)")
    if offsets:
        con.executemany("INSERT INTO offsets VALUES (?, ?)", list(offsets.items()))
    return con.execute(f"""
        SELECT (t.day << {SHIFT}) + coalesce(o.next, 0)
                   + row_number() OVER (PARTITION BY t.day ORDER BY source, record_id, file, line) - 1 AS id,
               entity_id, CAST(entity_id % {buckets} AS INTEGER), c.district_code, c.town_code, c.region_code,
               source, record_type, event_date, record_id, detail
        FROM {texts} t JOIN codes c ON c.id = t.entity_id LEFT JOIN offsets o ON o.day = t.day
        ORDER BY id
    """)


def _next_numbers(days: Iterable[int]) -> dict[int, int]:
    """For each day, the number after the highest id the table holds for it (one primary-key probe a day)."""
    from django.db import connection

    out: dict[int, int] = {}
    with connection.cursor() as cur:
        for day in days:
            cur.execute(f"SELECT max(id) FROM {TABLE} WHERE id >= %s AND id < %s", [day << SHIFT, (day + 1) << SHIFT])
            top = cur.fetchone()
            if top and top[0] is not None:
                out[day] = int(top[0]) - (day << SHIFT) + 1
    return out


def index_entries(rows: Sequence[tuple[str, str, str, str, str, str]], vendor: str) -> list[tuple[str, str]]:
    """For each (text, district, town, village, source, type): the text as stored (mobile numbers masked) and what
    the engine indexes (FTS5's string of tokens; PostgreSQL's ``tsvector`` literal, the tags included). Pure Python,
    and after the inserts the most of a load's time: a large load runs it in another process (``_load``)."""
    out: list[tuple[str, str]] = []
    for text, district, town, village, source, record_type in rows:
        masked = mask_phones(str(text))
        if vendor == "postgresql":
            marks = " ".join(f"'{PG_TAG}{w}'" for w in tags(district, town, village, source, record_type).split())
            out.append((masked, tsvector_literal(masked) + " " + marks))
        else:
            out.append((masked, indexed_text(masked)))
    return out


def _entry_input(rows: Sequence[tuple[Any, ...]]) -> list[tuple[str, str, str, str, str, str]]:
    return [(r[10], r[3], r[4], r[5], r[6], r[7]) for r in rows]


class _Writer:
    """Writes text rows and their index entries, in the engine's way."""

    def __init__(self, cur: Any) -> None:
        from django.db import connection

        self.cur, self.vendor, self.ops = cur, connection.vendor, connection.ops
        cols = ", ".join(COLUMNS)
        marks = ", ".join(["%s"] * len(COLUMNS))
        if self.vendor == "postgresql":
            self.sql = f"INSERT INTO {TABLE} ({cols}, tsv) VALUES ({marks}, %s::tsvector)"
        else:
            self.sql = f"INSERT INTO {TABLE} ({cols}) VALUES ({marks})"
        self.fts = f"INSERT INTO {FTS} (rowid, tokens, tags) VALUES (%s, %s, %s)"

    def write(self, rows: Sequence[tuple[Any, ...]], entries: Sequence[tuple[str, str]] | None = None) -> None:
        """``rows`` as ``COLUMNS`` orders them; ``entries``: their ``index_entries``, where already computed."""
        if entries is None:
            entries = index_entries(_entry_input(rows), self.vendor)
        date = self.ops.adapt_datefield_value
        params: list[tuple[Any, ...]] = []
        index: list[tuple[Any, ...]] = []
        for r, (text, entry) in zip(rows, entries, strict=True):
            row = (int(r[0]), int(r[1]), int(r[2]), r[3], r[4], r[5], r[6], r[7], date(r[8]), r[9], text)
            if self.vendor == "postgresql":
                params.append((*row, entry))
            else:
                params.append(row)
                index.append((row[0], entry, tags(r[3], r[4], r[5], r[6], r[7])))
        self.cur.executemany(self.sql, params)
        if index:
            self.cur.executemany(self.fts, index)


def write_rows(rows: list[tuple[Any, ...]]) -> None:
    """Text rows as ``COLUMNS`` orders them, written with their index entries (the build's rows; a test's)."""
    from django.db import connection

    with connection.cursor() as cur:
        _Writer(cur).write(rows)


PARALLEL_ROWS = 200_000  # a load of this many texts or more computes its index entries in another process


class _EntryProcess:
    """``index_entries`` in a child process (``python -m shijian.lake.fulltext.index``): batches go in, pickled,
    through its stdin (from a thread, so that a full pipe never blocks the reading of results), and their entries
    come back in order through its stdout. A plain child, not ``multiprocessing``: its spawn and forkserver modes
    run the parent's main script again in the child (a script without a ``__main__`` guard built the lake twice),
    and a fork would copy DuckDB's threads' locks."""

    def __init__(self, vendor: str) -> None:
        cmd = [sys.executable, "-m", "shijian.lake.fulltext.index", vendor]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.batches: queue.Queue[list[tuple[str, str, str, str, str, str]] | None] = queue.Queue()
        self.feeder = threading.Thread(target=self._feed, daemon=True)
        self.feeder.start()

    def _feed(self) -> None:
        pipe = self.proc.stdin
        assert pipe is not None
        try:
            while (rows := self.batches.get()) is not None:
                _send(pipe, rows)
        except BrokenPipeError:  # the child stopped: ``result`` says so
            pass
        finally:
            with contextlib.suppress(BrokenPipeError):
                pipe.close()

    def submit(self, rows: list[tuple[str, str, str, str, str, str]]) -> None:
        self.batches.put(rows)

    def result(self) -> list[tuple[str, str]]:
        assert self.proc.stdout is not None
        entries = _receive(self.proc.stdout)
        if entries is None:
            raise RuntimeError(f"the search index's worker process stopped (exit code {self.proc.poll()})")
        return cast(list[tuple[str, str]], entries)

    def close(self) -> None:
        self.batches.put(None)
        self.feeder.join()
        if self.proc.stdout:
            self.proc.stdout.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _send(pipe: IO[bytes], value: Any) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    pipe.write(len(data).to_bytes(8, "little"))
    pipe.write(data)
    pipe.flush()


def _receive(pipe: IO[bytes]) -> Any:
    """The next value sent, or None at the end of the stream."""
    header = pipe.read(8)
    if len(header) < 8:
        return None
    size = int.from_bytes(header, "little")
    data = pipe.read(size)
    if len(data) < size:
        return None
    return pickle.loads(data)  # our own child process's output, nothing from outside


def _serve(vendor: str) -> None:
    """The child's loop: batches in, entries out, until its stdin closes."""
    while (rows := _receive(sys.stdin.buffer)) is not None:
        _send(sys.stdout.buffer, index_entries(rows, vendor))


def _load(cur: Any, result: duckdb.DuckDBPyConnection, total: int, progress: Progress | None) -> int:
    """Every row of ``result`` written. A large load (``total`` of ``PARALLEL_ROWS`` or more, on more than one
    core) computes the coming batches' index entries in a child process while this one inserts: at 1.3M texts the
    Python tokenising and the inserts each took about half of the time."""
    writer = _Writer(cur)
    done = 0

    def write(rows: list[tuple[Any, ...]], entries: list[tuple[str, str]] | None = None) -> None:
        nonlocal done
        writer.write(rows, entries)
        done += len(rows)
        if progress:
            progress("search index", done, total)

    if total < PARALLEL_ROWS or (os.cpu_count() or 1) < 2:
        while batch := result.fetchmany(FETCH):
            write(batch)
        return done
    worker = _EntryProcess(writer.vendor)
    try:
        ahead: deque[list[tuple[Any, ...]]] = deque()
        while batch := result.fetchmany(FETCH):
            worker.submit(_entry_input(batch))
            ahead.append(batch)
            if len(ahead) > 2:
                write(ahead.popleft(), worker.result())
        while ahead:
            write(ahead.popleft(), worker.result())
    finally:
        worker.close()
    return done


@contextlib.contextmanager
def _bulk_sqlite(cur: Any) -> Iterator[None]:
    """SQLite, for a whole index written at once: FTS5 keeps 64 MB of new entries in memory before it writes a
    segment (1 MB by default: at 1.3M texts, many small segments merged again and again; 11 s of inserts became
    7 s), and the page cache holds 1 GB for the transaction rather than spilling pages to the journal midway.
    The FTS5 setting stays with the table (a smaller load never fills it); the page cache's is restored."""
    from django.db import connection

    if connection.vendor != "sqlite":
        yield
        return
    cur.execute("PRAGMA cache_size")
    before = int(cur.fetchone()[0])
    cur.execute(f"INSERT INTO {FTS} ({FTS}, rank) VALUES ('hashsize', {FTS_HASH_BYTES})")
    cur.execute("PRAGMA cache_size = -1048576")
    try:
        yield
    finally:
        cur.execute(f"PRAGMA cache_size = {before}")


def _connection() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config={"threads": 2})
    con.execute("SET enable_progress_bar = false")
    return con


def _with_codes(con: duckdb.DuckDBPyConnection, codes: pa.Table) -> None:
    con.register("codes_arrow", codes)
    con.execute("CREATE OR REPLACE TEMP TABLE codes AS SELECT * FROM codes_arrow")


def _count(con: duckdb.DuckDBPyConnection, texts: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {texts}").fetchone()
    return int(row[0]) if row else 0


def rebuild(
    lake: Lake,
    buckets: int,
    progress: Progress | None = None,
    codes: pa.Table | None = None,
    texts: Path | None = None,
) -> int:
    """Every linked record's text, from the build's ``by_entity`` files, or from ``texts`` (a file of the linked
    records with ``TEXT_COLUMNS``, which the build wrote in its pass): the index replaced in one transaction."""
    from django.db import connection, transaction

    from shijian.core.bulk import deferred_indexes
    from shijian.lake.models import RecordText

    files = [str(texts)] if texts else by_entity_files(lake)
    con = _connection()
    _with_codes(con, codes if codes is not None else entity_codes())
    try:
        with transaction.atomic(), connection.cursor() as cur:
            if connection.vendor == "postgresql":
                cur.execute(f"TRUNCATE {TABLE}")
            else:
                cur.execute(f"DELETE FROM {TABLE}")
                cur.execute(f"INSERT INTO {FTS} ({FTS}) VALUES ('delete-all')")
            if not files:
                return 0
            # the texts read from the lake once (1.3M at 130M records): counted for the progress, then written
            con.execute(f"CREATE TEMP TABLE texts AS {_texts_select(files)}")
            total = _count(con, "texts")
            with _bulk_sqlite(cur), deferred_indexes(RecordText):
                return _load(cur, _rows(con, "texts", buckets, {}), total, progress)
    finally:
        con.close()


def update(lake: Lake, files: Sequence[Path], rewritten: Sequence[int], buckets: int) -> int:
    """An incremental build's files: the rewritten buckets' rows replaced, the other files' rows added."""
    from django.db import connection, transaction

    if not files:
        return 0
    con = _connection()
    try:
        # the files' texts read once; the region codes of their entities only (not the whole register)
        con.execute(f"CREATE TEMP TABLE texts AS {_texts_select([str(f) for f in files])}")
        ids = [int(r[0]) for r in con.execute("SELECT DISTINCT entity_id FROM texts ORDER BY 1").fetchall()]
        _with_codes(con, entity_codes(ids))
        days = [int(r[0]) for r in con.execute("SELECT DISTINCT day FROM texts ORDER BY 1").fetchall()]
        with transaction.atomic(), connection.cursor() as cur:
            _drop_buckets(cur, rewritten)
            return _load(cur, _rows(con, "texts", buckets, _next_numbers(days)), 0, None)
    finally:
        con.close()


def _drop_buckets(cur: Any, rewritten: Sequence[int]) -> None:
    from django.db import connection

    for start in range(0, len(rewritten), 500):
        chunk = list(rewritten[start : start + 500])
        marks = ", ".join(["%s"] * len(chunk))
        if connection.vendor != "postgresql":
            # a contentless FTS5 table forgets a row when told the words it indexed: computed again from the text
            cur.execute(
                f"SELECT id, text, district_code, town_code, region_code, source, record_type FROM {TABLE} "
                f"WHERE bucket IN ({marks})",
                chunk,
            )
            gone = [(r[0], indexed_text(r[1]), tags(*r[2:])) for r in cur.fetchall()]
            cur.executemany(f"INSERT INTO {FTS} ({FTS}, rowid, tokens, tags) VALUES ('delete', %s, %s, %s)", gone)
        cur.execute(f"DELETE FROM {TABLE} WHERE bucket IN ({marks})", chunk)


if __name__ == "__main__":  # the child process of ``_EntryProcess``
    _serve(sys.argv[1])
