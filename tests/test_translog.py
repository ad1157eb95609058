"""The transparency log: RFC 9162 Merkle tree, proofs, signed tree heads, and what ``shijian log verify`` catches."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from pytest_django import Settings
from typer.testing import CliRunner

from shijian.core import audit
from shijian.translog import merkle, services
from shijian.translog.verify import verify_inclusion, verify_log

# The test leaves of the Certificate Transparency reference implementations (RFC 6962 / 9162 trees are the same)
CT_LEAVES = [b"", b"\x00", b"\x10", b"\x20\x21", b"\x30\x31", b"\x40\x41\x42\x43", bytes(range(0x50, 0x58)),
             bytes(range(0x60, 0x70))]  # fmt: skip
CT_ROOTS = {
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}


def test_tree_hashes_match_the_ct_reference_vectors() -> None:
    hashes = [merkle.leaf_hash(x) for x in CT_LEAVES]
    for n, want in CT_ROOTS.items():
        assert merkle.root(hashes[:n]).hex() == want
    assert merkle.root([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_every_inclusion_and_consistency_proof_verifies_and_no_wrong_one_does() -> None:
    hashes = [merkle.leaf_hash(bytes([i])) for i in range(33)]
    for n in range(1, 34):
        root = merkle.root(hashes[:n])
        for i in range(n):
            proof = merkle.inclusion_proof(i, hashes[:n])
            assert merkle.verify_inclusion(i, n, hashes[i], proof, root)
            assert not merkle.verify_inclusion(i, n, merkle.leaf_hash(b"other"), proof, root)
        for m in range(n + 1):
            proof = merkle.consistency_proof(m, hashes[:n])
            assert merkle.verify_consistency(m, n, merkle.root(hashes[:m]), root, proof)
            if 0 < m < n:
                forged = merkle.root([merkle.leaf_hash(b"x"), *hashes[1:m]])
                assert not merkle.verify_consistency(m, n, forged, root, proof)


def _three_entries() -> dict[str, Any]:
    for n in range(3):
        services.append("freeze", f"D{n}", {"draw": f"D{n}", "frozen_digest": f"{n:064d}", "batches": [f"B{n}"]})
    return services.export()


def test_the_log_verifies_and_every_rewrite_shows(db: None, settings: Settings, tmp_path: Path) -> None:
    settings.HOME = tmp_path
    log = _three_entries()
    assert verify_log(log) == [] and len(log["tree_heads"]) == 3
    key = tmp_path / "translog" / "log-ed25519.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    # a leaf changed in place: the tree no longer matches its signed heads
    changed = json.loads(json.dumps(log))
    changed["entries"][1]["leaf"]["frozen_digest"] = "f" * 64
    assert any("root of the first 2 entries" in p for p in verify_log(changed))
    # a head with a forged signature
    forged = json.loads(json.dumps(log))
    forged["tree_heads"][0]["signature"] = "00" * 64
    assert any("signature does not verify" in p for p in verify_log(forged))
    # the bureau rewrites the log and re-signs every head: consistent on its own, not with a head saved earlier
    saved = log["tree_heads"][-1]
    from shijian.translog.models import LogEntry, TreeHead

    LogEntry.objects.filter(index=2).delete()
    TreeHead.objects.filter(tree_size=3).delete()
    services.append("freeze", "D2", {"draw": "D2", "frozen_digest": "e" * 64, "batches": ["B2"]})
    rewritten = services.export()
    assert verify_log(rewritten) == []
    assert any("root of the first 3 entries" in p for p in verify_log(rewritten, known=[saved]))
    # a dropped entry: the latest head covers more than the log holds
    dropped = json.loads(json.dumps(log))
    dropped["entries"].pop()
    assert any("latest tree head covers 3 entries, the log holds 2" in p for p in verify_log(dropped))


def test_inclusion_blocks_verify_against_the_signed_head(db: None, settings: Settings, tmp_path: Path) -> None:
    settings.HOME = tmp_path
    _three_entries()
    from shijian.translog.models import LogEntry

    block = services.inclusion(LogEntry.objects.get(index=1))
    assert verify_inclusion(services.public_key_hex(), block) == []
    block["leaf"]["batches"] = ["B9"]
    assert any("inclusion proof" in p for p in verify_inclusion(services.public_key_hex(), block))


def test_the_audit_head_is_logged_once_per_move(db: None, settings: Settings, tmp_path: Path) -> None:
    settings.HOME = tmp_path
    audit.record("create", object_type="test", object_repr="one")
    first = services.log_audit_head()
    assert first is not None and first.kind == "audit_head"
    assert services.log_audit_head() is None  # the head has not moved
    audit.record("create", object_type="test", object_repr="two")
    second = services.log_audit_head()
    assert second is not None and second.index == first.index + 1
    from shijian.cli import app

    r = CliRunner().invoke(app, ["log", "verify"])
    assert r.exit_code == 0 and "2 entries" in r.output, r.output


@pytest.mark.parametrize("bad", ["format", "entries"])
def test_a_log_export_that_is_not_one_is_refused(bad: str, db: None, settings: Settings, tmp_path: Path) -> None:
    settings.HOME = tmp_path
    log = _three_entries()
    if bad == "format":
        log["format"] = "other"
        assert verify_log(log) == ["unknown log format 'other' (expected shijian-log/1)"]
    else:
        log["entries"][0]["index"] = 5
        assert "entry 0 has index 5" in verify_log(log)
