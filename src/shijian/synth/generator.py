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
import io
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from shijian.core.codes import tables, uscc
from shijian.synth import events, lists, reference, vocab
from shijian.synth.events import EPOCH

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


def _corrupt_uscc(code: str, k: int) -> str:
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
            code = _corrupt_uscc(code, i)
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


# --- departmental feeds -------------------------------------------------------------------------------------------

HEADER_VARIANTS: dict[str, list[str]] = {
    "record_id": ["记录编号", "业务编号", "ID", "流水号"],
    "uscc": ["统一社会信用代码", "社会信用代码", "信用代码", "USCC"],
    "reg_no": ["注册号", "工商注册号", "原注册号"],
    "name": ["企业名称", "主体名称", "单位名称", "当事人名称"],
    "address": ["住所", "地址", "经营场所", "单位地址"],
    "record_type": ["记录类型", "业务类型", "类别"],
    "event_date": ["日期", "发生日期", "办结日期", "决定日期"],
    "amount": ["金额(万元)", "金额", "涉及金额"],
    "result": ["结果", "处理结果", "状态"],
    "detail": ["内容", "事由", "备注"],
}
DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日", "%Y.%m.%d"]
RESULTS: dict[str, tuple[list[str], list[str]]] = {
    # record type: (results when the entity behaves, results when it does not)
    "inspection": (["未发现问题"], ["发现问题已责令改正", "发现问题待后续处理", "不配合检查", "未按规定公示"]),
    "penalty": (["已执行"], ["已执行", "未执行", "已申请复议"]),
    "complaint": (["已办结"], ["已办结", "调解成功", "不予受理", "移送执法"]),
    "abnormal": (
        ["已移出"],
        [
            "未按规定公示年度报告",
            "未在责令期限内公示有关企业信息",
            "公示信息隐瞒真实情况、弄虚作假",
            "通过登记的住所或者经营场所无法联系",
        ],
    ),
    "annual_report": (["已公示"], ["逾期公示", "未公示"]),
    "tax": (["A", "B"], ["M", "C", "D"]),
    "licence": (["有效"], ["已过期", "已注销"]),
    "litigation": (["原告"], ["被告", "被执行人"]),
    "registration_change": (["变更住所", "变更经营范围", "变更法定代表人"], ["变更住所", "变更法定代表人", "变更股东"]),
}
DETAILS: dict[str, list[str]] = {
    "inspection": ["双随机抽查", "专项检查", "日常检查", "投诉核查"],
    "penalty": [
        "违反《食品安全法》",
        "违反《产品质量法》",
        "违反《广告法》",
        "违反《价格法》",
        "违反《安全生产法》",
        "违反《消防法》",
    ],
    "complaint": ["商品质量", "虚假宣传", "价格欺诈", "食品安全", "预付卡退费", "噪声扰民"],
    "abnormal": ["列入经营异常名录"],
    "annual_report": ["年度报告"],
    "tax": ["纳税信用评价"],
    "licence": ["食品经营许可证", "卫生许可证", "排污许可证", "道路运输经营许可证", "特种设备使用登记证", "营业执照"],
    "litigation": ["买卖合同纠纷", "借款合同纠纷", "劳动争议", "租赁合同纠纷", "民间借贷纠纷"],
    "registration_change": ["变更登记"],
}
RECORD_TYPE_LABEL = {
    "inspection": "检查结果",
    "penalty": "行政处罚",
    "complaint": "投诉举报",
    "abnormal": "经营异常名录",
    "annual_report": "年度报告",
    "tax": "纳税信用",
    "licence": "行政许可",
    "litigation": "司法诉讼",
    "registration_change": "变更登记",
}


@dataclass(frozen=True)
class FeedStyle:
    encoding: str
    fmt: str
    headers: dict[str, str]
    date_format: str
    amount_unit: bool
    fullwidth_rate: float
    bad_uscc_rate: float
    missing_uscc_rate: float
    duplicate_rate: float


