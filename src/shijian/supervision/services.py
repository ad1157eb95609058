"""Use cases of 双随机: freeze candidates, draw and staff, record results, publish. Thin over ``draw``/``record``.

Each use case runs in one transaction and writes an audit event; files (candidate lists, the draw record) are
written to ``SHIJIAN_HOME/draws/<code>/`` before the transaction commits and are immutable afterwards.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from shijian.core import audit, clock
from shijian.core.codes.tables import industry_matches
from shijian.registry.models import Entity, EntityStatus, Inspector, InspectorConflict, Responsibility, SpotCheckItem
from shijian.registry.scope import entity_region_q
from shijian.supervision import calendar, record
from shijian.supervision.draw import (
    BLANKS,
    CLASSES,
    RANDOM,
    SALT_HEX,
    BatchRule,
    Candidate,
    DrawError,
    Drawn,
    Officer,
    commitment,
    full_bytes,
    parse_full,
    percent_bp,
    public_bytes,
    quota,
    quotas,
    sha256_hex,
    unstaffable,
    windows_overlap,
)
from shijian.supervision.draw import Responsibility as Resp
from shijian.supervision.models import (
    Batch,
    BatchStatus,
    CalendarDay,
    Draw,
    DrawStatus,
    SeedMethod,
    TeamMember,
    Visit,
    VisitItem,
    VisitStatus,
)
from shijian.translog import services as translog
from shijian.translog.models import LogEntry

PUBLISH_WITHIN_WORKING_DAYS = 20
CLOSED_STATUSES = (EntityStatus.DEREGISTERED, EntityStatus.MOVED_OUT)


def draw_dir(code: str) -> Path:
    return Path(settings.HOME) / "draws" / code


def entity_key(uscc: str | None, pk: int) -> str:
    return uscc or f"ID{pk}"


def rule_of(batch: Batch) -> BatchRule:
    return BatchRule(
        code=batch.code,
        mode=batch.mode,
        items=tuple(sorted(i.code for i in batch.items.all())),
        window=(batch.window_start.isoformat(), batch.window_end.isoformat()),
        ratios={k: str(v) for k, v in sorted((batch.ratios or {}).items())},
        random_share=_pct(batch.random_share),
        ratio=_pct(batch.ratio) if batch.ratio is not None else None,
        count=batch.count,
    )


def _pct(value: Decimal | int | str) -> str:
    d = Decimal(str(value)).normalize()
    return format(d, "f")


# -- candidates ------------------------------------------------------------------------------------------------


def candidates_for(batch: Batch) -> list[Candidate]:
    """Active entities in the batch's scope to which at least one of its items applies (and is still due)."""
    items = list(batch.items.order_by("code"))
    if not items:
        raise DrawError(_("Batch %(code)s names no spot-check items.") % {"code": batch.code})
    qs = Entity.objects.exclude(status__in=CLOSED_STATUSES)
    regions = batch.scope_regions or [batch.plan.region_code]
    region_q = Q(pk__in=[])
    for r in regions:
        region_q |= entity_region_q(r)
    qs = qs.filter(region_q)
    if batch.scope_types:
        qs = qs.filter(entity_type__in=batch.scope_types)
    if batch.scope_industries:
        ind_q = Q(pk__in=[])
        for code in batch.scope_industries:
            ind_q |= Q(industry_section=code) if code.isalpha() else Q(industry_code__startswith=code)
        qs = qs.filter(ind_q)
    tags = list(batch.scope_tags.values_list("pk", flat=True))
    if tags:
        qs = qs.filter(pk__in=Entity.tags.through.objects.filter(tag_id__in=tags).values("entity_id"))
    if batch.exclude_new_days:
        since = batch.window_start - dt.timedelta(days=batch.exclude_new_days)
        qs = qs.exclude(established_on__gt=since)
    done: set[tuple[int, str]] = set()
    if batch.exclude_drawn_this_year:
        done = set(
            VisitItem.objects.filter(item__in=items, visit__draw__plan__year=batch.plan.year).values_list(
                "visit__entity_id", "item__code"
            )
        )
    excluded = set(batch.exclude_keys or [])
    raises: dict[int, int] = {}
    if batch.raise_hazard_entities:
        from shijian.hazards.services import class_raises

        raises = class_raises()
    applies: dict[tuple[str, str], tuple[str, ...]] = {}
    out = []
    rows = qs.values_list("pk", "uscc", "entity_type", "industry_code", "region_code", "risk_class")
    for pk, code, etype, industry, region, risk in rows.iterator(chunk_size=20_000):
        key = entity_key(code, pk)
        if key in excluded:
            continue
        sig = (etype, industry)
        its = applies.get(sig)
        if its is None:
            its = applies[sig] = tuple(
                i.code
                for i in items
                if (not i.target_entity_types or etype in i.target_entity_types)
                and industry_matches(industry, i.target_industries)
            )
        if done:
            its = tuple(i for i in its if (pk, i) not in done)
        if its:
            cls = risk or "B"
            if raises and pk in raises:
                cls = CLASSES[min(3, CLASSES.index(cls) + raises[pk])]
            out.append(Candidate(key, cls, region, its))
    out.sort(key=lambda c: c.key)
    return out


