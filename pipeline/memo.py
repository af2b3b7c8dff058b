"""Negotiation memo per vendor: a Word document legal can edit, with the points to settle per product.

    build_memos(out_dir, documents, register_df, template=None) -> [paths]

writes `<out>/negotiation/<vendor>.docx`, started from `templates/memo_template.docx` (or the
hospital's own template) so letterhead and styles are theirs. Findings whose status is 解消 or
リスク受容 are not negotiation points: they are listed separately at the end for reference.
"""
from __future__ import annotations

import datetime as dt
import functools
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docx
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml.ns import qn
from docx.shared import Mm

from extractors.mds2 import display_question
from extractors.model import Document
from extractors.text import organization_key
from extractors.vocabulary import AFFIRMATIVE
from extractors.yamlfile import load_yaml
from pipeline.report_data import (
    FindingRow, Group, category_label, findings_from_register, group_by_vendor_product, item_evidence,
)
from pipeline.report_names import safe_name, unique_name, write_inside
from pipeline.safe_io import neutral_text

TEMPLATES_DIR = Path(__file__).parent / "templates"
DEFAULT_TEMPLATE = TEMPLATES_DIR / "memo_template.docx"
CLAUSES_FILE = TEMPLATES_DIR / "memo_clauses.yaml"
MEMO_DIR = "negotiation"
BODY_MARKER = "［本文］"
STYLE_CLAUSE, STYLE_QUOTE, STYLE_NOTE = "提案条項", "開示書の引用", "注記"
DATE_BLANK = "＿＿＿＿年＿＿月＿＿日"
VULNERABILITY_CLAUSE = "vulnerability_notification"  # memo_clauses.yaml: the CVSS clause lists open CVEs

# Point groups in memo order: (title, categories, lead sentence).
POINT_GROUPS = [
    ("責任分界（備考により医療機関側に移る義務）", ("responsibility_shift",),
     "開示書の備考で医療機関側の作業・判断・環境準備とされている事項です。誰が、いつ、何を行い、不備があった場合に誰が責任を負うかを取り決めます。"),
    ("オプション依存の項目と費用負担", ("option_dependent",),
     "「はい」と回答されていても、オプション・別途契約が前提の項目です。提供範囲に含めるか、費用をどちらが負担するかを取り決めます。"),
    ("未対応の管理策：代替策と対応期日", ("unsupported",),
     "対応していない管理策です。代替策（補完的な管理策）と、対応の予定期日を書面で求めます。"),
    ("その他の確認事項", None,
     "回答と備考の矛盾、制限事項、記載漏れ、書類の不足など、契約前に事業者へ確認・訂正を求める事項です。"),
]


@dataclass(frozen=True)
class StandardClause:
    id: str
    title: str
    rationale: str
    wording: str
    concepts: tuple[str, ...]
    when: str = ""  # "" = every memo; "update_responsibility_unstated" = only when rules.checks_gl7 says so


def _unfold(text: str) -> str:
    """YAML folding puts a space at each line break; Japanese text must not keep it."""
    return re.sub(r"(?<=[^\x00-\x7f])\s+|\s+(?=[^\x00-\x7f])", "", text.strip())


@functools.cache
def _clauses_data(path: Path = CLAUSES_FILE) -> dict:
    return load_yaml(path)


def standard_clauses(path: Path = CLAUSES_FILE) -> list[StandardClause]:
    data = _clauses_data(path)
    return [StandardClause(c["id"], c["title"], _unfold(c["rationale"]), _unfold(c["wording"]),
                           tuple(c.get("concepts", ())), str(c.get("when", ""))) for c in data["clauses"]]


def preamble(path: Path = CLAUSES_FILE) -> list[str]:
    return [_unfold(p) for p in _clauses_data(path).get("preamble", [])]


# --- proposed wording -------------------------------------------------------------------------------------

