"""The conformance vectors (docs/draw-vectors/): the reference verifier passes every one, and they are reproducible."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from shijian.supervision import record as rec
from shijian.supervision import vectors
from shijian.supervision.draw import DrawError, sha256_hex

VECTORS = Path(__file__).resolve().parent.parent / "docs" / "draw-vectors"
INDEX = json.loads((VECTORS / "index.json").read_text())


def test_every_case_is_in_the_index() -> None:
    assert sorted(INDEX) == sorted(p.name for p in VECTORS.iterdir() if p.is_dir()) == sorted(vectors.CASES)


@pytest.mark.parametrize("name", sorted(INDEX))
def test_the_reference_verifier_passes_the_vector(name: str) -> None:
    folder, case = VECTORS / name, INDEX[name]
    data = (folder / "record.json").read_bytes()
    assert sha256_hex(data) == case["record_sha256"]
    record = json.loads(data)
    assert rec.dumps(record) == data  # the exact bytes: RFC 8785

    def read(file: str) -> bytes:
        return (folder / file).read_bytes()

    if "expect_error" in case:
        with pytest.raises(DrawError, match=re.escape(case["expect_error"])):
            rec.rerun(record, read)
        return
    assert rec.rerun(record, read) == []
    assert rec.rerun(rec.public_copy(record), read) == []  # what the public can check
    if "log" in case:
        assert rec.verify(record, read, json.loads(read(case["log"]))) == []


def test_the_vectors_are_reproducible(tmp_path: Path) -> None:
    vectors.write(tmp_path)
    for path in sorted(VECTORS.rglob("*")):
        if path.is_file():
            assert (tmp_path / path.relative_to(VECTORS)).read_bytes() == path.read_bytes(), path


def test_a_vector_catches_an_implementation_that_trims_other_white_space() -> None:
    """The white-space case tells apart str.strip() (which would also trim the no-break space) from the spec."""
    record = json.loads((VECTORS / "beacon-white-space" / "record.json").read_bytes())
    value = record["seed"]["public_value"]
    assert value.strip() != value.strip(" \t\r\n")
    wrong = sha256_hex(f"shijian-seed/1|{record['frozen_digest']}|beacon|{value.strip()}")
    assert wrong != record["seed"]["seed"]
