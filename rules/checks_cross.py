"""Consistency checks of mapping.md §3 beyond single answers: transports (rule 3), remote maintenance named
in a checklist vs the MDS (rule 9), and the hospital's 医療機関確認用 checklist vs vendor documents (rules 14–17).

Which concepts back which is rule data: `rules/mappings/concepts.yaml` (validated by rules.concept_maps).
Imported by `rules.checks` so that the checks register; each is named by a rule in `rules/catalog/*.yaml`.
"""
from __future__ import annotations

import re

from extractors.model import Document, Item
from extractors.text import normalize_text
from extractors.vocabulary import AFFIRMATIVE, APPLICABLE, NO, NOT_APPLICABLE, NOT_APPLICABLE_GATE, YES
from rules.check_base import (ANSWERED, Context, Hit, check, concept_label, concept_of, effective_answer,
                              is_applicable, is_reference_tier, items_with_concepts, question_of, vendor_unknown)
from rules.concept_maps import concept_mappings, transport_words
from rules.grouping import FACILITY_KEY, VendorGroup, same_product
from rules.remarks import analyze, split_sentences

_MAPPINGS = concept_mappings()
TRANSPORT_CONCEPTS = tuple(_MAPPINGS.transport_concepts)
# Line types a remark may name → the 12.3.1.1 bullets that would cover them.
TRANSPORT_WORDS = transport_words(_MAPPINGS)
# Rows whose remark describes the line used (not 12.2, whose remark tells how data is encrypted on it).
LINE_REMARK_CONCEPTS = {*_MAPPINGS.line_remark_concepts, *TRANSPORT_CONCEPTS}


def _negated(sentence: str) -> bool:
    return any(s.cls in ("negation", "contradiction", "limitation") and s.sentence == sentence
               for s in analyze(sentence))


def transports_named(sentence: str) -> list[tuple[tuple[str, ...], str, str]]:
    """(bullet concepts, label, words as written) for each line type a sentence names."""
    text = normalize_text(sentence)
    found = []
    for pattern, concepts, label in TRANSPORT_WORDS:
        m = pattern.search(text)
        if m:
            found.append((concepts, label, m.group(0)))
    # 「IPsec-VPN」 also contains no 「IP-VPN」; 「インターネットVPN」 is IPsec: nothing else to untangle.
    return found


def _bullets(doc: Document) -> list[Item]:
    return [i for i in doc.items if concept_of(doc, i) in TRANSPORT_CONCEPTS]


def _gate(doc: Document, concept: str) -> Item | None:
    return next((i for i in doc.items if concept_of(doc, i) == concept and i.answer_status == ANSWERED), None)


@check("transport_required", "document",
       lambda c: "外部通信・リモートメンテナンス（12）が該当なのに、通信方式（12.3.1.1）がいずれも該当でない")
def check_transport_required(cond: dict, doc: Document, ctx: Context) -> list[Hit]:
    gate = _gate(doc, "external_communication")
    bullets = _bullets(doc)
    if gate is None or gate.answer != APPLICABLE or not bullets:
        return []
    if any(b.answer == APPLICABLE for b in bullets):
        return []
    if any(b.answer_status != ANSWERED for b in bullets):
        return []  # an unmarked bullet is reported as unanswered; we cannot tell which line was meant
    return [Hit([doc], [(doc, gate)] + [(doc, b) for b in bullets],
                fields={"item_id": gate.item_id},
                finding=f"項目{gate.item_id}で外部との通信・リモートメンテナンスが「該当」ですが、"
                        f"対応する通信方式（{'・'.join(b.item_id.split('/', 1)[-1] for b in bullets)}）が"
                        "いずれも「該当」になっていません。")]


@check("transport_remark", "document",
       lambda c: "備考に書かれた回線種別（IP-VPN、専用線、閉域網等）が、通信方式（12.3.1.1）で「該当」になっていない")
def check_transport_remark(cond: dict, doc: Document, ctx: Context) -> list[Hit]:
    bullets = _bullets(doc)
    gate = _gate(doc, "external_communication")
    if not bullets or (gate is not None and gate.answer == NOT_APPLICABLE_GATE):
        return []
    by_concept = {concept_of(doc, b): b for b in bullets}
    hits = []
    for item in doc.items:
        if concept_of(doc, item) not in LINE_REMARK_CONCEPTS or not item.remark.strip():
            continue
        for sentence in split_sentences(item.remark):
            if _negated(sentence):
                continue  # 「専用線は使用しません」 agrees with a 非該当
            for concepts, label, written in transports_named(sentence):
                rows = [by_concept[c] for c in concepts if c in by_concept]
                if not rows or any(r.answer == APPLICABLE for r in rows):
                    continue
                if not all(r.answer_status == ANSWERED for r in rows):
                    continue
                names = "・".join(r.item_id.split("/", 1)[-1] for r in rows)
                hits.append(Hit([doc], [(doc, item)] + [(doc, r) for r in rows if r is not item], quote=sentence,
                                fields={"item_id": item.item_id, "quote": sentence, "line": written,
                                        "bullets": names},
                                finding=f"項目{item.item_id}の備考は回線「{written}」（{label}）を挙げていますが、"
                                        f"通信方式の「{names}」は「該当」になっていません:「{sentence}」"))
    return hits


