"""Which vendor documents cover a ledger device, and why: matching that a person can review.

Documents are indexed once by vendor key (`rules.grouping.vendor_key`, the key of the register's risk ids), so a
ledger of n devices against m documents costs n + m lookups, not n × m comparisons. For every device:

- MDS / SDS of the device's maker (製造業者): the product name (or 型番) must match the document's product
  (same key, or one key inside the other when both are at least 3 characters) → certain; a document of the same
  maker whose product is blank → uncertain (review), a different product → not a match;
- 事業者確認用 checklist of the maker → covers all its products (certain); of the maintenance vendor (保守事業者)
  → the maintenance vendor's checklist;
- a maker name whose key holds, or is held in, a document vendor's key (both ≥ 3 characters) → uncertain match;
- a ledger with no maker written (the device's vendor taken from its 保守事業者) → every maker match uncertain.

Each match carries its Japanese reason; `uncertain` matches are review items, never proof of coverage.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from extractors.model import Device, Document
from rules.os_eol import OsSupport
from extractors.text import organization_key
from rules.grouping import CHECKLIST_FAMILIES, DISCLOSURE_FAMILIES, MIN_PARTIAL_PRODUCT_KEY, vendor_key

FAMILY_WORDS = {"mds": "MDS", "sds": "SDS", "checklist_vendor": "事業者確認用", "checklist_facility": "医療機関確認用"}
MIN_PARTIAL_VENDOR_KEY = 3


@dataclass
class Match:
    document: Document
    role: str  # "maker" | "maintenance"
    reason: str  # Japanese
    uncertain: bool = False

    def label(self) -> str:
        doubt = "・要確認" if self.uncertain else ""
        return (f"{FAMILY_WORDS.get(self.document.family, self.document.family)} "
                f"{Path(self.document.source_file).name}（{self.reason}{doubt}）")


@dataclass
class DeviceMatches:
    matches: list[Match] = field(default_factory=list)

    def certain(self, families, role: str = "maker") -> list[Match]:
        return [m for m in self.matches if m.role == role and not m.uncertain and m.document.family in families]

    def uncertain(self) -> list[Match]:
        return [m for m in self.matches if m.uncertain]


def _product_keys(device: Device) -> list[str]:
    return [k for k in (organization_key(device.product), organization_key(device.model)) if k]


def _product_match(device: Device, doc: Document) -> str:
    """Why the document's product is the device's ("" = it is not)."""
    doc_key = organization_key(doc.product)
    for key in _product_keys(device):
        if key == doc_key:
            return f"製品名「{doc.product}」が一致"
        if min(len(key), len(doc_key)) >= MIN_PARTIAL_PRODUCT_KEY and (key in doc_key or doc_key in key):
            return f"製品名「{doc.product}」が台帳の記載を含む（部分一致）"
    return ""


class DocumentIndex:
    """Vendor documents by vendor key, built once per run."""

    def __init__(self, documents: list[Document], aliases: dict[str, str] | None = None):
        # mdsgap.yaml vendor_aliases: a name the ledger writes -> the vendor name the forms print
        self.aliases = {vendor_key(k): v for k, v in (aliases or {}).items() if vendor_key(k) and vendor_key(v)}
        self.by_vendor: dict[str, list[Document]] = {}
        for doc in documents:
            if doc.family in DISCLOSURE_FAMILIES or doc.family in CHECKLIST_FAMILIES:
                key = vendor_key(doc.vendor)
                if key:
                    self.by_vendor.setdefault(key, []).append(doc)
        # Keys by their first 3 characters, for partial vendor matches without a scan of every key.
        self.by_prefix: dict[str, list[str]] = {}
        for key in self.by_vendor:
            for i in range(len(key) - MIN_PARTIAL_VENDOR_KEY + 1):
                self.by_prefix.setdefault(key[i:i + MIN_PARTIAL_VENDOR_KEY], []).append(key)

    def vendor_candidates(self, name: str) -> list[tuple[list[Document], str, bool]]:
        """(documents, why, uncertain) for a vendor name written in the ledger."""
        key = vendor_key(name)
        if not key:
            return []
        if key in self.by_vendor:
            return [(self.by_vendor[key], f"事業者名「{name}」が一致", False)]
        alias = self.aliases.get(key)
        if alias is not None and vendor_key(alias) in self.by_vendor:
            return [(self.by_vendor[vendor_key(alias)], f"事業者名「{name}」を別名表（mdsgap.yaml）で「{alias}」として照合",
                     False)]
        if len(key) < MIN_PARTIAL_VENDOR_KEY:
            return []
        found = []
        for other in dict.fromkeys(self.by_prefix.get(key[:MIN_PARTIAL_VENDOR_KEY], [])
                                   + [k for k in self.by_prefix.get(key[-MIN_PARTIAL_VENDOR_KEY:], [])]):
            if key in other or other in key:
                docs = self.by_vendor[other]
                found.append((docs, f"事業者名「{name}」と「{docs[0].vendor}」が部分一致", True))
        return found

    def match(self, device: Device) -> DeviceMatches:
        result = DeviceMatches()
        from_maintenance = device.vendor_is_maintainer
        for docs, why, vendor_doubt in self.vendor_candidates(device.vendor):
            if from_maintenance:  # no maker written: the maintenance vendor may or may not be the maker
                why, vendor_doubt = f"製造業者の記載がなく保守事業者名で照合: {why}", True
            for doc in docs:
                if doc.family in CHECKLIST_FAMILIES:
                    if from_maintenance:
                        continue  # the maintenance vendor's checklist is matched below, in its own role
                    if doc.family == "checklist_vendor":
                        result.matches.append(Match(doc, "maker", f"{why}（チェックリストは事業者の全製品が対象）",
                                                    vendor_doubt))
                    continue
                if not doc.product.strip():
                    result.matches.append(Match(doc, "maker", f"{why}、開示書の製品名が空欄", True))
                    continue
                if product_why := _product_match(device, doc):
                    result.matches.append(Match(doc, "maker", f"{why}、{product_why}", vendor_doubt))
                elif not _product_keys(device):
                    result.matches.append(Match(doc, "maker", f"{why}、台帳に製品名・型番がない", True))
        if device.maintenance_vendor:
            for docs, why, vendor_doubt in self.vendor_candidates(device.maintenance_vendor):
                for doc in docs:
                    if doc.family == "checklist_vendor" or doc.family == "sds":
                        result.matches.append(Match(doc, "maintenance", f"保守事業者: {why}", vendor_doubt))
        return result


@dataclass
class DeviceAssessment:
    """One ledger device with its OS support and the vendor documents that cover it."""

    ledger: Document
    device: Device
    support: OsSupport
    matches: DeviceMatches
    network: bool | None
    remote: bool | None


def assess_devices(ledgers: list[Document], documents: list[Document], as_of, os_eol=None,
                   vendor_aliases: dict[str, str] | None = None) -> list[DeviceAssessment]:
    """Every device of every current ledger, assessed once (linear in devices + documents)."""
    from extractors.vocabulary import presence
    from rules.os_eol import eol_table, os_support

    table = eol_table(os_eol)
    index = DocumentIndex(documents, vendor_aliases)
    return [DeviceAssessment(ledger, device, os_support(device.os_raw, as_of, table), index.match(device),
                             presence(device.network), presence(device.remote_maintenance))
            for ledger in ledgers for device in ledger.devices]
