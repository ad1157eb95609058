"""Feed mappings: how one department's files map onto canonical records, declared in TOML (no code).

A data administrator adds a department by writing a file like ``mappings/synth.toml``::

    [feed]
    name = "synthetic departmental feeds"
    files = ["feeds/*/*.csv", "feeds/*/*.xlsx"]      # globs, relative to the directory ingested
    source = "{parent}"                                # partition name: fixed text, or {parent} = folder name
    encoding = "auto"                                  # utf-8 | gb18030 | gbk | auto
    date_formats = ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日", "%Y.%m.%d"]
    amount_unit = "wan"                                # wan (万元) or yuan; a value written "12万元" is read as such
    entity_keys = ["uscc", "reg_no", "licence_no", "name_address"]
    ignore = ["备用字段"]                               # delivered columns dropped on purpose
    keep_extra = false                                 # true: unmapped columns kept as JSON, not rejected
    dedupe_across_loads = true                         # rows already in an earlier load are duplicates

    [columns]                                          # canonical field = accepted headers
    record_id = ["记录编号", "业务编号", "ID"]
    uscc = ["统一社会信用代码", "信用代码"]

    [record_types]                                     # values of the record_type column -> canonical types
    "行政处罚" = "penalty"
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

CANONICAL_FIELDS = (
    "record_id", "uscc", "reg_no", "licence_no", "entity_ref", "name", "address", "record_type", "event_date",
    "amount", "result", "detail",
)  # fmt: skip
RECORD_TYPES = (
    "registration_change", "licence", "inspection", "penalty", "complaint", "abnormal", "annual_report", "tax",
    "litigation", "news", "other",
)  # fmt: skip
# uscc, registration number, licence number, a source's own entity identifier, name + address, address alone
ENTITY_KEYS = ("uscc", "reg_no", "licence_no", "entity_ref", "name_address", "address")
DEFAULT_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日", "%Y.%m.%d", "%Y-%m-%d %H:%M:%S")


class MappingError(ValueError):
    """A mapping file is malformed; the message names the file and the problem."""


@dataclass(frozen=True)
class FeedMapping:
    name: str
    path: str
    files: tuple[str, ...]
    source: str = "{parent}"
    encoding: str = "auto"
    date_formats: tuple[str, ...] = DEFAULT_DATE_FORMATS
    amount_unit: str = "wan"
    entity_keys: tuple[str, ...] = ENTITY_KEYS
    record_type: str = ""  # a fixed type for feeds without a type column
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    record_types: dict[str, str] = field(default_factory=dict)
    required: tuple[str, ...] = ("event_date",)
    ignore: tuple[str, ...] = ()  # delivered columns to drop on purpose
    dedupe_across_loads: bool = True  # a row already in an earlier load of this source is a duplicate
    keep_extra: bool = False  # unmapped columns kept as JSON in ``extra`` instead of rejecting the file

    def matches(self, relative: str) -> bool:
        return any(fnmatch.fnmatch(relative, pattern) for pattern in self.files)

    def source_for(self, file: Path) -> str:
        return self.source.replace("{parent}", file.parent.name).replace("{stem}", file.stem)

    def header_map(self, header: list[str]) -> tuple[dict[str, str], list[str]]:
        """(header -> canonical field, unknown headers)."""
        out: dict[str, str] = {}
        for h in header:
            for canonical, accepted in self.columns.items():
                if h == canonical or h in accepted:
                    out[h] = canonical
                    break
        unknown = [] if self.keep_extra else [h for h in header if h not in out and h not in self.ignore]
        return out, unknown


def _tuple(value: object, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise MappingError(f"{where}: expected a string or a list of strings")


def parse_mapping(text: str, path: str) -> FeedMapping:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"{path}: not valid TOML ({exc})") from exc
    feed = data.get("feed")
    if not isinstance(feed, dict):
        raise MappingError(f"{path}: missing [feed] table")
    columns_raw = data.get("columns", {})
    if not isinstance(columns_raw, dict):
        raise MappingError(f"{path}: [columns] must be a table")
    columns = {k: _tuple(v, f"{path} [columns] {k}") for k, v in columns_raw.items()}
    bad = [k for k in columns if k not in CANONICAL_FIELDS]
    if bad:
        raise MappingError(f"{path}: unknown canonical fields {bad}; known: {', '.join(CANONICAL_FIELDS)}")
    record_types = {str(k): str(v) for k, v in data.get("record_types", {}).items()}
    bad = sorted({v for v in record_types.values() if v not in RECORD_TYPES})
    fixed = str(feed.get("record_type", ""))
    if fixed and fixed not in RECORD_TYPES:
        bad.append(fixed)
    if bad:
        raise MappingError(f"{path}: unknown record types {bad}; known: {', '.join(RECORD_TYPES)}")
    if not fixed and "record_type" not in columns:
        raise MappingError(f"{path}: give [feed] record_type or a record_type column")
    keys = _tuple(feed.get("entity_keys", list(ENTITY_KEYS)), f"{path} entity_keys")
    bad = [k for k in keys if k not in ENTITY_KEYS]
    if bad:
        raise MappingError(f"{path}: unknown entity keys {bad}; known: {', '.join(ENTITY_KEYS)}")
    encoding = str(feed.get("encoding", "auto")).lower()
    if encoding not in {"auto", "utf-8", "gb18030", "gbk", "gb2312"}:
        raise MappingError(f"{path}: encoding must be auto, utf-8, gb18030, gbk or gb2312")
    unit = str(feed.get("amount_unit", "wan"))
    if unit not in {"wan", "yuan"}:
        raise MappingError(f"{path}: amount_unit must be wan or yuan")
    if "files" not in feed:
        raise MappingError(f"{path}: [feed] files is required")
    return FeedMapping(
        name=str(feed.get("name", Path(path).stem)),
        path=path,
        files=_tuple(feed["files"], f"{path} files"),
        source=str(feed.get("source", "{parent}")),
        encoding="gb18030" if encoding in {"gbk", "gb2312"} else encoding,
        date_formats=_tuple(feed.get("date_formats", list(DEFAULT_DATE_FORMATS)), f"{path} date_formats"),
        amount_unit=unit,
        entity_keys=keys,
        record_type=fixed,
        columns=columns,
        record_types=record_types,
        required=_tuple(feed.get("required", ["event_date"]), f"{path} required"),
        ignore=_tuple(feed.get("ignore", []), f"{path} ignore"),
        dedupe_across_loads=bool(feed.get("dedupe_across_loads", True)),
        keep_extra=bool(feed.get("keep_extra", False)),
    )


def load_mappings(directory: Path | None = None) -> list[FeedMapping]:
    """Mappings in ``directory`` (``*.toml``), or the ones shipped with Shijian."""
    if directory is not None:
        if not directory.is_dir():
            raise MappingError(f"{directory}: no such mapping directory")
        files = sorted(directory.glob("*.toml"))
        if not files:
            raise MappingError(f"{directory}: no *.toml mappings")
        return [parse_mapping(p.read_text(encoding="utf-8"), str(p)) for p in files]
    shipped = resources.files("shijian.ingest").joinpath("mappings")
    return [
        parse_mapping(item.read_text(encoding="utf-8"), f"shijian/ingest/mappings/{item.name}")
        for item in sorted(shipped.iterdir(), key=lambda i: i.name)
        if item.name.endswith(".toml")
    ]


def _toml_str(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's; DEL, which TOML refuses raw, escaped too)."""
    import json

    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(_toml_str(v) for v in values) + "]"