_REMOTE_WORDS = re.compile(_MAPPINGS.remote_maintenance_words)


def _affirms_remote_maintenance(doc: Document) -> str:
    """A checklist sentence (row remark or コメント) that says the vendor remote-maintains something."""
    texts = [i.remark for i in doc.items if i.remark.strip()] + [doc.comment]
    for text in texts:
        for sentence in split_sentences(text):
            if _REMOTE_WORDS.search(normalize_text(sentence)) and not _negated(sentence):
                return sentence
    return ""


@check("remote_maintenance_unlisted", "group",
       lambda c: "事業者確認用チェックリストがリモートメンテナンスを行うと記載しているのに、"
                 "その事業者のMDS/SDSはいずれもリモートメンテナンス機能（12.4）が非該当")
def check_remote_maintenance_unlisted(cond: dict, group: VendorGroup, ctx: Context) -> list[Hit]:
    hits = []
    for checklist in group.checklists("checklist_vendor"):
        inventory = [i for i in items_with_concepts(checklist, ["remote_maintenance_inventory"])
                     if effective_answer(i) == YES]
        if not inventory:
            continue
        sentence = _affirms_remote_maintenance(checklist)
        if not sentence:
            continue
        disclosures = [d for d in group.disclosures() if same_product(checklist, d)]
        rm = [(d, i) for d in disclosures for i in items_with_concepts(d, ["remote_maintenance"])
              if i.answer_status == ANSWERED]
        if not rm or any(i.answer == APPLICABLE for _, i in rm):
            continue
        hits.append(Hit([checklist] + [d for d, _ in rm], [(checklist, inventory[0])] + rm, quote=sentence,
                        fields={"quote": sentence},
                        finding=f"チェックリストはリモートメンテナンスを行うと記載していますが（「{sentence}」）、"
                                "MDS/SDSではリモートメンテナンス機能が「非該当」です。何を遠隔保守しているか確認が必要です。"))
    return hits


# ------------------------------------------------------------------------------ hospital vs vendors

def _vendor_groups(ctx: Context) -> list[VendorGroup]:
    return [g for g in ctx.groups if g.key != FACILITY_KEY]


def _facility_rows(doc: Document, concepts) -> list[Item]:
    """Rows of the hospital checklist for these concepts, without 参考項目 (R5: may be blank or いいえ)."""
    return [i for i in items_with_concepts(doc, concepts) if not is_reference_tier(doc, i)]


@check("facility_remote_inventory", "group",
       lambda c: "医療機関確認用チェックリストでリモートメンテナンス機器の確認（2(2)）が「いいえ」なのに、"
                 "事業者のMDS/SDSではリモートメンテナンス機能が該当")
def check_facility_remote_inventory(cond: dict, group: VendorGroup, ctx: Context) -> list[Hit]:
    hits = []
    for facility in group.checklists("checklist_facility"):
        rows = [i for i in _facility_rows(facility, ["remote_maintenance_inventory"]) if effective_answer(i) == NO]
        if not rows:
            continue
        for vendor in _vendor_groups(ctx):
            for d in vendor.disclosures():
                rm = [i for i in items_with_concepts(d, ["remote_maintenance"])
                      if i.answer_status == ANSWERED and i.answer == APPLICABLE]
                if not rm:
                    continue
                hits.append(Hit([facility, d], [(facility, rows[0]), (d, rm[0])], group=vendor, product=d.product,
                                fields={"product": d.product},
                                finding=f"医療機関確認用チェックリスト {rows[0].item_id}（リモートメンテナンス機器の確認）が"
                                        f"「いいえ」ですが、{vendor.vendor}の「{d.product or '製品名不明'}」はMDS/SDSで"
                                        "リモートメンテナンス機能が「該当」です。"))
    return hits


@check("facility_disclosure_missing", "group",
       lambda c: "医療機関確認用チェックリストでMDS/SDSを提出してもらった（2(3)）が「はい」なのに、"
                 "書類を提出した事業者のうちMDS/SDSがない事業者がある")
