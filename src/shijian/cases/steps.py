"""What each step of the shipped diagrams asks the official: the choice its gateway routes on, and which fields."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

# step -> (the engine variable the choice sets, [(value, label)]); steps not listed ask for a note only
CHOICES = {
    "accept": ("accepted", [("1", _("Accept")), ("0", _("Do not accept"))]),
    "mediate": ("agreement", [("1", _("Agreement reached")), ("0", _("No agreement: mediation ended"))]),
    "verify": ("violation", [("1", _("Violation found")), ("0", _("No violation found"))]),
    "lead": ("filed", [("1", _("File the case (立案)")), ("0", _("Do not file"))]),
    "inform": ("hearing_requested", [("0", _("No hearing requested")), ("1", _("Hearing requested"))]),
    "decide": ("penalty", [("1", _("Impose a penalty")), ("0", _("No penalty"))]),
}
FIELDS = {
    "triage": ("department", "note"),
    "verify": ("decision", "opens", "note"),
    "decide": ("decision", "fine", "confiscated", "decision_no", "legal_basis", "note"),
}


def data_from(step: str, cleaned: dict[str, object]) -> dict[str, object]:
    """The service's data for ``step`` from a cleaned StepForm."""
    out: dict[str, object] = {}
    if step in CHOICES:
        out[CHOICES[step][0]] = cleaned.get("decision") == "1"
    if step == "triage":
        out["department"] = cleaned.get("department")
    if step == "verify":
        out["open"] = cleaned.get("opens") or "hazard"
    if step == "decide":
        for k in ("fine", "confiscated", "decision_no", "legal_basis"):
            out[k] = cleaned.get(k) or ""
    return out


def fields_for(step: str) -> tuple[str, ...]:
    return FIELDS.get(step, ("decision", "note") if step in CHOICES else ("note",))
