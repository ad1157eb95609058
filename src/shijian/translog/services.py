"""The bureau's transparency log: append an announcement, sign a tree head, prove inclusion, export.

An append-only Merkle tree (RFC 9162). Each leaf is the canonical JSON of one announcement (a draw's freeze, the
audit chain's head); after each append the log signs a new tree head with its Ed25519 key, created on first use in
``SHIJIAN_HOME/translog/`` (the private key never leaves that folder; its public key is on ``/public/log.json``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from shijian.translog import merkle
from shijian.translog.models import LogEntry, TreeHead
from shijian.translog.verify import FORMAT, canonical, parse_time, sth_message


def _key_path() -> Path:
    return Path(settings.HOME) / "translog" / "log-ed25519.pem"


def private_key() -> Ed25519PrivateKey:
    path = _key_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 key")
    return key


def public_key_hex() -> str:
    raw = private_key().public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return raw.hex()


def _hashes(size: int | None = None) -> list[bytes]:
    qs = LogEntry.objects.order_by("index").values_list("leaf_hash", flat=True)
    return [bytes.fromhex(h) for h in (qs[:size] if size is not None else qs)]


def append(kind: str, subject: str, payload: dict[str, Any]) -> LogEntry:
    """Add one leaf (``type``, ``at`` and the payload) and sign the new tree head, in the caller's transaction."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(745002)")
        index = LogEntry.objects.count()
        now = timezone.now()
        last = LogEntry.objects.filter(index=index - 1).values_list("leaf", flat=True).first()
        if last is not None:  # entries are dated in order, even if the clock steps back
            now = max(now, parse_time(json.loads(last)["at"]))
        leaf = {**payload, "type": kind, "at": now.isoformat()}
        data = canonical(leaf)
        entry = LogEntry.objects.create(
            index=index, kind=kind, subject=subject, leaf=data.decode(), leaf_hash=merkle.leaf_hash(data).hex()
        )
        _sign(index + 1, now.isoformat())
    return entry


def _sign(size: int, timestamp: str) -> TreeHead:
    root = merkle.root(_hashes(size)).hex()
    signature = private_key().sign(sth_message(size, timestamp, root)).hex()
    return TreeHead.objects.create(tree_size=size, timestamp=timestamp, root_hash=root, signature=signature)


def sth_dict(sth: TreeHead) -> dict[str, Any]:
    return {
        "tree_size": sth.tree_size,
        "timestamp": sth.timestamp,
        "root_hash": sth.root_hash,
        "signature": sth.signature,
    }


def latest_head() -> TreeHead | None:
    return TreeHead.objects.order_by("-tree_size").first()


def inclusion(entry: LogEntry) -> dict[str, Any]:
    """The entry, its audit path and the latest signed tree head: the ``log`` block of a draw record."""
    head = latest_head()
    assert head is not None
    hashes = _hashes(head.tree_size)
    return {
        "index": entry.index,
        "leaf": json.loads(entry.leaf),
        "proof": [p.hex() for p in merkle.inclusion_proof(entry.index, hashes)],
        "tree_head": sth_dict(head),
        "public_key": public_key_hex(),
    }


def export() -> dict[str, Any]:
    """The whole log as published on ``/public/log.json``."""
    return {
        "format": FORMAT,
        "public_key": public_key_hex(),
        "entries": [
            {"index": i, "leaf": json.loads(leaf)} for i, leaf in LogEntry.objects.values_list("index", "leaf")
        ],
        "tree_heads": [sth_dict(h) for h in TreeHead.objects.order_by("tree_size")],
    }


def log_audit_head() -> LogEntry | None:
    """Log the audit chain's current head (its last event's id and hash): run daily, so that a rewrite of the
    audit log before that point shows against the public log. Nothing is logged when the head has not moved."""
    from shijian.core.models import AuditEvent

    last = AuditEvent.objects.order_by("-id").values_list("id", "hash").first()
    if last is None:
        return None
    previous = LogEntry.objects.filter(kind="audit_head").order_by("-index").values_list("leaf", flat=True).first()
    if previous is not None and json.loads(previous).get("hash") == last[1]:
        return None
    return append("audit_head", str(last[0]), {"event_id": last[0], "hash": last[1]})
