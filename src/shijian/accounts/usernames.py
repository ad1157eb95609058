"""The one rule for a typed user name: Unicode NFKC (full-width letters become ASCII), surrounding spaces removed.

Login and login throttling both use it, so `` auditor`` and ``ａｕｄｉｔｏｒ`` are the same account for both; the
throttling key is also case-folded (``Auditor`` shares the counter of ``auditor``).
"""

from __future__ import annotations

import unicodedata

MAX_LENGTH = 150


def normalise_username(raw: str) -> str:
    return unicodedata.normalize("NFKC", raw).strip()[:MAX_LENGTH]


def throttle_key(raw: str) -> str:
    return normalise_username(raw).casefold()
