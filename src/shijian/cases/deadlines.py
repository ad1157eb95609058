"""Daily: remind the handling department before a step's statutory limit, and escalate a step past it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from shijian.cases import limits
from shijian.cases.complaints import exceptions
from shijian.cases.models import Case, Complaint
from shijian.core import audit, clock


def _told(c: Any, region: str) -> tuple[Any, Any]:
    from shijian.accounts.models import Role
    from shijian.notify.services import covering

    staff = covering(region, [c.department_id]).filter(role__in=[Role.DEPT_STAFF, Role.LEADER])
    leaders = covering(region).filter(role=Role.LEADER)
    return staff, leaders


def run(today: dt.date | None = None) -> dict[str, int]:
    """Remind on the REMIND_BEFORE_WORKING_DAYS-th working day before a limit; escalate once, to the leaders of the
    filing's or case's region and to its department, the day after a limit passed."""
    from shijian.hazards.models import NoticeKind
    from shijian.notify.services import notify

    today = today or clock.today()
    exc = exceptions()
    reminded = escalated = 0
    rows: list[tuple[Any, str, str]] = [
        (c, c.region_code or c.town_code or c.district_code, c.receipt_no)
        for c in Complaint.objects.filter(process__completed=False, process__due_on__isnull=False).select_related(
            "process"
        )
    ] + [
        (c, c.town_code, c.number)
        for c in Case.objects.filter(process__completed=False, process__due_on__isnull=False).select_related("process")
    ]
    now = timezone.now()
    for obj, region, label in rows:
        inst = obj.process
        staff, leaders = _told(obj, region)
        url = obj.get_absolute_url()
        if limits.remind_on(inst.due_on, exc) == today:
            msg = _("%(no)s: the step %(step)s is due on %(date)s.") % {
                "no": label,
                "step": inst.current_name,
                "date": inst.due_on,
            }
            reminded += len(notify(NoticeKind.STEP_DUE, staff, msg, url=url))
        if inst.due_on < today and obj.escalated_at is None:
            msg = _("%(no)s: the step %(step)s passed its statutory limit (%(date)s).") % {
                "no": label,
                "step": inst.current_name,
                "date": inst.due_on,
            }
            escalated += len(notify(NoticeKind.STEP_OVERDUE, [*staff, *leaders], msg, url=url))
            type(obj).objects.filter(pk=obj.pk).update(escalated_at=now)
            audit.record(
                "update",
                object_type=f"cases.{type(obj).__name__.lower()}",
                object_id=str(obj.pk),
                object_repr=label,
                after={"escalated": inst.current, "due_on": inst.due_on},
                reason="statutory limit passed",
            )
    return {"reminded": reminded, "escalated": escalated}