def check_facility_disclosure_missing(cond: dict, group: VendorGroup, ctx: Context) -> list[Hit]:
    hits = []
    for facility in group.checklists("checklist_facility"):
        rows = [i for i in _facility_rows(facility, ["mds_sds_submitted"]) if effective_answer(i) == YES]
        if not rows:
            continue
        for vendor in _vendor_groups(ctx):
            if vendor.disclosures() or not vendor.documents or vendor_unknown(vendor):
                continue
            docs = vendor.documents
            hits.append(Hit([facility] + docs, [(facility, rows[0])], group=vendor, product="",
                            finding=f"医療機関確認用チェックリスト {rows[0].item_id} はMDS/SDSを受領済み（「はい」）と"
                                    f"していますが、{vendor.vendor}のMDS/SDSは受領書類の中にありません。"))
    return hits


# Hospital checklist row → the MDS/SDS concepts that back it (mapping.md rule 16).
FACILITY_BACKING = {row: tuple(concepts) for row, concepts in _MAPPINGS.facility_backing.items()}


@check("facility_unbacked_yes", "group",
       lambda c: "医療機関確認用チェックリストが「はい」の項目について、事業者のMDS/SDSが「いいえ」、"
                 "又は備考で機能を否定・制限している")
def check_facility_unbacked_yes(cond: dict, group: VendorGroup, ctx: Context) -> list[Hit]:
    backing = cond.get("backing") or FACILITY_BACKING
    remark_classes = set(cond.get("remark_classes", ["contradiction", "limitation"]))
    answers = set(cond.get("answer_in", [NO, NOT_APPLICABLE]))
    hits = []
    for facility in group.checklists("checklist_facility"):
        for fconcept, dconcepts in backing.items():
            rows = [i for i in _facility_rows(facility, [fconcept]) if effective_answer(i) == YES]
            if not rows:
                continue
            for vendor in _vendor_groups(ctx):
                for d in vendor.disclosures():
                    bad: list[Item] = []
                    quote = ""
                    for i in items_with_concepts(d, dconcepts):
                        if i.answer_status != ANSWERED or not is_applicable(d, i):
                            continue
                        if i.answer in answers:
                            bad.append(i)
                        elif i.answer in AFFIRMATIVE:
                            sig = [s for s in analyze(i.remark) if s.cls in remark_classes]
                            if sig:
                                bad.append(i)
                                quote = quote or sig[0].sentence
                    if not bad:
                        continue
                    b = bad[0]
                    how = f"備考「{quote}」" if b.answer in AFFIRMATIVE else f"回答「{b.answer}」"
                    hits.append(Hit([facility, d], [(facility, rows[0])] + [(d, i) for i in bad], group=vendor,
                                    product=d.product, quote=quote,
                                    fields={"facility_item": rows[0].item_id, "disclosure_item": b.item_id},
                                    finding=f"医療機関確認用チェックリスト {rows[0].item_id}「{question_of(facility, rows[0])}」は"
                                            f"「はい」ですが、{vendor.vendor}の「{d.product or '製品名不明'}」"
                                            f"{d.family.upper()} {b.item_id}「{question_of(d, b)}」は{how}です。"
                                            "代替策がなければ病院の「はい」は裏付けがありません。"))
    return hits


# Where a hospital-side duty (C2 remark) on an MDS/SDS row should show in the hospital's checklist (rule 17).
DUTY_TARGETS = {concept: tuple(rows) for concept, rows in _MAPPINGS.duty_targets.items()}


@check("facility_duty_not_done", "group",
       lambda c: "MDS/SDSの備考で医療機関側の対応とされた事項について、医療機関確認用チェックリストの対応項目が「はい」でない")
def check_facility_duty_not_done(cond: dict, group: VendorGroup, ctx: Context) -> list[Hit]:
    hits = []
    for facility in group.checklists("checklist_facility"):
        for vendor in _vendor_groups(ctx):
            for d in vendor.disclosures():
                for i in d.items:
                    targets = DUTY_TARGETS.get(concept_of(d, i))
                    if not targets or not i.remark.strip() or i.answer_status != ANSWERED:
                        continue
                    duty = [s for s in analyze(i.remark) if s.cls == "duty_shift"]
                    if not duty:
                        continue
                    rows = [r for r in items_with_concepts(facility, targets) if r.item_id]
                    if not rows or any(effective_answer(r) == YES for r in rows):
                        continue
                    row = rows[0]
                    hits.append(Hit([facility, d], [(d, i), (facility, row)], group=vendor, product=d.product,
                                    quote=duty[0].sentence, fields={"quote": duty[0].sentence},
                                    finding=f"{vendor.vendor}の{d.family.upper()} {i.item_id}の備考は医療機関側の対応を求めています"
                                            f"（「{duty[0].sentence}」）が、医療機関確認用チェックリストの対応項目 {row.item_id}"
                                            f"「{question_of(facility, row)}」は「{effective_answer(row) or '空欄'}」です。"))
    return hits


__all__ = ["transports_named", "TRANSPORT_CONCEPTS", "FACILITY_BACKING", "DUTY_TARGETS", "concept_label"]
