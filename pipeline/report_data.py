"""Plain data for the reports and memos: register rows, vendor/product groups, evidence, changes.

Inputs are the extractor `Document`s and the risk register as a pandas DataFrame; the vocabularies (answer
statuses, categories, severities, review statuses) come from where they are defined.
"""
from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field

from extractors.mds2 import display_question
from extractors.model import FAMILY_LABELS, Document, Item
from extractors.text import organization_key
from extractors.vocabulary import ANSWER_STATUS_LABELS, NO, NOT_APPLICABLE, YES  # noqa: F401 (reports use them)
from pipeline.config import REVIEW_STATUSES
from rules.findings import CATEGORY_SHORT_LABELS, SEVERITIES

SEVERITY_ORDER = SEVERITIES
CATEGORY_LABELS = CATEGORY_SHORT_LABELS  # the short labels of rules.findings
STATUSES = tuple(REVIEW_STATUSES)
RESOLVED = "解消"
RESOLVED_ON = "解消日"  # register column (pipeline.config.RESOLVED_ON; not imported: this module stands alone)
CLOSED_STATUSES = (RESOLVED, "リスク受容")
NO_VENDOR = "（事業者名なし）"


def category_label(category: str) -> str:
    return CATEGORY_LABELS.get(category, category or "その他")


def _text(value: object) -> str:
    """A register cell as text: NaN/None/NaT → ""; dates ISO; lists joined."""
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value if _text(v))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        import pandas as pd

        if value is pd.NaT or (not isinstance(value, str) and pd.isna(value)):
            return ""
        if isinstance(value, pd.Timestamp):
            return value.date().isoformat()
    except (TypeError, ValueError):
        pass
    return str(value).strip()


def _list(value: object) -> list[str]:
    """item_ids / source_files: a list, or text separated by commas, semicolons, 、 or new lines."""
    if isinstance(value, (list, tuple)):
        return [s for s in (_text(v) for v in value) if s]
    if hasattr(value, "tolist") and not isinstance(value, str):
        return _list(value.tolist())
    return [s.strip() for s in re.split(r"[,;、\n]", _text(value)) if s.strip()]


@dataclass
class FindingRow:
    risk_id: str
    vendor: str
    product: str
    category: str
    rule_id: str
    severity: str
    item_ids: list[str]
    title: str
    finding: str
    evidence: str
    source_files: list[str]
    recommendation: str
    contract_clause: str
    status: str
    first_seen: str = ""
    last_seen: str = ""
    owner: str = ""  # 担当
    policy: str = ""  # 対応方針
    due: str = ""  # 期限
    note: str = ""  # メモ
    resolved_on: str = ""  # 解消日: the run in which the finding stopped firing

    @property
    def category_label(self) -> str:
        return category_label(self.category)

    @property
    def closed(self) -> bool:
        return self.status in CLOSED_STATUSES

    @property
    def severity_rank(self) -> int:
        return SEVERITY_ORDER.index(self.severity) if self.severity in SEVERITY_ORDER else len(SEVERITY_ORDER)

    @property
    def vendor_key(self) -> str:
        return organization_key(self.vendor)

    @property
    def product_key(self) -> str:
        return organization_key(self.product)


def findings_from_register(register_df) -> list[FindingRow]:
    """Register rows as FindingRow. The reviewer's 対応状況 column, when filled, wins over `status`,
    except for a finding the register has resolved (解消日 set): that one is 解消."""
    if register_df is None or len(register_df) == 0:
        return []
    rows = []
    for rec in register_df.to_dict(orient="records"):
        resolved_on = _text(rec.get(RESOLVED_ON))
        if resolved_on:  # the finding no longer fires: resolved, whatever the reviewer had typed before
            status = RESOLVED
        else:
            status = _text(rec.get("対応状況")) or _text(rec.get("status")) or "未対応"
        rows.append(FindingRow(
            risk_id=_text(rec.get("risk_id")), vendor=_text(rec.get("vendor")), product=_text(rec.get("product")),
            category=_text(rec.get("category")), rule_id=_text(rec.get("rule_id")),
            severity=_text(rec.get("severity")), item_ids=_list(rec.get("item_ids")),
            title=_text(rec.get("title")), finding=_text(rec.get("finding")), evidence=_text(rec.get("evidence")),
            source_files=_list(rec.get("source_files")), recommendation=_text(rec.get("recommendation")),
            contract_clause=_text(rec.get("contract_clause")), status=status,
            first_seen=_text(rec.get("first_seen")), last_seen=_text(rec.get("last_seen")),
            owner=_text(rec.get("担当")), policy=_text(rec.get("対応方針")), due=_text(rec.get("期限")),
            note=_text(rec.get("メモ")), resolved_on=resolved_on,
        ))
    return rows


