"""A department's small delivery for the data administration tests: rows that load, a date in a format the first
mapping lacks, a duplicate, and a credit code that fails its check digit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shijian.core.codes.uscc import make

HEADER = "记录编号,统一社会信用代码,企业名称,检查日期,检查结果\n"


def feed_csv(path: Path) -> Path:
    good = make("91", "440608", "MA000001")
    other = make("91", "440608", "MA000002")
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    rows = [
        f"JC-001,{good},佛山市荷城餐饮有限公司,2026-03-01,合格",
        f"JC-002,{other},佛山市杨和餐饮有限公司,2026/03/02,合格",  # a slash date: quarantined until fixed
        f"JC-003,{good},佛山市荷城餐饮有限公司,2026-03-03,责令整改",
        f"JC-003,{good},佛山市荷城餐饮有限公司,2026-03-03,责令整改",  # duplicate of the line above
        f"JC-004,{bad},无效代码商行,2026-03-04,合格",  # invalid check digit, no other key
        f"JC-005,{other},佛山市杨和餐饮有限公司,2026/03/05,合格",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def mapping_post(name: str, date_formats: str = "%Y-%m-%d", **extra: Any) -> dict[str, Any]:
    """The mapping editor's form as a browser posts it."""
    data: dict[str, Any] = {
        "name": name,
        "encoding": "auto",
        "record_type": "inspection",
        "record_types": "",
        "date_formats": date_formats,
        "amount_unit": "wan",
        "entity_keys": ["uscc"],
        "required": ["event_date"],
        "ignore": "",
        "dedupe_across_loads": "on",
        "col_record_id": "记录编号",
        "col_uscc": "统一社会信用代码",
        "col_name": "企业名称",
        "col_event_date": "检查日期",
        "col_result": "检查结果",
    }
    data.update(extra)
    return data
