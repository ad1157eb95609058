"""The published draw record (JSON) and its verification: re-run every stage from the record's inputs.

A record holds the inputs (batch rules, candidate-list digests, seed material, item categories, responsibility
list, officer pool with workloads, exclusion pairs) and the outputs (entities, visits, teams). ``verify`` recomputes
the outputs from the inputs and lists every difference; no difference means VERIFIED. Pure Python, no Django.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from typing import Any

import rfc8785

from shijian.supervision.draw import (
    FORMAT,
    BatchRule,
    Candidate,
    DrawError,
    Drawn,
    Officer,
    Responsibility,
    Staffing,
    Visit,
    build_visits,
    draw_batch,
    entity_commitment,
    parse_full,
    parse_public,
    public_bytes,
    seed_from_beacon,
    seed_from_reveals,
    sha256_hex,
    staff,
)
from shijian.translog import verify as translog


def compute_seed(seed_block: Mapping[str, Any], frozen: str) -> str:
    method = seed_block.get("method")
    if method == "beacon":
        return seed_from_beacon(frozen, str(seed_block.get("public_value", "")))
    if method == "commit_reveal":
        return seed_from_reveals(frozen, list(seed_block.get("commitments", [])), list(seed_block.get("secrets", [])))
    raise DrawError(f"unknown seed method {method!r}")


def rule_from(data: Mapping[str, Any]) -> BatchRule:
    return BatchRule(
        code=data["code"],
        mode=data["mode"],
        items=tuple(data["items"]),
        window=(data["window"][0], data["window"][1]),
        ratios=dict(data.get("ratios") or {}),
        random_share=str(data.get("random_share") or "0"),
        ratio=data.get("ratio"),
        count=data.get("count"),
    )


def rule_to(rule: BatchRule) -> dict[str, Any]:
    return {
        "code": rule.code,
        "mode": rule.mode,
        "items": list(rule.items),
        "window": list(rule.window),
        "ratios": dict(rule.ratios),
        "random_share": rule.random_share,
        "ratio": rule.ratio,
        "count": rule.count,
    }


Known = Mapping[str, Mapping[str, tuple[Candidate, str]]]  # batch -> commitment -> (candidate, salt)


def known_from_full(full: Mapping[str, tuple[Sequence[Candidate], Mapping[str, str]]]) -> dict[str, Any]:
    """Every candidate by its commitment, from the staff lists."""
    return {
        code: {entity_commitment(c.key, salts[c.key]): (c, salts[c.key]) for c in cands}
        for code, (cands, salts) in full.items()
    }


def known_from_reveals(reveals: Mapping[str, Sequence[Sequence[Any]]]) -> dict[str, Any]:
    """The drawn candidates by their commitment, from a record's reveals (what the public can check)."""
    return {
        code: {
            entity_commitment(k, salt): (Candidate(k, "", region, tuple(items)), salt)
            for k, salt, region, items in rows
        }
        for code, rows in reveals.items()
    }


def run(
    rules: Sequence[BatchRule],
    public: Mapping[str, Sequence[Candidate]],
    known: Known,
    seed: str,
    inp: Mapping[str, Any],
) -> tuple[dict[str, list[Drawn]], dict[str, list[list[Any]]], list[Visit], Staffing, list[str]]:
    """All three stages: rank the public commitments, reveal the drawn ones, make the visits, staff them."""
    problems: list[str] = []
    drawn: dict[str, list[Drawn]] = {}
    reveals: dict[str, list[list[Any]]] = {}
    by_key: dict[str, dict[str, Candidate]] = {}
    for r in rules:
        drawn[r.code], reveals[r.code], by_key[r.code] = [], [], {}
        for d in draw_batch(r, public[r.code], seed):
            hit = known.get(r.code, {}).get(d.key)
            if hit is None:
                problems.append(f"batch {r.code}: the drawn commitment {d.key} is not revealed")
                continue
            cand, salt = hit
            drawn[r.code].append(Drawn(cand.key, d.risk_class, d.control))
            reveals[r.code].append([cand.key, salt, cand.region, list(cand.items)])
            by_key[r.code][cand.key] = cand
        drawn[r.code].sort()
        reveals[r.code].sort()
    visits = build_visits(drawn, {r.code: r for r in rules}, by_key, inp["item_category"], inp["responsibilities"])
    staffed = staff(visits, inp["officers"], inp["exclusions"], seed, inp["prefer_region"])
    return drawn, reveals, visits, staffed, problems


