"""Generate a synthetic district: entity register, lists and departmental feeds, reproducibly from a seed.

Entities sit on the real towns and villages (NBS 2023 codes), carry real GB/T 4754-2017 classes and valid USCCs,
and a latent risk that drives how many penalties, complaints, failed inspections and abnormal listings they get.
Feeds are written the way departments deliver them: CSV in GB18030 or UTF-8, Excel, differing column names and
date formats, full-width characters, some invalid codes and duplicate rows. The truth (latent risk, and which
entity each record belongs to) goes to truth/ for evaluating linkage and risk models.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from shijian.core.codes import tables, uscc
from shijian.synth import lists, vocab

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Scale:
    name: str
    region: str
    entities: int
    records: int
    inspectors: int
    intensity: float = 1.0  # event rates x this; 1 = calibrated (more only for small test districts)


SCALES = {
    "gaoming": Scale("gaoming", "440608", 60_000, 10_000_000, 320),
    "foshan": Scale("foshan", "4406", 780_000, 130_000_000, 2_000),
}


def resolve_scale(spec: str, records: int | None = None, intensity: float = 1.0) -> Scale:
    """``gaoming``, ``foshan`` or a number of entities (placed in Gaoming, 166 records each by default).
    ``intensity`` multiplies the calibrated event rates: a small test district needs more events to fit a model
    on, and is then no longer realistic (``shijian synth report`` says so)."""
    if spec in SCALES:
        s = SCALES[spec]
    else:
        try:
            n = int(spec.replace("_", ""))
        except ValueError as exc:
            raise ValueError(f"scale must be gaoming, foshan or a number of entities, not {spec!r}") from exc
        if n < 100:
            raise ValueError("a synthetic district needs at least 100 entities")
        region = "440608" if n <= 200_000 else "4406"
        s = Scale(str(n), region, n, n * 166, max(40, n // 200))
    if records is not None:
        s = Scale(s.name, s.region, s.entities, records, s.inspectors)
    return Scale(s.name, s.region, s.entities, s.records, s.inspectors, intensity)


TYPE_SHARES = {
    "individual": 0.60,
    "llc": 0.31,
    "sole": 0.02,
    "partnership": 0.01,
    "branch": 0.025,
    "joint_stock": 0.005,
    "foreign": 0.01,
    "cooperative": 0.008,
    "state_owned": 0.012,
}
SECTION_SHARES = {
    "F": 0.36,
    "H": 0.11,
    "C": 0.15,
    "O": 0.07,
    "L": 0.07,
    "I": 0.03,
    "M": 0.03,
    "E": 0.03,
    "G": 0.03,
    "K": 0.02,
    "A": 0.025,
    "R": 0.02,
    "P": 0.01,
    "Q": 0.01,
    "N": 0.01,
    "D": 0.005,
    "J": 0.005,
}
CLOSED_STATUS_SHARES = {"deregistered": 0.70, "revoked": 0.25, "moved_out": 0.05}
# The as-of date of a generated district; the lake runs through the end of the last complete month before it.
AS_OF = dt.date(2026, 11, 1)
START = dt.date(2015, 1, 1)
END = dt.date(AS_OF.year, AS_OF.month, 1) - dt.timedelta(days=1)
FIRST_FOUNDING_YEAR = 1992
EXIT_HAZARD = {"individual": 0.07, "enterprise": 0.05}  # closures per year alive


def _founding_weights() -> np.ndarray:
    """Foundings per year: growing ~12% a year to the 2019 plateau (commercial-registration reform, SAMR yearly
    new-entity counts), flat since; the current year counts only its elapsed months."""
    years = np.arange(FIRST_FOUNDING_YEAR, END.year + 1)
    w = 1.12 ** (np.minimum(years, 2019) - FIRST_FOUNDING_YEAR)
    w[-1] *= END.timetuple().tm_yday / 365.0
    return np.asarray(w / w.sum())


def _lifetimes(rng: np.random.Generator, etype: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Establishment and closure day ordinals (0 = still open at the end); closures at a constant hazard."""
    n = etype.size
    years = np.arange(FIRST_FOUNDING_YEAR, END.year + 1)
    year = years[rng.choice(years.size, size=n, p=_founding_weights())]
    first = np.array([dt.date(int(y), 1, 1).toordinal() for y in years])[year - FIRST_FOUNDING_YEAR]
    length = np.where(year == END.year, END.timetuple().tm_yday, 365)
    est = first + (rng.random(n) * length).astype(np.int64)
    hazard = np.where(etype == "individual", EXIT_HAZARD["individual"], EXIT_HAZARD["enterprise"])
    close = est + 60 + (rng.exponential(1.0, n) / hazard * 365.25).astype(np.int64)
    return est.astype(np.int64), np.where(close <= END.toordinal(), close, 0).astype(np.int64)


