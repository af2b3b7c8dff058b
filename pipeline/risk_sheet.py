"""Where the hospital records the risk assessment of every MDS/SDS 「いいえ」 (第7.0版 保守委託機関編, issue #13).

Most いいえ answers are no finding of the register, so they get their own rows: the sheet 「リスク評価」 of the register
workbook and `risk_assessments.csv` / `.parquet`. One row per MDS/SDS item that needs a recorded assessment
(`rules.checks_gl7.needs_risk_assessment`), keyed by 評価ID = vendor + product + form family + item id (names
normalised like the risk_id), so a newer version of the same product's form keeps the row and what was written in
it. The reviewer columns (リスク評価, 評価者, 評価日) are read back from the workbook on every run and kept in the
store as well, as pipeline.register does for the main sheet: the workbook wins, the store keeps a copy when the
workbook is lost or broken. A row whose item is no longer an いいえ of a current document is kept, marked
「過去の版のみ」, when anything was written in it (a row nobody wrote in has nothing to lose and is dropped).
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter

from extractors.model import NO, Document, Item
from extractors.text import natural_key, organization_key
from pipeline.config import (
    ASSESSMENT_COLUMN_GUIDE, ASSESSMENT_COLUMNS, ASSESSMENT_CURRENT, ASSESSMENT_ID, ASSESSMENT_REVIEWER_COLUMNS,
    ASSESSMENT_STATE, ASSESSMENTS_NAME, CURRENT_ITEM, PAST_ITEM, REGISTER_ASSESSMENT, RESOLVED_ON, RISK_ASSESSMENT,
    RISK_NEEDED, RISK_RECORDED, SHEET_ASSESSMENTS,
)
from pipeline.register import (
    RESOLVED_FONT, RISK_NEEDED_FILL, SHEET_GUIDE, OpenedWorkbook, put_text, sheet_records, write_header,
)
from pipeline.report_data import family_label
from pipeline.safe_io import csv_writer, parquet_writer, write_outputs
from pipeline.store import Store

COLUMN_WIDTHS = {ASSESSMENT_ID: 14, "事業者": 22, "製品・システム": 22, "様式": 24, "項目": 16, "設問": 40, "回答": 8,
                 "備考": 40, "対象の理由": 24, "ファイル": 28, "文書ID": 18, "リスクID": 14, REGISTER_ASSESSMENT: 30,
                 "初回検出": 12, "最終確認": 12, ASSESSMENT_CURRENT: 10, ASSESSMENT_STATE: 12,
                 RISK_ASSESSMENT: 50, "評価者": 12, "評価日": 12}


def assessment_id(doc: Document, item_id: str) -> str:
    """「A-」 + 10 hex digits of SHA-1 over vendor | product | family | item id (organization_key as for risk_id);
    a document without vendor and product stands alone (its SHA-256 instead)."""
    vendor, product = organization_key(doc.vendor), organization_key(doc.product)
    owner = f"{vendor}|{product}" if vendor or product else f"sha:{doc.sha256}"
    digest = hashlib.sha1(f"{owner}|{doc.family}|{item_id}".encode("utf-8")).hexdigest()
    return "A-" + digest[:10].upper()


def current_items(documents: list[Document]) -> list[tuple[Document, Item]]:
    """Every item of the current MDS/SDS that needs a recorded risk assessment, in form order."""
    from rules.checks_gl7 import needs_risk_assessment

    return [(d, it) for d in documents for it in d.items if needs_risk_assessment(d, it)]


def register_links(register_rows) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(document_id, item_id) -> [(risk_id, リスク評価)] of the open register rows naming that item."""
    out: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for row in register_rows:
        if row.get(RESOLVED_ON):
            continue
        for doc_id in str(row.get("document_ids", "")).split(", "):
            for item_id in str(row.get("item_ids", "")).split(", "):
                if doc_id and item_id:
                    out.setdefault((doc_id, item_id), []).append((row["risk_id"], str(row.get(RISK_ASSESSMENT, ""))))
    return out


def _reason(item: Item) -> str:
    if item.answer == NO:
        return "「いいえ」の回答"
    return f"【別紙】の項目で「{item.answer or '未回答'}」"


def recorded_text(row: dict) -> str:
    """The assessment recorded for a row: its own リスク評価, else what the register rows naming the item hold."""
    return str(row.get(RISK_ASSESSMENT, "")).strip() or str(row.get(REGISTER_ASSESSMENT, "")).strip()


