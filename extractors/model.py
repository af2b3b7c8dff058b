"""The data model: what one vendor file says, item by item, with provenance and confidence."""
from __future__ import annotations

import copy
import datetime as dt
import functools
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Literal

# The answer words are defined once, in extractors.vocabulary; re-exported here for older imports.
from extractors.vocabulary import (  # noqa: F401
    ANSWERS, APPLICABLE, NO, NOT_APPLICABLE, NOT_APPLICABLE_GATE, YES, AnswerStatus)

Family = Literal["mds", "sds", "mds2", "checklist_vendor", "checklist_facility", "device_ledger", "vuln_feed", "sbom",
                 "unknown"]

FAMILY_LABELS = {
    "mds": "MDS（製造業者による医療情報セキュリティ開示書）",
    "sds": "SDS（サービス事業者による医療情報セキュリティ開示書）",
    "mds2": "MDS2（医療機器セキュリティ開示書、米国NEMA様式）",
    "checklist_vendor": "サイバーセキュリティ対策チェックリスト（事業者確認用）",
    "checklist_facility": "サイバーセキュリティ対策チェックリスト（医療機関確認用）",
    "device_ledger": "機器台帳",
    "vuln_feed": "脆弱性情報（NVD / JVN iPedia）",
    "sbom": "SBOM（ソフトウェア部品表）",
    "unknown": "不明な様式",
}


_ATOMS = frozenset({str, int, float, bool, type(None)})


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def plain(value):
    """`dataclasses.asdict(value)`: the same dicts, lists and tuples, without asdict's `copy.deepcopy` of every
    string and number (immutable: asdict's copy of one is the object itself). For the store: 0.15 ms against
    0.78 ms a document (49 sample documents)."""
    kind = type(value)
    if kind in _ATOMS:
        return value
    if is_dataclass(value) and not isinstance(value, type):
        return {name: plain(getattr(value, name)) for name in _field_names(kind)}
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a named tuple, as asdict rebuilds it
        return kind(*[plain(v) for v in value])
    if isinstance(value, (list, tuple)):
        return kind(plain(v) for v in value)
    if isinstance(value, dict):
        return kind((plain(k), plain(v)) for k, v in value.items())
    return copy.deepcopy(value)


@dataclass
class Location:
    """Where an answer was found: file, sheet or page, cell, row."""

    file: str
    sheet: str | None = None  # sheet name or Word table name
    page: int | None = None  # 1-based PDF page
    cell: str | None = None  # "C12", "行5 列3"
    row: int | None = None  # 1-based row in the table/sheet

    def __str__(self) -> str:
        parts = [self.file]
        if self.page is not None:
            parts.append(f"p.{self.page}")
        if self.sheet:
            parts.append(self.sheet)
        if self.cell:
            parts.append(self.cell)
        elif self.row is not None:
            parts.append(f"行{self.row}")
        return " / ".join(parts)


@dataclass
class Item:
    item_id: str  # "12.3.1", "4.1/記憶", "2(6)@サーバ"
    number_printed: str = ""  # as printed, e.g. "1 2. 3. 1"
    question: str = ""
    guideline_ref: str = ""  # e.g. "6.5.C7"
    answer: str = ""  # one of vocabulary.ANSWERS or ""
    answer_status: AnswerStatus = "unanswered"
    answer_raw: str = ""  # the answer cell(s) as read, for the reviewer
    answer_column: str = ""  # header of the option column whose mark gave the answer (「いいえ／非該当」)
    remark: str = ""  # footnotes resolved
    remark_ref: str = ""  # footnote number when the 備考 cell only pointed to a note
    remark_ref_empty: bool = False  # the footnote it points to is empty or missing
    # Checklist columns: 1回目 answer is `answer`; dates are ISO strings.
    first_date: str = ""
    target_date: str = ""
    second_answer: str = ""
    second_date: str = ""
    confidence: float = 1.0
    needs_review: bool = False
    review_reason: str = ""  # Japanese: why a person should look
    location: Location | None = None
    # Catalogue link
    catalogue_id: str = ""  # "" when the catalogue lacks the item (kept, marked unknown)
    concept: str = ""  # e.g. "two_factor_auth"
    known: bool = True
    section: str = ""  # section heading the row sits under
    scope: str = ""  # checklist device heading (サーバ / 端末PC / ネットワーク機器)
    parent_id: str = ""  # for bullet rows
    kind: str = "item"  # item | group (a heading row such as 4.1 whose answers are on its bullet rows) | bullet
    tier: str = ""  # "reference" for a checklist 参考項目


