"""Who is told what, and how: notices are created in the caller's transaction; e-mail and webhook deliveries go
out after it commits, from the worker, retried and logged (Delivery)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from shijian.core import clock
from shijian.hazards.models import NoticeKind, Notification
from shijian.notify.channels import CHANNELS
from shijian.notify.models import Delivery, Preference

Progress = Callable[[str, int, int], None]
NOTICE_DAYS = 3  # hazard and publication deadlines: told this many days before, and on the day


# -- jurisdiction: the one place notifications ask who covers a region (swap for core.jurisdiction) ---------------


def covering(region_code: str, department_ids: Iterable[int] | None = None) -> QuerySet[Any]:
    """Active users whose region (district, town or village) contains ``region_code``."""
    from shijian.accounts.models import User

    prefixes = [region_code[:n] for n in (6, 9, 12) if len(region_code) >= n]
    qs = User.objects.filter(is_active=True, region_code__in=prefixes)
    if department_ids is not None:
        qs = qs.filter(department_id__in=list(department_ids))
    return qs


# -- creating and delivering -------------------------------------------------------------------------------------


def notify(kind: str, users: Iterable[Any], message: str, url: str = "", hazard: Any = None) -> list[Notification]:
    """One in-app notice per user, and a delivery per channel the user chose for this kind."""
    users = list({u.pk: u for u in users}.values())
    if not users:
        return []
    rows = Notification.objects.bulk_create(
        [
            Notification(
                user=u, kind=kind, department_id=u.department_id, hazard=hazard, message=message[:300], url=url
            )
            for u in users
        ]
    )
    prefs = {p.user_id: p for p in Preference.objects.filter(user__in=users, kind=kind)}
    deliveries = []
    for u, row in zip(users, rows, strict=True):
        pref = prefs.get(u.pk) or Preference(user=u, kind=kind)
        for name, channel in CHANNELS.items():
            if getattr(pref, name) and channel.ready(u):
                deliveries.append(Delivery(notification=row, channel=name))
    if deliveries:
        created = Delivery.objects.bulk_create(deliveries)
        ids = [d.pk for d in created]
        transaction.on_commit(lambda: _queue_deliveries(ids))
    return rows


def _queue_deliveries(ids: list[int]) -> None:
    from shijian.jobs.queue import deliver_task

    deliver_task(ids)


def deliver(delivery_ids: list[int], retries: int | None = None, backoff: float = 1.0) -> None:
    """Send each pending delivery, up to ``retries`` attempts with growing pauses; every attempt is logged."""
    retries = settings.SHIJIAN_NOTIFY_RETRIES if retries is None else retries
    for d in Delivery.objects.filter(pk__in=delivery_ids, status="pending").select_related("notification__user"):
        n = d.notification
        channel = CHANNELS[d.channel]
        subject = f"[{_('Shijian')}] {n.get_kind_display()}"
        for attempt in range(1, retries + 1):
            d.attempts = attempt
            try:
                channel.send(n.user, subject, n.message, n.link())
            except Exception as exc:  # any failure of the far side is retried, then logged
                d.error += f"attempt {attempt}: {type(exc).__name__}: {exc}\n"
                d.status = "failed" if attempt == retries else "pending"
                d.save(update_fields=["attempts", "error", "status"])
                if attempt < retries:
                    time.sleep(backoff * 2 ** (attempt - 1))
                continue
            d.status, d.sent_at = "sent", timezone.now()
            d.save(update_fields=["attempts", "status", "sent_at", "error"])
            break


# -- reading -------------------------------------------------------------------------------------------------------


def inbox(user: Any) -> QuerySet[Notification]:
    """The user's notices, and the older department-wide ones of the user's department."""
    q = Q(user=user)
    if user.department_id is not None:
        q |= Q(user__isnull=True, department_id=user.department_id)
    return Notification.objects.filter(q)


def unread_count(user: Any) -> int:
    return inbox(user).filter(read_at__isnull=True).count()


def mark_read(user: Any, pk: int | None = None) -> int:
    """Mark one notice (``pk``) or all of the user's notices read."""
    qs = inbox(user).filter(read_at__isnull=True)
    if pk is not None:
        qs = qs.filter(pk=pk)
    return qs.update(read_at=timezone.now())


