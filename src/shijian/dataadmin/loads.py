"""Loading a feed's file, re-processing a load after a mapping fix, and telling the data administrators when a
load fails. The pipeline is ``shijian.ingest.pipeline``'s, unchanged: the UI loads exactly what the CLI loads.

Re-processing reads the load's delivered file again with the feed's current mapping and replaces the load: the
old load is moved aside (``LAKE/superseded/``) before the new one is written, so that neither its file hash nor
its rows count against the new one, and is put back if the new one fails. A process that dies in between leaves
the old load aside without a ``replaced_by.json``; ``restore_interrupted`` (run before every load) puts it back
unless its replacement was committed.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from shijian.core.audit import Action, record
from shijian.dataadmin import feeds
from shijian.dataadmin.explain import explain_file
from shijian.dataadmin.models import Feed
from shijian.ingest.mapping import FeedMapping, MappingError
from shijian.ingest.pipeline import LoadReport, ingest_file
from shijian.lake.store import Lake

COUNTS = ("rows_read", "accepted", "quarantined", "duplicates")


class LoadFailed(Exception):
    """A load that wrote nothing; the message is for the data administrator (in the UI language)."""


def lake() -> Lake:
    return Lake(Path(settings.SHIJIAN_LAKE))


def counts(report: dict[str, Any] | LoadReport) -> dict[str, int]:
    data = asdict(report) if isinstance(report, LoadReport) else report
    return {k: int(data.get(k, 0)) for k in COUNTS}


def reconciles(c: dict[str, int]) -> bool:
    return c["rows_read"] == c["accepted"] + c["quarantined"] + c["duplicates"]


def load_file(feed: Feed, path: Path) -> LoadReport:
    """Ingest one delivered file of ``feed`` (in ``feed.inbox``) with the feed's saved mapping."""
    if not feeds.has_mapping(feed):
        raise LoadFailed(_("The feed has no saved mapping yet: save one in the mapping editor first."))
    lk = lake()
    restore_interrupted(lk)
    report = ingest_file(path, feed.inbox.parent, [_mapping(feed)], lk, lk.loaded_hashes())
    if report.status == "loaded":
        _audit(feed, Action.IMPORT, report.load_id, None, _summary(report), "load of a delivered file")
    if report.status == "rejected":
        raise LoadFailed(
            _("%(file)s was not loaded: %(why)s") % {"file": _name(path), "why": explain_file(report.message)}
        )
    return report


def _mapping(feed: Feed) -> FeedMapping:
    try:
        return feeds.current_mapping(feed)
    except MappingError as exc:
        raise LoadFailed(_("The saved mapping file cannot be read; save the mapping again in the editor.")) from exc


def _name(path: Path | str) -> str:
    from shijian.dataadmin.quarantine import delivered_name

    return delivered_name(str(path))


def load_dir(lk: Lake, source: str, load_id: str) -> Path:
    return lk.records / f"source={source}" / f"load={load_id}"


def reports(feed: Feed, lk: Lake | None = None) -> list[dict[str, Any]]:
    """The committed loads of the feed, oldest first."""
    lk = lk or lake()
    out = [
        json.loads(p.read_text(encoding="utf-8")) for p in (lk.records / f"source={feed.slug}").glob("load=*/load.json")
    ]
    return sorted(out, key=lambda r: (r.get("finished_at", ""), r.get("load_id", "")))


