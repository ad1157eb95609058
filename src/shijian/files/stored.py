"""Save a stored file with its SHA-256; open it only after checking the hash; serve it as a streamed download.

Every app saves and serves files through these three functions, whatever the storage (local disk or an
S3-compatible bucket, settings.STORAGES["default"]). Nothing hands out a storage URL."""

from __future__ import annotations

import hashlib
import tempfile
from typing import IO, Any

from django.core.files.base import ContentFile, File
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext as _

from shijian.core import audit

__all__ = ["FileMissing", "FileTampered", "open_verified", "save", "serve"]

CHUNK = 1 << 20
SPOOL_IN_MEMORY = 1 << 20  # larger files spool to a temporary file while their hash is checked


class FileMissing(Exception):
    """The stored file is gone (deleted under retention, or lost)."""


class FileTampered(Exception):
    """The stored file no longer hashes to the SHA-256 taken when it was received."""

    def __init__(self, name: str, expected: str, found: str) -> None:
        super().__init__(f"{name}: SHA-256 is {found}, expected {expected}")
        self.name, self.expected, self.found = name, expected, found


def save(field: FieldFile, name: str, content: bytes | File[Any]) -> str:
    """Store ``content`` under ``name`` (the field's upload_to decides the folder) and answer its SHA-256.
    The model instance is not saved: the caller sets ``sha256`` (the value answered) and saves it."""
    digest = hashlib.sha256()
    if isinstance(content, bytes):
        digest.update(content)
        content = ContentFile(content)
    else:
        for chunk in content.chunks(CHUNK):
            digest.update(chunk)
        content.seek(0)
    field.save(name, content, save=False)
    return digest.hexdigest()


def open_verified(field: FieldFile, sha256: str) -> IO[bytes]:
    """The stored file's bytes, read once from the storage and checked against ``sha256`` before any is handed
    out. Raises FileMissing or FileTampered. The caller closes the answer."""
    if not field.name:
        raise FileMissing(str(field))
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 (handed to the caller)
    digest = hashlib.sha256()
    try:
        with field.storage.open(field.name, "rb") as src:
            for chunk in iter(lambda: src.read(CHUNK), b""):
                digest.update(chunk)
                spool.write(chunk)
    except (FileNotFoundError, OSError) as exc:
        spool.close()
        raise FileMissing(field.name) from exc
    except Exception as exc:  # an S3 backend raises its own errors for a missing key
        spool.close()
        if type(exc).__name__ in {"ClientError", "NoSuchKey"}:
            raise FileMissing(field.name) from exc
        raise
    if digest.hexdigest() != sha256:
        spool.close()
        raise FileTampered(field.name, sha256, digest.hexdigest())
    spool.seek(0)
    return spool  # type: ignore[return-value]


def intact(field: FieldFile, sha256: str) -> bool:
    """Whether the stored file is there and still hashes to ``sha256``."""
    try:
        open_verified(field, sha256).close()
    except (FileMissing, FileTampered):
        return False
    return True


def serve(
    request: HttpRequest,
    field: FieldFile,
    sha256: str,
    *,
    object_type: str,
    object_id: int,
    filename: str,
    content_type: str,
    as_attachment: bool = True,
) -> HttpResponseBase:
    """A streamed download of a stored file whose hash checks; the caller has checked the user's permission.
    A missing file answers 404; a file that no longer matches its hash answers 409 with a page saying so, and
    the finding is audited."""
    try:
        handle = open_verified(field, sha256)
    except FileMissing:
        raise Http404(_("The file is no longer kept.")) from None
    except FileTampered as exc:
        audit.record(
            "tampered",
            object_type=object_type,
            object_id=str(object_id),
            object_repr=filename,
            after={"expected_sha256": exc.expected, "found_sha256": exc.found, "name": exc.name},
            reason="stored file does not match its SHA-256",
        )
        return _tampered_page(request, filename)
    return FileResponse(handle, as_attachment=as_attachment, filename=filename, content_type=content_type)


def _tampered_page(request: HttpRequest, filename: str) -> HttpResponse:
    return render(request, "files/tampered.html", {"filename": filename}, status=409)
