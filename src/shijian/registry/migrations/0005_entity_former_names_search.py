"""Former names, and one trigram index over name, former names, address and legal representative.

SQLite: the FTS5 trigram table of 0002 is rebuilt with four columns. PostgreSQL: a pg_trgm GIN index per column.
"""

from django.db import migrations, models

from shijian.registry.search import POSTGRES_DROP, POSTGRES_SETUP, SQLITE_DROP, SQLITE_SETUP, SQLITE_TRIGGERS


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        statements = SQLITE_DROP + SQLITE_SETUP + SQLITE_TRIGGERS
    else:
        statements = POSTGRES_SETUP if vendor == "postgresql" else []
    for sql in statements:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in SQLITE_DROP if vendor == "sqlite" else POSTGRES_DROP if vendor == "postgresql" else []:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("registry", "0004_entity_risk_class")]
    operations = [
        migrations.AddField(
            model_name="entity",
            name="former_names",
            field=models.CharField(
                blank=True,
                db_default="",
                default="",
                help_text="names the entity was registered under before, separated by 、",
                max_length=600,
                verbose_name="former names",
            ),
        ),
        migrations.AddIndex(
            model_name="entity", index=models.Index(fields=["legal_rep"], name="entity_legal_rep_idx")
        ),
        migrations.RunPython(forwards, backwards),
    ]
