"""Properties of the 双随机 draw (pure functions; no database)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chisquare

from shijian.supervision import record as rec
from shijian.supervision.draw import (
    CLASSES,
    BatchRule,
    Candidate,
    DrawError,
    Officer,
    Responsibility,
    Visit,
    build_visits,
    candidates_bytes,
    commitment,
    draw_batch,
    entity_commitment,
    full_bytes,
    parse_candidates,
    parse_full,
    parse_public,
    percent_bp,
    public_bytes,
    quota,
    quotas,
    seed_from_beacon,
    seed_from_reveals,
    staff,
    staff_by_scan,
)

TOWNS = ["440608004", "440608106", "440608107"]


def seed_of(n: int) -> str:
    return hashlib.sha256(str(n).encode()).hexdigest()


def make_candidates(classes: list[str], items: tuple[str, ...] = ("FOOD-01",)) -> list[Candidate]:
    return [Candidate(f"K{i:05d}", cls, TOWNS[i % len(TOWNS)] + f"{i % 5:03d}", items) for i, cls in enumerate(classes)]


classes_st = st.lists(st.sampled_from(CLASSES), min_size=0, max_size=300)
ratio_st = st.integers(min_value=0, max_value=10_000).map(lambda bp: f"{bp // 100}.{bp % 100:02d}")
seed_st = st.integers(min_value=0, max_value=10**9).map(seed_of)


def rule(ratios: dict[str, str] | None = None, share: str = "20", code: str = "B1") -> BatchRule:
    return BatchRule(code, "stratified", ("FOOD-01",), ("2026-03-01", "2026-05-31"), ratios or {}, share)


@settings(max_examples=60, deadline=None)
@given(classes_st, st.fixed_dictionaries({c: ratio_st for c in CLASSES}), ratio_st, seed_st)
def test_it_is_a_pure_function_meeting_class_ratios(
    classes: list[str], ratios: dict[str, str], share: str, seed: str
) -> None:
    cands = make_candidates(classes)
    r = rule(ratios, share)
    first, again = draw_batch(r, cands, seed), draw_batch(r, list(reversed(cands)), seed)
    assert first == again
    q, random_n = quotas(r, cands)
    assert sum(d.control for d in first) == random_n
    for cls in CLASSES:
        n_s = sum(1 for c in classes if c == cls)
        drawn = [d for d in first if d.risk_class == cls]
        assert q[cls] == quota(n_s, percent_bp(ratios[cls]))
        # exactly the class ratio (rounded half up), unless the purely random sample alone put more in this class
        assert len(drawn) == max(q[cls], sum(d.control for d in drawn)) <= n_s


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(CLASSES), min_size=20, max_size=200), seed_st, seed_st)
def test_it_changes_with_the_seed_or_the_candidates(classes: list[str], seed_a: str, seed_b: str) -> None:
    cands = make_candidates(classes)
    r = rule({"A": "30", "B": "30", "C": "30", "D": "30"})
    if seed_a != seed_b:
        assert draw_batch(r, cands, seed_a) != draw_batch(r, cands, seed_b)
    drawn = {d.key for d in draw_batch(r, cands, seed_a)}
    # drop one drawn candidate: the draw changes (the list's digest, published before the seed, changes too)
    victim = sorted(drawn)[0]
    fewer = [c for c in cands if c.key != victim]
    assert {d.key for d in draw_batch(r, fewer, seed_a)} != drawn
    assert candidates_bytes(fewer) != candidates_bytes(cands)


def test_it_draws_each_entity_with_its_stratum_probability() -> None:
    """Over many seeds each entity's frequency matches its class's inclusion probability (chi-square)."""
    classes = ["A"] * 40 + ["B"] * 40 + ["C"] * 30 + ["D"] * 10
    cands = make_candidates(classes)
    r = rule({"A": "10", "B": "25", "C": "50", "D": "80"}, share="20")
    runs = 600
    freq = {c.key: 0 for c in cands}
    controls = {c.key: 0 for c in cands}
    for n in range(runs):
        for d in draw_batch(r, cands, seed_of(n)):
            freq[d.key] += 1
            controls[d.key] += d.control
    q, _random_n = quotas(r, cands)
    for cls in CLASSES:
        keys = [c.key for c in cands if c.risk_class == cls]
        observed = [freq[k] for k in keys]
        # the quota, or a little more when the random sample overfills the class (never here for B, C, D)
        assert sum(observed) >= runs * q[cls]
        if cls != "A":
            assert sum(observed) == runs * q[cls]
        expected = sum(observed) / len(keys)
        assert chisquare(observed, [expected] * len(keys)).pvalue > 0.001
    # the purely random share is an equal-probability sample across classes
    obs = [controls[c.key] for c in cands]
    assert chisquare(obs, [sum(obs) / len(obs)] * len(obs)).pvalue > 0.001


def test_random_mode_takes_a_count_or_a_ratio() -> None:
    cands = make_candidates(["B"] * 50)
    by_count = BatchRule("R", "random", ("FOOD-01",), ("2026-01-01", "2026-01-31"), count=7)
    by_ratio = BatchRule("R", "random", ("FOOD-01",), ("2026-01-01", "2026-01-31"), ratio="10")
    assert len(draw_batch(by_count, cands, seed_of(1))) == 7
    assert len(draw_batch(by_ratio, cands, seed_of(1))) == 5
    assert all(d.control for d in draw_batch(by_ratio, cands, seed_of(1)))
    with pytest.raises(DrawError, match="ratio or a count"):
        draw_batch(BatchRule("R", "random", (), ("2026-01-01", "2026-01-31")), cands, seed_of(1))
    with pytest.raises(DrawError, match="at most two decimals"):
        percent_bp("3.333")


def test_the_seed_needs_every_revealed_secret() -> None:
    frozen = "ab" * 32
    c = [commitment("alpha"), commitment("beta")]
    seed = seed_from_reveals(frozen, c, ["alpha", "beta"])
    assert seed != seed_from_reveals(frozen, c[::-1], ["beta", "alpha"])
    assert seed != seed_from_beacon(frozen, "alpha")
    with pytest.raises(DrawError, match="secret 2 does not match"):
        seed_from_reveals(frozen, c, ["alpha", "gamma"])
    with pytest.raises(DrawError, match="at least two"):
        seed_from_reveals(frozen, c[:1], ["alpha"])


def test_candidate_lists_round_trip() -> None:
    cands = make_candidates(["A", "D", "C"], items=("FOOD-01", "REG-01"))
    assert parse_candidates(candidates_bytes(cands)) == cands
    with pytest.raises(DrawError, match="sorted"):
        candidates_bytes(cands[::-1])


# -- teams -----------------------------------------------------------------------------------------------------

DEPTS = ["D1", "D2", "D3"]
CATS = ["FOOD", "REG", "SPEQ"]

officer_st = st.builds(
    Officer,
    cert=st.just(""),
    department=st.sampled_from(DEPTS),
    region=st.sampled_from(["440608", *TOWNS]),
    qualifications=st.lists(st.sampled_from(CATS), unique=True, max_size=2).map(lambda q: tuple(sorted(q))),
    workload=st.integers(0, 3),
)


def visits_for(n: int, rng_seed: int) -> list[Visit]:
    import random

    rnd = random.Random(rng_seed)
    out = []
    for i in range(n):
        depts = tuple(sorted(rnd.sample(DEPTS, rnd.randint(1, 2))))
        cats = tuple(sorted(rnd.sample(CATS, rnd.randint(1, 2))))
        out.append(Visit(f"K{i:04d}", TOWNS[i % 3] + "001", ("2026-03-01", "2026-03-31"), ("B1",), ("X",), depts, cats))
    return out


@settings(max_examples=60, deadline=None)
@given(
    st.lists(officer_st, min_size=0, max_size=25),
    st.integers(1, 40),
    st.integers(0, 1000),
    seed_st,
    st.booleans(),
    st.lists(st.tuples(st.integers(0, 24), st.integers(0, 39)), max_size=30),
)
def test_teams_cover_departments_and_avoid_conflicts(
    officers: list[Officer], n_visits: int, rng_seed: int, seed: str, prefer: bool, conflicts: list[tuple[int, int]]
) -> None:
    officers = [
        Officer(f"C{i:03d}", o.department, o.region, o.qualifications, o.workload) for i, o in enumerate(officers)
    ]
    visits = visits_for(n_visits, rng_seed)
    exclusions = [(f"C{a:03d}", f"K{b:04d}") for a, b in conflicts if a < len(officers)]
    result = staff(visits, officers, exclusions, seed, prefer)
    # the fast path gives exactly the spec's plain-scan result
    reference = staff_by_scan(visits, officers, exclusions, seed, prefer)
    assert result.teams == reference.teams
    assert set(result.infeasible) == set(reference.infeasible)
    assert result.workload == reference.workload
    by_cert = {o.cert: o for o in officers}
    banned = set(exclusions)
    for v in visits:
        team = result.teams.get(v.key)
        if team is None:
            assert v.key in result.infeasible
            continue
        assert len(team) >= 2 and len(set(team)) == len(team)
        assert {by_cert[c].department for c in team} >= set(v.departments)
        assert {by_cert[c].department for c in team} <= set(v.departments)
        for cat in v.categories:
            assert any(cat in by_cert[c].qualifications for c in team)
        assert not any((c, v.key) in banned for c in team)
    # workload only grows by the teams actually assigned (nothing half-assigned)
    assigned = sum(len(t) for t in result.teams.values())
    assert sum(result.workload.values()) - sum(o.workload for o in officers) == assigned


def test_workload_is_balanced() -> None:
    officers = [Officer(f"C{i:03d}", "D1", "440608", ("FOOD",), 0) for i in range(10)]
    visits = visits_for(0, 0)
    from shijian.supervision.draw import Visit

    visits = [Visit(f"K{i:04d}", "440608004001", ("a", "b"), ("B",), ("X",), ("D1",), ("FOOD",)) for i in range(55)]
    result = staff(visits, officers, [], seed_of(3))
    assert result.complete
    loads = [result.workload[o.cert] for o in officers]
    assert max(loads) - min(loads) <= 1 and sum(loads) == 110


def test_infeasible_visits_are_reported_and_left_unstaffed() -> None:
    from shijian.supervision.draw import Visit

    officers = [Officer("C1", "D1", "440608", ("FOOD",), 0), Officer("C2", "D1", "440608", (), 0)]
    visits = [
        Visit("K1", "440608004001", ("a", "b"), ("B",), ("X",), ("D1", "D2"), ("FOOD",)),
        Visit("K2", "440608004001", ("a", "b"), ("B",), ("X",), ("D1",), ("FOOD",)),
        Visit("K3", "440608004001", ("a", "b"), ("B",), ("X",), ("D1",), ("FOOD",)),
        Visit("K4", "440608004001", ("a", "b"), ("B",), ("Y",), (), (), unmatched=("Y",)),
    ]
    result = staff(visits, officers, [("C1", "K3")], seed_of(1))
    assert result.infeasible["K1"] == "no available officer of department D2"
    assert set(result.teams["K2"]) == {"C1", "C2"}
    assert "qualified for FOOD" in result.infeasible["K3"]
    assert "no department answers for item(s) Y" in result.infeasible["K4"]
    assert result.workload == {"C1": 1, "C2": 1}


def test_visits_merge_batches_and_match_every_responsible_department() -> None:
    cands = {
        "B1": {c.key: c for c in make_candidates(["B"] * 3, items=("FOOD-01",))},
        "B2": {c.key: c for c in make_candidates(["B"] * 3, items=("REG-01",))},
    }
    rules = {
        "B1": BatchRule("B1", "random", ("FOOD-01",), ("2026-03-01", "2026-05-31"), count=2),
        "B2": BatchRule("B2", "random", ("REG-01",), ("2026-04-01", "2026-06-30"), count=2),
    }
    drawn = {code: draw_batch(rules[code], list(cands[code].values()), seed_of(5)) for code in rules}
    resp = [
        Responsibility("FOOD-01", "SAMR", "440608"),
        Responsibility("FOOD-01", "SAMRS-004", "440608004"),
        Responsibility("REG-01", "SAMR", "440608"),
    ]
    visits = build_visits(drawn, rules, cands, {"FOOD-01": "FOOD", "REG-01": "REG"}, resp)
    keys = {d.key for ds in drawn.values() for d in ds}
    assert [v.key for v in visits] == sorted(keys)
    for v in visits:
        assert v.window[0] >= "2026-03-01" and v.window[1] <= "2026-06-30"
        if len(v.batches) == 2:
            assert v.items == ("FOOD-01", "REG-01") and v.window == ("2026-04-01", "2026-05-31")
        if "FOOD-01" in v.items and v.region.startswith("440608004"):
            assert v.departments == ("SAMR", "SAMRS-004")
    rules["B2"] = BatchRule("B2", "random", ("REG-01",), ("2026-07-01", "2026-07-31"), count=2)
    with pytest.raises(DrawError, match="share a window"):
        build_visits(drawn, rules, cands, {"FOOD-01": "FOOD", "REG-01": "REG"}, resp)


def small_record(**kw: object) -> tuple[dict[str, Any], dict[str, bytes]]:
    """A full record of a small draw (no log block), and its candidate file."""
    cands = make_candidates(["A", "B", "C", "D"] * 30)
    salts = {c.key: f"{i:032x}" for i, c in enumerate(cands)}
    public, full = public_bytes(cands, salts), full_bytes(cands, salts)
    files = {"B1.candidates.csv": public, "B1.candidates.full.csv": full}
    r = rule({"A": "10", "B": "20", "C": "40", "D": "80"})
    officers = [Officer(f"C{i:02d}", "SAMR", "440608", ("FOOD",), 0) for i in range(8)]
    staffing = rec.staffing_block(officers, [("C01", cands[0].key)])
    frozen = rec.manifest(
        draw_code="D1",
        frozen_at="2026-03-01T09:00:00+08:00",
        rules=[r],
        scopes={"B1": {"regions": ["440608"]}},
        candidate_files={"B1": rec.candidate_files("B1", public, full, len(cands))},
        seed_plan={"method": "beacon", "source": "上证综指", "at": "2026-03-02T07:00:00+00:00"},
        item_category={"FOOD-01": "FOOD"},
        responsibilities=[Responsibility("FOOD-01", "SAMR", "4406")],
        staffing=staffing,
        prefer_region=False,
    )
    record, staffed, _visits, _drawn = rec.build(
        frozen=frozen,
        staffing=staffing,
        full={"B1": (cands, salts)},
        seed_block={"method": "beacon", "source": "上证综指", "public_value": "上证综指 2026-03-02 收盘 3312.45"},
        drawn_at="2026-03-02T09:00:00+08:00",
    )
    assert staffed.complete
    return json.loads(rec.dumps(record)), files


def test_a_record_verifies_and_any_tampering_shows() -> None:
    loaded, files = small_record()
    assert rec.verify(loaded, files.__getitem__) == ["the record carries no transparency-log inclusion proof"]
    tampered = json.loads(rec.dumps(loaded))
    tampered["outputs"]["visits"][0]["team"] = ["C07", "C06"]
    assert any("team" in p for p in rec.verify(tampered, files.__getitem__))
    swapped = json.loads(rec.dumps(loaded))
    swapped["seed"]["public_value"] = "another value"
    assert any(p.startswith("seed is") for p in rec.verify(swapped, files.__getitem__))
    staffing = json.loads(rec.dumps(loaded))
    staffing["staffing"]["officers"][0]["workload"] = 1
    assert any("staffing inputs are not the ones frozen" in p for p in rec.verify(staffing, files.__getitem__))
    public = rec.public_copy(loaded)
    assert "staffing" not in public and all("team" not in v for v in public["outputs"]["visits"])
    assert rec.verify(public, files.__getitem__) == ["the record carries no transparency-log inclusion proof"]
    revealed = json.loads(rec.dumps(public))
    key, _salt, region, items = revealed["outputs"]["reveals"]["B1"][0]
    revealed["outputs"]["reveals"]["B1"][0] = [key, "f" * 32, region, items]  # a wrong salt
    assert any("is not revealed" in p for p in rec.verify(revealed, files.__getitem__))
    files["B1.candidates.csv"] = files["B1.candidates.csv"].split(b"\n", 1)[1]
    problems = rec.verify(loaded, files.__getitem__)
    assert any("SHA-256" in p for p in problems)
    assert any("not the full list's commitments" in p for p in problems)


def test_the_public_list_names_no_entity_and_commits_to_each() -> None:
    cands = make_candidates(["A", "B", "C", "D"] * 5)
    salts = {c.key: f"{i:032x}" for i, c in enumerate(cands)}
    public = public_bytes(cands, salts)
    assert not any(c.key.encode() in public for c in cands)
    listed = parse_public(public)
    assert [c.key for c in listed] == sorted(entity_commitment(c.key, salts[c.key]) for c in cands)
    assert entity_commitment("K00001", "0" * 32) == hashlib.sha256(b'["K00001","' + b"0" * 32 + b'"]').hexdigest()
    assert parse_full(full_bytes(cands, salts)) == (cands, salts)


def test_the_record_is_rfc8785_canonical_json() -> None:
    loaded, _files = small_record()
    data = rec.dumps(loaded)
    assert data == rec.dumps(json.loads(data))
    assert b" " not in data.split(b'"public_value"')[0][-5:]
    # RFC 8785 section 3.2.2.3 sample numbers, and keys sorted by UTF-16 code units
    assert rec.canonical({"b": 1e21, "a": [1.0, -0.0, 333333333.3333333]}) == b'{"a":[1,0,333333333.3333333],"b":1e+21}'
    assert rec.canonical({"\u20ac": 1, "\r": 2, "1": 3}) == '{"\\r":2,"1":3,"\u20ac":1}'.encode()
