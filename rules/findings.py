"""A finding: one gap a rule found, with its evidence, as the risk register holds it."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from extractors.text import organization_key

SEVERITIES = ("高", "中", "低")
@dataclass(frozen=True)
class Category:
    id: str
    label: str  # Japanese, in the register and the rule catalogue
    short: str  # Japanese, in report charts and tables


CATEGORY_LIST: tuple[Category, ...] = (
    Category("unsupported", "未対応", "未対応の管理策"),
    Category("option_dependent", "オプション・別契約依存", "オプション依存"),
    Category("responsibility_shift", "責任の転嫁（医療機関側・他システム依存）", "責任の移転"),
    Category("remark_contradiction", "備考による回答の否定", "備考との矛盾"),
    Category("limitation", "制限・例外あり", "制限事項"),
    Category("missing_remark", "必要な備考の欠落", "備考の記載漏れ"),
    Category("inconsistency", "不整合", "書類間の不整合"),
    Category("missing_document", "書類の不足", "書類の不足"),
    Category("device_eol", "サポート終了OSの機器", "OSサポート終了"),
    Category("vulnerability", "公表された脆弱性", "脆弱性（CVSS）"),
    Category("checklist_deadline", "チェックリストの目標日", "チェックリストの期限"),
    Category("stale_document", "古い書類・様式", "古い書類"),
    Category("incomplete", "未記入・欠落", "未回答・記載漏れ"),
    Category("ambiguous_answer", "判読できない回答", "判読不能・複数回答"),
)
CATEGORIES = tuple(c.id for c in CATEGORY_LIST)
CATEGORY_LABELS = {c.id: c.label for c in CATEGORY_LIST}
CATEGORY_SHORT_LABELS = {c.id: c.short for c in CATEGORY_LIST}


@dataclass
class Finding:
    rule_id: str
    category: str  # one of CATEGORIES
    severity: str  # 高 / 中 / 低
    title: str  # Japanese, from the rule
    finding: str  # Japanese sentence about this vendor's case
    vendor: str
    product: str
    item_ids: list[str] = field(default_factory=list)
    evidence: str = ""  # the answer and remark quoted, with location
    source_files: list[str] = field(default_factory=list)
    document_ids: list[str] = field(default_factory=list)
    recommendation: str = ""
    contract_clause: str = ""
    rationale: str = ""
    guideline_ref: str = ""
    needs_review: bool = False
    quote: str = ""  # the exact remark sentence that triggered a remark rule

    @property
    def risk_id(self) -> str:
        """Stable across runs: the same gap for the same vendor and product keeps its id.

        Key: organization_key(vendor) | organization_key(product) | rule_id | sorted item ids, SHA-1, 10 hex
        digits. organization_key (NFKC, dashes unified, line breaks and spaces dropped, company forms removed,
        case folded) makes 「AKEBONO-RIS\n放射線情報システム」 and 「ＡＫＥＢＯＮＯ－ＲＩＳ　放射線情報システム」 one product.
        Changing this key changes every id in every register: see docs/ARCHITECTURE.md (risk register)."""
        key = "|".join([organization_key(self.vendor), organization_key(self.product), self.rule_id,
                        ",".join(sorted(self.item_ids))])
        return "R-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:10].upper()
