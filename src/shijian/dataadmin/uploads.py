"""Resumable uploads (a small tus-like protocol; static/shijian/upload.js is its client).

``POST /data/feeds/<id>/uploads/`` with ``filename`` and ``size`` creates an upload and answers its URL. ``HEAD``
(or ``GET``) on that URL answers ``Upload-Offset``: the bytes received so far. ``PATCH`` with ``Upload-Offset``
(which must equal the server's) appends the body and answers the new offset. A dropped connection loses at most
the piece in flight: what reached the disk counts, and the client asks for the offset and goes on from there.
When the last byte arrives the file is moved into the feed's inbox and its load is queued as a job.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, BinaryIO

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from shijian.dataadmin.feeds import SUFFIXES
from shijian.dataadmin.models import Feed, Upload, UploadStatus

MAX_BYTES = 64 * 1024**3  # a department's file, however large, is under this
PIECE = 1 << 20


class Refused(Exception):
    """A request the protocol refuses; ``status`` is the HTTP status, the message is for the user."""

    def __init__(self, message: str, status: int = 400, offset: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.offset = offset


def clean_name(filename: str) -> str:
    name = Path(filename.replace("\\", "/")).name.strip().replace("\x00", "")
    if not name or name.startswith("."):
        raise Refused(_("Give the file's name."))
    if not name.lower().endswith(SUFFIXES):
        raise Refused(_("Only CSV and Excel (.xlsx) files can be loaded."))
    return name[-150:]


def start(feed: Feed, user: Any, filename: str, size: int) -> Upload:
    name = clean_name(filename)
    if not 0 < size <= MAX_BYTES:
        raise Refused(_("The file is empty or too large."))
    up = Upload.objects.create(feed=feed, filename=name, size=size, created_by=user)
    up.part_path.parent.mkdir(parents=True, exist_ok=True)
    up.part_path.touch()
    return up


def append(up: Upload, offset: int, stream: BinaryIO, length: int) -> Upload:
    """Write ``length`` bytes of ``stream`` at ``offset`` (the server's); keep what arrived if the stream breaks."""
    if up.status != UploadStatus.RECEIVING:
        raise Refused(_("This upload is complete."), status=409, offset=up.offset)
    if offset != up.offset:
        raise Refused(_("The upload continues at byte %(offset)d.") % {"offset": up.offset}, 409, up.offset)
    if length <= 0 or offset + length > up.size:
        raise Refused(_("The piece does not fit the announced size."), status=400, offset=up.offset)
    written = 0
    with up.part_path.open("r+b") as out:
        out.seek(offset)
        out.truncate()  # bytes beyond the recorded offset (a piece whose offset was never recorded) are dropped
        try:
            while written < length:
                chunk = stream.read(min(PIECE, length - written))
                if not chunk:
                    break
                out.write(chunk)
                written += len(chunk)
        except OSError:  # the connection dropped: what was written counts
            pass
        out.flush()
        os.fsync(out.fileno())
    if not Upload.objects.filter(pk=up.pk, offset=offset, status=UploadStatus.RECEIVING).update(
        offset=F("offset") + written
    ):
        raise Refused(_("Another request appended to this upload at the same time."), 409)
    up.refresh_from_db()
    if up.offset == up.size:
        finish(up)
    return up


def finish(up: Upload) -> None:
    """The whole file arrived: into the feed's inbox, and its load queued."""
    from shijian.jobs.runner import enqueue

    target = up.path
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with up.part_path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(PIECE), b""):
            digest.update(chunk)
    os.replace(up.part_path, target)
    if not Upload.objects.filter(pk=up.pk, status=UploadStatus.RECEIVING).update(
        status=UploadStatus.COMPLETE, sha256=digest.hexdigest(), completed_at=timezone.now()
    ):
        return
    job = enqueue("load", {"upload": up.pk}, up.created_by)
    Upload.objects.filter(pk=up.pk).update(job=job)
    up.refresh_from_db()
