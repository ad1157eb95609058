"""Large Excel exports as a job: rows streamed into a write-only workbook on disk (bounded memory), renamed into
place only when complete, then offered for download on the job's page."""

from __future__ import annotations

import os
from typing import Any

from django.http import QueryDict
from django.utils import timezone

from shijian.core import audit
from shijian.jobs.runner import Context

CHUNK = 2000


def export_to_file(ctx: Context, kind: str, query: dict[str, str]) -> dict[str, Any]:
    from openpyxl import Workbook

    from shijian.web.generic import spec_for, user_queryset
    from shijian.web.tabular import formula_safe

    spec = spec_for(kind)
    user = ctx.job.created_by
    params = QueryDict(mutable=True)
    params.update(query)
    qs = user_queryset(user, params, spec, "export")
    total = qs.count()
    ctx.log(f"{total} rows to write")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    final = ctx.file(f"{kind}-{stamp}.xlsx")
    part = final.with_name(final.name + ".part")
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title="data")
    ws.append([formula_safe(str(h)) for h, _fn in spec.export_columns])
    done = 0
    try:
        for obj in qs.iterator(chunk_size=CHUNK):
            ws.append([formula_safe(fn(obj)) for _h, fn in spec.export_columns])
            done += 1
            if done % CHUNK == 0:
                ctx.progress(f"{done} / {total}", done, total + 1)  # +1: saving the workbook is the last step
        ctx.progress(f"{done} / {total}", done, total + 1)
    except BaseException:
        ws.close()  # drop the rows written so far (a temporary file)
        raise
    wb.save(part)
    os.replace(part, final)
    audit.record(
        audit.Action.EXPORT,
        object_type=f"{spec.model._meta.app_label}.{spec.model._meta.model_name}",
        object_repr=f"{done} rows",
        after={"filters": query, "rows": done, "job": ctx.job.pk},
    )
    ctx.job.result_file = final.name
    type(ctx.job).objects.filter(pk=ctx.job.pk).update(result_file=final.name)
    return {"rows": done, "file": final.name, "bytes": final.stat().st_size}
