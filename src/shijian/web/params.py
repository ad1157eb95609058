"""Query parameters read one way everywhere: a malformed value is a 400 with a message, never a server error.

``"²".isdigit()`` is true but ``int("²")`` fails, and a 30-digit id overflows the database's integer: views do not
parse numbers themselves but call ``int_param`` / ``id_value``, which accept ASCII digits in a bounded range only.
"""

from __future__ import annotations

from django.core.exceptions import BadRequest
from django.http import HttpRequest
from django.utils.translation import gettext as _

MAX_ID = 2**63 - 1  # the largest primary key (a 64-bit signed integer column)


class BadParameter(BadRequest):
    """A query or form value that cannot be used; the message is shown to the user (answered with a 400)."""


def parse_int(name: str, raw: str, *, low: int = 0, high: int = MAX_ID) -> int:
    """``raw`` as an integer in [low, high]; ASCII digits only (an optional leading minus), else ``BadParameter``."""
    value = raw.strip()
    digits = value[1:] if value.startswith("-") else value
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 19:
        raise BadParameter(_("“%(name)s” must be a whole number.") % {"name": name})
    number = int(value)
    if not low <= number <= high:
        raise BadParameter(
            _("“%(name)s” must be between %(low)d and %(high)d.") % {"name": name, "low": low, "high": high}
        )
    return number


def id_value(name: str, raw: str) -> int:
    """A primary key given as text (a filter value, a checkbox value)."""
    return parse_int(name, raw, low=1, high=MAX_ID)


def int_param(
    request: HttpRequest, name: str, default: int | None = None, *, low: int = 0, high: int = MAX_ID
) -> int | None:
    """The query parameter ``name`` as an integer, ``default`` when absent or empty."""
    raw = request.GET.get(name, "").strip()
    if raw == "":
        return default
    return parse_int(name, raw, low=low, high=high)