REGISTER_HEADER = [
    "统一社会信用代码",
    "注册号",
    "企业名称",
    "主体类型",
    "行业代码",
    "村居代码",
    "住所",
    "法定代表人",
    "认缴出资额(万元)",
    "成立日期",
    "登记状态",
    "特征标识",
]


def _choice(rng: np.random.Generator, shares: dict[str, float], n: int) -> np.ndarray:
    keys = list(shares)
    p = np.array([shares[k] for k in keys], dtype=float)
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=n, p=p / p.sum())]


def _encode_base(values: np.ndarray, alphabet: str, width: int) -> list[str]:
    base = len(alphabet)
    digits = np.empty((values.size, width), dtype=np.int64)
    v = values.astype(np.int64).copy()
    for pos in range(width - 1, -1, -1):
        digits[:, pos] = v % base
        v //= base
    table = np.array(list(alphabet))
    return ["".join(row) for row in table[digits]]


def make_usccs(rng: np.random.Generator, n: int, division: np.ndarray, category2: np.ndarray) -> list[str]:
    """Unique, valid USCCs: a bijective scramble of the entity index gives distinct organisation-code bodies."""
    idx = np.arange(n, dtype=np.int64)
    new_style = rng.random(n) < 0.7  # MA + 6 characters (post-2015 style) or 8 digits
    m1 = 31**6
    body_new = _encode_base((idx * 7_654_321 + 12_345) % m1, uscc.CHARSET, 6)
    body_old = _encode_base((idx * 3_141_593 + 27_182) % 10**8, "0123456789", 8)
    out = []
    for i in range(n):
        body8 = ("MA" + body_new[i]) if new_style[i] else body_old[i]
        out.append(uscc.make(str(category2[i]), str(division[i]), body8))
    return out


