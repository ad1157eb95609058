"""The freeze of 双随机: fix everything a draw reads, write it, and announce its digest on the transparency log.

Candidates of each batch (scope rules applied), the staffing inputs (officers, qualifications, workloads, conflicts,
last teams, responsibilities), the public and full candidate lists with each candidate's salt, and the manifest
whose digest seeds the draw. ``services.perform`` later reads only what is written here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from shijian.core import audit
from shijian.core.codes.tables import industry_matches
from shijian.core.jurisdiction import coded_q, in_jurisdiction, restrict
from shijian.registry.models import Entity, EntityStatus, Inspector, InspectorConflict, Responsibility
from shijian.supervision import record
from shijian.supervision.draw import (
    CLASSES,
    RANDOM,
    SALT_HEX,
    BatchRule,
    Candidate,
    DrawError,
    Officer,
    full_bytes,
    percent_bp,
    public_bytes,
    quota,
    quotas,
    unstaffable,
    windows_overlap,
)
from shijian.supervision.draw import Responsibility as Resp
from shijian.supervision.models import (
    Batch,
    BatchStatus,
    Draw,
    Plan,
    SeedMethod,
    TeamMember,
    Visit,
    VisitItem,
    VisitStatus,
)
from shijian.translog import services as translog

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
        region_q |= coded_q(r)
    # Never outside the plan's region, whatever the batch names (the plan's region lies in its author's).
    qs = qs.filter(region_q & coded_q(batch.plan.region_code))
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
    if not restrict(Plan.objects.filter(pk=plan.pk), user, "change").exists():
        raise DrawError(_("You may not draw this plan."))
    for b in batches:
        if b.plan_id != plan.pk:
            raise DrawError(_("Batches drawn together must belong to one plan."))
        if not all(in_jurisdiction(user, r) for r in b.scope_regions):
            raise DrawError(_("Batch %(code)s names a region outside your jurisdiction.") % {"code": b.code})
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


def salt_key() -> bytes:
    """The bureau's 32-byte salt key, created on first use under SHIJIAN_HOME (owner-only)."""
    path = Path(settings.HOME) / "translog" / "salt.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(os.urandom(32))
    return path.read_bytes()


def salt_for(draw_code: str, key: str, secret: bytes | None = None) -> str:
    """An entity's salt in a draw: derived from the bureau's salt key, so it can be told to the entity on request
    (its receipt) without being stored; unknown to anyone else, so the public list does not reveal who is on it."""
    mac = hmac.new(secret or salt_key(), f"shijian-salt/1|{draw_code}|{key}".encode(), hashlib.sha256)
    return mac.hexdigest()[:SALT_HEX]


def _write_lists(folder: Path, draw_code: str, batch_code: str, cands: Sequence[Candidate]) -> dict[str, Any]:
    """Write a batch's public list (commitments and classes) and its staff list (codes, regions, items, salts)."""
    secret = salt_key()
    salts = {c.key: salt_for(draw_code, c.key, secret) for c in cands}
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


def check_seed_plan(method: str, source: str, commitments: Sequence[str], beacon_at: dt.datetime | None) -> None:
    """Raise DrawError now if a freeze would refuse this seed plan (no beacon time, bad commitments...)."""
    _seed_plan(method, source, commitments, beacon_at, timezone.now())


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
    """(officer, entity) pairs to avoid for every candidate: declared conflicts (the entity or its legal
    representative) and the team of the entity's last visit. Few conflicts and visits, many candidates: read the
    conflicts and last teams once and keep the candidates' pairs."""
    key_of = {pk: key for key, pk in ids.items()}
    out: set[tuple[str, str]] = set()
    by_person: dict[str, list[str]] = {}
    for cert, pk, person in InspectorConflict.objects.values_list("inspector__cert_no", "entity_id", "person_name"):
        if pk in key_of:
            out.add((cert, key_of[pk]))
        if person:
            by_person.setdefault(person, []).append(cert)
    names = sorted(by_person)
    for i in range(0, len(names), 900):
        for pk, rep in Entity.objects.filter(legal_rep__in=names[i : i + 900]).values_list("pk", "legal_rep"):
            if pk in key_of:
                out.update((cert, key_of[pk]) for cert in by_person[rep])
    last = Visit.objects.values("entity_id").annotate(last=Max("pk")).values_list("last")
    for cert, pk in TeamMember.objects.filter(visit_id__in=last).values_list("inspector__cert_no", "visit__entity_id"):
        if pk in key_of:
            out.add((cert, key_of[pk]))
    return sorted(out)
