"""A visit's results sent twice with the same key (a phone replaying its offline queue) are written once."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.urls import reverse
from django.utils import timezone

from shijian.core.models import AuditEvent
from shijian.supervision.models import ResultSubmission, VisitItem, VisitStatus
from tests.test_browser_phone import _a_visit


def _recorded(visit: Any) -> int:
    return AuditEvent.objects.filter(
        object_type="supervision.visit", object_id=str(visit.pk), reason="results recorded"
    ).count()


def _stamps(visit: Any) -> list[dt.datetime]:
    """When the visit's results were recorded, in order (each one was)."""
    stamps = []
    for s in VisitItem.objects.filter(visit=visit).values_list("recorded_at", flat=True):
        assert s is not None
        stamps.append(s)
    return sorted(stamps)


def _form(visit: Any, key: str, outcome: str = "no_problem", when: str = "") -> dict[str, str]:
    form = {"checked_on": when or timezone.localdate().isoformat(), "submission_key": key}
    for c in visit.checks.all():
        form[f"outcome-{c.pk}"], form[f"note-{c.pk}"] = outcome, "门店整洁"
    return form


def test_it_writes_a_replayed_key_once(world: Any) -> None:
    visit = _a_visit(world)
    inspector, url, key = world.client("inspector"), reverse("visit_detail", args=[visit.pk]), str(uuid.uuid4())
    assert inspector.post(url, _form(visit, key)).status_code == 302
    stamps = _stamps(visit)
    # the offline queue sends it again (and asks for JSON), even with other values: the first answer stands
    again = inspector.post(url, _form(visit, key, outcome="corrected"), HTTP_ACCEPT="application/json")
    assert again.status_code == 200 and again.json()["replayed"] is True and again.json()["ok"] is True
    assert set(VisitItem.objects.filter(visit=visit).values_list("outcome", flat=True)) == {"no_problem"}
    assert _stamps(visit) == stamps
    assert ResultSubmission.objects.filter(visit=visit).count() == 1 and _recorded(visit) == 1
    visit.refresh_from_db()
    assert visit.status == VisitStatus.DONE
    # a new key is a new sending
    changed = inspector.post(url, _form(visit, str(uuid.uuid4()), outcome="corrected"), HTTP_ACCEPT="application/json")
    assert changed.status_code == 200 and changed.json()["replayed"] is False
    assert ResultSubmission.objects.filter(visit=visit).count() == 2 and _recorded(visit) == 2


def test_it_answers_a_refused_submission_the_same_way_when_replayed(world: Any) -> None:
    visit = _a_visit(world)
    inspector, url, key = world.client("inspector"), reverse("visit_detail", args=[visit.pk]), str(uuid.uuid4())
    first = inspector.post(url, _form(visit, key, when="2099-01-01"), HTTP_ACCEPT="application/json")
    assert first.status_code == 400 and first.json()["ok"] is False
    again = inspector.post(url, _form(visit, key), HTTP_ACCEPT="application/json")
    assert again.status_code == 400 and again.json() == {**first.json(), "replayed": True}
    assert set(VisitItem.objects.filter(visit=visit).values_list("outcome", flat=True)) == {""}
    assert _recorded(visit) == 0


def test_it_refuses_a_key_that_is_not_a_uuid(world: Any) -> None:
    visit = _a_visit(world)
    r = world.client("inspector").post(reverse("visit_detail", args=[visit.pk]), _form(visit, "not-a-uuid"))
    assert r.status_code == 400 and _recorded(visit) == 0


def test_the_phone_app_files_are_served_to_anyone(world: Any) -> None:
    anon = world.client("anonymous")
    manifest = anon.get(reverse("manifest"))
    assert manifest.status_code == 200 and manifest["Content-Type"] == "application/manifest+json"
    body = manifest.json()
    assert body["start_url"] == reverse("task_list") and {i["sizes"] for i in body["icons"]} >= {"192x192", "512x512"}
    for icon in body["icons"]:
        assert anon.get(icon["src"]).status_code == 200, icon
    worker = anon.get(reverse("service_worker"))
    assert worker.status_code == 200 and worker["Content-Type"].startswith("text/javascript")
    assert b'addEventListener("fetch"' in worker.content
