"""智慧运行中心: today's work, overdue items, draws waiting, loads and their reconciliation, model health."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from django.urls import reverse
from pytest_django import Settings

from shijian.analytics import operations
from shijian.ingest.mapping import load_mappings
from shijian.ingest.pipeline import ingest
from shijian.lake.store import Lake
from tests import draws
from tests.conftest import World


def _world_with_work(world: World, settings: Settings, tmp_path: Path) -> Lake:
    from shijian.hazards import services as hz
    from shijian.supervision.models import Batch, Visit
    from tests.test_hazards import food_batch

    settings.HOME = tmp_path
    batch = food_batch(world, count=2)  # window 2026-03-01 .. 2026-12-31, both entities of the district
    draw = draws.freeze([batch], world.users["samr"], "x")
    assert draws.perform(draw, world.users["samr"], "z").ok
    done = Visit.objects.get(entity=world.entities["hecheng"])
    Visit.objects.filter(pk=done.pk).update(
        status="done", checked_on=dt.date(2026, 5, 20), publish_by=dt.date(2026, 6, 10)
    )
    waiting = Batch.objects.create(
        plan=batch.plan,
        code="P-2",
        name="b2",
        department=world.depts["samr"],
        mode="random",
        count=1,
        window_start=dt.date(2026, 7, 1),
        window_end=dt.date(2026, 7, 31),
    )
    waiting.items.set([world.items["food"]])
    draws.freeze([waiting], world.users["samr"], "y")  # frozen, no seed yet
    hz.open_entry(
        world.entities["yanghe"],
        source="manual",
        title="无证经营",
        department=world.depts["yanghe"],
        scores={"severity": 10, "extent": 5, "confidence": 5},
        user=world.users["yanghe"],
        deadline=dt.date(2026, 3, 1),
        now=dt.datetime(2026, 2, 1, tzinfo=dt.UTC),
    )
    lake = Lake(tmp_path / "lake")
    maps, feed = tmp_path / "maps", tmp_path / "feed"
    maps.mkdir()
    feed.mkdir()
    (maps / "x.toml").write_text(
        '[feed]\nfiles = ["*.csv"]\nsource = "12345"\nrecord_type = "complaint"\n'
        'entity_keys = ["name_address"]\n[columns]\nname = ["名称"]\naddress = ["地址"]\nevent_date = ["日期"]\n',
        encoding="utf-8",
    )
    (feed / "complaints.csv").write_text(
        "名称,地址,日期\n甲,乙,2026-01-02\n甲,乙,2026-01-02\n丙,丁,不是日期\n", encoding="utf-8"
    )
    ingest([feed], load_mappings(maps), lake, workers=1)
    return lake


def test_it_counts_todays_work_what_is_late_and_what_waits(world: World, settings: Settings, tmp_path: Path) -> None:
    lake = _world_with_work(world, settings, tmp_path)
    june = operations.overview(world.users["leader"], dt.date(2026, 6, 20), lake.root)
    assert june["tasks"]["count"] == 1  # yanghe's visit: window open, not checked
    assert june["late_visits"]["count"] == 0
    assert june["awaiting_publication"] == {"count": 1, "late": 1}  # hecheng's result, due 2026-06-10
    assert june["hazards_overdue"]["count"] == 1 and june["hazards_overdue"]["rows"][0].title == "无证经营"
    assert [d.status for d in june["frozen_draws"]] == ["frozen"]
    february = operations.overview(world.users["leader"], dt.date(2026, 2, 25), lake.root)
    assert (february["hazards_due_soon"], february["hazards_overdue"]["count"]) == (1, 0)  # deadline 2026-03-01
    january = operations.overview(world.users["leader"], dt.date(2027, 1, 5), lake.root)
    assert (january["tasks"]["count"], january["late_visits"]["count"]) == (0, 1)
    # Jurisdiction: a town's staff see their town's work, another district's nothing.
    hecheng = operations.overview(world.users["hecheng"], dt.date(2026, 6, 20), lake.root)
    assert (hecheng["tasks"]["count"], hecheng["hazards_overdue"]["count"]) == (0, 0)
    assert hecheng["awaiting_publication"]["count"] == 1
    outsider = operations.overview(world.users["outsider"], dt.date(2026, 6, 20), lake.root)
    assert (outsider["tasks"]["count"], outsider["awaiting_publication"]["count"]) == (0, 0)
    # The load: 3 rows read = 1 accepted + 1 quarantined (bad date) + 1 duplicate.
    loads = june["loads"]
    assert loads["count"] == 1 and loads["not_reconciled"] == 0
    row = loads["latest"][0]
    assert (row["file"], row["rows_read"], row["accepted"], row["quarantined"], row["duplicates"]) == (
        "complaints.csv",
        3,
        1,
        1,
        1,
    )


def test_the_page_links_each_count_to_its_list_and_flags_a_load_that_does_not_reconcile(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    from shijian.risk.models import ModelVersion, Refresh

    lake = _world_with_work(world, settings, tmp_path)
    settings.SHIJIAN_LAKE = lake.root
    report = next(lake.records.glob("source=*/load=*/load.json"))
    tampered = json.loads(report.read_text(encoding="utf-8")) | {"accepted": 5}
    report.write_text(json.dumps(tampered), encoding="utf-8")
    live = ModelVersion.objects.create(
        kind="gbm",
        as_of=dt.date(2026, 1, 1),
        status="live",
        factors=["age_months"],
        metrics={"backtest": {"folds": [{"until": "2025-12-01"}], "mean": {"gbm": {"auc": 0.81}}}},
        artifact="x",
        sha256="x",
    )
    Refresh.objects.create(
        model=live,
        as_of=dt.date(2026, 2, 1),
        entities=3,
        drift={"factors": [{"factor": "age_months", "psi": 0.31, "status": "shift"}], "worst": "shift"},
    )
    page = world.client("leader").get(reverse("operations")).content.decode()
    for link in ("?due=today", "?due=late", "?due=unpublished", "?due=publish_late", "?overdue=1", "?due_within=7"):
        assert link in page
    assert 'id="not-reconciled"' in page and "complaints.csv" in page
    assert "0.81" in page and 'class="drift-shift"' in page
    # The counts drill down: the task list filtered the same way.
    tasks = world.client("leader").get(reverse("task_list") + "?due=unpublished").content.decode()
    assert world.entities["hecheng"].name in tasks and world.entities["yanghe"].name not in tasks
    assert world.client("inspector").get(reverse("operations")).status_code == 403
