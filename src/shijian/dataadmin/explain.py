"""The pipeline's reasons (English, stable, counted in load reports) told in the UI language, with the column."""

from __future__ import annotations

import json
import re
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shijian.ingest.mapping import FeedMapping

FIELD_LABELS: dict[str, Any] = {
    "record_id": gettext_lazy("record number"),
    "uscc": gettext_lazy("unified social credit code"),
    "reg_no": gettext_lazy("registration number"),
    "licence_no": gettext_lazy("licence number"),
    "entity_ref": gettext_lazy("the source's entity identifier"),
    "name": gettext_lazy("entity name"),
    "address": gettext_lazy("address"),
    "record_type": gettext_lazy("record type"),
    "event_date": gettext_lazy("date"),
    "amount": gettext_lazy("amount"),
    "result": gettext_lazy("result"),
    "detail": gettext_lazy("detail"),
}
RECORD_TYPE_LABELS: dict[str, Any] = {
    "registration_change": gettext_lazy("registration change"),
    "licence": gettext_lazy("licence"),
    "inspection": gettext_lazy("inspection"),
    "penalty": gettext_lazy("administrative penalty"),
    "complaint": gettext_lazy("complaint"),
    "abnormal": gettext_lazy("abnormal operation list"),
    "annual_report": gettext_lazy("annual report"),
    "tax": gettext_lazy("tax"),
    "litigation": gettext_lazy("litigation"),
    "news": gettext_lazy("news"),
    "other": gettext_lazy("other"),
}
KEY_LABELS: dict[str, Any] = {**FIELD_LABELS, "name_address": gettext_lazy("name and address")}

# Reason kinds for the quarantine's filter: a label and the reason prefixes it covers.
KINDS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "date": (gettext_lazy("date"), ("unreadable date", "missing event_date")),
    "amount": (gettext_lazy("amount"), ("unreadable amount",)),
    "record_type": (gettext_lazy("record type"), ("unknown record type",)),
    "entity": (gettext_lazy("entity key"), ("invalid USCC", "no entity key")),
    "missing": (gettext_lazy("missing field"), ("missing ",)),
}


def kind_of(reason: str) -> str:
    for kind, (_label, prefixes) in KINDS.items():
        if reason.startswith(prefixes):
            return kind
    return "row"


def _value(reason: str, prefix: str) -> str:
    return reason[len(prefix) :].strip()


def _delivered_header(field: str, raw: Any, mapping: FeedMapping | None) -> str:
    """The delivered column that maps to ``field`` in this row (else the field's label)."""
    if mapping is not None and isinstance(raw, dict):
        for header in raw:
            if header == field or header in mapping.columns.get(field, ()):
                return str(header)
    return str(FIELD_LABELS.get(field, field))


def parse_raw(raw: str) -> Any:
    try:
        return json.loads(raw)
    except (TypeError, ValueError):
        return raw


def explain(reason: str, raw: Any = None, mapping: FeedMapping | None = None) -> tuple[str, str]:
    """(the column, the reason in the UI language) of one quarantined row."""
    if reason.startswith("unreadable date"):
        value = _value(reason, "unreadable date")
        text = _("The date “%(value)s” matches none of the mapping's date formats.") % {"value": value}
        return _delivered_header("event_date", raw, mapping), text
    if reason.startswith("unreadable amount"):
        value = _value(reason, "unreadable amount")
        return _delivered_header("amount", raw, mapping), _("The amount “%(value)s” is not a number.") % {
            "value": value
        }
    if reason.startswith("unknown record type"):
        value = _value(reason, "unknown record type")
        text = _("The record type “%(value)s” is not in the mapping's record types.") % {"value": value}
        return _delivered_header("record_type", raw, mapping), text
    if reason.startswith("invalid USCC"):
        code = _value(reason, "invalid USCC").split(" ")[0]
        text = _("The credit code “%(code)s” fails its check digit and the row has no other entity key.") % {
            "code": code
        }
        return _delivered_header("uscc", raw, mapping), text
    if reason.startswith("no entity key"):
        keys = re.findall(r"[a-z_]+", reason.partition("(")[2])
        names = "、".join(str(KEY_LABELS.get(k, k)) for k in keys)
        return "", _("The row carries no entity key (one of: %(keys)s).") % {"keys": names}
    if reason.startswith("missing "):
        field = _value(reason, "missing")
        return _delivered_header(field, raw, mapping), _("The required field is empty.")
    if "cells, expected" in reason or "cells" in reason:
        return "", _("The line has a different number of cells from the header.")
    return "", _("The line cannot be read as a row of the table.")


def explain_file(message: str) -> str:
    """Why a whole file was refused, in the UI language (the pipeline's message names the columns)."""
    names = ", ".join(re.findall(r"'([^']*)'", message))
    if message.startswith("unknown columns"):
        return _(
            "The file has columns the mapping does not know: %(names)s. Map them to a field or list them as ignored."
        ) % {"names": names}
    if message.startswith("required columns missing"):
        labels = "、".join(str(FIELD_LABELS.get(n, n)) for n in re.findall(r"'([^']*)'", message))
        return _("The mapping finds no column for the required fields: %(names)s.") % {"names": labels}
    if message.startswith("no mapping matches"):
        return _("No mapping matches this file: save the feed's mapping first.")
    if message.startswith("identical file") or message.startswith("identical to"):
        return _("The same file was loaded before; nothing was added.")
    if message.startswith("unsupported file type"):
        return _("Only CSV and Excel (.xlsx) files can be loaded.")
    if "UTF-8" in message or " text (" in message or "cannot read the header as" in message:
        return _("The file's characters cannot be read as UTF-8 or GB18030.")
    if "header" in message or "blank" in message or "empty" in message or "0 bytes" in message:
        return _("The file has no usable header row or no rows.")
    return _("The file cannot be read as a table.")
