"""Reading a feed once: its bytes and SHA-256 (direct I/O where the file system allows it, a reused buffer)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from shijian.core.files import file_bytes, sha256_file


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 4097, (3 << 20) + 17])
def test_file_bytes_are_the_files_bytes_and_hash(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    f = tmp_path / "feed.csv"
    f.write_bytes(data)
    with file_bytes(f, chunk=1 << 20) as (view, digest):
        assert bytes(view) == data
        assert digest == hashlib.sha256(data).hexdigest() == sha256_file(f)


def test_the_buffer_serves_the_next_file_and_the_view_ends_with_the_block(tmp_path: Path) -> None:
    big, small = tmp_path / "big.csv", tmp_path / "small.csv"
    big.write_bytes(b"a" * (2 << 20) + b"\n")
    small.write_bytes(b"b,c\n")
    with file_bytes(big) as (view, _digest):
        kept = view
        assert len(view) == (2 << 20) + 1
    with pytest.raises(ValueError):  # released: a view cannot outlive the block (the buffer is reused)
        bytes(kept)
    with file_bytes(small) as (view, digest):
        assert bytes(view) == b"b,c\n" and digest == hashlib.sha256(b"b,c\n").hexdigest()


@pytest.mark.skipif(not Path("/dev/shm").is_dir(), reason="no /dev/shm (tmpfs) on this machine")
def test_a_file_system_without_direct_io_is_read_normally() -> None:
    f = Path("/dev/shm") / f"shijian-test-{os.getpid()}.csv"
    try:
        f.write_bytes(b"x,y\n1,2\n" * 1000)
        with file_bytes(f) as (view, digest):
            assert bytes(view) == f.read_bytes() and digest == sha256_file(f)
    finally:
        f.unlink(missing_ok=True)


def test_a_missing_file_is_an_error_not_empty_bytes(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError), file_bytes(tmp_path / "gone.csv"):
        pass
