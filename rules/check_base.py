"""What every condition check shares: the registry (`check`, `CHECKS`), `Hit` and `Context`, and the helpers that
read a Document through the catalogue (concepts, gates, questions, fiscal years, answered items).

The check modules (`checks_document`, `checks_remark`, `checks_group`, `checks_cross`, `checks_text`,
`checks_stale`) import this module only; `rules.checks` imports them all so that every check registers.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable

from extractors.forms import CatalogueItem, get_form
from extractors.model import Document, Item
from extractors.text import parse_date, wareki_fiscal_year
from extractors.vocabulary import NO, YES, is_na_mark
from rules.grouping import VendorGroup

ANSWERED = "answered"


@dataclass
class Hit:
    documents: list[Document]
    items: list[tuple[Document, Item]] = field(default_factory=list)
    finding: str = ""  # default Japanese sentence (used when the rule has no message template)
    fields: dict[str, str] = field(default_factory=dict)  # values for the rule's message template
    quote: str = ""
    extra_evidence: list[str] = field(default_factory=list)
    item_ids: list[str] = field(default_factory=list)  # ids without an Item (e.g. missing rows)
    needs_review: bool = False
    product: str | None = None  # product shown in the finding; None = the first document's
    # The vendor group the finding belongs to when it is not the group being evaluated (a hospital
    # checklist compared with a vendor's MDS is registered under that vendor); None = the evaluated group.
    group: "VendorGroup | None" = None


@dataclass
class Context:
    as_of: dt.date
    groups: list[VendorGroup]
    ledgers: list[Document] = field(default_factory=list)  # device ledgers (checks of scope "devices")
    os_eol: list = field(default_factory=list)  # rules.os_eol.OsEolEntry rows from mdsgap.yaml
    vendor_aliases: dict = field(default_factory=dict)  # ledger vendor name -> vendor name of the forms
    feeds: list = field(default_factory=list)  # vulnerability feeds and SBOMs (families vuln_feed, sbom)


@dataclass(frozen=True)
class CheckSpec:
    fn: Callable
    scope: str  # "document" | "group" | "devices" (once per run, over Context.ledgers)
    describe: Callable[[dict], str]


CHECKS: dict[str, CheckSpec] = {}


def check(name: str, scope: str, describe: Callable[[dict], str]):
    def register(fn):
        CHECKS[name] = CheckSpec(fn=fn, scope=scope, describe=describe)
        return fn
    return register


def describe_condition(condition: dict) -> str:
    spec = CHECKS.get(condition.get("check", ""))
    return spec.describe(condition) if spec else str(condition)


# ---------------------------------------------------------------------------------------------
# helpers

def catalogue_item(doc: Document, item: Item) -> CatalogueItem | None:
    """The catalogue entry of a row. A bullet row the interpreter could not link (its parent was
    renumbered, e.g. 5.1/記憶 in a GL6.0 sheet) is resolved through its parent's catalogue id."""
    form = get_form(doc.form_id) if doc.form_id else None
    if form is None:
        return None
    if item.catalogue_id:
        return form.item(item.catalogue_id)
    if "/" in item.item_id:
        parent_id, label = item.item_id.split("/", 1)
        parent = doc.item(item.parent_id or parent_id)
        if parent is not None and parent.catalogue_id:
            return form.item(f"{parent.catalogue_id}/{label}")
    return None


def concept_of(doc: Document, item: Item) -> str:
    if item.concept:
        return item.concept
    cat = catalogue_item(doc, item)
    return cat.concept if cat else ""


def is_known(doc: Document, item: Item) -> bool:
    return item.known or catalogue_item(doc, item) is not None


def doc_item_for(doc: Document, catalogue_id: str) -> Item | None:
    """The row of this document that carries a catalogue id (numbers may differ from the catalogue's)."""
    for i in doc.items:
        if i.catalogue_id == catalogue_id:
            return i
    for i in doc.items:
        if not i.catalogue_id and "/" in catalogue_id:
            cat = catalogue_item(doc, i)
            if cat is not None and cat.id == catalogue_id:
                return i
    return None


def takes_answer(doc: Document, item: Item) -> bool:
    """False for group headings (4.1, 12.3.1.1) that carry no answer of their own."""
    cat = catalogue_item(doc, item)
    if cat is not None:
        return bool(cat.answers) and cat.kind != "group"
    return True


