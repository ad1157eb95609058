"""Use cases of 双随机: freeze candidates, draw and staff, record results, publish. Thin over ``draw``/``record``.

Each use case runs in one transaction and writes an audit event; files (candidate lists, the draw record) are
written to ``SHIJIAN_HOME/draws/<code>/`` before the transaction commits and are immutable afterwards.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from shijian.core import audit, clock
from shijian.registry.models import Inspector, SpotCheckItem
from shijian.supervision import calendar, record
from shijian.supervision.draw import (
    BLANKS,
    Candidate,
    DrawError,
    Drawn,
    commitment,
    parse_full,
    sha256_hex,
)
from shijian.supervision.freezing import CLOSED_STATUSES as CLOSED_STATUSES
from shijian.supervision.freezing import FROZEN_FILE as FROZEN_FILE
from shijian.supervision.freezing import FULL_RECORD as FULL_RECORD
from shijian.supervision.freezing import _entity_ids
from shijian.supervision.freezing import candidates_for as candidates_for
from shijian.supervision.freezing import check_seed_plan as check_seed_plan
from shijian.supervision.freezing import draw_dir as draw_dir
from shijian.supervision.freezing import entity_key as entity_key
from shijian.supervision.freezing import freeze as freeze
from shijian.supervision.freezing import rule_of as rule_of
from shijian.supervision.freezing import salt_for as salt_for
from shijian.supervision.models import (
    Batch,
    BatchStatus,
    CalendarDay,
    Draw,
    DrawStatus,
    ResultSubmission,
    SeedMethod,
    TeamMember,
    Visit,
    VisitItem,
    VisitStatus,
)
from shijian.translog import services as translog
from shijian.translog.models import LogEntry

PUBLISH_WITHIN_WORKING_DAYS = 20

# -- draw ------------------------------------------------------------------------------------------------------


@dataclass
class DrawResult:
    draw: Draw
    visits: int
    infeasible: dict[str, str]

    @property
    def ok(self) -> bool:
        return not self.infeasible


def load_candidates(draw: Draw, frozen: Mapping[str, Any]) -> dict[str, tuple[list[Candidate], dict[str, str]]]:
    """The staff candidate lists of a draw (codes and salts), refused if they are not the ones frozen."""
    out = {}
    for b in frozen["batches"]:
        path = draw_dir(draw.code) / b["candidates"]["full_file"]
        try:
            data = path.read_bytes()
            public = (draw_dir(draw.code) / b["candidates"]["file"]).read_bytes()
        except OSError:
            raise DrawError(
                _("The frozen candidate list %(path)s is missing; restore it or freeze again.") % {"path": path}
            ) from None
        if sha256_hex(data) != b["candidates"]["full_sha256"] or sha256_hex(public) != b["candidates"]["sha256"]:
            raise DrawError(
                _("The candidate list of batch %(code)s has changed since it was frozen.") % {"code": b["code"]}
            )
        out[b["code"]] = parse_full(data)
    return out


def load_frozen(draw: Draw) -> tuple[dict[str, Any], dict[str, Any]]:
    """The manifest and staffing inputs written at the freeze; refused if they are not the ones announced."""
    path = draw_dir(draw.code) / FROZEN_FILE
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        raise DrawError(
            _("The frozen inputs %(path)s are missing; restore them or freeze again.") % {"path": path}
        ) from None
    if record.manifest_digest(data["frozen"]) != draw.frozen_digest:
        raise DrawError(_("The frozen inputs of draw %(code)s have changed since the freeze.") % {"code": draw.code})
    if sha256_hex(record.canonical(data["staffing"])) != data["frozen"]["staffing_sha256"]:
        raise DrawError(_("The frozen inputs of draw %(code)s have changed since the freeze.") % {"code": draw.code})
    return data["frozen"], data["staffing"]


def _seed_block(draw: Draw, public_value: str, secrets: Sequence[str], now: dt.datetime) -> dict[str, Any]:
    if draw.seed_method == SeedMethod.BEACON:
        if draw.beacon_at is not None and now < draw.beacon_at:
            raise DrawError(
                _("The public value is announced for %(at)s; the draw cannot be made before then.")
                % {"at": timezone.localtime(draw.beacon_at).strftime("%Y-%m-%d %H:%M")}
            )
        if not public_value.strip(BLANKS):
            raise DrawError(_("Enter the public value as announced."))
        return {"method": "beacon", "source": draw.beacon_source, "public_value": public_value.strip(BLANKS)}
    for n, (c, secret) in enumerate(zip(draw.commitments, secrets, strict=False), start=1):
        if commitment(secret) != c:
            raise DrawError(_("The secret of official %(n)d does not match the commitment.") % {"n": n})
    return {"method": "commit_reveal", "commitments": list(draw.commitments), "secrets": list(secrets)}


def check_seed(draw: Draw, public_value: str = "", secrets: Sequence[str] = ()) -> None:
    """Raise DrawError now if the draw would refuse this seed (before the announced time, a wrong secret...)."""
    if draw.status != DrawStatus.FROZEN:
        raise DrawError(_("Draw %(code)s has already been made.") % {"code": draw.code})
    _seed_block(draw, public_value, secrets, timezone.now())


def perform(draw: Draw, user: Any, public_value: str = "", secrets: Sequence[str] = ()) -> DrawResult:
    """Seed, draw, match departments, staff from the frozen inputs; save everything with the log's proof."""
    if draw.status != DrawStatus.FROZEN:
        raise DrawError(_("Draw %(code)s has already been made.") % {"code": draw.code})
    now = timezone.now()
    seed_block = _seed_block(draw, public_value, secrets, now)
    frozen, staffing = load_frozen(draw)
    batches = list(draw.batches.order_by("code").prefetch_related("items__category"))
    full = load_candidates(draw, frozen)
    cands = {code: cs for code, (cs, _salts) in full.items()}
    rec, staffed, visits, drawn = record.build(
        frozen=frozen, staffing=staffing, full=full, seed_block=seed_block, drawn_at=now.isoformat()
    )
    keys = {d.key for ds in drawn.values() for d in ds}
    ids = _entity_ids(keys)
    missing = sorted(keys - set(ids))
    if missing:
        raise DrawError(
            _("%(n)d drawn entities no longer exist (e.g. %(key)s); freeze again.")
            % {"n": len(missing), "key": missing[0]}
        )
    if not staffed.complete:  # the freeze checks every candidate; only a changed reference code gets here
        raise DrawError(_("%(n)d visits cannot be staffed.") % {"n": len(staffed.infeasible)})
    entry = LogEntry.objects.get(kind="freeze", subject=draw.code)
    rec["log"] = translog.inclusion(entry)
    items = {i.code: i for b in batches for i in b.items.all()}
    _save(draw, batches, rec, visits, drawn, cands, items, ids, staffed.teams, rec["seed"]["seed"], now, user)
    return DrawResult(draw, len(visits), {})


