"""Correcting what OCR gets wrong in a 统一社会信用代码, only where the check character then validates."""

from __future__ import annotations

import re

from shijian.core.codes import uscc

# Characters the code never uses (I, O, Z, S, V) and what they are read for; then look-alikes inside the charset.
NEVER_USED = {"O": "0", "I": "1", "Z": "2", "S": "5", "V": "U"}
LOOK_ALIKE = {"0": "D", "D": "0", "8": "B", "B": "8", "1": "7", "7": "1", "U": "W", "W": "U", "2": "Z", "6": "G",
              "G": "6", "Y": "X", "X": "Y", "M": "N", "N": "M", "H": "N"}  # fmt: skip
_TOKEN = re.compile(r"[0-9A-Z]{18}")


def candidates(text: str) -> list[str]:
    """18-character runs of letters and digits in one OCR line, spaces and punctuation ignored."""
    flat = re.sub(r"[^0-9A-Z]", "", uscc.normalise(text))
    return [flat[i : i + 18] for i in range(len(flat) - 17)] if len(flat) >= 18 else []


def correct(raw: str) -> str | None:
    """The corrected code, or None when no single correction validates.

    First the characters the code never uses are mapped to their look-alike (O→0, I→1, ...). If the result does not
    validate, one look-alike swap inside the charset is tried at each position: it is kept only when exactly one swap
    validates and also passes the embedded GB 11714 check: a wrong code would pass the mod-31 check after some swap
    about once in 31 tries, both checks about once in 341.
    """
    code = "".join(NEVER_USED.get(c, c) for c in uscc.normalise(raw))
    if len(code) != 18:
        return None
    if uscc.is_valid(code):
        return code
    if any(c not in uscc.CHARSET for c in code):
        return None
    found = set()
    for i in range(18):
        alt = LOOK_ALIKE.get(code[i])
        if alt is not None and alt in uscc.CHARSET:
            trial = code[:i] + alt + code[i + 1 :]
            result = uscc.validate(trial)
            if result.ok and not result.warning:
                found.add(trial)
    return found.pop() if len(found) == 1 else None
