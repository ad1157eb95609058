"""维权: complaints and reports (投诉举报) from filing to outcome, on the ``complaint`` process diagram."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shijian.cases import engine, limits
from shijian.cases.linkage import link
from shijian.cases.models import Channel, Complaint, ComplaintKind, Outcome
from shijian.core import audit, clock
from shijian.core.jurisdiction import in_jurisdiction
from shijian.registry.display import mask_person
from shijian.registry.models import Department, Entity

PROCESS = "complaint"
DUPLICATE_WINDOW_DAYS = 30
STEPS = ("triage", "accept", "mediate", "verify")


class ComplaintError(ValueError):
    """A refused action, with a message for the user."""


@dataclass(frozen=True)
class Filing:
    kind: str
    channel: str
    complainant_name: str
    complainant_phone: str
    entity_name: str
    subject: str
    content: str
    entity_uscc: str = ""
    entity_address: str = ""
    complainant_address: str = ""
    amount: Decimal | None = None
    external_no: str = ""
    received_at: dt.datetime | None = None


def phone_digits(phone: str) -> str:
    return re.sub(r"\D", "", phone or "")


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", (text or "").upper().replace("（", "(").replace("）", ")"))


def fingerprint(f: Filing) -> str:
    """Same complainant (telephone), same entity (USCC or name), same subject: one matter."""
    who = f.entity_uscc.strip().upper() or _norm(f.entity_name)
    key = "\n".join([phone_digits(f.complainant_phone), who, _norm(f.subject)])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _receipt(now: dt.datetime) -> str:
    return f"TS{clock.local_date(now):%Y%m%d}{secrets.randbelow(10**6):06d}"


def handling_department(entity: Entity | None) -> Department:
    """The department of the entity's region: its town's market-supervision office, else its district's bureau;
    the home district's bureau while no entity is linked."""
    regions = [entity.town_code, entity.district_code] if entity else [settings.SHIJIAN_HOME_REGION]
    for r in regions:
        d = Department.objects.filter(active=True, region_code=r).order_by("level", "code").first()
        if d is not None:
            return d
    d = Department.objects.filter(active=True, region_code=settings.SHIJIAN_HOME_REGION).order_by("code").first()
    if d is None:
        raise ComplaintError(_("No department is set up to handle complaints."))
    return d


def exceptions() -> dict[dt.date, bool]:
    from shijian.supervision.services import workday_exceptions

    return workday_exceptions()


def _anchors(c: Complaint) -> dict[str, dt.date | None]:
    return {"received": clock.local_date(c.received_at), "accepted": c.accepted_on}


def _set_due(c: Complaint) -> None:
    assert c.process is not None
    inst = c.process
    inst.due_on = limits.due_for(PROCESS, inst.current, _anchors(c), exceptions()) if inst.current else None
    inst.save(update_fields=["due_on"])