def _save(
    draw: Draw,
    batches: Sequence[Batch],
    rec: Mapping[str, Any],
    visits: Sequence[Any],
    drawn: Mapping[str, Sequence[Drawn]],
    cands: Mapping[str, Sequence[Candidate]],
    items: Mapping[str, SpotCheckItem],
    ids: Mapping[str, int],
    teams: Mapping[str, Sequence[str]],
    seed: str,
    now: dt.datetime,
    user: Any,
) -> None:
    from shijian.registry.models import Department

    dept_pk = dict(Department.objects.values_list("code", "pk"))
    insp_pk = dict(
        Inspector.objects.filter(cert_no__in={c for t in teams.values() for c in t}).values_list("cert_no", "pk")
    )
    batch_pk = {b.code: b.pk for b in batches}
    control = {(code, d.key): d.control for code, ds in drawn.items() for d in ds}
    cand_items = {code: {c.key: c.items for c in cs} for code, cs in cands.items()}
    with transaction.atomic():
        data = record.dumps(record.public_copy(rec))
        (draw_dir(draw.code) / "record.json").write_bytes(data)
        (draw_dir(draw.code) / FULL_RECORD).write_bytes(record.dumps(rec))
        # Plain multi-row inserts: at 30k visits the ORM's per-object bulk_create costs ten times more.
        _insert(
            Visit,
            ["draw_id", "entity_id", "entity_key", "window_start", "window_end", "status", "updated_at"],
            [
                (
                    draw.pk,
                    ids[v.key],
                    v.key,
                    dt.date.fromisoformat(v.window[0]),
                    dt.date.fromisoformat(v.window[1]),
                    "assigned",
                    now,
                )
                for v in visits
            ],
        )
        pk_of = dict(Visit.objects.filter(draw=draw).values_list("entity_key", "pk"))
        _insert(
            Visit.departments.through,
            ["visit_id", "department_id"],
            [(pk_of[v.key], dept_pk[d]) for v in visits for d in v.departments],
        )
        _insert(
            TeamMember,
            ["visit_id", "inspector_id", "position"],
            [(pk_of[v.key], insp_pk[c], n) for v in visits for n, c in enumerate(teams[v.key])],
        )
        _insert(
            VisitItem,
            ["visit_id", "item_id", "batch_id", "control", "outcome", "note"],
            [
                (pk_of[v.key], items[i].pk, batch_pk[b], control[(b, v.key)], "", "")
                for v in visits
                for b in v.batches
                for i in cand_items[b][v.key]
            ],
        )
        draw.status, draw.seed, draw.drawn_at = DrawStatus.DRAWN, seed, now
        draw.record_sha256 = hashlib.sha256(data).hexdigest()
        draw.last_attempt = {}
        draw.save(update_fields=["status", "seed", "drawn_at", "record_sha256", "last_attempt"])
        Batch.objects.filter(pk__in=batch_pk.values()).update(status=BatchStatus.DRAWN)
        audit.record(
            "update",
            object_type="supervision.draw",
            object_id=str(draw.pk),
            object_repr=draw.code,
            after={
                "seed": seed,
                "visits": len(visits),
                "record_sha256": draw.record_sha256,
                "seed_inputs": rec["seed"],
            },
            reason="drawn and staffed",
            actor=user,
        )


