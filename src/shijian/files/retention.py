"""Retention: list the stored files whose kind's period has ended (dry run), and delete those not under a legal
hold (``apply``), each deletion audited. The row that described a file stays, with its SHA-256; only the bytes go."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db.models import Q

from shijian.core import audit, clock
from shijian.files.models import LegalHold
from shijian.files.rules import RULES, Rule

__all__ = ["Expired", "apply", "cutoff", "expired"]


@dataclass
class Expired:
    """A stored file past its kind's retention."""

    kind: str
    object_type: str
    object_id: int
    name: str
    stored_on: dt.date
    sha256: str
    holders: list[tuple[str, str]]
    remove: Callable[[], None] = field(repr=False)
    held: bool = False


def cutoff(rule: Rule, today: dt.date) -> dt.date | None:
    """The last business date whose files have expired by ``today`` (None: the kind is kept permanently)."""
    if rule.years is not None:
        try:
            return today.replace(year=today.year - rule.years)
        except ValueError:  # 29 February
            return today.replace(year=today.year - rule.years, day=28)
    if rule.days is not None:
        return today - dt.timedelta(days=rule.days)
    return None


def expired(today: dt.date | None = None) -> list[Expired]:
    """Every stored file past its retention on ``today`` (default: today in Asia/Shanghai), holds marked."""
    day = today or clock.today()
    found: list[Expired] = []
    for rule in RULES:
        last = cutoff(rule, day)
        if last is not None:
            found.extend(_FINDERS[rule.kind](last))
    held = _held_keys()
    for item in found:
        item.held = any(h in held for h in item.holders)
    return found


def apply(items: list[Expired], *, actor: Any = None) -> int:
    """Delete the files of ``items`` not under a legal hold; one audit event each. Answers how many."""
    n = 0
    for item in items:
        if item.held:
            continue
        item.remove()
        audit.record(
            "delete",
            object_type=item.object_type,
            object_id=str(item.object_id),
            object_repr=item.name,
            before={"file": item.name, "sha256": item.sha256, "stored_on": item.stored_on.isoformat()},
            reason=f"retention: {item.kind} expired",
            actor=actor,
        )
        n += 1
    return n


def _held_keys() -> set[tuple[str, str]]:
    return set(LegalHold.objects.filter(lifted_at__isnull=True).values_list("object_type", "object_id"))


def _stored(kind: str, object_type: str, row: Any, at: dt.datetime, owner: tuple[str, str]) -> Expired:
    """An expired row of a model whose ``file`` field holds the stored file."""
    name, storage, model, pk = row.file.name or "", row.file.storage, type(row), row.pk

    def remove() -> None:
        storage.delete(name)
        model.objects.filter(pk=pk).update(file="")

    holders = [(object_type, str(pk)), owner]
    return Expired(kind, object_type, pk, name, clock.local_date(at), row.sha256, holders, remove)


def _signed(last: dt.date, decision: bool) -> Iterator[Expired]:
    from shijian.cases.models import DocumentKind, SignedDocument

    q = Q(kind=DocumentKind.DECISION) if decision else ~Q(kind=DocumentKind.DECISION)
    kind = "penalty_decision" if decision else "filing_notice"
    for d in SignedDocument.objects.filter(q, signed_at__date__lte=last).exclude(file=""):
        owner = ("cases.case", str(d.case_id)) if d.case_id else ("cases.complaint", str(d.complaint_id))
        yield _stored(kind, "cases.signeddocument", d, d.signed_at, owner)


def _evidence(last: dt.date) -> Iterator[Expired]:
    from shijian.cases.models import Evidence

    for e in Evidence.objects.filter(uploaded_at__date__lte=last).exclude(file=""):
        yield _stored("case_evidence", "cases.evidence", e, e.uploaded_at, ("cases.case", str(e.case_id)))


def _attachments(last: dt.date) -> Iterator[Expired]:
    from shijian.supervision.models import Attachment

    for a in Attachment.objects.filter(uploaded_at__date__lte=last).exclude(file=""):
        owner = ("supervision.visit", str(a.visit_id))
        yield _stored("visit_attachment", "supervision.attachment", a, a.uploaded_at, owner)


def _path_remover(path: Path, after: Callable[[], None] = lambda: None) -> Callable[[], None]:
    def remove() -> None:
        path.unlink(missing_ok=True)
        after()

    return remove


def _uploads(last: dt.date) -> Iterator[Expired]:
    from shijian.dataadmin.models import Upload, UploadStatus

    qs = Upload.objects.filter(status=UploadStatus.COMPLETE, completed_at__date__lte=last).select_related("feed")
    for u in qs:
        if u.completed_at is not None and u.path.is_file():
            yield Expired(
                "data_upload", "dataadmin.upload", u.pk, str(u.path.name), clock.local_date(u.completed_at),
                u.sha256, [("dataadmin.upload", str(u.pk))], _path_remover(u.path),
            )  # fmt: skip


def _exports(last: dt.date) -> Iterator[Expired]:
    from shijian.jobs.models import Job
    from shijian.jobs.runner import job_dir

    for j in Job.objects.filter(finished_at__date__lte=last).exclude(result_file=""):
        path = job_dir() / j.result_file
        if j.finished_at is not None:
            forget = _forget_result(j.pk)
            yield Expired(
                "export", "jobs.job", j.pk, j.result_file, clock.local_date(j.finished_at), "",
                [("jobs.job", str(j.pk))], _path_remover(path, forget),
            )  # fmt: skip


def _forget_result(pk: int) -> Callable[[], None]:
    def forget() -> None:
        from shijian.jobs.models import Job

        Job.objects.filter(pk=pk).update(result_file="")

    return forget


_FINDERS: dict[str, Callable[[dt.date], Iterator[Expired]]] = {
    "penalty_decision": lambda last: _signed(last, True),
    "filing_notice": lambda last: _signed(last, False),
    "case_evidence": _evidence,
    "visit_attachment": _attachments,
    "data_upload": _uploads,
    "export": _exports,
}