def file(f: Filing, user: Any = None) -> Complaint:
    """Register a filing: link the entity, find the handling department, detect a duplicate, start the process."""
    if f.kind not in ComplaintKind.values or f.channel not in Channel.values:
        raise ComplaintError(_("Unknown kind or channel."))
    if len(phone_digits(f.complainant_phone)) < 7:
        raise ComplaintError(_("Give a telephone number we can reach you on."))
    now = f.received_at or timezone.now()
    entity, how = link(f.entity_uscc, f.entity_name, f.entity_address)
    dept = handling_department(entity)
    fp = fingerprint(f)
    since = now - dt.timedelta(days=DUPLICATE_WINDOW_DAYS)
    with transaction.atomic():
        earlier = (
            Complaint.objects.filter(fingerprint=fp, received_at__gte=since, duplicate_of__isnull=True)
            .order_by("received_at")
            .first()
        )
        for _attempt in range(5):
            c = Complaint(
                receipt_no=_receipt(now),
                external_no=f.external_no.strip(),
                kind=f.kind,
                channel=f.channel,
                complainant_name=f.complainant_name.strip()[:60],
                complainant_phone=f.complainant_phone.strip()[:20],
                complainant_address=f.complainant_address.strip()[:200],
                entity=entity,
                linked_by=how,
                entity_name=f.entity_name.strip()[:200],
                entity_uscc=f.entity_uscc.strip().upper()[:18],
                entity_address=f.entity_address.strip()[:200],
                subject=f.subject.strip()[:200],
                content=f.content.strip(),
                amount=f.amount,
                received_at=now,
                district_code=entity.district_code if entity else dept.region_code[:6],
                town_code=entity.town_code if entity else "",
                region_code=entity.region_code if entity else "",
                department=dept,
                fingerprint=fp,
                duplicate_of=earlier,
            )
            try:
                with transaction.atomic():
                    c.save(force_insert=True)
                break
            except IntegrityError:
                if f.external_no and Complaint.objects.filter(external_no=f.external_no.strip()).exists():
                    raise ComplaintError(_("This 12315 number was imported before.")) from None
        else:  # pragma: no cover - five receipt collisions in a row
            raise ComplaintError(_("Could not issue a receipt number; try again."))
        if earlier is not None:
            c.outcome, c.closed_at = Outcome.DUPLICATE, now
            c.public_reply = _("Merged with receipt %(no)s, handled together.") % {"no": earlier.receipt_no}
        else:
            c.process = engine.start(PROCESS, {"kind": c.kind}, user)
        c.save()
        if c.process is not None:
            _set_due(c)
        audit.record(
            "create",
            object_type="cases.complaint",
            object_id=str(c.pk),
            object_repr=str(c),
            after=_snapshot(c),
            actor=user,
        )
    return c


def _snapshot(c: Complaint) -> dict[str, Any]:
    """The audit snapshot of a filing, the complainant's personal data masked (auditors read the whole log)."""
    data: dict[str, Any] = audit.snapshot(c)
    data["complainant_name"] = mask_person(c.complainant_name)
    data["complainant_phone"] = _masked_phone(c.complainant_phone)
    data["complainant_address"] = "***" if c.complainant_address else ""
    return data


def _masked_phone(phone: str) -> str:
    return (phone[:3] + "****" + phone[-4:]) if len(phone) >= 8 else "****"


def may_see_person(user: Any, c: Complaint) -> bool:
    """The complainant's name, telephone and address: the handling department's staff only."""
    return bool(user.is_superuser) or (user.department_id is not None and user.department_id == c.department_id)


def person(user: Any, c: Complaint) -> dict[str, str]:
    if may_see_person(user, c):
        return {"name": c.complainant_name, "phone": c.complainant_phone, "address": c.complainant_address}
    return {
        "name": mask_person(c.complainant_name),
        "phone": _masked_phone(c.complainant_phone),
        "address": "***" if c.complainant_address else "",
    }


def public_lookup(receipt_no: str, phone: str) -> Complaint | None:
    """A filing by its receipt number and the telephone given with it (both must match)."""
    c = Complaint.objects.filter(receipt_no=receipt_no.strip().upper()).select_related("process").first()
    given = phone_digits(phone)
    if c is None or not given:
        return None
    return c if hmac.compare_digest(phone_digits(c.complainant_phone), given) else None


def _check_actor(c: Complaint, user: Any) -> None:
    from shijian.core.jurisdiction import restrict

    if not restrict(Complaint.objects.filter(pk=c.pk), user, "change").exists():
        raise ComplaintError(_("You may not handle this filing."))