def join_reasons(a: str, b: str) -> str:
    """Two Japanese review reasons as one (each kept once)."""
    if not b or b in a.split("；"):
        return a
    return f"{a}；{b}" if a else b


def flag(item: Item, reason: str, confidence: float | None = None) -> Item:
    """The one way to doubt an item: record the Japanese reason AND set needs_review (and cap confidence).

    Writing `review_reason` without `needs_review` is how wrong answers went out unflagged; every
    reader of an item's doubt goes through here, and `enforce_review` checks the rule at the end.
    """
    item.needs_review = True
    if reason:
        item.review_reason = join_reasons(item.review_reason, reason)
    elif not item.review_reason:
        item.review_reason = "読み取り結果を確認してください"
    if confidence is not None:
        item.confidence = min(item.confidence, confidence)
    return item


def enforce_review(items: list[Item]) -> None:
    """The invariant: an item with a review reason needs review; a flagged item says why."""
    for item in items:
        if item.review_reason and not item.needs_review:
            item.needs_review = True
        if item.needs_review and not item.review_reason:
            item.review_reason = "読み取り結果を確認してください"
        if item.needs_review and item.confidence >= 1.0:
            item.confidence = 0.9


VENDOR_FROM_MAINTENANCE = "maintenance_vendor"  # Device.vendor_from: no maker column, the 保守事業者 stands in


@dataclass
class Device:
    """One row of a hospital's device ledger (機器台帳), as written there, with where it was read."""

    row: int  # 1-based row in the sheet / CSV
    device_name: str = ""
    department: str = ""  # 設置場所 / 部署
    vendor: str = ""  # 製造業者 / メーカー
    product: str = ""  # 製品名
    model: str = ""  # 型番
    os_raw: str = ""  # the OS cell as written (「Win10 Pro 22H2」)
    network: str = ""  # ネットワーク接続 cell as written
    remote_maintenance: str = ""  # リモート保守 cell as written
    maintenance_vendor: str = ""  # 保守事業者
    vendor_from: str = ""  # "" = the maker column; "maintenance_vendor" = no maker written, vendor is the 保守事業者
    extra: dict[str, str] = field(default_factory=dict)  # other columns: header -> text
    location: Location | None = None
    needs_review: bool = False
    review_reason: str = ""  # Japanese

    @property
    def vendor_is_maintainer(self) -> bool:
        """The vendor is the 保守事業者 written for want of a maker: matching it to a maker is uncertain."""
        return self.vendor_from == VENDOR_FROM_MAINTENANCE


# --- vulnerability feeds and SBOMs (issue 15): records read from NVD / JVN feeds and vendors' SBOMs ----------
# A feed file becomes a Document of family `vuln_feed` whose `vulnerabilities` are VulnEntry rows; an SBOM
# (CycloneDX, SPDX) a Document of family `sbom` whose `components` are Component rows (extractors/feeds/).
@dataclass
class CpeMatch:
    """One affected-product statement: a CPE 2.3 name and the version range it applies to."""

    criteria: str  # "cpe:2.3:a:vendor:product:version:..." ("" for a JVN product named without CPE)
    vulnerable: bool = True
    version_start_including: str = ""
    version_start_excluding: str = ""
    version_end_including: str = ""
    version_end_excluding: str = ""
    vendor_name: str = ""  # JVN: the vendor as printed (when there is no CPE)
    product_name: str = ""  # JVN: the product as printed
    versions: list[str] = field(default_factory=list)  # JVN VersionNumber texts (free text, e.g. 「3.1 およびそれ以前」)


