"""The kinds of job: a label, the function that does the work, and how many retries are safe.

Each function takes the job's ``Context`` and its parameters (JSON) and returns an outcome (JSON). The work is
the domain's own function (escalate_overdue, refresh_all, ...); this module only adapts it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from shijian.jobs.runner import Context

Outcome = dict[str, Any]


@dataclass(frozen=True)
class JobKind:
    name: str
    label: Any
    run: Callable[..., Outcome]
    retries: int = 0  # > 0 only where running again after a failure is safe (idempotent work)


KINDS: dict[str, JobKind] = {}


def register(name: str, label: Any, retries: int = 0) -> Callable[[Callable[..., Outcome]], Callable[..., Outcome]]:
    def deco(fn: Callable[..., Outcome]) -> Callable[..., Outcome]:
        KINDS[name] = JobKind(name, label, fn, retries)
        return fn

    return deco


def _user(ctx: Context) -> Any:
    return ctx.job.created_by


@register("export", _("Excel export"), retries=1)
def export(ctx: Context, spec: str, query: dict[str, str]) -> Outcome:
    from shijian.jobs.export import export_to_file

    return export_to_file(ctx, spec, query)


@register("freeze", _("Freeze a draw's candidates"))
def freeze(ctx: Context, batch_ids: list[int], **options: Any) -> Outcome:
    from shijian.supervision import services
    from shijian.supervision.models import Batch

    batches = list(Batch.objects.filter(pk__in=batch_ids).select_related("plan").order_by("pk"))
    if isinstance(options.get("beacon_at"), str):  # job parameters are JSON: the announced time as ISO 8601
        options["beacon_at"] = dt.datetime.fromisoformat(options["beacon_at"])
    ctx.progress(str(_("Freezing the candidate lists")), 0, 1)
    draw = services.freeze(batches, _user(ctx), **options)
    return {"draw": draw.pk, "code": draw.code, "url": draw.get_absolute_url()}


@register("draw", _("Draw and staff a batch"))
def draw(ctx: Context, draw_id: int, public_value: str = "", secrets: list[str] | None = None) -> Outcome:
    from shijian.notify.services import tasks_assigned
    from shijian.supervision import services
    from shijian.supervision.models import Draw

    d = Draw.objects.get(pk=draw_id)
    ctx.progress(str(_("Drawing and staffing")), 0, 1)
    result = services.perform(d, _user(ctx), public_value=public_value, secrets=secrets or [])
    if result.ok:
        tasks_assigned(d)
    return {"draw": d.pk, "url": d.get_absolute_url(), "visits": result.visits, "infeasible": result.infeasible}


@register("escalate", _("Escalate overdue hazard entries"), retries=2)
def escalate(ctx: Context, today: str = "") -> Outcome:
    import datetime as dt

    from shijian.hazards.services import escalate_overdue

    n = escalate_overdue(dt.date.fromisoformat(today) if today else None, ctx.progress)
    return {"escalated": n}


@register("audit_head", _("Announce the audit chain's head on the transparency log"), retries=2)
def audit_head(ctx: Context) -> Outcome:
    from shijian.translog.services import log_audit_head

    entry = log_audit_head()
    return {"logged": entry.index if entry is not None else None}


@register("remind", _("Rebuild compliance reminders"), retries=2)
def remind(ctx: Context) -> Outcome:
    from shijian.hazards.services import refresh_reminders

    ctx.progress(str(_("Rebuilding reminders")), 0, 1)
    return dict(refresh_reminders(Path(settings.SHIJIAN_LAKE)))


@register("deadlines", _("Deadline notifications"), retries=2)
def deadlines(ctx: Context) -> Outcome:
    from shijian.cases import deadlines as case_deadlines
    from shijian.notify.services import deadline_notices

    out = deadline_notices(ctx.progress)
    out.update({f"steps_{k}": v for k, v in case_deadlines.run().items()})
    return out


@register("analytics_refresh", _("Recompute dashboard figures"), retries=2)
def analytics_refresh(ctx: Context) -> Outcome:
    from shijian.analytics.snapshot import refresh_all

    return {"scopes": refresh_all(Path(settings.SHIJIAN_LAKE), progress=ctx.progress)}


@register("risk_refresh", _("Monthly risk class refresh"), retries=1)
def risk_refresh(ctx: Context, force: bool = False) -> Outcome:
    from django.utils import timezone

    from shijian.analytics.snapshot import refresh_all
    from shijian.risk import platform

    day = timezone.localdate()
    if not force and not platform.due(day):
        return {"skipped": f"already refreshed in {day:%Y-%m}"}
    r = platform.refresh(Path(settings.SHIJIAN_LAKE), day, ctx.progress)
    refresh_all(Path(settings.SHIJIAN_LAKE), progress=ctx.progress)
    return {"refresh": r.pk, "entities": r.entities, "classes": r.classes}


# The data administration's kinds (load, re-process, build) live with their app.
from shijian.dataadmin import kinds as _dataadmin_kinds  # noqa: E402, F401
