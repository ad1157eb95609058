"""Read-only code tables shipped as package data. Loaded once per process, looked up in O(1)."""

from __future__ import annotations

import csv
import gzip
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

RegionLevel = Literal["province", "city", "district", "town", "village"]
IndustryLevel = Literal["section", "division", "group", "class"]


@dataclass(frozen=True, slots=True)
class Division:
    code: str
    name: str
    level: RegionLevel
    parent: str


@dataclass(frozen=True, slots=True)
class Industry:
    code: str
    name: str
    level: IndustryLevel
    parent: str
    section: str
    remark: str


@dataclass(frozen=True, slots=True)
class UsccCategory:
    authority: str
    authority_name: str
    category: str
    category_name: str


def _read(name: str) -> list[dict[str, str]]:
    ref = resources.files("shijian.core.codes").joinpath("data", name)
    with ref.open("rb") as raw:
        data = gzip.decompress(raw.read()) if name.endswith(".gz") else raw.read()
    return list(csv.DictReader(data.decode("utf-8").splitlines()))


@cache
def divisions() -> dict[str, Division]:
    """Provinces, cities and districts of China; towns/streets and villages of Guangdong (NBS 2023)."""
    return {
        r["code"]: Division(r["code"], r["name"], r["level"], r["parent"])  # type: ignore[arg-type]
        for r in _read("divisions.csv.gz")
    }


@cache
def industries() -> dict[str, Industry]:
    """GB/T 4754-2017: 20 sections, 97 divisions, groups and 1,381 classes."""
    return {
        r["code"]: Industry(r["code"], r["name"], r["level"], r["parent"], r["section"], r["remark"])  # type: ignore[arg-type]
        for r in _read("industries.csv.gz")
    }


@cache
def uscc_categories() -> dict[str, UsccCategory]:
    """USCC positions 1-2: registration authority and entity category (GB 32100-2015, appendix A)."""
    return {
        r["authority"] + r["category"]: UsccCategory(
            r["authority"], r["authority_name"], r["category"], r["category_name"]
        )
        for r in _read("uscc_categories.csv")
    }


def division_level_of(code: str) -> RegionLevel:
    """Level implied by the length of a division code (2/4/6/9/12 digits)."""
    levels: dict[int, RegionLevel] = {2: "province", 4: "city", 6: "district", 9: "town", 12: "village"}
    try:
        return levels[len(code)]
    except KeyError as exc:
        raise ValueError(f"division code {code!r} must have 2, 4, 6, 9 or 12 digits") from exc


def town_kind(town_code9: str) -> str:
    """Street (街道), town (镇) or township (乡) from the 3-digit town part, per the 12-digit scheme."""
    n = int(town_code9[6:9])
    if 1 <= n <= 99:
        return "street"
    if 100 <= n <= 199:
        return "town"
    if 200 <= n <= 399:
        return "township"
    return "special"


def ancestors(code: str) -> list[str]:
    """Codes of the division and all its parents, from the province down."""
    table = divisions()
    chain: list[str] = []
    current = code
    while current:
        chain.append(current)
        current = table[current].parent if current in table else ""
    return list(reversed(chain))


def children(code: str) -> list[Division]:
    return list(_children().get(code, ()))


@cache
def _children() -> dict[str, tuple[Division, ...]]:
    index: dict[str, list[Division]] = {}
    for d in divisions().values():
        index.setdefault(d.parent, []).append(d)
    return {parent: tuple(kids) for parent, kids in index.items()}


def industry_path(code: str) -> list[Industry]:
    table = industries()
    chain: list[Industry] = []
    current = code
    while current and current in table:
        chain.append(table[current])
        current = table[current].parent
    return list(reversed(chain))


def industry_matches(class_code: str, codes: list[str] | tuple[str, ...]) -> bool:
    """Whether a class lies under any of ``codes``: a section letter, or a division/group/class code prefix.

    An empty list matches every class (an item or tag with no industry restriction).
    """
    if not codes:
        return True
    ind = industries().get(class_code)
    section = ind.section if ind else ""
    return any(c == section if c.isalpha() else class_code.startswith(c) for c in codes)


@cache
def districts_under(code: str) -> tuple[str, ...]:
    """The district codes (6 digits) of a province or city, or the district itself."""
    if len(code) >= 6:
        return (code[:6],)
    return tuple(sorted(d.code for d in divisions().values() if d.level == "district" and d.code.startswith(code)))
