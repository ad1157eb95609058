"""The audit page in Chinese, filtered by date (Beijing dates), and exportable by the auditor."""

from __future__ import annotations

import datetime as dt
from io import BytesIO

from django.db import connection
from django.urls import reverse
from openpyxl import load_workbook

from shijian.core.models import AuditEvent
from tests.conftest import World
from tests.test_audit import _drop_guards


def test_it_names_actions_and_object_types_in_chinese(world: World) -> None:
    body = world.client("auditor").get(reverse("audit_list") + "?object_type=registry.entity").content.decode()
    assert "<td>新增</td>" in body and "<td>市场主体</td>" in body
    assert "registry.entity</td>" not in body and ">create<" not in body and "None" not in body


def test_it_filters_by_beijing_date(world: World) -> None:
    c = world.client("auditor")
    total = AuditEvent.objects.count()
    assert total > 0
    # 2026-12-06 20:30 UTC is 2026-12-07 04:30 in Beijing: it belongs to the 7th
    stamp = dt.datetime(2026, 12, 6, 20, 30, tzinfo=dt.UTC)
    with connection.cursor() as cur:  # the table refuses UPDATE: re-dating the rows needs the guard off
        _drop_guards()
        cur.execute("UPDATE core_auditevent SET at = %s", [stamp])
    n_7th = c.get(reverse("audit_list") + "?since=2026-12-07&until=2026-12-07").context["page"].paginator.count
    n_6th = c.get(reverse("audit_list") + "?since=2026-12-06&until=2026-12-06").context["page"].paginator.count
    assert n_7th == total and n_6th == 0
    page = c.get(reverse("audit_list")).content.decode()
    assert "起始日期" in page and "截止日期" in page and "原状态" not in page  # the date range, not a state change


def test_the_auditor_exports_the_filtered_log(world: World) -> None:
    r = world.client("auditor").get(reverse("audit_export") + "?object_type=registry.entity")
    assert r.status_code == 200
    ws = load_workbook(BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:5] == ("编号", "时间", "用户", "操作", "对象类型")
    assert len(rows) - 1 == AuditEvent.objects.filter(object_type="registry.entity").count()
    assert {row[4] for row in rows[1:]} == {"市场主体"}
    assert AuditEvent.objects.filter(action="export", object_type="core.auditevent").count() == 1


def test_only_the_auditor_exports_the_log(world: World) -> None:
    for who in ("leader", "admin", "samr", "inspector"):
        assert world.client(who).get(reverse("audit_export")).status_code == 403, who
