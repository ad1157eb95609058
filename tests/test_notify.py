"""Notifications: read state, per-kind channel choices, delivery by SMTP and webhook (retried, logged), and only
to users whose jurisdiction covers the subject. The SMTP server and the webhook are real local servers."""

from __future__ import annotations

import datetime as dt
import email
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from pytest_django import DjangoCaptureOnCommitCallbacks, Settings

from shijian.hazards import services as hazards
from shijian.hazards.models import Notification
from shijian.notify import services
from shijian.notify.models import Delivery, Preference
from shijian.supervision.models import Plan
from tests.conftest import World
from tests.test_supervision import plan  # noqa: F401  (the fixture)

NOW = dt.datetime(2026, 5, 1, 9, 0, tzinfo=dt.UTC)


def entry(world: Any, deadline: dt.date, town: str = "hecheng") -> Any:
    return hazards.open_entry(
        world.entities[town],
        source="manual",
        title="后厨卫生不达标",
        department=world.depts[town],
        scores={"severity": 10, "extent": 5, "confidence": 5},
        user=world.users[town],
        now=NOW,
        deadline=deadline,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp(settings: Any) -> Iterator[list[Any]]:
    from aiosmtpd.controller import Controller

    received: list[Any] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(envelope)
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    yield received
    controller.stop()


@pytest.fixture
def webhook(settings: Any) -> Iterator[dict[str, Any]]:
    state: dict[str, Any] = {"bodies": [], "fail_first": 1}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            state["bodies"].append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            failing = len(state["bodies"]) <= state["fail_first"]
            self.send_response(500 if failing else 200)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SHIJIAN_WEBHOOK_URL = f"http://127.0.0.1:{server.server_address[1]}/robot/send?key=test"
    yield state
    server.shutdown()
    server.server_close()


def test_an_escalation_is_emailed_and_posted_to_the_webhook_with_a_retry(
    world: World,
    smtp: list[Any],
    webhook: dict[str, Any],
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    hecheng = world.users["hecheng"]
    hecheng.email = "hecheng@example.org"
    hecheng.save()
    Preference.objects.create(user=hecheng, kind="escalated", email=True, webhook=True)
    Preference.objects.create(user=world.users["hecheng_admin"], kind="escalated", email=False, webhook=False)
    h = entry(world, dt.date(2026, 5, 10))
    with django_capture_on_commit_callbacks(execute=True):
        assert hazards.escalate_overdue(dt.date(2026, 5, 11)) == 1
    assert [e.rcpt_tos for e in smtp] == [["hecheng@example.org"]]
    mail = email.message_from_bytes(smtp[0].content)
    payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert f"#{h.pk}" in payload.decode("utf-8")
    assert len(webhook["bodies"]) == 2  # answered 500 once, then delivered
    assert webhook["bodies"][1]["msgtype"] == "text" and webhook["bodies"][1]["text"]["mentioned_list"] == ["hecheng"]
    log = {d.channel: d for d in Delivery.objects.all()}
    assert set(log) == {"email", "webhook"}  # hecheng_admin chose neither
    assert log["email"].status == "sent" and log["email"].attempts == 1
    assert log["webhook"].status == "sent" and log["webhook"].attempts == 2 and "attempt 1" in log["webhook"].error


def test_a_delivery_that_keeps_failing_is_logged_as_failed(
    world: World, webhook: dict[str, Any], settings: Settings
) -> None:
    settings.SHIJIAN_NOTIFY_RETRIES = 2
    webhook["fail_first"] = 99
    Preference.objects.create(user=world.users["leader"], kind="job_failed", webhook=True, email=False)
    (notice,) = services.notify("job_failed", [world.users["leader"]], "作业失败")
    services.deliver([d.pk for d in notice.deliveries.all()], backoff=0)
    d = Delivery.objects.get()
    assert d.status == "failed" and d.attempts == 2 and d.error.count("HTTPError") == 2
    assert len(webhook["bodies"]) == 2


def test_deadline_notices_reach_only_users_whose_region_covers_the_entry(world: World) -> None:
    soon = entry(world, dt.date(2026, 5, 13))
    entry(world, dt.date(2026, 5, 13), town="yanghe")
    entry(world, dt.date(2026, 5, 20))  # not yet
    counts = services.deadline_notices(today=dt.date(2026, 5, 10))
    told = set()
    for n in Notification.objects.filter(kind="hazard_due"):
        assert n.user is not None and n.hazard is not None
        told.add((n.user.username, n.hazard.entity.town_code))
    assert told == {
        ("hecheng", "440608004"),
        ("hecheng_admin", "440608004"),
        ("yanghe", "440608106"),
        ("yanghe_admin", "440608106"),
    }
    assert counts["hazard_due"] == 4
    assert soon.pk in {n.hazard_id for n in Notification.objects.filter(user=world.users["hecheng"])}


def test_the_header_badge_counts_unread_and_marking_read_clears_it(world: World) -> None:
    services.notify("task", [world.users["inspector"]], "新的检查任务 1")
    services.notify("task", [world.users["inspector"]], "新的检查任务 2")
    mine = services.notify("task", [world.users["samr"]], "别人的任务")[0]
    c = world.client("inspector")
    page = c.get(reverse("notification_list")).content.decode()
    assert '<span class="badge count" id="unread-count">2</span>' in page and "别人的任务" not in page
    first = Notification.objects.filter(user=world.users["inspector"]).order_by("id").first()
    assert first is not None
    assert c.post(reverse("notification_read", args=[first.pk])).status_code == 302
    assert (
        c.post(reverse("notification_read", args=[mine.pk])).status_code == 404
    )  # someone else's: untouched, not revealed
    assert Notification.objects.get(pk=mine.pk).read_at is None
    assert 'id="unread-count">1<' in c.get(reverse("notification_list")).content.decode()
    c.post(reverse("notification_read_all"))
    assert "unread-count" not in c.get(reverse("notification_list")).content.decode()
    assert services.unread_count(world.users["samr"]) == 1


def test_older_department_notices_stay_visible_to_the_department(world: World) -> None:
    Notification.objects.create(department=world.depts["hecheng"], message="旧通知")
    assert services.unread_count(world.users["hecheng"]) == 1
    assert services.unread_count(world.users["yanghe"]) == 0


def test_the_preferences_page_keeps_each_users_choice_per_kind(world: World, settings: Settings) -> None:
    settings.EMAIL_HOST = "127.0.0.1"
    user = world.users["hecheng"]
    user.email = "hecheng@example.org"
    user.save()
    c = world.client("hecheng")
    assert c.get(reverse("notification_preferences")).status_code == 200
    c.post(reverse("notification_preferences"), {"task-email": "on", "escalated-webhook": "on"})
    prefs = {p.kind: (p.email, p.webhook) for p in Preference.objects.filter(user=user)}
    assert (
        prefs["task"] == (True, False) and prefs["escalated"] == (False, True) and prefs["job_failed"] == (False, False)
    )
    services.notify("escalated", [user], "x")
    services.notify("task", [user], "y")
    assert sorted(Delivery.objects.values_list("channel", flat=True)) == ["email"]  # no webhook configured


def test_results_near_the_publication_deadline_are_notified_to_their_departments_staff(
    world: World,
    plan: Plan,  # noqa: F811  (the fixture of test_supervision)
    settings: Settings,
    tmp_path: Path,
) -> None:
    from shijian.supervision import services as supervision
    from shijian.supervision.models import VisitStatus
    from tests.test_supervision import _drawn

    visit = _drawn(world, plan, settings, tmp_path)
    supervision.record_results(
        visit, {visit.checks.get().pk: ("corrected", "后厨卫生")}, dt.date(2026, 9, 24), world.users["inspector"]
    )
    visit.refresh_from_db()
    assert visit.status == VisitStatus.DONE and visit.publish_by == dt.date(2026, 10, 29)
    assert services.deadline_notices(today=dt.date(2026, 10, 25))["publication"] == 0  # 4 days before: not yet
    services.deadline_notices(today=dt.date(2026, 10, 26))  # 3 days before
    told = {n.user for n in Notification.objects.filter(kind="publication")}
    departments = set(visit.departments.all())
    assert told and all(
        u is not None and u.department in departments and u.role in ("leader", "dept_staff") for u in told
    )
    assert world.users["yanghe"] not in told and world.users["inspector"] not in told
    assert {n.url for n in Notification.objects.filter(kind="publication")} == {visit.get_absolute_url()}


def test_the_hazard_dashboard_lists_ones_own_unread_notices_once(world: World) -> None:
    h = entry(world, dt.date(2026, 5, 10))
    hazards.escalate_overdue(dt.date(2026, 5, 11))  # both hecheng users are told
    page = world.client("hecheng").get(reverse("hazard_dashboard"))
    assert [n.hazard_id for n in page.context["notifications"]] == [h.pk]
    services.mark_read(world.users["hecheng"])
    assert world.client("hecheng").get(reverse("hazard_dashboard")).context["notifications"] == []
