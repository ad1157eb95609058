"""The 双随机 draw as a pure function of published inputs (spec: docs/draw-algorithm.md).

No Django here: the same code runs in the web app, in ``shijian draw verify`` and in the tests, and the spec is
precise enough to re-implement in another language. Three stages, each a pure function:

1. ``draw_batch``: which entities a batch draws (hash ranks from the seed, per risk class or purely random);
2. ``build_visits``: one visit per drawn entity across the batches drawn together, with the items that apply and
   every department responsible for them in the entity's region;
3. ``staff``: one team of officers per visit (every department covered, every category qualified, at least two
   officers, no conflicted officer, least workload first, seeded tie-break).

Integers only: ratios are percentages with at most two decimals, held as basis points of a percent.
"""

from __future__ import annotations

import bisect
import hashlib
import heapq
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

import rfc8785

FORMAT = "shijian-draw/2"
CLASSES = ("A", "B", "C", "D")
DEFAULT_RATIOS = {"A": "3", "B": "10", "C": "30", "D": "80"}
STRATIFIED, RANDOM = "stratified", "random"
BLANKS = " \t\r\n"  # the white space trimmed from a public value or a percentage: space, tab, CR, LF only
PERCENT = re.compile(r"[0-9]{1,3}(\.[0-9]{1,2})?")  # how a percentage is written: "3", "12.5", "0.25", "100"
SALT_HEX = 32  # a salt is 128 bits, 32 lower-case hexadecimal digits


class DrawError(ValueError):
    """Inputs that no draw can be made from (a message for the official, not a traceback)."""


