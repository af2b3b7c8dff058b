"""One worksheet into a `Table`: extent, merges, circles under shapes, check boxes, dropdown choices."""
from __future__ import annotations

from openpyxl.utils import get_column_letter

from extractors.grid import CHECKED_BOX, UNCHECKED_BOX, Cell, Mark, Table
from extractors.model import ExtractionError
from extractors.readers.xlsx.cells import _fill_cell
from extractors.readers.xlsx.controls import FormControl, insert_boxes
from extractors.readers.xlsx.drawings import Shape
from extractors.readers.xlsx.geometry import Geometry, Palette, default_digit_px, fill_colour
from extractors.readers.xlsx.validations import SheetExtras, _sqref_ranges, resolve_list

MAX_CELLS = 200_000  # rows × columns of one sheet's used range


# --------------------------------------------------------------------------- one sheet

def sheet_table(wb, ws, palette: Palette, shapes: list[Shape], extras: SheetExtras | None = None,
                controls: list[FormControl] | None = None) -> Table:
    extras = extras or SheetExtras()
    geo = Geometry(ws, extras.cols, extras.default_col_width, default_digit_px(wb))
    merges = [(m.min_row, m.min_col, m.max_row, m.max_col) for m in ws.merged_cells.ranges]
    merge_of = {}
    for r0, c0, r1, c1 in merges:
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                merge_of[(r, c)] = (r0, c0, r1, c1)

    # Circles: the cell under each shape's centre.
    circles: list[tuple[int, int, Mark]] = []
    for shape in shapes:
        conf = shape.circle_confidence()
        if conf <= 0:
            continue
        x, y = shape.centre(geo)
        r, c = geo.row_at(y), geo.col_at(x)
        r0, c0, r1, c1 = merge_of.get((r, c), (r, c, r, c))
        left, top = geo.col_left(c0), geo.row_top(r0)
        width, height = geo.col_left(c1 + 1) - left, geo.row_top(r1 + 1) - top
        xfrac = (x - left) / width if width else 0.5
        yfrac = (y - top) / height if height else 0.5
        detail = f"{shape.name or '図形'};xfrac={xfrac:.2f};yfrac={yfrac:.2f}"
        circles.append((r0, c0, Mark("circle", None, conf, detail)))

    # Form-control check boxes: ☑ / ☐ (+ label) into the cell under the box's centre.
    boxes: dict[tuple[int, int], list[tuple[float, str]]] = {}
    for control in controls or []:
        x0, y0, x1, y1 = control.anchor.rect(geo)
        x, y = (x0 + x1) / 2, (y0 + y1) / 2
        r, c = geo.row_at(y), geo.col_at(x)
        r0, c0, r1, c1 = merge_of.get((r, c), (r, c, r, c))
        left, width = geo.col_left(c0), geo.col_left(c1 + 1) - geo.col_left(c0)
        glyph = CHECKED_BOX if control.checked else UNCHECKED_BOX
        boxes.setdefault((r0, c0), []).append(((x - left) / width if width else 0.5, glyph + control.label))

    # Extent: last row/column with text, a fill, a merge with text, or a circle.
    max_r = max_c = 0
    for (r, c), cell in ws._cells.items():
        v = cell.value
        if (v is not None and str(v).strip() != "") or fill_colour(cell, palette):
            max_r, max_c = max(max_r, r), max(max_c, c)
    for r0, c0, r1, c1 in merges:
        if (r0, c0) in ws._cells and ws._cells[(r0, c0)].value not in (None, ""):
            max_r, max_c = max(max_r, r1), max(max_c, c1)
    for r, c in [(r, c) for r, c, _ in circles] + list(boxes):
        max_r, max_c = max(max_r, r), max(max_c, c)
    # A dropdown column with no answer yet still belongs to the table (rows stay within the content).
    validations = [(dv.formula1, dv.sqref) for dv in ws.data_validations.dataValidation if dv.type == "list"]
    validations += [(v.formula, v.sqref) for v in extras.validations]
    for _, sqref in validations:
        for c0, r0, c1, r1 in _sqref_ranges(sqref):
            if r0 <= max_r and c1 < 1000:
                max_c = max(max_c, c1)
    if max_r * max_c > MAX_CELLS:
        raise ExtractionError(
            f"シート「{ws.title}」の使用範囲が大きすぎます（{max_r} 行 × {max_c} 列）。"
            "開示書として想定される大きさを超えているため読み取りを中止しました。事業者に内容の確認を依頼してください。",
            "too_large",
        )

    rows: list[list[Cell]] = []
    for r in range(1, max_r + 1):
        row = []
        for c in range(1, max_c + 1):
            ref = f"{get_column_letter(c)}{r}"
            hidden = r in geo.hidden_rows or c in geo.hidden_cols
            m = merge_of.get((r, c))
            if m and (m[0], m[1]) != (r, c):
                row.append(Cell(ref=ref, hidden=hidden, merged_into=(m[0] - 1, m[1] - 1)))
                continue
            cell = ws._cells.get((r, c))
            out = Cell(ref=ref, hidden=hidden)
            if m:
                out.rowspan, out.colspan = m[2] - m[0] + 1, m[3] - m[1] + 1
            if cell is not None:
                _fill_cell(out, cell, palette)
            row.append(out)
        rows.append(row)

    for r, c, mark in circles:
        rows[r - 1][c - 1].marks.append(mark)
    for (r, c), cell_boxes in boxes.items():
        insert_boxes(rows[r - 1][c - 1], cell_boxes)

    # Dropdown choices.
    cache: dict = {}
    for formula, sqref in validations:
        choices = resolve_list(wb, ws, formula, cache)
        if not choices:
            continue
        for c0, r0, c1, r1 in _sqref_ranges(sqref):
            for r in range(r0, min(r1, max_r) + 1):
                for c in range(c0, min(c1, max_c) + 1):
                    rows[r - 1][c - 1].choices = list(choices)

    return Table(name=ws.title, rows=rows, kind="sheet", hidden=ws.sheet_state != "visible")