def failing_gate(doc: Document, item: Item, _depth: int = 0) -> tuple[Item, str] | None:
    """The nearest ancestor gate that makes this item not applicable: (parent item, required answer).

    12 = 非該当 makes 12.1–12.4.1 not applicable; 4.3 ≠ はい makes 4.3.1/4.3.2 not applicable.
    An unanswered parent does not close the gate (we cannot tell).
    """
    cat = catalogue_item(doc, item)
    if cat is None or _depth > 8:
        return None
    for parent_id, required in cat.requires:
        parent = doc_item_for(doc, parent_id)
        if parent is None:
            continue
        if parent.answer_status == ANSWERED and parent.answer and parent.answer != required:
            return parent, required
        deeper = failing_gate(doc, parent, _depth + 1)
        if deeper:
            return deeper
    return None


def is_applicable(doc: Document, item: Item) -> bool:
    return failing_gate(doc, item) is None


def items_with_concepts(doc: Document, concepts) -> list[Item]:
    wanted = set(concepts or ())
    return [i for i in doc.items if concept_of(doc, i) in wanted]


def question_of(doc: Document, item: Item) -> str:
    if item.question:
        return item.question
    cat = catalogue_item(doc, item)
    return cat.text if cat else ""


def fiscal_year_of(doc: Document) -> int | None:
    form = get_form(doc.form_id) if doc.form_id else None
    if form and form.fiscal_year:
        return form.fiscal_year
    return wareki_fiscal_year(doc.form_version)


def fiscal_year_of_date(d: dt.date) -> int:
    return d.year if d.month >= 4 else d.year - 1


def _date(text: str, doc: Document) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return parse_date(text, fiscal_year_of(doc))


def _base_fields(doc: Document, item: Item) -> dict[str, str]:
    return {"item_id": item.item_id, "question": question_of(doc, item), "answer": item.answer or "空欄",
            "remark": item.remark, "target_date": item.target_date}


def _in(value: str, allowed) -> bool:
    return not allowed or value in allowed


def _item_filter(doc: Document, cond: dict) -> list[Item]:
    items = doc.items
    if cond.get("concepts"):
        items = items_with_concepts(doc, cond["concepts"])
    if cond.get("item_ids"):
        items = [i for i in items if i.item_id in set(cond["item_ids"])]
    if cond.get("exclude_concepts"):
        # Items whose own question the signal answers (「提示できるか」 answered 「ご要求に応じて提出可能」).
        items = [i for i in items if concept_of(doc, i) not in set(cond["exclude_concepts"])]
    if cond.get("known_only", True):
        items = [i for i in items if is_known(doc, i)]
    return items


def concept_label(concept: str) -> str:
    """A Japanese label for a concept key: the question text of the first catalogue item carrying it."""
    from extractors.forms import all_forms

    from extractors.mds2 import concept_label as mds2_label

    for form in all_forms():
        for item in form.items:
            if item.concept == concept:
                # A concept only the English MDS2 has (SBOM, end of support) is named by its Japanese label.
                return f"「{(form.family == 'mds2' and mds2_label(concept)) or item.text}」"
    return concept


def _concepts_ja(concepts) -> str:
    return "・".join(concept_label(c) for c in concepts or ())


def _concept_text(cond: dict) -> str:
    parts = []
    if cond.get("concepts"):
        parts.append("項目 " + _concepts_ja(cond["concepts"]))
    if cond.get("item_ids"):
        parts.append("項目 " + "・".join(cond["item_ids"]))
    return "、".join(parts) or "すべての項目"


def _is_na_mark(item: Item) -> bool:
    return is_na_mark(item.answer_raw)


def effective_answer(item: Item) -> str:
    """A checklist row's current answer: the 2回目 answer when there is one, else the 1回目 answer."""
    if item.second_answer in (YES, NO):
        return item.second_answer
    return item.answer if item.answer_status == ANSWERED else ""


def is_reference_tier(doc: Document, item: Item) -> bool:
    cat = catalogue_item(doc, item)
    return cat is not None and cat.tier == "reference"


def _remark_blank(item: Item) -> bool:
    text = item.remark.strip()
    return not text or (item.remark_ref and text == item.remark_ref.strip()) or text.strip("※*()（）0-9０-９ ") == ""


def vendor_unknown(group: VendorGroup) -> bool:
    """A group of one document whose 事業者名 is blank and could not be recovered (rules.grouping gives it a
    「?<file>」 key). The blank name is a review item (incomplete.header_*), never a reason to claim that
    another document of the vendor is missing: we cannot tell whose documents they would be."""
    return group.key.startswith("?")


def _answered(doc: Document, concepts, answers, applicable_only=True) -> list[Item]:
    return [i for i in items_with_concepts(doc, concepts)
            if i.answer_status == ANSWERED and i.answer in answers
            and (not applicable_only or is_applicable(doc, i))]
