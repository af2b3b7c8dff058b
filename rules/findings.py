"""A finding: one gap a rule found, with its evidence, as the risk register holds it."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from extractors.text import organization_key

SEVERITIES = ("高", "中", "低")
CATEGORIES = (
    "unsupported", "option_dependent", "responsibility_shift", "remark_contradiction", "limitation",
    "missing_remark", "inconsistency", "missing_document", "checklist_deadline", "stale_document",
    "incomplete", "ambiguous_answer",
)


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
