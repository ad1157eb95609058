"""The places of the URL-map jurisdiction test (tests/test_jurisdiction_urls.py): two towns of one district and a
second district, each with one object of every kind a URL can name (entity, department, inspector, plan, draw,
visit, hazard entry, review, user, feed, upload, job, complaint, case, evidence, a record text), and the markers
(names and codes) that must never show outside its jurisdiction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from pytest_django import Settings

from shijian.accounts.models import User
from shijian.dataadmin.models import Feed, Upload
from shijian.files import stored
from shijian.hazards.models import Grade, Hazard, Notification, Reminder
from shijian.jobs.models import Job
from shijian.lake.models import LinkReview
from shijian.registry.models import Department, Entity, Responsibility, SpotCheckItem
from shijian.supervision.models import Attachment, Batch, Draw, Plan, TeamMember, Visit, VisitItem
from tests.conftest import World

PLACES = {"hecheng": "440608004", "yanghe": "440608106", "chancheng": "440604"}


def disjoint(a: str, b: str) -> bool:
    return not (a.startswith(b) or b.startswith(a))


@dataclass
class Place:
    region: str
    objects: dict[str, Any]
    markers: list[str]
    query: dict[str, str]


def _drawn(
    code: str, name: str, dept: Department, region: str, user: Any, level: str, batch_name: str, count: int
) -> tuple[Plan, Draw, Batch]:
    """A plan (``code``), its drawn draw (``code-D01``) and its one drawn batch (``code-01``) of ``count`` entities."""
    plan = Plan.objects.create(
        code=code, name=name, year=2026, level=level, department=dept, region_code=region, created_by=user
    )
    draw = Draw.objects.create(
        code=f"{code}-D01",
        plan=plan,
        status="drawn",
        seed_method="beacon",
        frozen_at=timezone.now(),
        frozen_digest="0" * 64,
        created_by=user,
    )
    batch = Batch.objects.create(
        plan=plan,
        code=f"{code}-01",
        name=batch_name,
        department=dept,
        mode="random",
        count=count,
        window_start=dt.date(2026, 3, 1),
        window_end=dt.date(2026, 12, 31),
        status="drawn",
        draw=draw,
        candidates_file=f"{code}-01.candidates.csv",
    )
    return plan, draw, batch


def _visit_objects(world: Any, key: str, region: str, item: SpotCheckItem) -> dict[str, Any]:
    dept, entity, user = world.depts[key], world.entities[key], world.users["samr"]
    plan, draw, batch = _drawn(
        f"P-{key}", f"{key}专项计划", dept, region, user, "town" if len(region) == 9 else "district", f"{key}批次", 1
    )
    batch.items.set([item])
    visit = Visit.objects.create(
        draw=draw,
        entity=entity,
        entity_key=entity.uscc,
        window_start=dt.date(2026, 3, 1),
        window_end=dt.date(2026, 12, 31),
        status="done",
        checked_on=dt.date(2026, 4, 1),
        publish_by=dt.date(2026, 4, 30),
    )
    visit.departments.set([dept])
    officer = world.inspectors[key]
    if key == "hecheng":
        officer.user = world.users["inspector"]  # the inspector's own visit (inspectors see theirs only)
        officer.save()
    TeamMember.objects.create(visit=visit, inspector=officer, position=0)
    check = VisitItem.objects.create(visit=visit, item=item, batch=batch, outcome="problem", note="")
    att = Attachment(visit=visit, name=f"{key}.pdf", content_type="application/pdf", size=20)
    att.uploaded_by = user
    att.sha256 = stored.save(
        att.file, f"{key}.pdf", f"%PDF-1.4 {key}-evidence".encode()
    )  # served after its hash checks
    att.save()
    return {"plan": plan, "batch": batch, "draw": draw, "visit": visit, "check": check, "attachment": att}


def _hazard(world: Any, key: str, entity: Entity, title: str) -> Hazard:
    return Hazard.objects.create(
        entity=entity,
        town_code=entity.town_code,
        district_code=entity.district_code,
        source="manual",
        category="problem",
        grade=Grade.GENERAL,
        scores={},
        title=title,
        department=world.depts[key],
        deadline=dt.date(2026, 5, 1),
        opened_at=timezone.now(),
        created_by=world.users["samr"],
    )


@pytest.fixture
def places(world: World, settings: Settings, tmp_path: Path) -> dict[str, Place]:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.HOME = tmp_path
    out = {}
    for key, region in PLACES.items():
        dept, entity = world.depts[key], world.entities[key]
        item = SpotCheckItem.objects.create(
            code=f"IT-{key}", name=f"{key}专属检查事项", category=world.items["food"].category, kind="general"
        )
        item.departments.set([dept])
        objs = _visit_objects(world, key, region, item)
        hazard = _hazard(world, key, entity, f"{key}后厨问题")
        notice = Notification.objects.create(department=dept, hazard=hazard, message=f"{key}逾期通知")
        Reminder.objects.create(
            entity=entity,
            town_code=entity.town_code,
            kind="annual_report",
            due_on=dt.date(2026, 6, 30),
            refreshed_at=timezone.now(),
        )
        review = LinkReview.objects.create(
            name_key=f"{key}待核名称",
            address_key="人民路",
            records=1,
            candidates=[{"entity_id": entity.pk, "probability": 0.8}],
            best_entity=entity,
            best_probability=0.8,
            built_at=timezone.now(),
        )
        _record_text(entity, dept, key)
        objs |= {
            "entity": entity,
            "department": dept,
            "inspector": world.inspectors[key],
            "item": item,
            "responsibility": Responsibility.objects.filter(department=dept).first(),
            "hazard": hazard,
            "review": review,
            "user": User.objects.create_user(
                f"clerk_{key}", password=None, role="inspector", region_code=region, department=dept
            ),
            "notification": notice,
        }
        objs["feed"] = Feed.objects.create(department=dept, slug=f"{key}-feed", name=f"{key}日常检查数据")
        objs["upload"] = Upload.objects.create(feed=objs["feed"], filename=f"{key}.csv", size=10)
        objs["job"] = Job.objects.create(kind="export", params={"spec": "entity", "query": {}}, created_by=objs["user"])
        objs |= _case_objects(world, key, entity)
        _signed_documents(world, key, objs["visit"], objs["case"])
        markers = [
            entity.name,
            entity.uscc,
            dept.name,
            world.inspectors[key].name,
            item.name,
            objs["plan"].name,
            hazard.title,
            f"{key}待核名称",
            f"{key}逾期通知",
            f"clerk_{key}",
            f"{key}投诉主题",
            f"{key}案件",
        ]
        query = {
            "town": entity.town_code,
            "district": entity.district_code,
            "village": entity.region_code,
            "dept": str(dept.pk),
            "uscc": entity.uscc,
            "region": region,
        }
        out[key] = Place(region, objs, markers, query)
    out["gaoming"] = _district_draw(world)
    return out


def _record_text(entity: Entity, dept: Any, key: str) -> None:
    """A complaint's text in the lake's full-text index, as the build writes it (one row per place)."""
    from shijian.lake.fulltext.index import write_rows

    day = dt.date(2026, 3, 1).toordinal()
    text = f"投诉举报：{key}后厨卫生差，联系电话13800138000"
    codes = (entity.district_code, entity.town_code, entity.region_code)
    write_rows([(day << 24 | entity.pk, entity.pk, 0, *codes, dept.code, "complaint", dt.date(2026, 3, 1), key, text)])


def _case_objects(world: Any, key: str, entity: Entity) -> dict[str, Any]:
    """A report about the place's entity (handled by its department) and an enforcement case with evidence."""
    from shijian.cases import complaints, enforcement

    filing = complaints.Filing(
        kind="report",
        channel="web",
        complainant_name="王小明",
        complainant_phone="13800138000",
        entity_name=entity.name,
        entity_uscc=entity.uscc or "",
        subject=f"{key}投诉主题",
        content="后厨卫生差",
    )
    complaint = complaints.file(filing)
    case = enforcement.open_case(entity, source="manual", title=f"{key}案件", user=world.users["samr"])
    return {"complaint": complaint, "case": case, "evidence": _evidence(world, case, key)}


