"""问题隐患库: grading, every transition, permissions, the overdue job, counts, reminders, the draw feed."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from pytest_django import DjangoAssertNumQueries, Settings

from shijian.hazards import grading, services, workflow
from shijian.hazards.models import Hazard, Notification, Transition
from tests import draws
from tests.conftest import World

NOW = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _english() -> Any:
    from django.utils import translation

    with translation.override("en"):
        yield


# -- grading ---------------------------------------------------------------------------------------------------

score_st = st.fixed_dictionaries(
    {k: st.integers(0, top // 5).map(lambda n: n * 5) for k, top in grading.DIMENSIONS.items()}
)


@given(score_st)
def test_the_grade_is_never_better_than_the_worst_dimension(scores: dict[str, int]) -> None:
    g = grading.grade(scores)
    worst = max(scores.values())
    if worst >= 20:
        assert g == grading.MAJOR
    elif worst >= 15:
        assert g in (grading.SERIOUS, grading.MAJOR)
    # and never better than the total says
    total = sum(scores.values())
    assert grading.ORDER[g] >= grading.ORDER[grading._band(total, grading.TOTAL_BANDS)]


def test_grading_examples_and_bad_scores() -> None:
    assert grading.grade({"severity": 0, "extent": 0, "confidence": 20}) == grading.MAJOR  # capped by the worst
    assert grading.grade({"severity": 10, "extent": 10, "confidence": 10}) == grading.SERIOUS  # total 30
    assert grading.grade({"severity": 5, "extent": 5, "confidence": 10}) == grading.GENERAL
    with pytest.raises(grading.GradingError, match="steps of 5"):
        grading.grade({"severity": 7, "extent": 0, "confidence": 0})
    with pytest.raises(grading.GradingError):
        grading.grade({"severity": 30, "extent": 0, "confidence": 0})


# -- the world -------------------------------------------------------------------------------------------------


def entry(world: Any, *, dept: str = "hecheng", entity: str = "hecheng", user: str = "hecheng", **kw: Any) -> Hazard:
    args = {
        "source": "manual",
        "title": "后厨卫生不达标",
        "department": world.depts[dept],
        "scores": {"severity": 10, "extent": 5, "confidence": 5},
        "user": world.users[user],
        "now": NOW,
    } | kw
    return services.open_entry(world.entities[entity], **args)


def move(world: Any, h: Hazard, *states: str, user: str = "hecheng") -> Hazard:
    for s in states:
        h = services.change(h, s, world.users[user], reason="步骤", evidence="现场照片 3 张", now=NOW)
    return h


PATHS = {
    workflow.REGISTERED: [],
    workflow.ASSIGNED: [workflow.ASSIGNED],
    workflow.RECTIFYING: [workflow.ASSIGNED, workflow.RECTIFYING],
    workflow.SUBMITTED: [workflow.ASSIGNED, workflow.RECTIFYING, workflow.SUBMITTED],
    workflow.CLOSED: [workflow.ASSIGNED, workflow.RECTIFYING, workflow.SUBMITTED, workflow.CLOSED],
    workflow.ESCALATED: [workflow.ESCALATED],
    workflow.ENFORCEMENT_CLOSED: [workflow.ESCALATED, workflow.ENFORCEMENT_CLOSED],
}


@pytest.mark.parametrize(("old", "new"), list(itertools.product(workflow.STATES, workflow.STATES)))
def test_every_transition_is_allowed_or_refused_as_the_table_says(world: World, old: str, new: str) -> None:
    h = move(world, entry(world), *PATHS[old])
    assert h.state == old
    before = Transition.objects.filter(hazard=h).count()
    if (old, new) in workflow.TRANSITIONS:
        h = services.change(h, new, world.users["hecheng"], reason="依法处理", evidence="整改报告", now=NOW)
        assert h.state == new
        assert Transition.objects.filter(hazard=h).count() == before + 1
        last = Transition.objects.filter(hazard=h).order_by("-id").first()
        assert last is not None
        assert (last.old_state, last.new_state, last.actor) == (old, new, world.users["hecheng"])
        assert (h.closed_at is not None) == (new in workflow.ENDED)
    else:
        with pytest.raises(services.HazardError, match="cannot go from"):
            services.change(h, new, world.users["hecheng"], reason="x", evidence="y", now=NOW)
        assert Hazard.objects.get(pk=h.pk).state == old
        assert Transition.objects.filter(hazard=h).count() == before


def test_roles_reasons_evidence_and_departments(world: World) -> None:
    h = entry(world)
    with pytest.raises(services.HazardError, match="reason"):
        services.change(h, workflow.ASSIGNED, world.users["hecheng"], reason=" ")
    # the district leader may assign, not start rectification
    h = services.change(h, workflow.ASSIGNED, world.users["leader"], reason="交办")
    with pytest.raises(services.HazardError, match="role"):
        services.change(h, workflow.RECTIFYING, world.users["leader"], reason="x")
    # another department's staff may not act on it
    with pytest.raises(services.HazardError, match="responsible department"):
        services.change(h, workflow.RECTIFYING, world.users["yanghe"], reason="x")
    h = services.change(h, workflow.RECTIFYING, world.users["hecheng"], reason="下达整改通知书")
    with pytest.raises(services.HazardError, match="evidence"):
        services.change(h, workflow.SUBMITTED, world.users["hecheng"], reason="已整改")
    h = services.change(h, workflow.SUBMITTED, world.users["hecheng"], reason="已整改", evidence="整改照片")
    # a failed verification sends it back and makes the problem a hazard
    h = services.change(h, workflow.RECTIFYING, world.users["hecheng"], reason="复核不合格")
    assert h.category == "hazard"


def test_permissions_per_department_and_region(world: World) -> None:
    mine = entry(world)
    theirs = entry(world, dept="yanghe", entity="yanghe", user="yanghe")
    for who, visible in {
        "hecheng": {mine.pk},
        "yanghe": {theirs.pk},
        "leader": {mine.pk, theirs.pk},
        "auditor": {mine.pk, theirs.pk},
        "outsider": set(),
    }.items():
        body = world.client(who).get(reverse("hazard_list"))
        shown = {h.pk for h in body.context["page"].object_list} if body.status_code == 200 else set()
        assert shown == visible, who
    assert world.client("yanghe").get(reverse("hazard_detail", args=[mine.pk])).status_code == 404
    r = world.client("auditor").post(reverse("hazard_detail", args=[mine.pk]), {"new_state": "assigned", "reason": "x"})
    assert r.status_code == 403
    r = world.client("hecheng").post(
        reverse("hazard_detail", args=[mine.pk]), {"new_state": "assigned", "reason": "交办"}
    )
    assert r.status_code == 302 and Hazard.objects.get(pk=mine.pk).state == "assigned"
    assert world.client("admin").get(reverse("hazard_add")).status_code == 403


def test_the_overdue_job_escalates_once_and_notifies(world: World) -> None:
    late = move(world, entry(world, deadline=dt.date(2026, 5, 10)), workflow.ASSIGNED)
    on_time = entry(world, deadline=dt.date(2026, 5, 20))
    submitted = move(world, entry(world, deadline=dt.date(2026, 5, 1)), *PATHS[workflow.SUBMITTED])
    assert services.escalate_overdue(dt.date(2026, 5, 10)) == 0  # due today is not overdue
    assert services.escalate_overdue(dt.date(2026, 5, 11)) == 1
    assert services.escalate_overdue(dt.date(2026, 5, 11)) == 0  # idempotent
    late.refresh_from_db()
    assert late.state == workflow.ESCALATED
    row = Transition.objects.filter(hazard=late).order_by("-id").first()
    assert row is not None
    assert row.system and row.actor is None and row.old_state == workflow.ASSIGNED and "2026-05-10" in row.reason
    # each user of the department whose region covers the entry is told, and no one else
    told = set()
    for n in Notification.objects.filter(hazard=late, kind="escalated"):
        assert n.user is not None
        told.add(n.user.username)
    assert told == {"hecheng", "hecheng_admin"}
    assert {n.department for n in Notification.objects.all()} == {world.depts["hecheng"]}
    assert Hazard.objects.get(pk=on_time.pk).state == workflow.REGISTERED
    assert Hazard.objects.get(pk=submitted.pk).state == workflow.SUBMITTED  # awaiting review: the department's move
    # the dashboard shows the escalation, from the transition table
    stats = {
        s.key: s
        for s in services.dashboard("department", Hazard.objects.all(), Transition.objects.all(), dt.date(2026, 5, 11))
    }
    assert stats[str(world.depts["hecheng"].pk)].escalated_overdue == 1


def test_dashboard_counts_are_single_queries(world: World, django_assert_num_queries: DjangoAssertNumQueries) -> None:
    a = move(world, entry(world, deadline=dt.date(2026, 5, 5)), *PATHS[workflow.CLOSED])
    Transition.objects.filter(hazard=a, new_state="closed").update(at=NOW + dt.timedelta(days=6), days_open=6.0)
    entry(world, deadline=dt.date(2026, 5, 5))  # open and overdue on the 8th
    entry(world, dept="yanghe", entity="yanghe", user="yanghe", deadline=dt.date(2026, 6, 1))
    with django_assert_num_queries(3):
        rows = services.dashboard("department", Hazard.objects.all(), Transition.objects.all(), dt.date(2026, 5, 8))
    by = {r.key: r for r in rows}
    hecheng = by[str(world.depts["hecheng"].pk)]
    assert (hecheng.open, hecheng.overdue, hecheng.closed, hecheng.mean_days_to_rectify) == (1, 1, 1, 6.0)
    assert by[str(world.depts["yanghe"].pk)].overdue == 0
    page = world.client("leader").get(reverse("hazard_dashboard"))
    assert page.status_code == 200 and "6.0" in page.content.decode()


def test_repeats_offenders_and_the_draw_feed(world: World, settings: Settings, tmp_path: Path) -> None:
    first = entry(world)
    assert not first.repeat
    second = entry(world, category="hazard")
    assert second.repeat
    entry(world)
    offenders = list(services.repeat_offenders(NOW - dt.timedelta(days=365), Hazard.objects.all()))
    assert [o["entity_id"] for o in offenders] == [world.entities["hecheng"].pk]
    raises = services.class_raises(now=NOW)
    assert raises == {world.entities["hecheng"].pk: 3}
    counts = services.counts_as_of(NOW + dt.timedelta(seconds=1))
    assert counts[world.entities["hecheng"].pk] == {
        "problem_entries": 2,
        "problem_open": 2,
        "hazard_entries": 1,
        "hazard_open": 1,
    }
    # the draw: the repeat offender is a class-D candidate
    from shijian.supervision import services as sup

    settings.HOME = tmp_path
    Hazard.objects.update(opened_at=timezone.now())
    batch = food_batch(world)
    cands = {c.key: c.risk_class for c in sup.candidates_for(batch)}
    assert cands[world.entities["hecheng"].uscc] == "D" and cands[world.entities["yanghe"].uscc] == "B"
    batch.raise_hazard_entities = False
    assert {c.risk_class for c in sup.candidates_for(batch)} == {"B"}


def food_batch(world: Any, **kw: Any) -> Any:
    """A purely random batch of one entity for the catering item, in a 2026 plan of the district bureau."""
    from shijian.supervision.models import Batch, Plan

    plan = Plan.objects.create(
        code="P",
        name="p",
        year=2026,
        department=world.depts["samr"],
        region_code="440608",
        created_by=world.users["samr"],
    )
    fields = {
        "plan": plan,
        "code": "P-1",
        "name": "b",
        "department": world.depts["samr"],
        "mode": "random",
        "count": 1,
        "window_start": dt.date(2026, 3, 1),
        "window_end": dt.date(2026, 12, 31),
    } | kw
    batch = Batch.objects.create(**fields)
    batch.items.set([world.items["food"]])
    return batch


def test_a_finding_opens_an_entry_in_one_step(world: World, settings: Settings, tmp_path: Path) -> None:
    from shijian.supervision.models import Visit

    settings.HOME = tmp_path
    world.inspectors["samr"].user = world.users["inspector"]
    world.inspectors["samr"].save()
    batch = food_batch(world, scope_regions=["440608004"])
    draw = draws.freeze([batch], world.users["samr"], "x")
    assert draws.perform(draw, world.users["samr"], "y").ok
    visit = Visit.objects.get()
    check = visit.checks.get()
    inspector = world.client("inspector")
    inspector.post(
        reverse("visit_detail", args=[visit.pk]),
        {f"outcome-{check.pk}": "no_problem", "checked_on": timezone.localdate().isoformat()},
    )
    r = inspector.post(reverse("hazard_from_check", args=[check.pk]))
    assert r.status_code == 302 and not Hazard.objects.exists()  # no finding, no entry
    check.outcome = "corrected"
    check.note = "冷藏柜温度超标"
    check.save()
    page = inspector.get(reverse("visit_detail", args=[visit.pk])).content.decode()
    assert reverse("hazard_from_check", args=[check.pk]) in page
    r = inspector.post(reverse("hazard_from_check", args=[check.pk]))
    h = Hazard.objects.get()
    assert r["Location"] == h.get_absolute_url()
    assert (h.source, h.entity, h.department, h.description) == (
        "inspection",
        visit.entity,
        world.depts["hecheng"],
        "冷藏柜温度超标",
    )
    inspector.post(reverse("hazard_from_check", args=[check.pk]))
    assert Hazard.objects.count() == 1  # once per finding


def test_reminders_from_the_lake(world: World, tmp_path: Path) -> None:
    import duckdb

    folder = tmp_path / "build" / "by_entity" / "bucket=0"
    folder.mkdir(parents=True)
    e = world.entities
    e["hecheng"].established_on = dt.date(2020, 1, 1)
    e["hecheng"].save()
    e["yanghe"].established_on = dt.date(2020, 1, 1)
    e["yanghe"].save()
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE r AS SELECT * FROM (VALUES "
        f"({e['hecheng'].pk}, 'licence', DATE '2021-06-20', '有效', '食品经营许可证'), "
        f"({e['yanghe'].pk}, 'licence', DATE '2023-01-01', '有效', '食品经营许可证'), "
        f"({e['yanghe'].pk}, 'annual_report', DATE '2026-03-01', '已公示', '年度报告')"
        ") t(entity_id, record_type, event_date, result, detail)"
    )
    con.execute(f"COPY r TO '{folder / 'part.parquet'}' (FORMAT parquet)")
    counts = services.refresh_reminders(tmp_path, dt.date(2026, 5, 4))
    assert counts == {"annual_report": 1, "licence_expiry": 1}
    from shijian.hazards.models import Reminder

    lic = Reminder.objects.get(kind="licence_expiry")
    assert (lic.entity, lic.due_on) == (e["hecheng"], dt.date(2026, 6, 20))
    assert Reminder.objects.get(kind="annual_report").entity == e["hecheng"]  # Yanghe filed in March
    page = world.client("hecheng").get(reverse("reminder_list"))
    assert page.status_code == 200 and "佛山市荷城餐饮有限公司" in page.content.decode()
    xlsx = world.client("hecheng").get(reverse("reminder_list") + "?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert world.client("yanghe").get(reverse("reminder_list")).context["page"].paginator.count == 0
    # after 30 June annual reports are no longer reminded
    assert services.refresh_reminders(tmp_path, dt.date(2026, 7, 1))["annual_report"] == 0


def test_screens(world: World) -> None:
    h = entry(world)
    c = world.client("hecheng")
    assert "后厨卫生不达标" in c.get(reverse("hazard_list") + "?grade=general").content.decode()
    assert "后厨卫生不达标" not in c.get(reverse("hazard_list") + "?grade=major").content.decode()
    assert c.get(reverse("hazard_list") + "?overdue=1").status_code == 200
    detail = c.get(reverse("hazard_detail", args=[h.pk])).content.decode()
    assert 'id="history"' in detail and "已登记" in detail  # state labels, in Chinese by default
    xlsx = c.get(reverse("hazard_export"))
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    r = c.post(
        reverse("hazard_add"),
        {
            "entity_uscc": world.entities["hecheng"].uscc,
            "title": "消防通道堵塞",
            "source": "complaint",
            "category": "hazard",
            "department": world.depts["hecheng"].pk,
            "severity": "20",
            "extent": "5",
            "confidence": "0",
        },
    )
    assert r.status_code == 302
    new = Hazard.objects.get(title="消防通道堵塞")
    assert new.grade == "major" and new.deadline == timezone.localdate() + dt.timedelta(days=7)
    r = c.post(
        reverse("hazard_add"),
        {
            "entity_uscc": world.entities["chancheng"].uscc,
            "title": "x",
            "source": "manual",
            "category": "problem",
            "department": world.depts["hecheng"].pk,
            "severity": "0",
            "extent": "0",
            "confidence": "0",
        },
    )
    assert r.status_code == 200 and "entity_uscc" in r.context["form"].errors