def generate_entities(scale: Scale, seed: int) -> pa.Table:
    rng = np.random.default_rng([seed, 1])
    n = scale.entities
    divisions = tables.divisions()
    districts = lists.districts_of(scale.region)
    villages = [
        d for d in divisions.values() if d.level == "village" and d.code[:6] in districts and int(d.code[6:9]) < 400
    ]
    # Urban streets and bigger villages are denser: log-normal weights per village.
    vweights = rng.lognormal(0.0, 0.8, len(villages))
    vweights *= np.array([2.5 if tables.town_kind(v.parent) == "street" else 1.0 for v in villages])
    village_idx = rng.choice(len(villages), size=n, p=vweights / vweights.sum())
    village_codes = np.array([v.code for v in villages], dtype=object)[village_idx]

    etype = _choice(rng, TYPE_SHARES, n)
    classes_by_section: dict[str, list[str]] = {}
    for ind in tables.industries().values():
        if ind.level == "class":
            classes_by_section.setdefault(ind.section, []).append(ind.code)
    section = _choice(rng, SECTION_SHARES, n)
    industry = np.empty(n, dtype=object)
    for sec in np.unique(section):
        mask = section == sec
        pool = np.array(classes_by_section[sec], dtype=object)
        # A few classes dominate each section (Zipf-like), as in real registers.
        w = 1.0 / np.arange(1, pool.size + 1) ** 0.9
        rng.shuffle(w)
        industry[mask] = pool[rng.choice(pool.size, size=int(mask.sum()), p=w / w.sum())]

    est_ord, closed_ord = _lifetimes(rng, etype)
    age_days = END.toordinal() - est_ord
    established = [dt.date.fromordinal(int(o)) for o in est_ord]

    cap = np.round(np.where(etype == "individual", rng.lognormal(1.5, 1.0, n), rng.lognormal(4.5, 1.6, n)), 2)
    cap_missing = (etype == "individual") & (rng.random(n) < 0.5)

    closed = closed_ord > 0
    status = np.where(closed, _choice(rng, CLOSED_STATUS_SHARES, n), "active").astype(object)

    # Latent risk: industry, youth, small capital, some towns; drives events and is never shown to the model.
    sec_risk = {"H": 0.5, "F": 0.2, "C": 0.35, "E": 0.3, "O": 0.25, "L": 0.3, "K": 0.2, "Q": 0.3}
    z = rng.normal(0.0, 1.0, n)
    z += np.array([sec_risk.get(s, 0.0) for s in section])
    z += np.where(age_days < 2 * 365, 0.4, 0.0) - np.where(age_days > 10 * 365, 0.3, 0.0)
    z += np.where(np.log1p(cap) < 1.5, 0.3, 0.0)
    # sorted: a set's order changes with Python's string hashing, and the draw order must follow the seed alone
    town_effect = {t: rng.normal(0, 0.25) for t in sorted({c[:9] for c in village_codes})}
    z += np.array([town_effect[c[:9]] for c in village_codes])
    risk = 1.0 / (1.0 + np.exp(-(z - 2.0)))

    category2 = np.array(
        ["92" if t == "individual" else "93" if t == "cooperative" else "91" for t in etype], dtype=object
    )
    division = np.array([c[:6] for c in village_codes], dtype=object)
    codes = make_usccs(rng, n, division, category2)
    no_code = (etype == "individual") & (age_days > 12 * 365) & (rng.random(n) < 0.35)
    reg_no = [f"{division[i]}{600000000 + i:09d}" for i in range(n)]

    names = _names(rng, etype, section, village_codes)
    sur = np.array(vocab.SURNAMES, dtype=object)[rng.integers(0, len(vocab.SURNAMES), n)]
    g1 = np.array(vocab.GIVEN, dtype=object)[rng.integers(0, len(vocab.GIVEN), n)]
    g2 = np.array(vocab.GIVEN + [""] * 20, dtype=object)[rng.integers(0, len(vocab.GIVEN) + 20, n)]
    legal_rep = sur + g1 + g2
    road = np.array(vocab.ROADS, dtype=object)[rng.integers(0, len(vocab.ROADS), n)]
    num = rng.integers(1, 400, n)
    address = [
        f"广东省佛山市{divisions[v[:6]].name}{divisions[v[:9]].name}{divisions[v].name.removesuffix('居民委员会').removesuffix('村民委员会').removesuffix('社区居委会').removesuffix('村委会')}{road[i]}{num[i]}号"
        for i, v in enumerate(village_codes)
    ]
    tag_list = [
        ",".join(code for code, _name, prefixes in lists.TAGS if tables.industry_matches(ind, prefixes))
        for ind in industry
    ]
    return pa.table(
        {
            "entity_no": pa.array(np.arange(n), pa.int64()),
            "uscc": pa.array([None if no_code[i] else codes[i] for i in range(n)], pa.string()),
            "reg_no": pa.array(reg_no, pa.string()),
            "name": pa.array(names, pa.string()),
            "entity_type": pa.array(etype.tolist(), pa.string()),
            "industry_code": pa.array(industry.tolist(), pa.string()),
            "region_code": pa.array(village_codes.tolist(), pa.string()),
            "address": pa.array(address, pa.string()),
            "legal_rep": pa.array(legal_rep.tolist(), pa.string()),
            "registered_capital": pa.array(np.where(cap_missing, np.nan, cap), pa.float64(), from_pandas=True),
            "established_on": pa.array(established, pa.date32()),
            "status": pa.array(status.tolist(), pa.string()),
            "tags": pa.array(tag_list, pa.string()),
            "risk": pa.array(risk, pa.float64()),
            "closed_on": pa.array([dt.date.fromordinal(int(o)) if o > 0 else None for o in closed_ord], pa.date32()),
        }
    )


def _names(rng: np.random.Generator, etype: np.ndarray, section: np.ndarray, villages: np.ndarray) -> list[str]:
    divisions = tables.divisions()
    brand = vocab.BRAND
    b1 = rng.integers(0, len(brand), etype.size)
    b2 = rng.integers(0, len(brand), etype.size)
    w = rng.integers(0, 1000, etype.size)
    seen: set[str] = set()
    out = []
    for i, t in enumerate(etype):
        words = vocab.SECTION_WORDS.get(section[i], ["商贸"])
        word = words[w[i] % len(words)]
        district = divisions[villages[i][:6]].name.removesuffix("区")
        if t == "individual":
            town = divisions[villages[i][:9]].name.removesuffix("街道").removesuffix("镇")
            name = f"佛山市{district}区{town}{brand[b1[i]]}{brand[b2[i]]}{word}"
        elif t == "cooperative":
            name = f"佛山市{district}区{brand[b1[i]]}{brand[b2[i]]}{word}{vocab.SUFFIX_BY_TYPE[t]}"
        elif t == "branch":
            name = f"广东{brand[b1[i]]}{brand[b2[i]]}{word}有限公司佛山{district}分公司"
        else:
            name = f"佛山市{brand[b1[i]]}{brand[b2[i]]}{word}{vocab.SUFFIX_BY_TYPE[t]}"
        if name in seen:  # registered names are unique within a registration authority
            name = (
                name.replace(word, f"{word}{i % 97 + 1}号", 1)
                if t == "individual"
                else name.replace(brand[b2[i]], brand[b2[i]] + brand[(b1[i] * 7 + i) % len(brand)], 1)
            )
            if name in seen:
                name = f"{name[:-2]}{i}{name[-2:]}"
        seen.add(name)
        out.append(name)
    return out