def _item_label(f: FindingRow, documents: list[Document]) -> str:
    labels = []
    for item_id in f.item_ids:
        question = next((display_question(d.family, it) for d in documents if (it := d.item(item_id)) and it.question),
                        "")
        labels.append(f"項目{item_id}「{question}」" if question else f"項目{item_id}")
    return "、".join(labels) or f"「{f.title}」"


def _first_remark(f: FindingRow, documents: list[Document]) -> str:
    return next((e.remark for e in item_evidence(f, documents) if e.remark), "")


def proposed_wording(f: FindingRow, documents: list[Document]) -> str:
    """The register's clause when it has one; otherwise wording for the finding's category."""
    if f.contract_clause:
        return f.contract_clause
    label = _item_label(f, documents)
    if f.category == "responsibility_shift":
        remark = _first_remark(f, documents)
        cited = f"開示書の備考「{remark}」のとおり" if remark else "開示書の記載のとおり"
        return (f"{label}について、{cited}委託者側の作業又は判断を要する事項があるため、その実施主体、実施頻度、"
                "費用負担及び不備があった場合の責任の所在を別紙「責任分界表」に定める。受託者は、委託者が当該作業を行うために"
                "必要な手順書及び技術的支援を提供する。")
    if f.category == "option_dependent":
        return (f"{label}に係る機能及び作業（開示書でオプションとされているもの）は、本契約の提供範囲に含める。"
                "提供範囲に含めない場合、受託者は契約締結前にその費用を見積書に明示し、委託者の書面による同意なく"
                "追加費用を請求しない。")
    if f.category == "unsupported":
        due = f.due or DATE_BLANK
        return (f"受託者は、{label}に対応していないことにより生じるリスクについて、代替策を書面で提示する。"
                f"受託者は、{due}までに対応計画（対応予定時期を含む。）を委託者に提出し、対応が完了するまでの間、"
                "代替策を実施する。代替策の実施に係る費用の負担は両者の協議により定める。")
    if f.category in ("missing_document", "stale_document"):
        return (f"受託者は、契約締結前に、{f.title}の件について、最新の様式による開示書（MDS/SDS）及びチェックリストを"
                "作成して委託者に提出する。以後、製品の版の更新時又は年1回のいずれか早い時期に更新して再提出する。")
    if f.category == "checklist_deadline":
        return ("受託者は、チェックリストで「いいえ」とした項目について、目標日までの対応計画を書面で提出し、"
                "目標日到来時に対応結果を報告する。")
    subject = label if f.item_ids else f"「{f.title}」の件"
    return (f"受託者は、{subject}について、契約締結前に書面で説明し、"
            "開示書の記載に誤り又は不足がある場合は訂正の上再提出する。")


# --- document writing ---------------------------------------------------------------------------------------

