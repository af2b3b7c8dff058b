"""When may a risk the run did not see become 解消? Only with a newer document that shows the fix.

A finding that does not fire this run may have been fixed, or the run may simply not have looked: the rule was
disabled in mdsgap.yaml, the rule no longer applies to the newer form, the product name was read differently
(another product key, so no newer submission of *this* product), or the newer version's item could not be read.
`StatusJudge.judge(row)` decides, for one open register row the run did not see:

- 解消 (resolved) when a newer submission of the same product (the current successor of one of the row's
  documents; for a cross-document rule also a newer current document of the same vendor and product) was
  evaluated by the same rule (`rules.engine.Coverage`), and every item of the row that the older document held is
  read with certainty (answered, not flagged) in its successor. The evidence names the newer file and document id.
- never 解消 when one of the row's vulnerability feeds was replaced by a newer file: a feed that no longer lists
  a vulnerability may only cover a shorter period. A device's row closes on a newer ledger (the device updated
  or gone) or a newer SBOM evaluated with the same feed.
- otherwise the row stays open, with the Japanese reason it was not seen (column 今回未検出の理由).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from extractors.text import organization_key
from extractors.vocabulary import ANSWER_STATUS_LABELS
from pipeline.config import RESOLVED_BY, RESOLVED_ON

FEED_FAMILY = "vuln_feed"  # a newer feed that no longer lists a vulnerability shows no fix (it may cover less)
MIN_PARTIAL_KEY = 3  # a shorter product key must match whole: 「RI」 is not a part of every name


@dataclass
class Verdict:
    resolved: bool
    reason: str = ""  # why it was not seen and stays open (Japanese)
    evidence: str = ""  # what shows the fix (Japanese): the newer file and its document id


def _ids(text: str) -> list[str]:
    return [s.strip() for s in str(text or "").split(",") if s.strip()]


def _doc_label(doc: dict) -> str:
    created = f"、作成日 {doc['created']}" if doc.get("created") else ""
    return f"「{Path(doc['source_file']).name}」（文書ID {doc['document_id']}{created}）"


def _same_product(a: str, b: str) -> bool:
    """Product keys of one product: equal, or one a long-enough part of the other. Blank matches nothing."""
    if not a or not b:
        return False
    return a == b or (min(len(a), len(b)) >= MIN_PARTIAL_KEY and (a in b or b in a))


class StatusJudge:
    """Judges the open register rows a run did not see, from the store's submissions and the rule coverage."""

    def __init__(self, store, coverage):
        self.store = store
        self.coverage = coverage  # rules.engine.Coverage, or None when the rules did not run
        self.docs: dict[str, dict] = store.document_rows() if store is not None else {}
        self._bodies: dict = {}

    def _body(self, document_id: str):
        if document_id not in self._bodies:
            self._bodies[document_id] = self.store.document(document_id)
        return self._bodies[document_id]

    def successor(self, doc: dict) -> dict:
        """The current submission that (through any number of re-submissions) replaced `doc`; `doc` if none."""
        seen = {doc["document_id"]}
        while not doc["is_current"] and doc.get("superseded_by") in self.docs:
            doc = self.docs[doc["superseded_by"]]
            if doc["document_id"] in seen:
                break
            seen.add(doc["document_id"])
        return doc

    def judge(self, row: dict) -> Verdict:
        rule_id, cov = row.get("rule_id", ""), self.coverage
        if cov is None:
            return Verdict(False, "今回はルールの判定を行っていないため、解消とは判断していません。")
        if rule_id in cov.disabled:
            return Verdict(False, f"ルール {rule_id} が設定ファイル（mdsgap.yaml の rules.disabled）で無効になっているため、"
                                  "今回は評価していません。")
        if rule_id not in cov.rules:
            return Verdict(False, f"ルール {rule_id} が今回のルール一覧にないため（削除・改名の可能性）、評価していません。")
        old_ids = _ids(row.get("document_ids"))
        olds = [self.docs[i] for i in old_ids if i in self.docs]
        if not olds:
            shown = "、".join(old_ids) or "記録なし"
            return Verdict(False, f"根拠の書類（文書ID {shown}）がデータベースにないため、再評価できていません。")
        successors = {o["document_id"]: s for o in olds if (s := self.successor(o))["document_id"] != o["document_id"]}
        candidates = [s for s in successors.values() if cov.evaluated(rule_id, s["document_id"])]
        if cov.rules[rule_id] == "group":
            candidates += self._newer_of_same_product(row, olds, rule_id)
        candidates = list({d["document_id"]: d for d in candidates}.values())
        newer_feeds = [s for o in olds if o.get("family") == FEED_FAMILY and (s := successors.get(o["document_id"]))]
        if candidates and newer_feeds:
            names = "、".join(_doc_label(s) for s in newer_feeds)
            return Verdict(False, f"脆弱性情報が新しいファイル{names}に置き換わりました。新しいファイルに記載がないだけの"
                                  "可能性（取得した期間・範囲の違い）があるため、解消とはしていません。機器の更新を"
                                  "機器台帳や SBOM で確認し、対応状況を記入してください。")
        if candidates:
            unread = self._unread_items(row, olds, successors)
            if unread:
                return Verdict(False, f"新しい版{'、'.join(unread)}ため、指摘が出なくなったことを確認できません（要確認）。")
            names = "、".join(_doc_label(d) for d in candidates)
            return Verdict(True, evidence=f"{names}をルール {rule_id} で評価し、指摘が出なくなりました。")
        if successors:
            names = "、".join(_doc_label(s) for s in successors.values())
            return Verdict(False, f"根拠の書類は新しい版{names}に置き換わりましたが、ルール {rule_id} はこの版を"
                                  "評価していません（適用対象外の様式）。")
        not_evaluated = [o for o in olds if not cov.evaluated(rule_id, o["document_id"])]
        if not_evaluated:
            names = "、".join(_doc_label(o) for o in not_evaluated)
            return Verdict(False, f"ルール {rule_id} は今回、根拠の書類{names}を評価していません（適用対象の変更）。")
        product = organization_key(row.get("product", ""))
        if product and not any(_same_product(product, organization_key(o["product"] or "")) for o in olds):
            return Verdict(False, f"製品「{row.get('product', '')}」の書類が今回見つかりません（製品名の読み取りや名寄せが"
                                  "変わった可能性）。同じ製品の新しい版での確認がないため、解消とはしていません。")
        names = "、".join(_doc_label(o) for o in olds)
        return Verdict(False, f"根拠の書類{names}は前回と同じで、同じ製品の新しい版の提出がありません（ルールの条件や"
                              "読み取り結果の変更で検出されなかった可能性）。解消とはしていません。")

    def _newer_of_same_product(self, row: dict, olds: list[dict], rule_id: str) -> list[dict]:
        """For a cross-document rule (e.g. an SDS that was missing): newer current documents of the same vendor
        and product that the rule evaluated."""
        vendor, product = organization_key(row.get("vendor", "")), organization_key(row.get("product", ""))
        newest = max(o["seq"] for o in olds)
        old_ids = {o["document_id"] for o in olds}
        return [d for d in self.docs.values()
                if d["is_current"] and d["seq"] > newest and d["document_id"] not in old_ids
                and vendor and organization_key(d["vendor"] or "") == vendor
                and _same_product(product, organization_key(d["product"] or ""))
                and self.coverage.evaluated(rule_id, d["document_id"])]

    def _unread_items(self, row: dict, olds: list[dict], successors: dict[str, dict]) -> list[str]:
        """Japanese phrases for the row's items that an older document held and its successor does not read
        with certainty (missing, unanswered/ambiguous/unreadable, or flagged): the fix is then not shown."""
        problems: list[str] = []
        items = _ids(row.get("item_ids"))
        for old in olds:
            new = successors.get(old["document_id"])
            if new is None or not items:
                continue
            old_doc, new_doc = self._body(old["document_id"]), self._body(new["document_id"])
            if old_doc is None or new_doc is None:
                continue
            label = _doc_label(new)
            for item_id in items:
                if old_doc.item(item_id) is None:
                    continue
                it = new_doc.item(item_id)
                if it is None:
                    problems.append(f"{label}では項目{item_id}が見つからない（読み取り漏れ、または様式の変更）")
                elif it.answer_status != "answered" or it.needs_review:
                    why = it.review_reason or ANSWER_STATUS_LABELS.get(it.answer_status, it.answer_status)
                    problems.append(f"{label}の項目{item_id}が要確認（{why}）の")
        return problems


def legacy_resolution(row: dict) -> bool:
    """A row resolved without evidence (by an earlier version of mdsgap): every resolution now names its document."""
    return bool(row.get(RESOLVED_ON)) and not row.get(RESOLVED_BY)


__all__ = ["StatusJudge", "Verdict", "legacy_resolution"]