def sha256_hex(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def percent_bp(value: str | int | Decimal) -> int:
    """'12.5' (percent) -> 1250 hundredths of a percent: 0 to 100 written as digits with at most two decimals."""
    text = str(value).strip(BLANKS)
    if not PERCENT.fullmatch(text) or Decimal(text) > 100:
        raise DrawError(f"a percentage is 0 to 100 with at most two decimals: {value!r}")
    return int(Decimal(text) * 100)


def round_div(num: int, den: int) -> int:
    """num / den rounded half up, for num >= 0 and den > 0."""
    return (2 * num + den) // (2 * den)


def quota(n: int, bp: int) -> int:
    return round_div(n * bp, 10_000)


# -- candidates ------------------------------------------------------------------------------------------------


class Candidate(NamedTuple):
    key: str  # USCC, or "ID" + internal id for an entity without one
    risk_class: str  # A (low) .. D (high)
    region: str  # 12-digit village code
    items: tuple[str, ...]  # codes of the batch's items that apply to the entity, sorted


def candidates_bytes(cands: Sequence[Candidate]) -> bytes:
    """The published candidate list: one line per candidate, sorted by key, UTF-8, no header."""
    keys = [c.key for c in cands]
    if keys != sorted(keys) or len(set(keys)) != len(keys):
        raise DrawError("candidates must be sorted by key and unique")
    joined: dict[tuple[str, ...], str] = {}
    parts = []
    for k, cls, region, items in cands:
        its = joined.get(items)
        if its is None:
            its = joined[items] = "|".join(items)
        parts.append(f"{k},{cls},{region},{its}\n")
    return "".join(parts).encode()


def parse_candidates(data: bytes) -> list[Candidate]:
    out = []
    item_sets: dict[str, tuple[str, ...]] = {}  # few distinct item lists: share the tuples
    classes = set(CLASSES)
    lines = data.decode().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for n, line in enumerate(lines, start=1):
        parts = line.split(",")
        if len(parts) != 4 or parts[1] not in classes:
            raise DrawError(f"candidate line {n} is not key,class,region,items: {line!r}")
        items = item_sets.get(parts[3])
        if items is None:
            items = item_sets[parts[3]] = tuple(p for p in parts[3].split("|") if p)
        out.append(Candidate(parts[0], parts[1], parts[2], items))
    return out


# -- commitments: the public list names no entity ------------------------------------------------------------


def entity_commitment(key: str, salt: str) -> str:
    """hex(SHA-256(JCS([key, salt]))): what the public list shows instead of the entity's code."""
    return sha256_hex(rfc8785.dumps([key, salt]))


def full_bytes(cands: Sequence[Candidate], salts: Mapping[str, str]) -> bytes:
    """The staff candidate list: ``key,class,region,items,salt`` per line, sorted by key."""
    lines = candidates_bytes(cands).decode().split("\n")[:-1]
    return "".join(f"{line},{salts[c.key]}\n" for line, c in zip(lines, cands, strict=True)).encode()


def parse_full(data: bytes) -> tuple[list[Candidate], dict[str, str]]:
    """A staff candidate list: the candidates and each one's salt."""
    rows = [line.rsplit(",", 1) for line in data.decode().split("\n") if line]
    if any(len(r) != 2 or len(r[1]) != SALT_HEX for r in rows):
        raise DrawError("a full candidate line is key,class,region,items,salt")
    cands = parse_candidates("".join(r[0] + "\n" for r in rows).encode())
    return cands, {c.key: r[1] for c, r in zip(cands, rows, strict=True)}


def public_bytes(cands: Sequence[Candidate], salts: Mapping[str, str]) -> bytes:
    """The public candidate list: ``commitment,class`` per line, sorted by commitment."""
    rows = sorted((entity_commitment(c.key, salts[c.key]), c.risk_class) for c in cands)
    return "".join(f"{c},{cls}\n" for c, cls in rows).encode()


def parse_public(data: bytes) -> list[Candidate]:
    """A public list as candidates whose key is the commitment (what stage 1 ranks); no region, no items."""
    out = []
    for n, line in enumerate(data.decode().split("\n")[:-1] if data else [], start=1):
        parts = line.split(",")
        if len(parts) != 2 or len(parts[0]) != 64 or parts[1] not in CLASSES:
            raise DrawError(f"public candidate line {n} is not commitment,class: {line!r}")
        out.append(Candidate(parts[0], parts[1], "", ()))
    if [c.key for c in out] != sorted({c.key for c in out}):
        raise DrawError("public candidates must be sorted by commitment and unique")
    return out


# -- seed ------------------------------------------------------------------------------------------------------


def frozen_digest(batch_digests: Sequence[tuple[str, str]]) -> str:
    """One digest over every batch's candidate list, in batch-code order: what the seed must come after."""
    return sha256_hex("".join(f"{code}:{digest}\n" for code, digest in sorted(batch_digests)))


def commitment(secret: str) -> str:
    return sha256_hex(secret)


def seed_from_beacon(frozen: str, public_value: str) -> str:
    value = public_value.strip(BLANKS)
    if not value:
        raise DrawError("the public value is empty")
    return sha256_hex(f"shijian-seed/1|{frozen}|beacon|{value}")


def seed_from_reveals(frozen: str, commitments: Sequence[str], secrets: Sequence[str]) -> str:
    if len(secrets) < 2 or len(secrets) != len(commitments):
        raise DrawError("commit-then-reveal needs every committed secret (at least two officials)")
    for n, (c, s) in enumerate(zip(commitments, secrets, strict=True), start=1):
        if commitment(s) != c:
            raise DrawError(f"secret {n} does not match its commitment")
    return sha256_hex(f"shijian-seed/1|{frozen}|reveal|" + "|".join(s.encode().hex() for s in secrets))


# -- stage 1: entities -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchRule:
    code: str
    mode: str  # "stratified" | "random"
    items: tuple[str, ...]
    window: tuple[str, str]  # ISO dates, inclusive
    ratios: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_RATIOS))  # stratified: % per class
    random_share: str = "20"  # stratified: % of the batch drawn as a purely random, equal-probability sample
    ratio: str | None = None  # random mode: % of candidates
    count: int | None = None  # random mode: a fixed number instead

    def validate(self) -> None:
        if self.mode not in (STRATIFIED, RANDOM):
            raise DrawError(f"unknown draw mode {self.mode!r}")
        if self.window[0] > self.window[1]:
            raise DrawError(f"batch {self.code}: the window ends before it starts")
        if self.mode == STRATIFIED:
            for c in CLASSES:
                percent_bp(self.ratios.get(c, "0"))
            percent_bp(self.random_share)
        elif (self.ratio is None) == (self.count is None):
            raise DrawError(f"batch {self.code}: a random draw needs a ratio or a count (one of them)")
        elif self.ratio is not None:
            percent_bp(self.ratio)
        elif self.count is not None and self.count < 0:
            raise DrawError(f"batch {self.code}: the count is negative")