class MemoWriter:
    """Appends memo content to a python-docx Document, at the template's ［本文］ marker if present."""

    def __init__(self, template: Path):
        self.doc = docx.Document(str(template))
        self.marker = next((p for p in self.doc.paragraphs if p.text.strip() == BODY_MARKER), None)
        # name -> style object, looked up once: python-docx searches every style on each `doc.styles[name]`.
        self.styles = {s.name: s for s in self.doc.styles if s.type == WD_STYLE_TYPE.PARAGRAPH}
        self.table_grid = next((s for s in self.doc.styles if s.name == "Table Grid"), None)
        # what `p.style = ...` writes: the style's id, none for the default paragraph style (python-docx's
        # get_style_id, which searches every style for the default on each call)
        default = self.doc.styles.default(WD_STYLE_TYPE.PARAGRAPH)
        self.style_ids = {name: (None if style == default else style.style_id) for name, style in self.styles.items()}

    def _style(self, name: str, fallback: str = "Normal") -> str | None:
        for candidate in (name, fallback, "Normal"):
            if candidate in self.styles:
                return candidate
        return None

    def para(self, text: str = "", style: str = "Normal", bold_prefix: str = ""):
        if self.marker is not None:
            p = self.marker.insert_paragraph_before()
        else:
            p = self.doc.add_paragraph()
        st = self._style(style)
        if st:
            p._p.style = self.style_ids[st]  # = `p.style = st`
        if bold_prefix:
            p.add_run(bold_prefix).bold = True
        if text:
            p.add_run(neutral_text(text))  # vendor text: no control character Word refuses, no active bidi
        return p

    def heading(self, text: str, level: int):
        return self.para(text, f"Heading {level}")

    def table(self, header: list[str], rows: list[list[str]], widths_mm: list[float] | None = None):
        table = self.doc.add_table(rows=1, cols=len(header))
        if self.table_grid is not None:
            table.style = self.table_grid
        for cell, text in zip(table.rows[0].cells, header):
            cell.text = ""
            cell.paragraphs[0].add_run(text).bold = True
        for row in rows:
            for cell, text in zip(table.add_row().cells, row):
                cell.text = neutral_text(text)
        if widths_mm:
            table.autofit = False
            for row in table.rows:
                for cell, width in zip(row.cells, widths_mm):
                    cell.width = Mm(width)
            for col, width in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths_mm):
                col.set(qn("w:w"), str(int(Mm(width).twips)))
        if self.marker is not None:  # move the table before the marker
            self.marker._p.addprevious(table._tbl)
        return table

    def finish(self) -> bytes:
        if self.marker is not None:
            self.marker._p.getparent().remove(self.marker._p)
        buf = io.BytesIO()
        self.doc.save(buf)
        return buf.getvalue()


def _quote_items(w: MemoWriter, f: FindingRow, documents: list[Document]) -> None:
    quoted = item_evidence(f, documents)
    if quoted or f.evidence:
        w.para("開示書の記載：", "Normal")
    for e in quoted:
        remark = f"　備考「{e.remark}」" if e.remark else "　備考なし"
        w.para(f"項目{e.item_id}「{e.question}」：回答「{e.answer}」{remark}（{e.location}）", STYLE_QUOTE)
    if not quoted and f.evidence:
        w.para(f.evidence, STYLE_QUOTE)


def _write_point(w: MemoWriter, n: int, f: FindingRow, documents: list[Document]) -> None:
    head = f"論点{n}　{f.title}"
    if f.item_ids:
        head += f"（項目 {'、'.join(f.item_ids)}）"
    w.para(f"［重大度{f.severity}・{category_label(f.category)}・{f.status}・{f.risk_id}］", bold_prefix=head + "　")
    _quote_items(w, f, documents)
    if f.finding:
        w.para(f.finding, bold_prefix="問題点：")
    if f.recommendation:
        w.para(f.recommendation, bold_prefix="協議事項：")
    if f.category == "unsupported":
        w.para(f"代替策の提示と対応期日（{f.due or DATE_BLANK}）を求める。", bold_prefix="期日：")
    if f.policy:
        w.para(f.policy, bold_prefix="病院の対応方針：")
    w.para("提案文言：", "Normal")
    w.para(proposed_wording(f, documents), STYLE_CLAUSE)


def _write_product(w: MemoWriter, number: str, group: Group, open_findings: list[FindingRow]) -> None:
    w.heading(f"{number}　{group.product or '（製品名なし）'}", 2)
    files = "、".join(Path(d.source_file).name for d in group.documents) or "なし"
    w.para(f"根拠書類：{files}", STYLE_NOTE)
    n = 0
    for i, (title, cats, lead) in enumerate(POINT_GROUPS, start=1):
        known = {c for _, cs, _ in POINT_GROUPS if cs for c in cs}
        points = [f for f in open_findings if (f.category in cats if cats else f.category not in known)]
        w.heading(f"({i}) {title}", 3)
        if not points:
            w.para("該当する指摘はありません。", STYLE_NOTE)
            continue
        w.para(lead, STYLE_NOTE)
        for f in points:
            n += 1
            _write_point(w, n, f, group.evidence_documents)


