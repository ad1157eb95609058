"""The published draw record (JSON) and its verification: re-run every stage from the record's inputs.

A record holds the inputs (batch rules, candidate-list digests, seed material, item categories, responsibility
list, officer pool with workloads, exclusion pairs) and the outputs (entities, visits, teams). ``verify`` recomputes
the outputs from the inputs and lists every difference; no difference means VERIFIED. Pure Python, no Django.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from typing import Any

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
    frozen_digest,
    parse_candidates,
    seed_from_beacon,
    seed_from_reveals,
    sha256_hex,
    staff,
)


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
        random_share=str(data.get("random_share", "0")),
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


def build(
    *,
    draw_code: str,
    frozen_at: str,
    drawn_at: str,
    rules: Sequence[BatchRule],
    candidate_files: Mapping[str, str],
    candidates: Mapping[str, Sequence[Candidate]],
    candidate_digests: Mapping[str, str],
    seed_block: Mapping[str, Any],
    item_category: Mapping[str, str],
    responsibilities: Sequence[Responsibility],
    officers: Sequence[Officer],
    exclusions: Sequence[tuple[str, str]],
    prefer_region: bool,
    drawn: Mapping[str, list[Drawn]] | None = None,
) -> tuple[dict[str, Any], Staffing, list[Visit], dict[str, list[Drawn]]]:
    frozen = frozen_digest([(r.code, candidate_digests[r.code]) for r in rules])
    seed = compute_seed(seed_block, frozen)
    drawn, visits, staffing = run(
        rules, candidates, seed, item_category, responsibilities, officers, exclusions, prefer_region, drawn
    )
    record = {
        "format": FORMAT,
        "draw": draw_code,
        "frozen_at": frozen_at,
        "drawn_at": drawn_at,
        "inputs": {
            "batches": [
                {
                    **rule_to(r),
                    "candidates": {
                        "file": candidate_files[r.code],
                        "sha256": candidate_digests[r.code],
                        "count": len(candidates[r.code]),
                    },
                }
                for r in rules
            ],
            "frozen_digest": frozen,
            "seed": {**seed_block, "seed": seed},
            "item_categories": dict(sorted(item_category.items())),
            "responsibilities": sorted([r.item, r.department, r.region] for r in responsibilities),
            "officers": [asdict(o) | {"qualifications": list(o.qualifications)} for o in officers],
            "exclusions": sorted([c, k] for c, k in exclusions),
            "prefer_region": prefer_region,
        },
        "outputs": outputs(drawn, visits, staffing),
    }
    return record, staffing, visits, drawn


def dumps(record: Mapping[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def verify(record: Mapping[str, Any], read_file: Callable[[str], bytes]) -> list[str]:
    """Every difference between the record's outputs and a re-run from its inputs (empty: VERIFIED)."""
    problems: list[str] = []
    if record.get("format") != FORMAT:
        return [f"unknown record format {record.get('format')!r} (expected {FORMAT})"]
    inp = record["inputs"]
    rules, candidates, digests = [], {}, []
    for b in inp["batches"]:
        rule = rule_from(b)
        rules.append(rule)
        data = read_file(b["candidates"]["file"])
        digest = sha256_hex(data)
        if digest != b["candidates"]["sha256"]:
            problems.append(
                f"batch {rule.code}: candidate file SHA-256 is {digest}, the record says {b['candidates']['sha256']}"
            )
        candidates[rule.code] = parse_candidates(data)
        if len(candidates[rule.code]) != b["candidates"]["count"]:
            problems.append(
                f"batch {rule.code}: {len(candidates[rule.code])} candidates, "
                f"the record says {b['candidates']['count']}"
            )
        digests.append((rule.code, b["candidates"]["sha256"]))
    frozen = frozen_digest(digests)
    if frozen != inp["frozen_digest"]:
        problems.append(f"frozen digest is {frozen}, the record says {inp['frozen_digest']}")
    seed = compute_seed(inp["seed"], inp["frozen_digest"])
    if seed != inp["seed"].get("seed"):
        problems.append(f"seed is {seed}, the record says {inp['seed'].get('seed')}")
    officers = [
        Officer(o["cert"], o["department"], o["region"], tuple(o["qualifications"]), int(o["workload"]))
        for o in inp["officers"]
    ]
    drawn, visits, staffing = run(
        rules,
        candidates,
        seed,
        inp["item_categories"],
        [Responsibility(*r) for r in inp["responsibilities"]],
        officers,
        [(c, k) for c, k in inp["exclusions"]],
        bool(inp["prefer_region"]),
    )
    want, got = record["outputs"], outputs(drawn, visits, staffing)
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
