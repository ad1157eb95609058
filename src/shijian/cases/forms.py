"""Forms of the complaint and case screens (validation only; the services decide)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from shijian.cases.models import ComplaintKind


class PublicComplaintForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=ComplaintKind.choices)
    complainant_name = forms.CharField(label=_("your name"), max_length=60)
    complainant_phone = forms.CharField(label=_("your telephone"), max_length=20)
    entity_name = forms.CharField(label=_("name of the business"), max_length=200)
    entity_uscc = forms.CharField(label=_("its unified social credit code (if known)"), max_length=18, required=False)
    entity_address = forms.CharField(label=_("its address"), max_length=200, required=False)
    subject = forms.CharField(label=_("subject"), max_length=200)
    content = forms.CharField(label=_("facts and request"), widget=forms.Textarea(attrs={"rows": 5}), max_length=5000)
    amount = forms.DecimalField(label=_("amount involved (yuan)"), required=False, min_value=0, max_digits=12)


class StaffComplaintForm(PublicComplaintForm):
    channel = forms.ChoiceField(label=_("channel"), choices=[("phone", _("Telephone")), ("walk_in", _("Walk-in"))])


class StatusForm(forms.Form):
    receipt_no = forms.CharField(label=_("receipt number"), max_length=20)
    phone = forms.CharField(label=_("the telephone given"), max_length=20)


class ImportForm(forms.Form):
    file = forms.FileField(label=_("12315 export (.csv or .xlsx)"))


class StepForm(forms.Form):
    """One form for every step: the choice the step's gateway needs (if any) and the note."""

    decision = forms.ChoiceField(label=_("decision"), required=False, choices=[])
    note = forms.CharField(label=_("note"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=5000)
    department = forms.IntegerField(label=_("department"), required=False, widget=forms.Select)
    fine = forms.DecimalField(label=_("fine (yuan)"), required=False, min_value=0, max_digits=14)
    confiscated = forms.DecimalField(label=_("confiscated income (yuan)"), required=False, min_value=0, max_digits=14)
    decision_no = forms.CharField(label=_("decision number"), required=False, max_length=40)
    legal_basis = forms.CharField(label=_("legal basis"), required=False, max_length=300)
    opens = forms.ChoiceField(
        label=_("open"),
        required=False,
        choices=[("hazard", _("a hazard-library entry")), ("case", _("an enforcement case"))],
    )


class CaseForm(forms.Form):
    uscc = forms.CharField(label=_("unified social credit code"), max_length=18)
    title = forms.CharField(label=_("title"), max_length=200)
    facts = forms.CharField(label=_("facts"), widget=forms.Textarea(attrs={"rows": 4}), required=False)


class EvidenceForm(forms.Form):
    file = forms.FileField(label=_("file"))
    description = forms.CharField(label=_("description"), max_length=300, required=False)


class VerifyForm(forms.Form):
    file = forms.FileField(label=_("signed PDF document"))
