"""A synthetic district that looks like a real one: its rates against the references (synth/reference.py), which
docs/data.md carries too; nothing before an entity's establishment or after its closure."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from shijian.synth import reference, report
from shijian.synth.generator import END, generate, resolve_scale

DOCS = Path(__file__).resolve().parents[1] / "docs" / "data.md"


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("realism") / "d"
    generate(resolve_scale("4000"), 5, out)
    return out


def test_it_meets_every_reference_rate(district: Path) -> None:
    lines = report.compare(district)
    assert {line.ref.key for line in lines} == set(reference.by_key())
    assert all(line.ok for line in lines), "\n" + report.render(lines)


def test_it_has_no_record_outside_an_entity_s_life(district: Path) -> None:
    con = duckdb.connect()
    row = con.execute(
        f"""SELECT count(*), count(*) FILTER (WHERE r.event_date < e.established_on
                                                 OR r.event_date > coalesce(e.closed_on, DATE '{END}'))
            FROM read_parquet('{district}/truth/records/*.parquet') r
            JOIN read_parquet('{district}/truth/entities.parquet') e USING (entity_no)"""
    ).fetchone()
    assert row is not None and row[0] > 100_000 and row[1] == 0


def test_most_entities_never_meet_a_penalty_and_a_few_carry_most(district: Path) -> None:
    measured = report.measure(district)
    assert measured["penalty.share"] < 0.10 and measured["penalty.top5"] > 0.55
    assert measured["litigation.share.enterprise"] < 0.12


def test_the_report_names_a_rate_that_drifts(district: Path) -> None:
    lines = report.compare(district)
    drifted = [report.Line(line.ref, line.ref.high * 1.01 + 0.01) if line.ref.key == "penalty.share" else line
               for line in lines]  # fmt: skip
    text = report.render(drifted)
    assert [line.ref.key for line in drifted if not line.ok] == ["penalty.share"]
    assert "NO" in next(t for t in text.splitlines() if t.startswith("penalty.share"))


def test_the_docs_carry_the_reference_table_of_the_code() -> None:
    assert reference.markdown() in DOCS.read_text(encoding="utf-8")


def test_synth_report_prints_every_figure_and_fails_on_a_drift(district: Path, tmp_path: Path) -> None:
    import shutil

    from typer.testing import CliRunner

    from shijian.cli import app

    ok = CliRunner().invoke(app, ["synth", "report", str(district)], terminal_width=200)
    assert ok.exit_code == 0, ok.output
    assert "penalty.share" in ok.output and f"all {len(reference.REFERENCES)} figures" in ok.output
    # drop every penalty: the penalty figures fall out of their ranges and the command says which
    copy = tmp_path / "d"
    shutil.copytree(district, copy)
    for f in (copy / "truth" / "records").glob("*_penalty_*.parquet"):
        f.unlink()
    bad = CliRunner().invoke(app, ["synth", "report", str(copy)], terminal_width=200)
    assert bad.exit_code == 1 and "penalty.share" in bad.output.split("out of range:")[1]
