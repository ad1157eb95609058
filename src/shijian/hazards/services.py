"""Use cases of the hazard library: open an entry, change its state, escalate the overdue, count, remind."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Avg, Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shijian.core import audit, clock
from shijian.core.jurisdiction import contains
from shijian.hazards import grading, workflow
from shijian.hazards.models import Category, Hazard, Reminder, ReminderKind, Source, Transition
from shijian.notify import services as notify
from shijian.registry.models import Department, Entity, Responsibility

REPEAT_WINDOW_DAYS = 365
REPEAT_OFFENDER_ENTRIES = 3  # entries within the window that flag an entity (利剑高悬)
WORKFLOW_MESSAGES = {
    "forbidden": gettext_lazy("An entry cannot go from %(old)s to %(new)s."),
    "system": gettext_lazy("The system only escalates overdue entries."),
    "role": gettext_lazy("Your role cannot move an entry from %(old)s to %(new)s."),
    "reason": gettext_lazy("Give the reason for the change."),
    "evidence": gettext_lazy("This change needs evidence (what was seen, documents, a case number)."),
    "department": gettext_lazy("Only the responsible department's staff may change this entry."),
}


class HazardError(ValueError):
    """A refused use case, with a message for the official."""


def _message(exc: workflow.TransitionError) -> str:
    from shijian.hazards.models import State

    labels = dict(State.choices)
    params = {k: str(labels.get(v, v)) for k, v in exc.params.items()}
    return str(WORKFLOW_MESSAGES[exc.code]) % params if params else str(WORKFLOW_MESSAGES[exc.code])


def responsible_department(entity: Entity, item_id: int | None = None) -> Department | None:
    """The department that answers for the item where the entity is, the most local one first."""
    qs = Responsibility.objects.filter(department__active=True).select_related("department")
    if item_id is not None:
        qs = qs.filter(item_id=item_id)
    regions = [entity.region_code, entity.town_code, entity.district_code, entity.district_code[:4]]
    for r in regions:
        found = qs.filter(region_code=r).order_by("department__code").first()
        if found is not None:
            return found.department
    return None


def open_entry(
    entity: Entity,
    *,
    source: str,
    title: str,
    department: Department,
    scores: Mapping[str, int],
    user: Any,
    category: str = Category.PROBLEM,
    description: str = "",
    source_ref: str = "",
    deadline: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Hazard:
    try:
        graded = grading.grade(scores)
    except grading.GradingError as exc:
        raise HazardError(str(exc)) from None
    now = now or timezone.now()
    deadline = deadline or (clock.local_date(now) + dt.timedelta(days=grading.DEADLINE_DAYS[graded]))
    if source_ref and Hazard.objects.filter(source_ref=source_ref).exists():
        raise HazardError(_("An entry already exists for this finding."))
    since = now - dt.timedelta(days=REPEAT_WINDOW_DAYS)
    with transaction.atomic():
        repeat = Hazard.objects.filter(entity=entity, opened_at__gte=since).exists()
        h = Hazard.objects.create(
            entity=entity,
            town_code=entity.town_code,
            district_code=entity.district_code,
            source=source,
            source_ref=source_ref,
            category=category,
            grade=graded,
            scores=dict(scores),
            title=title,
            description=description,
            department=department,
            deadline=deadline,
            repeat=repeat,
            opened_at=now,
            created_by=user,
        )
        _row(h, "", workflow.REGISTERED, user, _("registered"), "", now)
        audit.record(
            "create", object_type="hazards.hazard", object_id=str(h.pk), object_repr=str(h), after=audit.snapshot(h)
        )
    return h


def open_from_finding(check: Any, user: Any) -> Hazard:
    """One step from an inspection result with a finding to an entry of the library."""
    from shijian.supervision.models import FINDING_OUTCOMES

    if check.outcome not in FINDING_OUTCOMES:
        raise HazardError(_("Only a result with a finding opens an entry."))
    entity = check.visit.entity
    dept = responsible_department(entity, check.item_id) or check.batch.department
    severe = check.outcome in ("uncooperative", "false_info", "pending")
    scores = {"severity": 15 if severe else 10, "extent": 10, "confidence": 10 if severe else 5}
    return open_entry(
        entity,
        source=Source.INSPECTION,
        title=f"{check.item.name}：{check.get_outcome_display()}",
        description=check.note,
        department=dept,
        scores=scores,
        user=user,
        source_ref=f"visititem:{check.pk}",
    )


def _row(
    h: Hazard, old: str, new: str, user: Any, reason: str, evidence: str, at: dt.datetime, system: bool = False
) -> None:
    _transition(h, old, new, user, reason, evidence, at, system).save(force_insert=True)


def _transition(
    h: Hazard, old: str, new: str, user: Any, reason: str, evidence: str, at: dt.datetime, system: bool = False
) -> Transition:
    return Transition(
        hazard=h,
        old_state=old,
        new_state=new,
        at=at,
        actor=user if not system else None,
        system=system,
        reason=reason[:300],
        evidence=evidence,
        opened_at=h.opened_at,
        days_open=(at - h.opened_at).total_seconds() / 86400,
        department_id=h.department_id,
        town_code=h.town_code,
    )


def change(
    h: Hazard,
    new: str,
    user: Any,
    *,
    reason: str,
    evidence: str = "",
    deadline: dt.date | None = None,
    department: Department | None = None,
    now: dt.datetime | None = None,
) -> Hazard:
    """Move an entry to ``new`` if the workflow, the user's role and department allow it; one transition row."""
    now = now or timezone.now()
    with transaction.atomic():
        h = Hazard.objects.select_for_update().get(pk=h.pk)
        role = user.role
        if user.is_superuser:  # may make any allowed change: act in a role that may make it
            role = min(workflow.TRANSITIONS.get((h.state, new), {"leader"}))
        try:
            workflow.check(h.state, new, role, evidence=evidence, reason=reason)
        except workflow.TransitionError as exc:
            raise HazardError(_message(exc)) from None
        if role in ("dept_staff", "inspector") and not user.is_superuser and user.department_id != h.department_id:
            raise HazardError(str(WORKFLOW_MESSAGES["department"]))
        old = h.state
        before = audit.snapshot(h)
        h.state = new
        if old == workflow.SUBMITTED and new == workflow.RECTIFYING:
            h.category = Category.HAZARD  # a failed rectification makes the problem a hazard
        if deadline is not None:
            h.deadline = deadline
        if department is not None and new == workflow.ASSIGNED:
            h.department = department
        if new in workflow.ENDED:
            h.closed_at = now
        h.save()
        _row(h, old, new, user, reason, evidence, now)
        audit.record(
            "update",
            object_type="hazards.hazard",
            object_id=str(h.pk),
            object_repr=str(h),
            before=before,
            after=audit.snapshot(h),
            reason=reason,
        )
    return h


