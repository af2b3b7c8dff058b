"""Condition checks: the functions a rule's `condition.check` names.

A document check looks at one Document; a group check looks at one vendor's documents together
(checklist ↔ MDS/SDS, missing documents). Each returns `Hit`s; the engine turns a Hit into a
`Finding` with the rule's text. Conditions name catalogue concepts, not item numbers, so a rule
works on every form version whose catalogue carries the concept.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Callable

from extractors.forms import CatalogueItem, get_form
from extractors.model import APPLICABLE, NO, YES, Document, Item
from extractors.text import normalize_text, parse_date, wareki_fiscal_year
from rules.grouping import (CHECKLIST_FAMILIES, DISCLOSURE_FAMILIES, MIN_PARTIAL_PRODUCT_KEY, VendorGroup,
                            is_service_sds, product_key, same_product)
from rules.remarks import class_label, signals_of, split_sentences

# What vendors write in a checklist cell to say "not applicable" (the form has no 対象外).
NA_MARKS = {"=", "-", "ー", "－", "―", "/", "／", "N/A", "n/a", "NA", "na", "‐"}
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


@dataclass(frozen=True)
class CheckSpec:
    fn: Callable
    scope: str  # "document" | "group"
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

    for form in all_forms():
        for item in form.items:
            if item.concept == concept:
                return f"「{item.text}」"
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


# ---------------------------------------------------------------------------------------------
# document checks

@check("answer", "document",
       lambda c: f"{_concept_text(c)}の回答が{'・'.join(c.get('answer_in', []))}（回答対象の場合）")
def check_answer(cond: dict, doc: Document, ctx: Context) -> list[Hit]:
    hits = []
    for item in _item_filter(doc, cond):
        if item.answer_status != ANSWERED or item.answer not in cond.get("answer_in", ()):
            continue
        if cond.get("applicable_only", True) and not is_applicable(doc, item):
            continue
        hits.append(Hit([doc], [(doc, item)], fields=_base_fields(doc, item),
                        finding=f"項目{item.item_id}「{question_of(doc, item)}」の回答が「{item.answer}」です。"))
    return hits


def _is_na_mark(item: Item) -> bool:
    return item.answer_raw.strip() in NA_MARKS


def effective_answer(item: Item) -> str:
    """A checklist row's current answer: the 2回目 answer when there is one, else the 1回目 answer."""
    if item.second_answer in (YES, NO):
        return item.second_answer
    return item.answer if item.answer_status == ANSWERED else ""


def is_reference_tier(doc: Document, item: Item) -> bool:
    cat = catalogue_item(doc, item)
    return cat is not None and cat.tier == "reference"


def system_not_used(doc: Document) -> bool:
    """Checklist preamble 有無 = いいえ (no medical information system): every other row may stay blank."""
    return any(concept_of(doc, i) == "has_system" and i.answer_status == ANSWERED and i.answer == NO
               for i in doc.items)


# Hospital checklist rows about vendors: blank is allowed when the hospital has no vendor contract (R5).
VENDOR_ROW_CONCEPTS = {"remote_maintenance_inventory", "mds_sds_submitted"}


def _vendor_item_without_vendors(doc: Document, item: Item, ctx: Context) -> bool:
    if doc.family != "checklist_facility" or concept_of(doc, item) not in VENDOR_ROW_CONCEPTS:
        return False
    return not any(d.family != "checklist_facility" for g in ctx.groups for d in g.documents)


@check("answer_status", "document",
       lambda c: f"{_concept_text(c)}の回答状態が"
                 f"{'・'.join({'unanswered': '未回答', 'ambiguous': '判別不能', 'unreadable': '読取不能'}.get(x, x) for x in c.get('statuses', []))}")
