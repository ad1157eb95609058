from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shijian.core.codes import uscc

# Worked example of GB 32100-2015 (and DESIGN.md), plus real codes of well-known entities.
VALID = ["91110000600037341L", "91350100M000100Y43", "N2110000MF1234567D"]


def test_it_accepts_the_standards_worked_example() -> None:
    assert uscc.validate("91110000600037341L").ok
    assert uscc.check_char("91110000600037341") == "L"


def test_it_accepts_valid_codes() -> None:
    for code in VALID:
        if code.startswith("N"):
            code = code[:17] + uscc.check_char(code[:17])
        assert uscc.validate(code).ok, code


def test_it_rejects_a_bad_check_digit() -> None:
    result = uscc.validate("91110000600037341M")
    assert not result.ok
    assert "expected L" in result.error


def test_it_rejects_characters_outside_the_charset() -> None:
    for bad in ("I", "O", "Z", "S", "V"):
        code = "9111000060003734" + bad + "L"
        result = uscc.validate(code)
        assert not result.ok
        assert bad in result.error


def test_it_rejects_wrong_lengths() -> None:
    assert not uscc.validate("9111000060003734").ok
    assert not uscc.validate("91110000600037341LL").ok
    assert not uscc.validate("").ok


def test_it_accepts_a_letter_at_position_1() -> None:
    for first in ("A", "N", "Y"):
        body = first + "1440608MA4UABC12"
        code = body + uscc.check_char(body)
        assert uscc.validate(code).ok, code


def test_it_normalises_full_width_and_case() -> None:
    full = "９１１１００００６０００３７３４１ｌ"
    assert uscc.validate(full).ok
    assert uscc.validate(" 91110000600037341l ").code == "91110000600037341L"


def test_it_warns_but_accepts_a_bad_embedded_org_code() -> None:
    body = "91440608" + "12345678" + "0"  # the org-code check of 12345678 is 5, not 0
    code = body + uscc.check_char(body)
    result = uscc.validate(code)
    assert result.ok
    assert result.warning


codes_17 = st.text(alphabet=uscc.CHARSET, min_size=17, max_size=17)


@given(codes_17)
def test_property_a_computed_check_char_always_validates(first17: str) -> None:
    if not first17[2:8].isdigit():
        first17 = first17[:2] + "440608" + first17[8:]
    assert uscc.validate(first17 + uscc.check_char(first17)).ok


@given(codes_17, st.integers(0, 16), st.integers(1, 30))
def test_property_any_single_substitution_is_detected(first17: str, pos: int, shift: int) -> None:
    first17 = first17[:2] + "440608" + first17[8:]
    code = first17 + uscc.check_char(first17)
    changed_char = uscc.CHARSET[(uscc.CHARSET.index(code[pos]) + shift) % 31]
    tampered = code[:pos] + changed_char + code[pos + 1 :]
    if tampered[2:8].isdigit():
        assert not uscc.validate(tampered).ok


@given(
    st.sampled_from(["91", "92", "93"]),
    st.from_regex(r"[0-9]{6}", fullmatch=True),
    st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=8, max_size=8),
)
def test_property_made_codes_are_valid_with_a_valid_org_code(prefix: str, division: str, body: str) -> None:
    result = uscc.validate(uscc.make(prefix, division, body))
    assert result.ok
    assert not result.warning


def test_half_width_conversion_covers_brackets_and_spaces() -> None:
    assert uscc.to_half_width("（ＡＢ）\u3000１２") == "(AB) 12"
    assert uscc.to_half_width("佛山市（高明）") == "佛山市(高明)"
