"""Run the rule catalogue over a set of documents: `evaluate(documents, as_of, config) -> [Finding]`."""
from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from extractors.model import Document, Item
from extractors.text import natural_key, organization_key
from rules.catalog import FAMILY_SHORT, Rule, RulesConfig, load_rules
from rules.checks import CHECKS, Context, Hit
from rules.findings import CATEGORIES, SEVERITIES, Finding
from rules.grouping import VendorGroup, group_documents

log = logging.getLogger(__name__)


def _item_evidence(doc: Document, item: Item) -> str:
    parts = [f"{FAMILY_SHORT.get(doc.family, doc.family)} 項目{item.item_id}"]
    if item.question:
        parts[0] += f"「{item.question}」"
    answer = item.answer or "空欄"
    if item.answer_status not in ("answered", "unanswered"):
        answer += f"（{'判別不能' if item.answer_status == 'ambiguous' else '読取不能'}: 「{item.answer_raw}」）"
    elif not item.answer and item.answer_raw.strip():
        answer += f"（記載: 「{item.answer_raw}」）"
    parts.append(f"回答「{answer}」")
    if item.first_date:
        parts.append(f"1回目確認日 {item.first_date}")
    if item.target_date:
        parts.append(f"目標日 {item.target_date}")
    if item.second_answer or item.second_date:
        parts.append(f"2回目「{item.second_answer or '空欄'}」{item.second_date}")
    remark = item.remark.strip()
    if item.remark_ref:
        parts.append(f"備考 注記{item.remark_ref}「{remark if remark != item.remark_ref else ''}」")
    else:
        parts.append(f"備考「{remark}」")
    location = str(item.location) if item.location else Path(doc.source_file).name
    return "、".join(parts) + f"（{location}）"


def _format(template: str, fields: dict[str, str]) -> str:
    class Missing(dict):
        def __missing__(self, key):
            return "{" + key + "}"
    return template.format_map(Missing(fields))


def _finding(rule: Rule, hit: Hit, group: VendorGroup) -> Finding:
    docs = list({id(d): d for d in hit.documents}.values())
    item_ids = list(dict.fromkeys([i.item_id for _, i in hit.items] + hit.item_ids))
    evidence = [_item_evidence(d, i) for d, i in hit.items]
    if hit.item_ids and not hit.items:
        evidence.append(f"該当項目: {'、'.join(hit.item_ids)}（{Path(docs[0].source_file).name}）")
    if hit.quote:
        evidence.append(f"該当文: 「{hit.quote}」")
    evidence += hit.extra_evidence
    if not evidence:
        for d in docs:
            evidence.append(f"{FAMILY_SHORT.get(d.family, d.family)}（{Path(d.source_file).name}）"
                            f" 事業者名「{d.vendor}」製品名称「{d.product}」作成日「{d.created or ''}」"
                            f" 様式「{d.form_version}」")
    needs_review = (hit.needs_review or any(group.doc_needs_review(d) for d in docs)
                    or any(i.needs_review for _, i in hit.items))
    recovered = [group.recovered[d.document_id] for d in docs if d.document_id in group.recovered]
    if recovered:
        evidence.append(f"事業者名: {group.vendor}（{'、'.join(dict.fromkeys(recovered))}）")
    product = hit.product if hit.product is not None else docs[0].product
    fields = {"vendor": group.vendor, "product": product} | hit.fields
    text = _format(rule.message, fields) if rule.message else hit.finding
    return Finding(
        rule_id=rule.id, category=rule.category, severity=rule.severity, title=rule.title, finding=text,
        vendor=group.vendor, product=product, item_ids=item_ids, evidence="\n".join(evidence),
        source_files=list(dict.fromkeys(d.source_file for d in docs)),
        document_ids=list(dict.fromkeys(d.document_id for d in docs)),
        recommendation=rule.recommendation, contract_clause=rule.contract_clause, rationale=rule.rationale,
        guideline_ref=rule.guideline_ref, needs_review=needs_review, quote=hit.quote,
    )


