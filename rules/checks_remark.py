"""Document checks on remarks: what a 備考 or the checklist コメント box says (pattern classes, promised dates,
rows a comment names), remarks the form asks for, footnotes that point nowhere, 「=」「-」 without a reason.

Imported by `rules.checks` so that the checks register; each is named by a rule in `rules/catalog/*.yaml`.
"""
from __future__ import annotations

import re

from extractors.forms import CatalogueItem
from extractors.model import Document, Item
from extractors.text import normalize_text, parse_date
from extractors.vocabulary import NO
from rules.check_base import (ANSWERED, Context, Hit, _base_fields, _concept_text, _in, _is_na_mark, _item_filter,
                              _remark_blank, catalogue_item, check, fiscal_year_of, is_applicable, question_of)
from rules.remarks import class_label, signals_of, split_sentences


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