def escalate_overdue(
    today: dt.date | None = None, progress: Callable[[str, int, int], None] | None = None, chunk: int = 500
) -> int:
    """The scheduled job: entries past their deadline in an open state are escalated (立案) and their department
    notified, ``chunk`` entries per transaction. Idempotent: an escalated entry is not escalated again."""
    today = today or timezone.localdate()
    now = timezone.now()
    pks = list(Hazard.objects.filter(overdue_q(today)).order_by("pk").values_list("pk", flat=True))
    local = dict(Department.objects.filter(active=True).order_by("-pk").values_list("region_code", "pk"))
    n = 0
    for i in range(0, len(pks), chunk):
        with transaction.atomic():
            rows = list(
                Hazard.objects.select_for_update(of=("self",))
                .select_related("department")
                .filter(overdue_q(today), pk__in=pks[i : i + chunk])
            )
            transitions, notices = [], []  # notices: (entry, the department told)
            for h in rows:
                workflow.check(h.state, workflow.ESCALATED, "", system=True, reason="overdue")
                reason = _("Overdue: the deadline %(date)s passed without verified rectification.") % {
                    "date": h.deadline
                }
                transitions.append(_transition(h, h.state, workflow.ESCALATED, None, reason, "", now, system=True))
                recipient = _notified(h, local)
                if recipient is not None:
                    notices.append((h, recipient))
            Hazard.objects.filter(pk__in=[h.pk for h in rows]).update(
                state=workflow.ESCALATED, pending=False, updated_at=now
            )
            Transition.objects.bulk_create(transitions)
            notify.escalated(notices)
            n += len(rows)
        if progress is not None:
            progress("escalating overdue entries", min(i + chunk, len(pks)), len(pks))
    if n:
        audit.record(
            "update", object_type="hazards.hazard", object_repr=f"{n} entries", reason="overdue entries escalated"
        )
    return n