def _insert(model: Any, columns: Sequence[str], rows: Sequence[tuple[Any, ...]], chunk: int = 500) -> None:
    """INSERT rows into the model's table, many rows per statement (column names are the model's own)."""
    table = connection.ops.quote_name(model._meta.db_table)
    cols = ", ".join(connection.ops.quote_name(c) for c in columns)
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    with connection.cursor() as cur:
        for i in range(0, len(rows), chunk):
            part = rows[i : i + chunk]
            cur.execute(
                f"INSERT INTO {table} ({cols}) VALUES " + ", ".join([one] * len(part)),
                [v for row in part for v in row],
            )


# -- results and publication -----------------------------------------------------------------------------------


def workday_exceptions() -> dict[dt.date, bool]:
    return dict(CalendarDay.objects.values_list("date", "workday"))


def record_results(visit: Visit, results: Mapping[int, tuple[str, str]], checked_on: dt.date, user: Any) -> None:
    """Record each item's result; when every item has one, the visit is checked and its publication due."""
    if visit.status == VisitStatus.PUBLISHED:
        raise DrawError(_("The results of this visit are published and can no longer be changed."))
    if checked_on > timezone.localdate():
        raise DrawError(_("The check date is in the future."))
    if checked_on < clock.local_date(visit.draw.frozen_at):
        raise DrawError(_("The check date is before the draw."))
    now = timezone.now()
    with transaction.atomic():
        before = {c.pk: c.outcome for c in visit.checks.all()}
        for check in visit.checks.select_for_update():
            if check.pk in results:
                outcome, note = results[check.pk]
                if outcome and (outcome != check.outcome or note != check.note):
                    check.outcome, check.note, check.recorded_by, check.recorded_at = outcome, note, user, now
                    check.save(update_fields=["outcome", "note", "recorded_by", "recorded_at"])
        complete = not visit.checks.filter(outcome="").exists()
        visit.checked_on = checked_on
        if complete:
            visit.status = VisitStatus.DONE
            visit.publish_by = calendar.add_working_days(checked_on, PUBLISH_WITHIN_WORKING_DAYS, workday_exceptions())
        visit.save(update_fields=["checked_on", "status", "publish_by"])
        audit.record(
            "update",
            object_type="supervision.visit",
            object_id=str(visit.pk),
            object_repr=str(visit),
            before=before,
            after={c.pk: c.outcome for c in visit.checks.all()},
            reason="results recorded",
            actor=user,
        )


