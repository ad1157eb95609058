"""``shijian backup DEST`` / ``shijian restore SRC``: the database, the lake, media and keys in one archive.

The archive is a tar file:

- ``db/database.sqlite3`` (SQLite, copied with SQLite's online backup API while the platform runs), or
  ``db/database.pgdump`` (PostgreSQL, ``pg_dump --format=custom``; restored with ``pg_restore``), or, where the
  PostgreSQL client tools are missing, ``db/database.xml`` (Django ``dumpdata``; XML keeps timestamps to the
  microsecond, which the audit chain's hashes need; slower, and restored with ``loaddata`` after ``migrate``);
- ``home/...``: the data directory (secret key, media, published draw records, model files, load reports), less
  what is rebuilt or regenerated (cache, static files, generated districts, the database file itself);
- ``lake/...``: the record lake;
- ``manifest.json`` last: format, time, database kind and, per file, its size and SHA-256.

``restore`` checks every file against the manifest before anything is put in place, and refuses a target that
already holds data unless told to overwrite it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

FORMAT = 1
# Not backed up: rebuilt on start (static, cache, metrics), regenerated (synth, bench) or written apart (the DB).
SKIPPED_IN_HOME = {"cache", "static", "synth", "bench", "metrics"}
SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


class BackupError(RuntimeError):
    """A backup or restore that cannot go on; the message says why."""


@dataclass
class Manifest:
    created: str
    database: str  # "sqlite", "pg_dump" or "dumpdata"
    files: list[dict[str, Any]] = field(default_factory=list)
    format: int = FORMAT

    def to_json(self) -> bytes:
        data = {"format": self.format, "created": self.created, "database": self.database, "files": self.files}
        return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        data = json.loads(raw)
        if data.get("format") != FORMAT:
            raise BackupError(f"unknown backup format {data.get('format')!r}")
        return cls(data["created"], data["database"], data["files"], data["format"])


class _Hashing(io.RawIOBase):
    """A read-only file wrapper that hashes what tarfile reads from it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw, self.digest = raw, hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self.raw.read(size)
        self.digest.update(chunk)
        return chunk


def _add_file(tar: tarfile.TarFile, manifest: Manifest, path: Path, name: str) -> None:
    info = tar.gettarinfo(str(path), arcname=name)
    with path.open("rb") as raw:
        hashing = _Hashing(raw)
        tar.addfile(info, hashing)  # type: ignore[arg-type]
    manifest.files.append({"path": name, "size": info.size, "sha256": hashing.digest.hexdigest()})


def _walk(root: Path, skip: set[Path]) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if (here / d).resolve() not in skip)
        for name in sorted(filenames):
            path = here / name
            if path.resolve() not in skip and path.is_file() and not path.is_symlink():
                yield path


def _database_settings() -> dict[str, Any]:
    from django.db import connection

    return dict(connection.settings_dict)


def _pg_env(db: dict[str, Any]) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"PGHOST": str(db.get("HOST") or "127.0.0.1"), "PGPORT": str(db.get("PORT") or 5432)})
    env.update({"PGUSER": str(db.get("USER") or "postgres"), "PGDATABASE": str(db["NAME"])})
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return env


def _dump_database(work: Path) -> tuple[str, Path]:
    """Write the database into ``work``; returns (kind, file)."""
    from django.db import connection

    db = _database_settings()
    if connection.vendor == "sqlite":
        target = work / "database.sqlite3"
        connection.ensure_connection()
        with closing(sqlite3.connect(target)) as dest:
            connection.connection.backup(dest)  # consistent while the platform keeps writing
        return "sqlite", target
    if connection.vendor != "postgresql":
        raise BackupError(f"backup of a {connection.vendor} database is not supported")
    if shutil.which("pg_dump"):
        target = work / "database.pgdump"
        cmd = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={target}"]
        run = subprocess.run(cmd, env=_pg_env(db), capture_output=True, text=True, check=False)
        if run.returncode != 0:
            raise BackupError(f"pg_dump failed: {run.stderr.strip()}")
        return "pg_dump", target
    from django.core.management import call_command

    target = work / "database.xml"
    call_command(
        "dumpdata", format="xml", output=str(target), natural_foreign=True, natural_primary=True,
        exclude=["contenttypes", "auth.permission", "sessions"], verbosity=0,
    )  # fmt: skip
    return "dumpdata", target


