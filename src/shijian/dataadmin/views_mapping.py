"""The mapping editor: edit a feed's mapping, preview it on a sample (an uploaded file or one given here), save
the TOML the CLI reads."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from shijian.core.jurisdiction import restrict
from shijian.dataadmin import feeds, preview
from shijian.dataadmin.explain import FIELD_LABELS
from shijian.dataadmin.forms import MappingForm, SampleForm
from shijian.dataadmin.models import Feed, Upload, UploadStatus
from shijian.dataadmin.views import _feed
from shijian.ingest.mapping import FeedMapping, MappingError, mapping_to_toml
from shijian.web.params import id_value

SAMPLE_MAX = 20 * 1024 * 1024


@login_required
def feed_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    feed = _feed(request, pk, "change")
    try:
        current = feeds.current_mapping(feed)
    except MappingError:  # the file was edited by hand and no longer reads: start again from the default
        messages.error(request, _("The saved mapping file cannot be read; saving here replaces it."))
        current = feeds.default_mapping(feed)
    uploads = list(Upload.objects.filter(feed=feed, status=UploadStatus.COMPLETE)[:20])
    starts = _starting_points(request, feed)
    chosen = request.GET.get("start", "")
    if request.method == "GET" and chosen in starts:
        current = starts[chosen][1]
        messages.info(
            request, _("Fields filled from %(name)s: check them, preview, then save.") % {"name": starts[chosen][0]}
        )
    form = MappingForm(request.POST or None, initial=MappingForm.initial_from(current))
    sample_form = SampleForm(request.POST or None, request.FILES or None)
    result = None
    edited = current
    if request.method == "POST" and form.is_valid():
        edited = feeds.bind(feed, form.mapping(current))
        if "save" in request.POST:
            feeds.save_mapping(feed, edited, request.user)
            messages.success(request, _("Mapping saved to %(file)s.") % {"file": feed.mapping_path.name})
            return redirect("feed_mapping", pk=feed.pk)
        result = _preview(request, feed, edited, uploads)
    context: dict[str, Any] = {"feed": feed, "form": form, "sample_form": sample_form, "uploads": uploads}
    context |= {"result": result, "toml": mapping_to_toml(edited), "saved": feeds.has_mapping(feed)}
    context["starts"] = [(key, label) for key, (label, _m) in starts.items()]
    context["labels"] = [_("line"), *(FIELD_LABELS[c] for c in preview.CLEAN_COLUMNS)]
    return render(request, "dataadmin/mapping.html", context)


def _starting_points(request: HttpRequest, feed: Feed) -> dict[str, tuple[str, FeedMapping]]:
    """Mappings to start from: the other feeds' saved mappings the user may edit (a department often delivers the
    same table for several feeds)."""
    out: dict[str, tuple[str, FeedMapping]] = {}
    others = restrict(Feed.objects.exclude(pk=feed.pk).select_related("department"), request.user, "change")
    for other in others:
        if feeds.has_mapping(other):
            try:
                out[f"feed:{other.pk}"] = (f"{other.department.name} · {other.name}", feeds.current_mapping(other))
            except MappingError:
                continue
    return out


def _preview(request: HttpRequest, feed: Any, mapping: Any, uploads: list[Upload]) -> preview.Preview | None:
    given = request.FILES.get("sample")
    if given is not None:
        suffix = Path(given.name or "").suffix.lower()
        if suffix not in feeds.SUFFIXES or given.size is None or given.size > SAMPLE_MAX:
            messages.error(request, _("A sample must be a CSV or Excel file of at most 20 MB."))
            return None
        with tempfile.TemporaryDirectory(prefix="shijian-sample-") as tmp:
            path = Path(tmp) / f"sample{suffix}"
            with path.open("wb") as out:
                for chunk in given.chunks():
                    out.write(chunk)
            return preview.run(mapping, path)
    raw = request.POST.get("upload", "")
    chosen = next((u for u in uploads if raw and u.pk == id_value("upload", raw)), None) or (
        uploads[0] if uploads else None
    )
    if chosen is None or not chosen.path.is_file():
        messages.error(request, _("Give a sample file, or upload one of the feed's files first."))
        return None
    return preview.run(mapping, chosen.path)
