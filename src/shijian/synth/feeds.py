"""Departmental feeds as departments deliver them: header variants, date formats, encodings (GB18030, UTF-8,
Excel), typos in names and addresses, key-less records for linkage, duplicates. Split from the generator, which
makes the register and decides which entity gets which record (``synth.events``)."""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from shijian.synth import events, lists, reference, texts
from shijian.synth.events import EPOCH
from shijian.synth.generator import END, START, Progress, Scale, corrupt_uscc, to_fullwidth

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
        self.uscc_bad = pa.array([corrupt_uscc(c, i) if c else None for i, c in enumerate(code_list)], pa.string())
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
        amount = np.zeros(k)
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
            "detail": pa.array(
                # the free texts from a stream of their own: adding them changed no other draw
                texts.texts_for(
                    np.random.default_rng([self.seed, 7, zlib.crc32(dept.code.encode()), seq0]),
                    rtype,
                    details.tolist(),
                    res.tolist(),
                    amount,
                ),
                pa.string(),
            ),
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
