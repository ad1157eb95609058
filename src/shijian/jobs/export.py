"""Large Excel exports as a job: rows streamed into a workbook on disk (xlsxwriter ``constant_memory``: bounded
memory, no shared-string table), renamed into place only when complete, then offered for download on the job's
page. Measured against openpyxl's write-only mode at 780k rows in docs/benchmarks.md."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from django.http import QueryDict
from django.utils import timezone

from shijian.core import audit
from shijian.jobs.runner import Context

CHUNK = 2000


def export_to_file(ctx: Context, kind: str, query: dict[str, str]) -> dict[str, Any]:
    from shijian.web.generic import spec_for, user_queryset
    from shijian.web.tabular import write_xlsx_file

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

    def rows() -> Iterator[list[Any]]:
        for done, obj in enumerate(qs.iterator(chunk_size=CHUNK), start=1):
            yield [fn(obj) for _h, fn in spec.export_columns]
            if done % CHUNK == 0:
                ctx.progress(f"{done} / {total}", done, total + 1)  # +1: closing the workbook is the last step

    try:
        done = write_xlsx_file(part, [str(h) for h, _fn in spec.export_columns], rows())
        ctx.progress(f"{done} / {total}", done, total + 1)
    except BaseException:
        part.unlink(missing_ok=True)  # no half-written file is ever offered
        raise
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
