"""How long each kind of stored file is kept (docs/deploy.md, "Retention", gives the sources and assumptions).

``None``: kept permanently (永久). A period runs from the business date (Asia/Shanghai) the file was stored."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RULES", "Rule"]


@dataclass(frozen=True)
class Rule:
    kind: str
    what: str
    years: int | None = None
    days: int | None = None
    source: str = ""

    @property
    def permanent(self) -> bool:
        return self.years is None and self.days is None

    def period(self) -> str:
        if self.years is not None:
            return f"{self.years} years"
        if self.days is not None:
            return f"{self.days} days"
        return "permanent"


# Article 6 and its annex: 行政处罚 materials, the important ones 永久, the ordinary ones 定期30年; practice reads a
# case under the general procedure (立案, as every case here) as important (docs/deploy.md, "Retention").
ARCHIVE_RULE = "国家档案局令第8号《机关文件材料归档范围和文书档案保管期限规定》第六条及附件"
PENALTY_RULE = "《市场监督管理行政处罚程序规定》(结案后案卷按档案管理规定归档)"

RULES: tuple[Rule, ...] = (
    Rule("penalty_decision", "signed 行政处罚决定书", source=f"{PENALTY_RULE}; {ARCHIVE_RULE}: 一般程序案卷 永久"),
    Rule("filing_notice", "signed 受理/不予受理通知书", years=30, source=f"{ARCHIVE_RULE}: assumed 定期30年"),
    Rule("case_evidence", "evidence of a case", source=f"{PENALTY_RULE}; {ARCHIVE_RULE}: 一般程序案卷 永久"),
    Rule("visit_attachment", "photo or document of a visit", years=10, source=f"{ARCHIVE_RULE}: assumed 定期10年"),
    Rule("data_upload", "file uploaded to a data feed", days=180, source="assumed: the lake keeps the loaded rows"),
    Rule("export", "export file of a job", days=30, source="assumed: made again on demand"),
)
