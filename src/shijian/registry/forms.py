"""Forms of the registry: validation of codes, and choices limited to the user's jurisdiction."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shijian.core.codes import tables, uscc
from shijian.core.jurisdiction import choices, in_jurisdiction, restrict
from shijian.registry.models import (
    LEVEL_CODE_LENGTH,
    STATUS_BY_LABEL,
    TYPE_BY_LABEL,
    Department,
    Entity,
    EntityType,
    Inspector,
    InspectorConflict,
    ItemCategory,
    Responsibility,
    SpotCheckItem,
    Tag,
)
from shijian.web.pickers import industry_picker, preselect_single, region_picker


def _choice_key(value: str, choices: Any, aliases: dict[str, str] | None = None) -> str:
    """Accept the stored key, its label (English or Chinese) or a departmental alias for a choice in imports."""
    from django.utils import translation

    value = value.strip()
    if aliases and value in aliases:
        return aliases[value]
    for key, label in choices:
        labels = {str(label)}
        for lang in ("zh-hans", "en"):
            with translation.override(lang):
                labels.add(str(label))
        if value == key or value in labels:
            return str(key)
    return value


class ScopedModelForm(forms.ModelForm):  # type: ignore[type-arg]
    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        if "department" in self.fields:
            field = self.fields["department"]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = choices(Department.objects.all(), user)
            preselect_single(field)
        if "region_code" in self.fields:
            self.fields["region_code"].widget = region_picker(user)
        if "industry_code" in self.fields:
            self.fields["industry_code"].widget = industry_picker()

    def clean_region(self, code: str, lengths: tuple[int, ...]) -> str:
        code = uscc.normalise(code)
        if len(code) not in lengths or code not in tables.divisions():
            raise forms.ValidationError(_("Unknown division code %(code)s.") % {"code": code})
        if not in_jurisdiction(self.user, code):
            raise forms.ValidationError(_("Division %(code)s is outside your jurisdiction.") % {"code": code})
        return code


USCC_REASONS = {
    "length": gettext_lazy("it has %(n)s characters, a code has 18"),
    "charset": gettext_lazy("characters not allowed: %(chars)s (I, O, Z, S and V are never used)"),
    "division": gettext_lazy("positions 3 to 8 must be a 6-digit division code"),
    "check": gettext_lazy("the check character (the last one) is %(got)s but should be %(expected)s"),
}


def uscc_reason(result: uscc.UsccResult) -> str:
    """Why a code is invalid, in the user's language."""
    template = USCC_REASONS.get(result.reason)
    return str(template) % dict(result.params) if template is not None else result.error


class EntityForm(ScopedModelForm):
    tags = forms.ModelMultipleChoiceField(
        Tag.objects.all(), required=False, to_field_name="code", label=gettext_lazy("tags")
    )

    class Meta:
        model = Entity
        fields = [
            "uscc",
            "reg_no",
            "name",
            "former_names",
            "entity_type",
            "industry_code",
            "region_code",
            "address",
            "legal_rep",
            "registered_capital",
            "established_on",
            "status",
            "tags",
        ]
        widgets = {"established_on": forms.DateInput(attrs={"type": "date"})}

    def clean_uscc(self) -> str | None:
        raw = self.cleaned_data.get("uscc") or ""
        if not raw.strip():
            return None
        result = uscc.validate(raw)
        if not result.ok:
            raise forms.ValidationError(_("Invalid unified social credit code: %(why)s") % {"why": uscc_reason(result)})
        clash = Entity.objects.filter(uscc=result.code)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError(_("Another entity already has this code."))
        return result.code

    def clean_industry_code(self) -> str:
        code = uscc.normalise(self.cleaned_data.get("industry_code") or "")
        industry = tables.industries().get(code)
        if industry is None or industry.level != "class":
            raise forms.ValidationError(_("%(code)s is not a GB/T 4754-2017 class code.") % {"code": code})
        return code

    def clean_region_code(self) -> str:
        return self.clean_region(self.cleaned_data.get("region_code") or "", (9, 12))

    def save(self, commit: bool = True) -> Entity:
        entity: Entity = super().save(commit=False)
        entity.town_code = entity.region_code[:9]
        entity.district_code = entity.region_code[:6]
        entity.industry_section = tables.industries()[entity.industry_code].section
        if not entity.source:
            entity.source = "manual"
        if commit:
            entity.save()
            self.save_m2m()
        return entity