@dataclass
class SheetRead:
    edits: dict[str, dict[str, str]] = field(default_factory=dict)  # 評価ID -> reviewer columns
    rows: dict[str, dict] = field(default_factory=dict)  # 評価ID -> the whole row as the workbook holds it
    warnings: list[str] = field(default_factory=list)


def read_assessment_edits(books: list[OpenedWorkbook]) -> SheetRead:
    """The sheet 「リスク評価」 of existing register workbooks, keyed by 評価ID; a later file overrides an earlier one.
    A workbook that cannot be opened is reported by pipeline.register.read_reviewer_edits (the store keeps a copy)."""
    result = SheetRead()
    for book in books:
        wb, path = book.workbook, book.path
        if wb is None or SHEET_ASSESSMENTS not in wb.sheetnames:
            continue
        header, records = sheet_records(wb[SHEET_ASSESSMENTS], ASSESSMENT_COLUMNS)
        if ASSESSMENT_ID not in header:
            result.warnings.append(f"{path.name} の「{SHEET_ASSESSMENTS}」シートに{ASSESSMENT_ID}列がないため、"
                                   "記入内容を読み取れませんでした。データベースの控えを使います。")
            continue
        for number, row in records:
            key = row[ASSESSMENT_ID]
            if not key:
                if any(row[c] for c in ASSESSMENT_REVIEWER_COLUMNS):
                    result.warnings.append(f"{path.name} の「{SHEET_ASSESSMENTS}」シート {number} 行目は{ASSESSMENT_ID}が"
                                           "空欄のため、記入内容を取り込めませんでした。該当する行に記入し直してください。")
                continue
            result.rows[key] = row
            result.edits[key] = {c: row[c] for c in ASSESSMENT_REVIEWER_COLUMNS}
    return result


def merge_assessments(previous: dict[str, dict], documents: list[Document], register_rows: list[dict],
                      edits: dict[str, dict[str, str]], as_of: dt.date) -> list[dict]:
    """The sheet after this run: a row per current item needing an assessment, plus every earlier row that holds
    something a reviewer wrote (marked 過去の版のみ). Reviewer columns: `edits` (the workbook) over `previous`."""
    today = as_of.isoformat()
    links = register_links(register_rows)
    rows: dict[str, dict] = {}
    for doc, item in current_items(documents):
        key = assessment_id(doc, item.item_id)
        if key in rows:
            continue
        before = previous.get(key, {})
        linked = links.get((doc.document_id, item.item_id), [])
        rows[key] = {
            ASSESSMENT_ID: key, "事業者": doc.vendor, "製品・システム": doc.product, "様式": family_label(doc.family),
            "項目": item.item_id, "設問": item.question, "回答": item.answer or "未回答", "備考": item.remark,
            "対象の理由": _reason(item), "ファイル": Path(doc.source_file).name, "文書ID": doc.document_id,
            "リスクID": ", ".join(rid for rid, _ in linked),
            REGISTER_ASSESSMENT: "\n".join(dict.fromkeys(t.strip() for _, t in linked if t.strip())),
            "初回検出": before.get("初回検出") or today, "最終確認": today, ASSESSMENT_CURRENT: CURRENT_ITEM,
        }
    for key, before in previous.items():
        if key in rows:
            continue
        review = edits.get(key, before)
        if not any(str(review.get(c, "")).strip() for c in ASSESSMENT_REVIEWER_COLUMNS):
            continue  # nothing was written in it: nothing to keep
        rows[key] = {c: str(before.get(c, "")) for c in ASSESSMENT_COLUMNS} | {ASSESSMENT_CURRENT: PAST_ITEM}
    for key, row in rows.items():
        review = edits.get(key, previous.get(key, {}))
        row.update({c: str(review.get(c, "") or "") for c in ASSESSMENT_REVIEWER_COLUMNS})
        recorded = bool(recorded_text(row))
        row[ASSESSMENT_STATE] = (RISK_RECORDED if recorded else
                                 RISK_NEEDED if row[ASSESSMENT_CURRENT] == CURRENT_ITEM else "")
    return sorted(rows.values(), key=lambda r: (r[ASSESSMENT_CURRENT] != CURRENT_ITEM, r["事業者"],
                                                r["製品・システム"], r["様式"], natural_key(r["項目"]), r[ASSESSMENT_ID]))


def assessment_frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=ASSESSMENT_COLUMNS)
    for col in ASSESSMENT_COLUMNS:
        df[col] = df[col].fillna("").astype(str).astype("string")
    return df


