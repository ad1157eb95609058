"""Forms of the user-administration screen; the rules themselves live in ``shijian.accounts.services``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from shijian.accounts.models import Role
from shijian.accounts.services import assignable_departments
from shijian.registry.models import Department
from shijian.web.pickers import PICKER_LABELS, preselect_single


class AssignmentForm(forms.Form):
    """Role, region and department of a user (no superuser field: the screen never grants it)."""

    role = forms.ChoiceField(label=_("role"), choices=Role.choices)
    region = forms.CharField(
        label=_("region"),
        max_length=12,
        help_text=_("6-digit district, 9-digit town or 12-digit village"),
        # district → town → village selects under the administrator's region (picker.js) fill the code
        widget=forms.TextInput(attrs={"data-region-picker": "", "autocomplete": "off"} | PICKER_LABELS),
    )
    department = forms.ModelChoiceField(label=_("department"), queryset=Department.objects.none(), required=False)

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = assignable_departments(actor)  # type: ignore[attr-defined]
        preselect_single(self.fields["department"])


class NewUserForm(AssignmentForm):
    username = forms.RegexField(
        label=_("username"), max_length=150, regex=r"^[\w.@+-]+$", help_text=_("letters, digits and @.+-_ only")
    )
    field_order = ["username", "role", "region", "department"]