class Drawn(NamedTuple):
    key: str
    risk_class: str
    control: bool  # part of the purely random, equal-probability sample


def rank(seed: str, batch: str, key: str) -> bytes:
    return hashlib.sha256(f"{seed}|{batch}|{key}".encode()).digest()


def _ranked(cands: Sequence[Candidate], seed: str, batch: str) -> list[tuple[bytes, str, int]]:
    """(rank, key, position) per candidate; rank = SHA-256 of "seed|batch|key" (the same as ``rank``)."""
    base = hashlib.sha256(f"{seed}|{batch}|".encode())
    out = []
    for i, c in enumerate(cands):
        h = base.copy()
        h.update(c.key.encode())
        out.append((h.digest(), c.key, i))
    return out


def _first(cands: Sequence[Candidate], n: int, seed: str, batch: str) -> list[Candidate]:
    """The n candidates of lowest rank (ties, impossible in practice, broken by key)."""
    if n <= 0:
        return []
    return [cands[i] for _r, _k, i in heapq.nsmallest(n, _ranked(cands, seed, batch))]


def quotas(rule: BatchRule, cands: Sequence[Candidate]) -> tuple[dict[str, int], int]:
    """Per class the number the ratio asks for (q_s), and the size of the purely random sample (R)."""
    counts = {c: 0 for c in CLASSES}
    for cand in cands:
        counts[cand.risk_class] += 1
    q = {c: quota(counts[c], percent_bp(rule.ratios.get(c, "0"))) for c in CLASSES}
    return q, quota(sum(q.values()), percent_bp(rule.random_share))


def draw_batch(rule: BatchRule, cands: Sequence[Candidate], seed: str) -> list[Drawn]:
    """The entities a batch draws, sorted by key.

    Stratified: the control is the R candidates of lowest rank over all classes (an equal-probability sample);
    class s draws its max(q_s, controls in s) candidates of lowest rank, which include its controls.
    """
    rule.validate()
    if rule.mode == RANDOM:
        n = rule.count if rule.count is not None else quota(len(cands), percent_bp(rule.ratio or "0"))
        return sorted(Drawn(c.key, c.risk_class, True) for c in _first(cands, min(n, len(cands)), seed, rule.code))
    q, random_n = quotas(rule, cands)
    ranked = _ranked(cands, seed, rule.code)
    control = {t[1] for t in heapq.nsmallest(random_n, ranked)} if random_n > 0 else set()
    by_class: dict[str, list[tuple[bytes, str, int]]] = {cls: [] for cls in CLASSES}
    for t in ranked:
        by_class[cands[t[2]].risk_class].append(t)
    out: list[Drawn] = []
    for cls in CLASSES:
        n = max(q[cls], sum(1 for t in by_class[cls] if t[1] in control)) if control else q[cls]
        out.extend(Drawn(t[1], cls, t[1] in control) for t in heapq.nsmallest(n, by_class[cls]) if n > 0)
    return sorted(out)


# -- stage 2: visits -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Responsibility:
    item: str
    department: str
    region: str  # a department answers for an item in the regions under this code


@dataclass(frozen=True)
class Visit:
    key: str
    region: str
    window: tuple[str, str]
    batches: tuple[str, ...]
    items: tuple[str, ...]
    departments: tuple[str, ...]
    categories: tuple[str, ...]
    unmatched: tuple[str, ...] = ()  # items no department answers for in this region


