"""How registry values are shown: code-table names, masking of personal data."""

from __future__ import annotations

import re
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from shijian.core.codes import tables

SOURCE_LABELS = {"register": _("registration register"), "manual": _("entered by hand"), "import": _("imported file")}


def region_name(code: str) -> str:
    d = tables.divisions().get(code)
    return d.name if d else code


def region_path(code: str) -> str:
    return " / ".join(region_name(c) for c in tables.ancestors(code)[2:]) or code


def industry_name(code: str) -> str:
    i = tables.industries().get(code)
    return f"{code} {i.name}" if i else code


def mask_person(name: str) -> str:
    """Keep the surname's first character: 张三 -> 张*, 欧阳娜娜 -> 欧***. Used on public and export views."""
    name = name.strip()
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


# 11 digits from 13x to 19x, written whole or in groups (138 1234 5678, 138-1234-5678), with or without +86
_MOBILE = re.compile(r"(?<![0-9])(1[3-9][0-9])([- ]?)[0-9]{4}([- ]?)([0-9]{4})(?![0-9])")


def mask_phones(text: str) -> str:
    """Mobile numbers in a free text masked to their first three and last four digits: 13812345678 -> 138****5678
    (a complaint's text often carries the complainant's number; the lake keeps it, nothing shown or indexed does)."""
    return _MOBILE.sub(r"\1\2****\3\4", text)


def money(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def source_label(source: str) -> str:
    return str(SOURCE_LABELS.get(source, source))