# --- lists -------------------------------------------------------------------------------------------------------


def _write_csv(path: Path, header: list[str], rows: Sequence[Sequence[object]], encoding: str = "utf-8") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def write_lists(scale: Scale, seed: int, out: Path, entities: pa.Table) -> dict[str, int]:
    rng = np.random.default_rng([seed, 2])
    depts = lists.departments(scale.region)
    _write_csv(
        out / "lists" / "departments.csv",
        ["code", "name", "level", "region_code"],
        [[d.code, d.name, d.level, d.region] for d in depts],
    )
    _write_csv(out / "lists" / "item_categories.csv", ["code", "name"], [[k, v] for k, v in lists.CATEGORIES.items()])
    _write_csv(out / "lists" / "tags.csv", ["code", "name"], [[c, n] for c, n, _p in lists.TAGS])
    item_rows = []
    resp_rows = []
    for code, name, cat, subs, basis, types, inds, kind, cap, method in lists.ITEMS:
        responsible = [d for d in depts if cat in d.template.categories]
        item_rows.append(
            [
                code,
                name,
                cat,
                subs,
                basis,
                ",".join(d.code for d in responsible),
                types,
                inds,
                kind,
                cap if kind == "general" else "",
                "每年1次" if kind == "general" else "按风险等级确定",
                method,
                f"具备{lists.CATEGORIES[cat]}检查资格",
            ]
        )
        for d in responsible:
            resp_rows.append([d.code, code, d.region, ""])
    _write_csv(
        out / "lists" / "items.csv",
        [
            "code",
            "name",
            "category",
            "sub_items",
            "legal_basis",
            "departments",
            "target_entity_types",
            "target_industries",
            "kind",
            "ratio_cap",
            "frequency",
            "method",
            "inspector_requirements",
        ],
        item_rows,
    )
    _write_csv(out / "lists" / "responsibilities.csv", ["department", "item", "region_code", "note"], resp_rows)

    # Inspectors: spread over departments by weight, each at least two; qualified for their department's categories.
    weights = np.array([d.template.weight for d in depts if d.template.categories])
    inspect_depts = [d for d in depts if d.template.categories]
    counts = np.maximum(2, np.round(weights / weights.sum() * scale.inspectors)).astype(int)
    insp_rows = []
    seq = 0
    for d, k in zip(inspect_depts, counts, strict=True):
        towns = [t for t in lists.towns_of(d.region)] if len(d.region) == 6 else []
        for _ in range(int(k)):
            seq += 1
            name = (
                vocab.SURNAMES[int(rng.integers(len(vocab.SURNAMES)))]
                + vocab.GIVEN[int(rng.integers(len(vocab.GIVEN)))]
                + (vocab.GIVEN[int(rng.integers(len(vocab.GIVEN)))] if rng.random() < 0.6 else "")
            )
            cats = list(d.template.categories)
            if len(cats) > 2:
                keep = rng.random(len(cats)) < 0.7
                cats = [c for c, k2 in zip(cats, keep, strict=True) if k2] or cats[:1]
            region = towns[int(rng.integers(len(towns)))] if towns and rng.random() < 0.5 else d.region
            insp_rows.append(
                [
                    name,
                    d.code,
                    region,
                    f"44{seq:06d}{int(rng.integers(1000)):03d}",
                    ",".join(cats),
                    "1" if rng.random() < 0.95 else "0",
                ]
            )
    _write_csv(
        out / "lists" / "inspectors.csv",
        ["name", "department", "region_code", "cert_no", "qualifications", "active"],
        insp_rows,
    )
    # Declared conflicts of interest: ~3% of inspectors, with an entity (by USCC) or a person.
    usccs = [u for u in entities.column("uscc").to_pylist()[:50_000] if u]
    reps = entities.column("legal_rep").to_pylist()[:50_000]
    conf_rows = []
    for row in insp_rows:
        if rng.random() < 0.03:
            if rng.random() < 0.6:
                conf_rows.append([row[3], usccs[int(rng.integers(len(usccs)))], "", "近亲属任职"])
            else:
                conf_rows.append([row[3], "", reps[int(rng.integers(len(reps)))], "近亲属关系"])
    _write_csv(out / "lists" / "conflicts.csv", ["cert_no", "entity_uscc", "person_name", "reason"], conf_rows)
    return {
        "departments": len(depts),
        "items": len(item_rows),
        "responsibilities": len(resp_rows),
        "inspectors": len(insp_rows),
        "conflicts": len(conf_rows),
    }


