"""How registry values are shown: code-table names, masking of personal data."""

from __future__ import annotations

import re
import unicodedata
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


# A run of digits (ASCII or full-width) with at most two separators between two digits: 138 1234 5678,
# 138-1234-5678, (138)1234.5678, +86 13812345678, 138　1234　5678 (ideographic or non-breaking spaces), 138—1234.
_DIGIT_RUN = re.compile(r"[0-9０-９](?:[\s\-.·—–－()（）]{0,2}[0-9０-９])*")


def _mask_run(match: re.Match[str]) -> str:
    run = match.group(0)
    where = [i for i, c in enumerate(run) if c.isdigit()]
    digits = "".join(str(unicodedata.digit(run[i])) for i in where)
    out = list(run)
    for k in range(len(digits) - 10):
        # every 11 digits that read as a mainland mobile number (1, then 3-9): the middle four hidden
        if digits[k] == "1" and digits[k + 1] in "3456789":
            for j in range(k + 3, k + 7):
                out[where[j]] = "*"
    return "".join(out)


def mask_phones(text: str) -> str:
    """Mobile numbers in a free text masked to their first three and last four digits: 13812345678 -> 138****5678,
    written whole or in groups, with or without +86, in ASCII or full-width digits (a complaint's text often carries
    the complainant's number; the lake keeps it, nothing shown or indexed does). Errs on the side of masking: any
    11 digits in a run that begin 13-19 are masked, a longer number's included."""
    return _DIGIT_RUN.sub(_mask_run, text)


def money(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def source_label(source: str) -> str:
    return str(SOURCE_LABELS.get(source, source))
