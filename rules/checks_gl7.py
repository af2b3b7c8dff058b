"""Checks of the gl7 rule family (安全管理ガイドライン第7.0版, 令和8年度 checklist): two-factor authentication against
its reference date, planned-only 2FA, and what the register and the memo need from 第7.0版 (risk assessment of
いいえ answers, the vendor's security-update responsibility).

The dates and lists are data (`rules/gl7_data.yaml`). Imported by `rules.checks` so that the checks register.
"""
from __future__ import annotations

import datetime as dt

from extractors.model import NO, YES, Document, Item
from extractors.text import normalize_text
from rules.check_base import (
    ANSWERED,
    Context,
    Hit,
    _base_fields,
    _item_filter,
    check,
    concept_of,
    effective_answer,
    fiscal_year_of,
    is_applicable,
    question_of,
)
from rules.checks_remark import plan_date
from rules.gl7_data import gl7_data
from rules.grouping import CHECKLIST_FAMILIES
from rules.remarks import class_label, signals_of, split_sentences


def _reference_date() -> dt.date:
    return gl7_data().two_factor.reference_date


def countdown(as_of: dt.date, reference: dt.date) -> str:
    """「基準日 2027-04-01 まであと 182 日」 / 「基準日 2027-04-01 を 3 日過ぎています」 (from the evaluation date)."""
    days = (reference - as_of).days
    if days > 0:
        return f"基準日 {reference.isoformat()} まであと {days} 日（評価日 {as_of.isoformat()}）"
    if days == 0:
        return f"評価日 {as_of.isoformat()} が基準日 {reference.isoformat()} です"
    return f"基準日 {reference.isoformat()} を {-days} 日過ぎています（評価日 {as_of.isoformat()}）"


def current_answer(doc: Document, item: Item) -> str:
    """The answer that counts now: a checklist's 2回目 when given, else the answer read."""
    if doc.family in CHECKLIST_FAMILIES:
        return effective_answer(item)
    return item.answer if item.answer_status == ANSWERED else ""


@check("gl7_two_factor_deadline", "document",
       lambda c: f"二要素認証の項目が{'・'.join(c.get('answer_in', ['いいえ']))}（基準日 令和9年4月1日までの日数を評価日から数える）")
def check_two_factor_deadline(cond: dict, doc: Document, ctx: Context) -> list[Hit]:
    reference = _reference_date()
    hits = []
    for item in _item_filter(doc, {"concepts": cond.get("concepts", ["two_factor_auth"])}):
        answer = current_answer(doc, item)
        if answer not in cond.get("answer_in", [NO]) or not is_applicable(doc, item):
            continue
        left = countdown(ctx.as_of, reference)
        target = f"（チェックリストの対応目標日 {item.target_date}）" if item.target_date else ""
        fields = _base_fields(doc, item) | {"countdown": left, "reference_date": reference.isoformat(),
                                            "days_left": str((reference - ctx.as_of).days)}
        hits.append(Hit([doc], [(doc, item)], fields=fields, extra_evidence=[left],
                        finding=f"項目{item.item_id}「{question_of(doc, item)}」は「{answer}」です{target}。"
                                f"二要素認証は{left}。"))
    return hits


@check("gl7_two_factor_planned", "document",
       lambda c: "二要素認証の項目が「はい」だが備考では予定（予定・次期・対応予定など）で、導入時期の確認が必要")
