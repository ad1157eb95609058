"""The transparency log's rows: append-only leaves and the signed tree heads over them."""

from __future__ import annotations

from django.db import models


class LogEntry(models.Model):
    """Leaf ``index`` of the Merkle tree: the RFC 8785 canonical JSON of one announcement."""

    index = models.PositiveBigIntegerField(primary_key=True)
    kind = models.CharField(max_length=20, db_index=True)  # "freeze" | "audit_head"
    subject = models.CharField(max_length=120, db_index=True, blank=True)  # e.g. the draw code
    leaf = models.TextField()
    leaf_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["index"]

    def __str__(self) -> str:
        return f"#{self.index} {self.kind} {self.subject}"


class TreeHead(models.Model):
    """A signed tree head (STH): the log's size and root at a time, signed with the bureau's Ed25519 log key."""

    tree_size = models.PositiveBigIntegerField(unique=True)
    timestamp = models.CharField(max_length=40)
    root_hash = models.CharField(max_length=64)
    signature = models.CharField(max_length=128)

    class Meta:
        ordering = ["tree_size"]

    def __str__(self) -> str:
        return f"STH {self.tree_size} {self.root_hash[:12]}"
