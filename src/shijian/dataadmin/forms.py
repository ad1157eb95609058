"""The feed form and the mapping editor's form (a mapping's fields, one text box per canonical field)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shijian.core.jurisdiction import choices
from shijian.dataadmin.explain import FIELD_LABELS, KEY_LABELS, RECORD_TYPE_LABELS
from shijian.dataadmin.models import Feed
from shijian.ingest.mapping import (
    CANONICAL_FIELDS,
    DEFAULT_DATE_FORMATS,
    ENTITY_KEYS,
    RECORD_TYPES,
    FeedMapping,
    MappingError,
)
from shijian.registry.models import Department


class FeedForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Feed
        fields = ["department", "slug", "name", "cadence_days", "build_after_load"]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = choices(Department.objects.all(), user)  # type: ignore[attr-defined]
        if self.instance.pk:  # the code names the lake source and the mapping file: fixed once loads exist
            self.fields["slug"].disabled = True
            self.fields["department"].disabled = True


def _split(text: str) -> tuple[str, ...]:
    """Headers given as a list: one per line, or separated by commas (ASCII or Chinese)."""
    return tuple(p.strip() for p in re.split(r"[\n,，、]", text) if p.strip())


class MappingForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("name"), max_length=200)
    encoding = forms.ChoiceField(
        label=gettext_lazy("encoding"),
        choices=[("auto", gettext_lazy("detect")), ("utf-8", "UTF-8"), ("gb18030", "GB18030 / GBK")],
    )
    record_type = forms.ChoiceField(
        label=gettext_lazy("record type"),
        required=False,
        choices=[("", gettext_lazy("from a column (below)")), *RECORD_TYPE_LABELS.items()],
    )
    record_types = forms.CharField(
        label=gettext_lazy("record type values"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "One per line: a delivered value = a record type, e.g. 处罚决定 = administrative penalty."
        ),
    )
    date_formats = forms.CharField(
        label=gettext_lazy("date formats"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("One per line, e.g. %Y-%m-%d or %Y年%m月%d日."),
    )
    amount_unit = forms.ChoiceField(
        label=gettext_lazy("bare amounts are in"),
        choices=[("wan", gettext_lazy("10,000 yuan")), ("yuan", gettext_lazy("yuan"))],
    )
    entity_keys = forms.MultipleChoiceField(
        label=gettext_lazy("entity keys"), choices=list(KEY_LABELS.items())[:0], widget=forms.CheckboxSelectMultiple
    )
    required = forms.MultipleChoiceField(
        label=gettext_lazy("required fields"), required=False, widget=forms.CheckboxSelectMultiple
    )
    ignore = forms.CharField(
        label=gettext_lazy("columns ignored"),
        required=False,
        help_text=gettext_lazy("Delivered columns dropped on purpose."),
    )
    keep_extra = forms.BooleanField(label=gettext_lazy("keep unmapped columns"), required=False)
    dedupe_across_loads = forms.BooleanField(label=gettext_lazy("a row already loaded is a duplicate"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["entity_keys"].choices = [(k, KEY_LABELS[k]) for k in ENTITY_KEYS]  # type: ignore[attr-defined]
        self.fields["required"].choices = [(k, FIELD_LABELS[k]) for k in CANONICAL_FIELDS]  # type: ignore[attr-defined]
        for f in CANONICAL_FIELDS:
            self.fields[f"col_{f}"] = forms.CharField(label=FIELD_LABELS[f], required=False)

    def column_fields(self) -> list[Any]:
        return [self[f"col_{f}"] for f in CANONICAL_FIELDS]

    @staticmethod
    def initial_from(m: FeedMapping) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": m.name,
            "encoding": m.encoding,
            "record_type": m.record_type,
            "record_types": "\n".join(f"{k} = {RECORD_TYPE_LABELS.get(v, v)}" for k, v in m.record_types.items()),
            "date_formats": "\n".join(m.date_formats),
            "amount_unit": m.amount_unit,
            "entity_keys": list(m.entity_keys),
            "required": list(m.required),
            "ignore": ", ".join(m.ignore),
            "keep_extra": m.keep_extra,
            "dedupe_across_loads": m.dedupe_across_loads,
        }
        for f in CANONICAL_FIELDS:
            data[f"col_{f}"] = ", ".join(m.columns.get(f, ()))
        return data

    def clean_record_types(self) -> dict[str, str]:
        """``delivered value = record type`` lines; the type by its name (in the UI language) or its code."""
        names = {str(label): code for code, label in RECORD_TYPE_LABELS.items()} | {c: c for c in RECORD_TYPES}
        out = {}
        for n, line in enumerate(str(self.cleaned_data.get("record_types", "")).splitlines(), 1):
            if not line.strip():
                continue
            value, sep, rtype = line.rpartition("=")
            if not sep or rtype.strip() not in names or not value.strip():
                raise forms.ValidationError(
                    _("Line %(n)d: write a delivered value, “=” and one of: %(types)s.")
                    % {"n": n, "types": "、".join(str(label) for label in RECORD_TYPE_LABELS.values())}
                )
            out[value.strip()] = names[rtype.strip()]
        return out

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("record_type") and not _split(data.get("col_record_type", "")):
            raise forms.ValidationError(_("Give a fixed record type or the column that holds it."))
        return data

    def mapping(self, base: FeedMapping) -> FeedMapping:
        d = self.cleaned_data
        formats = tuple(line.strip() for line in d["date_formats"].splitlines() if line.strip()) or DEFAULT_DATE_FORMATS
        columns = {f: _split(d[f"col_{f}"]) for f in CANONICAL_FIELDS if _split(d[f"col_{f}"])}
        try:
            return FeedMapping(
                name=d["name"],
                path=base.path,
                files=base.files,
                source=base.source,
                encoding=d["encoding"],
                date_formats=formats,
                amount_unit=d["amount_unit"],
                entity_keys=tuple(d["entity_keys"]),
                record_type=d["record_type"],
                columns=columns,
                record_types=d["record_types"] if not d["record_type"] else {},
                required=tuple(d["required"]),
                ignore=_split(d["ignore"]),
                dedupe_across_loads=d["dedupe_across_loads"],
                keep_extra=d["keep_extra"],
            )
        except MappingError as exc:  # pragma: no cover - the fields only offer valid values
            raise forms.ValidationError(str(exc)) from exc


class SampleForm(forms.Form):
    sample = forms.FileField(label=gettext_lazy("sample file"), required=False)