def act(c: Complaint, step: str, data: dict[str, Any], user: Any, note: str = "") -> Complaint:
    """Complete the ready step ``step`` of the filing with the official's input; returns the filing updated.

    triage: {"department": id}; accept: {"accepted": bool}; mediate: {"agreement": bool};
    verify: {"violation": bool, "open": "hazard" | "case" | ""} (a violation opens the entry or case at once).
    """
    _check_actor(c, user)
    if c.process is None or c.process.current != step:
        raise ComplaintError(_("This step is not the filing's current step."))
    now = timezone.now()
    with transaction.atomic():
        c = Complaint.objects.select_for_update(of=("self",)).select_related("process").get(pk=c.pk)
        before = _snapshot(c)
        engine_data: dict[str, Any] = {}
        if step == "triage":
            dept_id = data.get("department")
            dept = Department.objects.filter(pk=int(dept_id), active=True).first() if dept_id else None
            if dept is None or not in_jurisdiction(user, dept.region_code):
                raise ComplaintError(_("Choose a department in your jurisdiction."))
            c.department = dept
            engine_data = {"department": dept.pk}
        elif step == "accept":
            accepted = bool(data.get("accepted"))
            engine_data = {"accepted": accepted}
            if accepted:
                c.accepted_on = clock.local_date(now)
                c.public_reply = _("Accepted on %(date)s.") % {"date": c.accepted_on}
            else:
                if not note.strip():
                    raise ComplaintError(_("Give the reason for not accepting (it is told to the complainant)."))
                c.outcome, c.closed_at, c.public_reply = Outcome.REJECTED, now, note.strip()[:300]
        elif step == "mediate":
            agreed = bool(data.get("agreement"))
            engine_data = {"agreement": agreed}
            c.outcome = Outcome.MEDIATED if agreed else Outcome.MEDIATION_FAILED
            c.closed_at, c.outcome_note = now, note
            c.public_reply = str(Outcome(c.outcome).label)
        elif step == "verify":
            violation = bool(data.get("violation"))
            engine_data = {"violation": violation}
            c.outcome = Outcome.VIOLATION if violation else Outcome.NO_VIOLATION
            c.closed_at, c.outcome_note = now, note
            c.public_reply = str(Outcome(c.outcome).label)
            if violation and c.entity is None:
                raise ComplaintError(_("Link the filing to a registered entity before recording a violation."))
        else:
            raise ComplaintError(_("Unknown step."))
        assert c.process is not None
        engine.complete(c.process, step, engine_data, user, note=note, due_on=c.process.due_on)
        c.process.refresh_from_db()
        c.save()
        _set_due(c)
        audit.record(
            "update",
            object_type="cases.complaint",
            object_id=str(c.pk),
            object_repr=str(c),
            before=before,
            after=_snapshot(c),
            reason=f"{step}: {note}"[:500],
            actor=user,
        )
        if step == "verify" and c.outcome == Outcome.VIOLATION:
            opened = data.get("open") or "hazard"
            if opened == "case" and c.entity is not None:
                from shijian.cases import enforcement

                enforcement.open_case(
                    c.entity, source="complaint", title=c.subject, facts=c.content, user=user, complaint=c
                )
            else:
                open_hazard(c, user, note)
    return c


def open_hazard(c: Complaint, user: Any, note: str = "") -> Any:
    """A report found to be a violation becomes an entry of the hazard library (one step, same transaction)."""
    from shijian.hazards import services as hazards
    from shijian.hazards.models import Source

    assert c.entity is not None
    return hazards.open_entry(
        c.entity,
        source=Source.COMPLAINT,
        title=f"{c.subject}（{c.receipt_no}）"[:200],
        description=note or c.content,
        department=c.department,
        scores={"severity": 10, "extent": 5, "confidence": 10},
        user=user,
        source_ref=f"complaint:{c.pk}",
    )


def link_entity(c: Complaint, entity: Entity, user: Any) -> Complaint:
    """An official links an unlinked filing to the register; its codes (and so its jurisdiction) follow."""
    _check_actor(c, user)
    if not in_jurisdiction(user, entity.region_code):
        raise ComplaintError(_("The entity lies outside your jurisdiction."))
    before = _snapshot(c)
    c.entity, c.linked_by = entity, "staff"
    c.district_code, c.town_code, c.region_code = entity.district_code, entity.town_code, entity.region_code
    c.save()
    audit.record(
        "update",
        object_type="cases.complaint",
        object_id=str(c.pk),
        object_repr=str(c),
        before=before,
        after=_snapshot(c),
        reason="linked to the register",
        actor=user,
    )
    return c
