"""A department's system pushing a feed (CSV, XLSX or JSON records) into the ingest pipeline through the API.

The pushed bytes are kept as a delivered file under ``HOME/inbox/feeds/<source>/`` and ingested by the same
``ingest_file`` as ``shijian ingest``: the shipped departmental feed mapping, cleaning, quarantine, reconciliation,
and idempotency by the file's SHA-256 (the same bytes pushed twice are one load; the second is ``already_loaded``).
Pushes are serialised on a lock file beside the lake, so two identical pushes racing still make one load.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from shijian.ingest.mapping import load_mappings
from shijian.ingest.pipeline import LoadReport, ingest_file
from shijian.lake.store import Lake

SUFFIXES = {".csv", ".xlsx"}
SOURCE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")


class PushError(ValueError):
    """A push refused before the pipeline saw it (the message says why)."""


def records_csv(records: Sequence[Mapping[str, Any]]) -> bytes:
    """JSON records as one UTF-8 CSV: the columns in the order first met, an absent or null value empty."""
    if not records:
        raise PushError("no records")
    header: dict[str, None] = {}
    for row in records:
        header.update(dict.fromkeys(str(k) for k in row))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in records:
        writer.writerow(["" if row.get(k) is None else str(row.get(k)) for k in header])
    return out.getvalue().encode("utf-8")


def push(data: bytes, suffix: str, source: str, lake: Lake, inbox: Path, mappings: Path | None = None) -> LoadReport:
    """Ingest ``data`` (a whole CSV or XLSX file) as a delivery of ``source``; the load's report."""
    suffix = suffix.lower()
    if suffix not in SUFFIXES:
        raise PushError(f"a feed is {' or '.join(sorted(SUFFIXES))}, not {suffix or 'a file without a suffix'}")
    if not SOURCE.match(source):
        raise PushError("a source is lower-case letters, digits, '-' and '_'")
    if not data:
        raise PushError("empty file")
    digest = hashlib.sha256(data).hexdigest()
    folder = inbox / "feeds" / source
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / f"{digest[:16]}{suffix}"
    with lake.lock(".push.lock"):
        if not file.exists():
            tmp = file.with_suffix(".part")
            tmp.write_bytes(data)
            tmp.rename(file)
        known = lake.loaded_hashes()
        report = ingest_file(file, inbox, load_mappings(mappings), lake, dict(known), threads=1, sha256=digest)
    if report.status == "already_loaded" and not report.load_id:
        report.load_id = known.get(digest, "")  # the load these bytes made before
    return report