def _write_standard_clauses(w: MemoWriter, groups: list[Group]) -> None:
    docs = [d for g in groups for d in {id(d): d for d in g.documents}.values()]
    for i, clause in enumerate([c for c in standard_clauses() if clause_applies(c, docs)], start=1):
        w.heading(f"3.{i}　{clause.title}", 2)
        w.para(clause.rationale, STYLE_NOTE)
        related = [(d, it) for d in docs for it in d.items if it.concept in clause.concepts and (it.answer or it.remark)]
        related.sort(key=lambda pair: (not pair[1].remark, pair[1].answer in AFFIRMATIVE))
        several_products = len({d.product for d, _ in related if d.product}) > 1
        if related:
            w.para("開示書の記載：", "Normal")
            for d, it in related[:8]:
                remark = f"　備考「{it.remark}」" if it.remark else ""
                prefix = f"{d.product}　" if several_products and d.product else ""
                w.para(f"{prefix}項目{it.item_id}「{display_question(d.family, it)}」：回答「{it.answer or '未回答'}」{remark}"
                       f"（{Path(d.source_file).name}）", STYLE_QUOTE)
            if len(related) > 8:
                w.para(f"ほか{len(related) - 8}項目（回答一覧を参照）", STYLE_NOTE)
        if clause.id == VULNERABILITY_CLAUSE:
            _write_open_vulnerabilities(w, groups)
        w.para("提案文言：", "Normal")
        w.para(clause.wording, STYLE_CLAUSE)


def _write_open_vulnerabilities(w: MemoWriter, groups: list[Group]) -> None:
    """Under the CVSS clause: the vendor's devices' and products' open vulnerabilities from the register."""
    seen: dict[str, tuple[Group, FindingRow]] = {}
    for g in groups:
        for f in g.open_findings:
            if f.category == "vulnerability":
                seen.setdefault(f.risk_id or str(id(f)), (g, f))
    if not seen:
        return
    rows = []
    for g, f in seen.values():
        m = re.search(r"基本値\s*(\d+(?:\.\d+)?)", f.finding)
        score = float(m.group(1)) if m else None
        kind = ("緊急の通知の対象" if score is not None and score >= 9.0 else "報告の対象") if score is not None else ""
        devices = "、".join(i.split(":", 1)[1] for i in f.item_ids if i.startswith("機器:")) or "（SBOM の製品）"
        rows.append([f.product or g.product or "（製品名なし）", f.item_ids[0] if f.item_ids else "",
                     f"{score:.1f}" if score is not None else "", devices, kind, f.status])
    rows.sort(key=lambda r: (-float(r[2] or 0), r[1]))
    w.para(f"受領した脆弱性情報（NVD・JVN iPedia）との照合で、この事業者の機器・製品に未解消の脆弱性が {len(rows)} 件あります"
           "（リスク登録簿の「公表された脆弱性」）。条項の水準に沿って、報告・緊急の通知と対応策の提示を求めます。", STYLE_NOTE)
    w.table(["製品", "脆弱性", "CVSS", "対象機器", "契約上の扱い", "対応状況"], rows, widths_mm=[34, 30, 14, 40, 26, 20])


def clause_applies(clause: StandardClause, documents: list[Document]) -> bool:
    """A conditional clause (`when:` in memo_clauses.yaml) is proposed only when its condition holds."""
    if clause.when == "update_responsibility_unstated":
        from rules.checks_gl7 import update_responsibility_stated, vendor_maintains

        return bool(vendor_maintains(documents)) and not update_responsibility_stated(documents)
    return not clause.when


