"""Credit-risk class on entities. SQLite adds a NOT NULL column by rebuilding the table, which drops the name
search triggers (migration 0002): they are created again here as 0002 wrote them (0005 widens them after it adds
former names; the current ones in registry/search.py name columns this table does not have yet)."""

import importlib

from django.db import migrations, models

SQLITE_TRIGGERS = importlib.import_module("shijian.registry.migrations.0002_entity_name_search").SQLITE_TRIGGERS


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
