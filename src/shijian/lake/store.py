"""Lake layout and atomic commits.

```
LAKE/records/source=<source>/load=<load_id>/records.parquet     accepted records (zstd)
LAKE/records/source=<source>/load=<load_id>/quarantine.parquet  rejected rows: file, line, reason, raw row
LAKE/records/source=<source>/load=<load_id>/load.json           the load report (counts, file hash, mapping)
LAKE/staging/<load_id>/                                          a load being written
```

A load is written under ``staging/`` and committed by one ``rename`` into ``records/``: a crash leaves either
nothing visible or the whole load, never half of one. Readers only ever glob ``records/``. Leftover staging
directories (from a crash) are removed by the next ingest.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Lake:
    root: Path

    @property
    def records(self) -> Path:
        return self.root / "records"

    @property
    def staging(self) -> Path:
        return self.root / "staging"

    def records_glob(self) -> str:
        return str(self.records / "source=*" / "load=*" / "records.parquet")

    @contextmanager
    def lock(self, name: str) -> Iterator[None]:
        """An exclusive lock on ``LAKE/<name>`` held for the block (other processes wait): one writer at a time."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / name).open("a+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def quarantine_glob(self) -> str:
        return str(self.records / "source=*" / "load=*" / "quarantine.parquet")

    def has_records(self) -> bool:
        return any(self.records.glob("source=*/load=*/records.parquet"))

    def load_reports(self) -> Iterator[dict[str, Any]]:
        for p in sorted(self.records.glob("source=*/load=*/load.json")):
            yield json.loads(p.read_text(encoding="utf-8"))

    def loaded_hashes(self) -> dict[str, str]:
        """File SHA-256 -> load id, of every committed load (re-ingesting the same bytes adds nothing)."""
        return {r["sha256"]: r["load_id"] for r in self.load_reports()}

    def begin(self, load_id: str) -> Path:
        path = self.staging / load_id
        if path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True)
        return path

    def commit(self, staged: Path, source: str, load_id: str, report: dict[str, Any]) -> Path:
        (staged / "load.json").write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str))
        target_parent = self.records / f"source={source}"
        target_parent.mkdir(parents=True, exist_ok=True)
        target = target_parent / f"load={load_id}"
        for f in staged.iterdir():
            with f.open("rb") as fh:
                os.fsync(fh.fileno())
        os.rename(staged, target)  # the commit point
        return target

    def abort(self, staged: Path) -> None:
        shutil.rmtree(staged, ignore_errors=True)

    def clean_staging(self) -> int:
        if not self.staging.exists():
            return 0
        leftovers = list(self.staging.iterdir())
        for p in leftovers:
            shutil.rmtree(p, ignore_errors=True)
        return len(leftovers)
