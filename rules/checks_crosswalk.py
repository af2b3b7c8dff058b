"""MDS2 ↔ JAHIS MDS/SDS cross-walk: one vendor sent the US MDS2 and a JAHIS disclosure for the same product, and
the two answer a question both forms ask (rules/mappings/concepts.yaml `mds2_crosswalk`) the other way round.

- Vendor: the same vendor group (rules.grouping), or an MDS2 whose manufacturer name `mdsgap.yaml`
  `vendor_aliases` maps to the JAHIS document's vendor (or back): 「Kestrel Imaging Systems, Inc.」 →
  「ケストレル・イメージング株式会社」. The finding belongs to the JAHIS document's vendor.
- Product: the MDS2's Device Description (DOC-2) or Device Model (DOC-3) names the JAHIS product, as MDS↔SDS
  pair (rules.grouping.same_product; a blank or unreadable name matches nothing).
- Answers: only はい/いいえ (該当/非該当 by their meaning) are compared. 対象外, a blank, a 「See Note」 answer
  and an answer the vendor made option-dependent (English words after the MDS2 answer or in its note:
  `option_words`; a JAHIS remark of the `skip_classes` remark classes, default option) never contradict.
  A pair whose MDS2 asks the negated question is never compared; `contradicts` limits a pair to one direction.
"""
from __future__ import annotations

import dataclasses
import functools
import re

from extractors.model import Document, Item
from extractors.vocabulary import CHOICE, NO, YES
from rules.check_base import ANSWERED, Context, Hit, check, is_applicable, items_with_concepts, question_of
from rules.concept_maps import concept_mappings
from rules.grouping import VendorGroup, same_product, vendor_key
from rules.remarks import signals_of


def _polar(item: Item) -> str:
    """はい or いいえ by the answer's meaning (該当 → はい, 非該当 → いいえ); "" for 対象外, blank or unread."""
    if item.answer_status != ANSWERED or item.answer not in CHOICE:
        return ""
    column = CHOICE[item.answer].column
    return column if column in (YES, NO) else ""


def _linked_mds2(group: VendorGroup, ctx: Context) -> list[Document]:
    """The group's own MDS2 and those of another group whose vendor name the alias table ties to this one."""
    own = [d for d in group.documents if d.family == "mds2"]
    aliases = {vendor_key(k): vendor_key(v) for k, v in (ctx.vendor_aliases or {}).items()
               if vendor_key(k) and vendor_key(v)}
    if not aliases or not group.key:
        return own
    tied = {a for a, b in aliases.items() if b == group.key} | ({aliases[group.key]} if group.key in aliases else set())
    other = [d for g in ctx.groups if g is not group for d in g.documents
             if d.family == "mds2" and vendor_key(d.vendor) in tied]
    return own + other


def _same_product(mds2: Document, jahis: Document) -> bool:
    """The MDS2's device description or model names the JAHIS product (both read as disclosures: a blank name
    matches nothing)."""
    names = dict.fromkeys(n for n in (mds2.product, mds2.product_version) if n and n.strip())
    return any(same_product(dataclasses.replace(mds2, family=jahis.family, product=n), jahis) for n in names)


@functools.lru_cache(maxsize=64)
def _whole_words(words: tuple[str, ...]) -> re.Pattern | None:
    """Any of `words` as a whole word, ignoring case (None for no words): built once per rule's word list."""
    return re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b", re.I) if words else None


def _option_dependent(doc: Document, item: Item, cond: dict) -> bool:
    if doc.family == "mds2":
        pattern = _whole_words(tuple(cond.get("option_words", [])))
        return pattern is not None and pattern.search(f"{item.answer_raw}\n{item.remark}") is not None
    return bool(item.remark.strip()) and bool(signals_of(item.remark, cond.get("skip_classes", ["option"])))


def _compared(doc: Document, items: list[Item], cond: dict) -> list[Item]:
    return [i for i in items if _polar(i) and is_applicable(doc, i) and not _option_dependent(doc, i, cond)]


@check("mds2_crosswalk", "group",
       lambda c: "同じ製品のMDS2とJAHIS様式のMDS/SDSで、両方が問う項目（二要素認証・監査ログ・リモートサービスなど）の"
                 "はい／いいえが食い違う")
def check_mds2_crosswalk(cond: dict, group: VendorGroup, ctx: Context) -> list[Hit]:
    families = cond.get("families", ["mds", "sds"])
    jahis_docs = [d for d in group.documents if d.family in families]
    if not jahis_docs:
        return []
    mds2_docs = _linked_mds2(group, ctx)
    hits = []
    for mds2 in mds2_docs:
        by_id = {i.item_id: i for i in mds2.items}
        for jahis in jahis_docs:
            if not _same_product(mds2, jahis):
                continue
            for pair in concept_mappings().mds2_crosswalk:
                if pair.polarity != "same":
                    continue  # the MDS2 asks the opposite question: はい on both sides is no agreement either
                m_items = _compared(mds2, [by_id[q] for q in pair.mds2 if q in by_id], cond)
                j_items = _compared(jahis, items_with_concepts(jahis, pair.concepts), cond)
                for j in j_items:
                    against = [m for m in m_items if _contradicts(_polar(m), _polar(j), pair.contradicts)]
                    if against:
                        hits.append(_hit(mds2, against, jahis, j, pair))
    return hits


def _contradicts(mds2_answer: str, jahis_answer: str, direction: str) -> bool:
    if mds2_answer == jahis_answer:
        return False
    return direction == "both" or (direction == "mds2_yes" and mds2_answer == YES) or \
        (direction == "mds2_no" and mds2_answer == NO)


def _hit(mds2: Document, against: list[Item], jahis: Document, j: Item, pair) -> Hit:
    """One finding per JAHIS row, naming every MDS2 question of the pair that contradicts it (TXCF-2 and 2.1)."""
    family = jahis.family.upper()
    m = against[0]
    said = "、".join(f"{x.item_id}「{question_of(mds2, x)}」は「{x.answer_raw or x.answer}」（{x.answer}）" for x in against)
    fields = {"item_id": j.item_id, "mds2_item": m.item_id, "mds2_answer": m.answer_raw or m.answer,
              "jahis_item": j.item_id, "jahis_answer": j.answer, "jahis_family": family}
    finding = (f"同じ製品について、MDS2 {said}ですが、{family} {j.item_id}「{question_of(jahis, j)}」は「{j.answer}」"
               "です。どちらの回答が正しいか製造業者に確認してください。")
    # The engine quotes both items (file, item id, answer, remark, cell); the printed MDS2 answer is in the text.
    evidence = [f"対応づけの注意: {pair.note}"] if pair.note else []
    return Hit([jahis, mds2], [(jahis, j)] + [(mds2, x) for x in against], finding=finding, fields=fields,
               product=jahis.product, extra_evidence=evidence)