def entity_import_data(row: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = dict(row)
    if "entity_type" in data:
        data["entity_type"] = _choice_key(
            data["entity_type"], Entity._meta.get_field("entity_type").choices, TYPE_BY_LABEL
        )
    if "status" in data:
        data["status"] = _choice_key(data["status"], Entity._meta.get_field("status").choices, STATUS_BY_LABEL)
    if "tags" in data:
        data["tags"] = [t.strip() for t in data["tags"].replace("，", ",").split(",") if t.strip()]
    if data.get("established_on"):
        from shijian.registry.loader import parse_date

        try:
            parsed = parse_date(data["established_on"])
            data["established_on"] = parsed.isoformat() if parsed else ""
        except ValueError:
            pass  # the form reports it
    if data.get("registered_capital"):
        data["registered_capital"] = uscc.normalise(data["registered_capital"]).removesuffix("万元").replace(",", "")
    return data


class DepartmentForm(ScopedModelForm):
    class Meta:
        model = Department
        fields = ["code", "name", "level", "region_code", "active"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        level, region = data.get("level"), data.get("region_code")
        if level and region:
            try:
                data["region_code"] = self.clean_region(region, (LEVEL_CODE_LENGTH[level],))
            except forms.ValidationError as exc:
                self.add_error("region_code", exc)
        return data


class InspectorForm(ScopedModelForm):
    qualifications = forms.ModelMultipleChoiceField(
        ItemCategory.objects.all(), required=False, to_field_name="code", label=gettext_lazy("qualifications")
    )
    department = forms.ModelChoiceField(
        Department.objects.all(), to_field_name="code", label=gettext_lazy("department")
    )

    class Meta:
        model = Inspector
        fields = ["name", "department", "region_code", "cert_no", "qualifications", "active"]

    def clean_region_code(self) -> str:
        return self.clean_region(self.cleaned_data.get("region_code") or "", (6, 9, 12))


def inspector_import_data(row: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = dict(row)
    if "qualifications" in data:
        data["qualifications"] = [q.strip() for q in data["qualifications"].replace("，", ",").split(",") if q.strip()]
    if "active" in data:
        data["active"] = data["active"].strip().lower() in {"1", "true", "yes", "是", "在岗", "y"}
    return data


class ConflictForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = InspectorConflict
        fields = ["person_name", "reason", "declared_on"]


class SpotCheckItemForm(ScopedModelForm):
    category = forms.ModelChoiceField(ItemCategory.objects.all(), to_field_name="code", label=gettext_lazy("category"))
    departments = forms.ModelMultipleChoiceField(
        Department.objects.all(), to_field_name="code", required=False, label=gettext_lazy("responsible departments")
    )
    sub_items = forms.CharField(
        label=gettext_lazy("sub-items"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("one per line"),
    )
    target_entity_types = forms.MultipleChoiceField(
        choices=EntityType.choices, required=False, label=gettext_lazy("target entity types")
    )
    target_industries = forms.CharField(
        label=gettext_lazy("target industries"),
        required=False,
        help_text=gettext_lazy("GB/T 4754 codes or prefixes, separated by commas; empty = all"),
    )

    class Meta:
        model = SpotCheckItem
        fields = [
            "code",
            "name",
            "category",
            "sub_items",
            "legal_basis",
            "departments",
            "target_entity_types",
            "target_industries",
            "kind",
            "ratio_cap",
            "frequency",
            "method",
            "inspector_requirements",
            "active",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["departments"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = restrict(Department.objects.all(), self.user, "view")
        if self.instance.pk and not self.is_bound:
            self.initial["sub_items"] = "\n".join(self.instance.sub_items)
            self.initial["target_industries"] = ",".join(self.instance.target_industries)

    def clean_sub_items(self) -> list[str]:
        raw = self.cleaned_data.get("sub_items") or ""
        return [line.strip() for line in raw.replace("；", "\n").replace(";", "\n").splitlines() if line.strip()]

    def clean_target_industries(self) -> list[str]:
        raw = (self.cleaned_data.get("target_industries") or "").replace("，", ",")
        codes = [c.strip().upper() for c in raw.split(",") if c.strip()]
        known = tables.industries()
        bad = [c for c in codes if c not in known]
        if bad:
            raise forms.ValidationError(_("Unknown industry codes: %(codes)s") % {"codes": ", ".join(bad)})
        return codes

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == "key" and data.get("ratio_cap") is not None:
            self.add_error("ratio_cap", _("Key items have no ratio cap."))
        if self.user.role == "dept_staff" and not self.user.is_superuser:
            departments = data.get("departments") or []
            if self.user.department_id not in {d.pk for d in departments}:
                self.add_error("departments", _("Your own department must be among the responsible departments."))
        return data


def item_import_data(row: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = dict(row)
    for key in ("departments", "target_entity_types"):
        if key in data:
            data[key] = [v.strip() for v in data[key].replace("，", ",").split(",") if v.strip()]
    if "target_entity_types" in data:
        choices = Entity._meta.get_field("entity_type").choices
        data["target_entity_types"] = [_choice_key(v, choices, TYPE_BY_LABEL) for v in data["target_entity_types"]]
    if "kind" in data:
        data["kind"] = {"一般": "general", "重点": "key"}.get(data["kind"].strip(), data["kind"].strip())
    if "active" in data:
        data["active"] = data["active"].strip().lower() not in {"0", "false", "no", "否", "n"}
    else:
        data["active"] = True
    return data


class ResponsibilityForm(ScopedModelForm):
    department = forms.ModelChoiceField(
        Department.objects.all(), to_field_name="code", label=gettext_lazy("department")
    )
    item = forms.ModelChoiceField(SpotCheckItem.objects.all(), to_field_name="code", label=gettext_lazy("item"))

    class Meta:
        model = Responsibility
        fields = ["department", "item", "region_code", "note"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["item"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = restrict(SpotCheckItem.objects.all(), self.user, "view")

    def clean_region_code(self) -> str:
        return self.clean_region(self.cleaned_data.get("region_code") or "", (6, 9, 12))