def backup(dest: Path, home: Path, lake: Path) -> Manifest:
    """Write one archive of the database, ``home`` (less SKIPPED_IN_HOME) and ``lake`` to ``dest``."""
    from django.db import connection

    manifest = Manifest(dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "")
    skip = {(home / name).resolve() for name in SKIPPED_IN_HOME} | {lake.resolve(), dest.resolve()}
    if connection.vendor == "sqlite":
        db_file = Path(str(connection.settings_dict["NAME"]))
        skip |= {Path(f"{db_file}{suffix}").resolve() for suffix in SQLITE_SUFFIXES}
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    with tempfile.TemporaryDirectory(prefix="shijian-backup-") as tmp:
        kind, db_path = _dump_database(Path(tmp))
        manifest.database = kind
        with tarfile.open(partial, "w") as tar:
            _add_file(tar, manifest, db_path, f"db/{db_path.name}")
            for path in _walk(home, skip):
                _add_file(tar, manifest, path, "home/" + path.relative_to(home).as_posix())
            if lake.exists():
                for path in _walk(lake, {dest.resolve()}):
                    _add_file(tar, manifest, path, "lake/" + path.relative_to(lake).as_posix())
            raw = manifest.to_json()
            info = tarfile.TarInfo("manifest.json")
            info.size, info.mtime, info.mode = len(raw), int(dt.datetime.now(dt.UTC).timestamp()), 0o600
            tar.addfile(info, io.BytesIO(raw))
    partial.chmod(0o600)  # it holds the secret key and personal data
    partial.replace(dest)
    return manifest


def read_manifest(src: Path) -> Manifest:
    with tarfile.open(src, "r") as tar:
        try:
            member = tar.getmember("manifest.json")
        except KeyError:
            raise BackupError(f"{src} has no manifest.json: not a shijian backup") from None
        handle = tar.extractfile(member)
        assert handle is not None
        return Manifest.from_json(handle.read())


def verify_archive(src: Path, into: Path) -> Manifest:
    """Extract ``src`` into the empty folder ``into`` and check every file's size and SHA-256 against the manifest."""
    manifest = read_manifest(src)
    with tarfile.open(src, "r") as tar:
        tar.extractall(into, filter="data")
    for entry in manifest.files:
        path = into / entry["path"]
        if not path.is_file():
            raise BackupError(f"{entry['path']} is in the manifest but not in the archive")
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        if digest.hexdigest() != entry["sha256"] or path.stat().st_size != entry["size"]:
            raise BackupError(f"{entry['path']} does not match its SHA-256 in the manifest: the archive is damaged")
    return manifest


def _target_has_data(db: dict[str, Any], vendor: str) -> bool:
    if vendor == "sqlite":
        path = Path(str(db["NAME"]))
        if not path.exists() or path.stat().st_size == 0:
            return False
        with closing(sqlite3.connect(path)) as con:
            return bool(con.execute("SELECT count(*) FROM sqlite_master WHERE name='django_migrations'").fetchone()[0])
    run = subprocess.run(
        ["psql", "-tAc", "SELECT count(*) FROM information_schema.tables WHERE table_name='django_migrations'"],
        env=_pg_env(db), capture_output=True, text=True, check=False,
    )  # fmt: skip
    if run.returncode != 0:
        raise BackupError(f"cannot reach the target database: {run.stderr.strip()}")
    return run.stdout.strip() not in ("", "0")


def _restore_database(kind: str, dump: Path, db: dict[str, Any], vendor: str) -> None:
    if kind == "sqlite":
        if vendor != "sqlite":
            raise BackupError("this backup holds a SQLite database: restore it with SHIJIAN_DATABASE_URL=sqlite:///…")
        target = Path(str(db["NAME"]))
        target.parent.mkdir(parents=True, exist_ok=True)
        for suffix in SQLITE_SUFFIXES[1:]:
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(dump, target)
        return
    if vendor != "postgresql":
        raise BackupError("this backup holds a PostgreSQL database: restore it with SHIJIAN_DATABASE_URL=postgres://…")
    if kind == "pg_dump":
        if not shutil.which("pg_restore"):
            raise BackupError("pg_restore is not installed (Debian: apt-get install postgresql-client)")
        cmd = ["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--exit-on-error",
               f"--dbname={db['NAME']}", str(dump)]  # fmt: skip
        run = subprocess.run(cmd, env=_pg_env(db), capture_output=True, text=True, check=False)
        if run.returncode != 0:
            raise BackupError(f"pg_restore failed: {run.stderr.strip()}")
        return
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    # An archive of an earlier version may hold fields since removed (their data is gone from the schema too).
    call_command("loaddata", str(dump), verbosity=0, ignorenonexistent=True)


def restore(src: Path, home: Path, lake: Path, db: dict[str, Any], vendor: str, overwrite: bool = False) -> Manifest:
    """Restore an archive into ``home``, ``lake`` and the database ``db`` (Django settings form)."""
    if not overwrite:
        occupied = [p for p in (lake,) if p.exists() and any(p.iterdir())]
        if occupied or _target_has_data(db, vendor):
            raise BackupError("the target already holds data (a database or a lake): use --overwrite to replace it")
    home.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".restore-", dir=home) as tmp:
        work = Path(tmp)
        manifest = verify_archive(src, work)
        _restore_database(manifest.database, work / "db" / _DB_FILES[manifest.database], db, vendor)
        for sub, target in (("home", home), ("lake", lake)):
            folder = work / sub
            if not folder.exists():
                continue
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                dest = target / path.relative_to(folder)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(path, dest)  # the lake may sit on another file system
    return manifest


_DB_FILES = {"sqlite": "database.sqlite3", "pg_dump": "database.pgdump", "dumpdata": "database.xml"}