def _toml_key(key: str) -> str:
    bare = key.isascii() and key.replace("_", "").replace("-", "").isalnum()
    return key if bare else _toml_str(key)


def mapping_to_toml(m: FeedMapping, comment: str = "") -> str:
    """The TOML text that ``parse_mapping`` reads back as ``m`` (the mapping editor writes it; the CLI reads it)."""
    lines = [f"# {line}" for line in comment.splitlines()]
    lines += [
        "[feed]",
        f"name = {_toml_str(m.name)}",
        f"files = {_toml_list(m.files)}",
        f"source = {_toml_str(m.source)}",
        f"encoding = {_toml_str(m.encoding)}",
    ]
    if m.record_type:
        lines.append(f"record_type = {_toml_str(m.record_type)}")
    lines += [
        f"date_formats = {_toml_list(m.date_formats)}",
        f"amount_unit = {_toml_str(m.amount_unit)}",
        f"entity_keys = {_toml_list(m.entity_keys)}",
        f"required = {_toml_list(m.required)}",
        f"ignore = {_toml_list(m.ignore)}",
        f"keep_extra = {'true' if m.keep_extra else 'false'}",
        f"dedupe_across_loads = {'true' if m.dedupe_across_loads else 'false'}",
        "",
        "[columns]",
        *(f"{field} = {_toml_list(m.columns[field])}" for field in CANONICAL_FIELDS if field in m.columns),
    ]
    if m.record_types:
        lines += ["", "[record_types]", *(f"{_toml_key(k)} = {_toml_str(v)}" for k, v in m.record_types.items())]
    return "\n".join(lines) + "\n"