def _signed_documents(world: Any, key: str, visit: Visit, case: Any) -> None:
    """The visit's 检查通知书 and the case's 立案审批表 as kept (stand-in files: signing is tested elsewhere)."""
    from shijian.cases.models import SignedDocument

    for kind, owner in (("notice", {"visit": visit}), ("filing", {"case": case})):
        doc = SignedDocument(
            kind=kind, signer="测试", signed_at=timezone.now(), created_by=world.users["samr"], **owner
        )
        doc.sha256 = stored.save(doc.file, f"{kind}-{key}.pdf", f"%PDF-1.4 {key}-evidence".encode())
        doc.save()


def _evidence(world: Any, case: Any, key: str) -> Any:
    """Evidence stored directly (add_evidence checks the uploader's jurisdiction, and the places span districts)."""
    import hashlib

    from shijian.cases.models import Evidence

    data = f"{key}-evidence".encode()
    ev = Evidence(
        case=case,
        name=f"{key}.txt",
        content_type="text/plain",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by=world.users["samr"],
        uploaded_at=timezone.now(),
    )
    ev.file.save(f"{key}.txt", ContentFile(data), save=False)
    ev.save()
    return ev


def _district_draw(world: Any) -> Place:
    """A district plan whose draw spans both towns: seen from a town (a region above it), it must show only the
    town's visits; a different district must not see it at all."""
    samr = world.depts["samr"]
    plan, draw, batch = _drawn(
        "P-gaoming", "高明区联合抽查计划", samr, "440608", world.users["samr"], "district", "联合批次", 2
    )
    batch.items.set([world.items["food"]])
    for key in ("hecheng", "yanghe"):
        entity = world.entities[key]
        visit = Visit.objects.create(
            draw=draw,
            entity=entity,
            entity_key=entity.uscc,
            window_start=dt.date(2026, 3, 1),
            window_end=dt.date(2026, 12, 31),
        )
        visit.departments.set([samr, world.depts[key]])
        TeamMember.objects.create(visit=visit, inspector=world.inspectors["samr"], position=0)
        TeamMember.objects.create(visit=visit, inspector=world.inspectors[key], position=1)
    objs = {"plan": plan, "batch": batch, "draw": draw, "department": samr}
    e = world.entities["hecheng"]
    query = {"town": e.town_code, "district": "440608", "village": e.region_code, "dept": str(samr.pk)}
    query |= {"uscc": str(e.uscc), "region": "440608"}
    return Place("440608", objs, [plan.name, samr.name, world.inspectors["samr"].name], query)
