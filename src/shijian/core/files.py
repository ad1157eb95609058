"""File helpers shared by the loaders."""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_file(path: Path, block: int = 8 << 20) -> str:
    """SHA-256 of a file's bytes, read in blocks (hashlib releases the GIL: threads hash in parallel)."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(block), b""):
            h.update(chunk)
    return h.hexdigest()