def _style(rng: np.random.Generator, dept: lists.Dept, n_rows: int) -> FeedStyle:
    headers = {k: v[int(rng.integers(len(v)))] for k, v in HEADER_VARIANTS.items()}
    xlsx = n_rows <= 20_000 and rng.random() < 0.4
    return FeedStyle(
        encoding="utf-8" if xlsx else ("gb18030" if rng.random() < 0.5 else "utf-8"),
        fmt="xlsx" if xlsx else "csv",
        headers=headers,
        date_format=DATE_FORMATS[int(rng.integers(len(DATE_FORMATS)))],
        amount_unit=bool(rng.random() < 0.3),
        fullwidth_rate=0.01 if rng.random() < 0.5 else 0.0,
        bad_uscc_rate=0.003,
        missing_uscc_rate=0.0 if dept.template.key.startswith(("SAMR", "CSAMR", "TAX", "CTAX")) else 0.04,
        duplicate_rate=0.002,
    )


def _split(total: int, weights: np.ndarray) -> np.ndarray:
    raw = weights / weights.sum() * total
    counts = np.floor(raw).astype(np.int64)
    counts[np.argsort(raw - counts)[::-1][: total - counts.sum()]] += 1
    return np.asarray(counts, dtype=np.int64)


TYPO_CHARS = (
    "华盛鑫源丰泰恒达兴隆金鹏瑞祥宏图广聚德信安富利民佳美新创顺通康宁伟业天成永汇嘉誉盈锦辉海星明远博众志诚和润宝联"
)


def _name_variant(name: str, kind: int, rng: np.random.Generator) -> str:
    """How another department writes the same name: shortened, or with one character mistyped."""
    if kind == 0:
        return name.removeprefix("佛山市") or name
    if kind == 1:
        return name.replace("有限公司", "公司") if "有限公司" in name else name.removeprefix("佛山市")
    if kind == 2 and len(name) > 6:
        pos = int(rng.integers(3, len(name) - 2))
        return name[:pos] + TYPO_CHARS[int(rng.integers(len(TYPO_CHARS)))] + name[pos + 1 :]
    return name


def _address_variant(address: str, kind: int) -> str:
    if kind == 0:
        return address.removeprefix("广东省")
    if kind == 1:
        return address.removeprefix("广东省佛山市")
    return address


