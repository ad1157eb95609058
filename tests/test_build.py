"""The whole chain on a small synthetic district: register -> ingest -> build -> entity file on the page."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from django.test import Client
from django.urls import reverse

from shijian.ingest.mapping import load_mappings
from shijian.ingest.pipeline import ingest, summary
from shijian.lake.build import linkage_quality, run_build
from shijian.lake.store import Lake
from shijian.synth.generator import generate, resolve_scale


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("build") / "d"
    return out, generate(resolve_scale("400", records=8_000), 21, out)


@pytest.fixture
def built(district, db, tmp_path, settings):
    from shijian.registry.loader import load_district

    out, manifest = district
    load_district(out, tmp_path / "report")
    lake = Lake(tmp_path / "lake")
    settings.SHIJIAN_LAKE = lake.root
    totals = summary(ingest([out], load_mappings(), lake, workers=1))
    assert totals["reconciles"] and totals["accepted"] == 8_000
    report = run_build(lake, threads=2)
    return out, manifest, lake, report


def test_every_record_is_linked_or_queued_and_links_are_right(built) -> None:
    out, _manifest, lake, report = built
    assert report.records == 8_000
    assert sum(report.linked.values()) + report.unlinked == 8_000
    q = linkage_quality(lake, out / "truth")
    assert q["precision"] == 1.0
    assert q["recall"] >= 0.999
    # Records of entities the register quarantined cannot link: they wait in the review queue.
    con = duckdb.connect()
    unlinked = con.execute(f"SELECT count(*) FROM read_parquet('{lake.root}/build/unlinked.parquet')").fetchone()[0]
    assert unlinked == report.unlinked


def test_entity_files_match_the_records(built) -> None:
    from shijian.registry.models import EntityFile

    _out, _manifest, lake, report = built
    assert EntityFile.objects.count() == report.entities_with_records == report.synced
    assert sum(EntityFile.objects.values_list("records", flat=True)) == sum(report.linked.values())
    f = EntityFile.objects.order_by("-records").first()
    assert f is not None and sum(f.by_type.values()) == f.records and sum(f.by_source.values()) == f.records
    con = duckdb.connect()
    penalties = con.execute(
        f"SELECT count(*) FROM read_parquet('{lake.root}/build/by_entity/*/*.parquet', hive_partitioning = true) "
        f"WHERE entity_id = {f.entity_id} AND record_type = 'penalty'"
    ).fetchone()[0]
    assert f.penalties == penalties == f.by_type.get("penalty", 0)


def test_a_second_build_replaces_the_first(built) -> None:
    from shijian.registry.models import EntityFile

    _out, _manifest, lake, first = built
    again = run_build(lake, threads=1)
    assert again.synced == first.synced and EntityFile.objects.count() == first.synced


def test_the_entity_page_shows_the_file_and_its_timeline(built) -> None:
    from shijian.accounts.models import User
    from shijian.registry.models import EntityFile

    f = EntityFile.objects.order_by("-records").first()
    assert f is not None
    leader = User.objects.create_user("boss", password="x-long-password-9", role="leader", region_code="440608")
    c = Client()
    c.force_login(leader)
    body = c.get(reverse("entity_detail", args=[f.entity_id])).content.decode()
    assert 'id="timeline"' in body and body.count("<tr>") >= 20
    assert f"{f.records}" in body
    r = c.get(reverse("entity_records", args=[f.entity_id]) + "?type=penalty")
    assert r.status_code == 200
    assert r.content.decode().count("<tr>") == min(50, f.penalties) + 1
    outsider = User.objects.create_user("far", password="x-long-password-9", role="leader", region_code="440604")
    c2 = Client()
    c2.force_login(outsider)
    assert c2.get(reverse("entity_records", args=[f.entity_id])).status_code == 404


def test_build_without_records_says_so(db, tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="shijian ingest"):
        run_build(Lake(tmp_path / "empty"))
