"""Bulk loading of the entity register and the lists from a synthetic (or real) district directory.

Layout: ``register/*.csv`` (the market-regulation register export) and ``lists/*.csv`` (departments,
item_categories, tags, items, responsibilities, inspectors, conflicts). Every register row is either loaded,
already present, a duplicate, or quarantined with a reason; the counts always reconcile and are written to a
load report beside a quarantine CSV. One audit event per file records who loaded what (file hash, counts).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from shijian.core import audit
from shijian.core.bulk import deferred_indexes
from shijian.core.codes import tables, uscc
from shijian.core.files import sha256_file
from shijian.registry.models import (
    STATUS_BY_LABEL,
    TYPE_BY_LABEL,
    Department,
    Entity,
    Inspector,
    InspectorConflict,
    ItemCategory,
    Responsibility,
    SpotCheckItem,
    Tag,
)
from shijian.registry.search import deferred_name_index
from shijian.registry.stats import bump_version
from shijian.web.tabular import write_csv

Progress = Callable[[str, int, int], None]

REGISTER_COLUMNS = {
    "uscc": "统一社会信用代码",
    "reg_no": "注册号",
    "name": "企业名称",
    "entity_type": "主体类型",
    "industry_code": "行业代码",
    "region_code": "村居代码",
    "address": "住所",
    "legal_rep": "法定代表人",
    "registered_capital": "认缴出资额(万元)",
    "established_on": "成立日期",
    "status": "登记状态",
    "tags": "特征标识",
}
_DATE_RE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")


class LoadError(ValueError):
    """The directory or a file cannot be loaded at all; the message says why."""


def parse_date(raw: str) -> dt.date | None:
    raw = uscc.normalise(raw)
    if not raw:
        return None
    m = _DATE_RE.match(raw)
    if m:
        y, mo, d = (int(g) for g in m.groups())
    elif raw.isdigit() and len(raw) == 8:
        y, mo, d = int(raw[:4]), int(raw[4:6]), int(raw[6:])
    else:
        raise ValueError(f"unreadable date {raw!r}")
    return dt.date(y, mo, d)


@dataclass
class RegisterReport:
    file: str
    sha256: str
    rows_read: int = 0
    loaded: int = 0
    already_present: int = 0
    duplicates: int = 0
    quarantined: int = 0
    warnings: int = 0
    quarantine_file: str = ""
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def reconciles(self) -> bool:
        return self.rows_read == self.loaded + self.already_present + self.duplicates + self.quarantined


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise LoadError(f"{path}: missing (a district directory has register/*.csv and lists/*.csv)")
    data = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise LoadError(f"{path}: neither UTF-8 nor GB18030")
    return list(csv.DictReader(text.splitlines()))


def clean_register_row(raw: dict[str, str]) -> tuple[dict[str, Any] | None, str, str]:
    """(clean row, quarantine reason, warning). Exactly one of row and reason is set."""

    def get(key: str) -> str:
        return (raw.get(REGISTER_COLUMNS[key]) or "").strip()

    code_raw = get("uscc")
    code: str | None = None
    warning = ""
    if code_raw:
        res = uscc.validate(code_raw)
        if not res.ok:
            return None, f"invalid USCC: {res.error}", ""
        code, warning = res.code, res.warning
    reg_no = uscc.normalise(get("reg_no"))
    if not code and not reg_no:
        return None, "neither USCC nor registration number", ""
    name = get("name")
    if not name:
        return None, "missing name", ""
    etype = TYPE_BY_LABEL.get(get("entity_type"), get("entity_type"))
    if etype not in TYPE_BY_LABEL.values():
        return None, f"unknown entity type {get('entity_type')!r}", ""
    industry = uscc.normalise(get("industry_code"))
    ind = tables.industries().get(industry)
    if ind is None or ind.level != "class":
        return None, f"unknown industry class {industry!r}", ""
    region = uscc.normalise(get("region_code"))
    if len(region) not in (9, 12) or region not in tables.divisions():
        return None, f"unknown village/town code {region!r}", ""
    status = STATUS_BY_LABEL.get(get("status"), get("status"))
    if status not in STATUS_BY_LABEL.values():
        return None, f"unknown status {get('status')!r}", ""
    try:
        established = parse_date(get("established_on"))
    except ValueError as exc:
        return None, str(exc), ""
    cap_raw = uscc.normalise(get("registered_capital")).removesuffix("万元").replace(",", "")
    try:
        capital = Decimal(cap_raw) if cap_raw else None
    except InvalidOperation:
        return None, f"unreadable capital {cap_raw!r}", ""
    return (
        {
            "uscc": code,
            "reg_no": reg_no,
            "name": uscc.normalise(name) if name.isascii() else name,
            "entity_type": etype,
            "industry_code": industry,
            "industry_section": ind.section,
            "region_code": region,
            "town_code": region[:9],
            "district_code": region[:6],
            "address": get("address"),
            "legal_rep": get("legal_rep"),
            "registered_capital": capital,
            "established_on": established,
            "status": status,
            "tags": [t for t in get("tags").replace("，", ",").split(",") if t],
        },
        "",
        warning,
    )


ENTITY_COLUMNS = [
    "uscc",
    "reg_no",
    "name",
    "entity_type",
    "industry_code",
    "industry_section",
    "region_code",
    "town_code",
    "district_code",
    "address",
    "legal_rep",
    "registered_capital",
    "established_on",
    "status",
    "source",
    "updated_at",
]


def load_register(path: Path, report_dir: Path, progress: Progress | None = None, batch: int = 5000) -> RegisterReport:
    report = RegisterReport(file=str(path), sha256=sha256_file(path))
    rows = _read_csv(path)
    missing = [h for h in REGISTER_COLUMNS.values() if rows and h not in rows[0]]
    if rows and missing:
        raise LoadError(f"{path.name}: missing columns {', '.join(missing)}")
    report.rows_read = len(rows)
    existing_uscc = set(Entity.objects.exclude(uscc=None).values_list("uscc", flat=True))
    existing_reg = set(Entity.objects.exclude(reg_no="").values_list("reg_no", flat=True))
    seen: dict[str, tuple[Any, ...]] = {}
    quarantine: list[list[str]] = []
    clean: list[dict[str, Any]] = []
    for line, raw in enumerate(rows, start=2):
        row, reason, warning = clean_register_row(raw)
        if row is None:
            quarantine.append([str(line), reason, *[raw.get(h, "") for h in REGISTER_COLUMNS.values()]])
            report.reasons[reason.split(":")[0]] = report.reasons.get(reason.split(":")[0], 0) + 1
            continue
        if warning:
            report.warnings += 1
        key = row["uscc"] or f"reg:{row['reg_no']}"
        fingerprint = tuple(str(row[c]) for c in ("name", "reg_no", "region_code", "entity_type"))
        if key in seen:
            if seen[key] == fingerprint:
                report.duplicates += 1
            else:
                reason = "USCC repeated with different data"
                quarantine.append([str(line), reason, *[raw.get(h, "") for h in REGISTER_COLUMNS.values()]])
                report.reasons[reason] = report.reasons.get(reason, 0) + 1
            continue
        seen[key] = fingerprint
        if (row["uscc"] and row["uscc"] in existing_uscc) or (row["reg_no"] and row["reg_no"] in existing_reg):
            report.already_present += 1
            continue
        clean.append(row)
    report.quarantined = len(quarantine)

    tag_ids = dict(Tag.objects.values_list("code", "id"))
    table = Entity._meta.db_table
    qn = connection.ops.quote_name
    insert = (
        f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in ENTITY_COLUMNS)}) "
        f"VALUES ({', '.join(['%s'] * len(ENTITY_COLUMNS))})"
    )
    through = Entity.tags.through._meta.db_table
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    ops = connection.ops
    big_load = len(clean) > max(10_000, len(existing_reg))
    with transaction.atomic(), deferred_indexes(Entity, enabled=big_load), deferred_name_index(big_load):
        with connection.cursor() as cur:
            for start in range(0, len(clean), batch):
                chunk = clean[start : start + batch]
                params = [
                    (
                        r["uscc"],
                        r["reg_no"],
                        r["name"],
                        r["entity_type"],
                        r["industry_code"],
                        r["industry_section"],
                        r["region_code"],
                        r["town_code"],
                        r["district_code"],
                        r["address"],
                        r["legal_rep"],
                        ops.adapt_decimalfield_value(r["registered_capital"], 16, 4),
                        ops.adapt_datefield_value(r["established_on"]),
                        r["status"],
                        "register",
                        now,
                    )
                    for r in chunk
                ]
                cur.executemany(insert, params)
                if progress:
                    progress("register", start + len(chunk), len(clean))
            # Tags: map reg_no -> id for the rows just written, then fill the through table.
            tagged = [r for r in clean if r["tags"]]
            if tagged:
                ids = (
                    dict(
                        Entity.objects.filter(source="register", reg_no__in=[r["reg_no"] for r in tagged]).values_list(
                            "reg_no", "id"
                        )
                    )
                    if len(tagged) < 900
                    else dict(Entity.objects.filter(source="register").values_list("reg_no", "id"))
                )
                pairs = [(ids[r["reg_no"]], tag_ids[t]) for r in tagged for t in r["tags"] if t in tag_ids]
                cur.executemany(f"INSERT INTO {qn(through)} ({qn('entity_id')}, {qn('tag_id')}) VALUES (%s, %s)", pairs)
        report.loaded = len(clean)
        transaction.on_commit(bump_version)
        audit.record(
            audit.Action.IMPORT,
            object_type="registry.entity",
            object_repr=path.name,
            after={k: v for k, v in asdict(report).items() if k != "quarantine_file"},
            reason="bulk load of the entity register",
        )
    if quarantine:
        report_dir.mkdir(parents=True, exist_ok=True)
        qpath = report_dir / f"quarantine-{path.stem}.csv"
        with qpath.open("w", encoding="utf-8-sig", newline="") as f:
            write_csv(f, ["line", "reason", *REGISTER_COLUMNS.values()], quarantine)
        report.quarantine_file = str(qpath)
    return report


def _upsert(model: Any, key: str, rows: list[dict[str, Any]]) -> int:
    n = 0
    for r in rows:
        defaults = {k: v for k, v in r.items() if k != key}
        model.objects.update_or_create(**{key: r[key]}, defaults=defaults)
        n += 1
    return n


def load_lists(folder: Path) -> dict[str, int]:
    """Departments, categories, tags, items, responsibilities, inspectors and conflicts (upserted by code)."""
    counts: dict[str, int] = {}
    f = folder / "lists"
    if not f.is_dir():
        raise LoadError(f"{folder}: no lists/ folder")
    with transaction.atomic():
        counts["item_categories"] = _upsert(ItemCategory, "code", _read_csv(f / "item_categories.csv"))
        counts["tags"] = _upsert(Tag, "code", _read_csv(f / "tags.csv"))
        depts = _read_csv(f / "departments.csv")
        counts["departments"] = _upsert(Department, "code", depts)
        dept_ids = dict(Department.objects.values_list("code", "id"))
        cat_ids = dict(ItemCategory.objects.values_list("code", "id"))
        n = 0
        for r in _read_csv(f / "items.csv"):
            item, _ = SpotCheckItem.objects.update_or_create(
                code=r["code"],
                defaults={
                    "name": r["name"],
                    "category_id": cat_ids[r["category"]],
                    "sub_items": [s for s in r["sub_items"].split("；") if s],
                    "legal_basis": r["legal_basis"],
                    "target_entity_types": [t for t in r["target_entity_types"].split(",") if t],
                    "target_industries": [t for t in r["target_industries"].split(",") if t],
                    "kind": r["kind"],
                    "ratio_cap": Decimal(r["ratio_cap"]) if r["ratio_cap"] else None,
                    "frequency": r["frequency"],
                    "method": r["method"],
                    "inspector_requirements": r["inspector_requirements"],
                },
            )
            item.departments.set([dept_ids[c] for c in r["departments"].split(",") if c])
            n += 1
        counts["items"] = n
        item_ids = dict(SpotCheckItem.objects.values_list("code", "id"))
        resp = [
            Responsibility(
                department_id=dept_ids[r["department"]],
                item_id=item_ids[r["item"]],
                region_code=r["region_code"],
                note=r["note"],
            )
            for r in _read_csv(f / "responsibilities.csv")
        ]
        Responsibility.objects.bulk_create(resp, ignore_conflicts=True, batch_size=1000)
        counts["responsibilities"] = len(resp)
        insp_rows = _read_csv(f / "inspectors.csv")
        existing = set(Inspector.objects.values_list("cert_no", flat=True))
        new = [
            Inspector(
                name=r["name"],
                department_id=dept_ids[r["department"]],
                region_code=r["region_code"],
                cert_no=r["cert_no"],
                active=r["active"] == "1",
            )
            for r in insp_rows
            if r["cert_no"] not in existing
        ]
        Inspector.objects.bulk_create(new, batch_size=1000)
        ids = dict(Inspector.objects.values_list("cert_no", "id"))
        Q = Inspector.qualifications.through
        Q.objects.bulk_create(
            [
                Q(inspector_id=ids[r["cert_no"]], itemcategory_id=cat_ids[c])
                for r in insp_rows
                if r["cert_no"] not in existing
                for c in r["qualifications"].split(",")
                if c
            ],
            batch_size=2000,
            ignore_conflicts=True,
        )
        counts["inspectors"] = len(new)
        conflicts = []
        for r in _read_csv(f / "conflicts.csv"):
            if r["cert_no"] in existing:
                continue
            if r["entity_uscc"]:
                continue  # resolved once the register is in (_load_entity_conflicts)
            conflicts.append(
                InspectorConflict(
                    inspector_id=ids[r["cert_no"]],
                    entity_id=None,
                    person_name=r["person_name"],
                    reason=r["reason"],
                    declared_on=timezone.localdate(),
                )
            )
        InspectorConflict.objects.bulk_create(conflicts)
        counts["conflicts"] = len(conflicts)
        audit.record(
            audit.Action.IMPORT,
            object_type="registry.lists",
            object_repr=str(f),
            after=counts,
            reason="bulk load of departments, items, responsibilities and inspectors",
        )
    return counts


def load_district(folder: Path, report_dir: Path, progress: Progress | None = None) -> dict[str, Any]:
    """Lists first (tags are needed by the register), then the register, then conflicts naming entities."""
    if not folder.is_dir():
        raise LoadError(f"{folder} is not a directory")
    registers = sorted((folder / "register").glob("*.csv"))
    if not registers:
        raise LoadError(f"{folder}: no register/*.csv")
    lists_counts = load_lists(folder)
    reports = [load_register(p, report_dir, progress) for p in registers]
    # Conflicts that name entities can only be resolved once the register is in.
    lists_counts.update({"conflicts": lists_counts["conflicts"] + _load_entity_conflicts(folder)})
    result = {"lists": lists_counts, "register": [asdict(r) | {"reconciles": r.reconciles} for r in reports]}
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "load-report.json").write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str))
    return result


def _load_entity_conflicts(folder: Path) -> int:
    rows = [r for r in _read_csv(folder / "lists" / "conflicts.csv") if r["entity_uscc"]]
    ids = dict(Inspector.objects.values_list("cert_no", "id"))
    have = set(InspectorConflict.objects.exclude(entity=None).values_list("inspector_id", "entity_id"))
    ents = dict(Entity.objects.filter(uscc__in=[r["entity_uscc"] for r in rows]).values_list("uscc", "id"))
    new = [
        InspectorConflict(
            inspector_id=ids[r["cert_no"]],
            entity_id=ents[r["entity_uscc"]],
            reason=r["reason"],
            declared_on=timezone.localdate(),
        )
        for r in rows
        if r["cert_no"] in ids and r["entity_uscc"] in ents and (ids[r["cert_no"]], ents[r["entity_uscc"]]) not in have
    ]
    InspectorConflict.objects.bulk_create(new)
    return len(new)
