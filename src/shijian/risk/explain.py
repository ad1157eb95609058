"""One entity's latest score and the factors that pushed it most, in plain Chinese, from the refresh's stored factor
row (the entity page)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from shijian.risk import factors
from shijian.risk.versions import load_model


@dataclass(frozen=True)
class Explanation:
    probability: float
    risk_class: str
    as_of: dt.date
    version: int
    kind: str
    reasons: list[tuple[str, float]]  # (plain Chinese phrase, contribution: log-odds or scorecard points)

    @property
    def percent(self) -> str:
        return f"{100 * self.probability:.1f}%"


def explain(entity_id: int, top: int = 5) -> Explanation | None:
    """The latest refresh's score of an entity and the factors that pushed it most, in plain Chinese."""
    from shijian.risk.models import Refresh

    r = Refresh.objects.select_related("model").order_by("-id").first()
    if r is None or not r.factors_file or not Path(r.factors_file).exists():
        return None
    row = _factor_row(r.factors_file, int(entity_id))
    if row.num_rows == 0:
        return None
    model = load_model(r.model)
    values = row.to_pylist()[0]
    reasons = factors.reasons(model.explain(row, top=top)[0], values)
    return Explanation(
        float(values["probability"]), str(values["risk_class"]), r.as_of, r.model.pk, r.model.kind, reasons
    )


@lru_cache(maxsize=2)
def _row_groups(path: str) -> tuple[pq.ParquetFile, list[tuple[int, int]]]:
    """The refresh's factor file, opened once per process, with each row group's entity-id range (sorted by id)."""
    f = pq.ParquetFile(path)
    col = f.schema_arrow.get_field_index(factors.KEY)
    ranges = []
    for i in range(f.metadata.num_row_groups):
        st = f.metadata.row_group(i).column(col).statistics
        ranges.append((int(st.min), int(st.max)))
    return f, ranges


def _factor_row(path: str, entity_id: int) -> pa.Table:
    """One entity's row, reading only the row group whose id range holds it (a few ms at 780k entities)."""
    f, ranges = _row_groups(path)
    for i, (lo, hi) in enumerate(ranges):
        if lo <= entity_id <= hi:
            group = f.read_row_group(i)
            return group.filter(pc.equal(group[factors.KEY], entity_id))
    return f.schema_arrow.empty_table()