# -- what is notified ------------------------------------------------------------------------------------------


def escalated(notices: Iterable[tuple[Any, int]]) -> None:
    """Overdue entries escalated: the users of the department told (``hazards.services`` decides which: the entry's
    own if the entry lies in its region, else its town's) whose region covers the entry (inside the transaction)."""
    for h, department_id in notices:
        msg = _("Entry #%(id)d (%(title)s) is overdue and was escalated to enforcement.") % {
            "id": h.pk,
            "title": h.title[:100],
        }
        notify(NoticeKind.ESCALATED, covering(h.town_code, [department_id]), msg, hazard=h)


def job_failed(job: Any) -> None:
    """A failed job: who started it, or (a scheduled job) the data administrators of the home district."""
    from shijian.accounts.models import Role

    if job.created_by is not None:
        users: Iterable[Any] = [job.created_by]
    else:
        users = covering(settings.SHIJIAN_HOME_REGION).filter(Q(role=Role.DATA_ADMIN) | Q(is_superuser=True))
    msg = _("Job %(label)s #%(id)d failed: %(error)s") % {"label": job.label(), "id": job.pk, "error": job.message}
    notify(NoticeKind.JOB_FAILED, users, msg, url=job.get_absolute_url())


def tasks_assigned(draw: Any) -> int:
    """After a draw: each team member with an account is told of the visit (if it lies in the member's region)."""
    from shijian.supervision.models import TeamMember

    n = 0
    members = TeamMember.objects.filter(visit__draw=draw, inspector__user__isnull=False).select_related(
        "visit__entity", "inspector__user"
    )
    for m in members:
        user, visit = m.inspector.user, m.visit
        if user is None or not covering(visit.entity.region_code).filter(pk=user.pk).exists():
            continue
        msg = _("New inspection task: %(entity)s, %(start)s – %(end)s.") % {
            "entity": visit.entity.name,
            "start": visit.window_start,
            "end": visit.window_end,
        }
        n += len(notify(NoticeKind.TASK, [user], msg, url=visit.get_absolute_url()))
    return n


def deadline_notices(progress: Progress | None = None, today: dt.date | None = None) -> dict[str, int]:
    """Daily: hazard deadlines and result publication deadlines, told NOTICE_DAYS before and on the day."""
    from shijian.accounts.models import Role
    from shijian.hazards.models import Hazard
    from shijian.supervision.models import Visit, VisitStatus

    today = today or clock.today()
    days = [today, today + dt.timedelta(days=NOTICE_DAYS)]
    hazards = Hazard.objects.filter(pending=True, deadline__in=days)
    n_h = 0
    for h in hazards:
        msg = _("Entry #%(id)d (%(title)s) is due on %(date)s.") % {
            "id": h.pk,
            "title": h.title[:100],
            "date": h.deadline,
        }
        n_h += len(notify(NoticeKind.HAZARD_DUE, covering(h.town_code, [h.department_id]), msg, hazard=h))
    if progress is not None:
        progress("hazard deadlines", 1, 2)
    visits = Visit.objects.filter(status=VisitStatus.DONE, publish_by__in=days).select_related("entity")
    n_p = 0
    for v in visits:
        users = covering(v.entity.region_code, v.departments.values_list("pk", flat=True)).filter(
            role__in=[Role.LEADER, Role.DEPT_STAFF]
        )
        msg = _("The result for %(entity)s must be published by %(date)s.") % {
            "entity": v.entity.name,
            "date": v.publish_by,
        }
        n_p += len(notify(NoticeKind.PUBLICATION, users, msg, url=v.get_absolute_url()))
    if progress is not None:
        progress("publication deadlines", 2, 2)
    return {"hazard_due": n_h, "publication": n_p}
