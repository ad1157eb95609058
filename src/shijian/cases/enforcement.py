"""执法: enforcement cases (行政处罚) on the ``case`` process diagram, with evidence kept by SHA-256.

线索核查 → 立案 → 调查取证 → 案件审核/法制审核 → 告知 (听证 when requested) → 决定 → 送达 → 执行 → 结案.
Closing a case closes the hazard entry that opened it (结案), and a penalty decided becomes a record of the entity.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shijian.cases import engine, limits
from shijian.cases.complaints import exceptions, handling_department
from shijian.cases.models import Case, Evidence
from shijian.core import audit, clock
from shijian.files import stored
from shijian.registry.models import Entity

PROCESS = "case"
MAX_EVIDENCE_BYTES = 20 * 1024 * 1024
CLOSERS = frozenset({"leader", "dept_staff"})  # as may close the hazard entry (hazards.workflow)


class CaseError(ValueError):
    """A refused action, with a message for the official."""


def _number(now: dt.datetime) -> str:
    year = clock.local_date(now).year
    n = Case.objects.filter(number__startswith=f"AJ{year}-").count() + 1
    while Case.objects.filter(number=f"AJ{year}-{n:05d}").exists():
        n += 1
    return f"AJ{year}-{n:05d}"


def _anchors(c: Case) -> dict[str, dt.date | None]:
    last = c.process.steps.order_by("-at").first() if c.process else None
    return {
        "lead": c.lead_on,
        "filed": c.filed_on,
        "step": clock.local_date(last.at) if last else c.lead_on,
    }


def _set_due(c: Case) -> None:
    assert c.process is not None
    inst = c.process
    inst.due_on = limits.due_for(PROCESS, inst.current, _anchors(c), exceptions()) if inst.current else None
    inst.save(update_fields=["due_on"])


def open_case(
    entity: Entity,
    *,
    source: str,
    title: str,
    user: Any,
    facts: str = "",
    hazard: Any = None,
    complaint: Any = None,
    visit_item: Any = None,
    lead_on: dt.date | None = None,
) -> Case:
    """A lead becomes a case file at 线索核查; the 15-working-day limit to decide on 立案 starts."""
    now = timezone.now()
    dept = (
        (hazard.department if hazard is not None else None)
        or (complaint.department if complaint is not None else None)
        or handling_department(entity)
    )
    with transaction.atomic():
        c = Case.objects.create(
            number=_number(now),
            entity=entity,
            district_code=entity.district_code,
            town_code=entity.town_code,
            department=dept,
            source=source,
            hazard=hazard,
            complaint=complaint,
            visit_item=visit_item,
            title=title[:200],
            facts=facts,
            lead_on=lead_on or clock.local_date(now),
            created_by=user,
            created_at=now,
        )
        c.process = engine.start(PROCESS, {"source": source}, user)
        c.save(update_fields=["process"])
        _set_due(c)
        audit.record(
            "create",
            object_type="cases.case",
            object_id=str(c.pk),
            object_repr=str(c),
            after=audit.snapshot(c),
            actor=user,
        )
    return c


def from_hazard(hazard: Any, user: Any) -> Case:
    """An entry escalated to 立案 (by an official or the overdue job) opens its case."""
    from shijian.hazards import workflow

    if hazard.state != workflow.ESCALATED:
        raise CaseError(_("Only an entry escalated to enforcement opens a case."))
    if Case.objects.filter(hazard=hazard).exists():
        raise CaseError(_("This entry has a case already."))
    return open_case(
        hazard.entity, source="hazard", title=hazard.title, facts=hazard.description, user=user, hazard=hazard
    )


def from_finding(check: Any, user: Any) -> Case:
    """An inspection result with a finding opens a case directly."""
    from shijian.supervision.models import FINDING_OUTCOMES

    if check.outcome not in FINDING_OUTCOMES:
        raise CaseError(_("Only a result with a finding opens a case."))
    return open_case(
        check.visit.entity,
        source="inspection",
        title=f"{check.item.name}：{check.get_outcome_display()}",
        facts=check.note,
        user=user,
        visit_item=check,
    )


def _money(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        raise CaseError(_("Amounts are numbers in yuan.")) from None
    if d < 0:
        raise CaseError(_("Amounts are numbers in yuan."))
    return d


def _check_actor(c: Case, user: Any) -> None:
    from shijian.core.jurisdiction import restrict

    if not restrict(Case.objects.filter(pk=c.pk), user, "change").exists():
        raise CaseError(_("You may not handle this case."))


def act(c: Case, step: str, data: dict[str, Any], user: Any, note: str = "") -> Case:
    """Complete the case's ready step. lead: {"filed": bool}; inform: {"hearing_requested": bool};
    decide: {"penalty": bool, "fine", "confiscated", "decision_no", "legal_basis"}; the others take a note."""
    _check_actor(c, user)
    if c.process is None or c.process.current != step:
        raise CaseError(_("This step is not the case's current step."))
    now = timezone.now()
    with transaction.atomic():
        c = Case.objects.select_for_update(of=("self",)).select_related("process").get(pk=c.pk)
        before = audit.snapshot(c)
        engine_data: dict[str, Any] = {}
        if step == "lead":
            engine_data = {"filed": bool(data.get("filed"))}
            if engine_data["filed"]:
                c.filed_on = clock.local_date(now)
            elif not note.strip():
                raise CaseError(_("Give the reason for not filing the case."))
        elif step == "inform":
            engine_data = {"hearing_requested": bool(data.get("hearing_requested"))}
        elif step == "decide":
            penalty = bool(data.get("penalty"))
            engine_data = {"penalty": penalty}
            c.decided_on = clock.local_date(now)
            if penalty:
                c.fine, c.confiscated = _money(data.get("fine")), _money(data.get("confiscated"))
                c.decision_no = str(data.get("decision_no", "")).strip()[:40]
                c.legal_basis = str(data.get("legal_basis", "")).strip()[:300]
                if not c.decision_no or not c.legal_basis:
                    raise CaseError(_("A penalty decision needs its number and legal basis."))
                if c.fine is None and c.confiscated is None:
                    raise CaseError(_("Give the fine or the confiscated income."))
        elif not note.strip():
            raise CaseError(_("Record what was done at this step."))
        if step == "close" and not (user.is_superuser or user.role in CLOSERS):
            raise CaseError(_("A case is closed by a leader or the handling department's staff."))
        assert c.process is not None
        engine.complete(c.process, step, engine_data, user, note=note, due_on=c.process.due_on)
        c.process.refresh_from_db()
        if c.process.completed:
            c.closed_at = now
        c.save()
        _set_due(c)
        audit.record(
            "update",
            object_type="cases.case",
            object_id=str(c.pk),
            object_repr=str(c),
            before=before,
            after=audit.snapshot(c),
            reason=f"{step}: {note}"[:500],
            actor=user,
        )
        if c.process.completed and c.hazard_id is not None:
            _close_hazard(c, user, now)
    return c


def _close_hazard(c: Case, user: Any, now: dt.datetime) -> None:
    """结案 closes the hazard entry the case came from (escalated -> enforcement closed), as the case's system step."""
    from shijian.hazards import services as hazards
    from shijian.hazards import workflow
    from shijian.hazards.models import Hazard

    h = Hazard.objects.filter(cases=c).first()
    if h is None:
        return
    if h.state != workflow.ESCALATED:
        return
    reason = _("Case %(no)s closed.") % {"no": c.number}
    evidence = c.decision_no or c.number
    hazards.change(h, workflow.ENFORCEMENT_CLOSED, user, reason=reason, evidence=evidence, now=now)


