"""Generic object views. Each registry kind declares an ``ObjectSpec``; behaviour lives here, once.

Every view checks the role matrix (``core.permissions``) and restricts rows by jurisdiction
(``core.jurisdiction.restrict``): an object outside the user's scope is a 404, an action the role may not do a 403.
Writes run in a transaction and the saved object is re-checked against the user's scope before commit.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, models, transaction
from django.db.models import ProtectedError, Q
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shijian.core import audit
from shijian.core.jurisdiction import restrict
from shijian.core.permissions import allowed, require
from shijian.web.pagination import FEW_MATCHES, BoundedPaginator, by_index_conditions, page_by_ids
from shijian.web.tabular import TableError, read_table, write_xlsx, xlsx_response


@dataclass(frozen=True)
class Column:
    label: Any
    value: Callable[[Any], Any]
    link: bool = False


@dataclass(frozen=True)
class Filter:
    name: str
    label: Any
    to_q: Callable[[str], Q]
    choices: Callable[[Any], Sequence[tuple[str, Any]]] | None = None
    # pickers (static/shijian/picker.js): a select of the regions under the value of another filter, with the
    # chosen value's label; suggestions while typing ("industry", "entity"); or "region": district → town → village
    children_of: str = ""
    label_of: Callable[[str], str] | None = None
    suggest: str = ""


@dataclass(frozen=True)
class Importer:
    """Maps table headers (English key or Chinese label) onto form fields."""

    columns: dict[str, Sequence[str]]  # form field -> accepted headers
    to_data: Callable[[dict[str, str]], dict[str, Any]] = lambda row: row


@dataclass(frozen=True)
class ObjectSpec:
    kind: str
    model: type[models.Model]
    form_class: type[forms.ModelForm[Any]]
    columns: Sequence[Column]
    detail: Sequence[tuple[Any, Callable[[Any], Any]]]
    title: Any
    filters: Sequence[Filter] = ()
    search: Callable[[str], Q] | None = None
    search_help: Any = ""
    orderings: dict[str, tuple[Any, tuple[str, ...]]] = field(default_factory=dict)
    default_ordering: str = ""
    select_related: tuple[str, ...] = ()
    prefetch_related: tuple[str, ...] = ()
    importer: Importer | None = None
    export_columns: Sequence[tuple[str, Callable[[Any], Any]]] = ()
    detail_template: str = "web/object_detail.html"
    audit_detail_views: bool = False
    total: Callable[[Any], int] | None = None  # exact, cheap total of the unfiltered list (e.g. cached)
    detail_context: Callable[[HttpRequest, Any], dict[str, Any]] | None = None  # more for the detail page
    per_page: int = 50

    def url(self, action: str, *args: Any) -> str:
        return reverse(f"{self.kind}_{action}", args=args)


def _require(request: HttpRequest, spec: ObjectSpec, action: str) -> None:
    require(request.user, spec.kind, action)


def _login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    return wrapped


def filtered_queryset(request: HttpRequest, spec: ObjectSpec, action: str) -> models.QuerySet[Any]:
    return user_queryset(request.user, request.GET, spec, action)


def user_queryset(user: Any, params: QueryDict, spec: ObjectSpec, action: str) -> models.QuerySet[Any]:
    """The rows of ``spec`` the user may ``action``, filtered, searched and sorted by ``params`` (a list's GET)."""
    qs = restrict(spec.model._default_manager.all(), user, action)
    for flt in spec.filters:
        value = params.get(flt.name, "").strip()
        if value:
            qs = qs.filter(flt.to_q(value))
    term = params.get("q", "").strip()
    if term and spec.search is not None:
        qs = qs.filter(spec.search(term))
    order_key = params.get("sort", spec.default_ordering)
    if order_key not in spec.orderings:
        order_key = spec.default_ordering
    if order_key:
        qs = qs.order_by(*spec.orderings[order_key][1])
    if spec.select_related:
        qs = qs.select_related(*spec.select_related)
    if action == "export" and spec.prefetch_related:
        qs = qs.prefetch_related(*spec.prefetch_related)
    return qs


SPECS: dict[str, ObjectSpec] = {}  # filled by object_urls, so a job in the worker finds a list by its kind


def spec_for(kind: str) -> ObjectSpec:
    if kind not in SPECS:
        import shijian.config.urls  # noqa: F401  (declares every list)
    return SPECS[kind]


def _get_object(request: HttpRequest, spec: ObjectSpec, pk: int, action: str) -> Any:
    qs = restrict(spec.model._default_manager.all(), request.user, action)
    if spec.select_related:
        qs = qs.select_related(*spec.select_related)
    obj = qs.filter(pk=pk).first()
    if obj is None:
        raise Http404
    return obj


def _cell_html(value: Any) -> str:
    if value is True:
        return "✓"
    if value is False:
        return "✗"
    if value is None:
        return "None"  # as the template printed it
    # what ``{{ value }}`` does: local time, localised numbers and dates, escaped
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return str(conditional_escape(localize(value)))


def row_html(obj: Any, columns: Sequence[Column]) -> SafeString:
    """One list row as HTML, built here rather than in the template: 50 rows of seven cells through Django's
    template engine cost more than the search that found them (profiled at 780k entities)."""
    cells = []
    for col in columns:
        text = _cell_html(col.value(obj))
        if col.link:
            text = f'<a href="{conditional_escape(obj.get_absolute_url())}">{text}</a>'
        cells.append(f"<td>{text}</td>")
    return mark_safe("<tr>" + "".join(cells) + "</tr>")  # every value escaped above


def list_view(request: HttpRequest, spec: ObjectSpec) -> HttpResponse:
    _require(request, spec, "view")
    qs = filtered_queryset(request, spec, "view")
    if spec.prefetch_related:
        qs = qs.prefetch_related(*spec.prefetch_related)
    filtered = any(request.GET.get(f.name, "").strip() for f in spec.filters) or request.GET.get("q", "").strip()
    known_total = spec.total(request.user) if spec.total is not None and not filtered else None
    searched = bool(request.GET.get("q", "").strip())
    by_ids = page_by_ids(qs, spec.per_page, request.GET.get("page")) if searched else None
    if by_ids is None:
        paginator = BoundedPaginator(qs, spec.per_page, known_total=known_total)
        page = paginator.get_page(request.GET.get("page"))
        with by_index_conditions(searched and paginator.exact and paginator.count <= FEW_MATCHES):
            objects = list(page.object_list)
    else:
        page, found = by_ids
        objects = found if found is not None else list(page.object_list)
    params = request.GET.copy()
    params.pop("page", None)
    rows = [row_html(obj, spec.columns) for obj in objects]
    context = {
        "spec": spec,
        "page": page,
        "rows": rows,
        "filters": [
            {
                "name": f.name,
                "label": f.label,
                "value": request.GET.get(f.name, ""),
                "choices": f.choices(request.user) if f.choices else None,
                "children_of": f.children_of,
                "value_label": f.label_of(request.GET.get(f.name, "")) if f.label_of else "",
                "suggest": f.suggest,
            }
            for f in spec.filters
        ],
        "has_search": spec.search is not None,  # the template would call ``spec.search`` itself
        "short_term": 0 < len(request.GET.get("q", "").strip()) < 3,
        "q": request.GET.get("q", ""),
        "sort": request.GET.get("sort", spec.default_ordering),
        "querystring": params.urlencode(),
        "can_add": allowed(request.user, spec.kind, "add"),
        "can_import": allowed(request.user, spec.kind, "import") and spec.importer is not None,
        "can_export": allowed(request.user, spec.kind, "export") and bool(spec.export_columns),
    }
    template = "web/object_list_rows.html" if request.headers.get("HX-Request") else "web/object_list.html"
    return render(request, template, context)


def detail_view(request: HttpRequest, spec: ObjectSpec, pk: int) -> HttpResponse:
    _require(request, spec, "view")
    obj = _get_object(request, spec, pk, "view")
    if spec.audit_detail_views:
        audit.record(
            audit.Action.VIEW,
            object_type=f"{obj._meta.app_label}.{obj._meta.model_name}",
            object_id=str(obj.pk),
            object_repr=str(obj),
        )
    context = {
        "spec": spec,
        "object": obj,
        "fields": [(label, fn(obj)) for label, fn in spec.detail],
        "can_change": restrict(spec.model._default_manager.filter(pk=obj.pk), request.user, "change").exists(),
        "can_delete": allowed(request.user, spec.kind, "delete"),
        "history": _history(request, obj),
    }
    if spec.detail_context is not None:
        context.update(spec.detail_context(request, obj))
    return render(request, spec.detail_template, context)


def _history(request: HttpRequest, obj: models.Model) -> list[Any]:
    from shijian.core.models import AuditEvent

    if not allowed(request.user, "audit", "view"):
        return []
    otype = f"{obj._meta.app_label}.{obj._meta.model_name}"
    from shijian.web.audit_log import action_label

    events = list(
        AuditEvent.objects.filter(object_type=otype, object_id=str(obj.pk)).exclude(action="view").order_by("-id")[:20]
    )
    for e in events:
        e.action_label = action_label(e.action)  # type: ignore[attr-defined]
    return events


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=500, required=False)


