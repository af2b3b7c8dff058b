"""Vendor submissions as data: what each sample file says, item by item (the truth).

Renderers (`office_xlsx`, `office_docx`) draw a `Submission` into a file; they never decide an
answer. The truth JSON written beside each file is `Submission.truth()`.

Item lists are built from the catalogue (`extractors.forms.get_form`) so question texts are the
real ones; each vendor then varies them (typos, dropped rows, extra rows, odd numbering).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field

from extractors.forms import get_form

YES, NO, NA, APPL, NOT_APPL = "はい", "いいえ", "対象外", "該当", "非該当"

# MDS/SDS 4.x section headings, keyed by the top-level item number.
MDS_SECTIONS = {
    "1": "医療機関等における情報セキュリティマネジメントシステムの実践(6.2)",
    "2": "物理的安全対策(6.4)",
    "3": "技術的安全対策(6.5)",
    "8": "情報及び情報機器の持ち出しについて(6.9)",
    "11": "災害、サイバー攻撃等の非常時の対応(6.10)",
    "12": "外部のネットワーク等を通じた個人情報を含む医療情報の交換に当たっての安全管理(6.11)",
}


@dataclass
class ItemSpec:
    item_id: str
    number_printed: str
    question: str
    answer: str = ""
    answer_status: str = "answered"  # answered | unanswered | ambiguous
    remark: str = ""  # footnote resolved
    remark_ref: str = ""  # footnote number printed in the 備考 cell ("" when the text is inline)
    first_date: str = ""  # ISO
    target_date: str = ""
    second_answer: str = ""
    second_date: str = ""
    section: str = ""
    scope: str = ""  # checklist device heading
    kind: str = "numbered"  # numbered | bullet | group
    options: tuple[str, ...] = (YES, NO, NA)  # options the row offers
    marked: tuple[str, ...] = ()  # options marked in the file (two → ambiguous)
    answer_raw: str = ""  # what the answer cell shows when it is not an option word ("=", "-")
    remark_ref_style: str = ""  # how the ref is printed: "5" or "※5"
    glyph: str = ""  # this row's mark when the vendor used another one (a typed 「x」); "" = the style's glyph
    # Must the reader flag this item for review? None = derived: two marks (ambiguous) or unreadable. Set True
    # where the sample makes the answer doubtful (a typed x, a lone ○): a confident reading there is a silent error.
    needs_review: bool | None = None

    def __post_init__(self) -> None:
        if not self.marked and self.answer and self.answer_status == "answered":
            self.marked = (self.answer,)

    def truth(self) -> dict:
        return {
            "item_id": self.item_id, "number_printed": self.number_printed, "question": self.question,
            "answer": self.answer, "answer_status": self.answer_status, "remark": self.remark,
            "remark_ref": self.remark_ref, "first_date": self.first_date, "target_date": self.target_date,
            "second_answer": self.second_answer, "second_date": self.second_date,
            "section": self.section, "scope": self.scope, "kind": self.kind,
            "answer_raw": self.answer_raw,
            "needs_review": (self.needs_review if self.needs_review is not None
                             else self.answer_status in ("ambiguous", "unreadable")),
        }


@dataclass
class Submission:
    file: str  # file name written into the inbox
    convention: str
    family: str  # mds | sds | checklist_vendor | checklist_facility
    form_id: str
    form_version: str
    vendor: str  # as printed in this file ("" when blank)
    vendor_key: str  # which fictional vendor this is (for the planted cross-file checks)
    product: str = ""
    product_version: str = ""
    created: str = ""  # ISO or ""
    title: str = ""
    header_fields: dict[str, str] = field(default_factory=dict)
    comment: str = ""
    items: list[ItemSpec] = field(default_factory=list)
    footnotes: dict[str, str] = field(default_factory=dict)
    planted: list[dict] = field(default_factory=list)
    fiscal_year: int | None = None
    deployment: str = ""  # on_premise | cloud (context for the planted missing_document)

    def truth(self) -> dict:
        return {
            "file": self.file, "convention": self.convention, "family": self.family,
            "form_id": self.form_id, "form_version": self.form_version, "vendor": self.vendor,
            "vendor_key": self.vendor_key, "product": self.product, "product_version": self.product_version,
            "created": self.created, "comment": self.comment, "header_fields": dict(self.header_fields),
            "footnotes": dict(self.footnotes), "items": [i.truth() for i in self.items],
            "planted": list(self.planted), "expect_failure": None,
        }

    def item(self, item_id: str) -> ItemSpec:
        return next(i for i in self.items if i.item_id == item_id)

    def plant(self, category: str, item_ids: list[str], note: str) -> None:
        self.planted.append({"category": category, "item_ids": list(item_ids), "note": note})


# ---------------------------------------------------------------- MDS / SDS item lists

DEFAULT_MDS_ANSWERS = {
    "4.1/記憶": YES, "4.1/生体認証": NO, "4.1/物理媒体": NO,
    "4.1/上記のうちの二要素を組み合わせた認証": NO, "4.1/その他": NA,
    "12": APPL, "12.4": APPL,
    "12.3.1.1/専用線": NOT_APPL, "12.3.1.1/公衆網": NOT_APPL, "12.3.1.1/IP-VPN": APPL,
    "12.3.1.1/IPsec-VPN": NOT_APPL, "12.3.1.1/TLS1.2以上": APPL,
}


def _section_for(number: str, style: str = "title_ref") -> str:
    """Section heading of a row: 「技術的安全対策(6.5)」, or 「6.5 技術的安全対策」 with style "ref_title"."""
    top = number.split(".")[0]
    keys = sorted(MDS_SECTIONS, key=int)
    chosen = ""
    for k in keys:
        if top.isdigit() and int(top) >= int(k):
            chosen = MDS_SECTIONS[k]
    if chosen and style == "ref_title":
        title, ref = chosen[:-1].rsplit("(", 1)
        chosen = f"{ref} {title}"
    return chosen


def mds_items(form_id: str, answers: dict[str, str] | None = None, remarks: dict[str, str] | None = None,
              *, with_ref: bool = True, renumber: dict[str, str] | None = None,
              printed: dict[str, str] | None = None, questions: dict[str, str] | None = None,
              drop: tuple[str, ...] = (), section_style: str = "title_ref") -> list[ItemSpec]:
    """The form's rows in catalogue order with this vendor's answers and remarks.

    `renumber` maps a catalogue number to the number this vendor's form prints (the item id then
    follows the printed number); `printed` overrides how a number is printed (「４．１．１」, 「1 2. 3. 1」);
    `questions` overrides question wording (typos, variants); `drop` leaves rows out.
    """
    form = get_form(form_id)
    answers = {**DEFAULT_MDS_ANSWERS, **(answers or {})}
    remarks = remarks or {}
    renumber = renumber or {}
    printed = printed or {}
    questions = questions or {}
    items: list[ItemSpec] = []
    for cat in form.items:
        if cat.id in drop:
            continue
        if cat.parent:
            parent_no = renumber.get(cat.parent, cat.parent)
            label = cat.id.split("/", 1)[1]
            item_id = f"{parent_no}/{label}"
            number_printed = ""
            question = questions.get(cat.id, cat.text)
            kind = "bullet"
        else:
            number = renumber.get(cat.id, cat.id)
            item_id = number
            number_printed = printed.get(cat.id, number)
            q = questions.get(cat.id, cat.text)
            question = f"{q}({cat.ref})" if with_ref and cat.ref else q
            kind = "group" if cat.kind == "group" else "numbered"
        options = tuple(cat.answers)
        if kind == "group":
            answer, status = "", "unanswered"
        else:
            answer = answers.get(cat.id, YES)
            status = "answered"
        items.append(ItemSpec(
            item_id=item_id, number_printed=number_printed, question=question, answer=answer,
            answer_status=status, remark=remarks.get(cat.id, ""), section=_section_for(cat.id.split("/")[0], section_style),
            kind=kind, options=options or (YES, NO, NA)))
    return items


def set_answer(items: list[ItemSpec], item_id: str, answer: str = "", *, status: str = "answered",
               marked: tuple[str, ...] | None = None, remark: str | None = None) -> ItemSpec:
    it = next(i for i in items if i.item_id == item_id)
    it.answer, it.answer_status = answer, status
    it.marked = marked if marked is not None else ((answer,) if answer else ())
    if remark is not None:
        it.remark = remark
    return it


def footnote(sub: Submission, item_id: str, number: str, text: str, style: str = "") -> None:
    """Move a remark into the 備考記載欄: the 備考 cell prints only the number."""
    it = sub.item(item_id)
    it.remark, it.remark_ref, it.remark_ref_style = text, number, style or number
    sub.footnotes[number] = text


# ---------------------------------------------------------------- checklists

def iso(y: int, m: int, d: int) -> str:
    return dt.date(y, m, d).isoformat()


def fy_date(fiscal_year: int, month: int, day: int) -> str:
    """M/D of a checklist in the form's fiscal year (April–March)."""
    return iso(fiscal_year if month >= 4 else fiscal_year + 1, month, day)