def _check_caps(batch: Batch, rule: BatchRule, cands: Sequence[Candidate]) -> None:
    """General (一般) items have a cap on the share of eligible entities drawn."""
    if not cands:
        return
    if rule.mode == RANDOM:
        n = rule.count if rule.count is not None else quota(len(cands), percent_bp(rule.ratio or "0"))
    else:
        q, _r = quotas(rule, cands)
        n = sum(q.values())
    for item in batch.items.all():
        if item.kind == "general" and item.ratio_cap is not None and n * 100 > item.ratio_cap * len(cands):
            raise DrawError(
                _(
                    "%(item)s is a general item capped at %(cap)s%% of eligible entities; "
                    "batch %(batch)s would draw %(n)d of %(total)d (%(share).1f%%)."
                )
                % {
                    "item": item.code,
                    "cap": item.ratio_cap.normalize(),
                    "batch": batch.code,
                    "n": n,
                    "total": len(cands),
                    "share": 100 * n / len(cands),
                }
            )


# -- freeze ----------------------------------------------------------------------------------------------------


def freeze(
    batches: Sequence[Batch],
    user: Any,
    seed_method: str,
    beacon_source: str = "",
    commitments: Sequence[str] = (),
    prefer_region: bool = True,
    beacon_at: dt.datetime | None = None,
) -> Draw:
    """Fix everything the draw reads (candidate lists, scope rules, the staffing inputs) and announce its digest
    on the transparency log; the seed comes later (for a beacon, not before the announced ``beacon_at``)."""
    if not batches:
        raise DrawError(_("Choose at least one batch."))
    plan = batches[0].plan
    for b in batches:
        if b.plan_id != plan.pk:
            raise DrawError(_("Batches drawn together must belong to one plan."))
        if b.status != BatchStatus.DRAFT:
            raise DrawError(_("Batch %(code)s is already frozen.") % {"code": b.code})
    batches = sorted(batches, key=lambda b: b.code)
    rules = [rule_of(b) for b in batches]
    for r in rules:
        r.validate()
    if windows_overlap(r.window for r in rules) is None:
        raise DrawError(_("Batches drawn together must share a window (their windows do not overlap)."))
    now = timezone.now()
    seed_plan = _seed_plan(seed_method, beacon_source, commitments, beacon_at, now)
    with transaction.atomic():
        code = _next_code(plan)
        folder = draw_dir(code)
        folder.mkdir(parents=True, exist_ok=True)
        cands: dict[str, list[Candidate]] = {}
        for b, r in zip(batches, rules, strict=True):
            cands[b.code] = candidates_for(b)
            _check_caps(b, r, cands[b.code])
        item_category, resp = _responsibilities(batches)
        ids = _entity_ids({c.key for cs in cands.values() for c in cs})
        officers, exclusions = _officers({r.department for r in resp}), _exclusions(ids)
        _check_staffable(cands, item_category, resp, officers, exclusions, prefer_region)
        files = {b.code: _write_lists(folder, code, b.code, cands[b.code]) for b in batches}
        for b in batches:
            b.candidates_file, b.candidates_sha256 = files[b.code]["file"], files[b.code]["sha256"]
            b.candidates_count = len(cands[b.code])
        staffing = record.staffing_block(officers, exclusions)
        frozen = record.manifest(
            draw_code=code,
            frozen_at=now.isoformat(),
            rules=rules,
            scopes={b.code: scope_of(b) for b in batches},
            candidate_files=files,
            seed_plan=seed_plan,
            item_category=item_category,
            responsibilities=resp,
            staffing=staffing,
            prefer_region=prefer_region,
        )
        digest = record.manifest_digest(frozen)
        (folder / FROZEN_FILE).write_bytes(record.canonical({"frozen": frozen, "staffing": staffing}))
        draw = Draw.objects.create(
            code=code,
            plan=plan,
            seed_method=seed_method,
            beacon_source=seed_plan.get("source", ""),
            beacon_at=beacon_at if seed_method == SeedMethod.BEACON else None,
            commitments=list(seed_plan.get("commitments", [])),
            prefer_region=prefer_region,
            frozen_at=now,
            frozen_digest=digest,
            created_by=user,
        )
        for b in batches:
            b.status, b.draw = BatchStatus.FROZEN, draw
            b.save(update_fields=["status", "draw", "candidates_file", "candidates_sha256", "candidates_count"])
        translog.append("freeze", code, record.freeze_leaf(frozen, digest))
        audit.record(
            "create",
            object_type="supervision.draw",
            object_id=str(draw.pk),
            object_repr=code,
            after={"frozen_digest": digest, "batches": {b.code: b.candidates_sha256 for b in batches}, **seed_plan},
            reason="candidates frozen",
            actor=user,
        )
    return draw


