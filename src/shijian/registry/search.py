"""Name search that stays fast at 780k entities (see migration 0002_entity_name_search)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL

FTS = "registry_entity_name_fts"
SQLITE_SETUP = [
    f"CREATE VIRTUAL TABLE {FTS} USING fts5(name, content='registry_entity', content_rowid='id', tokenize='trigram')",
    f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')",
]
SQLITE_INSERT_TRIGGER = (
    f"CREATE TRIGGER registry_entity_fts_ai AFTER INSERT ON registry_entity "
    f"BEGIN INSERT INTO {FTS}(rowid, name) VALUES (new.id, new.name); END"
)
SQLITE_TRIGGERS = [
    SQLITE_INSERT_TRIGGER,
    f"CREATE TRIGGER registry_entity_fts_ad AFTER DELETE ON registry_entity "
    f"BEGIN INSERT INTO {FTS}({FTS}, rowid, name) VALUES ('delete', old.id, old.name); END",
    f"CREATE TRIGGER registry_entity_fts_au AFTER UPDATE OF name ON registry_entity "
    f"BEGIN INSERT INTO {FTS}({FTS}, rowid, name) VALUES ('delete', old.id, old.name); "
    f"INSERT INTO {FTS}(rowid, name) VALUES (new.id, new.name); END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS registry_entity_fts_ai",
    "DROP TRIGGER IF EXISTS registry_entity_fts_ad",
    "DROP TRIGGER IF EXISTS registry_entity_fts_au",
    f"DROP TABLE IF EXISTS {FTS}",
]
MIN_INDEXED_LENGTH = 3  # a trigram index needs three characters


def name_contains(term: str) -> Q:
    """Entities whose name contains ``term``; indexed for three characters or more."""
    term = term.replace("%", "").replace("_", "").strip()
    if not term:
        return Q()
    if len(term) >= MIN_INDEXED_LENGTH and connection.vendor == "sqlite":
        return Q(pk__in=RawSQL(f"SELECT rowid FROM {FTS} WHERE name LIKE %s", (f"%{term}%",)))
    return Q(name__contains=term)


@contextmanager
def deferred_name_index(enabled: bool) -> Iterator[None]:
    """For a large load on SQLite: no per-row trigger; rebuild the trigram index once afterwards."""
    if not enabled or connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cur:
        cur.execute("DROP TRIGGER IF EXISTS registry_entity_fts_ai")
    yield
    with connection.cursor() as cur:
        cur.execute(f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')")
        cur.execute(SQLITE_INSERT_TRIGGER)
