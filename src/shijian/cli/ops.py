"""Operations: backup and restore of a whole installation (database, lake, media, keys)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shijian.cli.common import console, django_setup, fail, out

app = typer.Typer()


@app.command("backup")
def backup_command(
    dest: Annotated[Path, typer.Argument(help="the archive to write, e.g. /backup/shijian-2026-12-06.tar")],
) -> None:
    """Back up the database, the record lake, media and keys into one archive with a SHA-256 manifest."""
    django_setup()
    from django.conf import settings

    from shijian.ops.backup import BackupError, backup

    try:
        manifest = backup(dest, Path(settings.HOME), Path(settings.SHIJIAN_LAKE))
    except BackupError as exc:
        fail(str(exc))
    size = sum(int(f["size"]) for f in manifest.files)
    out.print(
        f"backup written to {dest}: {len(manifest.files):,} files, {size:,} bytes, database by {manifest.database}"
    )


@app.command("restore")
def restore_command(
    src: Annotated[Path, typer.Argument(help="an archive written by `shijian backup`")],
    overwrite: Annotated[bool, typer.Option(help="replace a database and lake that already hold data")] = False,
) -> None:
    """Restore an archive into $SHIJIAN_HOME, $SHIJIAN_LAKE and $SHIJIAN_DATABASE_URL (checked file by file)."""
    django_setup()
    from django.conf import settings
    from django.db import connection

    from shijian.ops.backup import BackupError, restore

    if not src.is_file():
        fail(f"no such archive: {src}")
    try:
        manifest = restore(
            src, Path(settings.HOME), Path(settings.SHIJIAN_LAKE), dict(connection.settings_dict), connection.vendor,
            overwrite=overwrite,
        )  # fmt: skip
    except BackupError as exc:
        fail(str(exc))
    console.print(f"restored {len(manifest.files):,} files (backup of {manifest.created}), every SHA-256 checked")
    out.print("run `shijian migrate` if this release is newer than the backup, then `shijian audit verify`")
