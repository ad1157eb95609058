"""The conformance vectors of the draw (docs/draw-vectors/): small draws that hit every edge case of the spec.

Each case is a folder with a full record (``record.json``, RFC 8785 bytes) and its candidate lists (public and
full); an implementation passes a case when its re-run gives the record's outputs (or, for an ``invalid`` case,
refuses the record with the error the index names). The ``complete`` case also carries a transparency log signed
with a published TEST key, so the log checks can be tested too. Regenerate with
``python -m shijian.supervision.vectors docs/draw-vectors`` (the bytes are deterministic; a test compares them).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from shijian.supervision import record as rec
from shijian.supervision.draw import (
    BatchRule,
    Candidate,
    Officer,
    Responsibility,
    full_bytes,
    public_bytes,
    sha256_hex,
)
from shijian.translog import merkle
from shijian.translog.verify import FORMAT as LOG_FORMAT
from shijian.translog.verify import canonical, leaf_hash, sth_message

TEST_LOG_SEED = hashlib.sha256(b"shijian-draw-vectors test log key (never used by a bureau)").digest()
TOWNS = ("440608004", "440608106")


def _cands(n: int, classes: str, items: Sequence[tuple[str, ...]], town: int = 0) -> list[Candidate]:
    out = []
    for i in range(n):
        region = TOWNS[(i + town) % 2] + f"{i % 3:03d}"
        out.append(Candidate(f"9144060{i:03d}VECTOR{i % 10}", classes[i % len(classes)], region, items[i % len(items)]))
    return sorted(out)


def _salts(cands: Sequence[Candidate]) -> dict[str, str]:
    return {c.key: hashlib.sha256(f"salt|{c.key}".encode()).hexdigest()[:32] for c in cands}


def _officers(n_per: int, depts: Sequence[str], quals: Mapping[str, tuple[str, ...]]) -> list[Officer]:
    out = []
    for d in depts:
        for i in range(n_per):
            region = TOWNS[i % 2] if i % 3 else "440608"
            out.append(Officer(f"{d}-{i:02d}", d, region, quals.get(f"{d}-{i:02d}", quals.get(d, ())), i % 3))
    return sorted(out, key=lambda o: o.cert)


CASES: dict[str, dict[str, Any]] = {
    "stratified-missing-ratio-null-share": {
        "note": "§3: class D has no ratio (0 %); random_share is null (0 %); ratios '12.5' and '0.25' (basis points)",
        "rules": [
            BatchRule(
                "S1",
                "stratified",
                ("FOOD-01",),
                ("2026-03-01", "2026-06-30"),
                {"A": "12.5", "B": "50", "C": "0.25"},
                random_share=None,  # type: ignore[arg-type]
            )
        ],
        "cands": {"S1": _cands(40, "ABCD", [("FOOD-01",)])},
    },
    "stratified-controls-exceed-quota": {
        "note": "§3: a large random share puts more controls in class A than its quota: n_A = c_A",
        "rules": [
            BatchRule(
                "S2",
                "stratified",
                ("FOOD-01",),
                ("2026-03-01", "2026-06-30"),
                {"A": "0", "B": "10", "C": "100", "D": "100"},
                random_share="100",
            )
        ],
        "cands": {"S2": _cands(30, "AABCD", [("FOOD-01",)])},
    },
    "random-count-and-ratio": {
        "note": "§3: random mode by count (more than the candidates: all) and by ratio, drawn together",
        "rules": [
            BatchRule("R1", "random", ("FOOD-01",), ("2026-03-01", "2026-12-31"), {}, "0", count=99),
            BatchRule("R2", "random", ("REG-01",), ("2026-05-01", "2026-09-30"), {}, "0", ratio="33.33"),
        ],
        "cands": {"R1": _cands(12, "B", [("FOOD-01",)]), "R2": _cands(30, "BC", [("REG-01",)])},
    },
    "joint-batches-one-key-two-regions": {
        "note": "§4: one key in two batches (with different regions: the first batch's by code wins), items "
        "merged, departments and categories de-duplicated, windows intersected",
        "rules": [
            BatchRule("J1", "random", ("FOOD-01", "FOOD-02"), ("2026-03-01", "2026-08-31"), {}, "0", count=8),
            BatchRule("J2", "random", ("FOOD-02", "REG-01"), ("2026-06-01", "2026-12-31"), {}, "0", count=8),
        ],
        "cands": {
            "J1": _cands(10, "B", [("FOOD-01", "FOOD-02"), ("FOOD-02",)]),
            "J2": _cands(10, "B", [("FOOD-02", "REG-01"), ("REG-01",)], town=1),
        },
    },
    "teams-recheck-extra-prefer-region": {
        "note": "§5: the officer picked for a department already covers a category (no cat pick); extra:{size before "
        "the pick}; officers of the entity's region first",
        "rules": [BatchRule("T1", "random", ("FOOD-01", "SE-01"), ("2026-03-01", "2026-12-31"), {}, "0", count=12)],
        "cands": {"T1": _cands(20, "B", [("FOOD-01", "SE-01"), ("FOOD-01",)])},
        "prefer_region": True,
    },
    "unstaffable-visit-leaves-workloads": {
        "note": "§5: a visit that cannot be staffed gets no team and a reason; nothing of it is assigned, so later "
        "workloads are as if it were not there (a bureau's freeze refuses such lists; the algorithm defines it)",
        "rules": [BatchRule("U1", "random", ("FOOD-01",), ("2026-03-01", "2026-12-31"), {}, "0", count=6)],
        "cands": {"U1": _cands(6, "B", [("FOOD-01",)])},
        "exclude_all_of": ("SAMR-00", "SAMR-01", "SAMR-02", "SAMR-03"),
    },
    "beacon-white-space": {
        "note": "§2: the public value is trimmed of space, tab, CR and LF only (a no-break space stays)",
        "rules": [BatchRule("W1", "random", ("FOOD-01",), ("2026-03-01", "2026-12-31"), {}, "0", count=3)],
        "cands": {"W1": _cands(9, "B", [("FOOD-01",)])},
        "public_value": "\t 3312.45\u00a0\r\n",
    },
    "commit-reveal-order": {
        "note": "§2: the secrets are joined in the order of the commitments, as hex of their UTF-8 bytes",
        "rules": [BatchRule("C1", "random", ("FOOD-01",), ("2026-03-01", "2026-12-31"), {}, "0", count=4)],
        "cands": {"C1": _cands(9, "B", [("FOOD-01",)])},
        "secrets": ["第二位的秘密", "first|secret"],
    },
    "invalid-ratio-over-100": {
        "note": "§3: a ratio over 100 % is not a percentage: the record is refused",
        "rules": [BatchRule("X1", "stratified", ("FOOD-01",), ("2026-03-01", "2026-12-31"), {"A": "100.5"}, "20")],
        "cands": {"X1": _cands(5, "A", [("FOOD-01",)])},
        "expect_error": "a percentage is 0 to 100 with at most two decimals: '100.5'",
    },
}
CATEGORIES = {"FOOD-01": "FOOD", "FOOD-02": "FOOD", "REG-01": "REG", "SE-01": "SE"}
RESPONSIBILITIES = [
    Responsibility("FOOD-01", "SAMR", "4406"),
    Responsibility("FOOD-02", "SAMR", "4406"),
    Responsibility("FOOD-02", "SAMRS-004", "440608004"),
    Responsibility("REG-01", "SAMR", "4406"),
    Responsibility("SE-01", "SAMR", "440608"),
]
QUALS = {"SAMR": ("FOOD", "REG"), "SAMRS-004": ("FOOD",), "SAMR-00": ("FOOD", "SE"), "SAMR-03": ("SE",)}


def make_case(name: str, case: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The full record of one case and its files (the invalid case's record is built with a valid ratio, then
    given the invalid one, as a tampering bureau would)."""
    rules: list[BatchRule] = list(case["rules"])
    invalid = "expect_error" in case
    if invalid:
        rules = [BatchRule(r.code, r.mode, r.items, r.window, {"A": "100"}, r.random_share) for r in rules]
    files: dict[str, bytes] = {}
    lists: dict[str, dict[str, Any]] = {}
    full: dict[str, tuple[list[Candidate], dict[str, str]]] = {}
    for code, cands in case["cands"].items():
        salts = _salts(cands)
        public, full_data = public_bytes(cands, salts), full_bytes(cands, salts)
        lists[code] = rec.candidate_files(code, public, full_data, len(cands))
        files[lists[code]["file"]], files[lists[code]["full_file"]] = public, full_data
        full[code] = (cands, salts)
    officers = _officers(4, ("SAMR", "SAMRS-004"), QUALS)
    keys = sorted({c.key for cs in case["cands"].values() for c in cs})
    exclusions = [("SAMR-01", keys[0]), ("SAMRS-004-00", keys[-1])]
    exclusions += [(cert, keys[1]) for cert in case.get("exclude_all_of", ())]
    staffing = rec.staffing_block(officers, exclusions)
    if "secrets" in case:
        plan: dict[str, Any] = {"method": "commit_reveal", "commitments": [sha256_hex(s) for s in case["secrets"]]}
        seed_block: dict[str, Any] = {**plan, "secrets": list(case["secrets"])}
    else:
        plan = {"method": "beacon", "source": "上证综指 2026-03-02 收盘价", "at": "2026-03-02T07:30:00+00:00"}
        seed_block = {"method": "beacon", "source": plan["source"], "public_value": case.get("public_value", "3312.45")}
    frozen = rec.manifest(
        draw_code=f"VECTOR-{name}",
        frozen_at="2026-03-01T01:00:00+00:00",
        rules=rules,
        scopes={r.code: {"regions": ["440608"]} for r in rules},
        candidate_files=lists,
        seed_plan=plan,
        item_category=CATEGORIES,
        responsibilities=RESPONSIBILITIES,
        staffing=staffing,
        prefer_region=bool(case.get("prefer_region", False)),
    )
    record, _staffed, _visits, _drawn = rec.build(
        frozen=frozen, staffing=staffing, full=full, seed_block=seed_block, drawn_at="2026-03-02T08:00:00+00:00"
    )
    if invalid:
        record["frozen"]["batches"][0]["ratios"] = dict(case["rules"][0].ratios)
        record["frozen_digest"] = rec.manifest_digest(record["frozen"])
    return record, files


