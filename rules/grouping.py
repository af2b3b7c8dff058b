"""Group a run's documents by vendor (and product) for cross-document rules.

Vendor names differ between files (株式会社 before/after, full/half width, spaces), so documents
are grouped on `extractors.text.organization_key`. A document with a blank 事業者名 is placed by
finding a known vendor's key in its file name or comment, or a company name written there; such a
group is marked needs_review. MDS/SDS are grouped by (vendor, product); a checklist is per vendor
(and product when it names one).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from extractors.model import NOT_APPLICABLE_GATE, Document
from extractors.text import join_broken_name, normalize_text, organization_key

DISCLOSURE_FAMILIES = ("mds", "sds")
CHECKLIST_FAMILIES = ("checklist_vendor", "checklist_facility")
FACILITY_KEY = "#facility"  # the hospital's own 医療機関確認用 checklists form one group
FACILITY_LABEL = "自院（医療機関確認用チェックリスト）"

def vendor_key(name: str) -> str:
    """The vendor-grouping key (the same key `Finding.risk_id` uses)."""
    return organization_key(name)


_COMPANY = re.compile(
    r"(株式会社\s*[^\s_\-.,、。()（）]{1,30}|[^\s_\-.,、。()（）]{1,30}?\s*株式会社|[^\s_\-.,、。()（）]{1,30}?\s*\(株\)"
    r"|\(株\)\s*[^\s_\-.,、。()（）]{1,30})")


@dataclass
class VendorGroup:
    key: str  # organization key ("" when unknown)
    vendor: str  # display name
    documents: list[Document] = field(default_factory=list)
    needs_review: bool = False
    recovered: dict[str, str] = field(default_factory=dict)  # document_id -> how the vendor was found

    def disclosures(self) -> list[Document]:
        return [d for d in self.documents if d.family in DISCLOSURE_FAMILIES]

    def checklists(self, family: str = "checklist_vendor") -> list[Document]:
        return [d for d in self.documents if d.family == family]

    def doc_needs_review(self, doc: Document) -> bool:
        return doc.vendor_needs_review or doc.document_id in self.recovered


def product_key(doc: Document) -> str:
    return organization_key(doc.product)


def facility_name(doc: Document) -> str:
    for field_name in ("医療機関名", "施設名", "病院名", "facility"):
        if doc.header_fields.get(field_name, "").strip():
            return normalize_text(doc.header_fields[field_name])
    return FACILITY_LABEL


def _product_names(doc: Document) -> set[str]:
    """Keys of the product name with and without its bracketed part: 「RISNAME（放射線情報システム）」 gives
    the whole, 「RISNAME」 and 「放射線情報システム」 (vendors write the category before or in brackets)."""
    text = normalize_text(doc.product)
    parts = [text, re.sub(r"[(（\[【][^)）\]】]*[)）\]】]", " ", text)] + re.findall(r"[(（\[【]([^)）\]】]+)[)）\]】]", text)
    return {k for k in map(organization_key, parts) if len(k) >= 3}


MIN_PARTIAL_PRODUCT_KEY = 3  # a shorter product key matches only whole (「RI」 is not a part of every name)


def same_product(a: Document, b: Document) -> bool:
    """A checklist without a product covers all the vendor's products. Between two disclosures (MDS↔SDS) a blank
    product name matches nothing, and a short one only itself: a name that could not be read is a review item
    (the check flags it), never a wildcard that hides a missing SDS."""
    ka, kb = product_key(a), product_key(b)
    if a.family in DISCLOSURE_FAMILIES and b.family in DISCLOSURE_FAMILIES:
        if not ka or not kb:
            return False
        if ka != kb and min(len(ka), len(kb)) < MIN_PARTIAL_PRODUCT_KEY:
            return False
    if not ka or not kb or ka == kb or ka in kb or kb in ka:
        return True
    return any(x in y or y in x for x in _product_names(a) for y in _product_names(b))


def _recover_vendor(doc: Document, known: dict[str, str]) -> tuple[str, str, str]:
    """(key, display name, how) for a document without 事業者名."""
    sources = [("ファイル名", normalize_text(Path(doc.source_file).stem)), ("コメント", normalize_text(doc.comment))]
    for field_name in ("事業者名", "製造業者", "サービス事業者", "会社名"):
        if doc.header_fields.get(field_name):
            sources.insert(0, (field_name, normalize_text(doc.header_fields[field_name])))
    # A known vendor's key inside the file name or comment (longest key first: most specific).
    for how, text in sources:
        text_key = vendor_key(text)
        for key in sorted(known, key=len, reverse=True):
            if key and len(key) >= 2 and key in text_key:
                return key, known[key], f"{how}から推定"
    for how, text in sources:
        m = _COMPANY.search(text)
        if m:
            name = m.group(1).strip()
            if vendor_key(name):
                return vendor_key(name), name, f"{how}から推定"
    return "", "", ""


def group_documents(documents: list[Document]) -> list[VendorGroup]:
    """Vendor groups in a deterministic order (by key, then file)."""
    docs = sorted(documents, key=lambda d: (d.source_file, d.document_id))
    known: dict[str, str] = {}
    # Display name: the name an MDS/SDS prints (the formal one) before a checklist's; then file order.
    for d in sorted(docs, key=lambda d: (d.family not in DISCLOSURE_FAMILIES, d.source_file, d.document_id)):
        k = vendor_key(d.vendor)
        if k and k not in known and d.family != "checklist_facility":
            known[k] = join_broken_name(normalize_text(d.vendor))  # one display name for 「株\n式会社」 too
    groups: dict[str, VendorGroup] = {}
    for d in docs:
        if d.family == "checklist_facility":
            # The hospital's own checklist: no vendor to recover, compared with every vendor's documents.
            g = groups.setdefault(FACILITY_KEY, VendorGroup(key=FACILITY_KEY, vendor=facility_name(d)))
            g.documents.append(d)
            continue
        key = vendor_key(d.vendor)
        how = ""
        if key:
            name = known[key]
        else:
            key, name, how = _recover_vendor(d, known)
            if not key:
                key = f"?{Path(d.source_file).name}"
                name = f"（事業者名不明: {Path(d.source_file).name}）"
                how = "事業者名が空欄で推定できません"
        g = groups.setdefault(key, VendorGroup(key=key, vendor=name))
        g.documents.append(d)
        if how:
            g.recovered[d.document_id] = how
            g.needs_review = True
        if d.vendor_needs_review:
            g.needs_review = True
    return [groups[k] for k in sorted(groups)]


def is_service_sds(sds: Document, service_words, concept: str = "remote_maintenance") -> bool:
    """An SDS for one of the vendor's services of a kind (its service name says 「リモート保守サービス」):
    it covers the vendor's products, whatever they are called. The SDS's own row for that service
    (12.4 リモートメンテナンス) must not say 非該当."""
    if sds.family != "sds":
        return False
    # The service's name (製品名称 / サービス名称), never the company's: 「…保守サービス株式会社」 says nothing of the SDS.
    names = [sds.product] + [v for k, v in sds.header_fields.items() if "名称" in k or "製品" in k]
    text = organization_key(" ".join(n for n in names if n))
    if not any(organization_key(w) and organization_key(w) in text for w in service_words):
        return False
    own = [i for i in sds.items if i.concept == concept and i.answer_status == "answered"]
    return not own or any(i.answer != NOT_APPLICABLE_GATE for i in own)