@dataclass
class VulnEntry:
    vuln_id: str  # CVE-YYYY-NNNN or JVNDB-YYYY-NNNNNN
    source: str  # "nvd" | "jvn"
    description: str = ""  # Japanese when the feed has it, else English
    cvss: float | None = None  # the preferred base score (v3.1, else v3.0, else v4.0)
    cvss_version: str = ""  # "4.0" | "3.1" | "3.0"
    severity: str = ""  # as the feed writes it (CRITICAL, HIGH, 緊急 …)
    related_ids: list[str] = field(default_factory=list)  # JVN: the CVE ids it refers to
    published: str = ""
    matches: list[CpeMatch] = field(default_factory=list)
    location: Location | None = None

    def label(self) -> str:
        extra = [i for i in self.related_ids if i != self.vuln_id]
        return self.vuln_id + (f"（{'、'.join(extra)}）" if extra else "")


@dataclass
class Component:
    """One SBOM component (CycloneDX `components[]`, SPDX `packages[]`)."""

    name: str
    version: str = ""
    purl: str = ""
    cpe: str = ""
    supplier: str = ""
    location: Location | None = None


def entries_from_dicts(rows: list[dict]) -> list[VulnEntry]:
    out = []
    for row in rows or []:
        row = dict(row)
        row["matches"] = [CpeMatch(**m) for m in row.get("matches") or []]
        row["location"] = Location(**row["location"]) if row.get("location") else None
        out.append(VulnEntry(**row))
    return out


def components_from_dicts(rows: list[dict]) -> list[Component]:
    out = []
    for row in rows or []:
        row = dict(row)
        row["location"] = Location(**row["location"]) if row.get("location") else None
        out.append(Component(**row))
    return out


@dataclass
class Document:
    source_file: str
    sha256: str
    family: Family = "unknown"
    form_id: str = ""  # catalogue form id, e.g. "jahis-mds-4.1"
    form_version: str = ""  # "GL5.2", "GL6.0", "令和7年度"
    vendor: str = ""
    product: str = ""
    product_version: str = ""
    created: dt.date | None = None  # 作成日 / 確認日
    header_fields: dict[str, str] = field(default_factory=dict)
    comment: str = ""  # checklist コメント box
    warnings: list[str] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    # Catalogue items of the detected form that the file does not contain.
    missing_items: list[str] = field(default_factory=list)
    # Footnotes found in the 備考記載欄 (number -> text), kept for evidence.
    footnotes: dict[str, str] = field(default_factory=dict)
    format: str = ""  # xlsx | docx | pdf
    converted_from: str = ""  # "xls" / "doc" when LibreOffice converted it
    vendor_needs_review: bool = False  # vendor name was recovered, not read from the form
    guideline_version: str = ""  # 安全管理ガイドライン version the form prints: "5.2", "6.0", "7.0"; "" = not printed
    devices: list[Device] = field(default_factory=list)  # rows of a device ledger (family device_ledger)
    vulnerabilities: list[VulnEntry] = field(default_factory=list)  # rows of a vulnerability feed (vuln_feed)
    components: list[Component] = field(default_factory=list)  # rows of an SBOM (family sbom)

    @property
    def document_id(self) -> str:
        return self.sha256[:16]

    def item(self, item_id: str) -> Item | None:
        return next((i for i in self.items if i.item_id == item_id), None)

    def to_dict(self) -> dict:
        d = plain(self)
        d["created"] = self.created.isoformat() if self.created else ""
        d["document_id"] = self.document_id
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Document":
        d = dict(d)
        d.pop("document_id", None)
        created = d.get("created")
        d["created"] = dt.date.fromisoformat(created) if created else None
        items = []
        for it in d.get("items", []):
            it = dict(it)
            loc = it.get("location")
            it["location"] = Location(**loc) if loc else None
            items.append(Item(**it))
        d["items"] = items
        devices = []
        for dev in d.get("devices") or []:
            dev = dict(dev)
            loc = dev.get("location")
            dev["location"] = Location(**loc) if loc else None
            devices.append(Device(**dev))
        d["devices"] = devices
        d["vulnerabilities"] = entries_from_dicts(d.get("vulnerabilities") or [])
        d["components"] = components_from_dicts(d.get("components") or [])
        return cls(**d)


class ExtractionError(Exception):
    """A file that cannot be turned into a Document. `message` is Japanese, for the reviewer."""

    def __init__(self, message: str, kind: str = "error"):
        super().__init__(message)
        self.message = message
        self.kind = kind  # corrupt | empty | encrypted | not_a_form | unsupported | too_large | legacy
