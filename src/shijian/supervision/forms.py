"""Forms of the 双随机 screens: plans, batches, freezing, the seed, results, attachments."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shijian.core.jurisdiction import choices, contains, in_jurisdiction, restrict
from shijian.registry.models import Department, EntityType, SpotCheckItem
from shijian.supervision.draw import CLASSES, DEFAULT_RATIOS, DrawError, percent_bp
from shijian.supervision.models import Batch, Outcome, Plan, SeedMethod
from shijian.web.pickers import PICKER_LABELS, preselect_single


def _codes(value: str) -> list[str]:
    return [c.strip() for c in value.replace("，", ",").replace("；", ",").replace(";", ",").split(",") if c.strip()]


class PlanForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Plan
        fields = ["code", "name", "year", "level", "department", "region_code", "note"]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        depts = choices(Department.objects.filter(active=True), user)
        if user.role == "dept_staff" and not user.is_superuser:
            depts = depts.filter(pk=user.department_id)
        self.fields["department"].queryset = depts  # type: ignore[attr-defined]
        preselect_single(self.fields["department"])
        # district → town → village selects under the user's region (picker.js) fill the code
        self.fields["region_code"].widget.attrs.update(
            {"data-region-picker": "", "autocomplete": "off"} | PICKER_LABELS
        )

    def clean_region_code(self) -> str:
        region = str(self.cleaned_data["region_code"]).strip()
        if not region.isdigit() or not in_jurisdiction(self.user, region):
            raise forms.ValidationError(_("The plan's region must lie in your jurisdiction."))
        return region


class BatchForm(forms.ModelForm):  # type: ignore[type-arg]
    regions = forms.CharField(
        label=gettext_lazy("regions"),
        required=False,
        help_text=gettext_lazy("choose below and add, or type codes, comma-separated; empty = the plan's region"),
        widget=forms.TextInput(
            attrs={"data-region-picker": "", "data-multiple": "", "autocomplete": "off"} | PICKER_LABELS
        ),
    )
    industries = forms.CharField(
        label=gettext_lazy("industries"),
        required=False,
        help_text=gettext_lazy("type a GB/T 4754 code or name and choose; several, comma-separated; empty = all"),
        widget=forms.TextInput(attrs={"data-suggest": "industry", "data-multiple": ""}),
    )
    types = forms.MultipleChoiceField(
        label=gettext_lazy("entity types"),
        required=False,
        choices=EntityType.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("none ticked = all"),
    )
    excluded = forms.CharField(
        label=gettext_lazy("excluded entities"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("unified social credit codes, comma-separated (a custom rule; give the reason)"),
    )
    ratio_a = forms.DecimalField(label=gettext_lazy("class A ratio (%)"), initial=DEFAULT_RATIOS["A"], required=False)
    ratio_b = forms.DecimalField(label=gettext_lazy("class B ratio (%)"), initial=DEFAULT_RATIOS["B"], required=False)
    ratio_c = forms.DecimalField(label=gettext_lazy("class C ratio (%)"), initial=DEFAULT_RATIOS["C"], required=False)
    ratio_d = forms.DecimalField(label=gettext_lazy("class D ratio (%)"), initial=DEFAULT_RATIOS["D"], required=False)

    class Meta:
        model = Batch
        fields = [
            "code",
            "name",
            "department",
            "items",
            "scope_tags",
            "mode",
            "random_share",
            "ratio",
            "count",
            "exclude_drawn_this_year",
            "raise_hazard_entities",
            "exclude_new_days",
            "exclude_reason",
            "window_start",
            "window_end",
        ]
        widgets = {
            "window_start": forms.DateInput(attrs={"type": "date"}),
            "window_end": forms.DateInput(attrs={"type": "date"}),
            "items": forms.SelectMultiple(attrs={"size": 8}),
        }

    def __init__(self, *args: Any, plan: Plan, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.plan, self.user = plan, user
        depts = choices(Department.objects.filter(active=True), user)
        if user.role == "dept_staff" and not user.is_superuser:
            depts = depts.filter(pk=user.department_id)
        self.fields["department"].queryset = depts  # type: ignore[attr-defined]
        preselect_single(self.fields["department"])
        items = restrict(SpotCheckItem.objects.filter(active=True), user)
        self.fields["items"].queryset = items  # type: ignore[attr-defined]
        if self.instance.pk:
            for c in CLASSES:
                self.fields[f"ratio_{c.lower()}"].initial = (self.instance.ratios or {}).get(c)
            self.fields["regions"].initial = ", ".join(self.instance.scope_regions)
            self.fields["industries"].initial = ", ".join(self.instance.scope_industries)
            self.fields["types"].initial = list(self.instance.scope_types)
            self.fields["excluded"].initial = ", ".join(self.instance.exclude_keys)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        ratios = {}
        for c in CLASSES:
            value = data.get(f"ratio_{c.lower()}")
            if data.get("mode") == "stratified":
                if value is None:
                    self.add_error(f"ratio_{c.lower()}", _("Give a ratio for every class."))
                    continue
                try:
                    percent_bp(value)
                except DrawError as exc:
                    self.add_error(f"ratio_{c.lower()}", str(exc))
                    continue
                ratios[c] = format(value.normalize(), "f")
        data["ratios"] = ratios
        if data.get("mode") == "random" and (data.get("ratio") is None) == (data.get("count") is None):
            raise forms.ValidationError(_("A purely random batch needs a ratio or a number to draw (one of them)."))
        start, end = data.get("window_start"), data.get("window_end")
        if start and end and start > end:
            self.add_error("window_end", _("The window ends before it starts."))
        if start and start.year != self.plan.year:
            self.add_error("window_start", _("The window must start in the plan's year."))
        regions = _codes(data.get("regions", ""))
        for r in regions:
            if (
                not r.isdigit()
                or len(r) not in (6, 9, 12)
                or not contains(self.plan.region_code, r)
                or not in_jurisdiction(self.user, r)
            ):
                self.add_error("regions", _("%(code)s is not a region code within the plan's region.") % {"code": r})
        excluded = _codes(data.get("excluded", ""))
        if excluded and not str(data.get("exclude_reason", "")).strip():
            self.add_error("exclude_reason", _("Give the reason for excluding entities."))
        data["scope_regions"], data["scope_industries"] = regions, _codes(data.get("industries", ""))
        data["scope_types"], data["exclude_keys"] = list(data.get("types") or []), excluded
        return data

    def save(self, commit: bool = True) -> Batch:
        batch: Batch = super().save(commit=False)
        batch.plan = self.plan
        d = self.cleaned_data
        batch.ratios = d["ratios"]
        batch.scope_regions, batch.scope_industries = d["scope_regions"], d["scope_industries"]
        batch.scope_types, batch.exclude_keys = d["scope_types"], d["exclude_keys"]
        if commit:
            batch.save()
            self.save_m2m()
        return batch


class FreezeForm(forms.Form):
    batches = forms.ModelMultipleChoiceField(
        label=gettext_lazy("batches to draw together"),
        queryset=Batch.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    seed_method = forms.ChoiceField(label=gettext_lazy("seed"), choices=SeedMethod.choices)
    beacon_source = forms.CharField(
        label=gettext_lazy("public value to be used"),
        required=False,
        help_text=gettext_lazy("e.g. the closing value of the Shanghai Composite Index on a named date after today"),
    )
    beacon_at = forms.DateTimeField(
        label=gettext_lazy("public value published at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=gettext_lazy("the draw cannot be made before this time"),
    )
    commitment_1 = forms.CharField(label=gettext_lazy("commitment of official 1 (SHA-256)"), required=False)
    commitment_2 = forms.CharField(label=gettext_lazy("commitment of official 2 (SHA-256)"), required=False)
    prefer_region = forms.BooleanField(
        label=gettext_lazy("prefer officers of the entity's region"), required=False, initial=True
    )

    def __init__(self, *args: Any, plan: Plan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["batches"].queryset = plan.batches.filter(status="draft")  # type: ignore[attr-defined]


class SeedForm(forms.Form):
    public_value = forms.CharField(label=gettext_lazy("public value, as announced"), required=False)
    secret_1 = forms.CharField(label=gettext_lazy("secret of official 1"), required=False)
    secret_2 = forms.CharField(label=gettext_lazy("secret of official 2"), required=False)


class AttachmentForm(forms.Form):
    # On a phone the input opens the camera; the device's time and (if the user allows) place come with the photo.
    file = forms.FileField(
        label=gettext_lazy("photo or document"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )
    taken_at = forms.DateTimeField(required=False, widget=forms.HiddenInput)
    latitude = forms.DecimalField(required=False, min_value=-90, max_value=90, decimal_places=6, max_digits=9,
                                  widget=forms.HiddenInput)  # fmt: skip
    longitude = forms.DecimalField(required=False, min_value=-180, max_value=180, decimal_places=6, max_digits=9,
                                   widget=forms.HiddenInput)  # fmt: skip
    accuracy_m = forms.IntegerField(required=False, min_value=0, max_value=100_000, widget=forms.HiddenInput)

    SIGNATURES = {
        b"\xff\xd8\xff": "image/jpeg",
        b"\x89PNG\r\n\x1a\n": "image/png",
        b"%PDF-": "application/pdf",
    }

    def clean_file(self) -> Any:
        f = self.cleaned_data["file"]
        limit = settings.SHIJIAN_ATTACHMENT_MAX_BYTES
        if f.size > limit:
            raise forms.ValidationError(
                _("The file is %(size)d bytes; at most %(limit)d are accepted.") % {"size": f.size, "limit": limit}
            )
        head = f.read(16)
        f.seek(0)
        kind = next((t for sig, t in self.SIGNATURES.items() if head.startswith(sig)), None)
        suffix = Path(f.name or "").suffix.lower()
        if kind is None or suffix not in SUFFIXES[kind]:
            # by content AND name: a page or an image named .html/.svg is refused even if it starts like a photo
            raise forms.ValidationError(_("Only JPEG or PNG photos and PDF documents are accepted."))
        f.detected_type = kind
        f.display_name = display_name(f.name or "", kind)
        return f


SUFFIXES = {"image/jpeg": (".jpg", ".jpeg"), "image/png": (".png",), "application/pdf": (".pdf",)}


def display_name(name: str, content_type: str) -> str:
    """An uploaded file's name as shown and offered on download: no folders, no control or reserved characters,
    at most 100 characters, always ending in its type's suffix. The stored file has a generated name."""
    base = unicodedata.normalize("NFKC", name).replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '<>:"|?*;').strip(" .")
    suffix = SUFFIXES.get(content_type, (".bin",))[0]
    stem = base[: -len(Path(base).suffix)] if Path(base).suffix else base
    return (stem[:90] or "attachment") + suffix


OUTCOME_CHOICES = [("", "—"), *Outcome.choices]
