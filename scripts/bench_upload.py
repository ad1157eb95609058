"""Measure a browser-style resumable upload and its load through a real gunicorn server.

    SHIJIAN_HOME=/work/big/dataadmin/home .venv/bin/python scripts/bench_upload.py --rows 2000000

Generates a department's CSV (``--rows`` rows), starts gunicorn on 127.0.0.1, signs in as a data administrator,
sends the file in 8 MB pieces with the upload protocol (``dataadmin/uploads.py``), drops the connection once in
the middle of a piece and resumes at the server's offset, then runs the queued load job and prints the figures.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("SHIJIAN_HTTPS", "0")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shijian.config.settings")


def make_csv(path: Path, rows: int) -> None:
    from shijian.core.codes.uscc import make

    rng = random.Random(20)
    codes = [make("91", "440608", f"MA{i:06d}") for i in range(5000)]
    with path.open("w", encoding="utf-8") as out:
        out.write("记录编号,统一社会信用代码,企业名称,检查日期,检查结果\n")
        for i in range(rows):
            code = rng.choice(codes)
            day = f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}"
            out.write(f"JC-{i:09d},{code},佛山市高明区某某餐饮有限公司{code[-6:]},{day},合格\n")


def setup(home: Path) -> int:
    import django

    django.setup()
    from django.core.management import call_command

    from shijian.accounts.models import User
    from shijian.dataadmin import feeds
    from shijian.dataadmin.models import Feed
    from shijian.ingest.mapping import FeedMapping
    from shijian.registry.models import Department

    call_command("migrate", verbosity=0)
    dept, _ = Department.objects.get_or_create(
        code="440608-SAMR", defaults={"name": "高明区市场监督管理局", "level": "district", "region_code": "440608"}
    )
    if not User.objects.filter(username="bench_admin").exists():
        User.objects.create_user("bench_admin", password="bench-pass-9", role="data_admin", region_code="440608",
                                 department=dept)  # fmt: skip
    feed, _ = Feed.objects.get_or_create(slug="bench-jc", defaults={"department": dept, "name": "基准检查"})
    columns = {"record_id": ("记录编号",), "uscc": ("统一社会信用代码",), "name": ("企业名称",),
               "event_date": ("检查日期",), "result": ("检查结果",)}  # fmt: skip
    mapping = FeedMapping(name=feed.name, path="", files=(), record_type="inspection", columns=columns,
                          entity_keys=("uscc",), date_formats=("%Y-%m-%d",))  # fmt: skip
    feeds.save_mapping(feed, mapping)
    return int(feed.pk)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--piece", type=int, default=8 * 1024 * 1024)
    args = ap.parse_args()
    home = Path(os.environ["SHIJIAN_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    csv = home / f"bench-{args.rows}.csv"
    if not csv.exists():
        t0 = time.perf_counter()
        make_csv(csv, args.rows)
        print(f"generated {csv.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - t0:.1f} s")
    feed_id = setup(home)
    import requests

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "shijian.config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--timeout",
            "120",
        ],
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        http = requests.Session()
        for _ in range(100):
            try:
                http.get(f"{base}/login/", timeout=30)
                break
            except requests.RequestException:
                time.sleep(0.2)
        token = http.cookies["csrftoken"]
        r = http.post(f"{base}/login/", data={"username": "bench_admin", "password": "bench-pass-9",
                      "csrfmiddlewaretoken": token}, headers={"Referer": f"{base}/login/"})  # fmt: skip
        r.raise_for_status()
        token = http.cookies["csrftoken"]
        headers = {"X-CSRFToken": token, "Referer": base + "/"}
        size = csv.stat().st_size
        r = http.post(f"{base}/data/feeds/{feed_id}/uploads/", data={"filename": csv.name, "size": size},
                      headers=headers)  # fmt: skip
        r.raise_for_status()
        url = base + r.json()["url"]
        offset, drops, pieces = 0, 0, 0
        t0 = time.perf_counter()
        with csv.open("rb") as fh:
            while offset < size:
                fh.seek(offset)
                body = fh.read(args.piece)
                if drops == 0 and offset >= size // 2:
                    drops += 1  # the connection drops after half a piece: the server keeps what reached it
                    with socket.create_connection(("127.0.0.1", port)) as raw:
                        cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
                        head = (f"PATCH {url[len(base):]} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n"
                                f"X-CSRFToken: {token}\r\nReferer: {base}/\r\nUpload-Offset: {offset}\r\n"
                                f"Content-Type: application/offset+octet-stream\r\n"
                                f"Content-Length: {len(body)}\r\n\r\n")  # fmt: skip
                        raw.sendall(head.encode() + body[: len(body) // 2])
                    time.sleep(0.5)
                    before, offset = offset, int(http.get(url).headers["Upload-Offset"])
                    print(f"connection dropped after {len(body) // 2} bytes of the piece at {before}: "
                          f"the server kept {offset - before} bytes; resuming at {offset}")  # fmt: skip
                    continue
                r = http.patch(url, data=body, headers={**headers, "Upload-Offset": str(offset),
                               "Content-Type": "application/offset+octet-stream"})  # fmt: skip
                r.raise_for_status()
                offset = r.json()["offset"]
                pieces += 1
        seconds = time.perf_counter() - t0
        job = r.json()["job"]
        print(f"upload: {size / 1e6:.0f} MB in {seconds:.1f} s ({size / 1e6 / seconds:.0f} MB/s), {pieces} pieces, "
              f"{drops} dropped connection resumed; job {job}")  # fmt: skip
    finally:
        server.terminate()
        server.wait()
    from shijian.dataadmin.models import Upload
    from shijian.jobs.models import Job
    from shijian.jobs.runner import execute

    up = Upload.objects.latest("pk")
    assert up.path.read_bytes() == csv.read_bytes(), "the uploaded file differs from the original"
    t0 = time.perf_counter()
    execute(up.job_id)
    job_row = Job.objects.get(pk=up.job_id)
    seconds = time.perf_counter() - t0
    o = job_row.outcome
    print(f"load job: {job_row.status} in {seconds:.1f} s ({o.get('rows_read', 0) / seconds:,.0f} rows/s): "
          f"{o.get('rows_read')} read = {o.get('accepted')} accepted + {o.get('quarantined')} quarantined + "
          f"{o.get('duplicates')} duplicates")  # fmt: skip
    print(job_row.log.strip().splitlines()[-2])


if __name__ == "__main__":
    main()
