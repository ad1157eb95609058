"""The data administration's jobs: load an uploaded file, re-process loads after a mapping fix, build the lake."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shijian.jobs.kinds import Outcome, register
from shijian.jobs.runner import Context


@register("load", gettext_lazy("Load a department's file"))
def load(ctx: Context, upload: int) -> Outcome:
    from shijian.dataadmin import loads
    from shijian.dataadmin.models import Upload

    up = Upload.objects.select_related("feed__department").get(pk=upload)
    feed = up.feed
    ctx.progress(_("Loading %(file)s") % {"file": up.filename}, 0, 2)
    try:
        report = loads.load_file(feed, up.path)
    except Exception as exc:
        loads.failed(feed, str(exc), url=ctx.job.get_absolute_url(), exclude=ctx.job.created_by)
        raise
    ctx.log(
        f"{report.status}: {report.rows_read} read, {report.accepted} accepted, {report.quarantined} quarantined, "
        f"{report.duplicates} duplicates ({report.engine or '-'})"
    )
    outcome: Outcome = {"load": report.load_id, "status": report.status, **loads.counts(report)}
    outcome["url"] = feed.get_absolute_url()
    if report.status == "loaded" and feed.build_after_load:
        from shijian.jobs.runner import enqueue

        ctx.progress(_("Loaded; the build is queued"), 1, 2)
        outcome["build_job"] = enqueue("build", {"after_load": report.load_id}, ctx.job.created_by).pk
    ctx.progress(counts_message(report.status, loads.counts(report)), 2, 2)
    return outcome


def counts_message(status: str, c: dict[str, int]) -> str:
    """The load's counts as the job page shows them (they reconcile: read = accepted + quarantined + duplicates)."""
    if status != "loaded":
        return _("The same file was loaded before; nothing was added.")
    return _(
        "Loaded: %(read)d rows read = %(accepted)d accepted + %(quarantined)d quarantined + %(duplicates)d duplicates"
    ) % {
        "read": c["rows_read"],
        "accepted": c["accepted"],
        "quarantined": c["quarantined"],
        "duplicates": c["duplicates"],
    }


@register("reprocess", gettext_lazy("Re-process loads with the corrected mapping"))
def reprocess(ctx: Context, feed: int, loads: list[str]) -> Outcome:
    from shijian.dataadmin import loads as service
    from shijian.dataadmin.models import Feed

    f = Feed.objects.select_related("department").get(pk=feed)
    results = []
    for i, load_id in enumerate(loads):
        ctx.progress(_("Re-processing load %(load)s") % {"load": load_id}, i, len(loads))
        try:
            results.append(service.reprocess(f, load_id))
        except Exception as exc:
            service.failed(f, str(exc), url=ctx.job.get_absolute_url(), exclude=ctx.job.created_by)
            raise
    ctx.progress(
        "; ".join(counts_message("loaded", r["after"]) for r in results) or _("Re-processed"), len(loads), len(loads)
    )
    if results and f.build_after_load:
        from shijian.jobs.runner import enqueue

        enqueue("build", {"after_load": results[-1]["replaced_by"]}, ctx.job.created_by)
    return {"loads": results, "url": f.get_absolute_url()}


@register("build", gettext_lazy("Build the lake (linkage, entity files)"), retries=1)
def build(ctx: Context, after_load: str = "") -> Outcome:
    from shijian.analytics.snapshot import refresh_all
    from shijian.lake.build import run_build
    from shijian.lake.incremental import run_incremental
    from shijian.lake.store import Lake

    lake = Lake(Path(settings.SHIJIAN_LAKE))
    # After a load only that load is added (a full build where an incremental one could not equal it).
    report = run_incremental(lake, ctx.progress) if after_load else run_build(lake, ctx.progress)
    scopes = refresh_all(lake.root, progress=ctx.progress)
    out: dict[str, Any] = {"records": report.records, "unlinked": report.unlinked, "scopes": scopes}
    out["seconds"] = round(report.total_seconds, 1)
    return out
