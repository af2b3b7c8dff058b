"""Vulnerability checks (issue 15): feeds matched to the ledger's devices and the vendors' SBOMs, and the MDS2
SBOM answer compared with the SBOM files received.

- `vulnerability_cvss` (scope "devices"): a vulnerability matched with certainty (rules.vuln_match) whose CVSS
  base score is at least `min_cvss` (and below `below_cvss` when given). One hit per vendor, product and
  vulnerability, naming every ledger device of that product; an SBOM no ledger device was linked to gives
  hits under its own vendor and product. Uncertain matches never fire: they are review items in devices.csv.
- `mds2_sbom_file` (scope "group"): an MDS2 answers its SBOM item (`concepts`) with one of `answer_in` while an
  SBOM file from that vendor for that product was received (`file_received: true`), or while none was
  (`file_received: false`). Only when the hospital collects SBOM files at all (at least one in the store):
  otherwise there is nothing to compare with.
"""
from __future__ import annotations

from pathlib import Path

from extractors.text import organization_key
from rules.check_base import ANSWERED, Context, Hit, check, items_with_concepts
from rules.grouping import VendorGroup, vendor_key
from rules.vuln_match import VulnAssessment, VulnMatch, assess_vulnerabilities


def vuln_assessment(ctx: Context) -> VulnAssessment:
    """The run's vulnerability matching, computed once per Context."""
    cached = getattr(ctx, "_vuln_assessment", None)
    if cached is None:
        from rules.checks_devices import assessments

        cached = assess_vulnerabilities(assessments(ctx) if ctx.ledgers else [], ctx.feeds, ctx.vendor_aliases)
        ctx._vuln_assessment = cached
    return cached


def _in_band(m: VulnMatch, cond: dict) -> bool:
    below = cond.get("below_cvss", 0.0)
    return m.cvss is not None and m.cvss >= cond.get("min_cvss", 7.0) and (not below or m.cvss < below)


def _describe(cond: dict) -> str:
    below = cond.get("below_cvss", 0.0)
    band = f"{cond.get('min_cvss', 7.0)} 以上" + (f" {below} 未満" if below else "")
    return f"台帳の機器・SBOMの構成要素に CVSS 基本値 {band} の脆弱性が照合された"


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@check("vulnerability_cvss", "devices", _describe)
def vulnerability_cvss(cond: dict, ctx: Context) -> list[Hit]:
    if not ctx.feeds:
        return []
    result = vuln_assessment(ctx)
    subjects: dict[tuple[str, str, str], dict] = {}
    for a, vulns in result.devices:
        d = a.device
        product = d.product or d.model or d.device_name
        for m in vulns.certain:
            if not _in_band(m, cond):
                continue
            s = subjects.setdefault((vendor_key(d.vendor), organization_key(product), m.vuln_id),
                                    {"vendor": d.vendor, "product": product, "match": m, "devices": [], "docs": []})
            s["devices"].append(a)
            s["docs"] += [a.ledger, m.feed] + ([m.sbom] if m.sbom else [])
    for sbom, vulns, linked in result.sboms:
        if linked:
            continue  # its vulnerabilities are reported with the devices it belongs to
        for m in vulns.certain:
            if _in_band(m, cond):
                subjects.setdefault((vendor_key(sbom.vendor), organization_key(sbom.product), m.vuln_id),
                                    {"vendor": sbom.vendor, "product": sbom.product, "match": m, "devices": [],
                                     "docs": [sbom, m.feed]})
    hits = []
    for s in subjects.values():
        m: VulnMatch = s["match"]
        labels = ["、".join(x for x in (a.device.device_name, a.device.department) if x) or f"行{a.device.row}"
                  for a in s["devices"]]
        where = (f"機器台帳の{' ／ '.join(dict.fromkeys(labels))}" if s["devices"]
                 else f"SBOM「{Path(s['docs'][0].source_file).name}」")
        evidence = [f"機器台帳（{a.device.location or a.ledger.source_file}）: 機器名「{a.device.device_name}」"
                    f"製造業者「{a.device.vendor}」製品名「{a.device.product}」型番「{a.device.model}」"
                    f"OS「{a.device.os_raw}」" for a in s["devices"]]
        evidence.append(f"照合: {m.describe()}")
        if m.entry.description:
            evidence.append(f"脆弱性の概要: {_short(m.entry.description, 400)}")
        ids = [m.vuln_id] + sorted({f"機器:{a.device.device_name or a.device.product or a.device.row}"
                                    for a in s["devices"]})
        if not s["devices"]:
            ids.append(f"SBOM:{s['product'] or Path(s['docs'][0].source_file).name}")
        hits.append(Hit(documents=list({id(d): d for d in s["docs"]}.values()), item_ids=ids,
                        fields={"vuln_id": m.entry.label() if m.vuln_id == m.entry.vuln_id else
                                f"{m.vuln_id}（{m.entry.vuln_id}）",
                                "cvss": f"{m.cvss:.1f}", "cvss_version": m.entry.cvss_version or "3",
                                "where": where, "summary": _short(m.entry.description)},
                        extra_evidence=evidence, product=s["product"],
                        group=VendorGroup(key=vendor_key(s["vendor"]), vendor=s["vendor"] or "（製造業者の記載なし）")))
    return hits


def _same_product(a: str, b: str) -> bool | None:
    """True / False; None when either name is blank (cannot tell)."""
    ka, kb = organization_key(a), organization_key(b)
    if not ka or not kb:
        return None
    return ka == kb or (min(len(ka), len(kb)) >= 3 and (ka in kb or kb in ka))


def _describe_sbom(cond: dict) -> str:
    state = "受領している" if cond.get("file_received", True) else "受領していない"
    return f"MDS2のSBOMの回答が「{'・'.join(cond.get('answer_in', []))}」だが、SBOMファイルを{state}"


@check("mds2_sbom_file", "group", _describe_sbom)
def mds2_sbom_file(cond: dict, group: VendorGroup, ctx: Context) -> list[Hit]:
    sboms = [d for d in ctx.feeds if d.family == "sbom"]
    if not sboms:
        return []
    aliases = {vendor_key(k): vendor_key(v) for k, v in ctx.vendor_aliases.items()}
    received, answers = cond.get("file_received", True), set(cond.get("answer_in", []))
    hits = []
    for doc in group.documents:
        if doc.family != "mds2":
            continue
        items = [i for i in items_with_concepts(doc, cond.get("concepts", ["sbom"]))
                 if i.answer_status == ANSWERED and i.answer in answers]
        if not items:
            continue
        keys = {group.key, aliases.get(group.key, "")} - {""}
        theirs = [s for s in sboms if vendor_key(s.vendor) in keys or aliases.get(vendor_key(s.vendor)) in keys]
        same = [s for s in theirs if _same_product(doc.product, s.product)]
        unsure = [s for s in theirs if _same_product(doc.product, s.product) is None]
        if received and (same or unsure):
            files = same or unsure
        elif not received and not same:
            files = unsure
        else:
            continue
        names = "、".join(Path(s.source_file).name for s in files) or "なし"
        fields = {"sbom_files": names, "item_id": "、".join(i.item_id for i in items)}
        hits.append(Hit([doc] + files, [(doc, i) for i in items], fields=fields,
                        extra_evidence=[f"受領したSBOM: {names}" + ("（製品名が読めず、対象製品か要確認）"
                                                                  if unsure and not same else "")],
                        needs_review=bool(unsure) and not same))
    return hits