def windows_overlap(windows: Iterable[tuple[str, str]]) -> tuple[str, str] | None:
    ws = list(windows)
    start, end = max(w[0] for w in ws), min(w[1] for w in ws)
    return (start, end) if start <= end else None


def build_visits(
    drawn: Mapping[str, Sequence[Drawn]],
    rules: Mapping[str, BatchRule],
    candidates: Mapping[str, Mapping[str, Candidate]],
    item_category: Mapping[str, str],
    responsibilities: Sequence[Responsibility],
) -> list[Visit]:
    """One visit per drawn entity across the batches drawn together (进一次门、查多项事), sorted by key."""
    if windows_overlap(r.window for r in rules.values()) is None:
        raise DrawError("batches drawn together must share a window")
    by_item: dict[str, list[Responsibility]] = {}
    for r in responsibilities:
        by_item.setdefault(r.item, []).append(r)
    per_entity: dict[str, list[str]] = {}
    for code in sorted(drawn):
        for d in drawn[code]:
            per_entity.setdefault(d.key, []).append(code)
    visits = []
    for key in sorted(per_entity):
        batches = tuple(per_entity[key])
        cand = candidates[batches[0]][key]
        items = sorted({i for b in batches for i in candidates[b][key].items})
        window = windows_overlap(rules[b].window for b in batches)
        assert window is not None
        visits.append(_visit(key, cand.region, window, batches, items, by_item, item_category))
    return visits


def _visit(
    key: str,
    region: str,
    window: tuple[str, str],
    batches: tuple[str, ...],
    items: Sequence[str],
    by_item: Mapping[str, Sequence[Responsibility]],
    item_category: Mapping[str, str],
) -> Visit:
    depts: set[str] = set()
    unmatched = []
    for item in items:
        found = {r.department for r in by_item.get(item, []) if region.startswith(r.region)}
        if not found:
            unmatched.append(item)
        depts |= found
    return Visit(
        key,
        region,
        window,
        batches,
        tuple(items),
        tuple(sorted(depts)),
        tuple(sorted({item_category[i] for i in items})),
        tuple(unmatched),
    )


# -- stage 3: teams --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Officer:
    cert: str
    department: str
    region: str
    qualifications: tuple[str, ...]
    workload: int  # open tasks before this draw


@dataclass
class Staffing:
    teams: dict[str, tuple[str, ...]]  # visit key -> certificate numbers, in the order picked
    infeasible: dict[str, str]  # visit key -> why it cannot be staffed
    workload: dict[str, int]  # certificate number -> workload after this draw

    @property
    def complete(self) -> bool:
        return not self.infeasible


