"""The mapping editor's preview: the first rows of a sample file run through the real pipeline with the mapping
being edited, into a throw-away lake; the accepted rows as cleaned and the rejects explained."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from shijian.dataadmin.explain import RECORD_TYPE_LABELS, explain, explain_file, parse_raw
from shijian.ingest.mapping import FeedMapping
from shijian.ingest.pipeline import ingest_file
from shijian.lake.store import Lake

HEAD_BYTES = 256 * 1024  # a CSV sample: its first lines up to this size
SHOWN = 20
CLEAN_COLUMNS = (
    "record_id", "uscc", "reg_no", "licence_no", "entity_ref", "name", "address", "record_type", "event_date",
    "amount", "result", "detail",
)  # fmt: skip


@dataclass
class Preview:
    ok: bool
    message: str = ""
    rows_read: int = 0
    accepted: int = 0
    quarantined: int = 0
    duplicates: int = 0
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)


def _sample(source: Path, target: Path) -> None:
    """The file's head (whole lines) for CSV; the whole workbook for Excel."""
    if source.suffix.lower() == ".xlsx":
        shutil.copyfile(source, target)
        return
    with source.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
        more = fh.read(1)
    if more and b"\n" in head:
        head = head[: head.rindex(b"\n") + 1]
    target.write_bytes(head)


def _shown(column: str, value: Any) -> Any:
    """A cleaned value as the lake holds it: ISO dates, record types by their names."""
    if value is None:
        return ""
    if column == "record_type":
        return RECORD_TYPE_LABELS.get(str(value), value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def run(mapping: FeedMapping, sample: Path) -> Preview:
    with tempfile.TemporaryDirectory(prefix="shijian-preview-") as tmp:
        root = Path(tmp)
        folder = root / "in" / mapping.source
        folder.mkdir(parents=True)
        file = folder / f"sample{sample.suffix.lower()}"
        _sample(sample, file)
        claim = FeedMapping(**{**mapping.__dict__, "files": ("*",)})
        report = ingest_file(file, root / "in", [claim], Lake(root / "lake"), {})
        if report.status != "loaded":
            return Preview(ok=False, message=explain_file(report.message))
        load = root / "lake" / "records" / f"source={report.source}" / f"load={report.load_id}"
        con = duckdb.connect()
        cols = ", ".join(CLEAN_COLUMNS)
        rows = con.execute(
            f"SELECT line, {cols} FROM read_parquet('{load / 'records.parquet'}') ORDER BY line LIMIT {SHOWN}"
        ).fetchall()
        rejected = con.execute(
            f"SELECT line, reason, raw FROM read_parquet('{load / 'quarantine.parquet'}') ORDER BY line LIMIT {SHOWN}"
        ).fetchall()
        con.close()
    rejects = []
    for line, reason, raw in rejected:
        parsed = parse_raw(raw)
        column, text = explain(reason, parsed, mapping)
        rejects.append({"line": line, "column": column, "reason": text, "raw": parsed})
    return Preview(
        ok=True,
        rows_read=report.rows_read,
        accepted=report.accepted,
        quarantined=report.quarantined,
        duplicates=report.duplicates,
        columns=["line", *CLEAN_COLUMNS],
        rows=[[_shown(c, v) for c, v in zip(("line", *CLEAN_COLUMNS), r, strict=True)] for r in rows],
        rejects=rejects,
    )
