"""MDS2 (NEMA HN 1-2019) checks: contradictions inside one MDS2 and the vendor's own words after an answer.

- `mds2_parent_child`: a question answered No (いいえ) while one of its sub-questions (PAUT-14 → PAUT-14.1 by the
  catalogue's parent links) or a question it gates (SBOM-1 → SBOM-2, the catalogue's `requires`) is answered Yes.
- `mds2_answer_pair`: two concepts answered in a way that cannot both hold (remote service Yes while
  remote-session logging No): `first` and `second`, each `{concepts, answer_in}`.
- `mds2_words`: the words an MDS2 answer carries in English (「Yes, optional」「admin only」「disabled by
  default」); the trigger words are the rule's data (`words`), matched as whole words, case-insensitive.
"""
from __future__ import annotations

import re

from extractors.model import Document
from extractors.vocabulary import NO, YES
from rules.check_base import ANSWERED, Context, Hit, catalogue_item, check


def _answered(doc: Document):
    return [i for i in doc.items if i.answer_status == ANSWERED and i.answer]


@check("mds2_parent_child", "document", lambda c: "MDS2で上位の質問が「いいえ」なのに下位の質問が「はい」")
def check_parent_child(cond: dict, doc: Document, ctx: Context) -> list[Hit]:
    if doc.family != "mds2":
        return []
    by_id = {i.item_id: i for i in _answered(doc)}
    hits = []
    for child in by_id.values():
        if child.answer != YES:
            continue
        cat = catalogue_item(doc, child)
        gates = [child.parent_id] + [g for g, answer in (cat.requires if cat else ()) if answer == YES]
        parent = next((by_id[g] for g in gates if g in by_id and by_id[g].answer == NO), None)
        if parent is None:
            continue
        hits.append(Hit([doc], [(doc, parent), (doc, child)], fields={"item_id": child.item_id},
                        finding=(f"項目{parent.item_id}「{parent.question}」が「いいえ」ですが、その下位の項目"
                                 f"{child.item_id}「{child.question}」が「はい」です。")))
    return hits


def _matching(doc: Document, side: dict) -> list:
    concepts = set(side.get("concepts", []))
    return [i for i in _answered(doc) if i.concept in concepts and i.answer in side.get("answer_in", [])]


@check("mds2_answer_pair", "document",
       lambda c: f"MDS2で {'・'.join(c['first'].get('concepts', []))} と {'・'.join(c['second'].get('concepts', []))} "
                 "の回答が両立しない")
def check_answer_pair(cond: dict, doc: Document, ctx: Context) -> list[Hit]:
    if doc.family != "mds2":
        return []
    first, second = _matching(doc, cond["first"]), _matching(doc, cond["second"])
    if not first or not second:
        return []
    a, b = first[0], second[0]
    return [Hit([doc], [(doc, a), (doc, b)], fields={"item_id": a.item_id},
                finding=(f"項目{a.item_id}「{a.question}」は「{a.answer}」ですが、項目{b.item_id}「{b.question}」は"
                         f"「{b.answer}」です。"))]


@check("mds2_words", "document", lambda c: f"MDS2の回答に添えた語（{'、'.join(c.get('words', []))}）")
def check_words(cond: dict, doc: Document, ctx: Context) -> list[Hit]:
    if doc.family != "mds2" or not cond.get("words", []):
        return []
    pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in cond.get("words", [])) + r")\b", re.I)
    hits = []
    for item in _answered(doc):
        if item.answer not in cond.get("answer_in", [YES]):
            continue
        if m := pattern.search(item.remark or ""):
            hits.append(Hit([doc], [(doc, item)], fields={"item_id": item.item_id}, quote=m.group(0),
                            finding=(f"項目{item.item_id}「{item.question}」は「{item.answer_raw}」と回答し、"
                                     f"「{m.group(0)}」と書いています。")))
    return hits
