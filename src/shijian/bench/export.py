"""``shijian bench export``: the entity Excel export at scale, on the database ``shijian bench web`` built.

Two measurements, each in a process of its own so that its peak memory (``VmHWM``) is its own:
- ``--writer openpyxl|xlsxwriter --rows N``: the first N rows of the entity export (the same rows, the same
  column functions) written by openpyxl's write-only workbook (with lxml), as exports were, or by xlsxwriter's
  ``constant_memory`` mode, as export jobs are now;
- ``--rows 0`` (the default): the whole export as the worker runs it, a Job executed by ``runner.execute``.
Baseline in the same process: reading the same rows and computing their cells without writing them.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any


def _peak_mb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return 0


def _cells(rows: int) -> tuple[list[str], Any]:
    from django.contrib.auth import get_user_model
    from django.http import QueryDict

    from shijian.web.generic import spec_for, user_queryset

    spec = spec_for("entity")
    user = get_user_model().objects.get(username="bench-leader")
    qs = user_queryset(user, QueryDict(), spec, "export")[:rows]
    headers = [str(h) for h, _fn in spec.export_columns]
    return headers, ([fn(o) for _h, fn in spec.export_columns] for o in qs.iterator(chunk_size=2000))


def _openpyxl(path: Path, headers: list[str], rows: Any) -> int:
    from openpyxl import Workbook

    from shijian.web.tabular import formula_safe

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title="data")
    ws.append(headers)
    n = 0
    for n, row in enumerate(rows, start=1):  # noqa: B007
        ws.append([formula_safe(v) for v in row])
    wb.save(path)
    return n


def run(writer: str, rows: int, out_dir: Path) -> dict[str, Any]:
    from shijian.web.tabular import write_xlsx_file

    out_dir.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"writer": writer, "load_average_before": round(os.getloadavg()[0], 1)}
    t0 = time.perf_counter()
    if rows == 0:
        from django.contrib.auth import get_user_model

        from shijian.jobs import runner
        from shijian.jobs.models import Job

        user = get_user_model().objects.get(username="bench-leader")
        job = Job.objects.create(kind="export", params={"spec": "entity", "query": {}}, created_by=user)
        runner.execute(job.pk)
        job.refresh_from_db()
        report |= {"job": job.pk, "status": job.status, "outcome": job.outcome, "error": job.error[-500:]}
    elif writer == "none":  # baseline: the same rows read and their cells computed, nothing written
        _h, cells = _cells(rows)
        report["rows"] = sum(1 for _ in cells)
    else:
        headers, cells = _cells(rows)
        path = out_dir / f"bench-{writer}-{rows}.xlsx"
        write = _openpyxl if writer == "openpyxl" else write_xlsx_file
        report["rows"] = write(path, headers, cells)
        report["bytes"] = path.stat().st_size
        path.unlink()
    report["seconds"] = round(time.perf_counter() - t0, 1)
    report["peak_rss_mb"] = _peak_mb()
    report["load_average_after"] = round(os.getloadavg()[0], 1)
    return report
