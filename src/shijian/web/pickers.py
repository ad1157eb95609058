"""Pickers instead of typed codes: division and industry inputs that search by name (an HTML ``datalist``, no
script), and choice fields that pre-select their only choice."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy

from shijian.core.codes import tables

# what picker.js writes on its region selects and button (the UI's language, not the script's)
PICKER_LABELS = {
    "data-label-add": gettext_lazy("Add"),
    "data-label-choose": gettext_lazy("choose"),
    "data-label-level": gettext_lazy("level"),
}


class DatalistInput(forms.TextInput):
    """A text input offering its options as the user types a code or any part of a name."""

    def __init__(self, options: Callable[[], Sequence[tuple[str, str]]], attrs: dict[str, Any] | None = None):
        super().__init__(attrs)
        self.options = options

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> Any:
        list_id = f"{(attrs or {}).get('id') or 'id_' + name}-options"
        html = super().render(name, value, {**(attrs or {}), "list": list_id, "autocomplete": "off"}, renderer)
        options = format_html_join("", '<option value="{}">{}</option>', self.options())
        return format_html('{}<datalist id="{}">{}</datalist>', html, list_id, options)


def divisions_under(region: str, level: str) -> list[tuple[str, str]]:
    """Divisions of one level (town, village) under a region, each with its path of names."""
    divs = tables.divisions()
    out = []
    for d in divs.values():
        if d.level == level and d.code.startswith(region):
            parent = divs.get(d.parent or "")
            out.append((d.code, f"{parent.name} {d.name}" if parent is not None else d.name))
    return sorted(out)


def industry_classes() -> list[tuple[str, str]]:
    """The 4-digit industry classes (GB/T 4754 小类) with their names."""
    return [(i.code, i.name) for i in tables.industries().values() if len(i.code) == 4 and i.code.isdigit()]


def region_picker(user: Any, level: str = "village") -> DatalistInput:
    from django.conf import settings

    region = str(getattr(user, "region_code", "") or settings.SHIJIAN_HOME_REGION)
    return DatalistInput(lambda: divisions_under(region, level), attrs={"size": 14})


def industry_picker() -> DatalistInput:
    return DatalistInput(industry_classes, attrs={"size": 8})


def preselect_single(field: forms.Field) -> None:
    """A model choice with exactly one option starts selected (no empty choice to pick first)."""
    if isinstance(field, forms.ModelChoiceField) and not isinstance(field, forms.ModelMultipleChoiceField):
        only = list(field.queryset[:2])  # type: ignore[index]
        if len(only) == 1:
            field.initial = only[0].pk
            field.empty_label = None