def check_answer_status(cond: dict, doc: Document, ctx: Context) -> list[Hit]:
    statuses = set(cond.get("statuses", ()))
    hits = []
    no_system = system_not_used(doc)
    for item in _item_filter(doc, cond):
        if item.answer_status not in statuses or not takes_answer(doc, item):
            continue
        cat = catalogue_item(doc, item)
        if cat is not None and cat.tier == "reference" and not cond.get("include_reference", False):
            continue
        if item.answer_status == "unanswered" and (no_system or _vendor_item_without_vendors(doc, item, ctx)):
            continue
        if item.answer_status == "unanswered":
            na = cond.get("na_marks", "exclude")  # exclude | only | include
            if (na == "exclude" and _is_na_mark(item)) or (na == "only" and not _is_na_mark(item)):
                continue
            if not is_applicable(doc, item):
                continue
        status_text = {"unanswered": "該当なしの記号のみで回答なし" if _is_na_mark(item) else "未回答", "ambiguous": "複数の選択肢に印があり判別できません",
                       "unreadable": "読み取れません"}[item.answer_status]
        raw = f"（回答欄の記載: 「{item.answer_raw}」）" if item.answer_raw.strip() else ""
        fields = _base_fields(doc, item) | {"status": status_text, "answer_raw": item.answer_raw}
        hits.append(Hit([doc], [(doc, item)], fields=fields,
                        needs_review=item.answer_status != "unanswered",
                        finding=f"項目{item.item_id}「{question_of(doc, item)}」: {status_text}{raw}。"))
    return hits


@check("missing_items", "document", lambda c: "様式にある項目（行）が提出書類にない")
def check_missing_items(cond: dict, doc: Document, ctx: Context) -> list[Hit]:
    if not doc.missing_items:
        return []
    form = get_form(doc.form_id) if doc.form_id else None
    ids = list(doc.missing_items)
    if form is not None and not cond.get("include_reference", False):
        ids = [i for i in ids if not ((c := form.item(i)) and c.tier == "reference")]
    if not ids:
        return []
    labels = [f"{i}「{c.text}」" if form and (c := form.item(i)) else i for i in ids]
    return [Hit([doc], item_ids=ids, fields={"items": "、".join(ids)},
                finding=f"様式の項目 {'、'.join(labels)} が提出書類にありません（行の削除・様式の改変の可能性）。",
                needs_review=True)]


HEADER_LABELS = {"vendor": "事業者名", "product": "製品名称", "created": "作成日"}


@check("header_blank", "document", lambda c: "ヘッダ項目 " + "・".join(HEADER_LABELS.get(f, f) for f in
                                                                     c.get("fields", HEADER_LABELS)) + " が空欄")
def check_header_blank(cond: dict, doc: Document, ctx: Context) -> list[Hit]:
    blank = []
    for f in cond.get("fields", list(HEADER_LABELS)):
        value = getattr(doc, f, None)
        if value is None or (isinstance(value, str) and not value.strip()):
            blank.append(HEADER_LABELS.get(f, f))
    if not blank:
        return []
    return [Hit([doc], fields={"fields": "・".join(blank)},
                finding=f"書類の{'・'.join(blank)}が記載されていません。")]


_PLAN_DATE = re.compile(
    r"((?:令和|平成|R|H)\s*(?:\d{1,2}|元)\s*年度?(?:\s*\d{1,2}\s*月)?(?:\s*\d{1,2}\s*日)?(?:中|末|内)?"
    r"|\d{4}\s*年度?(?:\s*\d{1,2}\s*月)?(?:\s*\d{1,2}\s*日)?(?:中|末|内)?"
    r"|\d{4}\s*[/／.\-]\s*\d{1,2}(?:\s*[/／.\-]\s*\d{1,2})?"
    r"|\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?(?:中|末)?"
    r"|(?:今|来|次)年度(?:中|末|内)?|(?:上|下)半?期)")


def plan_date(sentence: str, fiscal_year: int | None = None) -> str:
    """The time a plan sentence promises, as written (「2026年3月」「令和8年度中」「来年度」), ISO when a full
    date can be read; "" when the sentence names no time (「次期更新時に対応予定」)."""
    text = normalize_text(sentence)
    m = _PLAN_DATE.search(text)
    if not m:
        return ""
    found = m.group(1).strip()
    exact = parse_date(found, fiscal_year)
    return exact.isoformat() if exact else found


@check("remark", "document",
       lambda c: f"{_concept_text(c)}で回答が{'・'.join(c.get('answer_in', [])) or '任意'}かつ備考に"
                 f"「{'・'.join(class_label(x) for x in c.get('classes', []))}」の表現がある")
