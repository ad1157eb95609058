"""File helpers shared by the loaders."""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_file(path: Path, block: int = 8 << 20) -> str:
    """SHA-256 of a file's bytes, read in blocks (hashlib releases the GIL: threads hash in parallel)."""
    h = hashlib.sha256()
    buf = bytearray(block)  # one buffer, reused: a fresh 8 MB block per read costs page faults
    view = memoryview(buf)
    with path.open("rb", buffering=0) as f:
        while n := f.readinto(buf):
            h.update(view[:n])
    return h.hexdigest()
