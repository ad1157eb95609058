"""Bulk import from CSV/Excel: per-row errors, and nothing partially written."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook

from shijian.core.codes.uscc import make
from shijian.registry.models import Entity, Inspector
from tests.conftest import World

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse  # what the test client answers, to django-stubs

HEADER = "统一社会信用代码,企业名称,主体类型,行业代码,区划代码,法定代表人,认缴出资额,成立日期,状态\n"


def _good(i: int) -> str:
    code = make("91", "440608", f"MB{i:06d}")
    return f"{code},佛山市导入测试{i}有限公司,有限责任公司,5211,440608004001,王{i},100,2020-01-0{i % 9 + 1},存续\n"


def _post(client: Client, name: str, data: bytes) -> _MonkeyPatchedWSGIResponse:
    client.cookies["django_language"] = "en"
    return client.post(reverse("entity_import"), {"file": SimpleUploadedFile(name, data)})


def test_it_imports_a_good_utf8_csv(world: World) -> None:
    body = (HEADER + _good(1) + _good(2)).encode("utf-8-sig")
    r = _post(world.client("admin"), "ok.csv", body)
    assert r.status_code == 302
    assert Entity.objects.filter(name__startswith="佛山市导入测试").count() == 2


def test_it_imports_a_gb18030_csv(world: World) -> None:
    r = _post(world.client("admin"), "gbk.csv", (HEADER + _good(3)).encode("gb18030"))
    assert r.status_code == 302
    e = Entity.objects.get(name="佛山市导入测试3有限公司")
    assert e.entity_type == "llc" and e.town_code == "440608004" and e.industry_section == "F"


def test_it_imports_an_xlsx(world: World) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER.strip().split(","))
    ws.append(_good(4).strip().split(","))
    buf = io.BytesIO()
    wb.save(buf)
    r = _post(world.client("admin"), "ok.xlsx", buf.getvalue())
    assert r.status_code == 302
    assert Entity.objects.filter(name="佛山市导入测试4有限公司").exists()


def test_a_bad_file_writes_nothing_and_lists_every_error(world: World) -> None:
    bad_code = make("91", "440608", "MB000005")[:-1] + "0"
    if bad_code == make("91", "440608", "MB000005"):
        bad_code = bad_code[:-1] + "1"
    rows = [
        _good(5),
        f"{bad_code},佛山市坏代码有限公司,有限责任公司,5211,440608004001,王,100,2020-01-01,存续\n",
        ",佛山市坏区划有限公司,有限责任公司,5211,999999999999,王,100,2020-01-01,存续\n",
        ",佛山市坏日期有限公司,有限责任公司,9999,440608004001,王,100,2020-13-45,存续\n",
    ]
    before = Entity.objects.count()
    r = _post(world.client("admin"), "bad.csv", (HEADER + "".join(rows)).encode("utf-8"))
    assert r.status_code == 200
    html = r.content.decode()
    assert Entity.objects.count() == before  # all or nothing: the good first row is not written either
    for line in ("<td>3</td>", "<td>4</td>", "<td>5</td>"):
        assert line in html
    assert "<td>Unified social credit code</td>" in html and "<td>Established on</td>" in html


def test_import_errors_name_columns_and_problems_in_chinese(world: World) -> None:
    good = make("91", "440608", "MB000006")
    bad_code = good[:-1] + ("0" if good[-1] != "0" else "1")
    row = f"{bad_code},佛山市坏代码有限公司,有限责任公司,5211,440608004001,王,100,2020-01-01,存续\n"
    r = world.client("admin").post(
        reverse("entity_import"), {"file": SimpleUploadedFile("bad.csv", (HEADER + row).encode("utf-8"))}
    )
    html = r.content.decode()
    assert "<td>统一社会信用代码</td>" in html and f"校验码（最后一位）为 {bad_code[-1]}，应为 {good[-1]}" in html
    assert "<td>uscc</td>" not in html and "check character is" not in html


def test_it_rejects_unknown_columns_empty_and_header_only_files(world: World) -> None:
    c = world.client("admin")
    before = Entity.objects.count()
    for name, data, words in [
        ("unknown.csv", "企业名称,颜色\nx,red\n".encode(), "颜色"),
        ("empty.csv", b"", "empty"),
        ("header.csv", HEADER.encode(), "no data rows"),
        ("wrong.txt.exe", b"abc", ".csv or .xlsx"),
        ("broken.xlsx", b"not a zip", "xlsx"),
    ]:
        r = _post(c, name, data)
        assert r.status_code == 200, name
        assert words in r.content.decode(), (name, r.content.decode()[-2000:])
    assert Entity.objects.count() == before


def test_it_refuses_rows_outside_the_importers_town(world: World) -> None:
    row = _good(6).replace("440608004001", "440608106201")
    r = _post(world.client("hecheng_admin"), "x.csv", (HEADER + row).encode())
    assert r.status_code == 200
    assert "outside your jurisdiction" in r.content.decode() or "管辖" in r.content.decode()
    assert not Entity.objects.filter(name="佛山市导入测试6有限公司").exists()


def test_it_imports_inspectors_with_qualifications(world: World) -> None:
    body = "姓名,部门代码,区划代码,执法证号,资格,在岗\n赵新,440608-SAMR,440608,44009999,FOOD,是\n".encode()
    r = world.client("admin").post(reverse("inspector_import"), {"file": SimpleUploadedFile("i.csv", body)})
    assert r.status_code == 302
    i = Inspector.objects.get(cert_no="44009999")
    assert [q.code for q in i.qualifications.all()] == ["FOOD"] and i.active


def test_every_imported_row_is_audited(world: World) -> None:
    from shijian.core.models import AuditEvent

    _post(world.client("admin"), "ok.csv", (HEADER + _good(7) + _good(8)).encode())
    reasons = list(
        AuditEvent.objects.filter(action="create", object_type="registry.entity").values_list("reason", flat=True)
    )
    assert any("ok.csv, line 2" in r for r in reasons) and any("line 3" in r for r in reasons)


def _huge_claiming_xlsx() -> bytes:
    """A ~2 KB workbook whose sheet claims (and, in its last row, holds a cell at) XFD1048576: the full sheet."""
    import re
    import zipfile

    wb = Workbook()
    ws = wb.active
    ws.append(HEADER.strip().split(","))
    ws.append(_good(4).strip().split(","))
    buf = io.BytesIO()
    wb.save(buf)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = re.sub(r'<dimension ref="[^"]*"\s*/>', '<dimension ref="A1:XFD1048576"/>', data.decode())
                text = text.replace("</sheetData>", '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')
                data = text.encode()
            dst.writestr(info, data)
    return out.getvalue()


def _refused_fast(world: World, data: bytes) -> str:
    import resource
    import time

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.process_time()
    r = _post(world.client("admin"), "huge.xlsx", data)
    cpu = time.process_time() - t0
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    assert r.status_code == 200
    assert cpu < 2.0, cpu
    assert grown_mb < 50, grown_mb
    return r.content.decode()


def test_a_tiny_file_that_claims_a_huge_sheet_is_refused_fast(world: World) -> None:
    data = _huge_claiming_xlsx()
    assert len(data) < 10_000
    html = _refused_fast(world, data)
    assert "Too many rows" in html
    assert not Entity.objects.filter(name="佛山市导入测试4有限公司").exists()


def test_a_sheet_that_hides_its_size_is_refused_as_it_is_read(world: World) -> None:
    """No declared dimension: the rows are counted as they stream, before the gap to the last row is filled."""
    import re
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(_huge_claiming_xlsx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb"<dimension [^>]*/>", b"", data)
            dst.writestr(info, data)
    html = _refused_fast(world, out.getvalue())
    assert "Too many rows" in html or "Too many columns" in html


def test_a_duplicate_code_inside_one_file_names_the_row(world: World) -> None:
    row = _good(3)
    r = _post(world.client("admin"), "dup.csv", (HEADER + _good(2) + row + row).encode())
    assert r.status_code == 200
    html = r.content.decode()
    assert "<td>4</td>" in html and "repeats a unique value" in html
    assert not Entity.objects.filter(name="佛山市导入测试3有限公司").exists()


def test_a_duplicate_certificate_number_inside_one_file_names_the_row(world: World) -> None:
    head = "姓名,部门代码,区划代码,执法证号,资格,在岗\n"
    rows = "赵新,440608-SAMR,440608,44009998,FOOD,是\n钱新,440608-SAMR,440608,44009998,FOOD,是\n"
    c = world.client("admin")
    c.cookies["django_language"] = "en"
    r = c.post(reverse("inspector_import"), {"file": SimpleUploadedFile("i.csv", (head + rows).encode())})
    assert r.status_code == 200
    assert "<td>3</td>" in r.content.decode()
    assert not Inspector.objects.filter(cert_no="44009998").exists()
