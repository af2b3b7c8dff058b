"""Group (cross-document) checks of one vendor's documents: a checklist answer against the MDS/SDS, an SDS the
MDS calls for, MDS/SDS the checklist says were sent.

Imported by `rules.checks` so that the checks register; each is named by a rule in `rules/catalog/*.yaml`.
"""
from __future__ import annotations

from extractors.vocabulary import APPLICABLE, YES
from rules.check_base import Context, Hit, _answered, _concepts_ja, check, question_of, vendor_unknown
from rules.grouping import MIN_PARTIAL_PRODUCT_KEY, VendorGroup, is_service_sds, product_key, same_product


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
       lambda c: f"MDSで{_concepts_ja(c.get('concepts', ['remote_maintenance']))}が{'・'.join(c.get('answer_in', [APPLICABLE]))}"
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