def check_remark(cond: dict, doc: Document, ctx: Context) -> list[Hit]:
    hits = []
    for item in _item_filter(doc, cond):
        if not item.remark.strip() or item.answer_status != ANSWERED:
            continue
        if not _in(item.answer, cond.get("answer_in")):
            continue
        signals = signals_of(item.remark, cond.get("classes", ()))
        if cond.get("exclude_classes"):
            blocked = {s.sentence for s in signals_of(item.remark, cond["exclude_classes"])}
            signals = [s for s in signals if s.sentence not in blocked]
        if not signals:
            continue
        first = signals[0]
        when = plan_date(first.sentence, fiscal_year_of(doc)) if first.cls == "plan" else ""
        fields = _base_fields(doc, item) | {"quote": first.sentence, "trigger": first.trigger,
                                            "signal": class_label(first.cls),
                                            "plan_date": when or "記載なし"}
        others = [s.sentence for s in signals[1:] if s.sentence != first.sentence]
        extra = [f"該当する記載: 「{s}」" for s in dict.fromkeys(others)]
        if first.cls == "plan":
            extra.append(f"予定時期: {when or '記載なし（時期を確認すること）'}")
        hits.append(Hit([doc], [(doc, item)], fields=fields, quote=first.sentence,
                        extra_evidence=extra,
                        finding=f"項目{item.item_id}（回答「{item.answer}」）の備考に{class_label(first.cls)}"
                                f"があります:「{first.sentence}」"))
    return hits


_REF_RANGE = re.compile(r"[(（]\s*(\d{1,2})\s*[)）]\s*[~～〜\-ー－―]\s*[(（]\s*(\d{1,2})\s*[)）]")
_REF_ONE = re.compile(r"[(（]\s*(\d{1,2})\s*[)）](?:\s*-\s*(\d))?")
_REF_BARE = re.compile(r"(?:^|[、。,\s])(\d{1,2})\s*(?:につき|について|に関して|に関しまして|の項目)")


def items_referenced(doc: Document, sentence: str) -> list[Item]:
    """Checklist rows a comment sentence names: 「(4)～(8)につきまして」, 「(3)-2」, 「(1)」."""
    text = normalize_text(sentence)
    numbers: list[str] = []
    for m in _REF_RANGE.finditer(text):
        numbers += [str(n) for n in range(int(m.group(1)), int(m.group(2)) + 1)]
    text = _REF_RANGE.sub(" ", text)
    for m in _REF_ONE.finditer(text):
        numbers.append(m.group(1) + (f"-{m.group(2)}" if m.group(2) else ""))
    # A circled number (⑪) becomes a bare 「11」 after NFKC: 「11につきまして」「⑪について」.
    for m in _REF_BARE.finditer(text):
        numbers.append(m.group(1))
    found: list[Item] = []
    for n in numbers:
        pattern = re.compile(rf"^\d+\({re.escape(n.split('-')[0])}\)" + (rf"-{n.split('-')[1]}" if "-" in n else "")
                             + r"(?:-\d)?(?:@.*)?$")
        found += [i for i in doc.items if pattern.match(i.item_id) and i not in found]
    return found


@check("comment_remark", "document",
       lambda c: f"チェックリストのコメント欄に「{'・'.join(class_label(x) for x in c.get('classes', []))}」の表現がある")
def check_comment_remark(cond: dict, doc: Document, ctx: Context) -> list[Hit]:
    signals = signals_of(doc.comment, cond.get("classes", ())) if doc.comment.strip() else []
    if not signals:
        return []
    first = signals[0]
    referenced = items_referenced(doc, first.sentence)
    return [Hit([doc], [(doc, i) for i in referenced], quote=first.sentence,
                fields={"quote": first.sentence, "trigger": first.trigger,
                        "items": "、".join(i.item_id for i in referenced) or "（項目の指定なし）"},
                extra_evidence=[f"コメント欄: 「{doc.comment.strip()}」"],
                finding=f"コメント欄に{class_label(first.cls)}があります:「{first.sentence}」")]


def _remark_blank(item: Item) -> bool:
    text = item.remark.strip()
    return not text or (item.remark_ref and text == item.remark_ref.strip()) or text.strip("※*()（）0-9０-９ ") == ""


@check("remark_required", "document",
       lambda c: "様式が備考の記入を求める回答（二要素の組合せ、その他の方式など）で備考が空欄")
