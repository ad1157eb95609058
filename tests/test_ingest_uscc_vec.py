from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from shijian.core.codes import uscc
from shijian.ingest.uscc_vec import normalise_array, valid_array

codes = st.one_of(
    st.text(alphabet=uscc.CHARSET + "IOZSV", min_size=16, max_size=19),
    st.builds(lambda b: b + uscc.check_char(b), st.text(alphabet=uscc.CHARSET, min_size=17, max_size=17)),
    st.builds(
        lambda b: "91" + "440608" + b + uscc.check_char("91440608" + b),
        st.text(alphabet=uscc.CHARSET, min_size=9, max_size=9),
    ),
)


@settings(max_examples=200)
@given(st.lists(codes, max_size=40))
def test_it_agrees_with_the_scalar_validator(values: list[str]) -> None:
    got = valid_array(pa.array(values, pa.string())).tolist()
    assert got == [uscc.validate(v).ok for v in values]


def test_it_normalises_full_width_and_case() -> None:
    arr = normalise_array(pa.array([" ９１１１００００６０００３７３４１ｌ ", "91110000600037341l", None]))
    assert arr.to_pylist() == ["91110000600037341L", "91110000600037341L", ""]
    assert valid_array(arr).tolist() == [True, True, False]


def test_it_handles_sliced_and_chunked_arrays() -> None:
    base = pa.array(["x", "91110000600037341L", "91110000600037341M", "91110000600037341L"])
    assert valid_array(base.slice(1)).tolist() == [True, False, True]
    assert valid_array(pa.chunked_array([base[:2], base[2:]])).tolist() == [False, True, False, True]