def _notified(h: Hazard, local: dict[str, int]) -> int | None:
    """The department told of an escalated entry: its own if the entry lies in that department's region (a town
    department hears only of its town's entries), else the department of the entry's town, else of its district."""
    if contains(h.department.region_code, h.town_code):
        return h.department_id
    return local.get(h.town_code) or local.get(h.district_code)


# -- counts ----------------------------------------------------------------------------------------------------


def overdue_q(today: dt.date) -> Q:
    return Q(pending=True, deadline__lt=today)


def due_within_q(today: dt.date, days: int) -> Q:
    """Still to rectify, the deadline today or within ``days`` days."""
    return Q(pending=True, deadline__gte=today, deadline__lte=today + dt.timedelta(days=days))


@dataclass(frozen=True)
class GroupStats:
    key: str
    open: int
    overdue: int
    escalated_overdue: int
    closed: int
    mean_days_to_rectify: float | None


def dashboard(group: str, hazards: Any, transitions: Any, today: dt.date) -> list[GroupStats]:
    """Per department (``group="department"``) or per town (``"town_code"``): open and overdue entries (one query
    on the entries), and from the transition table alone, in one query each: entries closed, the mean days from
    opening to verified closure, and entries escalated by the overdue job."""
    field = "department_id" if group == "department" else "town_code"
    open_rows = (
        hazards.filter(state__in=workflow.OPEN)
        .values(field)
        .annotate(n=Count("id"), overdue=Count("id", filter=overdue_q(today)))
    )
    closed_rows = (
        transitions.filter(new_state=workflow.CLOSED).values(field).annotate(n=Count("id"), mean=Avg("days_open"))
    )
    escalated_rows = transitions.filter(new_state=workflow.ESCALATED, system=True).values(field).annotate(n=Count("id"))
    keys: dict[str, dict[str, Any]] = {}
    for r in open_rows:
        keys.setdefault(str(r[field]), {})["open"] = (r["n"], r["overdue"])
    for r in closed_rows:
        keys.setdefault(str(r[field]), {})["closed"] = (r["n"], r["mean"])
    for r in escalated_rows:
        keys.setdefault(str(r[field]), {})["esc"] = r["n"]
    out = []
    for key, d in sorted(keys.items()):
        o, od = d.get("open", (0, 0))
        c, days = d.get("closed", (0, None))
        out.append(GroupStats(key, o, od, d.get("esc", 0), c, round(days, 1) if days is not None else None))
    return out


def entity_frequency(entity_id: int) -> list[dict[str, Any]]:
    """Per year and category: entries and repeats of one entity."""
    from django.db.models.functions import ExtractYear

    rows = (
        Hazard.objects.filter(entity_id=entity_id)
        .annotate(year=ExtractYear("opened_at"))
        .values("year", "category")
        .annotate(entries=Count("id"), repeats=Count("id", filter=Q(repeat=True)))
        .order_by("-year", "category")
    )
    return [dict(r) for r in rows]


def repeat_offenders(since: dt.datetime, hazards: Any) -> Any:
    """Entities with REPEAT_OFFENDER_ENTRIES or more entries since ``since`` (利剑高悬)."""
    return (
        hazards.filter(opened_at__gte=since)
        .values("entity_id", "entity__name", "entity__uscc", "town_code")
        .annotate(entries=Count("id"), hazards=Count("id", filter=Q(category=Category.HAZARD)))
        .filter(entries__gte=REPEAT_OFFENDER_ENTRIES)
        .order_by("-entries", "entity_id")
    )


