"""What a build was made from (``build/state.json``) and the commit that swaps a build's outputs in.

A full build writes the state last, after the database sync, and removes it first: a build that stopped half-way
leaves no state, and the next ``--incremental`` build falls back to a full one. The state names the loads the build
read, a digest of the register's linkage keys and of officials' linkage decisions, the bucket count, whether records
found their keys by hash, the DuckDB version that computed those hashes, and the incremental parts added since.

An incremental build stages every output under ``build.tmp/`` and then commits in two moves: a ``COMMIT`` plan that
lists the renames and the files they replace (written and fsynced once everything is staged), then the plan carried
out and the new state written last. Any build that starts and finds a ``COMMIT`` plan finishes it first (roll
forward); staged files without one are thrown away (nothing was visible yet). A crash at any point leaves the
previous build or the new one, never a mixture, and never the same load counted twice.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

from shijian.lake.sql import sql_literal
from shijian.lake.store import Lake

STATE = "state.json"
COMMIT = "COMMIT"


@dataclass
class BuildState:
    loads: list[str]  # the records.parquet files read, relative to the lake root, sorted
    register: str  # digest of the register's linkage keys (``entities.parquet``)
    decisions: str  # digest of officials' linkage decisions (``decisions.parquet``)
    buckets: int
    key_hash: bool
    duckdb: str = duckdb.__version__
    parts: list[str] = field(default_factory=list)  # incremental builds since the full one, oldest first
    synced: bool = False  # the database holds this build's entity files
    register_version: int | None = None  # the register's change counter when the build read it
    search_tokens: str = ""  # the full-text tokenizer's version the index was written with (``fulltext.tokens``)


TRIGGERS = {
    "sqlite": ("lake_register_ai", "lake_register_ad", "lake_register_au"),
    "postgresql": ("lake_register_ai", "lake_register_ad", "lake_register_au", "lake_register_at"),
}


def register_version() -> int | None:
    """The register's change counter (``lake.RegisterVersion``), or None where it cannot be trusted: another
    database, or a trigger missing (SQLite drops a table's triggers when a migration rebuilds it)."""
    from django.db import connection

    names = TRIGGERS.get(connection.vendor)
    if names is None:
        return None
    marks = ", ".join(["%s"] * len(names))
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute(f"SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN ({marks})", names)
        else:
            cur.execute(
                f"SELECT count(*) FROM pg_trigger WHERE tgname IN ({marks}) AND tgenabled <> 'D' "
                "AND tgrelid = 'registry_entity'::regclass",
                names,
            )
        found = cur.fetchone()
        if not found or found[0] != len(names):
            return None
        cur.execute("SELECT n FROM lake_registerversion WHERE id = 1")
        row = cur.fetchone()
    return int(row[0]) if row else None


@contextmanager
def build_lock(lake: Lake) -> Iterator[None]:
    """One build of a lake at a time (a job after each load, a schedule, the command line): the next waits.
    Two builds at once would each add the same new load to what the other wrote."""
    with lake.lock("build.lock"):
        yield


def state_path(lake: Lake) -> Path:
    return lake.root / "build" / STATE


def read_state(lake: Lake) -> BuildState | None:
    path = state_path(lake)
    if not path.exists():
        return None
    try:
        return BuildState(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError):
        return None  # unreadable: treated as no state (the next build is a full one)


def write_state(lake: Lake, state: BuildState) -> None:
    path = state_path(lake)
    tmp = path.with_suffix(".json.new")
    tmp.write_text(json.dumps(asdict(state), ensure_ascii=False, indent=1), encoding="utf-8")
    _fsync(tmp)
    os.replace(tmp, path)


def drop_state(lake: Lake) -> None:
    state_path(lake).unlink(missing_ok=True)


def record_files(lake: Lake) -> list[str]:
    """Every committed load's records, relative to the lake root, sorted: what a build reads, listed once."""
    return sorted(str(p.relative_to(lake.root)) for p in lake.records.glob("source=*/load=*/records.parquet"))


def digest(parquet: Path, columns: str) -> str:
    """An order-independent digest of a table's rows (count, xor and sum of row hashes): equal tables, equal digests."""
    con = duckdb.connect()
    row = con.execute(
        f"SELECT count(*), coalesce(bit_xor(h), 0), coalesce(sum(h::HUGEINT), 0) "
        f"FROM (SELECT hash({columns}) AS h FROM read_parquet({sql_literal(parquet)}))"
    ).fetchone()
    con.close()
    return ":".join(str(x) for x in row) if row else "0:0:0"


def _fsync(path: Path) -> None:
    with path.open("rb") as fh:
        os.fsync(fh.fileno())


def commit(
    lake: Lake, tmp: Path, moves: list[tuple[str, str]], state: BuildState, deletions: list[str] | None = None
) -> None:
    """Swap staged files in: ``moves`` are (path under ``tmp``, path under ``build/``) pairs, then ``deletions``
    (paths under ``build/`` that the moved files replace), then the state."""
    (tmp / "state.json").write_text(json.dumps(asdict(state), ensure_ascii=False, indent=1), encoding="utf-8")
    marker = tmp / COMMIT
    plan = {"moves": [*moves, ["state.json", STATE]], "deletions": deletions or []}
    marker.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    _fsync(marker)
    roll_forward(lake, tmp)


def roll_forward(lake: Lake, tmp: Path) -> bool:
    """Finish a commit that a crash interrupted (``COMMIT`` present), or discard what was staged. True if it
    finished one."""
    marker = tmp / COMMIT
    if not tmp.exists():
        return False
    finished = False
    if marker.exists():
        out = lake.root / "build"
        plan = json.loads(marker.read_text(encoding="utf-8"))
        state_move = plan["moves"][-1]
        for src, dst in plan["moves"][:-1]:
            staged = tmp / src
            if staged.exists():  # not yet moved
                (out / dst).parent.mkdir(parents=True, exist_ok=True)
                os.replace(staged, out / dst)
        for gone in plan["deletions"]:
            (out / gone).unlink(missing_ok=True)
        if (tmp / state_move[0]).exists():  # the state last: it names what is now in place
            os.replace(tmp / state_move[0], out / state_move[1])
        finished = True
    shutil.rmtree(tmp, ignore_errors=True)
    return finished


def drop_unlisted_parts(lake: Lake, state: BuildState | None) -> int:
    """Incremental parts on disk that no state lists (none should exist; a guard against double counting)."""
    listed = set(state.parts) if state else set()
    dropped = 0
    build = lake.root / "build"
    for p in [*build.glob("by_entity/bucket=*/part-*.parquet"), *build.glob("*/part-*.parquet")]:
        if p.stem.removeprefix("part-") not in listed:
            p.unlink()
            dropped += 1
    return dropped
