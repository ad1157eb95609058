"""`shijian backup` then `shijian restore` into an empty SHIJIAN_HOME finds everything, and the audit chain holds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.db import connection
from django.urls import reverse
from pytest_django import Settings

from shijian.core.models import AuditEvent
from shijian.ops.backup import BackupError, backup, read_manifest, verify_archive
from shijian.registry.models import Entity
from shijian.supervision.models import Attachment, Plan
from tests.conftest import World
from tests.test_supervision import _drawn, plan  # noqa: F401  (the plan fixture)

COUNT_SCRIPT = """
import json, hashlib, django
django.setup()
import duckdb
from django.conf import settings
from shijian.core.models import AuditEvent
from shijian.registry.models import Entity
from shijian.supervision.models import Attachment
files = {a.name: hashlib.sha256(a.file.read()).hexdigest() for a in Attachment.objects.all()}
lake = str(settings.SHIJIAN_LAKE / "records" / "**" / "*.parquet")
print(json.dumps({
    "entities": sorted(Entity.objects.values_list("uscc", flat=True)),
    "audit": AuditEvent.objects.count(),
    "attachments": files,
    "records": duckdb.sql(f"SELECT count(*) FROM read_parquet('{lake}')").fetchall()[0][0],
    "draws": sorted(p.name for p in (settings.HOME / "draws").rglob("*") if p.is_file()),
    "secret_key": (settings.HOME / "secret_key").read_text(),
}))
"""


def _restore_target(tmp_path: Path) -> tuple[str, Any]:
    """An empty database for the restored copy: a new SQLite file, or a new PostgreSQL database."""
    if connection.vendor == "sqlite":
        return f"sqlite:///{tmp_path / 'new' / 'restored.sqlite3'}", None
    name = f"{connection.settings_dict['NAME']}_restore"
    with connection.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cur.execute(f'CREATE DATABASE "{name}"')
    url = urlparse(os.environ["SHIJIAN_DATABASE_URL"])

    def drop() -> None:
        with connection.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')

    return urlunparse(url._replace(path=f"/{name}")), drop


def _shijian(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "shijian.cli", *args], env=env, capture_output=True, text=True)


def test_it_restores_every_entity_record_attachment_and_audit_event(
    live_db: None,
    world: World,
    plan: Plan,  # noqa: F811  (the fixture of test_supervision)
    settings: Settings,
    tmp_path: Path,
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    home = tmp_path / "home"
    home.mkdir()
    settings.MEDIA_ROOT = home / "media"
    settings.SHIJIAN_LAKE = home / "lake"
    visit = _drawn(world, plan, settings, home)  # published draw records under home/draws
    pdf = SimpleUploadedFile("检查记录.pdf", b"%PDF-1.4\n%...\n", content_type="application/pdf")
    world.client("inspector").post(reverse("attachment_add", args=[visit.pk]), {"file": pdf})
    assert Attachment.objects.count() == 1
    records = home / "lake" / "records" / "source=samr" / "load=1"
    records.mkdir(parents=True)
    pq.write_table(pa.table({"uscc": ["a", "b", "c"], "amount": [1, 2, 3]}), records / "records.parquet")
    (home / "secret_key").write_text("the-installation-key")
    (home / "cache").mkdir()
    (home / "cache" / "junk").write_text("not backed up")

    archive = tmp_path / "backup" / "shijian.tar"
    manifest = backup(archive, home, home / "lake")
    names = {f["path"] for f in manifest.files}
    assert {"home/secret_key", "lake/records/source=samr/load=1/records.parquet"} <= names
    assert any(n.startswith("home/media/visits/") for n in names)
    assert any(n.startswith("home/draws/") for n in names)
    assert "home/cache/junk" not in names
    assert all(len(f["sha256"]) == 64 for f in manifest.files)

    url, drop = _restore_target(tmp_path)
    try:
        env = {**os.environ, "SHIJIAN_HOME": str(tmp_path / "new"), "SHIJIAN_DATABASE_URL": url}
        env.pop("SHIJIAN_LAKE", None)
        restored = _shijian(env, "restore", str(archive))
        assert restored.returncode == 0, restored.stdout + restored.stderr
        verified = _shijian(env, "audit", "verify")
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert f"{AuditEvent.objects.count():,} events checked" in verified.stdout
        counted = subprocess.run(
            [sys.executable, "-c", COUNT_SCRIPT],
            env={**env, "DJANGO_SETTINGS_MODULE": "shijian.config.settings"},
            capture_output=True,
            text=True,
        )
        assert counted.returncode == 0, counted.stderr
        got = json.loads(counted.stdout)
        again = _shijian(env, "restore", str(archive))  # a second restore would overwrite: refused
        assert again.returncode == 2 and "--overwrite" in again.stderr
    finally:
        if drop:
            drop()
    # every entity has a code (COUNT_SCRIPT sorted the same column)
    usccs = [u for u in Entity.objects.values_list("uscc", flat=True) if u is not None]
    assert got["entities"] == sorted(usccs) and len(got["entities"]) > 3
    assert got["audit"] == AuditEvent.objects.count() > 0
    assert got["attachments"] == {a.name: a.sha256 for a in Attachment.objects.all()}
    assert got["records"] == 3
    assert got["draws"] == sorted(p.name for p in (home / "draws").rglob("*") if p.is_file()) != []
    assert got["secret_key"] == "the-installation-key"


def test_a_damaged_archive_is_refused(live_db: None, tmp_path: Path, settings: Settings) -> None:
    home = tmp_path / "home"
    (home / "media").mkdir(parents=True)
    (home / "media" / "a.pdf").write_bytes(b"%PDF-1.4 original")
    archive = tmp_path / "b.tar"
    backup(archive, home, home / "lake")
    assert read_manifest(archive).database in {"sqlite", "pg_dump", "dumpdata"}
    # rewrite one file's bytes inside the archive, keeping the manifest
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(archive) as src, tarfile.open(damaged, "w") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "home/media/a.pdf":
                data = b"%PDF-1.4 tampered"
            import io

            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    (tmp_path / "x").mkdir()
    verify_archive(archive, tmp_path / "x")
    (tmp_path / "y").mkdir()
    with pytest.raises(BackupError, match="SHA-256"):
        verify_archive(damaged, tmp_path / "y")


def test_an_earlier_versions_xml_dump_loads_without_the_fields_since_removed(
    world: World, tmp_path: Path, settings: Settings
) -> None:
    """Where PostgreSQL's client tools are missing the database is dumped as XML and loaded after ``migrate``: a
    dump of an earlier version holding a field since removed (the entity file's counts by type) still loads."""
    from shijian.ops.backup import _restore_database
    from shijian.registry.models import EntityFile

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: a SQLite backup is the database file itself")
    e = world.entities["hecheng"]
    dump = tmp_path / "database.xml"
    dump.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<django-objects version="1.0">'
        f'<object model="registry.entityfile" pk="{e.pk}">'
        '<field name="records" type="IntegerField">7</field>'
        '<field name="by_type" type="JSONField">{"penalty": 7}</field>'
        '<field name="built_at" type="DateTimeField">2026-12-01T00:00:00+00:00</field>'
        "</object></django-objects>\n",
        encoding="utf-8",
    )
    _restore_database("dumpdata", dump, settings.DATABASES["default"], "postgresql")
    assert EntityFile.objects.get(entity=e).records == 7
