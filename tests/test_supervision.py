"""双随机 end to end on the real database: plan, batch, freeze, draw, teams, results, publication, public pages."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from pytest_django import Settings
from typer.testing import CliRunner

from shijian.hazards.models import Notification
from shijian.jobs.models import Job
from shijian.registry.models import Entity, InspectorConflict
from shijian.supervision import calendar, services
from shijian.supervision.draw import DrawError, commitment
from shijian.supervision.models import Batch, Draw, Plan, Visit, VisitItem, VisitStatus
from tests import draws
from tests.conftest import World
from tests.responses import streamed

TODAY = dt.date(2026, 11, 25)


@pytest.fixture(autouse=True)
def _english() -> Any:
    """Service messages are translated; these tests read the English ones (the screens default to Chinese)."""
    from django.utils import translation

    with translation.override("en"):
        yield


more_entities, make_batch = draws.more_entities, draws.make_batch


@pytest.fixture
def plan(world: Any) -> Plan:
    return draws.make_plan(world)


def test_it_draws_and_staffs_a_batch_verifiably(world: World, plan: Plan, tmp_path: Path, settings: Settings) -> None:
    settings.HOME = tmp_path
    more_entities(30)
    batch = make_batch(plan, world)
    draw = draws.freeze([batch], world.users["samr"], "上证综指 2026-03-02 收盘价")
    batch.refresh_from_db()
    assert batch.status == "frozen" and batch.candidates_count == 31  # 30 + the world's Hecheng restaurant
    result = draws.perform(draw, world.users["samr"], "3312.45")
    assert result.ok and result.visits == 10
    draw.refresh_from_db()
    assert draw.status == "drawn" and len(draw.seed) == 64
    for v in Visit.objects.filter(draw=draw):
        team = list(v.members.select_related("inspector__department"))
        assert len(team) >= 2
        # FOOD-02 is answered for by the district bureau and by the Hecheng station: both are on the team
        assert {m.inspector.department.code for m in team} == {"440608-SAMR", "440608004-SAMRS"}
        assert v.checks.count() == 1
    # the published record verifies, from the command line too
    record = services.draw_dir(draw.code) / "record.json"
    from shijian.cli import app
    from shijian.translog.services import export

    (record.parent / "log.json").write_text(json.dumps(export()))
    r = CliRunner().invoke(app, ["draw", "verify", str(record)])
    assert r.exit_code == 0 and "VERIFIED" in r.output, r.output
    data = json.loads((record.parent / services.FULL_RECORD).read_bytes())
    data["outputs"]["visits"][0]["team"].reverse()
    tampered = tmp_path / "tampered" / "record.json"
    tampered.parent.mkdir()
    tampered.write_text(json.dumps(data, ensure_ascii=False))
    log = ["--log", str(record.parent / "log.json")]
    r = CliRunner().invoke(app, ["draw", "verify", str(tampered), "--candidates-dir", str(record.parent), *log])
    assert r.exit_code == 1 and "team" in r.output, r.output
    r = CliRunner().invoke(app, ["log", "verify"])
    assert r.exit_code == 0 and "OK: transparency log consistent, 1 entries" in r.output, r.output
    # a second draw this year for the same item finds only entities not drawn yet
    b2 = make_batch(plan, world, code="GM2026-02", count=100)
    d2 = draws.freeze([b2], world.users["samr"], "x")
    b2.refresh_from_db()
    assert b2.candidates_count == 21
    draws.perform(d2, world.users["samr"], "y")
    drawn_twice = Visit.objects.values("entity_id").annotate(n=__import__("django.db.models").db.models.Count("id"))
    assert all(row["n"] == 1 for row in drawn_twice)


def test_conflicts_and_last_teams_are_avoided_and_unstaffable_candidates_stop_the_freeze(
    world: World, plan: Plan, tmp_path: Path, settings: Settings
) -> None:
    settings.HOME = tmp_path
    more_entities(4)
    samr_officers = list(world.depts["samr"].inspectors.all())
    target = Entity.objects.get(name="高明区测试餐馆0")
    InspectorConflict.objects.create(inspector=samr_officers[0], entity=target, reason="亲属", declared_on=TODAY)
    InspectorConflict.objects.create(inspector=samr_officers[1], person_name="王0", reason="同学", declared_on=TODAY)
    batch = make_batch(plan, world, count=5)
    with pytest.raises(DrawError, match=f"{target.uscc}: no available officer of department 440608-SAMR"):
        draws.freeze([batch], world.users["samr"], "x")
    assert Draw.objects.count() == 0 and Visit.objects.count() == 0
    batch.refresh_from_db()
    assert batch.status == "draft"
    # the conflict ends: the candidates can all be staffed, the freeze goes through and the draw avoids the conflict
    InspectorConflict.objects.filter(person_name="王0").delete()
    draw = draws.freeze([batch], world.users["samr"], "x")
    assert draws.perform(draw, world.users["samr"], "v").ok
    v = Visit.objects.get(entity=target)
    assert samr_officers[0] not in v.inspectors.all()
    # next draw: the entity's last team is not sent again
    b2 = Batch.objects.create(
        plan=plan,
        code="GM2026-02",
        name="复查",
        department=world.depts["samr"],
        mode="random",
        count=5,
        exclude_drawn_this_year=False,
        window_start=dt.date(2026, 6, 1),
        window_end=dt.date(2026, 12, 31),
        scope_regions=["440608004"],
    )
    b2.items.set([world.items["food"]])
    InspectorConflict.objects.all().delete()
    d2 = draws.freeze([b2], world.users["samr"], "x")
    assert draws.perform(d2, world.users["samr"], "w").ok
    again = Visit.objects.get(entity=target, draw=d2)
    assert not set(again.inspectors.all()) & set(v.inspectors.all())  # the last team is not sent again


def test_stratified_batches_respect_item_caps_and_windows(
    world: World, plan: Plan, tmp_path: Path, settings: Settings
) -> None:
    settings.HOME = tmp_path
    more_entities(40)
    capped = Batch.objects.create(
        plan=plan,
        code="GM2026-REG",
        name="公示信息",
        department=world.depts["samr"],
        mode="stratified",
        ratios={"A": "3", "B": "10", "C": "30", "D": "80"},
        window_start=dt.date(2026, 3, 1),
        window_end=dt.date(2026, 5, 31),
    )
    capped.items.set([world.items["reg"]])  # a general item capped at 3%
    with pytest.raises(DrawError, match="capped at 3"):
        draws.freeze([capped], world.users["samr"], "x")
    assert Draw.objects.count() == 0 and Batch.objects.get(pk=capped.pk).status == "draft"
    late = make_batch(
        plan, world, code="GM2026-LATE", window_start=dt.date(2026, 7, 1), window_end=dt.date(2026, 7, 31)
    )
    early = make_batch(
        plan, world, code="GM2026-EARLY", window_start=dt.date(2026, 3, 1), window_end=dt.date(2026, 4, 30)
    )
    with pytest.raises(DrawError, match="share a window"):
        draws.freeze([late, early], world.users["samr"], "x")
    with pytest.raises(DrawError, match="two commitments"):
        services.freeze([late], world.users["samr"], "commit_reveal", commitments=["abc"])


def test_joint_batches_make_one_visit_per_entity_with_commit_reveal(
    world: World, plan: Plan, tmp_path: Path, settings: Settings
) -> None:
    settings.HOME = tmp_path
    more_entities(6)
    food = make_batch(plan, world, code="GM2026-F", count=7, window_end=dt.date(2026, 6, 30))
    reg = Batch.objects.create(
        plan=plan,
        code="GM2026-R",
        name="公示信息",
        department=world.depts["samr"],
        mode="random",
        ratio=3,
        window_start=dt.date(2026, 4, 1),
        window_end=dt.date(2026, 9, 30),
        scope_regions=["440608004"],
    )
    reg.items.set([world.items["reg"]])
    reg.ratio = None
    reg.count = 7
    reg.save()
    world.items["reg"].ratio_cap = None
    world.items["reg"].save()
    from shijian.registry.models import ItemCategory

    c = [commitment("first secret"), commitment("second secret")]
    # nobody in the bureau is qualified for REG: the freeze says so, before any seed exists
    with pytest.raises(DrawError, match=r"7 candidates could not be staffed .*qualified for REG"):
        services.freeze([food, reg], world.users["samr"], "commit_reveal", commitments=c)
    assert Draw.objects.count() == 0
    for officer in world.depts["samr"].inspectors.all():
        officer.qualifications.add(ItemCategory.objects.get(code="REG"))
    draw = services.freeze([food, reg], world.users["samr"], "commit_reveal", commitments=c)
    with pytest.raises(DrawError, match="official 2 does not match"):
        services.perform(draw, world.users["samr"], secrets=["first secret", "wrong"])
    assert services.perform(draw, world.users["samr"], secrets=["first secret", "second secret"]).ok
    assert Visit.objects.count() == 7  # both batches drew all 7 Hecheng entities: one visit each, not two
    for v in Visit.objects.all():
        assert sorted(v.checks.values_list("item__code", flat=True)) == ["FOOD-02", "REG-01"]
        assert (v.window_start, v.window_end) == (dt.date(2026, 4, 1), dt.date(2026, 6, 30))


def _drawn(world: Any, plan: Plan, settings: Any, tmp_path: Any) -> Visit:
    settings.HOME = tmp_path
    more_entities(3)
    batch = make_batch(plan, world, count=4)
    draw = draws.freeze([batch], world.users["samr"], "x")
    draws.perform(draw, world.users["samr"], "v")
    Draw.objects.filter(pk=draw.pk).update(frozen_at=dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC))  # drawn in March
    visit = Visit.objects.filter(members__inspector__user=world.users["inspector"]).first() or Visit.objects.first()
    assert visit is not None
    return visit


def test_an_inspector_records_results_and_the_publication_deadline_counts_working_days(
    world: World, plan: Plan, settings: Settings, tmp_path: Path
) -> None:
    visit = _drawn(world, plan, settings, tmp_path)
    inspector = world.client("inspector")
    if not visit.members.filter(inspector__user=world.users["inspector"]).exists():
        pytest.fail("the inspector user should be on a team (each department has two officers, 4 visits)")
    check = visit.checks.get()
    url = reverse("visit_detail", args=[visit.pk])
    r = inspector.post(
        url, {f"outcome-{check.pk}": "corrected", f"note-{check.pk}": "后厨卫生", "checked_on": "2026-09-24"}
    )
    assert r.status_code == 302
    visit.refresh_from_db()
    assert visit.status == VisitStatus.DONE and visit.checked_on == dt.date(2026, 9, 24)
    # 20 working days after Thu 24 Sep 2026: Mid-Autumn (25-27 Sep) and National Day (1-7 Oct) are not counted,
    # the make-up Saturday 10 Oct is: 28-30 Sep (3), 8-10 Oct (6), 12-16 (11), 19-23 (16), 26-29 (20)
    assert visit.publish_by == dt.date(2026, 10, 29)
    assert calendar.working_days_between(dt.date(2026, 9, 24), visit.publish_by, services.workday_exceptions()) == 20
    # another user's inspector (not on the team) cannot see it; department staff cannot record results
    assert (
        world.client("hecheng").post(url, {f"outcome-{check.pk}": "no_problem", "checked_on": "2026-09-24"}).status_code
        == 403
    )
    future = inspector.post(url, {f"outcome-{check.pk}": "no_problem", "checked_on": "2099-01-01"})
    assert future.status_code == 302 and VisitItem.objects.get(pk=check.pk).outcome == "corrected"
    # publication: overdue shows, staff publish, the public feed masks people
    page = world.client("samr").get(reverse("publication"))
    assert page.status_code == 200 and 'id="overdue-count" class="danger">1<' in page.content.decode()
    assert world.client("inspector").get(reverse("publication")).status_code == 403
    world.client("samr").post(reverse("publication"), {"visit": [visit.pk]})
    visit.refresh_from_db()
    assert visit.status == VisitStatus.PUBLISHED
    anon = world.client("anonymous")
    feed = anon.get(reverse("public_results", args=["json"])).json()
    assert [r["result"] for r in feed["results"]] == ["corrected"]
    assert "王" not in json.dumps(feed, ensure_ascii=False)  # legal representatives never appear
    # individual businesses (个体工商户) are named with a mask; companies in full
    shown = feed["results"][0]["entity_name"]
    assert ("*" in shown) == (visit.entity.entity_type == "individual")
    from shijian.supervision.public import public_entity_name

    assert public_entity_name("高明区测试餐馆12", "individual") == "高明*****12"
    csv_body = anon.get(reverse("public_results", args=["csv"])).content.decode("utf-8-sig")
    assert csv_body.splitlines()[0].startswith("draw,entity_code")
    public = anon.get(reverse("public_draw", args=[visit.draw.code])).content.decode()
    assert (visit.draw.seed in public and "发现问题已责令改正" in public) or "ordered to correct" in public
    # published results are final
    r = inspector.post(url, {f"outcome-{check.pk}": "no_problem", "checked_on": "2026-09-24"})
    assert VisitItem.objects.get(pk=check.pk).outcome == "corrected"


def test_attachments_are_checked_and_private(world: World, plan: Plan, settings: Settings, tmp_path: Path) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    visit = _drawn(world, plan, settings, tmp_path)
    settings.MEDIA_ROOT = tmp_path / "media"
    inspector = world.client("inspector")
    url = reverse("attachment_add", args=[visit.pk])
    exe = SimpleUploadedFile("photo.jpg", b"MZ\x90\x00 not a photo", content_type="image/jpeg")
    inspector.post(url, {"file": exe})
    assert visit.attachments.count() == 0
    settings.SHIJIAN_ATTACHMENT_MAX_BYTES = 100
    big = SimpleUploadedFile("big.png", b"\x89PNG\r\n\x1a\n" + b"0" * 200, content_type="image/png")
    inspector.post(url, {"file": big})
    assert visit.attachments.count() == 0
    settings.SHIJIAN_ATTACHMENT_MAX_BYTES = 10_000
    pdf = SimpleUploadedFile("检查记录.pdf", b"%PDF-1.4\n%...\n", content_type="application/pdf")
    inspector.post(url, {"file": pdf})
    att = visit.attachments.get()
    assert att.content_type == "application/pdf" and len(att.sha256) == 64
    assert inspector.get(reverse("attachment_get", args=[att.pk])).status_code == 200
    assert world.client("anonymous").get(reverse("attachment_get", args=[att.pk])).status_code == 302
    assert world.client("outsider").get(reverse("attachment_get", args=[att.pk])).status_code in (403, 404)


def test_screens_and_permissions(world: World, plan: Plan, settings: Settings, tmp_path: Path) -> None:
    settings.HOME = tmp_path
    more_entities(5)
    samr = world.client("samr")
    r = samr.post(
        reverse("batch_add", args=[plan.pk]),
        {
            "code": "GM2026-W",
            "name": "网页创建的批次",
            "department": world.depts["samr"].pk,
            "items": [world.items["food"].pk],
            "mode": "stratified",
            "ratio_a": "3",
            "ratio_b": "50",
            "ratio_c": "30",
            "ratio_d": "80",
            "random_share": "20",
            "exclude_drawn_this_year": "on",
            "window_start": "2026-03-01",
            "window_end": "2026-12-31",
            "regions": "440608004",
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    batch = Batch.objects.get(code="GM2026-W")
    assert batch.ratios == {"A": "3", "B": "50", "C": "30", "D": "80"}
    bad = samr.post(
        reverse("batch_add", args=[plan.pk]),
        {"code": "X", "name": "x", "mode": "random", "window_start": "2026-05-01", "window_end": "2026-04-01"},
    )
    assert bad.status_code == 200 and "errorlist" in bad.content.decode()
    freeze_form = {
        "batches": [batch.pk],
        "seed_method": "beacon",
        "beacon_source": "深证成指 2026-03-03 收盘价",
        "prefer_region": "on",
    }
    r = samr.post(reverse("plan_freeze", args=[plan.pk]), freeze_form)  # no time for the public value: refused
    assert r.status_code == 302 and not Draw.objects.exists()
    beacon_at = timezone.localtime() + dt.timedelta(hours=2)
    r = samr.post(
        reverse("plan_freeze", args=[plan.pk]), freeze_form | {"beacon_at": beacon_at.strftime("%Y-%m-%dT%H:%M")}
    )
    draw = Draw.objects.get()
    job = Job.objects.get(kind="freeze")  # freezing runs as a job; the request goes to its page
    assert r.status_code == 302 and r["Location"] == reverse("job_detail", args=[job.pk])
    assert job.status == "succeeded" and job.outcome["url"] == reverse("draw_detail", args=[draw.pk])
    assert reverse("draw_detail", args=[draw.pk]) in samr.get(r["Location"]).content.decode()
    public = world.client("anonymous").get(reverse("public_draw", args=[draw.code])).content.decode()
    assert draw.frozen_digest in public and batch.candidates_file in public
    cands = world.client("anonymous").get(reverse("public_draw_file", args=[draw.code, "GM2026-W.candidates.csv"]))
    assert streamed(cands).count(b"\n") == 6
    assert (
        world.client("anonymous").get(reverse("public_draw_file", args=[draw.code, "record.json"])).status_code == 404
    )
    assert (
        world.client("anonymous").get(reverse("public_draw_file", args=[draw.code, "..%2Fsecret_key"])).status_code
        == 404
    )
    # the public value of a later date cannot be entered before that date
    r = samr.post(reverse("draw_detail", args=[draw.pk]), {"public_value": "10234.56"}, follow=True)
    draw.refresh_from_db()
    assert draw.status == "frozen" and "在此之前不能抽取" in r.content.decode()  # (the screens are in Chinese)
    with time_machine.travel(beacon_at + dt.timedelta(minutes=1), tick=True):
        r = samr.post(reverse("draw_detail", args=[draw.pk]), {"public_value": "10234.56"})
    assert r["Location"] == reverse("job_detail", args=[Job.objects.get(kind="draw").pk])
    draw.refresh_from_db()
    assert draw.status == "drawn"
    assert (
        world.client("anonymous").get(reverse("public_draw_file", args=[draw.code, "record.json"])).status_code == 200
    )
    # roles and jurisdiction
    assert world.client("inspector").get(reverse("plan_add")).status_code == 403
    assert world.client("outsider").get(reverse("plan_detail", args=[plan.pk])).status_code == 404
    assert world.client("yanghe").post(reverse("batch_add", args=[plan.pk]), {}).status_code == 404
    assert world.client("auditor").get(reverse("draw_detail", args=[draw.pk])).status_code == 200
    assert (
        world.client("auditor").post(reverse("draw_detail", args=[draw.pk]), {"public_value": "1"}).status_code == 403
    )
    tasks = world.client("inspector").get(reverse("task_list")).content.decode()
    mine = Visit.objects.filter(members__inspector__user=world.users["inspector"])
    told = Notification.objects.filter(kind="task", user=world.users["inspector"])  # told of each new task
    assert mine.exists() and sorted(n.url for n in told) == sorted(v.get_absolute_url() for v in mine)
    others = Visit.objects.exclude(pk__in=mine)
    for v in mine:
        assert v.entity.name in tasks
    for v in others:
        assert v.entity.name not in tasks
    for v in mine[:1]:
        for form in ("notice", "record"):
            page = world.client("inspector").get(reverse("visit_print", args=[v.pk, form])).content.decode()
            assert v.entity.name in page and "FOOD-02" in page


def test_a_missing_frozen_list_is_a_message_not_a_traceback(
    world: World, plan: Plan, tmp_path: Path, settings: Settings
) -> None:
    settings.HOME = tmp_path
    more_entities(3)
    batch = make_batch(plan, world, count=1)
    draw = draws.freeze([batch], world.users["samr"], "x")
    (services.draw_dir(draw.code) / "GM2026-01.candidates.csv").unlink()
    with pytest.raises(DrawError, match="is missing"):
        draws.perform(draw, world.users["samr"], "v")
    r = world.client("samr").post(reverse("draw_detail", args=[draw.pk]), {"public_value": "v"})
    assert r.status_code == 302 and Visit.objects.count() == 0


def test_uploads_are_checked_by_content_and_name(world: World, plan: Plan, settings: Settings, tmp_path: Path) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    visit = _drawn(world, plan, settings, tmp_path)
    settings.MEDIA_ROOT = tmp_path / "media"
    inspector = world.client("inspector")
    url = reverse("attachment_add", args=[visit.pk])
    for name, head in [("page.html", b"\xff\xd8\xff\xe0"), ("drawing.svg", b"%PDF-1.4\n"), ("x.pdf", b"\xff\xd8\xff")]:
        inspector.post(url, {"file": SimpleUploadedFile(name, head + b"<script>alert(1)</script>")})
    assert visit.attachments.count() == 0
    name = '..\\\\../现场<照片>\x07"1".JPEG'
    inspector.post(url, {"file": SimpleUploadedFile(name, b"\xff\xd8\xff\xe0 photo")})
    att = visit.attachments.get()
    assert att.name == "现场照片1.jpg" and att.file.name is not None
    assert Path(att.file.name).name.startswith(att.sha256[:16]) and "现场" not in att.file.name
    r = inspector.get(reverse("attachment_get", args=[att.pk]))
    assert r["Content-Type"] == "image/jpeg" and "no-store" in r["Cache-Control"]
