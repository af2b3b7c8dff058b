"""The living risk register (issue #5): findings merged with earlier runs and the reviewer's edits.

A finding keeps its risk_id across runs. The reviewer columns (対応状況, 担当, 対応方針, 期限, メモ) are read
back from the existing XLSX and stored in SQLite too, so a deleted or broken workbook loses nothing. A row is
never deleted. A finding that does not fire this run becomes 解消 only when a newer submission of the same product
was evaluated by the same rule and no longer fires (pipeline.register_status, evidence in 解消の根拠); otherwise
it keeps its status and says why it was not seen (今回未検出の理由).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from pipeline.config import (
    ALL_REGISTER_COLUMNS, REGISTER_COLUMN_GUIDE, REGISTER_NAME, RESOLVED_ON, REVIEW_STATUS, REVIEW_STATUSES,
    RESOLVED_BY, REVIEWER_COLUMNS, RISK_ASSESSMENT, RISK_FLAG, RISK_NEEDED, RISK_RECORDED, STATUS_OPEN,
    STATUS_RESOLVED, UNSEEN_REASON,
)
from pipeline.register_status import StatusJudge, Verdict, legacy_resolution
from pipeline.safe_io import (
    csv_writer, locked_alternative, looks_like_formula, neutral_text, parquet_writer, write_outputs,
)
from pipeline.store import Store
from rules.findings import SEVERITIES

SHEET_REGISTER = "リスク登録簿"
SHEET_GUIDE = "列の説明"
SEVERITY_ORDER = {s: i for i, s in enumerate(SEVERITIES)}
SEVERITY_FILLS = {
    "高": PatternFill("solid", fgColor="F8CBAD"),  # red-ish
    "中": PatternFill("solid", fgColor="FFE699"),  # amber
    "低": PatternFill("solid", fgColor="D9D9D9"),  # grey
}
RESOLVED_FONT = Font(color="808080")
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
REVIEWER_HEADER_FILL = PatternFill("solid", fgColor="FFF2CC")
COLUMN_WIDTHS = {
    "risk_id": 14, "vendor": 22, "product": 22, "category": 16, "rule_id": 14, "severity": 7, "item_ids": 16,
    "title": 30, "finding": 50, "evidence": 60, "source_files": 28, "recommendation": 45,
    "contract_clause": 45, "status": 10, "first_seen": 12, "last_seen": 12, RESOLVED_ON: 12,
    "needs_review": 10, "guideline_ref": 14, "rationale": 40, "document_ids": 20, UNSEEN_REASON: 45, RESOLVED_BY: 45,
    REVIEW_STATUS: 12, "担当": 12, "対応方針": 30, "期限": 12, "メモ": 30, RISK_FLAG: 12, RISK_ASSESSMENT: 40,
}
RISK_NEEDED_FILL = PatternFill("solid", fgColor="F4B084")
VALIDATION_EXTRA_ROWS = 500  # the dropdown also covers rows a reviewer adds below the data


def _join(values) -> str:
    return ", ".join(str(v) for v in values or [] if str(v))


def finding_row(finding) -> dict:
    """The register columns that come from a rules.findings.Finding."""
    return {
        "risk_id": finding.risk_id,
        "vendor": finding.vendor,
        "product": finding.product,
        "category": finding.category,
        "rule_id": finding.rule_id,
        "severity": finding.severity,
        "item_ids": _join(finding.item_ids),
        "title": finding.title,
        "finding": finding.finding,
        "evidence": finding.evidence,
        "source_files": _join(finding.source_files),
        "recommendation": finding.recommendation,
        "contract_clause": finding.contract_clause,
        "needs_review": bool(finding.needs_review),
        "guideline_ref": finding.guideline_ref,
        "rationale": finding.rationale,
        "document_ids": _join(finding.document_ids),
    }


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def sheet_records(ws, columns: list[str]) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """A sheet's header row, and below it each row's number and the text of `columns` ("" where the sheet has no
    such column or the row is short): columns are found by their header, never by position."""
    values = ws.iter_rows(values_only=True)
    header = [cell_text(h) for h in next(values, [])]
    idx = {name: header.index(name) for name in columns if name in header}

    def records() -> Iterator[tuple[int, dict[str, str]]]:
        for number, cells in enumerate(values, start=2):
            yield number, {c: cell_text(cells[idx[c]]) if c in idx and idx[c] < len(cells) else "" for c in columns}

    return header, records()


@dataclass
class ReviewerRead:
    edits: dict[str, dict[str, str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # Whole rows by risk_id: the register as the workbook holds it, used for rows the store lacks (a lost or
    # replaced mdsgap.sqlite must not drop a risk the reviewer is tracking).
    rows: dict[str, dict] = field(default_factory=dict)


@dataclass
class OpenedWorkbook:
    """An existing register workbook, loaded once per run for every sheet read from it."""

    path: Path
    workbook: Workbook | None  # None: it could not be opened
    error: str = ""  # the exception's type name when it could not


def open_workbooks(paths: list[Path]) -> list[OpenedWorkbook]:
    """The register workbooks that exist, in the order given; formulas are read as typed (not evaluated) so that
    nothing the reviewer wrote is lost. A corrupted workbook must not stop the run: the store keeps a copy."""
    opened = []
    for path in map(Path, paths):
        if not path.is_file():
            continue
        try:
            opened.append(OpenedWorkbook(path, load_workbook(path)))
        except Exception as exc:  # noqa: BLE001 - reported by read_reviewer_edits
            opened.append(OpenedWorkbook(path, None, type(exc).__name__))
    return opened


def read_reviewer_edits(books: list[OpenedWorkbook]) -> ReviewerRead:
    """Reviewer columns keyed by risk_id from existing register workbooks; a later file overrides an earlier one."""
    result = ReviewerRead()
    for book in books:
        wb = book.workbook
        if wb is None:
            result.warnings.append(f"{book.path.name} を読み込めませんでした（{book.error}）。"
                                   "記入内容はデータベースの控えから復元します。")
            continue
        ws = wb[SHEET_REGISTER] if SHEET_REGISTER in wb.sheetnames else wb.worksheets[0]
        header, records = sheet_records(ws, ALL_REGISTER_COLUMNS)
        if "risk_id" not in header:
            result.warnings.append(f"{book.path.name} に risk_id 列がないため、記入内容を読み取れませんでした。")
            continue
        for _, row in records:
            risk_id = row["risk_id"]
            if not risk_id:
                continue
            result.edits[risk_id] = {c: row[c] for c in REVIEWER_COLUMNS}
            row["needs_review"] = row["needs_review"].casefold() in ("true", "1")
            result.rows[risk_id] = row
    return result


NOT_JUDGED = "今回はルールの判定を行っていないため、解消とは判断していません。"


def merge_register(previous: dict[str, dict], findings: list, reviews: dict[str, dict[str, str]],
                   as_of: dt.date, judge=None, risk_assessment: set[str] | None = None) -> list[dict]:
    """Rows of the register after this run: current findings plus every earlier row.

    An earlier open row this run did not see is resolved only when `judge(row)` (a `StatusJudge.judge`) says a
    newer document shows the fix; without a judge nothing is resolved. `risk_assessment`: risk_ids of this run's
    findings that need a recorded risk assessment (rules.checks_gl7.risk_assessment_ids); a row not judged this
    run keeps what it had."""
    today = as_of.isoformat()
    rows: dict[str, dict] = {}
    found = {f.risk_id for f in findings}
    for finding in findings:
        row = finding_row(finding)
        rid = row["risk_id"]
        if rid in rows:  # the same gap reported twice: keep one row, keep all evidence
            if row["evidence"] and row["evidence"] not in rows[rid]["evidence"]:
                rows[rid]["evidence"] += "\n" + row["evidence"]
            continue
        before = previous.get(rid, {})
        row["first_seen"] = before.get("first_seen") or today
        row["last_seen"] = today
        row[RESOLVED_ON] = row[UNSEEN_REASON] = row[RESOLVED_BY] = ""
        rows[rid] = row
    for rid, before in previous.items():
        if rid in rows:
            continue
        row = {c: before.get(c, "") for c in ALL_REGISTER_COLUMNS}
        if before.get(RESOLVED_ON) and not legacy_resolution(before):
            rows[rid] = row  # resolved with evidence in an earlier run: stays so (date and evidence kept)
            continue
        verdict = judge(row) if judge is not None else Verdict(False, NOT_JUDGED)
        if verdict.resolved:
            row[RESOLVED_ON] = before.get(RESOLVED_ON) or today
            row[RESOLVED_BY], row[UNSEEN_REASON] = verdict.evidence, ""
        else:
            if before.get(RESOLVED_ON):  # an earlier version resolved it without evidence: open again
                verdict.reason = (f"以前の実行で根拠なく解消（{before[RESOLVED_ON]}）とされていたため、未解消に戻しました。"
                                  + verdict.reason)
            row[RESOLVED_ON], row[RESOLVED_BY], row[UNSEEN_REASON] = "", "", verdict.reason
        rows[rid] = row
    for rid, row in rows.items():
        review = {c: reviews.get(rid, {}).get(c, "") for c in REVIEWER_COLUMNS}
        needed = (rid in risk_assessment if risk_assessment is not None and rid in found
                  else previous.get(rid, {}).get(RISK_FLAG) in (RISK_NEEDED, RISK_RECORDED))
        row.update(review)
        row[RISK_FLAG] = "" if not needed else (RISK_RECORDED if review[RISK_ASSESSMENT].strip() else RISK_NEEDED)
        if row[RESOLVED_ON] and row[RISK_FLAG] == RISK_NEEDED:
            row[RISK_FLAG] = ""  # a resolved gap needs no assessment any more
        if row[RESOLVED_ON]:
            row["status"] = STATUS_RESOLVED
        else:
            row["status"] = review[REVIEW_STATUS] or STATUS_OPEN
        row["needs_review"] = bool(row.get("needs_review"))
    return sorted(rows.values(), key=register_row_order)


def register_row_order(row: dict):
    return (bool(row[RESOLVED_ON]), SEVERITY_ORDER.get(row["severity"], 9), row["vendor"], row["product"],
            row["rule_id"], row["risk_id"])


def register_frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=ALL_REGISTER_COLUMNS)
    for col in ALL_REGISTER_COLUMNS:
        if col == "needs_review":
            df[col] = df[col].fillna(False).astype("bool")
        else:
            df[col] = df[col].fillna("").astype(str).astype("string")
    return df


def put_text(cell, value) -> None:
    """Write a value made inert (no control character the Excel writer refuses, no active bidi); text that looks
    like a formula stays text (string type + quotePrefix)."""
    value = neutral_text(value)
    cell.value = value
    if looks_like_formula(value):
        cell.data_type = "s"
        cell.quotePrefix = True


def write_header(ws, columns: list[str], reviewer_columns, widths: dict[str, int]) -> None:
    """A register-style header row: bold, the reviewer's columns in their own colour, widths by name."""
    ws.append(columns)
    for c, name in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=c)
        cell.font = Font(bold=True)
        cell.fill = REVIEWER_HEADER_FILL if name in reviewer_columns else HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[get_column_letter(c)].width = widths.get(name, 14)


