"""Document checks on answers: the answer itself, its status, rows missing from the form, blank header fields,
gates (a child answered under a closed parent) and checklist deadlines.

Imported by `rules.checks` so that the checks register; each is named by a rule in `rules/catalog/*.yaml`.
"""
from __future__ import annotations

import datetime as dt

from extractors.forms import get_form
from extractors.model import Document, Item
from extractors.vocabulary import AFFIRMATIVE, NO, YES
from rules.check_base import (ANSWERED, Context, Hit, _base_fields, _concept_text, _date, _is_na_mark, _item_filter,
                              catalogue_item, check, concept_of, failing_gate, fiscal_year_of, is_applicable,
                              is_reference_tier, question_of, takes_answer)
from rules.concept_maps import concept_mappings


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


def system_not_used(doc: Document) -> bool:
    """Checklist preamble 有無 = いいえ (no medical information system): every other row may stay blank."""
    return any(concept_of(doc, i) == "has_system" and i.answer_status == ANSWERED and i.answer == NO
               for i in doc.items)


# Hospital checklist rows about vendors: blank is allowed when the hospital has no vendor contract (R5).
VENDOR_ROW_CONCEPTS = frozenset(concept_mappings().vendor_row_concepts)


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
        bad = set(AFFIRMATIVE) | ({NO} if parent_cat is not None and parent_cat.gate else set())
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
