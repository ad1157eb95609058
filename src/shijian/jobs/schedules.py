"""Schedules: recurring jobs at fixed local times (Asia/Shanghai), each missed run caught up once.

A schedule's row keeps the last *slot* it honoured (the due time, not the time it ran). On each tick (every
minute, from the worker) the latest slot at or before now is compared with it: newer means one job is queued and
the slot recorded in the same conditional update, so a machine that was down over several slots runs the job once
when it comes back, and two workers ticking together queue it once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shijian.core import clock
from shijian.jobs.models import Job, Schedule, Status


@dataclass(frozen=True)
class Cadence:
    name: str
    kind: str
    label: Any
    hour: int
    minute: int = 0
    day: int | None = None  # day of the month; None: every day

    def latest_slot(self, now: dt.datetime) -> dt.datetime:
        """The latest due time at or before ``now``."""
        local = timezone.localtime(now)
        slot = local.replace(hour=self.hour, minute=self.minute, second=0, microsecond=0)
        if self.day is None:
            return slot if slot <= local else slot - dt.timedelta(days=1)
        slot = slot.replace(day=self.day)
        if slot <= local:
            return slot
        prev = (slot.replace(day=1) - dt.timedelta(days=1)).replace(day=self.day)
        return timezone.localtime(prev)

    def next_slot(self, now: dt.datetime) -> dt.datetime:
        """The first due time after ``now``."""
        local = timezone.localtime(now)
        if self.day is None:
            return self.latest_slot(local) + dt.timedelta(days=1)
        latest = self.latest_slot(local)
        return (latest.replace(day=1) + dt.timedelta(days=32)).replace(day=self.day)


SCHEDULES: list[Cadence] = [
    Cadence(
        "audit_head",
        "audit_head",
        _("Daily: announce the audit chain's head on the transparency log"),
        hour=0,
        minute=30,
    ),
    Cadence("escalate", "escalate", _("Daily: escalate overdue hazard entries"), hour=1),
    Cadence("remind", "remind", _("Daily: rebuild compliance reminders"), hour=2),
    Cadence("analytics", "analytics_refresh", _("Daily: recompute dashboard figures"), hour=4),
    Cadence("deadlines", "deadlines", _("Daily: deadline and publication notices"), hour=8),
    Cadence(
        "build",
        "build",
        _("Monthly: full build of the lake (folds the incremental builds' files into one per bucket)"),
        hour=2,
        minute=30,
        day=1,
    ),
    Cadence("risk", "risk_refresh", _("Monthly: risk class refresh"), hour=3, day=1),
]
BY_NAME = {c.name: c for c in SCHEDULES}


def tick(now: dt.datetime | None = None) -> list[Job]:
    """Queue every schedule whose latest slot is newer than the one it last honoured (once per slot)."""
    from shijian.jobs.runner import enqueue

    now = now or clock.now()
    queued = []
    for cadence in SCHEDULES:
        slot = cadence.latest_slot(now)
        row, created = Schedule.objects.get_or_create(name=cadence.name, defaults={"last_slot": slot})
        if created or not row.enabled or (row.last_slot is not None and row.last_slot >= slot):
            continue  # a new schedule starts from the current slot: installing is not a missed run
        if not Schedule.objects.filter(pk=row.pk, last_slot=row.last_slot).update(last_slot=slot):
            continue  # another worker took this slot
        queued.append(enqueue(cadence.kind, {}, None, schedule=row))
    return queued


def record_outcome(job: Job) -> None:
    """A scheduled job's end is its schedule's last run; failures are counted for the schedules page."""
    if job.schedule_id is None:
        return
    fields: dict[str, Any] = {"last_run_at": job.finished_at, "last_status": job.status}
    if job.status == Status.FAILED:
        fields["failures"] = F("failures") + 1
    Schedule.objects.filter(pk=job.schedule_id).update(**fields)


def overview(now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Every schedule with its last run, last status, failures and next run (for the schedules page)."""
    now = now or clock.now()
    rows = {s.name: s for s in Schedule.objects.all()}
    out = []
    for cadence in SCHEDULES:
        row = rows.get(cadence.name)
        out.append(
            {
                "cadence": cadence,
                "row": row,
                "next_run": cadence.next_slot(now) if row is None or row.enabled else None,
                "last_job": Job.objects.filter(schedule=row).first() if row is not None else None,
            }
        )
    return out