FULL_RECORD = "record.full.json"  # with the staffing inputs and the teams (staff only)
FROZEN_FILE = "frozen.json"  # the manifest and the staffing inputs, as frozen (staff only: certificates, conflicts)


def salt_for(draw_code: str, key: str) -> str:
    """An entity's salt in a draw: derived from the bureau's salt key, so it can be told to the entity on request
    (its receipt) without being stored; unknown to anyone else, so the public list does not reveal who is on it."""
    path = Path(settings.HOME) / "translog" / "salt.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(os.urandom(32))
    mac = hmac.new(path.read_bytes(), f"shijian-salt/1|{draw_code}|{key}".encode(), hashlib.sha256)
    return mac.hexdigest()[:SALT_HEX]


def _write_lists(folder: Path, draw_code: str, batch_code: str, cands: Sequence[Candidate]) -> dict[str, Any]:
    """Write a batch's public list (commitments and classes) and its staff list (codes, regions, items, salts)."""
    salts = {c.key: salt_for(draw_code, c.key) for c in cands}
    public, full = public_bytes(cands, salts), full_bytes(cands, salts)
    files = record.candidate_files(batch_code, public, full, len(cands))
    (folder / files["file"]).write_bytes(public)
    (folder / files["full_file"]).write_bytes(full)
    return files


def _next_code(plan: Any) -> str:
    n = Draw.objects.filter(plan=plan).count() + 1
    code = f"{plan.code}-D{n:02d}"
    while Draw.objects.filter(code=code).exists():
        n += 1
        code = f"{plan.code}-D{n:02d}"
    return code


def _seed_plan(
    method: str, source: str, commitments: Sequence[str], beacon_at: dt.datetime | None, now: dt.datetime
) -> dict[str, Any]:
    """What the freeze announces about the seed: the beacon and when it is published, or the commitments."""
    if method == SeedMethod.COMMIT_REVEAL:
        cs = [c.strip().lower() for c in commitments]
        if len(cs) < 2 or any(len(c) != 64 or any(ch not in "0123456789abcdef" for ch in c) for c in cs):
            raise DrawError(
                _("Commit-then-reveal needs at least two commitments, each a SHA-256 in hex (64 characters).")
            )
        return {"method": "commit_reveal", "commitments": cs}
    if method != SeedMethod.BEACON:
        raise DrawError(f"unknown seed method {method!r}")
    if not source.strip():
        raise DrawError(_("Say which public value, announced after the freeze, will seed the draw."))
    if beacon_at is None or beacon_at <= now:
        raise DrawError(_("Say when the public value will be published: a time after now."))
    return {"method": "beacon", "source": source.strip(), "at": beacon_at.astimezone(dt.UTC).isoformat()}


def scope_of(batch: Batch) -> dict[str, Any]:
    """The batch's scope rules as frozen: what ``candidates_for`` read to make the candidate list."""
    return {
        "plan_region": batch.plan.region_code,
        "plan_year": batch.plan.year,
        "regions": sorted(batch.scope_regions or []),
        "industries": sorted(batch.scope_industries or []),
        "entity_types": sorted(batch.scope_types or []),
        "tags": sorted(batch.scope_tags.values_list("code", flat=True)),
        "exclude_keys": sorted(batch.exclude_keys or []),
        "exclude_reason": batch.exclude_reason,
        "exclude_new_days": batch.exclude_new_days,
        "exclude_drawn_this_year": batch.exclude_drawn_this_year,
        "raise_hazard_entities": batch.raise_hazard_entities,
    }


