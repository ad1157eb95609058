"""Entity search that stays fast at 780k entities (migrations 0002 and 0005).

One trigram index answers a substring of three characters or more in the name, the former names, the address or
the legal representative: an FTS5 ``trigram`` table on SQLite, ``pg_trgm`` GIN indexes on PostgreSQL. A term of
one or two characters cannot use a trigram: it finds a legal representative by full name (two-character personal
names are common) and names that begin with it, both through B-tree indexes; a scan of every name would take seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL

from shijian.core.codes import uscc

FTS = "registry_entity_name_fts"
COLUMNS = ("name", "former_names", "address", "legal_rep")
_COLS = ", ".join(COLUMNS)
_NEW = ", ".join(f"new.{c}" for c in COLUMNS)
_OLD = ", ".join(f"old.{c}" for c in COLUMNS)
SQLITE_SETUP = [
    f"CREATE VIRTUAL TABLE {FTS} USING fts5({_COLS}, content='registry_entity', content_rowid='id', "
    "tokenize='trigram')",
    f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')",
]
SQLITE_INSERT_TRIGGER = (
    f"CREATE TRIGGER registry_entity_fts_ai AFTER INSERT ON registry_entity "
    f"BEGIN INSERT INTO {FTS}(rowid, {_COLS}) VALUES (new.id, {_NEW}); END"
)
SQLITE_TRIGGERS = [
    SQLITE_INSERT_TRIGGER,
    f"CREATE TRIGGER registry_entity_fts_ad AFTER DELETE ON registry_entity "
    f"BEGIN INSERT INTO {FTS}({FTS}, rowid, {_COLS}) VALUES ('delete', old.id, {_OLD}); END",
    f"CREATE TRIGGER registry_entity_fts_au AFTER UPDATE OF {_COLS} ON registry_entity "
    f"BEGIN INSERT INTO {FTS}({FTS}, rowid, {_COLS}) VALUES ('delete', old.id, {_OLD}); "
    f"INSERT INTO {FTS}(rowid, {_COLS}) VALUES (new.id, {_NEW}); END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS registry_entity_fts_ai",
    "DROP TRIGGER IF EXISTS registry_entity_fts_ad",
    "DROP TRIGGER IF EXISTS registry_entity_fts_au",
    f"DROP TABLE IF EXISTS {FTS}",
]
POSTGRES_SETUP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    *(
        f"CREATE INDEX IF NOT EXISTS registry_entity_{c}_trgm ON registry_entity USING gin ({c} gin_trgm_ops)"
        for c in COLUMNS
    ),
]
POSTGRES_DROP = [f"DROP INDEX IF EXISTS registry_entity_{c}_trgm" for c in COLUMNS if c != "name"]
MIN_INDEXED_LENGTH = 3  # a trigram index needs three characters


def _clean(term: str) -> str:
    return term.replace("%", "").replace("_", "").strip()


def name_contains(term: str) -> Q:
    """Entities whose name contains ``term``; indexed for three characters or more."""
    term = _clean(term)
    if not term:
        return Q()
    if len(term) >= MIN_INDEXED_LENGTH and connection.vendor == "sqlite":
        return Q(pk__in=RawSQL(f"SELECT rowid FROM {FTS} WHERE name LIKE %s", (f"%{term}%",)))
    return Q(name__contains=term)


def text_contains(term: str) -> Q:
    """Entities whose name, a former name, the address or the legal representative contains ``term``."""
    term = _clean(term)
    if not term:
        return Q()
    if len(term) < MIN_INDEXED_LENGTH:
        # No trigram for one or two characters: a scan of 780k names takes seconds. Index lookups only.
        return Q(legal_rep=term) | Q(name__gte=term, name__lt=term + "\uffff")
    if connection.vendor == "sqlite":
        phrase = '"' + term.replace('"', '""') + '"'
        query = "{" + " ".join(COLUMNS) + "} : " + phrase
        return Q(pk__in=RawSQL(f"SELECT rowid FROM {FTS} WHERE {FTS} MATCH %s", (query,)))
    q = Q()
    for column in COLUMNS:
        q |= Q(**{f"{column}__contains": term})
    return q


def entity_q(term: str) -> Q:
    """What a user means by a search term: a whole credit code, a code or registration-number prefix, or text."""
    code = uscc.normalise(term)
    if len(code) == 18:
        return Q(uscc=code)
    if code.isalnum() and code.isascii() and len(code) >= 6:
        return Q(uscc__startswith=code) | Q(reg_no=code)
    return text_contains(term)


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