def render_memo(vendor_groups: list[Group], template: Path, generated: dt.date) -> bytes:
    w = MemoWriter(template)
    vendor = vendor_groups[0].vendor
    w.para("契約協議事項メモ（案）", "Title")
    products = "、".join(g.product or "（製品名なし）" for g in vendor_groups)
    w.para(vendor, bold_prefix="相手方：")
    w.para(products, bold_prefix="対象製品・サービス：")
    w.para(generated.isoformat(), bold_prefix="作成日：")
    w.para("本書は、受領したセキュリティ開示書・チェックリストとリスク登録簿から自動作成した協議用の下書きです。"
           "提案文言は例であり、契約書・仕様書・覚書のいずれに定めるかを含め、法務担当者が修正してください。", STYLE_NOTE)

    w.heading("1　協議の前提（責任分界の考え方）", 1)
    for text in preamble():
        w.para(text)

    w.heading("2　製品別の協議事項", 1)
    closed: list[tuple[Group, FindingRow]] = []
    seen_closed: set[str] = set()
    for i, g in enumerate(vendor_groups, start=1):
        _write_product(w, f"2.{i}", g, g.open_findings)
        for f in g.closed_findings:
            if (f.risk_id or id(f)) not in seen_closed:
                seen_closed.add(f.risk_id or id(f))
                closed.append((g, f))

    w.heading("3　標準条項（全製品に共通して提案する事項）", 1)
    w.para("開示書の回答にかかわらず、次の条項を契約書・仕様書又は覚書に定めることを提案します。"
           "開示書の関連する記載を併せて示します。", STYLE_NOTE)
    _write_standard_clauses(w, vendor_groups)

    w.heading("4　解消済み・リスク受容済みの指摘（参考）", 1)
    if closed:
        w.para("次の指摘は対応状況が「解消」又は「リスク受容」のため、協議事項から除き、参考として記載します。", STYLE_NOTE)
        w.table(["製品", "項目", "指摘", "対応状況", "対応方針・メモ"],
                [[g.product or "（製品名なし）", "、".join(f.item_ids), f.title,
                  f.status + (f"（{f.resolved_on}）" if f.resolved_on else ""),
                  "／".join(x for x in (f.policy, f.note) if x)] for g, f in closed],
                widths_mm=[32, 22, 52, 20, 40])
    else:
        w.para("ありません。", STYLE_NOTE)
    return w.finish()


def build_memos(out_dir: Path, documents: list[Document], register_df, template: Path | None = None,
                *, generated: dt.date | None = None, vendor: str | None = None,
                take: Callable[[str], bool] | None = None, from_end: bool = False) -> list[Path]:
    """One negotiation memo per vendor (grouped by organization key); only `vendor`'s when given.

    Returns the paths written, in the order written. File names are settled over all vendors, so a memo keeps
    its name whether it is written alone or with the others. Two writers share the memos
    (pipeline.memo_helper): one from the first vendor on, the other `from_end`, each asking `take(vendor_key)`
    before a memo and stopping at the first the other writer has taken.
    """
    out_dir = Path(out_dir)
    template = Path(template) if template else DEFAULT_TEMPLATE
    if not template.is_file():
        raise FileNotFoundError(f"交渉メモのテンプレートが見つかりません: {template}")
    groups = group_by_vendor_product(list(documents), findings_from_register(register_df))
    by_vendor: dict[str, list[Group]] = {}
    for g in groups:
        by_vendor.setdefault(g.vendor_key, []).append(g)
    wanted = organization_key(vendor) if vendor is not None else None
    used: set[str] = set()
    names = {key: unique_name(safe_name(by_vendor[key][0].vendor, "事業者名なし"), key, used) + ".docx"
             for key in sorted(by_vendor)}
    written = []
    for vendor_key in sorted(by_vendor, reverse=from_end):
        if wanted is not None and vendor_key != wanted:
            continue
        if take is not None and not take(vendor_key):
            break
        data = render_memo(by_vendor[vendor_key], template, generated or dt.date.today())
        written.append(write_inside(out_dir, out_dir / MEMO_DIR / names[vendor_key], data))
    return written


__all__ = ["build_memos", "proposed_wording", "standard_clauses"]