def test_log(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A log of the freezes of ``records``, signed with the TEST key; each record gets its inclusion block."""
    key = Ed25519PrivateKey.from_private_bytes(TEST_LOG_SEED)
    public_key = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    entries: list[dict[str, Any]] = []
    heads: list[dict[str, Any]] = []
    for n, record in enumerate(records):
        leaf = {
            **rec.freeze_leaf(record["frozen"], record["frozen_digest"]),
            "type": "freeze",
            "at": f"2026-03-01T01:00:{n:02d}+00:00",
        }
        entries.append({"index": n, "leaf": leaf})
        hashes = [leaf_hash(e["leaf"]) for e in entries]
        root = merkle.root(hashes).hex()
        stamp = leaf["at"]
        sig = key.sign(sth_message(n + 1, stamp, root)).hex()
        heads.append({"tree_size": n + 1, "timestamp": stamp, "root_hash": root, "signature": sig})
    hashes = [leaf_hash(e["leaf"]) for e in entries]
    for n, record in enumerate(records):
        record["log"] = {
            "index": n,
            "leaf": entries[n]["leaf"],
            "proof": [p.hex() for p in merkle.inclusion_proof(n, hashes)],
            "tree_head": heads[-1],
            "public_key": public_key,
        }
    return {"format": LOG_FORMAT, "public_key": public_key, "entries": entries, "tree_heads": heads}


def write(folder: Path) -> dict[str, Any]:
    """Write every case under ``folder``; return the index (case -> note, record SHA-256, expected error)."""
    index: dict[str, Any] = {}
    built = {name: make_case(name, case) for name, case in CASES.items()}
    complete = [built[n][0] for n in ("joint-batches-one-key-two-regions", "commit-reveal-order")]
    log = test_log(complete)
    for name, (record, files) in built.items():
        d = folder / name
        d.mkdir(parents=True, exist_ok=True)
        for fname, data in files.items():
            (d / fname).write_bytes(data)
        data = rec.dumps(record)
        (d / "record.json").write_bytes(data)
        entry = {"note": CASES[name]["note"], "record_sha256": hashlib.sha256(data).hexdigest()}
        if "expect_error" in CASES[name]:
            entry["expect_error"] = CASES[name]["expect_error"]
        if "log" in record:
            (d / "log.json").write_bytes(canonical(log))
            entry["log"] = "log.json"
        index[name] = entry
    (folder / "index.json").write_text(json.dumps(index, ensure_ascii=False, indent=1, sort_keys=True) + "\n")
    return index


if __name__ == "__main__":
    write(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/draw-vectors"))
