# ruff: noqa: F811
"""Attempts to break ``shijian build --incremental``'s promises (docs/lake.md): each test states one the build
does not keep. Reuses the fixture and helpers of ``tests/test_build_incremental.py``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from django.utils import timezone

from shijian.lake.build import BuildReport, run_build
from shijian.lake.incremental import run_incremental
from shijian.lake.store import Lake
from tests.test_build_incremental import _deliver, _outputs, _same_as_full, district, lake  # noqa: F401


def _pending_pairs() -> set[tuple[str, str]]:
    from shijian.lake.models import LinkReview

    return set(LinkReview.objects.filter(status=LinkReview.Status.PENDING).values_list("name_key", "address_key"))


TWIN = "佛山市高明区双胞胎五金贸易有限公司"
TWIN_AT = ("高明区荷城街道文华路12号", "高明区荷城街道文华路21号")
BETWEEN = "高明区荷城街道文华路1号"


def _queue_a_pair(lake: Lake, tmp_path: Path) -> Any:
    """Two businesses of one name at two addresses, records of that name at a third: a pair for review, queued by
    a full build (the model that scores it trained there)."""
    from shijian.core.codes import uscc
    from shijian.lake.models import LinkReview
    from shijian.registry.models import Entity

    model = Entity.objects.order_by("id").first()
    assert model is not None
    for k, address in enumerate(TWIN_AT):
        twin = Entity.objects.get(pk=model.pk)
        twin.pk, twin.uscc, twin.reg_no = None, uscc.make("92", "440608", f"MA5T000{k}"), f"440608T{k}"
        twin.name, twin.address = TWIN, address
        twin.save()
    _deliver(
        tmp_path,
        lake,
        "440608-TWIN",
        [(f"T{k}", "", TWIN, BETWEEN, "complaint", "2026-11-20", "", "已受理") for k in range(2)],
    )
    run_build(lake, threads=2)
    review = LinkReview.objects.filter(status=LinkReview.Status.PENDING, address_key=BETWEEN).first()
    return review


def test_a_rejected_review_leaves_the_queue(lake: Lake, tmp_path: Path) -> None:
    """An official rejects every candidate of a queued pair (LinkDecision with no entity, as review_decide
    records it): a full build drops the pair from the queue; the incremental build puts it back as pending."""
    from shijian.lake.models import LinkDecision, LinkReview

    review = _queue_a_pair(lake, tmp_path)
    assert review is not None, "the fixture's build queues some pairs for review"
    LinkDecision.objects.create(
        name_key=review.name_key, address_key=review.address_key, entity=None, decided_at=timezone.now(), reason="无"
    )
    review.status = LinkReview.Status.REJECTED
    review.save()
    report = run_incremental(lake, threads=2)
    assert report.mode == "incremental", report.reason
    queued_again = (review.name_key, review.address_key) in _pending_pairs()
    run_build(lake, threads=2)
    assert (review.name_key, review.address_key) not in _pending_pairs(), "a full build drops a decided pair"
    assert not queued_again, "the incremental build queued the decided pair again"


def test_a_delivery_repeating_earlier_key_combinations_is_added(lake: Lake, tmp_path: Path) -> None:
    """The same rows delivered again (a second department's copy), with duplicate rows inside the delivery: the
    key combinations are all known, so the build adds the records and equals a full build."""
    from tests.test_build_incremental import _delivery_rows

    rows = _delivery_rows()[:10]
    _deliver(tmp_path, lake, "440608-COPY1", rows + [("X" + r[0], *r[1:]) for r in rows[:3]])
    first = run_incremental(lake, threads=2)
    assert first.mode == "incremental", first.reason
    _deliver(tmp_path, lake, "440608-COPY2", rows)
    second = run_incremental(lake, threads=2)
    assert (second.mode, second.reason, second.records) == ("incremental", "", 10)
    _same_as_full(lake, second)


def test_penalty_amounts_add_up_as_a_full_build_sums_them(lake: Lake, tmp_path: Path) -> None:
    """Amounts are doubles (万元): the incremental build adds the delivery's sum to the old one, a full build sums
    all records in one pass; both must agree on the entity file."""
    con = duckdb.connect()
    b = lake.root / "build"
    row = con.execute(
        f"SELECT entity_id FROM read_parquet('{b}/entity_files.parquet') WHERE penalties >= 2 "
        "ORDER BY entity_id LIMIT 1"
    ).fetchone()
    assert row is not None
    from shijian.registry.models import Entity

    e = Entity.objects.get(pk=row[0])
    amounts = ["1234.5", "777.7", "3333.3", "0.1", "0.2"]
    rows = [(f"P{k}", e.uscc, e.name, e.address, "penalty", "2026-11-20", a, "罚款") for k, a in enumerate(amounts)]
    _deliver(tmp_path, lake, "440608-FINES", rows)
    report = run_incremental(lake, threads=2)
    _same_as_full(lake, report)


def test_several_incremental_builds_in_a_row_equal_one_full_build(lake: Lake, tmp_path: Path) -> None:
    """Parts accumulate (deliveries, a rename that rewrites buckets, another delivery) before any full build; the
    entity page's timeline counts every record of the entity file."""
    from shijian.lake.query import entity_timeline
    from shijian.registry.models import Entity, EntityFile
    from tests.test_build_incremental import _delivery_rows

    rows = _delivery_rows()
    _deliver(tmp_path, lake, "440608-R1", rows[:15])
    assert run_incremental(lake, threads=2).mode == "incremental"
    ents = list(Entity.objects.exclude(uscc="").order_by("id")[:3])
    Entity.objects.filter(pk=ents[1].pk).update(name="佛山市高明区连续改名有限公司", address="高明区连续路1号")
    assert run_incremental(lake, threads=2).mode == "incremental"
    _deliver(tmp_path, lake, "440608-R2", rows[15:])
    last = run_incremental(lake, threads=2)
    assert last.mode == "incremental", last.reason
    for f in EntityFile.objects.filter(entity_id__in=[e.pk for e in Entity.objects.order_by("id")[:60]]):
        assert entity_timeline(lake, f.entity_id, limit=1).total == f.records, f.entity_id
    _same_as_full(lake, last)


def test_an_entity_struck_off_with_new_records_in_the_same_increment(lake: Lake, tmp_path: Path) -> None:
    from shijian.registry.models import Entity

    gone = Entity.objects.exclude(uscc="").order_by("id")[5]
    rows = [(f"G{k}", gone.uscc, gone.name, gone.address, "complaint", "2026-11-20", "", "已受理") for k in range(3)]
    rows.append(("G9", "", gone.name, gone.address, "inspection", "2026-11-21", "", "责令整改"))
    _deliver(tmp_path, lake, "440608-GONE", rows)
    Entity.objects.filter(pk=gone.pk).delete()
    report = run_incremental(lake, threads=2)
    _same_as_full(lake, report)


def _accept(review: Any) -> Any:
    """An official's decision: the review's best candidate is the entity."""
    from shijian.lake.models import LinkDecision

    return LinkDecision.objects.create(
        name_key=review.name_key,
        address_key=review.address_key,
        entity_id=review.best_entity_id,
        decided_at=timezone.now(),
        reason="同一",
    )


def test_a_decision_withdrawn_is_followed_as_a_full_build_would(lake: Lake, tmp_path: Path) -> None:
    """Accepted, then the decision deleted (an administrator withdraws it): the pair goes back to the model."""
    review = _queue_a_pair(lake, tmp_path)
    assert review is not None
    decision = _accept(review)
    assert run_incremental(lake, threads=2).mode == "incremental"
    decision.delete()
    withdrawn = run_incremental(lake, threads=2)
    _same_as_full(lake, withdrawn)


def test_a_decision_changed_to_none_is_followed_as_a_full_build_would(lake: Lake, tmp_path: Path) -> None:
    review = _queue_a_pair(lake, tmp_path)
    assert review is not None
    decision = _accept(review)
    _same_as_full(lake, run_incremental(lake, threads=2))
    decision.entity = None
    decision.save()
    _same_as_full(lake, run_incremental(lake, threads=2))


@pytest.mark.parametrize("at", [1, 4, 9, 10])
def test_a_crash_part_way_through_the_commit(
    lake: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, at: int
) -> None:
    """The machine goes down after ``at`` of the commit's renames (a relink and a delivery: parts, rewritten
    buckets, keys, deletions); the next build finishes the commit and every record is counted once."""
    import os

    from shijian.lake import state as build_state
    from shijian.registry.models import Entity
    from tests.test_build_incremental import _delivery_rows

    _deliver(tmp_path, lake, "440608-CRASH", _delivery_rows())
    ents = list(Entity.objects.exclude(uscc="").order_by("id")[:3])
    Entity.objects.filter(pk=ents[1].pk).update(name="佛山市高明区崩溃改名有限公司", address="高明区崩溃路1号")

    class Crash(Exception):
        pass

    real_replace, real_commit, count = os.replace, build_state.commit, [0, False]

    def replace(src: Any, dst: Any) -> None:
        if count[1]:
            count[0] += 1
            if count[0] == at:
                raise Crash
        real_replace(src, dst)

    def commit(*args: Any, **kwargs: Any) -> None:
        count[1] = True
        real_commit(*args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(build_state, "commit", commit)
    with pytest.raises(Crash):
        run_incremental(lake, threads=2)
    monkeypatch.undo()
    again = run_incremental(lake, threads=2)
    assert not (lake.root / "build.tmp").exists()
    after = _outputs(lake)
    total = duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{lake.records_glob()}')").fetchall()[0][0]
    assert sum(f[1] for f in after["files"]) + len(after["unlinked"]) == total
    assert len(after["by_entity"]) + len(after["unlinked"]) == total
    run_build(lake, threads=2)
    assert _outputs(lake) == after, again.reason


def test_a_tax_grade_on_the_same_day_as_an_earlier_one(lake: Lake, tmp_path: Path) -> None:
    """A tax record dated the day of the entity's latest tax record, with another grade (a correction): the merge
    takes the delivery's grade on a tie; the full build's arg_max over equal dates must agree."""
    from shijian.registry.models import Entity

    b = lake.root / "build"
    con = duckdb.connect()
    rows = con.execute(
        f"SELECT entity_id, tax_on, tax_grade FROM read_parquet('{b}/entity_files.parquet') "
        "WHERE tax_on IS NOT NULL ORDER BY entity_id LIMIT 5"
    ).fetchall()
    assert rows
    delivery = []
    for k, (entity_id, tax_on, grade) in enumerate(rows):
        e = Entity.objects.get(pk=entity_id)
        other = "D" if grade != "D" else "A"
        delivery.append((f"TX{k}", e.uscc, e.name, e.address, "tax", tax_on.isoformat(), "", other))
    _deliver(tmp_path, lake, "440608-TAXFIX", delivery)
    ids = [r[0] for r in rows]

    def grades() -> list[tuple[int, str]]:
        from shijian.registry.models import EntityFile

        return sorted(EntityFile.objects.filter(entity_id__in=ids).values_list("entity_id", "tax_grade"))

    report = run_incremental(lake, threads=2)
    assert report.mode == "incremental", report.reason
    incremental = grades()
    fulls = []
    for _ in range(4):
        run_build(lake, threads=2)
        fulls.append(grades())
    # The full build's arg_max(result, event_date) breaks ties by scan order: its grade changes from build to build.
    assert all(f == incremental for f in fulls), f"before: {[(r[0], r[2]) for r in rows]}; full builds: {fulls}"


@pytest.mark.xfail(
    strict=True,
    reason="the full build queues the pair for review, the incremental build (last build's model, kept) does not: "
    "within the documented exception (model not retrained) unless the scoring itself differs; not settled",
)
def test_a_name_no_longer_unique_after_a_registration(lake: Lake, tmp_path: Path) -> None:
    """Records linked only by a name that one entity carried; a second business registers under that name: the
    link by name no longer holds, the records go to the model (and review) as in a full build."""
    from shijian.core.codes import uscc
    from shijian.registry.models import Entity

    x = Entity.objects.exclude(uscc="").order_by("id")[7]
    rows = [(f"U{k}", "", x.name, "高明区某处临时摊位8号", "complaint", "2026-11-20", "", "已受理") for k in range(2)]
    _deliver(tmp_path, lake, "440608-BYNAME", rows)
    first = run_incremental(lake, threads=2)
    assert first.linked.get("name") == 2, first.linked
    y = Entity.objects.get(pk=x.pk)
    y.pk, y.uscc, y.reg_no, y.address = None, uscc.make("92", "440608", "MA5Y0001"), "440608Y1", "高明区另一处1号"
    y.save()
    _same_as_full(lake, run_incremental(lake, threads=2))


def test_two_builds_at_once_do_not_count_a_load_twice(
    live_db: None, lake: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two ``build`` jobs at once (SHIJIAN_JOBS_WORKERS=2: two feeds' loads finishing together, or a job and the
    CLI): B starts while A is between reading the state and staging. B waits for A; then finds nothing to add."""
    import threading
    import time

    from shijian.lake import incremental
    from tests.test_build_incremental import _delivery_rows

    _deliver(tmp_path, lake, "440608-RACE", _delivery_rows())
    real, calls = incremental.snapshot_decisions, []  # type: ignore[attr-defined]
    second: list[BuildReport] = []

    def build_b() -> None:
        from django.db import connection

        try:
            second.append(run_incremental(lake, threads=2))
        finally:
            connection.close()

    b = threading.Thread(target=build_b)

    def meanwhile(lake_: Lake) -> Path:
        calls.append(1)
        if len(calls) == 1:  # A has read the state and listed the loads: B starts now
            b.start()
            time.sleep(1.0)
            assert b.is_alive(), "the second build did not wait for the first"
        return real(lake_)

    monkeypatch.setattr(incremental, "snapshot_decisions", meanwhile)
    a = run_incremental(lake, threads=2)
    b.join(timeout=120)
    monkeypatch.undo()
    assert a.mode == "incremental" and a.new_loads == 1
    assert second and (second[0].mode, second[0].reason) == ("incremental", "nothing changed since the last build")
    after = _outputs(lake)
    total = duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{lake.records_glob()}')").fetchall()[0][0]
    counted = sum(f[1] for f in after["files"]) + len(after["unlinked"])
    in_db = sum(row[1] for row in after["db"]) + len(after["unlinked"])
    assert (counted, in_db) == (total, total), "a load counted twice"


def test_records_without_a_name_delivered_again(lake: Lake, tmp_path: Path) -> None:
    """Records that carry a code but no name or address (a tax feed), delivered in two loads: the second brings
    only known key combinations and must be added, not rebuilt in full."""
    from shijian.registry.models import Entity

    ents = list(Entity.objects.exclude(uscc="").order_by("id")[:5])
    rows = [(f"C{k}", e.uscc, "", "", "tax", "2026-11-20", "", "B") for k, e in enumerate(ents)]
    _deliver(tmp_path, lake, "440608-CODES1", rows)
    first = run_incremental(lake, threads=2)
    assert first.mode == "incremental", first.reason
    _deliver(tmp_path, lake, "440608-CODES2", [("E" + r[0], *r[1:]) for r in rows])
    second = run_incremental(lake, threads=2)
    assert (second.mode, second.reason) == ("incremental", ""), second.reason
    _same_as_full(lake, second)


def test_a_queued_pair_whose_best_candidate_is_struck_off(lake: Lake, tmp_path: Path) -> None:
    """A pair waits for review between two businesses; the best candidate is struck from the register (its name is
    then one business's: the pair links by name). Held: the incremental build relinks it as the full build does."""
    from shijian.registry.models import Entity

    review = _queue_a_pair(lake, tmp_path)
    assert review is not None
    Entity.objects.filter(pk=review.best_entity_id).delete()
    report = run_incremental(lake, threads=2)
    assert report.mode == "incremental", report.reason

    def where() -> tuple[bool, list[tuple[Any, ...]]]:
        b = lake.root / "build"
        linked = (
            duckdb.connect()
            .execute(
                f"SELECT record_id, entity_id, link_method FROM read_parquet('{b}/by_entity/*/*.parquet') "
                "WHERE source = '440608-TWIN' ORDER BY record_id"
            )
            .fetchall()
        )
        return (review.name_key, review.address_key) in _pending_pairs(), linked

    incremental = where()
    run_build(lake, threads=2)
    assert incremental == where(), "(queued for review, links of the pair's records): incremental, then full"
