from __future__ import annotations

import csv
import hashlib
import os
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from shijian.core.codes import tables, uscc
from shijian.synth.generator import generate, resolve_scale


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("synth") / "d"
    manifest = generate(resolve_scale("1500", records=30_000), 11, out)
    return out, manifest


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.suffix in {".csv", ".json"}:
            h.update(p.read_bytes())
    return h.hexdigest()


def test_the_same_seed_gives_the_same_district(district: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    out, _ = district
    again = generate(resolve_scale("1500", records=30_000), 11, tmp_path / "again")
    assert _digest(out) == _digest(tmp_path / "again")
    other = generate(resolve_scale("1500", records=0), 12, tmp_path / "other")
    assert (tmp_path / "other" / "register" / "market_register.csv").read_bytes() != (
        out / "register" / "market_register.csv"
    ).read_bytes()
    assert again["register"] == district[1]["register"] and other["seed"] == 12


def test_entities_sit_on_real_villages_with_valid_codes(district: tuple[Path, dict[str, Any]]) -> None:
    out, _ = district
    t = pq.read_table(out / "truth" / "entities.parquet").to_pylist()
    div, ind = tables.divisions(), tables.industries()
    for row in t:
        assert row["region_code"] in div and row["region_code"].startswith("440608")
        assert ind[row["industry_code"]].level == "class"
        if row["uscc"]:
            assert uscc.is_valid(row["uscc"]), row["uscc"]
        assert 0 < row["risk"] < 1
    codes = [r["uscc"] for r in t if r["uscc"]]
    assert len(codes) == len(set(codes))


def test_feeds_are_messy_the_way_departments_deliver_them(district: tuple[Path, dict[str, Any]]) -> None:
    _, manifest = district
    files = manifest["feeds"]["files"]
    assert {f["encoding"] for f in files} == {"utf-8", "gb18030"}
    assert any(f["path"].endswith(".xlsx") for f in files) and any(f["path"].endswith(".csv") for f in files)
    assert len({f["date_format"] for f in files}) >= 3
    assert sum(f["rows"] for f in files) >= manifest["feeds"]["records"]  # duplicates on top
    assert len({f["department"] for f in files}) == manifest["lists"]["departments"]


def test_a_gb18030_feed_decodes_and_carries_records(district: tuple[Path, dict[str, Any]]) -> None:
    out, manifest = district
    f = next(f for f in manifest["feeds"]["files"] if f["encoding"] == "gb18030")
    text = (out / f["path"]).read_bytes().decode("gb18030")
    rows = list(csv.reader(text.splitlines()))
    assert len(rows) - 1 == f["rows"]
    with pytest.raises(UnicodeDecodeError):
        (out / f["path"]).read_bytes().decode("utf-8")


def test_loading_reconciles_quarantines_and_is_idempotent(
    district: tuple[Path, dict[str, Any]], db: None, tmp_path: Path
) -> None:
    from shijian.registry.loader import load_district
    from shijian.registry.models import Department, Entity, Inspector, Responsibility, SpotCheckItem

    out, manifest = district
    result = load_district(out, tmp_path / "report")
    reg = result["register"][0]
    assert reg["reconciles"]
    assert reg["rows_read"] == manifest["register"]["rows"]
    assert reg["quarantined"] == manifest["register"]["invalid_uscc"]
    assert reg["duplicates"] == manifest["register"]["duplicates"]
    assert Entity.objects.count() == reg["loaded"] == 1500 - reg["quarantined"]
    assert Department.objects.count() == manifest["lists"]["departments"]
    assert SpotCheckItem.objects.count() == manifest["lists"]["items"]
    assert Responsibility.objects.count() == manifest["lists"]["responsibilities"]
    assert Inspector.objects.count() == manifest["lists"]["inspectors"]
    if reg["quarantined"]:
        q = Path(reg["quarantine_file"]).read_text(encoding="utf-8-sig")
        assert "invalid USCC" in q
    assert Entity.objects.filter(tags__isnull=False).exists()
    assert (tmp_path / "report" / "load-report.json").exists()

    again = load_district(out, tmp_path / "report2")["register"][0]
    assert again["loaded"] == 0 and again["already_present"] == reg["loaded"] and again["reconciles"]
    assert Entity.objects.count() == reg["loaded"]


def test_the_loader_refuses_a_folder_without_a_register(db: None, tmp_path: Path) -> None:
    from shijian.registry.loader import LoadError, load_district

    with pytest.raises(LoadError, match="register"):
        load_district(tmp_path, tmp_path / "r")


def test_scale_names_are_checked() -> None:
    assert resolve_scale("gaoming").entities == 60_000
    assert resolve_scale("foshan").entities == 780_000
    with pytest.raises(ValueError, match="scale"):
        resolve_scale("shenzhen")


def test_the_loader_names_a_missing_list_file(db: None, tmp_path: Path) -> None:
    from shijian.registry.loader import LoadError, load_district

    (tmp_path / "register").mkdir()
    (tmp_path / "register" / "r.csv").write_text("统一社会信用代码\n", encoding="utf-8")
    (tmp_path / "lists").mkdir()
    with pytest.raises(LoadError, match=r"item_categories\.csv: missing"):
        load_district(tmp_path, tmp_path / "report")


def test_the_district_follows_the_seed_alone_whatever_the_string_hashing() -> None:
    """Python randomises string hashing per process: nothing in the generator may depend on a set's order."""
    import subprocess
    import sys

    code = (
        "import hashlib; from shijian.synth.generator import generate_entities, resolve_scale; "
        "t = generate_entities(resolve_scale('800'), 3); "
        "print(hashlib.sha256(str(t.to_pydict()).encode()).hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True, text=True,
            check=True,
        ).stdout.strip()
        for seed in ("1", "2", "3")
    }  # fmt: skip
    assert len(digests) == 1
