"""Substring search on entity names: FTS5 trigram index on SQLite, pg_trgm GIN index on PostgreSQL.

Both answer ``name LIKE '%...%'`` for patterns of three or more characters without scanning the table.
"""

from django.db import migrations

# Frozen as they were when this migration was written (0005 replaces them with a wider index).
FTS = "registry_entity_name_fts"
SQLITE_SETUP = [
    f"CREATE VIRTUAL TABLE {FTS} USING fts5(name, content='registry_entity', content_rowid='id', tokenize='trigram')",
    f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')",
]
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER registry_entity_fts_ai AFTER INSERT ON registry_entity "
    f"BEGIN INSERT INTO {FTS}(rowid, name) VALUES (new.id, new.name); END",
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

POSTGRES = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS registry_entity_name_trgm ON registry_entity USING gin (name gin_trgm_ops)",
]
POSTGRES_DROP = ["DROP INDEX IF EXISTS registry_entity_name_trgm"]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = SQLITE_SETUP + SQLITE_TRIGGERS if vendor == "sqlite" else POSTGRES if vendor == "postgresql" else []
    for sql in statements:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in SQLITE_DROP if vendor == "sqlite" else POSTGRES_DROP if vendor == "postgresql" else []:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
