"""A data administrator in the browser: writes a feed's mapping, uploads a file in pieces through a dropped
connection, reads the quarantine, fixes the mapping with its preview, and re-processes; the counts reconcile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.browser import ARTIFACTS, in_browser, login
from tests.dataadmin_seed import feed_csv

pytestmark = in_browser


def _mapping(page: Any, base: str, feed_id: int, date_formats: str) -> None:
    page.goto(f"{base}/data/feeds/{feed_id}/mapping/")
    for field, header in {
        "record_id": "记录编号",
        "uscc": "统一社会信用代码",
        "name": "企业名称",
        "event_date": "检查日期",
        "result": "检查结果",
    }.items():
        page.fill(f"input[name=col_{field}]", header)
    page.select_option("select[name=record_type]", "inspection")
    page.fill("textarea[name=date_formats]", date_formats)
    for key in ("reg_no", "licence_no", "entity_ref", "name_address", "address"):
        page.uncheck(f"input[name=entity_keys][value={key}]")


def test_a_data_administrator_uploads_fixes_the_mapping_and_reprocesses(
    live_db: None, world: Any, live_server: Any, browser_page: Any, settings: Any, tmp_path: Path
) -> None:
    from shijian.dataadmin import loads
    from shijian.dataadmin.models import Feed, Upload

    settings.HOME = tmp_path
    settings.SHIJIAN_LAKE = tmp_path / "lake"
    settings.SHIJIAN_MAPPINGS = tmp_path / "mappings"
    feed = Feed.objects.create(department=world.depts["hecheng"], slug="hecheng-jc", name="荷城日常检查")
    page, base = browser_page, live_server.url
    login(page, base, "hecheng_admin")

    # the mapping, first without the slash date format
    _mapping(page, base, feed.pk, "%Y-%m-%d")
    page.click("#save")
    page.wait_for_selector("text=映射已保存")
    assert feed.mapping_path.is_file()

    # the upload, in 100-byte pieces; the second piece's connection drops and the page resumes at the server's offset
    patches: list[str] = []

    def flaky(route: Any) -> None:
        if route.request.method == "PATCH":
            patches.append(route.request.headers.get("upload-offset", ""))
            if len(patches) == 2:
                route.abort("connectionreset")
                return
        route.continue_()

    page.route("**/data/uploads/*/", flaky)
    page.goto(f"{base}/data/feeds/{feed.pk}/upload/?piece=100")
    page.set_input_files("#upload-file", str(feed_csv(tmp_path / "delivery" / "检查记录.csv")))
    page.click("#upload-start")
    page.wait_for_selector("#upload-job:not([hidden])", timeout=30000)
    page.screenshot(path=str(ARTIFACTS / "dataadmin-1-upload.png"), full_page=True)
    assert patches[1] == patches[2]  # the dropped piece was sent again from the same offset
    up = Upload.objects.get()
    assert up.offset == up.size and up.path.read_bytes() == (tmp_path / "delivery" / "检查记录.csv").read_bytes()
    page.click("#upload-job-link")
    page.wait_for_selector("#job-status.status-succeeded", timeout=30000)

    # the quarantine: three rows with line, column and reason in Chinese
    page.goto(f"{base}/data/feeds/{feed.pk}/quarantine/")
    assert page.locator("#quarantine tbody tr").count() == 3
    assert "不符合映射中的任何日期格式" in page.inner_text("#quarantine")
    page.screenshot(path=str(ARTIFACTS / "dataadmin-2-quarantine.png"), full_page=True)

    # the fix, previewed on the uploaded file, then saved
    _mapping(page, base, feed.pk, "%Y-%m-%d\n%Y/%m/%d")
    page.click("#preview")
    page.wait_for_selector("#preview-counts")
    assert "接收 4 行，拒收 1 行，重复 1 行" in page.inner_text("#preview-counts")
    page.screenshot(path=str(ARTIFACTS / "dataadmin-3-mapping-preview.png"), full_page=True)
    page.fill("textarea[name=date_formats]", "%Y-%m-%d\n%Y/%m/%d")
    page.click("#save")
    page.wait_for_selector("text=映射已保存")

    # re-processing replaces the load; the counts still reconcile
    page.goto(f"{base}/data/feeds/{feed.pk}/quarantine/")
    page.click("#reprocess")
    page.wait_for_selector("#job-status.status-succeeded", timeout=30000)
    page.goto(f"{base}/data/feeds/{feed.pk}/")
    page.screenshot(path=str(ARTIFACTS / "dataadmin-4-quality.png"), full_page=True)
    (after,) = loads.reports(feed)
    assert (after["rows_read"], after["accepted"], after["quarantined"], after["duplicates"]) == (6, 4, 1, 1)
    assert "16.7%" in page.inner_text("#quality")  # 1 of 6 rejected now
    errors = [e for e in page.errors if "ERR_CONNECTION_RESET" not in e and "Failed to load resource" not in e]
    assert not errors, errors


def test_the_data_administration_pages_fit_a_phone_and_speak_chinese(
    live_db: None, world: Any, live_server: Any, browser_page: Any, settings: Any, tmp_path: Path
) -> None:
    from django.test import Client

    from shijian.dataadmin.models import Feed
    from tests.dataadmin_seed import mapping_post
    from tests.test_browser_walk import SIZES, _english

    settings.HOME = tmp_path
    settings.SHIJIAN_LAKE = tmp_path / "lake"
    settings.SHIJIAN_MAPPINGS = tmp_path / "mappings"
    feed = Feed.objects.create(department=world.depts["hecheng"], slug="hecheng-jc", name="荷城日常检查")
    c = Client()
    c.force_login(world.users["hecheng_admin"])
    c.post(f"/data/feeds/{feed.pk}/mapping/", {**mapping_post(feed.name), "save": "1"})
    data = feed_csv(tmp_path / "d.csv").read_bytes()
    url = c.post(f"/data/feeds/{feed.pk}/uploads/", {"filename": "检查记录.csv", "size": len(data)}).json()["url"]
    c.generic("PATCH", url, data, content_type="application/offset+octet-stream", HTTP_UPLOAD_OFFSET="0")
    page, base = browser_page, live_server.url
    login(page, base, "hecheng_admin")
    page.set_viewport_size(SIZES["phone"])
    problems = []
    for path in ("/data/", "/data/feeds/add/", f"/data/feeds/{feed.pk}/", f"/data/feeds/{feed.pk}/upload/",
                 f"/data/feeds/{feed.pk}/quarantine/", f"/data/departments/{world.depts['hecheng'].pk}/",
                 f"/data/feeds/{feed.pk}/mapping/", "/jobs/schedules/"):  # fmt: skip
        page.errors.clear()
        page.goto(base + path)
        if path.endswith("/mapping/"):
            page.click("#preview")
            page.wait_for_selector("#preview-counts")
        wide = int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))
        if wide > 0:
            problems.append(f"{path}: {wide} px wider than the screen")
        words = _english(page.inner_text("body").replace("hecheng_admin", "").replace("hecheng-jc", ""))
        if words:
            problems.append(f"{path}: English {words[:12]}")
        problems += [f"{path}: console error {e}" for e in page.errors]
        name = path.strip("/").replace("/", "-")
        page.screenshot(path=str(ARTIFACTS / f"dataadmin-phone-{name}.png"), full_page=True)
    assert not problems, "\n".join(problems)


def test_an_upload_left_when_the_page_closed_resumes_when_the_same_file_is_chosen_again(
    live_db: None, world: Any, live_server: Any, browser_page: Any, settings: Any, tmp_path: Path
) -> None:
    from shijian.dataadmin.models import Feed, Upload

    settings.HOME = tmp_path
    settings.SHIJIAN_LAKE = tmp_path / "lake"
    settings.SHIJIAN_MAPPINGS = tmp_path / "mappings"
    feed = Feed.objects.create(department=world.depts["hecheng"], slug="hecheng-jc", name="荷城日常检查")
    file = feed_csv(tmp_path / "delivery" / "检查记录.csv")
    page, base = browser_page, live_server.url
    login(page, base, "hecheng_admin")
    sent: list[str] = []

    def cut_after_two(route: Any) -> None:
        if route.request.method == "PATCH":
            sent.append(route.request.headers.get("upload-offset", ""))
            if len(sent) > 2:  # the network is gone after two pieces
                route.abort("internetdisconnected")
                return
        route.continue_()

    page.route("**/data/uploads/*/", cut_after_two)
    page.goto(f"{base}/data/feeds/{feed.pk}/upload/?piece=100")
    page.set_input_files("#upload-file", str(file))
    page.click("#upload-start")
    page.locator("#upload-state", has_text="续传").wait_for(timeout=15000)  # 连接中断，正在续传…
    up = Upload.objects.get()
    assert up.offset == 200 and up.status == "receiving"

    # the page is closed; later the same file is chosen again, with the network back
    page.unroute("**/data/uploads/*/")
    page.goto(f"{base}/data/feeds/{feed.pk}/upload/?piece=100")
    page.set_input_files("#upload-file", str(file))
    page.click("#upload-start")
    page.wait_for_selector("#upload-job:not([hidden])", timeout=30000)
    up.refresh_from_db()
    assert Upload.objects.count() == 1 and up.status == "complete"  # the same upload, not a second one
    assert up.path.read_bytes() == file.read_bytes()