def outputs(
    drawn: Mapping[str, Sequence[Drawn]],
    reveals: Mapping[str, Sequence[Sequence[Any]]],
    visits: Sequence[Visit],
    staffing: Staffing,
) -> dict[str, Any]:
    return {
        "entities": {code: [[d.key, d.risk_class, d.control] for d in ds] for code, ds in sorted(drawn.items())},
        "reveals": {code: [list(r) for r in rows] for code, rows in sorted(reveals.items())},
        "visits": [
            {
                "key": v.key,
                "region": v.region,
                "window": list(v.window),
                "batches": list(v.batches),
                "items": list(v.items),
                "departments": list(v.departments),
                "categories": list(v.categories),
                "team": list(staffing.teams.get(v.key, ())),
                **({"unstaffed": staffing.infeasible[v.key]} if v.key in staffing.infeasible else {}),
            }
            for v in visits
        ],
    }


def staffing_block(officers: Sequence[Officer], exclusions: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The staff-only staffing inputs: the officer pool and the exclusion pairs (certificates, conflicts)."""
    return {
        "officers": [asdict(o) | {"qualifications": list(o.qualifications)} for o in officers],
        "exclusions": sorted([c, k] for c, k in exclusions),
    }


def manifest(
    *,
    draw_code: str,
    frozen_at: str,
    rules: Sequence[BatchRule],
    scopes: Mapping[str, Mapping[str, Any]],
    candidate_files: Mapping[str, Mapping[str, Any]],
    seed_plan: Mapping[str, Any],
    item_category: Mapping[str, str],
    responsibilities: Sequence[Responsibility],
    staffing: Mapping[str, Any],
    prefer_region: bool,
) -> dict[str, Any]:
    """Everything the draw reads, fixed at the freeze; its digest is announced on the transparency log."""
    return {
        "draw": draw_code,
        "frozen_at": frozen_at,
        "seed_plan": dict(seed_plan),
        "batches": [
            {
                **rule_to(r),
                "scope": dict(scopes.get(r.code, {})),
                "candidates": dict(candidate_files[r.code]),
            }
            for r in sorted(rules, key=lambda r: r.code)
        ],
        "item_categories": dict(sorted(item_category.items())),
        "responsibilities": sorted([r.item, r.department, r.region] for r in responsibilities),
        "prefer_region": prefer_region,
        "staffing_sha256": sha256_hex(canonical(staffing)),
    }


def manifest_digest(frozen: Mapping[str, Any]) -> str:
    """The frozen digest: SHA-256 of the manifest's RFC 8785 canonical JSON."""
    return sha256_hex(canonical(frozen))


def inputs_of(frozen: Mapping[str, Any], staffing: Mapping[str, Any]) -> dict[str, Any]:
    """The draw's inputs, read back from a manifest and its staffing block."""
    return {
        "rules": [rule_from(b) for b in frozen["batches"]],
        "item_category": dict(frozen["item_categories"]),
        "responsibilities": [Responsibility(*r) for r in frozen["responsibilities"]],
        "officers": [
            Officer(o["cert"], o["department"], o["region"], tuple(o["qualifications"]), int(o["workload"]))
            for o in staffing.get("officers", [])
        ],
        "exclusions": [(c, k) for c, k in staffing.get("exclusions", [])],
        "prefer_region": bool(frozen["prefer_region"]),
    }


def candidate_files(name: str, public: bytes, full: bytes, count: int) -> dict[str, Any]:
    """A batch's two lists as the manifest names them: the public one (commitments) and the staff one (codes)."""
    return {
        "file": f"{name}.candidates.csv",
        "sha256": sha256_hex(public),
        "count": count,
        "full_file": f"{name}.candidates.full.csv",
        "full_sha256": sha256_hex(full),
    }


def build(
    *,
    frozen: Mapping[str, Any],
    staffing: Mapping[str, Any],
    full: Mapping[str, tuple[Sequence[Candidate], Mapping[str, str]]],
    seed_block: Mapping[str, Any],
    drawn_at: str,
) -> tuple[dict[str, Any], Staffing, list[Visit], dict[str, list[Drawn]]]:
    """The full (staff) record of a draw made from a frozen manifest, its staff candidate lists and a seed."""
    digest = manifest_digest(frozen)
    seed = compute_seed(seed_block, digest)
    inp = inputs_of(frozen, staffing)
    public = {code: parse_public(public_bytes(cands, salts)) for code, (cands, salts) in full.items()}
    drawn, reveals, visits, staffed, _problems = run(inp["rules"], public, known_from_full(full), seed, inp)
    record = {
        "format": FORMAT,
        "draw": frozen["draw"],
        "frozen": dict(frozen),
        "frozen_digest": digest,
        "staffing": dict(staffing),
        "seed": {**seed_block, "seed": seed},
        "drawn_at": drawn_at,
        "outputs": outputs(drawn, reveals, visits, staffed),
    }
    return record, staffed, visits, drawn


def public_copy(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record as published: without the staffing block (certificate numbers, conflict pairs) and teams."""
    out = {k: v for k, v in record.items() if k != "staffing"}
    out["outputs"] = {
        **record["outputs"],
        "visits": [{k: v for k, v in visit.items() if k != "team"} for visit in record["outputs"]["visits"]],
    }
    return out


def canonical(value: Any) -> bytes:
    """RFC 8785 (JSON Canonicalization Scheme): the exact bytes of a record, a manifest or a log leaf."""
    return rfc8785.dumps(value)


def dumps(record: Mapping[str, Any]) -> bytes:
    return canonical(dict(record))


def verify(
    record: Mapping[str, Any], read_file: Callable[[str], bytes], log: Mapping[str, Any] | None = None
) -> list[str]:
    """Every difference between the record and a re-run from its frozen inputs, and every way its freeze was not
    announced on the transparency log before the seed existed (empty: VERIFIED)."""
    if record.get("format") != FORMAT:
        return [f"unknown record format {record.get('format')!r} (expected {FORMAT})"]
    problems = rerun(record, read_file)
    return problems + check_log(record, manifest_digest(record["frozen"]), log)


def rerun(record: Mapping[str, Any], read_file: Callable[[str], bytes]) -> list[str]:
    """Every difference between the record and a re-run of the algorithm from its frozen inputs (the log aside:
    what the conformance vectors test). A public copy (no staffing block) is re-run up to the visits; the full
    record also re-runs the teams."""
    frozen = record["frozen"]
    staffing = record.get("staffing")
    problems, public, full = _check_candidates(frozen, read_file, staff=staffing is not None)
    digest = manifest_digest(frozen)
    if digest != record["frozen_digest"]:
        problems.append(f"frozen digest is {digest}, the record says {record['frozen_digest']}")
    if staffing is not None and sha256_hex(canonical(staffing)) != frozen["staffing_sha256"]:
        problems.append("the staffing inputs are not the ones frozen (their SHA-256 differs from staffing_sha256)")
    problems += _check_seed(record, digest)
    seed = compute_seed(record["seed"], digest)
    known = known_from_full(full) if full is not None else known_from_reveals(record["outputs"].get("reveals", {}))
    inp = inputs_of(frozen, staffing or {})
    drawn, reveals, visits, staffed, unrevealed = run(inp["rules"], public, known, seed, inp)
    problems += unrevealed
    got = outputs(drawn, reveals, visits, staffed)
    want = record["outputs"]
    if staffing is None:
        got["visits"] = [_unteamed(v) for v in got["visits"]]
        want = {**want, "visits": [_unteamed(v) for v in want["visits"]]}
    return problems + _compare(want, got)


def _unteamed(visit: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in visit.items() if k not in ("team", "unstaffed")}


def _check_candidates(
    frozen: Mapping[str, Any], read_file: Callable[[str], bytes], staff: bool
) -> tuple[list[str], dict[str, list[Candidate]], dict[str, tuple[list[Candidate], dict[str, str]]] | None]:
    """The public lists (and, for staff, the full lists), checked against the manifest's digests."""
    problems: list[str] = []
    public: dict[str, list[Candidate]] = {}
    full: dict[str, tuple[list[Candidate], dict[str, str]]] = {}
    for b in frozen["batches"]:
        code, declared = b["code"], b["candidates"]
        data = read_file(declared["file"])
        if sha256_hex(data) != declared["sha256"]:
            problems.append(
                f"batch {code}: candidate file SHA-256 is {sha256_hex(data)}, the record says {declared['sha256']}"
            )
        public[code] = parse_public(data)
        if len(public[code]) != declared["count"]:
            problems.append(f"batch {code}: {len(public[code])} candidates, the record says {declared['count']}")
        if staff:
            raw = read_file(declared["full_file"])
            if sha256_hex(raw) != declared["full_sha256"]:
                problems.append(f"batch {code}: the full candidate list's SHA-256 is not the one frozen")
            full[code] = parse_full(raw)
            if public_bytes(*full[code]) != data:
                problems.append(f"batch {code}: the public list is not the full list's commitments and classes")
    return problems, public, full if staff else None


def _check_seed(record: Mapping[str, Any], digest: str) -> list[str]:
    problems = []
    block, plan = record["seed"], record["frozen"]["seed_plan"]
    if block.get("method") != plan.get("method"):
        problems.append(f"the seed method is {block.get('method')!r}, the freeze announced {plan.get('method')!r}")
    elif plan["method"] == "beacon" and block.get("source") != plan.get("source"):
        problems.append("the seed's public source is not the one announced at the freeze")
    elif plan["method"] == "commit_reveal" and list(block.get("commitments", [])) != list(plan["commitments"]):
        problems.append("the commitments are not the ones announced at the freeze")
    seed = compute_seed(block, digest)
    if seed != block.get("seed"):
        problems.append(f"seed is {seed}, the record says {block.get('seed')}")
    return problems


def _compare(want: Mapping[str, Any], got: Mapping[str, Any]) -> list[str]:
    problems = []
    for code in sorted(set(want["entities"]) | set(got["entities"])):
        w = {tuple(x) for x in want["entities"].get(code, [])}
        g = {tuple(x) for x in got["entities"].get(code, [])}
        for x in sorted(w - g):
            problems.append(f"batch {code}: the record draws {x[0]} but the re-run does not")
        for x in sorted(g - w):
            problems.append(f"batch {code}: the re-run draws {x[0]} but the record does not")
    for code in sorted(set(want.get("reveals", {})) | set(got.get("reveals", {}))):
        w = {tuple(map(str, r)) for r in want.get("reveals", {}).get(code, [])}
        g = {tuple(map(str, r)) for r in got.get("reveals", {}).get(code, [])}
        for x in sorted(w ^ g):
            problems.append(f"batch {code}: the reveal of {x[0]} differs between the record and the re-run")
    wv = {v["key"]: v for v in want["visits"]}
    gv = {v["key"]: v for v in got["visits"]}
    for key in sorted(set(wv) | set(gv)):
        a, b = wv.get(key), gv.get(key)
        if a is None or b is None:
            problems.append(f"visit {key}: only in the {'re-run' if a is None else 'record'}")
            continue
        for field_name in sorted(set(a) | set(b)):
            if a.get(field_name) != b.get(field_name):
                problems.append(
                    f"visit {key}: {field_name} is {b.get(field_name)!r} on re-run, {a.get(field_name)!r} in the record"
                )
    return problems


def freeze_leaf(frozen: Mapping[str, Any], digest: str) -> dict[str, Any]:
    """What the freeze announces on the transparency log (the log adds ``type`` and ``at``)."""
    plan = frozen["seed_plan"]
    return {
        "draw": frozen["draw"],
        "frozen_digest": digest,
        "batches": [b["code"] for b in frozen["batches"]],
        "seed_method": plan["method"],
        "beacon_at": plan.get("at") if plan["method"] == "beacon" else None,
    }


def check_log(record: Mapping[str, Any], digest: str, log: Mapping[str, Any] | None) -> list[str]:
    """The freeze is on the log, before the announced beacon time; no other freeze names its batches."""
    block = record.get("log")
    if not block:
        return ["the record carries no transparency-log inclusion proof"]
    problems = translog.verify_inclusion(str(block.get("public_key", "")), block)
    leaf = block["leaf"]
    want = {**freeze_leaf(record["frozen"], digest), "type": "freeze"}
    for name, value in sorted(want.items()):
        if leaf.get(name) != value:
            problems.append(f"the logged freeze says {name} = {leaf.get(name)!r}, the record's inputs give {value!r}")
    logged_at = translog.parse_time(str(leaf.get("at", "")))
    if want["beacon_at"] is not None:
        beacon_at = translog.parse_time(str(want["beacon_at"]))
        if not logged_at < beacon_at:
            problems.append(f"the freeze was logged at {leaf.get('at')}, not before the beacon {want['beacon_at']}")
        if translog.parse_time(str(record.get("drawn_at", ""))) < beacon_at:
            problems.append(f"drawn at {record.get('drawn_at')}, before the beacon time {want['beacon_at']}")
    if log is not None:
        problems += _check_against_log(record, block, log)
    return problems


def _check_against_log(record: Mapping[str, Any], block: Mapping[str, Any], log: Mapping[str, Any]) -> list[str]:
    problems = []
    if log.get("public_key") != block.get("public_key"):
        problems.append("the record's log key is not the published log key")
    problems += [f"log: {p}" for p in translog.verify_log(log, known=[block["tree_head"]])]
    entries = log.get("entries", [])
    index = int(block["index"])
    if index >= len(entries) or entries[index]["leaf"] != block["leaf"]:
        problems.append(f"log entry {index} is not the record's freeze")
    batches = {b["code"] for b in record["frozen"]["batches"]}
    for e in entries:
        leaf = e["leaf"]
        if e["index"] == index or leaf.get("type") != "freeze":
            continue
        if leaf.get("draw") == record["draw"] or batches & set(leaf.get("batches", [])):
            problems.append(
                f"log entry {e['index']} ({leaf.get('at')}) announces another freeze of draw {leaf.get('draw')} "
                f"for batches {', '.join(sorted(batches & set(leaf.get('batches', []))))}: a redraw"
            )
    return problems
