"""统一社会信用代码 (Unified Social Credit Code), exactly as GB 32100-2015 defines it.

Layout (18 characters):
  1      registration authority code (登记管理部门代码), e.g. 9 = 工商 (market regulation)
  2      entity category code (机构类别代码), meaning depends on position 1
  3-8    administrative division code of the registering authority (GB/T 2260)
  9-17   organisation code (主体标识码, GB 11714, itself with a mod-11 check at position 17)
  18     check character over positions 1-17, mod 31

Pure Python, no Django import: reused by the batch engine and the synthetic generator.
"""

from __future__ import annotations

from dataclasses import dataclass

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, Z, S, V
_VALUE = {c: i for i, c in enumerate(CHARSET)}
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)  # 3^(i-1) mod 31

# GB 11714 organisation code: 8 body characters (digits or capital letters) + 1 check (0-9 or X).
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


_ORG_VALUE = {str(d): d for d in range(10)} | {chr(ord("A") + i): 10 + i for i in range(26)}


def check_char(first17: str) -> str:
    """The check character (position 18) for the first 17 characters."""
    if len(first17) != 17:
        raise ValueError("need exactly 17 characters")
    total = 0
    for ch, weight in zip(first17, WEIGHTS, strict=True):
        try:
            total += _VALUE[ch] * weight
        except KeyError as exc:
            raise ValueError(f"character {ch!r} is not in the USCC character set") from exc
    return CHARSET[(31 - total % 31) % 31]


def org_code_check_char(body8: str) -> str:
    """GB 11714 check character for an 8-character organisation code body."""
    total = sum(_ORG_VALUE[c] * w for c, w in zip(body8, _ORG_WEIGHTS, strict=True))
    c9 = 11 - total % 11
    return "X" if c9 == 10 else "0" if c9 == 11 else str(c9)


@dataclass(frozen=True, slots=True)
class UsccResult:
    """Outcome of validating one code. ``ok`` is the verdict; warnings never make a code invalid."""

    code: str
    ok: bool
    error: str = ""
    warning: str = ""
    reason: str = ""  # a stable key for the error, for messages in the user's language
    params: tuple[tuple[str, str], ...] = ()


_HALF_WIDTH = {0xFF01 + i: 0x21 + i for i in range(0x5E)} | {0x3000: 0x20}


def to_half_width(text: str) -> str:
    """Full-width ASCII variants (Ａ１（) and the ideographic space become their half-width forms."""
    return text if text.isascii() else text.translate(_HALF_WIDTH)


def normalise(raw: str) -> str:
    """Trim, upper-case and turn full-width characters into half-width ones (departmental feeds are messy)."""
    return to_half_width(raw).strip().upper()


def validate(raw: str) -> UsccResult:
    """Validate a code per GB 32100-2015. Input is normalised first (full-width, case, surrounding space)."""
    code = normalise(raw)
    if len(code) != 18:
        return UsccResult(code, False, f"length {len(code)}, expected 18", "", "length", (("n", str(len(code))),))
    bad = sorted({c for c in code if c not in _VALUE})
    if bad:
        why = f"characters not allowed: {''.join(bad)} (I, O, Z, S, V are never used)"
        return UsccResult(code, False, why, "", "charset", (("chars", "".join(bad)),))
    if not code[2:8].isdigit():
        return UsccResult(code, False, "positions 3-8 must be a 6-digit division code", "", "division")
    expected = check_char(code[:17])
    if code[17] != expected:
        why = f"check character is {code[17]}, expected {expected}"
        return UsccResult(code, False, why, "", "check", (("got", code[17]), ("expected", expected)))
    body = code[8:16]
    warning = ""
    if all(c.isdigit() or "A" <= c <= "Z" for c in body) and code[16] != org_code_check_char(body):
        warning = "embedded GB 11714 organisation code has a wrong check character"
    return UsccResult(code, True, "", warning)


def is_valid(raw: str) -> bool:
    return validate(raw).ok


def make(prefix2: str, division6: str, org_body8: str) -> str:
    """Build a valid code from its parts (used by the synthetic generator and tests)."""
    org = org_body8 + org_code_check_char(org_body8)
    first17 = prefix2 + division6 + org
    return first17 + check_char(first17)