def sort_findings(findings: list[FindingRow]) -> list[FindingRow]:
    cat_order = list(CATEGORY_LABELS)
    return sorted(findings, key=lambda f: (f.severity_rank, cat_order.index(f.category) if f.category in cat_order
                                           else len(cat_order), f.item_ids[:1], f.risk_id))


@dataclass
class Group:
    """One vendor + product: its documents and findings (vendor-wide ones are shared by its products)."""

    vendor_key: str
    product_key: str
    vendor: str
    product: str
    documents: list[Document] = field(default_factory=list)
    findings: list[FindingRow] = field(default_factory=list)
    # Documents of another vendor name or product that a finding of this group compares (the maker's MDS2 beside
    # a distributor's JAHIS MDS): quoted with the finding, not listed as the group's own documents.
    cited: list[Document] = field(default_factory=list)

    @property
    def evidence_documents(self) -> list[Document]:
        return self.documents + self.cited

    @property
    def open_findings(self) -> list[FindingRow]:
        return sort_findings([f for f in self.findings if not f.closed])

    @property
    def closed_findings(self) -> list[FindingRow]:
        return sort_findings([f for f in self.findings if f.closed])


def _display(names: list[str], fallback: str) -> str:
    names = [n for n in names if n]
    return Counter(names).most_common(1)[0][0] if names else fallback


def group_by_vendor_product(documents: list[Document], findings: list[FindingRow]) -> list[Group]:
    """Groups keyed by organization_key(vendor) and a normalised product name.

    A document or finding without a product (a checklist, a missing-document finding) belongs to
    every product of its vendor; a vendor with no product at all gets one group with an empty product.
    """
    vendor_names: dict[str, list[str]] = {}
    product_names: dict[tuple[str, str], list[str]] = {}
    for d in documents:
        vk = organization_key(d.vendor)
        vendor_names.setdefault(vk, []).append(d.vendor)
        if d.product:
            product_names.setdefault((vk, organization_key(d.product)), []).append(d.product)
    for f in findings:
        vendor_names.setdefault(f.vendor_key, []).append(f.vendor)
        if f.product:
            product_names.setdefault((f.vendor_key, f.product_key), []).append(f.product)

    groups: dict[tuple[str, str], Group] = {}
    for vk, names in vendor_names.items():
        pkeys = sorted(pk for (v, pk) in product_names if v == vk) or [""]
        for pk in pkeys:
            groups[(vk, pk)] = Group(vk, pk, _display(names, NO_VENDOR),
                                     _display(product_names.get((vk, pk), []), ""))

    def targets(vk: str, pk: str) -> list[Group]:
        if pk and (vk, pk) in groups:
            return [groups[(vk, pk)]]
        return [g for (v, _), g in groups.items() if v == vk]

    for d in documents:
        for g in targets(organization_key(d.vendor), organization_key(d.product) if d.product else ""):
            g.documents.append(d)
    for f in findings:
        for g in targets(f.vendor_key, f.product_key if f.product else ""):
            g.findings.append(f)
    for g in groups.values():
        g.documents.sort(key=lambda d: (d.family, d.created or dt.date.min, d.source_file))
        named = {s.rsplit("/", 1)[-1] for f in g.findings for s in f.source_files}
        own = {id(d) for d in g.documents}
        g.cited = [d for d in documents if id(d) not in own and d.source_file.rsplit("/", 1)[-1] in named]
    return sorted(groups.values(), key=lambda g: (g.vendor, g.product))


def family_label(family: str) -> str:
    return FAMILY_LABELS.get(family, family or FAMILY_LABELS["unknown"])


# --- evidence -------------------------------------------------------------------------------------