# --- register ----------------------------------------------------------------------------------------------------


def corrupt_uscc(code: str, k: int) -> str:
    """Change one character so that the check digit fails (a typical keying error)."""
    pos = k % 17
    ch = uscc.CHARSET[(uscc.CHARSET.index(code[pos]) + 1 + k % 29) % 31]
    bad = code[:pos] + ch + code[pos + 1 :]
    return bad if not uscc.is_valid(bad) else code[:17] + ("0" if code[17] != "0" else "1")


def to_fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


TYPE_LABEL = {
    "llc": "有限责任公司",
    "joint_stock": "股份有限公司",
    "state_owned": "非公司企业法人",
    "foreign": "外商投资企业",
    "partnership": "合伙企业",
    "sole": "个人独资企业",
    "branch": "分公司",
    "individual": "个体工商户",
    "cooperative": "农民专业合作社",
}
STATUS_LABEL = {"active": "存续", "revoked": "吊销", "deregistered": "注销", "moved_out": "迁出"}


def write_register(seed: int, out: Path, entities: pa.Table) -> dict[str, int]:
    """The market-regulation register export: mostly clean, with the defects real exports carry."""
    rng = np.random.default_rng([seed, 3])
    rows = entities.drop_columns(["risk", "entity_no", "closed_on"]).to_pylist()
    out_rows: list[list[object]] = []
    bad = dup = fullwidth = 0
    for i, r in enumerate(rows):
        code = r["uscc"] or ""
        u = rng.random()
        if code and u < 0.001:
            code = corrupt_uscc(code, i)
            bad += 1
        elif code and u < 0.003:
            code = to_fullwidth(code)
            fullwidth += 1
        est = r["established_on"]
        date = est.isoformat() if rng.random() > 0.02 else f"{est.year}年{est.month}月{est.day}日"
        cap = r["registered_capital"]
        row = [
            code,
            r["reg_no"],
            r["name"],
            TYPE_LABEL[r["entity_type"]],
            r["industry_code"],
            r["region_code"],
            r["address"],
            r["legal_rep"],
            "" if cap is None or math.isnan(cap) else f"{cap:.2f}",
            date,
            STATUS_LABEL[r["status"]],
            r["tags"],
        ]
        out_rows.append(row)
        if rng.random() < 0.0005:
            out_rows.append(list(row))
            dup += 1
    path = out / "register" / "market_register.csv"
    _write_csv(path, REGISTER_HEADER, out_rows, encoding="utf-8-sig")
    return {"rows": len(out_rows), "invalid_uscc": bad, "fullwidth_uscc": fullwidth, "duplicates": dup}


def generate(
    scale: Scale, seed: int, out: Path, progress: Progress | None = None, feeds: bool = True
) -> dict[str, object]:
    """Write a whole synthetic district under ``out``; returns (and writes) its manifest."""
    out.mkdir(parents=True, exist_ok=True)
    if progress:
        progress("entities", 0, scale.entities)
    entities = generate_entities(scale, seed)
    if progress:
        progress("entities", scale.entities, scale.entities)
    (out / "truth").mkdir(exist_ok=True)
    pq.write_table(entities, out / "truth" / "entities.parquet", compression="zstd")
    manifest: dict[str, object] = {
        "generator": "shijian.synth",
        "version": 2,
        "scale": asdict(scale),
        "seed": seed,
        "as_of": AS_OF.isoformat(),
        "lists": write_lists(scale, seed, out, entities),
        "register": write_register(seed, out, entities),
    }
    if feeds and scale.records > 0:
        from shijian.synth.feeds import FeedWriter

        manifest["feeds"] = FeedWriter(scale, seed, out, entities).write(progress)
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
    return manifest