def edit_view(request: HttpRequest, spec: ObjectSpec, pk: int | None = None) -> HttpResponse:
    action = "add" if pk is None else "change"
    _require(request, spec, action)
    instance = None if pk is None else _get_object(request, spec, pk, "change")
    form = spec.form_class(request.POST or None, instance=instance, user=request.user)  # type: ignore[call-arg]
    reason_form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and reason_form.is_valid():
        try:
            with transaction.atomic():
                obj = form.save(commit=False)
                obj._audit_reason = reason_form.cleaned_data["reason"]
                obj.save()
                form.save_m2m()
                if not restrict(spec.model._default_manager.filter(pk=obj.pk), request.user, "change").exists():
                    raise PermissionDenied
        except PermissionDenied:
            form.add_error(None, _("The result would lie outside your jurisdiction."))
        else:
            messages.success(request, _("Saved."))
            return redirect(spec.url("detail", obj.pk))
    return render(
        request,
        "web/object_edit.html",
        {"spec": spec, "form": form, "reason_form": reason_form, "object": instance},
    )


def delete_view(request: HttpRequest, spec: ObjectSpec, pk: int) -> HttpResponse:
    _require(request, spec, "delete")
    obj = _get_object(request, spec, pk, "delete")
    reason_form = ReasonForm(request.POST or None)
    reason_form.fields["reason"].required = True
    if request.method == "POST" and reason_form.is_valid():
        obj._audit_reason = reason_form.cleaned_data["reason"]
        try:
            with transaction.atomic():
                obj.delete()
        except ProtectedError:
            messages.error(request, _("It cannot be deleted: other records still refer to it."))
            return redirect(spec.url("detail", pk))
        messages.success(request, _("Deleted."))
        return redirect(spec.url("list"))
    return render(request, "web/object_delete.html", {"spec": spec, "object": obj, "reason_form": reason_form})


