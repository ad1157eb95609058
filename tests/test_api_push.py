"""A department's client pushes records (CSV, XLSX or JSON) through the API into the ingest pipeline: the same
mapping, quarantine and reconciliation as `shijian ingest`; the same bytes twice are one load; audited."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import Workbook

from shijian.api import clients
from shijian.core.codes.uscc import make
from shijian.core.models import AuditEvent
from shijian.lake.store import Lake

HEADER = ["记录编号", "统一社会信用代码", "企业名称", "记录类型", "日期", "金额(万元)", "结果", "内容"]
HECHENG, YANGHE = make("91", "440608", "MA000001"), make("91", "440608", "MA000002")
GOOD = [
    ["TAX-1", HECHENG, "佛山市荷城餐饮有限公司", "行政处罚", "2026-11-02", "1.5", "罚款", "未按期申报"],
    ["TAX-2", YANGHE, "佛山市杨和餐饮有限公司", "行政处罚", "2026/11/03", "0.5", "罚款", "逾期"],
]
BAD = ["TAX-3", HECHENG, "佛山市荷城餐饮有限公司", "行政处罚", "下个月", "1", "罚款", "日期错"]


@pytest.fixture(autouse=True)
def _lake(settings: Any, tmp_path: Path) -> None:
    settings.SHIJIAN_API_SYNC_LAG_SECONDS = 0
    settings.SHIJIAN_LAKE = tmp_path / "lake"
    settings.HOME = tmp_path


def _token(world: Any, name: str = "tax-bureau", role: str = "dept_staff", scopes: Any = None) -> str:
    client, secret = clients.create_client(
        name, role, "440608", scopes or ["ingest", "loads"], world.depts["samr"], "test", 1000
    )
    issued = clients.issue_token(client.client_id, secret)
    assert issued is not None
    return issued[0]


def _csv(rows: list[list[str]]) -> bytes:
    return "\n".join(",".join(r) for r in [HEADER, *rows]).encode("utf-8") + b"\n"


def _push(token: str, name: str, data: bytes) -> Any:
    upload = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    return Client().post("/api/loads", {"file": upload}, HTTP_AUTHORIZATION=f"Bearer {token}")


def test_a_pushed_csv_is_loaded_quarantined_and_reconciled_once(world: Any, settings: Any) -> None:
    token = _token(world)
    before = AuditEvent.objects.count()
    r = _push(token, "penalties.csv", _csv([*GOOD, BAD]))
    assert r.status_code == 201, r.content
    load = r.json()
    assert (load["rows_read"], load["accepted"], load["quarantined"], load["duplicates"]) == (3, 2, 1, 0)
    assert load["source"] == "api-tax-bureau" and load["status"] == "loaded"
    assert load["reasons"] == {"unreadable date": 1}
    lake = Lake(settings.SHIJIAN_LAKE)
    assert [x["load_id"] for x in lake.load_reports()] == [load["load_id"]]
    again = _push(token, "same-bytes-again.csv", _csv([*GOOD, BAD]))
    assert again.status_code == 200 and again.json()["status"] == "already_loaded"
    assert again.json()["load_id"] == load["load_id"]
    assert len(list(lake.load_reports())) == 1  # recognised, not doubled
    listed = Client().get("/api/loads", HTTP_AUTHORIZATION=f"Bearer {token}").json()["items"]
    assert [x["load_id"] for x in listed] == [load["load_id"]]
    audit = [(e.actor_name, e.action, e.object_type, e.reason) for e in AuditEvent.objects.order_by("id")[before:]]
    assert audit == [
        ("api:tax-bureau", "import", "api.load", "loaded"),
        ("api:tax-bureau", "import", "api.load", "already_loaded"),
        ("api:tax-bureau", "view", "api.loads", "cursor= updated_since="),
    ]


def test_json_records_and_an_xlsx_go_through_the_same_pipeline(world: Any) -> None:
    token = _token(world)
    records = [dict(zip(HEADER, row, strict=True)) for row in GOOD]
    r = Client().post(
        "/api/loads/records",
        {"records": records},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert r.status_code == 201, r.content
    assert (r.json()["rows_read"], r.json()["accepted"]) == (2, 2)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for row in [HEADER, BAD]:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    x = _push(token, "penalties.xlsx", buf.getvalue())
    assert x.status_code == 201, x.content
    assert (x.json()["rows_read"], x.json()["quarantined"]) == (1, 1)


def test_a_file_the_pipeline_rejects_is_a_400_with_the_reason(world: Any) -> None:
    token = _token(world)
    r = _push(token, "odd.csv", b"\xe5\x88\x97\n1\n")
    assert r.status_code == 400 and r.json()["detail"]
    assert _push(token, "odd.pdf", b"%PDF").status_code == 400
    empty = Client().post(
        "/api/loads/records", {"records": []}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert empty.status_code == 400


def test_pushing_needs_the_scope_and_a_role_that_may_import(world: Any) -> None:
    assert _push(_token(world, "reader", scopes=["loads"]), "a.csv", _csv(GOOD)).status_code == 403
    assert _push(_token(world, "boss", role="leader", scopes=["ingest"]), "a.csv", _csv(GOOD)).status_code == 403


def test_a_department_client_sees_only_the_loads_it_pushed(world: Any) -> None:
    tax, court = _token(world, "tax"), _token(world, "court")
    assert _push(tax, "a.csv", _csv(GOOD)).status_code == 201
    assert _push(court, "b.csv", _csv([BAD])).status_code == 201
    seen = Client().get("/api/loads", HTTP_AUTHORIZATION=f"Bearer {court}").json()["items"]
    assert [x["source"] for x in seen] == ["api-court"]
    admin = _token(world, "admin", role="data_admin", scopes=["loads"])
    seen = Client().get("/api/loads", HTTP_AUTHORIZATION=f"Bearer {admin}").json()["items"]
    assert sorted(x["source"] for x in seen) == ["api-court", "api-tax"]