def reprocess(feed: Feed, load_id: str) -> dict[str, Any]:
    """Load the delivered file of ``load_id`` again with the feed's current mapping, replacing the load. Returns
    the counts before and after (each reconciles; the rows read are the same file's)."""
    lk = lake()
    restore_interrupted(lk)
    old_dir = load_dir(lk, feed.slug, load_id)
    if not (old_dir / "load.json").is_file():
        raise LoadFailed(_("Load %(load)s is not in the lake.") % {"load": load_id})
    old = json.loads((old_dir / "load.json").read_text(encoding="utf-8"))
    file = Path(old["file"])
    if not file.is_file():
        raise LoadFailed(
            _("The delivered file of load %(load)s is no longer kept: deliver it again.") % {"load": load_id}
        )
    if not feeds.has_mapping(feed):
        raise LoadFailed(_("The feed has no saved mapping yet: save one in the mapping editor first."))
    # the file is the load's wherever it was delivered from: the feed's mapping claims it whatever its folder
    mapping = replace(_mapping(feed), files=("*",))
    aside = lk.root / "superseded" / f"source={feed.slug}" / f"load={load_id}.{time.time_ns()}"
    aside.parent.mkdir(parents=True, exist_ok=True)
    with _replacing(lk, wait=True):
        if not old_dir.is_dir():  # another re-processing replaced it meanwhile
            raise LoadFailed(_("Load %(load)s is not in the lake.") % {"load": load_id})
        os.rename(old_dir, aside)
        try:
            new = ingest_file(file, None, [mapping], lk, lk.loaded_hashes())
        except BaseException:
            _put_back(aside, old_dir)
            raise
        if new.status != "loaded":
            _put_back(aside, old_dir)
            why = explain_file(new.message)
            raise LoadFailed(_("%(file)s was not loaded: %(why)s") % {"file": _name(file), "why": why})
        (aside / "replaced_by.json").write_text(json.dumps({"load_id": new.load_id, "sha256": new.sha256}))
    reason = f"re-processed with the corrected mapping: load {load_id} replaced by {new.load_id}"
    _audit(feed, Action.UPDATE, new.load_id, {**counts(old), "load_id": load_id}, _summary(new), reason)
    return {"load": load_id, "replaced_by": new.load_id, "before": counts(old), "after": counts(new)}


def _summary(report: LoadReport) -> dict[str, Any]:
    keep = ("load_id", "file", "sha256", "mapping", "source", "engine", "reasons", *COUNTS)
    return {k: v for k, v in asdict(report).items() if k in keep}


def _audit(feed: Feed, action: str, load_id: str, before: Any, after: Any, reason: str) -> None:
    """A load is one audit event carrying the file's SHA-256 and its counts (as the CLI's bulk loads are)."""
    record(action, object_type="lake.load", object_id=load_id, object_repr=f"{feed.slug} {load_id}",
           before=before, after=after, reason=reason)  # fmt: skip


def _put_back(aside: Path, original: Path) -> None:
    if not original.exists():
        os.rename(aside, original)


@contextmanager
def _replacing(lk: Lake, wait: bool) -> Iterator[bool]:
    """An exclusive lock on the lake's replacements (``flock``: between processes and between the worker's
    threads): held by a re-processing while its old load is aside, so that nobody puts that load back meanwhile.
    Yields whether the lock was taken (``wait=False`` does not wait for it)."""
    lk.root.mkdir(parents=True, exist_ok=True)
    with (lk.root / "superseded.lock").open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def restore_interrupted(lk: Lake) -> int:
    """Loads moved aside by a re-processing that died go back (unless their replacement committed). A
    re-processing that is running holds the lock: then nothing is touched."""
    with _replacing(lk, wait=False) as mine:
        return _restore(lk) if mine else 0


def _restore(lk: Lake) -> int:
    n = 0
    for aside in sorted((lk.root / "superseded").glob("source=*/load=*")):
        if (aside / "replaced_by.json").exists() or not (aside / "load.json").is_file():
            continue
        report = json.loads((aside / "load.json").read_text(encoding="utf-8"))
        source = aside.parent.name.removeprefix("source=")
        replaced = [r for r in lk.load_reports() if r.get("source") == source and r.get("sha256") == report["sha256"]]
        if replaced:
            (aside / "replaced_by.json").write_text(json.dumps({"load_id": replaced[0]["load_id"]}))
            continue
        _put_back(aside, load_dir(lk, source, report["load_id"]))
        n += 1
    return n


def failed(feed: Feed, message: str, url: str = "", exclude: Any = None) -> int:
    """Tell the data administrators whose region covers the feed's department that a load of it failed."""
    from shijian.accounts.models import Role
    from shijian.hazards.models import NoticeKind
    from shijian.notify.services import covering, notify

    users = covering(feed.department.region_code).filter(role=Role.DATA_ADMIN)
    if exclude is not None:
        users = users.exclude(pk=exclude.pk)  # told by the job's own failure notice
    text = _("A load of %(feed)s (%(department)s) failed: %(why)s") % {
        "feed": feed.name,
        "department": feed.department.name,
        "why": message,
    }
    return len(notify(NoticeKind.JOB_FAILED, users, text, url=url or feed.get_absolute_url()))