def write_register_xlsx(rows: list[dict], path: Path, add_sheets=None) -> None:
    """`add_sheets(wb)`: more sheets written into the same workbook (pipeline.risk_sheet)."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_REGISTER
    write_header(ws, ALL_REGISTER_COLUMNS, REVIEWER_COLUMNS, COLUMN_WIDTHS)
    wrap = Alignment(wrap_text=True, vertical="top")
    for r, row in enumerate(rows, start=2):
        for c, name in enumerate(ALL_REGISTER_COLUMNS, start=1):
            cell = ws.cell(row=r, column=c)
            value = row.get(name, "")
            if name == "needs_review":
                cell.value = bool(value)
            else:
                put_text(cell, "" if value is None else str(value))
            cell.alignment = wrap
            if name == "severity" and value in SEVERITY_FILLS:
                cell.fill = SEVERITY_FILLS[value]
            if name == RISK_FLAG and value == RISK_NEEDED:
                cell.fill = RISK_NEEDED_FILL
            if row.get(RESOLVED_ON):
                cell.font = RESOLVED_FONT
    last_row = max(1, len(rows) + 1)
    last_col = get_column_letter(len(ALL_REGISTER_COLUMNS))
    ws.auto_filter.ref = f"A1:{last_col}{last_row}"
    ws.freeze_panes = "B2"
    status_col = get_column_letter(ALL_REGISTER_COLUMNS.index(REVIEW_STATUS) + 1)
    dv = DataValidation(type="list", formula1='"' + ",".join(REVIEW_STATUSES) + '"', allow_blank=True,
                        showErrorMessage=True, errorTitle="対応状況",
                        error="一覧（" + "／".join(REVIEW_STATUSES) + "）から選んでください。")
    dv.add(f"{status_col}2:{status_col}{last_row + VALIDATION_EXTRA_ROWS}")
    ws.add_data_validation(dv)

    guide = wb.create_sheet(SHEET_GUIDE)
    guide.append(["列名", "説明"])
    for cell in guide[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    for name in ALL_REGISTER_COLUMNS:
        guide.append([name, REGISTER_COLUMN_GUIDE.get(name, "")])
    guide.column_dimensions["A"].width = 18
    guide.column_dimensions["B"].width = 100
    for row in guide.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = wrap
    if add_sheets is not None:
        add_sheets(wb)
    wb.save(path)


@dataclass
class RegisterResult:
    rows: list[dict]
    paths: list[Path]
    warnings: list[str]


def update_register(store: Store, findings: list, out: Path, as_of: dt.date, coverage=None,
                    risk_assessment: set[str] | None = None, more_sheets=None) -> RegisterResult:
    """Merge findings with the stored register and the reviewer's XLSX edits; store and write all three files.

    `coverage` (rules.engine.Coverage of this run's evaluation) is what lets an unseen risk become 解消; without it
    every earlier open risk stays open with its reason. `more_sheets(rows, workbooks)`: called with the merged rows
    and the existing register workbooks (`OpenedWorkbook`s, each loaded once), returns what else goes into the
    workbook and beside it (`.add_to(wb)`, `.write_tables(out)`, `.warnings`): the sheet 「リスク評価」 of every
    MDS/SDS いいえ (pipeline.risk_sheet)."""
    out = Path(out)
    xlsx = out / f"{REGISTER_NAME}.xlsx"
    candidates = sorted((p for p in (xlsx, locked_alternative(xlsx)) if p.is_file()),
                        key=lambda p: p.stat().st_mtime)
    books = open_workbooks(candidates)
    read = read_reviewer_edits(books)
    reviews = store.reviews()
    reviews.update(read.edits)  # what the reviewer typed in the workbook wins over the stored copy
    previous = {rid: row for rid, row in read.rows.items() if row.get("rule_id")} | store.register_rows()
    rows = merge_register(previous, findings, reviews, as_of, StatusJudge(store, coverage).judge, risk_assessment)
    store.save_reviews({r["risk_id"]: {c: r[c] for c in REVIEWER_COLUMNS} for r in rows})
    try:
        sheet = more_sheets(rows, books) if more_sheets is not None else None
    finally:
        for book in books:
            if book.workbook is not None:
                book.workbook.close()
    if sheet is not None:
        assessed = sheet.assessed_risks()
        for row in rows:
            if row[RISK_FLAG] == RISK_NEEDED and row["risk_id"] in assessed:
                row[RISK_FLAG] = RISK_RECORDED
    store.save_register_rows(rows)

    df = register_frame(rows)
    warnings = list(read.warnings) + (sheet.warnings if sheet else [])
    pending = sum(1 for r in rows if r.get(RISK_FLAG) == RISK_NEEDED and not r[RESOLVED_ON])
    if pending:
        warnings.append(f"{pending} 件の指摘はリスク評価が未記録です（リスク登録簿の「{RISK_FLAG}」列が「{RISK_NEEDED}」）。"
                        f"「{RISK_ASSESSMENT}」列に記入してください。")
    unseen = sum(1 for r in rows if r[UNSEEN_REASON] and not r[RESOLVED_ON])
    if unseen:
        warnings.append(f"{unseen} 件の指摘は今回検出されませんでしたが、新しい版での確認がないため解消としていません"
                        f"（理由はリスク登録簿の「{UNSEEN_REASON}」列）。")
    written, warn = write_outputs([
        (xlsx, lambda tmp: write_register_xlsx(rows, tmp, sheet.add_to if sheet else None)),
        (out / f"{REGISTER_NAME}.parquet", parquet_writer(df)),
        (out / f"{REGISTER_NAME}.csv", csv_writer(df, [c for c in df.columns if c != "needs_review"])),
    ])
    warnings += warn
    if sheet is not None:
        done, warn = sheet.write_tables(out)
        written += done
        warnings += warn
    return RegisterResult(rows, written, warnings)
