"""Checks on the hospital's device ledger (scope "devices": run once per evaluation over `Context.ledgers`).

- `device_os_support`: a device whose OS is past (or, with `statuses: [eol_soon]`, near) its end of support;
- `device_no_disclosure`: a networked device whose maker sent no MDS/SDS covering it;
- `device_no_maintenance_checklist`: a remotely maintained device whose maintenance vendor (the maker when the
  ledger names none) sent no 事業者確認用 checklist.
A device matched to a document only uncertainly (rules.device_match) gives a hit marked needs_review: a person
confirms the match; it is never counted as covered or as missing silently.
"""
from __future__ import annotations

from rules.check_base import Context, Hit, check, items_with_concepts
from rules.device_match import DeviceAssessment, assess_devices
from rules.grouping import VendorGroup, vendor_key

STATUS_WORDS = {"eol": "サポート終了", "eol_soon": "サポート終了間近", "supported": "サポート中", "unknown": "不明"}


def assessments(ctx: Context) -> list[DeviceAssessment]:
    """The run's device assessments, computed once per Context."""
    cached = getattr(ctx, "_device_assessments", None)
    if cached is None:
        documents = [d for g in ctx.groups for d in g.documents]
        cached = assess_devices(ctx.ledgers, documents, ctx.as_of, ctx.os_eol, ctx.vendor_aliases)
        ctx._device_assessments = cached
    return cached


def _group(name: str) -> VendorGroup:
    return VendorGroup(key=vendor_key(name), vendor=name or "（製造業者の記載なし）")


def _device_label(a: DeviceAssessment) -> str:
    d = a.device
    return "、".join(x for x in (d.device_name, d.product, d.model) if x) or f"行{d.row}"


def _hit(a: DeviceAssessment, vendor: str, fields: dict[str, str], evidence: list[str], review: bool) -> Hit:
    d = a.device
    where = str(d.location) if d.location else a.ledger.source_file
    return Hit(documents=[a.ledger], item_ids=[f"機器:{d.device_name or d.product or d.model or d.row}"],
               fields={"device": _device_label(a), "department": d.department or "（部署の記載なし）"} | fields,
               extra_evidence=[f"機器台帳（{where}）: 機器名「{d.device_name}」製造業者「{d.vendor}」製品名「{d.product}」"
                               f"型番「{d.model}」OS「{d.os_raw}」設置場所「{d.department}」"] + evidence,
               needs_review=review or d.needs_review, product=d.product or d.model or d.device_name,
               group=_group(vendor))


def _describe_os(cond: dict) -> str:
    return "機器台帳のOSが" + "・".join(STATUS_WORDS[s] for s in cond.get("os_statuses", ["eol"])) + "の機器"


@check("device_os_support", "devices", _describe_os)
def device_os_support(cond: dict, ctx: Context) -> list[Hit]:
    wanted = set(cond.get("os_statuses", ["eol"]))
    hits = []
    for a in assessments(ctx):
        s = a.support
        if s.status not in wanted:
            continue
        fields = {"os": f"{s.os} {s.version}".strip(), "os_raw": a.device.os_raw,
                  "eol_date": s.eol_date.isoformat() if s.eol_date else ""}
        hits.append(_hit(a, a.device.vendor, fields, [f"サポート終了日 {fields['eol_date']}（出典: {s.source}）"],
                         review=bool(s.reason)))
    return hits


@check("device_no_disclosure", "devices", lambda cond: "ネットワークに接続された機器の製造業者のMDS/SDSがない")
def device_no_disclosure(cond: dict, ctx: Context) -> list[Hit]:
    hits = []
    for a in assessments(ctx):
        if a.network is not True or a.matches.certain(("mds", "sds")):
            continue
        doubtful = [m for m in a.matches.uncertain() if m.document.family in ("mds", "sds")]
        evidence = [f"照合候補（要確認）: {m.label()}" for m in doubtful] or ["照合できたMDS/SDS: なし"]
        maker_unknown = not a.device.vendor or a.device.vendor_is_maintainer
        if a.device.vendor_is_maintainer:
            evidence.append(f"機器台帳に製造業者の記載がなく、保守事業者「{a.device.maintenance_vendor}」で照合")
        hits.append(_hit(a, a.device.vendor, {}, evidence, review=bool(doubtful) or maker_unknown))
    return hits


@check("device_no_maintenance_checklist", "devices",
       lambda cond: "リモート保守の機器の保守事業者の事業者確認用チェックリストがない")
def device_no_maintenance_checklist(cond: dict, ctx: Context) -> list[Hit]:
    hits = []
    for a in assessments(ctx):
        if a.remote is not True:
            continue
        role = "maintenance" if a.device.maintenance_vendor else "maker"
        if a.matches.certain(("checklist_vendor",), role):
            continue
        vendor = a.device.maintenance_vendor or a.device.vendor
        doubtful = [m for m in a.matches.uncertain() if m.role == role and m.document.family == "checklist_vendor"]
        evidence = [f"照合候補（要確認）: {m.label()}" for m in doubtful] or ["照合できた事業者確認用チェックリスト: なし"]
        hits.append(_hit(a, vendor, {"maintenance_vendor": vendor}, evidence, review=bool(doubtful) or not vendor))
    return hits


def _describe_patch(cond: dict) -> str:
    return ("サポート終了OSの機器の事業者が、" + "・".join(cond.get("concepts", [])) + " に「"
            + "・".join(cond.get("answer_in", ["はい"])) + "」と回答")


@check("device_eol_answer", "devices", _describe_patch)
def device_eol_answer(cond: dict, ctx: Context) -> list[Hit]:
    """A device past end of support whose covering documents (certain matches only) answer a patching or
    malware item affirmatively: the answer cannot hold for that device's OS."""
    concepts, answers = cond.get("concepts", []), set(cond.get("answer_in", ["はい"]))
    hits = []
    for a in assessments(ctx):
        if a.support.status != "eol":
            continue
        covering = list({id(m.document): m.document for m in a.matches.matches if not m.uncertain}.values())
        items = [(doc, item) for doc in covering for item in items_with_concepts(doc, concepts)
                 if item.answer_status == "answered" and item.answer in answers]
        if not items:
            continue
        fields = {"os_raw": a.device.os_raw, "eol_date": a.support.eol_date.isoformat() if a.support.eol_date else "",
                  "item_ids": "、".join(dict.fromkeys(i.item_id for _, i in items))}
        hit = _hit(a, a.device.vendor, fields, [f"サポート終了日 {fields['eol_date']}（出典: {a.support.source}）"],
                   review=False)
        hit.items = items
        hits.append(hit)
    return hits