def _sort_key(f: Finding) -> tuple:
    return (SEVERITIES.index(f.severity) if f.severity in SEVERITIES else 9, organization_key(f.vendor),
            organization_key(f.product), CATEGORIES.index(f.category), f.rule_id,
            tuple(f.source_files), tuple(natural_key(i) for i in f.item_ids))


def evaluate(documents: list[Document], as_of: dt.date | None = None,
             config: RulesConfig | None = None, rules: list[Rule] | None = None,
             ledgers: list[Document] | None = None, os_eol: list | None = None,
             vendor_aliases: dict[str, str] | None = None, feeds: list[Document] | None = None) -> list[Finding]:
    """All findings for a run, in a deterministic order (severity, vendor, product, category, rule, items).

    `ledgers`: the hospital's device ledgers, read by the checks of scope "devices"; `os_eol`: end-of-support
    entries from mdsgap.yaml added to the shipped table; `vendor_aliases`: ledger vendor name -> forms' name;
    `feeds`: vulnerability feeds and SBOMs (rules.checks_vuln)."""
    as_of = as_of or dt.date.today()
    rules = rules if rules is not None else load_rules(config)
    groups = group_documents(documents)
    ctx = Context(as_of=as_of, groups=groups, ledgers=list(ledgers or []), os_eol=list(os_eol or []),
                  vendor_aliases=dict(vendor_aliases or {}), feeds=list(feeds or []))
    findings: list[Finding] = []
    seen: set[tuple] = set()
    for rule in rules:
        if not rule.enabled:
            continue
        spec = CHECKS[rule.check]
        for group in groups if spec.scope != "devices" else [None]:
            if spec.scope == "devices":
                hits = spec.fn(rule.condition, ctx)  # once per run; each hit names its vendor group
            elif spec.scope == "document":
                hits = []
                for doc in group.documents:
                    if rule.applies_to.matches(doc.family, doc.form_id, doc.form_version):
                        hits += spec.fn(rule.condition, doc, ctx)
            else:
                hits = spec.fn(rule.condition, group, ctx)
                hits = [h for h in hits if any(rule.applies_to.matches(d.family, d.form_id, d.form_version)
                                               for d in h.documents)]
            for hit in hits:
                f = _finding(rule, hit, hit.group or group)
                key = (f.rule_id, tuple(f.document_ids), tuple(f.item_ids), f.quote)
                if key in seen:
                    continue
                seen.add(key)
                findings.append(f)
    findings.sort(key=_sort_key)
    log.info("rules: %d enabled, %d documents in %d vendor groups, %d findings; by rule: %s",
             sum(1 for r in rules if r.enabled), len(documents), len(groups), len(findings),
             dict(sorted(Counter(f.rule_id for f in findings).items())))
    return findings


@dataclass
class Coverage:
    """What a run's rule evaluation covered, so that the register can tell "no longer fires" from "not looked at".

    `rules`: id -> scope ("document" | "group") of every enabled rule; `disabled`: ids switched off in the
    config; `documents`: document_id -> ids of the enabled rules whose applies_to matched that document (the
    rule was evaluated on it).
    """

    rules: dict[str, str] = field(default_factory=dict)
    disabled: set[str] = field(default_factory=set)
    documents: dict[str, set[str]] = field(default_factory=dict)

    def evaluated(self, rule_id: str, document_id: str) -> bool:
        return rule_id in self.documents.get(document_id, set())


def coverage(documents: list[Document], config: RulesConfig | None = None,
             rules: list[Rule] | None = None) -> Coverage:
    """The Coverage of `evaluate(documents, config=config, rules=rules)` (same rule list, same applies_to test)."""
    rules = rules if rules is not None else load_rules(config, include_disabled=True)
    result = Coverage()
    for rule in rules:
        if not rule.enabled:
            result.disabled.add(rule.id)
            continue
        result.rules[rule.id] = CHECKS[rule.check].scope
        for doc in documents:
            if rule.applies_to.matches(doc.family, doc.form_id, doc.form_version):
                result.documents.setdefault(doc.document_id, set()).add(rule.id)
    return result