def checklist_items(form_id: str, first: str, answers: dict[str, str] | None = None, *,
                    targets: dict[str, str] | None = None, seconds: dict[str, tuple[str, str]] | None = None,
                    remarks: dict[str, str] | None = None, questions: dict[str, str] | None = None,
                    printed_style: str = "paren", scoped_ids: bool | None = None) -> list[ItemSpec]:
    """Checklist rows in catalogue order. `first` is the ISO date of the 1回目 check.

    Items the catalogue marks as reference-tier (facility form extras) are skipped. `printed_style`:
    "paren" prints 「(6)」, "circled" prints 「⑥」.
    """
    form = get_form(form_id)
    answers, targets, seconds = answers or {}, targets or {}, seconds or {}
    remarks, questions = remarks or {}, questions or {}
    numbers = [c.number for c in form.items if c.tier != "reference"]
    repeated = {n for n in numbers if numbers.count(n) > 1}
    items = []
    for cat in form.items:
        if cat.tier == "reference":
            continue
        n = cat.number
        inner = n.split("(", 1)[1].rstrip(")") if "(" in n else n
        if printed_style == "circled" and inner.isdigit():
            number_printed = chr(0x2460 + int(inner) - 1)
        elif "(" in n:
            number_printed = f"({inner})"
        else:
            number_printed = n
        use_scope = scoped_ids if scoped_ids is not None else (n in repeated)
        item_id = f"{n}@{cat.scope}" if use_scope and cat.scope else n
        answer = answers.get(cat.id, YES)
        sa, sd = seconds.get(cat.id, ("", ""))
        items.append(ItemSpec(
            item_id=item_id, number_printed=number_printed, question=questions.get(cat.id, cat.text),
            answer=answer, answer_status="answered" if answer else "unanswered",
            first_date=first if answer else "", target_date=targets.get(cat.id, ""),
            second_answer=sa, second_date=sd, remark=remarks.get(cat.id, ""),
            section=cat.section, scope=cat.scope, kind="numbered", options=(YES, NO)))
    return items


def replace_item(items: list[ItemSpec], item_id: str, new: list[ItemSpec]) -> None:
    idx = next(k for k, i in enumerate(items) if i.item_id == item_id)
    items[idx:idx + 1] = new


def copy_item(item: ItemSpec, **changes) -> ItemSpec:
    return dataclasses.replace(item, **changes)
