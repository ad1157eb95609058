"""Credit-risk class on entities. SQLite adds a NOT NULL column by rebuilding the table, which drops the name
search triggers (migration 0002): they are created again here (row ids are kept, so the index stays valid).
The statements are frozen as they were at this migration (the current ones, with former names, come in 0005)."""

from django.db import migrations, models

FTS = "registry_entity_name_fts"
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER registry_entity_fts_ai AFTER INSERT ON registry_entity "
    f"BEGIN INSERT INTO {FTS}(rowid, name) VALUES (new.id, new.name); END",
    f"CREATE TRIGGER registry_entity_fts_ad AFTER DELETE ON registry_entity "
    f"BEGIN INSERT INTO {FTS}({FTS}, rowid, name) VALUES ('delete', old.id, old.name); END",
    f"CREATE TRIGGER registry_entity_fts_au AFTER UPDATE OF name ON registry_entity "
    f"BEGIN INSERT INTO {FTS}({FTS}, rowid, name) VALUES ('delete', old.id, old.name); "
    f"INSERT INTO {FTS}(rowid, name) VALUES (new.id, new.name); END",
]


def triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in SQLITE_TRIGGERS:
            schema_editor.execute(sql.replace("CREATE TRIGGER ", "CREATE TRIGGER IF NOT EXISTS ", 1))


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0003_entity_file"),
    ]

    operations = [
        migrations.AddField(
            model_name="entity",
            name="risk_class",
            field=models.CharField(
                choices=[("A", "A (low risk)"), ("B", "B (average risk)"), ("C", "C (elevated risk)"), ("D", "D (high risk)")],
                db_default="B",
                default="B",
                help_text="A (low) to D (high); every entity is B until the risk model classifies it",
                max_length=1,
                verbose_name="credit-risk class",
            ),
        ),
        migrations.RunPython(triggers, migrations.RunPython.noop),
    ]
