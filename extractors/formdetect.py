"""Which form a file is (family, catalogue form, version) and its header fields (事業者名, 作成日, …)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from extractors.forms import Form, forms_of_family, get_form
from extractors.grid import Grid
from extractors.text import normalize_text, wareki_fiscal_year

_SDS_PHRASE = "サービス事業者による医療情報セキュリティ開示書"
_MDS_PHRASE = "製造業者による医療情報セキュリティ開示書"
_SDS_TITLE = re.compile(r"(?<![/／・])" + _SDS_PHRASE + r"|(?<![/／])\bSDS\b")
_MDS_TITLE = re.compile(r"(?<![/／・])" + _MDS_PHRASE + r"|(?<![/／])\bMDS\b")
# A retyped title with a slip (one or two characters: 「…開事書」, 「…セキユリティ…」) still names its form: the
# closest form phrase at this similarity or above wins.
_TITLE_FUZZ = 90.0
_CHECKLIST = re.compile(r"サイバーセキュリティ対策\s*チェックリスト|チェックリスト")
# 令和8年度 (June 2026): one title for hospitals and pharmacies, 「医療機関・薬局における…チェックリスト」.
_R8_TITLE = re.compile(r"医療機関\s*[・･、]\s*薬局\s*における\s*サイバーセキュリティ対策\s*チェックリスト")
R8_FISCAL_YEAR = 2026


@dataclass
class FormGuess:
    family: str
    form: Form | None
    form_version: str


def _title_text(grid: Grid, limit_rows: int = 12) -> str:
    """Text near the top of each table (titles), the table names, loose text and the file name."""
    parts = [grid.source]
    parts += grid.loose_text
    for table in grid.tables:
        parts.append(table.name)
        for row in table.rows[:limit_rows]:
            parts += [c.text for c in row if c.text and len(c.text) <= 120]
    return normalize_text("\n".join(parts))


def _all_text(grid: Grid) -> str:
    parts = list(grid.loose_text)
    for table in grid.tables:
        for row in table.rows:
            parts += [c.text for c in row if c.text]
    return normalize_text("\n".join(parts))


def _fuzzy_title_family(title: str) -> str | None:
    """"mds" / "sds" when a line of the title text is within a typo or two of a form title phrase.

    Like the exact patterns, a phrase that follows 「/」「・」 (a combined MDS/SDS heading) does not count.
    """
    best: tuple[float, str] | None = None
    for line in title.splitlines():
        if not any(w in line for w in ("医療情報", "セキュリ", "開示", "業者による")):
            continue  # a title with a slip still keeps one of these; skip the rest cheaply
        for family, phrase in (("sds", _SDS_PHRASE), ("mds", _MDS_PHRASE)):
            if len(line) < len(phrase) - 2:
                continue
            hit = fuzz.partial_ratio_alignment(phrase, line)
            if hit is None or hit.score < _TITLE_FUZZ:
                continue
            if hit.dest_start > 0 and line[hit.dest_start - 1] in "/／・":
                continue
            if best is None or hit.score > best[0]:
                best = (hit.score, family)
    return best[1] if best else None


def detect_form(grid: Grid, numbering_hint: str = "") -> FormGuess:
    """`numbering_hint` is "checklist" or "dotted" from the item numbers found, used when no title says."""
    title = _title_text(grid)
    full = _all_text(grid)
    family = "unknown"
    if _CHECKLIST.search(title) and ("事業者確認用" in title or "事業者用" in title):
        family = "checklist_vendor"
    elif _CHECKLIST.search(title) and ("医療機関確認用" in title or "医療機関等確認用" in title
                                       or "薬局確認用" in title):
        family = "checklist_facility"
    elif _SDS_TITLE.search(title):
        family = "sds"
    elif _MDS_TITLE.search(title):
        family = "mds"
    elif fuzzy := _fuzzy_title_family(title):
        family = fuzzy
    elif "開示書" in title and "サービス" in title:
        family = "sds"
    elif "開示書" in title:
        family = "mds"
    elif numbering_hint == "checklist" and "チェックリスト" in full:
        family = "checklist_vendor" if "事業者" in full else "checklist_facility"
    elif numbering_hint == "checklist":
        family = "checklist_vendor"
    elif numbering_hint == "dotted":
        name = normalize_text(grid.source).upper()
        family = "sds" if "SDS" in name else "mds"

    if family in ("mds", "sds"):
        # A sheet for GL 第6.0版 or later (第7.0版) uses the Ver.5.x catalogue, matched by question text.
        gl6 = re.search(r"(第?\s*[67]\.0\s*版|Ver\.?\s*5(?:\.\d)?\b|GL\s*[67]\.0)", title, re.I)
        suffix = "5.0" if gl6 else "4.1"
        form = get_form(f"jahis-{family}-{suffix}")
        version = form.form_version if form else ""
        return FormGuess(family, form, version)
    if family in ("checklist_vendor", "checklist_facility"):
        year = wareki_fiscal_year(title) or wareki_fiscal_year(full[:4000])
        if _R8_TITLE.search(title) and (year is None or year < R8_FISCAL_YEAR):
            year = R8_FISCAL_YEAR  # the joint hospital/pharmacy title exists from 令和8年度 on
        candidates = forms_of_family(family) or forms_of_family("checklist_vendor")
        form = None
        if year:
            form = next((f for f in candidates if f.fiscal_year == year), None)
        if form is None and candidates:
            # The newest form not newer than the printed year, else the oldest.
            dated = sorted((f for f in candidates if f.fiscal_year), key=lambda f: f.fiscal_year)
            older = [f for f in dated if year and f.fiscal_year <= year]
            form = older[-1] if older else dated[0]
        version = f"令和{year - 2018}年度" if year else (form.form_version if form else "")
        return FormGuess(family, form, version)
    return FormGuess("unknown", None, "")


# label (squashed) -> field
HEADER_LABELS: dict[str, str] = {
    "製造業者": "vendor", "製造業者名": "vendor", "事業者名": "vendor", "事業者": "vendor", "サービス事業者": "vendor",
    "サービス事業者名": "vendor", "会社名": "vendor", "提出元": "vendor", "提出者": "vendor", "ベンダー名": "vendor", "提供事業者": "vendor", "記入事業者": "vendor",
    "製品名称": "product", "製品名": "product", "サービス名称": "product", "サービス名": "product", "システム名": "product",
    "システム名称": "product", "対象システム": "product", "対象製品": "product", "医療情報システム名": "product",
    "バージョン": "product_version", "製品バージョン": "product_version", "版数": "product_version", "Ver": "product_version",
    "作成日": "created", "作成年月日": "created", "記入日": "created", "確認日": "created", "回答日": "created",
    "提出日": "created", "記入年月日": "created",
    "担当者": "contact", "記入者": "contact", "部署": "department",
    "医療機関名": "facility", "医療機関名称": "facility", "施設名": "facility", "病院名": "facility",
}


def squash_label(text: str) -> str:
    t = normalize_text(text)
    t = re.sub(r"[\s　:：]", "", t)
    if len(t) >= 2 and t[0] in "【[(（" and t[-1] in "】])）":
        t = t[1:-1]
    return t


_LABEL_KEYWORDS: list[tuple[str, re.Pattern]] = [
    ("created", re.compile(r"(作成|記入|確認|回答|提出)(年月)?日(付)?$")),
    ("product_version", re.compile(r"(バージョン|版数|Version|Ver\.?)$", re.I)),
    ("product", re.compile(r"^(対象)?(製品|サービス|システム)(・サービス|/サービス|／サービス)?(の)?名(称)?")),
    ("vendor", re.compile(r"(製造業者|製造販売業者|サービス事業者|事業者|会社|ベンダー?)(の)?(名称|名)?$")),
]


def label_field(text: str) -> str | None:
    """The header field a label cell names: exact labels first, then short labels by keyword."""
    squashed = squash_label(text)
    if squashed in HEADER_LABELS:
        return HEADER_LABELS[squashed]
    if not squashed or re.search(r"[？?。]", squashed) or re.search(r"[:：].", normalize_text(text).strip()):
        return None
    bare = re.sub(r"[（(].*?[）)]", "", squashed)
    if len(bare) > 8:
        return None
    for name, pattern in _LABEL_KEYWORDS:
        if pattern.search(bare):
            return name
    return None


_LABEL_ALT = "|".join(sorted(map(re.escape, HEADER_LABELS), key=len, reverse=True))
_INLINE_LABEL = re.compile(r"^\s*[【\[]?\s*(" + _LABEL_ALT + r")\s*[】\]]?\s*[:：]\s*(.*)$")
_SPACED_LABEL = re.compile(r"^\s*[【\[]?(" + _LABEL_ALT + r")[】\]]?\s+(\S.{0,60})$")
_LABEL_ANYWHERE = re.compile(r"(?:^|(?<=[\s　/|｜]))[【\[]?(" + _LABEL_ALT + r")[】\]]?\s*[:：]")


def inline_label(text: str) -> tuple[str, str] | None:
    """「事業者名：株式会社ABC」 → ("vendor", "株式会社ABC")."""
    found = inline_labels(text)
    return found[0] if found else None


def inline_labels(text: str) -> list[tuple[str, str]]:
    """Every 「label：value」 in a line: 「製造業者:A社 作成日:2025年10月1日」 → [(vendor, A社), (created, …)]."""
    t = normalize_text(text)
    if not _INLINE_LABEL.match(t):
        spaced = _SPACED_LABEL.match(t)  # 「作成日 2023/7/21」, 「事業者名　株式会社A」
        if not spaced or spaced.group(1) in ("事業者", "Ver"):  # too short to stand without a colon
            return []
        return [(HEADER_LABELS[spaced.group(1)], spaced.group(2).strip())]
    hits = list(_LABEL_ANYWHERE.finditer(t))
    out = []
    for i, m in enumerate(hits):
        end = hits[i + 1].start() if i + 1 < len(hits) else len(t)
        out.append((HEADER_LABELS[m.group(1)], t[m.end():end].strip(" 　/|｜")))
    return out
