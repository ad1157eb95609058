"""Reading a feed once: its bytes and SHA-256 (direct I/O where the file system allows it, a reused buffer)."""

from __future__ import annotations

import hashlib
import os
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

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


def test_an_unreadable_feed_is_rejected_with_a_message_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shijian.ingest import pipeline
    from shijian.ingest.mapping import load_mappings
    from shijian.lake.store import Lake

    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / "m.toml").write_text(
        '[feed]\nname = "t"\nfiles = ["*.csv"]\nsource = "T"\nencoding = "auto"\nentity_keys = ["uscc"]\n'
        'record_type = "inspection"\n\n[columns]\nuscc = ["uscc"]\nevent_date = ["date"]\n',
        encoding="utf-8",
    )
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text("uscc,date\n91440608MA4UJ9XG2E,2020-01-01\n", encoding="utf-8")
    bad.write_text("uscc,date\n", encoding="utf-8")
    real = file_bytes  # the function pipeline imported

    def failing(path: Path, *args: Any, **kwargs: Any) -> AbstractContextManager[tuple[memoryview, str]]:
        if path == bad:  # a read error the machine cannot easily stage (EIO)
            raise OSError(5, "Input/output error", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(pipeline, "file_bytes", failing)
    reports = pipeline.ingest([good, bad], load_mappings(maps), Lake(tmp_path / "lake"), workers=1)
    by_file = {Path(r.file).name: r for r in reports}
    assert by_file["bad.csv"].status == "rejected"
    assert by_file["bad.csv"].message == "cannot read the file: Input/output error"
    assert by_file["good.csv"].status == "loaded" and by_file["good.csv"].rows_read == 1
