"""Header fields of a form: 製造業者 / 事業者名, 製品名称, バージョン, 作成日 — wherever the vendor put them.

Labels sit left of their value, above it, or in one 「label：value」 line (several on one line in a footer).
"""
from __future__ import annotations

import re

from extractors.formdetect import inline_labels, label_field
from extractors.forms import Form
from extractors.grid import Cell, Grid, Table
from extractors.layout import header_role
from extractors.model import Document
from extractors.text import join_broken_name, normalize_text, parse_date


def cells(row: list[Cell]):
    """The cells of a row that are not covered by a merge, with their column index."""
    return [(i, c) for i, c in enumerate(row) if c.merged_into is None]


def plausible_value(cell: Cell) -> bool:
    """A header field's value is short and is not another label, a heading, a note or an instruction."""
    t = normalize_text(cell.text)
    if cell.date:
        return True
    return bool(t) and len(t) <= 60 and not label_field(t) and not header_role(t, exact=True) \
        and t[0] not in "●○※*＊・■◆" and not _NOTE.search(t)


# A note or an instruction, not a value: 「…をご覧ください。」
_NOTE = re.compile(r"(ください|下さい|すること|です|ます)。?$|。$")
_COMPANY_FORM = re.compile(r"株式会社|有限会社|合同会社|[(（]株[)）]|㈱|Co\.,?\s*Ltd|Inc\.|Corporation", re.I)


# A sentence, not a name: it ends in 。, quotes a title in 「」, or asks or tells the reader something.
_SENTENCE = re.compile(r"[。「」『』]|ください|下さい|をご覧|参照して|してい(ます|る)|します|です$|ます$")


def sentence_like(text: str) -> bool:
    """A note or instruction (「…をご覧ください。」) rather than a name: never a vendor or product name."""
    return bool(_SENTENCE.search(normalize_text(text)))


def field_value_ok(field_name: str, text: str) -> bool:
    """A vendor or product name is a short name, not a sentence a scan or a footer put beside the label."""
    return field_name not in ("vendor", "product") or not sentence_like(text)


def value_right(row: list[Cell], col: int, check: bool = True) -> Cell | None:
    for i in range(col + 1, len(row)):
        cell = row[i]
        if cell.merged_into is not None:
            continue
        if normalize_text(cell.text) or cell.date:
            return cell if not check or plausible_value(cell) else None
    return None


def value_below(table: Table, r: int, col: int) -> Cell | None:
    if table.kind == "text":
        return None  # a line of running text is not a value
    if r + 1 < len(table.rows) and col < len(table.rows[r + 1]):
        cell = table.rows[r + 1][col]
        if cell.merged_into is None and plausible_value(cell):
            return cell
    return None


def value_above(table: Table, r: int, col: int) -> Cell | None:
    """A company name on the line above its label (a scan's lines come out of order): only a company name."""
    if table.kind == "text" or r == 0:
        return None
    for c, cell in cells(table.rows[r - 1]):
        if c >= col and plausible_value(cell) and _COMPANY_FORM.search(normalize_text(cell.text)) \
                and not label_field(cell.text):
            return cell
    return None


def collect_header_fields(grid: Grid) -> dict[str, tuple[str, Cell]]:
    """Field name -> (value, cell): 製造業者/事業者名, 製品名称, バージョン, 作成日, from label cells and 「label：value」 lines."""
    found: dict[str, tuple[str, Cell]] = {}
    def offer(field_name: str, value: str, cell: Cell) -> None:
        value = normalize_text(value).strip("_＿ ")
        if field_name == "created" and not (cell.date or parse_date(value)):
            return
        if not field_value_ok(field_name, value):
            return
        if (value or cell.date) and field_name not in found:
            found[field_name] = (value, cell)

    for line in grid.loose_text:
        for part in str(line).splitlines():
            for name, value in inline_labels(part):
                offer(name, value, Cell(text=value))
    for table in grid.tables:
        for r, row in enumerate(table.rows):
            for col, cell in cells(row):
                text = cell.text or ""
                if not text.strip() or len(text) > 80:
                    continue
                for part in text.splitlines():
                    for name, value in inline_labels(part):
                        if value:
                            offer(name, value, Cell(text=value, ref=cell.ref))
                field_name = label_field(text)
                if field_name:
                    # 「確認日」 may head a date column: then only a value beside it counts, not the cell below.
                    below = None if header_role(text) else value_below(table, r, col)
                    for value in (value_right(row, col), below):
                        if value is not None and field_value_ok(field_name, value.text):
                            offer(field_name, value.text, value)
                            break
                    else:
                        if field_name == "vendor" and (above := value_above(table, r, col)) is not None:
                            offer(field_name, above.text, above)
    return found


# 「ガイドライン第7.0版対応」「GL6.0」「（第5.2版対応）」: the 安全管理ガイドライン version a form is written for.
_GUIDELINE_VERSION = re.compile(r"(?:ガイドライン|GL)\s*(?:第\s*)?(\d{1,2})\s*\.\s*(\d)\s*版?"
                                r"|第\s*(\d{1,2})\s*\.\s*(\d)\s*版\s*(?:に)?対応")


def guideline_version(grid: Grid, limit_rows: int = 12) -> str:
    """The guideline version printed in a form's title or header (not the file name): "7.0", "" if none."""
    parts = [str(t) for t in grid.loose_text]
    for table in grid.tables:
        parts.append(table.name)
        for row in table.rows[:limit_rows]:
            parts += [c.text for c in row if c.text and len(c.text) <= 160]
    for line in normalize_text("\n".join(parts)).splitlines():
        m = _GUIDELINE_VERSION.search(line)
        if m:
            major, minor = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
            return f"{int(major)}.{minor}"
    return ""


def apply_header(doc: Document, found: dict[str, tuple[str, Cell]], form: Form | None) -> None:
    for name, (value, cell) in found.items():
        doc.header_fields[name] = value if value else (cell.date.isoformat() if cell.date else "")
    doc.vendor = join_broken_name(found.get("vendor", ("", None))[0])  # 「…株\n式会社」 read as one name
    doc.product = found.get("product", ("", None))[0]
    doc.product_version = found.get("product_version", ("", None))[0]
    if "created" in found:
        value, cell = found["created"]
        doc.created = cell.date or parse_date(value, form.fiscal_year if form else None)
    if not doc.vendor:
        doc.warnings.append("事業者名（製造業者名）が記載されていません")