def check_remark_required(cond: dict, doc: Document, ctx: Context) -> list[Hit]:
    hits = []
    for item in _item_filter(doc, cond):
        cat = catalogue_item(doc, item)
        required = cond.get("answer_in") or ([cat.remark_required_if] if cat and cat.remark_required_if else [])
        if item.answer_status != ANSWERED or item.answer not in required or not _remark_blank(item):
            continue
        if item.remark_ref_empty:
            continue  # reported by the footnote rule
        hits.append(Hit([doc], [(doc, item)], fields=_base_fields(doc, item),
                        finding=f"項目{item.item_id}「{question_of(doc, item)}」は「{item.answer}」ですが、"
                                "様式が求める備考（具体的な方式・組合せ）が記載されていません。"))
    return hits


@check("remark_ref_empty", "document", lambda c: "備考欄の注記番号が指す備考記載欄が空欄または存在しない")
def check_remark_ref_empty(cond: dict, doc: Document, ctx: Context) -> list[Hit]:
    hits = []
    for item in doc.items:
        if not item.remark_ref_empty:
            continue
        hits.append(Hit([doc], [(doc, item)], fields=_base_fields(doc, item) | {"ref": item.remark_ref},
                        finding=f"項目{item.item_id}の備考は注記「{item.remark_ref}」を指していますが、"
                                "備考記載欄の該当番号が空欄または見つかりません。"))
    return hits


def remark_asked_for(cat: CatalogueItem | None, answer: str) -> bool:
    """The form's own question asks for a remark with this answer (catalogue `remark_required_if`)."""
    if cat is None or not cat.remark_required_if:
        return False
    wanted = cat.remark_required_if
    return answer in ([wanted] if isinstance(wanted, str) else list(wanted))


@check("no_without_remark", "document",
       lambda c: f"{_concept_text(c) if c.get('concepts') or c.get('item_ids') else '様式が理由の記入を求める項目'}"
                 "で回答がいいえなのに備考（理由・代替策）が空欄")
def check_no_without_remark(cond: dict, doc: Document, ctx: Context) -> list[Hit]:
    """A いいえ without a reason is a gap only where someone asks for the reason: the form (the catalogue
    item's `remark_required_if`) or the rule itself naming `concepts` / `item_ids` (a hospital's own rule).
    Most questions of the MDS/SDS ask for no remark: a bare いいえ there is an answer, not a gap."""
    hits = []
    answers = cond.get("answer_in", [NO])
    named = bool(cond.get("concepts") or cond.get("item_ids"))
    for item in _item_filter(doc, cond):
        if item.answer_status != ANSWERED or item.answer not in answers or not _remark_blank(item):
            continue
        if item.remark_ref_empty or not is_applicable(doc, item):
            continue
        cat = catalogue_item(doc, item)
        if not named and not remark_asked_for(cat, item.answer):
            continue
        hits.append(Hit([doc], [(doc, item)], fields=_base_fields(doc, item),
                        finding=f"項目{item.item_id}「{question_of(doc, item)}」は「{item.answer}」ですが、"
                                "理由や代替策の備考がありません。"))
    return hits


@check("na_without_explanation", "document",
       lambda c: "チェックリストで「=」「-」等（該当なし）と記入され、備考にもコメント欄にも説明がない")
def check_na_without_explanation(cond: dict, doc: Document, ctx: Context) -> list[Hit]:
    """A 「=」「-」 row is explained by its own 備考, or by a comment sentence that names the row. A comment
    that names no row at all is taken as a general explanation (it cannot be tied to rows)."""
    explained: set[str] = set()
    named_any = False
    for sentence in split_sentences(doc.comment):
        rows = items_referenced(doc, sentence)
        named_any = named_any or bool(rows)
        explained |= {i.item_id for i in rows}
    if doc.comment.strip() and not named_any:
        return []
    hits = []
    for item in doc.items:
        if item.answer or not _is_na_mark(item) or item.remark.strip() or item.item_id in explained:
            continue
        hits.append(Hit([doc], [(doc, item)], fields=_base_fields(doc, item) | {"answer_raw": item.answer_raw},
                        finding=f"項目{item.item_id}は「{item.answer_raw}」（該当なしの意）と記入されていますが、"
                                "理由の説明がありません。"))
    return hits