class FeedWriter:
    """Writes every department's feed files in chunks (bounded memory at any scale)."""

    CHUNK = 2_000_000

    def __init__(self, scale: Scale, seed: int, out: Path, entities: pa.Table) -> None:
        self.scale, self.seed, self.out = scale, seed, out
        self.n = entities.num_rows
        codes = entities.column("uscc")
        self.uscc = codes
        code_list = codes.to_pylist()
        self.uscc_fw = pa.array([to_fullwidth(c) if c else None for c in code_list], pa.string())
        self.uscc_bad = pa.array([_corrupt_uscc(c, i) if c else None for i, c in enumerate(code_list)], pa.string())
        self.reg_no = entities.column("reg_no")
        self.name = entities.column("name")
        self.name_fw = pa.array([to_fullwidth(s).replace("(", "（") for s in self.name.to_pylist()], pa.string())
        self.address = entities.column("address")
        # Departments outside market regulation often key records by name and address only, written their way:
        # a shortened name, a typo, an address without the province. Fixed per entity (seeded).
        vrng = np.random.default_rng([seed, 5])
        self.name_var = pa.array(
            [
                _name_variant(n, int(c), vrng)
                for n, c in zip(self.name.to_pylist(), vrng.integers(0, 4, self.n), strict=True)
            ],
            pa.string(),
        )
        self.address_var = pa.array(
            [
                _address_variant(a, int(c))
                for a, c in zip(self.address.to_pylist(), vrng.integers(0, 3, self.n), strict=True)
            ],
            pa.string(),
        )
        est = np.array([d.toordinal() for d in entities.column("established_on").to_pylist()], dtype=np.int64)
        closed = np.array([d.toordinal() if d else 0 for d in entities.column("closed_on").to_pylist()], dtype=np.int64)
        etype = entities.column("entity_type").to_numpy(zero_copy_only=False)
        self.risk = entities.column("risk").to_numpy()
        self.pop = events.population(etype, est, closed, self.risk, START, END)

    def plan(self, rng: np.random.Generator) -> dict[str, events.Rows]:
        """Every record type's rows except tax, which fills the remaining record budget chunk by chunk."""
        rows = {rtype: events.events(rng, self.pop, rtype, self.scale.intensity) for rtype in reference.EVENT_TYPES}
        rows["annual_report"], rows["abnormal"] = events.annual_reports(rng, self.pop, START)
        return rows

    def _chunk(
        self, rng: np.random.Generator, dept: lists.Dept, rtype: str, rows: events.Rows, style: FeedStyle, seq0: int
    ) -> tuple[pa.Table, pa.Table]:
        idx, day, k = rows.idx, rows.day, rows.idx.size
        take = pa.array(idx)
        u = rng.random(k)
        uscc_col = pc.take(self.uscc, take)
        uscc_col = pc.if_else(pa.array(u < style.bad_uscc_rate), pc.take(self.uscc_bad, take), uscc_col)
        fw = pa.array(rng.random(k) < style.fullwidth_rate)
        uscc_col = pc.if_else(fw, pc.take(self.uscc_fw, take), uscc_col)
        missing = pa.array(u > 1 - style.missing_uscc_rate)
        uscc_col = pc.if_else(missing, pa.scalar(None, pa.string()), uscc_col)
        name_col = pc.if_else(fw, pc.take(self.name_fw, take), pc.take(self.name, take))
        # Most rows without a USCC carry no registration number either, and a variant of the name and address.
        keyless = pa.array((u > 1 - style.missing_uscc_rate) & (rng.random(k) < 0.75))
        reg_col = pc.if_else(keyless, pa.scalar("", pa.string()), pc.take(self.reg_no, take))
        name_col = pc.if_else(pc.and_(keyless, pa.array(rng.random(k) < 0.7)), pc.take(self.name_var, take), name_col)
        address_col = pc.if_else(
            pc.and_(keyless, pa.array(rng.random(k) < 0.7)),
            pc.take(self.address_var, take),
            pc.take(self.address, take),
        )
        dates = pa.array(day - EPOCH, pa.int32()).cast(pa.date32())
        date_col = pc.strftime(dates.cast(pa.timestamp("s")), format=style.date_format)
        good, badv = RESULTS[rtype]
        res = np.where(
            rows.bad,
            np.array(badv, dtype=object)[rng.integers(0, len(badv), k)],
            np.array(good, dtype=object)[rng.integers(0, len(good), k)],
        )
        details = np.array(DETAILS[rtype], dtype=object)[rng.integers(0, len(DETAILS[rtype]), k)]
        if rtype in {"penalty", "tax", "litigation"}:
            amount = np.round(rng.lognormal(0.0 if rtype == "penalty" else 1.5, 1.2, k), 2)
            amount_col = pc.cast(pa.array(amount), pa.string())
            if style.amount_unit:
                amount_col = pc.binary_join_element_wise(amount_col, pa.scalar("万元"), "")
        else:
            amount_col = pa.nulls(k, pa.string())
        seq = pa.array(np.arange(seq0, seq0 + k, dtype=np.int64)).cast(pa.string())
        rid = pc.binary_join_element_wise(pa.scalar(dept.template.key + "-"), pc.utf8_lpad(seq, 10, "0"), "")
        cols = {
            "record_id": rid,
            "uscc": uscc_col,
            "reg_no": reg_col,
            "name": name_col,
            "address": address_col,
            "record_type": pa.array(np.full(k, RECORD_TYPE_LABEL[rtype], dtype=object), pa.string()),
            "event_date": date_col,
            "amount": amount_col,
            "result": pa.array(res, pa.string()),
            "detail": pa.array(details, pa.string()),
        }
        table = pa.table({style.headers[c]: v for c, v in cols.items()})
        truth = pa.table(
            {
                "record_id": rid,
                "entity_no": pa.array(idx, pa.int64()),
                "event_date": dates,
                "adverse": pa.array(rows.bad, pa.bool_()),
            }
        )
        n_dup = int(k * style.duplicate_rate)
        if n_dup:
            dup_rows = pa.array(rng.integers(0, k, n_dup))
            table = pa.concat_tables([table, table.take(dup_rows)])
            perm = pa.array(rng.permutation(table.num_rows))
            table = table.take(perm)
        return table, truth

    def _assign(self, rng: np.random.Generator, depts: list[lists.Dept]) -> dict[tuple[str, str], events.Rows]:
        """Each planned row goes to one of the departments that keep its record type, by their weight."""
        out: dict[tuple[str, str], events.Rows] = {}
        for rtype, rows in self.plan(np.random.default_rng([self.seed, 6])).items():
            cands = [d for d in depts if rtype in d.template.record_types]
            w = np.array([d.template.weight for d in cands])
            who = rng.choice(len(cands), size=rows.idx.size, p=w / w.sum())
            for j, d in enumerate(cands):
                m = who == j
                out[(d.code, rtype)] = events.Rows(rows.idx[m], rows.day[m], rows.bad[m])
        return out

    def write(self, progress: Progress | None = None) -> dict[str, object]:
        rng = np.random.default_rng([self.seed, 4])
        depts = lists.departments(self.scale.region)
        planned = self._assign(rng, depts)
        tax_depts = [d for d in depts if "tax" in d.template.record_types]
        tax_total = max(0, self.scale.records - sum(r.idx.size for r in planned.values()))
        tax_rows = dict(
            zip(
                [d.code for d in tax_depts],
                _split(tax_total, np.array([d.template.weight for d in tax_depts])),
                strict=True,
            )
        )
        tax = events.TaxSampler(self.pop)
        total = tax_total + sum(r.idx.size for r in planned.values())
        files: list[dict[str, object]] = []
        done = 0
        truth_dir = self.out / "truth" / "records"
        truth_dir.mkdir(parents=True, exist_ok=True)
        for dept in depts:
            sizes = {
                t: int(tax_rows.get(dept.code, 0)) if t == "tax" else planned[(dept.code, t)].idx.size
                for t in dept.template.record_types
            }
            if not sum(sizes.values()):
                continue
            style = _style(rng, dept, sum(sizes.values()))
            folder = self.out / "feeds" / dept.code
            folder.mkdir(parents=True, exist_ok=True)
            seq = part = 0
            for rtype, size in sizes.items():
                for lo in range(0, size, self.CHUNK):
                    k = min(size - lo, self.CHUNK)
                    if rtype == "tax":
                        rows = tax.draw(rng, k)
                    else:
                        r = planned[(dept.code, rtype)]
                        rows = events.Rows(r.idx[lo : lo + k], r.day[lo : lo + k], r.bad[lo : lo + k])
                    table, truth = self._chunk(rng, dept, rtype, rows, style, seq)
                    seq += k
                    part += 1
                    stem = f"{dept.code}_{rtype}_{part:03d}"
                    path = folder / f"{stem}.{style.fmt}"
                    self._write_table(table, path, style)
                    pq.write_table(truth, truth_dir / f"{stem}.parquet", compression="zstd")
                    files.append(
                        {
                            "path": str(path.relative_to(self.out)),
                            "department": dept.code,
                            "record_type": rtype,
                            "rows": table.num_rows,
                            "encoding": style.encoding,
                            "date_format": style.date_format,
                        }
                    )
                    done += k
                    if progress:
                        progress("feeds", done, total)
        return {"files": files, "records": done, "start": START.isoformat(), "end": END.isoformat()}

    @staticmethod
    def _write_table(table: pa.Table, path: Path, style: FeedStyle) -> None:
        if style.fmt == "xlsx":
            from openpyxl import Workbook

            wb = Workbook(write_only=True)
            ws = wb.create_sheet("数据")
            ws.append(table.column_names)
            for row in zip(*[c.to_pylist() for c in table.columns], strict=True):
                ws.append(list(row))
            wb.save(path)
            return
        buf = io.BytesIO()
        pacsv.write_csv(table, buf, pacsv.WriteOptions(quoting_style="needed"))
        data = buf.getvalue()
        if style.encoding != "utf-8":
            data = data.decode("utf-8").encode(style.encoding)
        path.write_bytes(data)


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
        manifest["feeds"] = FeedWriter(scale, seed, out, entities).write(progress)
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
    return manifest
