"""What the risk page calls models and decisions, in the user's language (the stored values are codes)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MODEL_NAMES: dict[str, Any] = {
    "gbm": gettext_lazy("gradient-boosted trees"),
    "logistic": gettext_lazy("logistic regression"),
    "scorecard": gettext_lazy("scorecard"),
    "past_violations": gettext_lazy("baseline: past violations"),
    "presence": gettext_lazy("baseline: records in the side tables"),
    "random": gettext_lazy("random order"),
}


def model_name(kind: str) -> str:
    return str(MODEL_NAMES.get(kind, kind))


def decision(version: Any, kinds_by_pk: dict[int, str]) -> str:
    """Why a version was or was not made live, from the figures stored with it."""
    metrics = version.metrics or {}
    new_auc = ((metrics.get("backtest") or {}).get("mean") or {}).get(version.kind, {}).get("auc")
    if new_auc is None:
        return ""
    live_pk = metrics.get("live_version")
    if live_pk is None:
        return _("first model: backtest AUC %(auc).4f") % {"auc": new_auc}
    live_kind = kinds_by_pk.get(live_pk, "")
    old = ((metrics.get("live_backtest") or {}).get("mean") or {}).get(live_kind, {}).get("auc", 0.0)
    values = {"auc": new_auc, "v": live_pk, "kind": model_name(live_kind), "old": old}
    if new_auc > old:
        return _("promoted: backtest AUC %(auc).4f above live v%(v)s (%(kind)s) %(old).4f") % values
    return _("not promoted: backtest AUC %(auc).4f not above live v%(v)s (%(kind)s) %(old).4f") % values


# why a factor was left out of a dataset before any fit (the codes of chicago.DROPPED)
DROPPED_REASONS: dict[str, Any] = {
    "weather_unknown": gettext_lazy(
        "weather: unknown for the inspection day when the schedule is drawn up, and one value for every "
        "establishment on the scoring date"
    ),
    "assignments_stale": gettext_lazy(
        "the assignment files end in April 2014: for a later date the latest assignment is months old; the "
        "findings nearby carry the area's sanitarian"
    ),
}


def dropped_reason(code: str) -> str:
    return str(DROPPED_REASONS.get(code, code))


def screening_reason(code: str, detail: dict[str, Any] | None = None) -> str:
    """A screening decision (screening.Decision.reason and .detail) in the user's language; a reason stored as
    text before the codes existed is shown as it is."""
    d = detail or {}
    if code == "kept":
        return _("kept")
    if code == "weak" and "iv" in d:
        return _("weak: IV %(iv).3f < %(min)s") % d
    if code == "unstable" and "psi" in d:
        return _("unstable: PSI %(psi).2f between the earlier and later half > %(max)s") % d
    if code == "collinear" and "other" in d:
        return _("collinear with %(other)s (|r| = %(r).2f on WOE)") % d
    if code == "not_strongest" and "keep" in d:
        return _("not among the %(keep)s strongest") % d
    return code


# the shared datasets' factors, named in the user's language (the platform's are in factors.CATALOGUE)
DATASET_FACTORS: dict[str, Any] = {
    "pastFail": gettext_lazy("failed at the latest inspection"),
    "pastCritical": gettext_lazy("critical violations at the latest inspection"),
    "pastSerious": gettext_lazy("serious violations at the latest inspection"),
    "pastMinor": gettext_lazy("minor violations at the latest inspection"),
    "timeSinceLast": gettext_lazy("years since the latest inspection"),
    "firstRecord": gettext_lazy("no inspection before the date"),
    "pastInspections": gettext_lazy("inspections before the date"),
    "pastFailShare": gettext_lazy("share of past inspections failed"),
    "pastCriticalShare": gettext_lazy("share of past inspections with a critical violation"),
    "ageAtInspection": gettext_lazy("years since the first licence"),
    "consumption_on_premises_incidental_activity": gettext_lazy("licence: consumption on premises"),
    "tobacco": gettext_lazy("licence: tobacco"),
    "package_goods": gettext_lazy("licence: packaged goods"),
    "outdoor_patio": gettext_lazy("licence: outdoor patio"),
    "public_place_of_amusement": gettext_lazy("licence: public place of amusement"),
    "limited_business_license": gettext_lazy("licence: limited business"),
    "childrens_services_facility_license": gettext_lazy("licence: children's services facility"),
    "tavern": gettext_lazy("licence: tavern"),
    "regulated_business_license": gettext_lazy("licence: regulated business"),
    "filling_station": gettext_lazy("licence: filling station"),
    "caterers_liquor_license": gettext_lazy("licence: caterer's liquor"),
    "mobile_food_license": gettext_lazy("licence: mobile food"),
    "heat_burglary": gettext_lazy("burglaries nearby"),
    "heat_garbage": gettext_lazy("garbage-cart complaints nearby"),
    "heat_sanitation": gettext_lazy("sanitation complaints nearby"),
    "nearCritical": gettext_lazy("critical violations found nearby, last 60 days"),
    "nearCriticalLong": gettext_lazy("critical violations found nearby, last 240 days"),
    "Facility_Type": gettext_lazy("facility type"),
    "Inspector_Assigned": gettext_lazy("sanitarian assigned"),
    "precipIntensity": gettext_lazy("weather: precipitation"),
    "temperatureMax": gettext_lazy("weather: maximum temperature"),
    "windSpeed": gettext_lazy("weather: wind speed"),
    "humidity": gettext_lazy("weather: humidity"),
    "in_annual": gettext_lazy("present in the annual reports"),
    "in_tax": gettext_lazy("present in the tax records"),
    "in_news": gettext_lazy("present in the news"),
    "in_other": gettext_lazy("present in the other records"),
    "annual_reports": gettext_lazy("annual reports"),
    "annual_last_year": gettext_lazy("year of the latest annual report"),
    "annual_employees": gettext_lazy("employees (annual report)"),
    "annual_website": gettext_lazy("has a website (annual report)"),
    "annual_foreign_invest": gettext_lazy("invests abroad (annual report)"),
    "annual_stock_transfer": gettext_lazy("equity transfers (annual report)"),
    "annual_state_mean": gettext_lazy("operating state (annual report)"),
    "tax_records": gettext_lazy("tax records"),
    "tax_categories": gettext_lazy("tax categories"),
    "tax_amount": gettext_lazy("tax paid"),
    "tax_amount_max": gettext_lazy("largest tax payment"),
    "tax_rate_mean": gettext_lazy("mean tax rate"),
    "news": gettext_lazy("news items"),
    "news_negative": gettext_lazy("negative news items"),
    "news_positive": gettext_lazy("positive news items"),
    "news_negative_share": gettext_lazy("share of news negative"),
    "legal_judgments": gettext_lazy("legal judgments"),
    "brands": gettext_lazy("registered brands"),
    "patents": gettext_lazy("patents"),
}


def dataset_factor(name: str) -> str:
    return str(DATASET_FACTORS[name]) if name in DATASET_FACTORS else name


DATASET_NAMES: dict[str, Any] = {
    "chicago": gettext_lazy("Chicago food inspections"),
    "ccf": gettext_lazy("CCF enterprises"),
    "platform": gettext_lazy("this platform"),
}


def dataset_name(name: str) -> str:
    return str(DATASET_NAMES.get(name, name))


# The notes `risk score` writes beside a key it scored without history: stored in English (the tests and other
# programs read them), shown to people in their language.
_NOTES: dict[str, Any] = {
    "not a valid key": gettext_lazy("not a valid key"),
    "unknown key (in no table)": gettext_lazy("unknown key (in no table)"),
    "unknown entity": gettext_lazy("unknown entity"),
    "base features": gettext_lazy("base features (every factor missing)"),
    "no labelled history": gettext_lazy("no labelled history"),
    "features from its other records": gettext_lazy("features from its other records"),
}


def score_note(note: str) -> str:
    """A score note (``"reason: consequence"``) in the user's language; unknown parts are kept as written."""
    import re

    if not note:
        return ""
    parts = []
    for part in note.split(": "):
        hit = re.fullmatch(r"not established before (\d{4}-\d{2}-\d{2})", part)
        if hit:
            parts.append(_("not established before %(day)s") % {"day": hit.group(1)})
        else:
            parts.append(str(_NOTES.get(part, part)))
    return "：".join(parts)
