"""Checks of the transparency log that anyone can run on its public export (pure Python, no Django).

The export (``/public/log.json``) holds the log's Ed25519 public key, every leaf (as JSON; its bytes are the
RFC 8785 canonical form) and every signed tree head (STH). ``verify_log`` recomputes the tree at each STH, checks
each signature, and checks a consistency proof between each STH and the next, so a log that was rewritten, or
that dropped or reordered a leaf, does not verify against a tree head anyone saved earlier.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from shijian.translog import merkle

FORMAT = "shijian-log/1"
STH_FORMAT = "shijian-sth/1"


def canonical(value: Any) -> bytes:
    """RFC 8785 (JSON Canonicalization Scheme) bytes of a JSON value."""
    return rfc8785.dumps(value)


def leaf_hash(leaf: Mapping[str, Any]) -> bytes:
    return merkle.leaf_hash(canonical(dict(leaf)))


def sth_message(tree_size: int, timestamp: str, root_hash: str) -> bytes:
    """What the log key signs: the canonical JSON of the tree head without its signature."""
    return canonical({"format": STH_FORMAT, "root_hash": root_hash, "timestamp": timestamp, "tree_size": tree_size})


def sth_signed(public_key_hex: str, sth: Mapping[str, Any]) -> bool:
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
        key.verify(
            bytes.fromhex(sth["signature"]),
            sth_message(int(sth["tree_size"]), str(sth["timestamp"]), str(sth["root_hash"])),
        )
    except (InvalidSignature, ValueError, KeyError, TypeError):
        return False
    return True


def verify_log(export: Mapping[str, Any], known: Sequence[Mapping[str, Any]] = ()) -> list[str]:
    """Every problem with a log export (empty: the log is consistent); ``known``: tree heads saved earlier."""
    if export.get("format") != FORMAT:
        return [f"unknown log format {export.get('format')!r} (expected {FORMAT})"]
    problems: list[str] = []
    key = str(export.get("public_key", ""))
    entries = list(export.get("entries", []))
    for n, e in enumerate(entries):
        if e.get("index") != n:
            problems.append(f"entry {n} has index {e.get('index')!r}")
    hashes = [leaf_hash(e["leaf"]) for e in entries]
    heads = sorted(export.get("tree_heads", []), key=lambda h: int(h["tree_size"]))
    if not heads:
        return [*problems, "the log has no signed tree head"]
    if int(heads[-1]["tree_size"]) != len(entries):
        problems.append(f"the latest tree head covers {heads[-1]['tree_size']} entries, the log holds {len(entries)}")
    previous: Mapping[str, Any] | None = None
    for sth in [*heads, *known]:
        size = int(sth["tree_size"])
        if not sth_signed(key, sth):
            problems.append(f"tree head {size}: the signature does not verify with the log's public key")
        if size > len(entries):
            problems.append(f"tree head {size}: larger than the log ({len(entries)} entries)")
            continue
        if merkle.root(hashes[:size]).hex() != sth["root_hash"]:
            problems.append(f"tree head {size}: the root of the first {size} entries is not {sth['root_hash']}")
    for previous, sth in itertools.pairwise(heads):
        a, b = int(previous["tree_size"]), int(sth["tree_size"])
        if b > len(entries):
            continue
        proof = merkle.consistency_proof(a, hashes[:b])
        first, second = bytes.fromhex(previous["root_hash"]), bytes.fromhex(sth["root_hash"])
        if not merkle.verify_consistency(a, b, first, second, proof):
            problems.append(f"tree heads {a} and {b} are not consistent (the log was rewritten)")
        if _time(sth["timestamp"]) < _time(previous["timestamp"]):
            problems.append(f"tree head {b} is older than tree head {a}")
    at = [_time(e["leaf"].get("at", "")) for e in entries]
    for n in range(1, len(at)):
        if at[n] < at[n - 1]:
            problems.append(f"entry {n} is dated before entry {n - 1}")
    return problems


def _time(value: str) -> dt.datetime:
    try:
        t = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return dt.datetime.min.replace(tzinfo=dt.UTC)
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def parse_time(value: str) -> dt.datetime:
    return _time(value)


def verify_inclusion(public_key_hex: str, block: Mapping[str, Any]) -> list[str]:
    """A leaf's inclusion proof against a signed tree head (the ``log`` block of a draw record)."""
    sth = block["tree_head"]
    problems = []
    if not sth_signed(public_key_hex, sth):
        problems.append("the tree head in the record is not signed by the log's key")
    ok = merkle.verify_inclusion(
        int(block["index"]),
        int(sth["tree_size"]),
        leaf_hash(block["leaf"]),
        [bytes.fromhex(p) for p in block["proof"]],
        bytes.fromhex(sth["root_hash"]),
    )
    if not ok:
        problems.append(f"the inclusion proof of log entry {block['index']} does not lead to the tree head's root")
    return problems