@dataclass
class RowError:
    line: int
    column: str
    message: str


def import_view(request: HttpRequest, spec: ObjectSpec) -> HttpResponse:
    """All-or-nothing bulk import: every row is validated first; one bad row means nothing is written."""
    _require(request, spec, "import")
    assert spec.importer is not None
    errors: list[RowError] = []
    created = 0
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            errors.append(RowError(0, "", _("Choose a file to upload.")))
        elif upload.size is not None and upload.size > settings.SHIJIAN_IMPORT_MAX_BYTES:
            errors.append(RowError(0, "", _("The file is larger than the import limit.")))
        else:
            try:
                created = _import_rows(request, spec, upload.name or "", upload.read(), errors)
            except TableError as exc:
                errors.append(RowError(0, "", str(exc)))
        if created and not errors:
            messages.success(request, _("Imported %(n)d rows.") % {"n": created})
            return redirect(spec.url("list"))
    return render(
        request,
        "web/object_import.html",
        {
            "spec": spec,
            "errors": errors,
            "columns": spec.importer.columns,
            "max_rows": settings.SHIJIAN_IMPORT_MAX_ROWS,
        },
    )


def _import_rows(request: HttpRequest, spec: ObjectSpec, name: str, data: bytes, errors: list[RowError]) -> int:
    assert spec.importer is not None
    header, rows = read_table(name, data, settings.SHIJIAN_IMPORT_MAX_ROWS)
    if not rows:
        raise TableError(_("The file has a header but no data rows."))
    if len(rows) > settings.SHIJIAN_IMPORT_MAX_ROWS:
        raise TableError(_("Too many rows: at most %(n)d per import.") % {"n": settings.SHIJIAN_IMPORT_MAX_ROWS})
    header_to_field: dict[str, str] = {}
    for fname, accepted in spec.importer.columns.items():
        for h in header:
            if h == fname or h in accepted:
                header_to_field[h] = fname
    unknown = [h for h in header if h and h not in header_to_field]
    if unknown:
        raise TableError(_("Unknown columns: %(cols)s") % {"cols": ", ".join(unknown)})
    valid_forms: list[tuple[int, forms.ModelForm[Any]]] = []
    for line, raw in rows:
        data_row = {header_to_field[h]: v for h, v in raw.items() if h in header_to_field}
        form = spec.form_class(spec.importer.to_data(data_row), user=request.user)  # type: ignore[call-arg]
        if form.is_valid():
            valid_forms.append((line, form))
        else:
            for fname, msgs in form.errors.items():
                for msg in msgs:
                    column = str(form.fields[fname].label or fname) if fname in form.fields else ""
                    errors.append(RowError(line, column, str(msg)))
    if errors:
        return 0
    with transaction.atomic():
        for line, form in valid_forms:
            if hasattr(form.instance, "source") and not form.instance.source:
                form.instance.source = "import"
            obj = form.save(commit=False)
            obj._audit_reason = _("bulk import of %(name)s, line %(line)d") % {"name": name, "line": line}
            try:
                with transaction.atomic():  # a savepoint: a unique value repeated inside the file names its row
                    obj.save()
            except IntegrityError:
                transaction.set_rollback(True)
                errors.append(
                    RowError(line, "", _("This row repeats a unique value (code, number) of an earlier row."))
                )
                return 0
            form.save_m2m()
            if not restrict(spec.model._default_manager.filter(pk=obj.pk), request.user, "change").exists():
                transaction.set_rollback(True)
                errors.append(RowError(line, "", _("The row lies outside your jurisdiction.")))
                return 0
    return len(valid_forms)