@check("gate", "document", lambda c: "前提となる項目（12 非該当、4.3 いいえ等）と矛盾する下位項目の回答")
def check_gate(cond: dict, doc: Document, ctx: Context) -> list[Hit]:
    hits = []
    for item in doc.items:
        if item.answer_status != ANSWERED:
            continue
        failing = failing_gate(doc, item)
        if failing is None:
            continue
        parent, required = failing
        parent_cat = catalogue_item(doc, parent)
        bad = {YES, APPLICABLE} | ({NO} if parent_cat is not None and parent_cat.gate else set())
        if item.answer not in bad:
            continue
        fields = _base_fields(doc, item) | {"parent_id": parent.item_id, "parent_answer": parent.answer}
        hits.append(Hit([doc], [(doc, parent), (doc, item)], fields=fields,
                        finding=f"項目{parent.item_id}が「{parent.answer}」（前提は「{required}」）なのに、"
                                f"下位の項目{item.item_id}が「{item.answer}」と回答されています。"))
    return hits


def _checklist_no_items(doc: Document) -> list[Item]:
    """1回目 いいえ rows still open. A 参考項目 (R5) may stay いいえ without a target date."""
    return [i for i in doc.items if i.answer_status == ANSWERED and i.answer == NO and i.second_answer != YES
            and not is_reference_tier(doc, i)]


@check("deadline_missing", "document", lambda c: "チェックリストの1回目がいいえで目標日が空欄")
def check_deadline_missing(cond: dict, doc: Document, ctx: Context) -> list[Hit]:
    return [Hit([doc], [(doc, i)], fields=_base_fields(doc, i),
                finding=f"項目{i.item_id}「{question_of(doc, i)}」は1回目「いいえ」ですが、対応目標日が記載されていません。")
            for i in _checklist_no_items(doc) if not i.target_date.strip()]


@check("deadline_outside_fy", "document", lambda c: "目標日がチェックリストの年度（4月1日〜翌年3月31日）の外")
def check_deadline_outside_fy(cond: dict, doc: Document, ctx: Context) -> list[Hit]:
    fy = fiscal_year_of(doc)
    if fy is None:
        return []
    start, end = dt.date(fy, 4, 1), dt.date(fy + 1, 3, 31)
    hits = []
    for i in _checklist_no_items(doc):
        target = _date(i.target_date, doc)
        if target is None or start <= target <= end:
            continue
        hits.append(Hit([doc], [(doc, i)], fields=_base_fields(doc, i) | {"fiscal_year": str(fy)},
                        finding=f"項目{i.item_id}の対応目標日 {target.isoformat()} が、チェックリストの年度"
                                f"（{start.isoformat()}〜{end.isoformat()}）の外です。"))
    return hits


@check("deadline_passed", "document", lambda c: "目標日を過ぎても2回目の回答がない（評価日基準）")
def check_deadline_passed(cond: dict, doc: Document, ctx: Context) -> list[Hit]:
    hits = []
    for i in _checklist_no_items(doc):
        target = _date(i.target_date, doc)
        if target is None or target >= ctx.as_of or i.second_answer:
            continue
        hits.append(Hit([doc], [(doc, i)], fields=_base_fields(doc, i) | {"as_of": ctx.as_of.isoformat()},
                        finding=f"項目{i.item_id}の対応目標日 {target.isoformat()} を過ぎていますが"
                                f"（評価日 {ctx.as_of.isoformat()}）、2回目の確認結果がありません。"))
    return hits


# ---------------------------------------------------------------------------------------------
# group (cross-document) checks

def vendor_unknown(group: VendorGroup) -> bool:
    """A group of one document whose 事業者名 is blank and could not be recovered (rules.grouping gives it a
    「?<file>」 key). The blank name is a review item (incomplete.header_*), never a reason to claim that
    another document of the vendor is missing: we cannot tell whose documents they would be."""
    return group.key.startswith("?")


def _answered(doc: Document, concepts, answers, applicable_only=True) -> list[Item]:
    return [i for i in items_with_concepts(doc, concepts)
            if i.answer_status == ANSWERED and i.answer in answers
            and (not applicable_only or is_applicable(doc, i))]


@check("cross_answer", "group",
       lambda c: f"事業者確認用チェックリストの{_concepts_ja(c['checklist']['concepts'])}が"
                 f"{'・'.join(c['checklist']['answer_in'])}で、MDS/SDSの{_concepts_ja(c['disclosure']['concepts'])}が"
                 f"{'・'.join(c['disclosure']['answer_in'])}")