def class_raises(now: dt.datetime | None = None) -> dict[int, int]:
    """For the draw: how many classes to raise an entity by. An open 隐患 raises one class; a repeat offender
    (利剑高悬) goes to D."""
    now = now or timezone.now()
    out: dict[int, int] = {}
    for eid in (
        Hazard.objects.filter(state__in=workflow.OPEN, category=Category.HAZARD)
        .values_list("entity_id", flat=True)
        .distinct()
    ):
        out[eid] = 1
    since = now - dt.timedelta(days=REPEAT_WINDOW_DAYS)
    for row in repeat_offenders(since, Hazard.objects.all()).values("entity_id"):
        out[row["entity_id"]] = 3
    return out


def counts_as_of(as_of: dt.datetime) -> dict[int, dict[str, int]]:
    """Per entity, entries opened before ``as_of`` by category, and those still open then (risk factors)."""
    out: dict[int, dict[str, int]] = {}
    rows = (
        Hazard.objects.filter(opened_at__lt=as_of)
        .values("entity_id", "category")
        .annotate(n=Count("id"), open_then=Count("id", filter=Q(closed_at__isnull=True) | Q(closed_at__gte=as_of)))
    )
    for r in rows:
        d = out.setdefault(r["entity_id"], {})
        d[f"{r['category']}_entries"] = r["n"]
        d[f"{r['category']}_open"] = r["open_then"]
    return out


# -- reminders -------------------------------------------------------------------------------------------------

LICENCE_VALID_YEARS = 5  # 食品经营许可证 and most licences: five years from issue, unless the feed says otherwise


def refresh_reminders(lake_root: Path, today: dt.date | None = None) -> dict[str, int]:
    """Rebuild the reminders from the lake: annual reports not yet filed this year (1 January – 30 June) and
    licences expiring within 60 days (issue date + LICENCE_VALID_YEARS when the feed gives no expiry)."""
    import duckdb

    today = today or timezone.localdate()
    now = timezone.now()
    files = sorted(str(p) for p in (lake_root / "build" / "by_entity").glob("*/*.parquet"))
    rows: list[Reminder] = []
    town = dict(Entity.objects.values_list("pk", "town_code"))
    if files:
        con = duckdb.connect(config={"threads": 2})
        src = f"read_parquet({files!r})"
        horizon = today + dt.timedelta(days=60)
        for eid, name, expiry in con.execute(
            f"""SELECT entity_id, coalesce(nullif(detail, ''), '许可证') AS name,
                       max(event_date) + INTERVAL {LICENCE_VALID_YEARS} YEAR AS expiry
                FROM {src} WHERE record_type = 'licence' AND result IN ('有效', '') AND event_date IS NOT NULL
                GROUP BY ALL HAVING expiry BETWEEN ? AND ?""",
            [today, horizon],
        ).fetchall():
            if eid in town:
                rows.append(
                    Reminder(
                        entity_id=eid,
                        town_code=town[eid],
                        kind=ReminderKind.LICENCE_EXPIRY,
                        due_on=_date(expiry),
                        detail=str(name)[:200],
                        refreshed_at=now,
                    )
                )
        if dt.date(today.year, 1, 1) <= today <= dt.date(today.year, 6, 30):
            filed = {
                r[0]
                for r in con.execute(
                    f"SELECT DISTINCT entity_id FROM {src} WHERE record_type = 'annual_report' AND event_date >= ?",
                    [dt.date(today.year, 1, 1)],
                ).fetchall()
            }
            due = dt.date(today.year, 6, 30)
            for eid, t in (
                Entity.objects.filter(status="active", established_on__lt=dt.date(today.year, 1, 1))
                .values_list("pk", "town_code")
                .iterator(chunk_size=20_000)
            ):
                if eid not in filed:
                    rows.append(
                        Reminder(
                            entity_id=eid,
                            town_code=t,
                            kind=ReminderKind.ANNUAL_REPORT,
                            due_on=due,
                            detail=f"{today.year - 1}年度报告",
                            refreshed_at=now,
                        )
                    )
        con.close()
    with transaction.atomic():
        Reminder.objects.all().delete()
        Reminder.objects.bulk_create(rows, batch_size=5000)
    return {k: sum(1 for r in rows if r.kind == k) for k in ReminderKind.values}


def _date(value: Any) -> dt.date:
    return clock.local_date(value)