def publish(visits: Iterable[Visit], user: Any) -> int:
    now = timezone.now()
    n = 0
    with transaction.atomic():
        for v in visits:
            if v.status != VisitStatus.DONE:
                continue
            v.status, v.published_at = VisitStatus.PUBLISHED, now
            v.save(update_fields=["status", "published_at"])
            n += 1
        if n:
            audit.record(
                "update",
                object_type="supervision.visit",
                object_repr=f"{n} visits",
                reason="results published",
                actor=user,
            )
    return n


# -- what is due ------------------------------------------------------------------------------------------------

DUE = ("today", "late", "unpublished", "publish_late")


def due_q(which: str, today: dt.date) -> Q:
    """Visits due: ``today`` window open and not yet checked; ``late`` window closed, not checked; ``unpublished``
    checked, result not yet published; ``publish_late`` past the publication deadline (20 working days)."""
    assigned, done = Q(status=VisitStatus.ASSIGNED), Q(status=VisitStatus.DONE)
    return {
        "today": assigned & Q(window_start__lte=today, window_end__gte=today),
        "late": assigned & Q(window_end__lt=today),
        "unpublished": done,
        "publish_late": done & Q(publish_by__lt=today),
    }[which]


@dataclass(frozen=True)
class Submitted:
    """What a sending of results came to; ``replayed`` when the same key was already answered."""

    ok: bool
    message: str
    replayed: bool = False


def submit_results(
    visit: Visit,
    results: Mapping[int, tuple[str, str]],
    checked_on: dt.date,
    user: Any,
    key: uuid.UUID | None = None,
) -> Submitted:
    """Record the results once per key: a phone that saved the form offline sends it again when the network
    returns, perhaps twice; a key already seen answers its stored outcome and writes nothing."""
    if key is not None:
        seen = ResultSubmission.objects.filter(key=key).first()
        if seen is not None:
            return _replayed(seen, visit)
    try:
        with transaction.atomic():
            try:
                record_results(visit, results, checked_on, user)
            except DrawError as exc:
                outcome = Submitted(False, str(exc))
            else:
                visit.refresh_from_db()
                if visit.status == VisitStatus.DONE:
                    message = _("Results recorded; to be published by %(date)s.") % {"date": visit.publish_by}
                else:
                    message = _("Results saved; some items still have no result.")
                outcome = Submitted(True, str(message))
            if key is not None:
                ResultSubmission.objects.create(key=key, visit=visit, user=user, ok=outcome.ok, message=outcome.message)
    except IntegrityError:  # the same key sent twice at once: the other sending won, and this one wrote nothing
        if key is None:
            raise
        return _replayed(ResultSubmission.objects.get(key=key), visit)
    return outcome


def _replayed(seen: ResultSubmission, visit: Visit) -> Submitted:
    if seen.visit_id != visit.pk:
        return Submitted(False, str(_("This submission key belongs to another visit.")))
    return Submitted(seen.ok, seen.message, replayed=True)