def check_cross_answer(cond: dict, group: VendorGroup, ctx: Context) -> list[Hit]:
    cl, ds = cond["checklist"], cond["disclosure"]
    families = cond.get("checklist_families", ["checklist_vendor"])
    hits = []
    for checklist in [d for d in group.documents if d.family in families]:
        cl_items = _answered(checklist, cl["concepts"], cl["answer_in"], applicable_only=False)
        if not cl_items:
            continue
        for disclosure in group.disclosures():
            if not same_product(checklist, disclosure):
                continue
            ds_items = _answered(disclosure, ds["concepts"], ds["answer_in"])
            if not ds_items:
                continue
            c0, d0 = cl_items[0], ds_items[0]
            fields = {"checklist_item": c0.item_id, "checklist_answer": c0.answer,
                      "disclosure_item": d0.item_id, "disclosure_answer": d0.answer,
                      "disclosure_family": disclosure.family.upper()}
            hits.append(Hit([checklist, disclosure], [(checklist, i) for i in cl_items] + [(disclosure, i) for i in ds_items],
                            fields=fields, product=disclosure.product,
                            finding=f"事業者確認用チェックリスト {c0.item_id}「{question_of(checklist, c0)}」は「{c0.answer}」"
                                    f"ですが、{disclosure.family.upper()} {d0.item_id}「{question_of(disclosure, d0)}」は"
                                    f"「{d0.answer}」です。"))
    return hits


@check("sds_required", "group",
       lambda c: f"MDSで{_concepts_ja(c.get('concepts', ['remote_maintenance']))}が{'・'.join(c.get('answer_in', ['該当']))}"
                 "（オンプレミス＋リモート保守）なのに、同じ製品のSDSも、同じ事業者のリモート保守サービスのSDSもない")
def check_sds_required(cond: dict, group: VendorGroup, ctx: Context) -> list[Hit]:
    if vendor_unknown(group):
        return []
    hits = []
    sdss = [d for d in group.documents if d.family == "sds"]
    words = cond.get("service_words", ())  # a vendor's SDS for a service of this kind covers all its products
    for mds in [d for d in group.documents if d.family == "mds"]:
        trigger = _answered(mds, cond.get("concepts", ["remote_maintenance"]), cond.get("answer_in", [APPLICABLE]))
        if not trigger or any(same_product(mds, s) or is_service_sds(s, words) for s in sdss):
            continue
        unnamed = len(product_key(mds)) < MIN_PARTIAL_PRODUCT_KEY  # unreadable name: a review item
        hits.append(Hit([mds], [(mds, trigger[0])], fields={"product": mds.product}, needs_review=unnamed,
                        finding=f"MDSの項目{trigger[0].item_id}でリモートメンテナンスが「{trigger[0].answer}」ですが、"
                                f"製品「{mds.product or '（製品名不明）'}」のSDSが提出されていません。"
                                + ("製品名が読み取れないため、提出済みのSDSと照合できません。原本で製品名を確認してください。"
                                   if unnamed else "")))
    return hits


@check("disclosure_missing", "group",
       lambda c: "事業者確認用チェックリストでMDS/SDSを提出済み（はい）と回答しているのに、MDS/SDSが一通もない")
def check_disclosure_missing(cond: dict, group: VendorGroup, ctx: Context) -> list[Hit]:
    if vendor_unknown(group):
        return []
    hits = []
    for checklist in group.checklists("checklist_vendor"):
        said = _answered(checklist, cond.get("concepts", ["mds_sds_submitted"]), cond.get("answer_in", [YES]),
                         applicable_only=False)
        if not said:
            continue
        if any(same_product(checklist, d) for d in group.disclosures()):
            continue
        hits.append(Hit([checklist], [(checklist, said[0])], fields={},
                        finding=f"チェックリスト {said[0].item_id} でMDS/SDSを提出済みと回答していますが、"
                                "この事業者のMDS/SDSは受領書類の中にありません。"))
    return hits


__all__ = ["CHECKS", "Hit", "Context", "describe_condition", "DISCLOSURE_FAMILIES", "CHECKLIST_FAMILIES"]

# Checks in sibling modules register themselves on import (they use the helpers above).
from rules import checks_cross, checks_stale, checks_text  # noqa: E402,F401
from rules import checks_gl7  # noqa: E402,F401  (guideline 第7.0版 checks)
