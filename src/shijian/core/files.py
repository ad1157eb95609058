"""File helpers shared by the loaders."""

from __future__ import annotations

import errno
import hashlib
import mmap
import os
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path


def sha256_file(path: Path, block: int = 8 << 20) -> str:
    """SHA-256 of a file's bytes, read in blocks through one reused buffer (hashlib releases the GIL: threads
    hash in parallel; a fresh 8 MB block per read would cost page faults)."""
    h = hashlib.sha256()
    buf = bytearray(block)
    view = memoryview(buf)
    with path.open("rb", buffering=0) as f:
        while n := f.readinto(buf):
            h.update(view[:n])
    return h.hexdigest()


_local = threading.local()  # one reusable read buffer per thread (an ingest worker reads one file at a time)
_ALIGN = 1 << 20


def _read_buffer(size: int) -> mmap.mmap:
    """A page-aligned buffer of at least ``size`` bytes, kept for the next file: its pages stay mapped, so the
    next read costs no page faults (on a virtual machine a fresh page costs far more than the copy into it)."""
    buf: mmap.mmap | None = getattr(_local, "buf", None)
    if buf is None or len(buf) < size:
        if buf is not None:
            with suppress(BufferError):  # still viewed by a caller: left to the garbage collector
                buf.close()
        buf = mmap.mmap(-1, max(_ALIGN, -(-size // _ALIGN) * _ALIGN))
        _local.buf = buf
    return buf


def release_read_buffer() -> None:
    """Give this thread's read buffer back (at the end of an ingest run in this process)."""
    buf: mmap.mmap | None = getattr(_local, "buf", None)
    _local.buf = None
    if buf is not None:
        with suppress(BufferError):
            buf.close()


@contextmanager
def file_bytes(path: Path, chunk: int = 32 << 20) -> Iterator[tuple[memoryview, str]]:
    """A regular file's bytes, read once, and their SHA-256.

    The file is read with direct I/O where the file system allows it (not through the page cache: the bytes land
    in a reused buffer, and feeds read once do not evict the database's pages), in chunks by a reader thread while
    this one hashes the chunks already read. The view is valid inside the ``with`` block only."""
    fd = -1
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECT", 0))
    except OSError as exc:
        if exc.errno != errno.EINVAL:
            raise
    if fd < 0:  # no direct I/O here (tmpfs, some network file systems)
        fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        buf = _read_buffer(size + chunk)
        view = memoryview(buf)
        progress: queue.SimpleQueue[int | BaseException | None] = queue.SimpleQueue()

        def reader() -> None:
            nonlocal fd
            got = 0
            try:
                while got < size:
                    try:
                        n = os.preadv(fd, [view[got : got + chunk]], got)
                    except OSError as exc:  # direct I/O refused mid-way (an unaligned tail): read on normally
                        if exc.errno != errno.EINVAL:
                            raise
                        os.close(fd)
                        fd = os.open(path, os.O_RDONLY)
                        n = os.preadv(fd, [view[got : got + chunk]], got)
                    if n <= 0:
                        break
                    got = min(got + n, size)
                    progress.put(got)
            except BaseException as exc:  # handed to the caller's thread
                progress.put(exc)
            finally:
                progress.put(None)

        thread = threading.Thread(target=reader, name="read-once", daemon=True)
        thread.start()
        h = hashlib.sha256()
        hashed = 0
        error: BaseException | None = None
        while (item := progress.get()) is not None:
            if isinstance(item, BaseException):
                error = item
            else:
                h.update(view[hashed:item])
                hashed = item
        thread.join()
        if error is not None:
            raise error
        if hashed != size:
            raise OSError(errno.EIO, f"read {hashed:,} of {size:,} bytes", str(path))
        data = view[:size]
        try:
            yield data, h.hexdigest()
        finally:
            data.release()
            view.release()
    finally:
        os.close(fd)
