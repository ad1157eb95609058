"""Benchmarks: each prints figures as ratios to a baseline measured in the same run."""

from __future__ import annotations

from pathlib import Path


def open_ingest_world(work: Path, built: bool = False) -> Path:
    """Point Django at the world ``shijian bench ingest`` left in ``work`` (its SQLite register, its lake), set it
    up and bring its database to this code's migrations; returns the resolved folder."""
    import os

    work = work.resolve()
    db = work / "ingest.sqlite3"
    needed = work / "lake" / ("build/by_entity" if built else "records")
    if not db.exists() or not needed.exists():
        what = "built world" if built else "world"
        raise FileNotFoundError(f"no {what} in {work}: run `shijian bench ingest --scale foshan` first")
    os.environ["SHIJIAN_DATABASE_URL"] = f"sqlite:///{db}"
    os.environ["SHIJIAN_LAKE"] = str(work / "lake")
    os.environ.setdefault("SHIJIAN_HOME", str(work / "home"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shijian.config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)  # the world may predate this code's migrations
    return work
