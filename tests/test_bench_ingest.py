"""`shijian bench ingest` end to end at a tiny scale: ingest alone, then the build alone on what it left."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def _bench(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SHIJIAN_HOME": str(tmp_path / "home"),
        "SHIJIAN_BENCH_SYNTH": str(tmp_path / "synth"),
    }
    env.pop("SHIJIAN_DATABASE_URL", None)
    cmd = [sys.executable, "-m", "shijian.cli", "bench", "ingest", "--scale", "150", "--work", str(tmp_path / "w")]
    return subprocess.run([*cmd, *args], env=env, capture_output=True, text=True, timeout=600)


def _report(out: str) -> dict[str, object]:
    return json.loads(out[out.index("{") :])  # type: ignore[no-any-return]


def test_build_only_rebuilds_what_the_ingest_left(tmp_path: Path) -> None:
    r = _bench(tmp_path, "--build-only")
    assert r.returncode == 2, r.stderr
    assert "nothing to rebuild" in r.stderr and "Traceback" not in r.stderr
    r = _bench(tmp_path, "--build-only", "--no-build")
    assert r.returncode == 2 and "nothing to do" in r.stderr, r.stderr

    r = _bench(tmp_path, "--no-build")
    assert r.returncode == 0, r.stderr
    report = _report(r.stdout)
    ingest = report["ingest"]
    assert isinstance(ingest, dict)
    assert ingest["reconciles"] is True and ingest["rows_read"] > 20_000
    assert sum(ingest["files_by_engine"].values()) == ingest["loaded"]
    parts = ingest["parts"]  # the GB18030 files and the rest, timed apart: together, the whole ingest
    assert sum(part["rows"] for part in parts.values()) == ingest["rows_read"]
    assert parts["gb18030_csv"]["files"] > 0 and parts["utf8_csv_and_excel"]["files"] > 0
    peak = report["peak_rss_mb"]
    assert isinstance(peak, dict)
    assert 0 < ingest["peak_rss_mb_largest_worker"] == peak["largest_worker"]

    r = _bench(tmp_path, "--build-only")
    assert r.returncode == 0, r.stderr
    report = _report(r.stdout)
    assert "ingest" not in report  # nothing ingested again
    build = report["build"]
    assert isinstance(build, dict)
    assert sum(build["linked"].values()) + build["unlinked"] == ingest["accepted"]
    assert build["entity_files"] > 100 and build["seconds_detail"]["by_entity write"] > 0
    pages = report["entity_page_ms"]  # the whole entity page, timeline included, through Django
    assert isinstance(pages, dict) and pages["pages"] > 0 and 0 < pages["median"] <= pages["p95"]

    # `bench search` on the same world: the index the build made answers every question as a scan does.
    env = {**os.environ, "SHIJIAN_HOME": str(tmp_path / "home")}
    env.pop("SHIJIAN_DATABASE_URL", None)
    cmd = [sys.executable, "-m", "shijian.cli", "bench", "search", "--work", str(tmp_path / "w")]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    search = _report(r.stdout)
    assert isinstance(search["texts"], int) and search["texts"] > 50 and "index_build" not in search
    assert search["counts_differing_from_scan"] == 0 and search["questions"] == 49
    per_user = search["per_user"]
    assert isinstance(per_user, dict) and set(per_user) == {
        "superuser",
        "city official",
        "district leader",
        "town clerk",
    }

    # `bench join` on the same world: both plans of the by-entity pass write the same records; the build's plan
    # keeps the keys as the hash table. Below five it refuses (the baseline would spill at scale).
    cmd = [sys.executable, "-m", "shijian.cli", "bench", "join", "--work", str(tmp_path / "w")]
    r = subprocess.run([*cmd, "--every", "2"], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "at least 5" in r.stderr and "Traceback" not in r.stderr, r.stderr
    r = subprocess.run([*cmd, "--every", "5"], env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    join = _report(r.stdout)
    duckdb_plan, keys_plan = join["duckdb"], join["keys"]
    assert isinstance(duckdb_plan, dict) and isinstance(keys_plan, dict)
    assert 0 < keys_plan["written"] == duckdb_plan["written"] <= keys_plan["records"] == duckdb_plan["records"]
    assert keys_plan["build_side"] == "keys" and keys_plan["peak_rss_mb"] > 0 and keys_plan["spilled_mb"] >= 0
    assert duckdb_plan["build_side"] in ("keys", "records")  # as the pass planned it (a tiny world may build either)
    assert isinstance(join["ratio_seconds"], float) and isinstance(join["ratio_peak_memory"], float)
