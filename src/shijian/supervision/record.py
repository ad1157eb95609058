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
    parse_candidates,
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


def run(
    rules: Sequence[BatchRule],
    candidates: Mapping[str, Sequence[Candidate]],
    seed: str,
    item_category: Mapping[str, str],
    responsibilities: Sequence[Responsibility],
    officers: Sequence[Officer],
    exclusions: Sequence[tuple[str, str]],
    prefer_region: bool,
    drawn: Mapping[str, list[Drawn]] | None = None,
) -> tuple[dict[str, list[Drawn]], list[Visit], Staffing]:
    """All three stages (stage 1 may be passed in when the caller already ran it)."""
    if drawn is None:
        drawn = {r.code: draw_batch(r, candidates[r.code], seed) for r in rules}
    drawn = dict(drawn)
    wanted = {code: {d.key for d in ds} for code, ds in drawn.items()}
    by_key = {code: {c.key: c for c in cands if c.key in wanted[code]} for code, cands in candidates.items()}
    visits = build_visits(drawn, {r.code: r for r in rules}, by_key, item_category, responsibilities)
    return drawn, visits, staff(visits, officers, exclusions, seed, prefer_region)


def outputs(drawn: Mapping[str, Sequence[Drawn]], visits: Sequence[Visit], staffing: Staffing) -> dict[str, Any]:
    return {
        "entities": {code: [[d.key, d.risk_class, d.control] for d in ds] for code, ds in sorted(drawn.items())},
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
    candidate_files: Mapping[str, str],
    candidate_digests: Mapping[str, str],
    candidate_counts: Mapping[str, int],
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
                "candidates": {
                    "file": candidate_files[r.code],
                    "sha256": candidate_digests[r.code],
                    "count": candidate_counts[r.code],
                },
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


def build(
    *,
    frozen: Mapping[str, Any],
    staffing: Mapping[str, Any],
    candidates: Mapping[str, Sequence[Candidate]],
    seed_block: Mapping[str, Any],
    drawn_at: str,
    drawn: Mapping[str, list[Drawn]] | None = None,
) -> tuple[dict[str, Any], Staffing, list[Visit], dict[str, list[Drawn]]]:
    """The full (staff) record of a draw made from a frozen manifest and a seed."""
    digest = manifest_digest(frozen)
    seed = compute_seed(seed_block, digest)
    inp = inputs_of(frozen, staffing)
    drawn, visits, staffing_out = run(
        inp["rules"],
        candidates,
        seed,
        inp["item_category"],
        inp["responsibilities"],
        inp["officers"],
        inp["exclusions"],
        inp["prefer_region"],
        drawn,
    )
    record = {
        "format": FORMAT,
        "draw": frozen["draw"],
        "frozen": dict(frozen),
        "frozen_digest": digest,
        "staffing": dict(staffing),
        "seed": {**seed_block, "seed": seed},
        "drawn_at": drawn_at,
        "outputs": outputs(drawn, visits, staffing_out),
    }
    return record, staffing_out, visits, drawn


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
    announced on the transparency log before the seed existed (empty: VERIFIED).

    A public copy (no staffing block) is re-run up to the visits; the full record also re-runs the teams.
    """
    if record.get("format") != FORMAT:
        return [f"unknown record format {record.get('format')!r} (expected {FORMAT})"]
    frozen = record["frozen"]
    problems, candidates = _check_candidates(frozen, read_file)
    digest = manifest_digest(frozen)
    if digest != record["frozen_digest"]:
        problems.append(f"frozen digest is {digest}, the record says {record['frozen_digest']}")
    staffing = record.get("staffing")
    if staffing is not None and sha256_hex(canonical(staffing)) != frozen["staffing_sha256"]:
        problems.append("the staffing inputs are not the ones frozen (their SHA-256 differs from staffing_sha256)")
    problems += _check_seed(record, digest)
    seed = compute_seed(record["seed"], digest)
    inp = inputs_of(frozen, staffing or {})
    drawn, visits, staffed = run(
        inp["rules"],
        candidates,
        seed,
        inp["item_category"],
        inp["responsibilities"],
        inp["officers"],
        inp["exclusions"],
        inp["prefer_region"],
    )
    got = outputs(drawn, visits, staffed)
    if staffing is None:
        got = public_copy({"outputs": got})["outputs"]
        got["visits"] = [{k: v for k, v in g.items() if k != "unstaffed"} for g in got["visits"]]
        want = {**record["outputs"], "visits": [_unteamed(v) for v in record["outputs"]["visits"]]}
    else:
        want = record["outputs"]
    problems += _compare(want, got)
    problems += check_log(record, digest, log)
    return problems


def _unteamed(visit: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in visit.items() if k not in ("team", "unstaffed")}


def _check_candidates(
    frozen: Mapping[str, Any], read_file: Callable[[str], bytes]
) -> tuple[list[str], dict[str, list[Candidate]]]:
    problems: list[str] = []
    candidates: dict[str, list[Candidate]] = {}
    for b in frozen["batches"]:
        code, declared = b["code"], b["candidates"]
        data = read_file(declared["file"])
        digest = sha256_hex(data)
        if digest != declared["sha256"]:
            problems.append(f"batch {code}: candidate file SHA-256 is {digest}, the record says {declared['sha256']}")
        candidates[code] = parse_candidates(data)
        if len(candidates[code]) != declared["count"]:
            problems.append(f"batch {code}: {len(candidates[code])} candidates, the record says {declared['count']}")
    return problems, candidates


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
