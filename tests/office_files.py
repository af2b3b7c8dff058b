"""Small real vendor files and reviewer edits that several test modules write (our own invented wording)."""
from __future__ import annotations

import io
from pathlib import Path

import openpyxl

MDS_TITLE = "製造業者による医療情報セキュリティ開示書 チェックリスト（ガイドライン第5.2版対応）"


def small_mds(vendor: str, product: str | None = None, remark: str = "") -> bytes:
    """A two-item MDS workbook of an invented vendor; a distinct `product` gives distinct bytes (and sha)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([MDS_TITLE])
    ws.append(["製造業者", vendor])
    ws.append(["製品名称", product or f"{vendor}の検査装置"])
    ws.append(["No.", "確認項目", "はい", "いいえ", "対象外", "備考"])
    ws.append(["1", "扱う情報のリストを医療機関等に提示できるか？", "○", "", "", remark])
    ws.append(["3", "離席時の不正入力防止の機能があるか？", "", "○", "", ""])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def fill_review(register: Path, count: int, values: dict[str, str],
                typed_text: tuple[tuple[int, str], ...] = ()) -> list[str]:
    """What a reviewer does in Excel: fill reviewer columns of the first `count` rows of the register and save.
    `typed_text`: (row, column) cells entered as text (not a formula). Returns the rows' risk ids."""
    wb = openpyxl.load_workbook(register)
    ws = wb.worksheets[0]
    head = [c.value for c in ws[1]]
    ids = []
    for r in range(2, 2 + count):
        for col, value in values.items():
            ws.cell(row=r, column=head.index(col) + 1, value=value)
        ids.append(ws.cell(row=r, column=head.index("risk_id") + 1).value)
    for row, col in typed_text:
        ws.cell(row=row, column=head.index(col) + 1).data_type = "s"
    wb.save(register)
    return ids


def fill_sheet_rows(register: Path, sheet: str, values: dict[str, dict[str, str]], key: str) -> list[dict]:
    """What a reviewer does in Excel on another sheet of the register: for each row whose column `key` holds one
    of `values`' keys, type that key's {column: text} and save. Returns the rows found (as they were)."""
    wb = openpyxl.load_workbook(register)
    ws = wb[sheet]
    head = [c.value for c in ws[1]]
    found = []
    for cells in ws.iter_rows(min_row=2):
        row = {h: c.value for h, c in zip(head, cells)}
        for col, text in values.get(row.get(key), {}).items():
            cells[head.index(col)].value = text
        if row.get(key) in values:
            found.append(row)
    wb.save(register)
    return found


def rule_table(canvas, xs: list[float], top: float, row_h: float, rows: int) -> None:
    """Draw the ruling of a table of `rows` rows of height `row_h` under `top`, columns at `xs` (reportlab)."""
    bottom = top - rows * row_h
    for k in range(rows + 1):
        canvas.line(xs[0], top - k * row_h, xs[-1], top - k * row_h)
    for x in xs:
        canvas.line(x, top, x, bottom)
