"""Substring search on entity names: FTS5 trigram index on SQLite, pg_trgm GIN index on PostgreSQL.

Both answer ``name LIKE '%...%'`` for patterns of three or more characters without scanning the table.
"""

from django.db import migrations

from shijian.registry.search import SQLITE_DROP, SQLITE_SETUP, SQLITE_TRIGGERS

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
