"""Vectorised USCC normalisation and validation over Arrow string arrays (tens of millions of codes per second).

The same rule as ``shijian.core.codes.uscc`` (GB 32100-2015), which the tests compare it against.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shijian.core.codes.uscc import CHARSET, WEIGHTS, normalise

_VALUE = np.full(256, -1, dtype=np.int8)
for _i, _c in enumerate(CHARSET):
    _VALUE[ord(_c)] = _i
_CHARS = np.frombuffer(CHARSET.encode(), dtype=np.uint8)
_W = np.array(WEIGHTS, dtype=np.int32)
_IS_DIGIT = np.zeros(256, dtype=bool)
_IS_DIGIT[ord("0") : ord("9") + 1] = True


def normalise_array(codes: pa.Array) -> pa.Array:
    """Trim and upper-case; full-width characters (rare) go through the scalar normaliser."""
    codes = pc.utf8_upper(pc.utf8_trim_whitespace(pc.fill_null(codes, "")))
    ascii_mask = pc.string_is_ascii(codes)
    if pc.all(ascii_mask).as_py() is not False:
        return codes
    values = codes.to_pylist()
    flags = ascii_mask.to_numpy(zero_copy_only=False)
    return pa.array([v if ok else normalise(v) for v, ok in zip(values, flags, strict=True)], pa.string())


def valid_array(codes: pa.Array) -> np.ndarray:
    """Boolean per code: 18 characters of the charset, positions 3-8 digits, and the right check character."""
    codes = codes.combine_chunks() if isinstance(codes, pa.ChunkedArray) else codes
    n = len(codes)
    out = np.zeros(n, dtype=bool)
    if n == 0:
        return out
    lengths = pc.binary_length(codes).to_numpy(zero_copy_only=False)
    idx = np.flatnonzero(lengths == 18)
    if idx.size == 0:
        return out
    picked = codes.take(pa.array(idx)) if idx.size != n else codes
    picked = pa.array(picked.to_pylist(), pa.string()) if picked.offset else picked  # fresh buffers
    offsets = np.frombuffer(picked.buffers()[1], dtype=np.int32)[: len(picked) + 1]
    data = np.frombuffer(picked.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    mat = data.reshape(-1, 18)
    vals = _VALUE[mat]  # int8, -1 outside the charset
    ok = (vals >= 0).all(axis=1)
    ok &= _IS_DIGIT[mat[:, 2:8]].all(axis=1)
    total = vals[:, :17].astype(np.int32) @ _W  # invalid rows are already excluded by ``ok``
    check = _CHARS[(31 - total % 31) % 31]
    ok &= check == mat[:, 17]
    out[idx] = ok
    return out
