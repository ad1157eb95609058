"""The register's change counter (``lake.RegisterVersion``) and the triggers that raise it (SQLite, PostgreSQL).

SQLite rebuilds a table for some schema changes and drops its triggers; ``lake.state.register_version`` checks that
the triggers are all there before it trusts the counter (otherwise the build reads the register)."""

from django.db import migrations, models

KEYS = "uscc, reg_no, name, address"
BUMP = "UPDATE lake_registerversion SET n = n + 1 WHERE id = 1"
SQLITE = [
    f"CREATE TRIGGER lake_register_ai AFTER INSERT ON registry_entity BEGIN {BUMP}; END",
    f"CREATE TRIGGER lake_register_ad AFTER DELETE ON registry_entity BEGIN {BUMP}; END",
    f"CREATE TRIGGER lake_register_au AFTER UPDATE OF {KEYS} ON registry_entity BEGIN {BUMP}; END",
]
POSTGRES = [
    f"CREATE OR REPLACE FUNCTION lake_register_bump() RETURNS trigger AS $$ BEGIN {BUMP}; RETURN NULL; END; $$ "
    "LANGUAGE plpgsql",
    "CREATE TRIGGER lake_register_ai AFTER INSERT ON registry_entity FOR EACH STATEMENT "
    "EXECUTE FUNCTION lake_register_bump()",
    "CREATE TRIGGER lake_register_ad AFTER DELETE ON registry_entity FOR EACH STATEMENT "
    "EXECUTE FUNCTION lake_register_bump()",
    f"CREATE TRIGGER lake_register_au AFTER UPDATE OF {KEYS} ON registry_entity FOR EACH STATEMENT "
    "EXECUTE FUNCTION lake_register_bump()",
    "CREATE TRIGGER lake_register_at AFTER TRUNCATE ON registry_entity FOR EACH STATEMENT "
    "EXECUTE FUNCTION lake_register_bump()",
]
DROP = ["lake_register_ai", "lake_register_ad", "lake_register_au", "lake_register_at"]


def forwards(apps, schema_editor):
    apps.get_model("lake", "RegisterVersion").objects.create(id=1, n=0)
    statements = {"sqlite": SQLITE, "postgresql": POSTGRES}.get(schema_editor.connection.vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for name in DROP:
        if vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
        elif vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON registry_entity")
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS lake_register_bump()")


class Migration(migrations.Migration):
    dependencies = [("lake", "0001_linkage_review"), ("registry", "0006_entity_updated_index")]

    operations = [
        migrations.CreateModel(
            name="RegisterVersion",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("n", models.BigIntegerField(default=0)),
            ],
            options={"verbose_name": "register version"},
        ),
        migrations.RunPython(forwards, backwards),
    ]
