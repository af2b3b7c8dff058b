"""Evidence pack for the on-site inspection (立入検査, issue #13): `<out>/inspection/立入検査資料.xlsx` and a
printable `<out>/inspection/index.html`, from the store alone.

Per vendor and system: the documents received (file, SHA-256, form and version, date received, date created),
the checklist answers with their dates and target dates, every MDS/SDS 「いいえ」 (and 【別紙】 item not はい/対象外)
with the risk assessment recorded in the register workbook's sheet 「リスク評価」 (pipeline.risk_sheet; else the
リスク評価 of a register row naming the item) or 「未記録」, and the contract clauses asked for with their
対応状況. Nothing depends on the clock: the same store gives the same content.
"""
from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from extractors.model import Document
from extractors.text import natural_key
from pipeline.config import ASSESSMENT_REVIEWER_COLUMNS, RESOLVED_ON, REVIEW_STATUS, RISK_ASSESSMENT, STATUS_OPEN
from pipeline.report_data import family_label, group_by_vendor_product
from pipeline.risk_sheet import assessment_id, register_links
from pipeline.safe_io import neutral_text, write_output
from pipeline.store import Store

INSPECTION_DIR = "inspection"
WORKBOOK_NAME = "立入検査資料.xlsx"
HTML_NAME = "index.html"
NOT_RECORDED = "未記録"
FACILITY = "医療機関（自院）"

SHEETS: dict[str, list[str]] = {
    "受領書類": ["事業者", "製品・システム", "ファイル", "SHA-256", "様式", "様式の版", "ガイドラインの版", "受領日", "作成日"],
    "チェックリスト回答": ["事業者", "製品・システム", "ファイル", "年度", "項目", "設問", "1回目", "確認日", "対応目標日",
                          "2回目", "2回目の確認日", "備考"],
    "いいえとリスク評価": ["事業者", "製品・システム", "ファイル", "項目", "設問", "回答", "備考", "リスクID", "リスク評価",
                          "評価者", "評価日", "評価ID"],
    "契約条項": ["事業者", "製品・システム", "リスクID", "指摘", "求める契約条項", "対応状況"],
}


def _received(store: Store) -> dict[str, str]:
    rows = store.conn.execute("SELECT document_id, ingested_at FROM documents WHERE is_current = 1").fetchall()
    return {r["document_id"]: (r["ingested_at"] or "")[:10] for r in rows}


def inspection_rows(documents: list[Document], register_rows: list[dict], received: dict[str, str],
                    sheet: dict[str, dict] | None = None) -> dict[str, list[list[str]]]:
    """The four tables of the pack, sorted: vendor, system, file, item. `sheet`: the risk-assessment sheet's rows
    by 評価ID (Store.assessment_rows)."""
    from rules.checks_gl7 import needs_risk_assessment

    from pipeline.report_data import findings_from_register
    from pipeline.register import register_frame

    findings = findings_from_register(register_frame(register_rows)) if register_rows else []
    groups = group_by_vendor_product(documents, findings)
    assessed = register_links(register_rows)
    sheet = sheet or {}
    by_risk = {r["risk_id"]: r for r in register_rows}
    tables: dict[str, list[list[str]]] = {name: [] for name in SHEETS}
    clauses_seen: set[tuple[str, str]] = set()
    for g in groups:
        system = g.product or "（製品名なし）"
        for d in g.documents:
            file = Path(d.source_file).name
            who = g.vendor
            if d.family == "checklist_facility":  # the hospital's own checklist: no vendor on it
                who = d.header_fields.get("facility") or d.vendor or FACILITY
            tables["受領書類"].append([who, system, file, d.sha256, family_label(d.family), d.form_version,
                                   d.guideline_version, received.get(d.document_id, ""),
                                   d.created.isoformat() if d.created else ""])
            if d.family.startswith("checklist"):
                for it in d.items:
                    if it.kind == "group":
                        continue
                    tables["チェックリスト回答"].append([
                        who, system, file, d.form_version, it.item_id, it.question,
                        it.answer or it.answer_raw or "未回答", it.first_date, it.target_date, it.second_answer,
                        it.second_date, it.remark])
            for it in d.items:
                if not needs_risk_assessment(d, it):
                    continue
                recorded = assessed.get((d.document_id, it.item_id), [])
                key = assessment_id(d, it.item_id)
                own = sheet.get(key, {})
                texts = [str(own.get(RISK_ASSESSMENT, "")).strip()] + [a.strip() for _, a in recorded]
                text = "\n".join(dict.fromkeys(t for t in texts if t)) or NOT_RECORDED
                tables["いいえとリスク評価"].append([
                    g.vendor, system, file, it.item_id, it.question, it.answer or "未回答", it.remark,
                    ", ".join(rid for rid, _ in recorded), text,
                    *(str(own.get(c, "")) for c in ASSESSMENT_REVIEWER_COLUMNS[1:]), key])
        for f in g.findings:
            row = by_risk.get(f.risk_id, {})
            if not f.contract_clause or row.get(RESOLVED_ON) or (g.vendor_key, f.risk_id) in clauses_seen:
                continue
            clauses_seen.add((g.vendor_key, f.risk_id))
            tables["契約条項"].append([g.vendor, system, f.risk_id, f.title, f.contract_clause,
                                    str(row.get(REVIEW_STATUS, "")) or STATUS_OPEN])
    for rows in tables.values():
        rows.sort(key=lambda r: tuple(natural_key(str(x)) for x in r[:5]))
    return tables


def write_workbook(tables: dict[str, list[list[str]]], path: Path) -> None:
    wb = Workbook()
    wb.remove(wb.active)
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    wrap = Alignment(wrap_text=True, vertical="top")
    for name, header in SHEETS.items():
        ws = wb.create_sheet(name)
        ws.append(header)
        for cell in ws[1]:
            cell.font, cell.fill = Font(bold=True), head_fill
        for row in tables[name]:
            ws.append([neutral_text(str(v)) if v else "" for v in row])
        for c in range(1, len(header) + 1):
            ws.column_dimensions[get_column_letter(c)].width = 40 if header[c - 1] in (
                "設問", "備考", "リスク評価", "求める契約条項", "SHA-256", "指摘") else 16
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                cell.alignment = wrap
                cell.data_type = "s"
        ws.freeze_panes = "A2"
    wb.save(path)


def render_html(tables: dict[str, list[list[str]]]) -> str:
    from pipeline.reports import template_env

    return template_env().get_template("inspection.html.j2").render(sheets=SHEETS, tables=tables,
                                                                   not_recorded=NOT_RECORDED)


def build_inspection(out: Path, store: Store) -> list[Path]:
    """Write the evidence pack into `<out>/inspection/`; returns the paths written."""
    documents = store.current_documents()
    register_rows = sorted(store.register_rows().values(), key=lambda r: r["risk_id"])
    tables = inspection_rows(documents, register_rows, _received(store), store.assessment_rows())
    folder = Path(out) / INSPECTION_DIR
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    path, _ = write_output(folder / WORKBOOK_NAME, lambda tmp: write_workbook(tables, tmp))
    written.append(path)
    html = render_html(tables)
    path, _ = write_output(folder / HTML_NAME, lambda tmp: Path(tmp).write_text(html, encoding="utf-8"))
    written.append(path)
    return written