def _responsibilities(batches: Sequence[Batch]) -> tuple[dict[str, str], list[Resp]]:
    """Item categories and the (item, department, region) responsibility list of the batches' items."""
    items = {i.code: i for b in batches for i in b.items.select_related("category")}
    item_category = {code: i.category.code for code, i in items.items()}
    resp = [
        Resp(item, dept, region)
        for item, dept, region in Responsibility.objects.filter(
            item__code__in=items, department__active=True
        ).values_list("item__code", "department__code", "region_code")
    ]
    covered = {r.item for r in resp}
    for code, item in sorted(items.items()):
        if code not in covered:
            resp += [Resp(code, d.code, d.region_code) for d in item.departments.filter(active=True)]
    return item_category, sorted(set(resp), key=lambda r: (r.item, r.department, r.region))


def _check_staffable(
    cands: Mapping[str, Sequence[Candidate]],
    item_category: Mapping[str, str],
    resp: Sequence[Resp],
    officers: Sequence[Officer],
    exclusions: Sequence[tuple[str, str]],
    prefer_region: bool,
) -> None:
    bad = unstaffable(cands, item_category, resp, officers, exclusions, prefer_region)
    if bad:
        key, reason = next(iter(sorted(bad.items())))
        raise DrawError(
            _(
                "%(n)d candidates could not be staffed if drawn (e.g. %(key)s: %(reason)s). "
                "Add officers or qualifications, or declare fewer conflicts, then freeze."
            )
            % {"n": len(bad), "key": key, "reason": reason}
        )


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


def _entity_ids(keys: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    usccs = []
    for k in keys:
        if k.startswith("ID"):
            out[k] = int(k[2:])
        else:
            usccs.append(k)
    for i in range(0, len(usccs), 900):
        for code, pk in Entity.objects.filter(uscc__in=usccs[i : i + 900]).values_list("uscc", "pk"):
            out[str(code)] = pk
    return out


def _officers(dept_codes: set[str]) -> list[Officer]:
    workload = dict(
        TeamMember.objects.filter(visit__status=VisitStatus.ASSIGNED)
        .values("inspector_id")
        .annotate(n=Count("id"))
        .values_list("inspector_id", "n")
    )
    quals: dict[int, list[str]] = {}
    for iid, code in Inspector.qualifications.through.objects.filter(
        inspector__department__code__in=dept_codes
    ).values_list("inspector_id", "itemcategory__code"):
        quals.setdefault(iid, []).append(code)
    rows = Inspector.objects.filter(active=True, department__code__in=dept_codes, department__active=True)
    return sorted(
        (
            Officer(cert, dept, region, tuple(sorted(quals.get(pk, []))), int(workload.get(pk, 0)))
            for pk, cert, dept, region in rows.values_list("pk", "cert_no", "department__code", "region_code")
        ),
        key=lambda o: o.cert,
    )


def _exclusions(ids: Mapping[str, int]) -> list[tuple[str, str]]:
    """(officer, entity) pairs to avoid: declared conflicts (the entity or its legal representative) and the
    team of the entity's last visit."""
    key_of = {pk: key for key, pk in ids.items()}
    pks = list(key_of)
    out: set[tuple[str, str]] = set()
    by_rep: dict[str, list[str]] = {}
    for i in range(0, len(pks), 900):
        chunk = pks[i : i + 900]
        for pk, rep in Entity.objects.filter(pk__in=chunk).exclude(legal_rep="").values_list("pk", "legal_rep"):
            by_rep.setdefault(rep, []).append(key_of[pk])
        for cert, pk in InspectorConflict.objects.filter(entity_id__in=chunk).values_list(
            "inspector__cert_no", "entity_id"
        ):
            out.add((cert, key_of[pk]))
        last = (
            Visit.objects.filter(entity_id__in=chunk).values("entity_id").annotate(last=Max("pk")).values_list("last")
        )
        for cert, pk in TeamMember.objects.filter(visit_id__in=last).values_list(
            "inspector__cert_no", "visit__entity_id"
        ):
            out.add((cert, key_of[pk]))
    if by_rep:
        for cert, person in InspectorConflict.objects.exclude(person_name="").values_list(
            "inspector__cert_no", "person_name"
        ):
            for key in by_rep.get(person, []):
                out.add((cert, key))
    return sorted(out)


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
            ["draw_id", "entity_id", "entity_key", "window_start", "window_end", "status"],
            [
                (
                    draw.pk,
                    ids[v.key],
                    v.key,
                    dt.date.fromisoformat(v.window[0]),
                    dt.date.fromisoformat(v.window[1]),
                    "assigned",
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
