"""Data loads (ingest runs into the lake): the list, and a department's push of a feed into the pipeline."""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja import File, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile

from shijian.api.clients import Principal
from shijian.api.common import ERRORS, NEXT, IsoTime, Limit, Problem, use
from shijian.core import audit
from shijian.core.permissions import allowed
from shijian.ingest import push as pushing
from shijian.ingest.pipeline import LoadReport
from shijian.lake.store import Lake

router = Router(tags=["loads"])

MAX_PUSH_BYTES = 50 * 1024 * 1024


class LoadOut(Schema):
    load_id: str
    source: str
    mapping: str
    sha256: str
    status: str
    message: str
    rows_read: int
    accepted: int
    quarantined: int
    duplicates: int
    reasons: dict[str, int]
    finished_at: str


class LoadPage(Schema):
    items: list[LoadOut]
    next: str | None = NEXT


class Records(Schema):
    records: list[dict[str, str | int | float | None]]


def _lake() -> Lake:
    return Lake(Path(settings.SHIJIAN_LAKE))


def source_of(who: Principal) -> str:
    """The lake source a client pushes into: its own, so no client writes over another department's feed."""
    name = "".join(c if c.isalnum() or c in "-_" else "-" for c in who.name.lower())
    return f"api-{name}"[:60]


def _visible(who: Principal, report: dict[str, Any]) -> bool:
    """Department clients and clients below the district see the loads they pushed; the others every load."""
    if who.role == "dept_staff" or len(who.region_code) > 6:
        return bool(report.get("source") == source_of(who))
    return True


def _out(report: dict[str, Any]) -> LoadOut:
    empty: dict[str, Any] = {"reasons": {}} | dict.fromkeys(_COUNTS, 0)
    return LoadOut.model_validate({k: report.get(k) or empty.get(k, "") for k in LoadOut.model_fields})


_COUNTS = ("rows_read", "accepted", "quarantined", "duplicates")


def _cursor(report: dict[str, Any]) -> str:
    key = [str(report.get("finished_at") or ""), str(report.get("load_id") or "")]
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def _after(cursor: str) -> tuple[str, str]:
    try:
        at, load_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError) as exc:
        raise HttpError(400, "bad cursor") from exc
    if not isinstance(at, str) or not isinstance(load_id, str):
        raise HttpError(400, "bad cursor")
    return at, load_id


@router.get("/loads", response={200: LoadPage, **ERRORS})
def loads(
    request: HttpRequest, cursor: str | None = None, updated_since: IsoTime | None = None, limit: Limit = 100
) -> LoadPage:
    """Committed loads of the lake with their counts (read = accepted + quarantined + duplicates), in (finished
    at, load id) order: a load is committed whole by one rename, so a partner paging with ``next`` sees each once."""
    who = use(request, "loads", kind="load")
    if updated_since is not None and updated_since.tzinfo is None:
        raise HttpError(400, "updated_since needs a time zone")
    lag = dt.timedelta(seconds=float(settings.SHIJIAN_API_SYNC_LAG_SECONDS))
    cutoff = (timezone.now() - lag).astimezone(dt.UTC).isoformat(timespec="seconds")
    after = _after(cursor) if cursor else None
    since = updated_since.astimezone(dt.UTC).isoformat(timespec="seconds") if updated_since else ""
    rows = sorted(
        (r for r in _lake().load_reports() if _visible(who, r) and str(r.get("finished_at") or "") <= cutoff),
        key=lambda r: (str(r.get("finished_at") or ""), str(r.get("load_id") or "")),
    )
    if after is not None:
        rows = [r for r in rows if (str(r.get("finished_at") or ""), str(r.get("load_id") or "")) > after]
    elif since:
        rows = [r for r in rows if str(r.get("finished_at") or "") >= since]
    rows = rows[:limit]
    audit.record(
        audit.Action.VIEW,
        object_type="api.loads",
        object_repr=f"{len(rows)} rows",
        reason=f"cursor={cursor or ''} updated_since={updated_since or ''}",
        actor=who,
    )
    return LoadPage(items=[_out(r) for r in rows], next=_cursor(rows[-1]) if rows else cursor)


def _push(request: HttpRequest, data: bytes, suffix: str, what: str) -> Any:
    who = use(request, "ingest")
    if not allowed(who, "load", "import"):
        raise HttpError(403, "the client's role may not push data loads")
    source = source_of(who)
    try:
        report: LoadReport = pushing.push(data, suffix, source, _lake(), Path(settings.HOME) / "inbox")
    except pushing.PushError as exc:
        raise HttpError(400, str(exc)) from exc
    audit.record(
        audit.Action.IMPORT,
        object_type="api.load",
        object_id=report.load_id,
        object_repr=f"{source}: {what}"[:200],
        after={k: v for k, v in asdict(report).items() if k not in {"file", "peak_rss_mb", "engine", "fallback"}},
        reason=report.status,
        actor=who,
    )
    out = _out(asdict(report))
    if report.status == "loaded":
        return Status(201, out)
    if report.status == "already_loaded":
        return Status(200, out)
    return Status(400, {"detail": report.message or report.status})


PUSHED = {200: LoadOut, 201: LoadOut, **ERRORS, 413: Problem}


@router.post("/loads", response=PUSHED)
def push_file(request: HttpRequest, file: File[UploadedFile]) -> Any:
    """Push a feed file (CSV in UTF-8 or GB18030, or XLSX; multipart field ``file``) into the ingest pipeline as
    the client's department's delivery: the same mapping, cleaning and quarantine as ``shijian ingest``. 201 with
    the load's counts; 200 and ``already_loaded`` for bytes pushed before (nothing is loaded twice); 400 for a
    file the pipeline rejects, with the reason."""
    if file.size and file.size > MAX_PUSH_BYTES:
        raise HttpError(413, f"a pushed file is at most {MAX_PUSH_BYTES // 1024 // 1024} MB")
    name = file.name or ""
    return _push(request, file.read(), Path(name).suffix, name)


@router.post("/loads/records", response=PUSHED)
def push_records(request: HttpRequest, body: Records) -> Any:
    """Push records as JSON (``{"records": [{"统一社会信用代码": ..., "日期": ..., ...}]}``, the same column names
    a department's file uses): written as one CSV and ingested like a pushed file."""
    try:
        data = pushing.records_csv(body.records)
    except pushing.PushError as exc:
        raise HttpError(400, str(exc)) from exc
    return _push(request, data, ".csv", f"{len(body.records)} JSON records")