def add_evidence(c: Case, *, name: str, data: bytes, content_type: str, user: Any, description: str = "") -> Evidence:
    """Store a piece of evidence with its SHA-256; audited."""
    _check_actor(c, user)
    if not data:
        raise CaseError(_("The file is empty."))
    if len(data) > MAX_EVIDENCE_BYTES:
        raise CaseError(_("A file may be at most 20 MB."))
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        ev = Evidence(
            case=c,
            name=name[:200],
            description=description[:300],
            content_type=content_type[:100] or "application/octet-stream",
            size=len(data),
            step=c.process.current if c.process else "",
            uploaded_by=user,
            uploaded_at=timezone.now(),
        )
        ev.sha256 = stored.save(ev.file, f"{c.number}-{digest[:16]}", data)
        ev.save()
        audit.record(
            "create",
            object_type="cases.evidence",
            object_id=str(ev.pk),
            object_repr=f"{c.number} {ev.name}",
            after={"case": c.number, "name": ev.name, "sha256": digest, "size": ev.size},
            actor=user,
        )
    return ev


def evidence_intact(ev: Evidence) -> bool:
    """Whether the stored file still hashes to the SHA-256 taken when it was received."""
    return stored.intact(ev.file, ev.sha256)


def penalties_of(entity: Entity) -> list[Case]:
    """The entity's decided penalties (its file shows them; the risk factors count them)."""
    return list(
        Case.objects.filter(entity=entity, decided_on__isnull=False, fine__isnull=False).order_by("-decided_on")
    )


def snapshot_penalties(path: Path) -> int:
    """The platform's decided penalties as records (entity_id, source 'platform', record_type 'penalty',
    event_date = the decision date, amount in 10k yuan = fine + confiscated income, result = the decision number),
    so that the risk factors (penalties, penalties_12m, penalty_amount) count them with the departments' feeds."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = list(
        Case.objects.filter(decided_on__isnull=False)
        .exclude(fine__isnull=True, confiscated__isnull=True)
        .values_list("entity_id", "decided_on", "fine", "confiscated", "decision_no")
    )
    pq.write_table(
        pa.table(
            {
                "entity_id": pa.array([r[0] for r in rows], pa.int64()),
                "source": pa.array(["platform"] * len(rows), pa.string()),
                "record_type": pa.array(["penalty"] * len(rows), pa.string()),
                "event_date": pa.array([r[1] for r in rows], pa.date32()),
                "amount": pa.array([float((r[2] or 0) + (r[3] or 0)) / 10_000 for r in rows], pa.float64()),
                "result": pa.array([r[4] for r in rows], pa.string()),
            }
        ),
        path,
        compression="zstd",
    )
    return len(rows)
