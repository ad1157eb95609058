"""``shijian ingest``: delivered files -> cleaned, validated records in the lake, rejects in quarantine.

Per file: hash (a file already committed is skipped), read (UTF-8/GB18030 CSV or Excel), map columns, validate
USCCs (vectorised), clean and validate in one DuckDB pass, drop duplicates, write Parquet to a staging directory,
commit with one rename. Counts always reconcile: rows read = accepted + quarantined + duplicates.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from shijian.core.files import file_bytes, release_read_buffer, sha256_file
from shijian.ingest.clean import CONTENT_COLUMNS, MACROS, canonical_select, clean_sql, date_format_order, has_fullwidth
from shijian.ingest.mapping import FeedMapping, MappingError
from shijian.ingest.reader import FeedFileError, csv_header, detect_file_encoding, read_xlsx, to_utf8
from shijian.ingest.uscc_vec import valid_array
from shijian.lake.store import Lake

Progress = Callable[[str, int, int], None]
SUPPORTED = {".csv", ".txt", ".xlsx"}


@dataclass
class LoadReport:
    file: str
    source: str = ""
    mapping: str = ""
    load_id: str = ""
    sha256: str = ""
    encoding: str = ""
    rows_read: int = 0
    accepted: int = 0
    quarantined: int = 0
    duplicates: int = 0
    kept_with_invalid_uscc: int = 0
    status: str = "loaded"  # loaded | already_loaded | rejected | skipped
    message: str = ""
    reasons: dict[str, int] = field(default_factory=dict)
    engine: str = ""  # native (the fast path, fast.py) | sql (the reference path)
    fallback: str = ""  # why the native path handed the file to the SQL path
    seconds: float = 0.0
    finished_at: str = ""
    peak_rss_mb: int = 0  # peak resident memory of the process that loaded the file, when it committed it

    @property
    def reconciles(self) -> bool:
        return self.rows_read == self.accepted + self.quarantined + self.duplicates


def _candidates(file: Path, root: Path | None) -> list[str]:
    if root is not None:
        try:
            return [file.relative_to(root).as_posix()]
        except ValueError:
            pass
    parts = file.parts
    return ["/".join(parts[i:]) for i in range(len(parts))]


def find_mapping(file: Path, root: Path | None, mappings: list[FeedMapping]) -> FeedMapping | None:
    for rel in _candidates(file, root):
        for m in mappings:
            if m.matches(rel):
                return m
    return None


def expand(paths: Iterable[Path]) -> list[tuple[Path, Path | None]]:
    """Files to ingest with the directory they were found under (for mapping globs)."""
    out: list[tuple[Path, Path | None]] = []
    for p in paths:
        if p.is_dir():
            out.extend((f, p) for f in sorted(p.rglob("*")) if f.is_file() and f.suffix.lower() in SUPPORTED)
        else:
            out.append((p, None))
    return out


def _reason_key(reason: str) -> str:
    for prefix in ("unreadable date", "unreadable amount", "unknown record type", "invalid USCC", "missing"):
        if reason.startswith(prefix):
            return prefix if prefix != "missing" else reason
    if "cells, expected" in reason:
        return "wrong number of cells"
    return reason


def ingest_file(
    file: Path,
    root: Path | None,
    mappings: list[FeedMapping],
    lake: Lake,
    known: dict[str, str],
    threads: int = 2,
    sha256: str = "",
) -> LoadReport:
    t0 = time.perf_counter()
    report = LoadReport(file=str(file))
    if not file.exists():
        report.status, report.message = "rejected", "no such file"
        return report
    mapping = find_mapping(file, root, mappings)
    if mapping is None:
        report.status = "rejected"
        report.message = "no mapping matches this file; add one (see docs/ingest.md) or pass --mapping DIR"
        return report
    report.mapping, report.source = mapping.path, mapping.source_for(file)
    with ExitStack() as stack:
        data: memoryview | None = None
        try:
            if (
                file.suffix.lower() in {".csv", ".txt"}
                and _native_available()
                and file.stat().st_size <= read_once_limit()
            ):
                # the native path parses the bytes it hashed: the file is read once
                data, digest = stack.enter_context(file_bytes(file))
            else:
                digest = sha256 or sha256_file(file)
        except OSError as exc:  # unreadable, or changed while read: this file is rejected, the run goes on
            report.status, report.message = "rejected", f"cannot read the file: {exc.strerror or exc}"
            return report
        report.sha256 = sha256 or digest
        return _load(file, mapping, report, lake, known, threads, t0, data)


def read_once_limit() -> int:
    """The largest file read whole into memory (an eighth of the machine's memory); a larger one is hashed as it
    streams past and then mapped, so its bytes stay in the page cache, which the system can evict."""
    import os

    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 8
    except (ValueError, OSError):
        return 1 << 30


def peak_rss_mb() -> int:
    """This process's peak resident memory since it started its program (``VmHWM``; ``ru_maxrss`` would include
    the parent's memory at the fork of a spawned worker, which Linux keeps across ``exec``)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) // 1024


def _native_available() -> bool:
    from shijian.ingest import fast

    return fast.available()


def _load(
    file: Path,
    mapping: FeedMapping,
    report: LoadReport,
    lake: Lake,
    known: dict[str, str],
    threads: int,
    t0: float,
    data: memoryview | None,
) -> LoadReport:
    if report.sha256 in known:
        report.status, report.message = "already_loaded", f"identical file committed as load {known[report.sha256]}"
        return report
    load_id = f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{report.sha256[:12]}"
    staged = lake.begin(load_id)
    try:
        if not _try_native(file, mapping, report, lake, staged, data):
            report.engine = "sql"
            con = duckdb.connect(config={"threads": threads})
            con.execute("SET enable_progress_bar = false")
            con.execute(MACROS)
            header_map, fullwidth = _read_raw(con, file, mapping, report, staged)
            _write_load(con, header_map, fullwidth, mapping, report, lake, staged)
            con.close()
        report.load_id = load_id
        report.seconds = round(time.perf_counter() - t0, 3)
        report.finished_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        if not report.reconciles:  # a bug, never data: refuse to commit
            raise RuntimeError(f"counts do not reconcile for {file}: {asdict(report)}")
        for tmp in staged.glob("_*"):
            tmp.unlink()
        report.peak_rss_mb = peak_rss_mb()
        lake.commit(staged, report.source, load_id, asdict(report))
    except (FeedFileError, MappingError) as exc:
        lake.abort(staged)
        report.status, report.message = "rejected", str(exc)
        report.rows_read = 0
        report.seconds = round(time.perf_counter() - t0, 3)
        return report
    except BaseException:
        lake.abort(staged)
        raise
    known[report.sha256] = load_id
    return report


def _try_native(
    file: Path, mapping: FeedMapping, report: LoadReport, lake: Lake, staged: Path, data: memoryview | None = None
) -> bool:
    """The fast path (``fast.py``) for a CSV file; False, with the reason in the report, where it declines."""
    from shijian.ingest import fast

    if file.suffix.lower() not in {".csv", ".txt"}:
        return False
    if not fast.available():
        report.fallback = "the native reader is not built"
        return False
    encoding = mapping.encoding
    if encoding == "auto":  # not UTF-8: GB18030, which the native decoder checks on every byte
        encoding = "utf-8" if head_is_utf8(file, data) else "gb18030"
        try:
            header = csv_header(file, encoding)
        except FeedFileError:  # the full detection says why
            encoding = detect_file_encoding(file)
            header = csv_header(file, encoding)
    else:
        header = csv_header(file, encoding)
    header_map = _check_columns(header, mapping)
    prior = _prior_loads(lake, report.source) if mapping.dedupe_across_loads else []
    result = fast.ingest_csv(file, encoding, header, header_map, mapping, report.file, staged, prior, data)
    if isinstance(result, str):
        report.fallback = result
        for leftover in ("records.parquet", "quarantine.parquet"):
            (staged / leftover).unlink(missing_ok=True)
        return False
    report.engine, report.encoding = "native", encoding
    report.rows_read, report.accepted = result.rows_read, result.accepted
    report.quarantined, report.duplicates = result.quarantined, result.duplicates
    report.kept_with_invalid_uscc, report.reasons = result.kept_with_invalid_uscc, result.reasons
    return True


def head_is_utf8(file: Path, data: memoryview | None = None) -> bool:
    """Whether the file's first megabyte decodes as UTF-8 (from ``data``, the file's bytes, where read already)."""
    if data is not None:
        head = bytes(data[: 1 << 20])
    else:
        with file.open("rb") as f:
            head = f.read(1 << 20)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > len(head) - 4  # a character cut at the end of the sample
    return True


def _check_columns(names: list[str], mapping: FeedMapping) -> dict[str, str]:
    header_map, unknown = mapping.header_map(names)
    if unknown:
        raise FeedFileError(f"unknown columns {unknown}: add them to [columns] of {mapping.path}, or to ignore = [...]")
    missing = [f for f in mapping.required if f not in header_map.values()]
    if not mapping.record_type and "record_type" not in header_map.values():
        missing.append("record_type")
    if missing:
        raise FeedFileError(f"required columns missing: {missing} (mapping {mapping.path})")
    return header_map


def _read_raw(
    con: duckdb.DuckDBPyConnection, file: Path, mapping: FeedMapping, report: LoadReport, staged: Path
) -> tuple[dict[str, str], bool]:
    """Load the delivered rows into ``raw_rows`` and the view ``raw(ord, line, ...)`` (row number and line in the
    file); malformed rows into ``bad_rows(line, reason, raw)``. Also says whether any cell may hold full-width
    characters."""
    if file.suffix.lower() == ".xlsx":
        result = read_xlsx(file)
        header_map = _check_columns(result.table.column_names, mapping)
        report.encoding = "xlsx"
        con.register("raw_arrow", result.table)
        con.execute("CREATE TEMP TABLE raw_rows AS SELECT * FROM raw_arrow")
        con.register("lines_arrow", pa.table({"line": pa.array(result.lines)}))
        con.execute("CREATE TEMP TABLE lines AS SELECT row_number() OVER () AS ord, line FROM lines_arrow")
        con.execute(
            "CREATE VIEW raw AS SELECT r.ord, lines.line, r.* EXCLUDE (ord) FROM "
            "(SELECT rowid + 1 AS ord, * FROM raw_rows) r JOIN lines USING (ord)"
        )
        con.register(
            "bad_arrow",
            pa.table(
                {
                    "line": pa.array([b.line for b in result.bad], pa.int64()),
                    "reason": pa.array([b.reason for b in result.bad], pa.string()),
                    "raw": pa.array([b.text for b in result.bad], pa.string()),
                }
            ),
        )
        con.execute("CREATE TEMP TABLE bad_rows AS SELECT * FROM bad_arrow")
        report.rows_read = result.rows_read
        return header_map, True
    if file.suffix.lower() not in {".csv", ".txt"}:
        raise FeedFileError(f"unsupported file type {file.suffix!r}: give .csv or .xlsx")
    encoding = detect_file_encoding(file) if mapping.encoding == "auto" else mapping.encoding
    report.encoding = encoding
    header_map = _check_columns(csv_header(file, encoding), mapping)
    path = to_utf8(file, encoding, staged / "_utf8.csv") if encoding != "utf-8" else file
    try:
        con.execute(
            "CREATE TEMP TABLE raw_rows AS SELECT * FROM read_csv("
            f"{_sql(str(path))}, all_varchar = true, header = true, delim = ',', quote = '\"', escape = '\"', "
            "store_rejects = true, strict_mode = true, null_padding = false)"
        )
    except duckdb.Error as exc:
        raise FeedFileError(f"cannot parse as CSV: {str(exc).splitlines()[0]}") from exc
    con.execute("""
        CREATE TEMP TABLE bad_rows AS
        SELECT line, arg_min(error_type || ': ' || error_message, column_idx) AS reason, any_value(csv_line) AS raw
        FROM reject_errors GROUP BY line
    """)
    # rowid follows the file's order. Line of each accepted row: the rows fill lines 2.. in order, skipping the
    # malformed ones (a well-formed file, the usual case, needs no join).
    bad = _one(con, "SELECT count(*) FROM bad_rows")
    if bad == 0:
        con.execute("CREATE VIEW raw AS SELECT rowid + 1 AS ord, rowid + 2 AS line, * FROM raw_rows")
    else:
        con.execute("""
            CREATE VIEW raw AS
            WITH skips AS (SELECT line - row_number() OVER (ORDER BY line) AS s,
                                  row_number() OVER (ORDER BY line) AS j FROM bad_rows),
                 r AS (SELECT rowid + 1 AS ord, * FROM raw_rows)
            SELECT r.ord, r.ord + 1 + coalesce(skips.j, 0) AS line, r.* EXCLUDE (ord)
            FROM r ASOF LEFT JOIN skips ON r.ord >= skips.s
        """)
    report.rows_read = _one(con, "SELECT count(*) FROM raw_rows") + bad
    return header_map, has_fullwidth(path)


def _write_load(
    con: duckdb.DuckDBPyConnection,
    header_map: dict[str, str],
    fullwidth: bool,
    mapping: FeedMapping,
    report: LoadReport,
    lake: Lake,
    staged: Path,
) -> None:
    extra = [c for c in _delivered_columns(con) if c not in header_map and c not in mapping.ignore]
    # One pass of text cleaning, kept: the USCC check, the date sample and the validation all read it.
    con.execute(
        "CREATE TEMP TABLE canon AS "
        + canonical_select(header_map, extra if mapping.keep_extra else None, fullwidth=fullwidth)
    )
    distinct = con.sql("SELECT DISTINCT uscc FROM canon WHERE uscc <> ''").to_arrow_table()
    codes = distinct.column("uscc") if distinct.num_rows else pa.array([], pa.string())
    con.register("uscc_checked", pa.table({"uscc": codes, "ok": pa.array(valid_array(codes))}))
    con.execute("CREATE TEMP TABLE uscc_valid AS SELECT * FROM uscc_checked")
    formats = date_format_order(
        con, mapping.date_formats, "SELECT event_date FROM canon WHERE event_date <> '' LIMIT 2000"
    )
    con.execute("CREATE TEMP TABLE cleaned AS " + clean_sql(mapping, formats))
    con.execute("DROP TABLE canon")
    # Rejected rows keep the row exactly as delivered (JSON of its cells), with the line and the reason.
    con.execute("""
        CREATE TEMP TABLE rejected AS
        WITH bad AS (SELECT ord, line, reason FROM cleaned WHERE reason IS NOT NULL)
        SELECT bad.line, bad.reason, to_json(d.delivered)::VARCHAR AS raw
        FROM bad
        JOIN (SELECT rowid + 1 AS ord, raw_rows AS delivered FROM raw_rows
              WHERE rowid + 1 IN (SELECT ord FROM bad)) d USING (ord)
        UNION ALL SELECT line, reason, raw FROM bad_rows
    """)
    # Duplicates: the first occurrence of the same content is kept (and, if the mapping says so, nothing that an
    # earlier load of the same source already holds). A 64-bit hash finds the candidates; their content decides.
    prior = _prior_loads(lake, report.source) if mapping.dedupe_across_loads else []
    con.execute(
        "CREATE TEMP TABLE dropped AS "
        + dropped_sql(f"SELECT line, {CONTENT_COLUMNS} FROM cleaned WHERE reason IS NULL", prior)
    )
    columns = (
        "record_id, uscc, uscc_raw, uscc_invalid, reg_no, licence_no, entity_ref, name, address, record_type, "
        f"event_date, amount, result, detail, extra, {_sql(report.file)} AS file, line"
    )
    accepted = f"SELECT {columns} FROM cleaned WHERE reason IS NULL AND line NOT IN (SELECT line FROM dropped)"
    report.quarantined = _one(con, "SELECT count(*) FROM rejected")
    report.duplicates = _one(con, "SELECT count(*) FROM dropped")
    report.accepted = report.rows_read - report.quarantined - report.duplicates
    report.kept_with_invalid_uscc = _one(con, "SELECT count(*) FROM cleaned WHERE reason IS NULL AND uscc_invalid")
    for reason, n in con.execute("SELECT reason, count(*) FROM rejected GROUP BY ALL").fetchall():
        key = _reason_key(reason)
        report.reasons[key] = report.reasons.get(key, 0) + n
    con.execute(
        f"COPY ({accepted}) TO {_sql(str(staged / 'records.parquet'))} "
        f"(FORMAT parquet, {_copy_codec()}, ROW_GROUP_SIZE 122880)"
    )
    written = _one(con, f"SELECT count(*) FROM read_parquet({_sql(str(staged / 'records.parquet'))})")
    if written != report.accepted:
        raise RuntimeError(f"wrote {written} records, expected {report.accepted}")
    con.execute(
        f"COPY (SELECT {_sql(report.file)} AS file, line, reason, raw FROM rejected ORDER BY line) "
        f"TO {_sql(str(staged / 'quarantine.parquet'))} (FORMAT parquet, COMPRESSION zstd)"
    )


def _copy_codec() -> str:
    from shijian.ingest.fast import lake_codec

    return "COMPRESSION zstd, COMPRESSION_LEVEL 1" if lake_codec() == "zstd" else "COMPRESSION lz4_raw"


def _prior_loads(lake: Lake, source: str) -> list[Path]:
    return sorted((lake.records / f"source={source}").glob("load=*/records.parquet"))


def dropped_sql(rows_sql: str, prior: list[Path]) -> str:
    """Lines of the rows of ``rows_sql`` (``line`` and the content columns) that repeat an earlier row (a lower
    line, or any row of the ``prior`` loads' Parquet files). A 64-bit hash finds the candidates; their content
    decides."""
    union = ""
    if prior:
        files = ", ".join(_sql(str(p)) for p in prior)
        union = f"UNION ALL SELECT -1 AS line, {CONTENT_COLUMNS} FROM read_parquet([{files}])"
    return f"""
        WITH rows AS ({rows_sql} {union}),
             h AS (SELECT *, hash({CONTENT_COLUMNS}) AS h FROM rows),
             twice AS (SELECT h FROM h GROUP BY h HAVING count(*) > 1),
             cand AS (SELECT * FROM h WHERE h IN (SELECT h FROM twice)),
             ranked AS (SELECT line, row_number() OVER (PARTITION BY {CONTENT_COLUMNS} ORDER BY line) AS n FROM cand)
        SELECT line FROM ranked WHERE n > 1 AND line >= 0
    """


def _delivered_columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [str(r[0]) for r in con.execute("DESCRIBE raw_rows").fetchall()]


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row else 0


def _sql(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ingest_one(args: tuple[Path, Path | None, list[FeedMapping], Path, dict[str, str], int, str]) -> LoadReport:
    file, root, mappings, lake_root, known, threads, sha = args
    pa.set_cpu_count(threads)  # one process per core: no thread pools competing with the other workers
    return ingest_file(file, root, mappings, Lake(lake_root), known, threads, sha)


def ingest(
    paths: Iterable[Path],
    mappings: list[FeedMapping],
    lake: Lake,
    progress: Progress | None = None,
    workers: int | None = None,
    select: Callable[[Path], bool] | None = None,
) -> list[LoadReport]:
    """Ingest every file under ``paths``: files found in a directory that no mapping matches are skipped (and
    reported); a file named explicitly must match one. Files run in parallel, one process per core. ``select``
    keeps only the files it accepts (the others are not part of this run; the benchmark times encodings apart)."""
    import multiprocessing
    import os
    from collections import Counter
    from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed

    found = [(f, root) for f, root in expand(paths) if select is None or select(f)]
    lake.clean_staging()
    known = lake.loaded_hashes()
    reports: dict[int, LoadReport] = {}
    todo: list[tuple[int, Path, Path | None]] = []
    for i, (file, root) in enumerate(found):
        if root is not None and find_mapping(file, root, mappings) is None:
            reports[i] = LoadReport(file=str(file), status="skipped", message="no mapping matches this file")
        else:
            todo.append((i, file, root))
    # Two files of this run can only be identical if they have the same size: only those are hashed here (to
    # load one of them); every other file is hashed by its worker, which reads it anyway (one read from disk).
    sizes = Counter(t[1].stat().st_size for t in todo if t[1].is_file())

    def early(t: tuple[int, Path, Path | None]) -> str:
        return sha256_file(t[1]) if t[1].is_file() and sizes[t[1].stat().st_size] > 1 else ""

    with ThreadPoolExecutor(2) as pool:  # hashlib releases the GIL: hash on both cores
        hashes = list(pool.map(early, todo))
    seen: dict[str, str] = {}
    jobs = []
    for (i, file, root), sha in zip(todo, hashes, strict=True):
        if sha and sha in seen and sha not in known:
            reports[i] = LoadReport(
                file=str(file), sha256=sha, status="already_loaded", message=f"identical to {seen[sha]} in this run"
            )
            continue
        seen.setdefault(sha, str(file))
        jobs.append((i, (file, root, mappings, lake.root, known, 1, sha)))
    # Largest files first: the cores finish together instead of one waiting on a big file started last.
    jobs.sort(key=lambda job: -(job[1][0].stat().st_size if job[1][0].is_file() else 0))
    cpus = os.cpu_count() or 2
    n_workers = max(1, min(workers or cpus, len(jobs)))
    rows = 0
    total = len(found)
    done = len(reports)

    def note(report: LoadReport) -> None:
        nonlocal rows, done
        rows += report.rows_read
        done += 1
        if progress:
            progress("files", done, total)
            progress("rows", rows, rows)

    if n_workers <= 1:
        try:
            for i, (file, root, maps, lake_root, kn, _threads, sha) in jobs:
                reports[i] = ingest_file(file, root, maps, Lake(lake_root), kn, cpus, sha)
                note(reports[i])
        finally:  # the buffers kept from file to file are not the calling process's to keep
            from shijian.ingest import fast

            fast.release_memory()
            release_read_buffer()
    else:
        # spawn, not fork: the parent may hold database connections and DuckDB threads that a fork would copy.
        # One process per core: the workers' numerical libraries must not start thread pools of their own.
        saved = {var: os.environ.get(var) for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
        os.environ.update({var: "1" for var, value in saved.items() if value is None})
        try:
            with ProcessPoolExecutor(n_workers, mp_context=multiprocessing.get_context("spawn")) as processes:
                futures = {processes.submit(_ingest_one, job): i for i, job in jobs}
                for fut in as_completed(futures):
                    reports[futures[fut]] = fut.result()
                    note(reports[futures[fut]])
        finally:
            for var, value in saved.items():
                if value is None:
                    os.environ.pop(var, None)
    return [reports[i] for i in sorted(reports)]


def summary(reports: list[LoadReport]) -> dict[str, Any]:
    loaded = [r for r in reports if r.status == "loaded"]
    return {
        "files": len(reports),
        "loaded": len(loaded),
        "already_loaded": sum(r.status == "already_loaded" for r in reports),
        "rejected": sum(r.status == "rejected" for r in reports),
        "skipped": sum(r.status == "skipped" for r in reports),
        "rows_read": sum(r.rows_read for r in loaded),
        "accepted": sum(r.accepted for r in loaded),
        "quarantined": sum(r.quarantined for r in loaded),
        "duplicates": sum(r.duplicates for r in loaded),
        "reconciles": all(r.reconciles for r in loaded),
    }