@dataclass
class ItemEvidence:
    source_file: str
    item_id: str
    question: str
    answer: str
    answer_raw: str
    remark: str
    location: str
    needs_review: bool
    review_reason: str


def item_evidence(finding: FindingRow, documents: list[Document]) -> list[ItemEvidence]:
    """The answers and remarks of the finding's items, quoted from the documents it names (or all)."""
    named = {s.rsplit("/", 1)[-1] for s in finding.source_files}
    docs = [d for d in documents if d.source_file.rsplit("/", 1)[-1] in named] or documents
    out = []
    for item_id in finding.item_ids:
        for d in docs:
            it = d.item(item_id)
            if it is None:
                continue
            out.append(ItemEvidence(
                source_file=d.source_file, item_id=it.item_id, question=display_question(d.family, it),
                answer=it.answer or ANSWER_STATUS_LABELS.get(it.answer_status, ""), answer_raw=it.answer_raw,
                remark=it.remark, location=str(it.location) if it.location else d.source_file,
                needs_review=it.needs_review, review_reason=it.review_reason))
    return out


# --- what changed since the previous document --------------------------------------------------------

ANSWER_RANK = {YES: 2, NOT_APPLICABLE: 1, NO: 0}  # better/worse only between two read answers


@dataclass
class ItemChange:
    item_id: str
    question: str
    before: str
    after: str
    before_remark: str = ""
    after_remark: str = ""


@dataclass
class DocumentChange:
    current: Document
    previous: Document
    better: list[ItemChange] = field(default_factory=list)
    worse: list[ItemChange] = field(default_factory=list)
    changed: list[ItemChange] = field(default_factory=list)  # neither better nor worse (該当→非該当 …)
    remark_changed: list[ItemChange] = field(default_factory=list)
    new: list[ItemChange] = field(default_factory=list)
    removed: list[ItemChange] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.better or self.worse or self.changed or self.remark_changed or self.new or self.removed)


def _answer_text(it: Item) -> str:
    return it.answer or ANSWER_STATUS_LABELS.get(it.answer_status, "未回答")


def compare_documents(current: Document, previous: Document) -> DocumentChange:
    change = DocumentChange(current, previous)
    before = {i.item_id: i for i in previous.items}
    after = {i.item_id: i for i in current.items}
    for item_id, new in after.items():
        old = before.get(item_id)
        if old is None:
            change.new.append(ItemChange(item_id, new.question, "", _answer_text(new), "", new.remark))
            continue
        c = ItemChange(item_id, new.question or old.question, _answer_text(old), _answer_text(new),
                       old.remark, new.remark)
        if (old.answer, old.answer_status) != (new.answer, new.answer_status):
            both_read = old.answer_status == new.answer_status == "answered"
            r_old = ANSWER_RANK.get(old.answer) if both_read else None
            r_new = ANSWER_RANK.get(new.answer) if both_read else None
            if r_old is not None and r_new is not None and r_new > r_old:
                change.better.append(c)
            elif r_old is not None and r_new is not None and r_new < r_old:
                change.worse.append(c)
            else:
                change.changed.append(c)
        elif (old.remark or "").strip() != (new.remark or "").strip():
            change.remark_changed.append(c)
    for item_id, old in before.items():
        if item_id not in after:
            change.removed.append(ItemChange(item_id, old.question, _answer_text(old), "", old.remark, ""))
    return change


def previous_for(current: Document, previous: dict | list | None) -> Document | None:
    """The newest earlier document of the same vendor, product and family (not the same file content)."""
    if not previous:
        return None
    candidates = previous.values() if isinstance(previous, dict) else previous
    key = (organization_key(current.vendor), organization_key(current.product), current.family)
    found = []
    for d in candidates:
        if d is None or d.sha256 == current.sha256:
            continue
        if (organization_key(d.vendor), organization_key(d.product), d.family) != key:
            continue
        if current.created and d.created and d.created > current.created:
            continue
        found.append(d)
    return max(found, key=lambda d: (d.created or dt.date.min, d.source_file), default=None)


def changes_for(documents: list[Document], previous) -> list[DocumentChange]:
    out = []
    for d in documents:
        prev = previous_for(d, previous)
        if prev is not None:
            out.append(compare_documents(d, prev))
    return out
