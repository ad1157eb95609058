"""Which register entity a read licence names: the exact code when it validates and is registered, else the name
(and address) through the complaint linkage's rules (``cases.linkage``), each unique or nothing."""

from __future__ import annotations

from shijian.cases.linkage import link
from shijian.ocr.reader import LicenceFields
from shijian.registry.models import Entity


def match_register(fields: LicenceFields) -> tuple[Entity | None, str]:
    """(entity, how): how is ``uscc``, ``name_address``, ``name``, ``core`` or "" when nothing matches uniquely."""
    if not fields.found:
        return None, ""
    return link(fields.uscc.value, fields.name.value, fields.address.value)