def pick_index(seed: str, visit: str, label: str, n: int) -> int:
    digest = hashlib.sha256(f"{seed}|team|{visit}|{label}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % n


class _Pools:
    """Officers grouped by (department[, category][, region]), each group indexed by workload level.

    Gives the same pick as the spec's plain scan (``_pick_by_scan``) without scanning every officer.
    """

    def __init__(self, officers: Sequence[Officer]) -> None:
        self.workload = {o.cert: o.workload for o in officers}
        self.of: dict[str, Officer] = {o.cert: o for o in officers}
        self.groups: dict[tuple[str, ...], dict[int, list[str]]] = {}
        self.groups_of = {o.cert: self._groups_of(o) for o in officers}
        for o in sorted(officers, key=lambda o: o.cert):
            for g in self.groups_of[o.cert]:
                self.groups.setdefault(g, {}).setdefault(o.workload, []).append(o.cert)

    @staticmethod
    def _groups_of(o: Officer) -> list[tuple[str, ...]]:
        gs = [("d", o.department), ("dr", o.department, o.region)]
        for c in o.qualifications:
            gs += [("dc", o.department, c), ("dcr", o.department, c, o.region)]
        return gs

    def bump(self, cert: str) -> None:
        w = self.workload[cert]
        for g in self.groups_of[cert]:
            levels = self.groups[g]
            levels[w].remove(cert)
            if not levels[w]:
                del levels[w]
            bisect.insort(levels.setdefault(w + 1, []), cert)
        self.workload[cert] = w + 1

    def tied(self, groups: Sequence[tuple[str, ...]], excluded: set[str]) -> list[str]:
        """The eligible officers of the least workload across ``groups``, sorted."""
        levels = [self.groups[g] for g in groups if g in self.groups]
        for w in sorted({w for lv in levels for w in lv}):
            tied = sorted(c for lv in levels for c in lv.get(w, ()) if c not in excluded)
            if tied:
                return tied
        return []


def _prefixes(region: str) -> list[str]:
    return [region[:n] for n in (2, 4, 6, 9, 12) if len(region) >= n]


def staff(
    visits: Sequence[Visit],
    officers: Sequence[Officer],
    exclusions: Iterable[tuple[str, str]],
    seed: str,
    prefer_region: bool = False,
) -> Staffing:
    """One team per visit, in key order; a visit that cannot be staffed gets no team and a reason."""
    pools = _Pools(officers)
    banned: dict[str, set[str]] = {}
    for cert, key in exclusions:
        banned.setdefault(key, set()).add(cert)
    teams: dict[str, tuple[str, ...]] = {}
    infeasible: dict[str, str] = {}
    for v in sorted(visits, key=lambda v: v.key):
        team, reason = _team_for(v, pools, banned.get(v.key, set()), seed, prefer_region)
        if reason:
            infeasible[v.key] = reason
            continue
        teams[v.key] = tuple(team)
        for cert in team:
            pools.bump(cert)
    return Staffing(teams, infeasible, dict(pools.workload))


def unstaffable(
    candidates: Mapping[str, Sequence[Candidate]],
    item_category: Mapping[str, str],
    responsibilities: Sequence[Responsibility],
    officers: Sequence[Officer],
    exclusions: Iterable[tuple[str, str]],
    prefer_region: bool = False,
) -> dict[str, str]:
    """Candidates that some draw could not staff (key -> reason), known at the freeze.

    Whether a visit can be staffed does not depend on workloads or on the seed (they only choose among the officers
    who may go), only on its region, items and exclusions; a candidate of several batches is checked for every
    combination of them that a draw could make. So a frozen list with no such candidate never yields an unstaffed
    visit, and nobody has a reason to draw again.
    """
    pools = _Pools(officers)
    banned: dict[str, set[str]] = {}
    for cert, key in exclusions:
        banned.setdefault(key, set()).add(cert)
    by_item: dict[str, list[Responsibility]] = {}
    for r in responsibilities:
        by_item.setdefault(r.item, []).append(r)
    per_key: dict[str, list[Candidate]] = {}
    for code in sorted(candidates):
        for c in candidates[code]:
            per_key.setdefault(c.key, []).append(c)
    seen: dict[tuple[str, tuple[str, ...], frozenset[str]], str] = {}
    out: dict[str, str] = {}
    for key, cands in sorted(per_key.items()):
        for n in range(1, 2 ** len(cands)):
            items = tuple(sorted({i for j, c in enumerate(cands) if n >> j & 1 for i in c.items}))
            sig = (cands[0].region, items, frozenset(banned.get(key, ())))
            if sig not in seen:
                v = _visit(key, cands[0].region, ("", ""), (), items, by_item, item_category)
                seen[sig] = _team_for(v, pools, set(sig[2]), "", prefer_region)[1]
            if seen[sig]:
                out[key] = seen[sig]
                break
    return out


def _team_for(v: Visit, pools: _Pools, banned: set[str], seed: str, prefer_region: bool) -> tuple[list[str], str]:
    """The team of one visit, or the reason there is none."""
    if v.unmatched:
        return [], "no department answers for item(s) " + ", ".join(v.unmatched) + f" in {v.region}"
    if not v.departments:
        return [], "the visit has no items"
    team: list[str] = []
    excluded = set(banned)

    def pick(kind: str, keys: Sequence[tuple[str, ...]], label: str) -> bool:
        tied: list[str] = []
        if prefer_region:
            tied = pools.tied([(kind + "r", *k, p) for k in keys for p in _prefixes(v.region)], excluded)
        if not tied:
            tied = pools.tied([(kind, *k) for k in keys], excluded)
        if not tied:
            return False
        chosen = tied[pick_index(seed, v.key, label, len(tied))]
        team.append(chosen)
        excluded.add(chosen)
        return True

    for d in v.departments:
        if not pick("d", [(d,)], f"dept:{d}"):
            return [], f"no available officer of department {d}"
    for c in v.categories:
        if any(c in pools.of[t].qualifications for t in team):
            continue
        if not pick("dc", [(d, c) for d in v.departments], f"cat:{c}"):
            return [], f"no available officer qualified for {c} in departments {', '.join(v.departments)}"
    while len(team) < 2:
        if not pick("d", [(d,) for d in v.departments], f"extra:{len(team)}"):
            return [], "fewer than two available officers in departments " + ", ".join(v.departments)
    return team, ""


def _pick_by_scan(
    officers: Sequence[Officer],
    ok: set[str],
    v: Visit,
    excluded: set[str],
    workload: Mapping[str, int],
    seed: str,
    label: str,
    prefer_region: bool,
) -> str | None:
    """The spec's definition of one pick, as a plain scan (the reference the fast path is tested against)."""
    eligible = [o for o in officers if o.cert in ok and o.cert not in excluded]
    if prefer_region:
        local = [o for o in eligible if v.region.startswith(o.region)]
        eligible = local or eligible
    if not eligible:
        return None
    w = min(workload[o.cert] for o in eligible)
    tied = sorted(o.cert for o in eligible if workload[o.cert] == w)
    return tied[pick_index(seed, v.key, label, len(tied))]


def staff_by_scan(
    visits: Sequence[Visit],
    officers: Sequence[Officer],
    exclusions: Iterable[tuple[str, str]],
    seed: str,
    prefer_region: bool = False,
) -> Staffing:
    """The reference implementation of ``staff``, a line of the spec per line of code (slow; for tests)."""
    workload = {o.cert: o.workload for o in officers}
    banned: dict[str, set[str]] = {}
    for cert, key in exclusions:
        banned.setdefault(key, set()).add(cert)
    teams: dict[str, tuple[str, ...]] = {}
    infeasible: dict[str, str] = {}
    for v in sorted(visits, key=lambda v: v.key):
        team = _scan_team(v, officers, banned.get(v.key, set()), workload, seed, prefer_region)
        if team is None:
            infeasible[v.key] = "infeasible"
            continue
        teams[v.key] = tuple(team)
        for cert in team:
            workload[cert] += 1
    return Staffing(teams, infeasible, workload)


def _scan_team(
    v: Visit,
    officers: Sequence[Officer],
    banned: set[str],
    workload: Mapping[str, int],
    seed: str,
    prefer_region: bool,
) -> list[str] | None:
    if v.unmatched or not v.departments:
        return None
    quals = {o.cert: set(o.qualifications) for o in officers}
    dept = {o.cert: o.department for o in officers}
    team: list[str] = []

    def go(ok: set[str], label: str) -> bool:
        c = _pick_by_scan(officers, ok, v, banned | set(team), workload, seed, label, prefer_region)
        if c is not None:
            team.append(c)
        return c is not None

    for d in v.departments:
        if not go({o for o in dept if dept[o] == d}, f"dept:{d}"):
            return None
    for c in v.categories:
        covered = any(c in quals[t] for t in team)
        if not covered and not go({o for o in dept if dept[o] in v.departments and c in quals[o]}, f"cat:{c}"):
            return None
    while len(team) < 2:
        if not go({o for o in dept if dept[o] in v.departments}, f"extra:{len(team)}"):
            return None
    return team