@dataclass
class AssessmentSheet:
    rows: list[dict]
    warnings: list[str]

    def assessed_risks(self) -> set[str]:
        """Register risk ids whose every current item has the reviewer's assessment written in this sheet: the
        register row counts as 記録済み too (an assessment is written once, in either place)."""
        written: dict[str, bool] = {}
        for row in self.rows:
            if row[ASSESSMENT_CURRENT] != CURRENT_ITEM:
                continue
            for rid in filter(None, row["リスクID"].split(", ")):
                written[rid] = written.get(rid, True) and bool(row[RISK_ASSESSMENT].strip())
        return {rid for rid, done in written.items() if done}

    def add_to(self, wb) -> None:
        """The sheet 「リスク評価」 (and its columns in the guide sheet) in the register workbook being written."""
        ws = wb.create_sheet(SHEET_ASSESSMENTS)
        write_header(ws, ASSESSMENT_COLUMNS, ASSESSMENT_REVIEWER_COLUMNS, COLUMN_WIDTHS)
        wrap = Alignment(wrap_text=True, vertical="top")
        for r, row in enumerate(self.rows, start=2):
            for c, name in enumerate(ASSESSMENT_COLUMNS, start=1):
                cell = ws.cell(row=r, column=c)
                put_text(cell, str(row.get(name, "")))
                cell.alignment = wrap
                if name == ASSESSMENT_STATE and row.get(name) == RISK_NEEDED:
                    cell.fill = RISK_NEEDED_FILL
                if row.get(ASSESSMENT_CURRENT) != CURRENT_ITEM:
                    cell.font = RESOLVED_FONT
        ws.auto_filter.ref = f"A1:{get_column_letter(len(ASSESSMENT_COLUMNS))}{max(1, len(self.rows) + 1)}"
        ws.freeze_panes = "B2"
        if SHEET_GUIDE in wb.sheetnames:
            guide = wb[SHEET_GUIDE]
            for name in ASSESSMENT_COLUMNS:
                if name in ASSESSMENT_COLUMN_GUIDE:
                    guide.append([f"{SHEET_ASSESSMENTS}シート：{name}", ASSESSMENT_COLUMN_GUIDE[name]])
                    for cell in guide[guide.max_row]:
                        cell.alignment = wrap

    def write_tables(self, out: Path) -> tuple[list[Path], list[str]]:
        """risk_assessments.parquet / .csv (the CSV's text made formula-safe, as the register's)."""
        df = assessment_frame(self.rows)
        return write_outputs([(Path(out) / f"{ASSESSMENTS_NAME}.parquet", parquet_writer(df)),
                              (Path(out) / f"{ASSESSMENTS_NAME}.csv", csv_writer(df, df.columns))])


def update_assessments(store: Store, documents: list[Document], register_rows: list[dict],
                       workbooks: list[OpenedWorkbook], as_of: dt.date) -> AssessmentSheet:
    """Merge this run's items with the stored sheet and the reviewer's workbook edits; store the result."""
    read = read_assessment_edits(workbooks)
    stored = store.assessment_rows()
    previous = read.rows | stored  # the store's machine columns win; a row only the workbook has is kept too
    edits = {key: {c: row.get(c, "") for c in ASSESSMENT_REVIEWER_COLUMNS} for key, row in stored.items()}
    edits.update(read.edits)  # what the reviewer typed in the workbook wins over the stored copy
    rows = merge_assessments(previous, documents, register_rows, edits, as_of)
    store.save_assessment_rows({r[ASSESSMENT_ID]: r for r in rows})
    warnings = list(read.warnings)
    pending = sum(1 for r in rows if r[ASSESSMENT_STATE] == RISK_NEEDED)
    if pending:
        warnings.append(f"開示書の「いいえ」など {pending} 項目はリスク評価が未記録です（リスク登録簿の「{SHEET_ASSESSMENTS}」"
                        f"シートの「{ASSESSMENT_STATE}」列が「{RISK_NEEDED}」）。「{RISK_ASSESSMENT}」列に記入してください。")
    return AssessmentSheet(rows, warnings)


def assessment_sheet(store: Store, documents: list[Document], as_of: dt.date):
    """What pipeline.register.update_register calls with its merged rows and workbooks (`more_sheets`)."""
    return lambda register_rows, workbooks: update_assessments(store, documents, register_rows, workbooks, as_of)