def check_two_factor_planned(cond: dict, doc: Document, ctx: Context) -> list[Hit]:
    reference = _reference_date()
    hits = []
    for item in _item_filter(doc, {"concepts": cond.get("concepts", ["two_factor_auth"])}):
        if current_answer(doc, item) != YES or not item.remark.strip():
            continue
        plans = signals_of(item.remark, ["plan"])
        if not plans:
            continue
        when = plan_date(plans[0].sentence, fiscal_year_of(doc))
        fields = _base_fields(doc, item) | {"quote": plans[0].sentence, "plan_date": when or "記載なし",
                                            "reference_date": reference.isoformat(),
                                            "countdown": countdown(ctx.as_of, reference)}
        ask = (f"予定時期は「{when}」とされています。" if when else "導入の時期が書かれていません。")
        hits.append(Hit([doc], [(doc, item)], fields=fields, quote=plans[0].sentence,
                        extra_evidence=[f"予定時期: {when or '記載なし（時期を確認すること）'}",
                                        countdown(ctx.as_of, reference)],
                        finding=f"項目{item.item_id}「{question_of(doc, item)}」は「はい」ですが、備考は"
                                f"{class_label('plan')}です:「{plans[0].sentence}」。{ask}"
                                f"導入予定日を書面で確認してください（二要素認証の基準日 {reference.isoformat()}）。"))
    return hits


@check("gl7_answer_now", "document",
       lambda c: f"項目（{'・'.join(c.get('concepts', []))}）の現在の回答（チェックリストは2回目を優先）が"
                 f"{'・'.join(c.get('answer_in', []))}")
def check_answer_now(cond: dict, doc: Document, ctx: Context) -> list[Hit]:
    """Like the `answer` check, but a checklist row counts by its current answer (a 2回目 はい closes it)."""
    hits = []
    for item in _item_filter(doc, {"concepts": cond.get("concepts", [])}):
        answer = current_answer(doc, item)
        if answer not in cond.get("answer_in", [NO]) or not is_applicable(doc, item):
            continue
        target = f"（対応目標日 {item.target_date}）" if item.target_date else ""
        hits.append(Hit([doc], [(doc, item)], fields=_base_fields(doc, item),
                        finding=f"項目{item.item_id}「{question_of(doc, item)}」の回答が「{answer}」です{target}。"))
    return hits


# ---------------------------------------------------------------------------------------------------------------
# What the register and the memo need (not checks: functions over documents and findings).

def needs_risk_assessment(doc: Document, item: Item) -> bool:
    """第7.0版 保守委託機関編 10章: an MDS/SDS いいえ, or a 【別紙】 item not answered はい/対象外, needs a recorded
    risk assessment. Rows behind a closed gate (12 非該当 → 12.x 対象外) are answered as the form asks."""
    if doc.family not in ("mds", "sds"):
        return False
    data = gl7_data()
    answer = item.answer if item.answer_status == ANSWERED else ""
    if answer == NO:
        return is_applicable(doc, item)
    concept = concept_of(doc, item)
    if concept in data.betsushi_concepts(doc.family) and item.kind != "group":
        return answer not in data.betsushi.accepted_answers and is_applicable(doc, item)
    return False


def risk_assessment_ids(findings, documents: list[Document]) -> set[str]:
    """risk_ids of the findings that name an MDS/SDS item needing a recorded risk assessment."""
    by_id = {d.document_id: d for d in documents}
    out: set[str] = set()
    for f in findings:
        for doc_id in f.document_ids:
            doc = by_id.get(doc_id)
            if doc is None:
                continue
            if any((it := doc.item(i)) is not None and needs_risk_assessment(doc, it) for i in f.item_ids):
                out.add(f.risk_id)
                break
    return out


def vendor_maintains(documents: list[Document]) -> list[tuple[Document, Item]]:
    """Rows saying the vendor maintains or patches the system (remote maintenance 該当, checklist 2(2)/patch はい)."""
    wanted = gl7_data().update_responsibility.vendor_maintains
    rows = []
    for doc in documents:
        if doc.family == "checklist_facility":
            continue
        for item in doc.items:
            answers = wanted.get(concept_of(doc, item))
            if answers and current_answer(doc, item) in answers:
                rows.append((doc, item))
    return rows


def update_responsibility_stated(documents: list[Document]) -> str:
    """The first remark or comment sentence of these documents that states the vendor's update responsibility."""
    patterns = gl7_data().responsibility_patterns
    texts = [i.remark for d in documents for i in d.items if i.remark] + [d.comment for d in documents if d.comment]
    for text in texts:
        for sentence in split_sentences(text):
            if any(p.search(normalize_text(sentence)) for p in patterns):
                return sentence
    return ""