def export_view(request: HttpRequest, spec: ObjectSpec) -> HttpResponse:
    _require(request, spec, "export")
    qs = filtered_queryset(request, spec, "export")
    limit = settings.SHIJIAN_EXPORT_MAX_ROWS
    total = qs.count()
    if total > limit:
        messages.error(
            request,
            _("%(n)d rows match; exports are limited to %(limit)d. Narrow the filters.") % {"n": total, "limit": limit},
        )
        return redirect(f"{spec.url('list')}?{request.GET.urlencode()}")
    if total > settings.SHIJIAN_EXPORT_JOB_ROWS:
        # Large: written by a job to a file (bounded memory), offered for download on the job's page.
        from shijian.jobs.runner import enqueue

        job = enqueue("export", {"spec": spec.kind, "query": dict(request.GET.items())}, request.user)
        messages.info(
            request,
            _("%(n)d rows: the export runs as a job; download it from this page when it is ready.") % {"n": total},
        )
        return redirect(job)
    headers = [h for h, _fn in spec.export_columns]
    body = write_xlsx(headers, ([fn(o) for _h, fn in spec.export_columns] for o in qs.iterator(chunk_size=2000)))
    audit.record(
        audit.Action.EXPORT,
        object_type=f"{spec.model._meta.app_label}.{spec.model._meta.model_name}",
        object_repr=f"{total} rows",
        after={"filters": dict(request.GET.items()), "rows": total},
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return xlsx_response(f"{spec.kind}-{stamp}.xlsx", body)


def object_urls(spec: ObjectSpec, prefix: str) -> list[Any]:
    def bind(fn: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            return fn(request, spec, *args, **kwargs)

        view.__name__ = f"{spec.kind}_{fn.__name__}"
        return _login_required(view)

    k = spec.kind
    SPECS[k] = spec
    return [
        path(f"{prefix}/", bind(list_view), name=f"{k}_list"),
        path(f"{prefix}/add/", bind(edit_view), name=f"{k}_add"),
        path(f"{prefix}/import/", bind(import_view), name=f"{k}_import"),
        path(f"{prefix}/export/", bind(export_view), name=f"{k}_export"),
        path(f"{prefix}/<int:pk>/", bind(detail_view), name=f"{k}_detail"),
        path(f"{prefix}/<int:pk>/edit/", bind(edit_view), name=f"{k}_edit"),
        path(f"{prefix}/<int:pk>/delete/", bind(delete_view), name=f"{k}_delete"),
    ]
