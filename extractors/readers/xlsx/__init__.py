"""Read an Excel workbook (.xlsx/.xlsm/.xltx) into a `Grid`: one `Table(kind="sheet")` per worksheet.

openpyxl (full mode, cached values, rich text) gives the cells, merges, fills, fonts and data
validations. What openpyxl does not model is read from the package XML with lxml:

- drawn shapes (`xl/drawings/drawingN.xml`, found through the sheet's rels): an ellipse over a cell
  becomes `Mark("circle", detail="楕円 1;xfrac=0.31;yfrac=0.50")` on the cell under the shape's
  centre — xfrac/yfrac say where inside the cell (or merged range) the centre lies, so the
  interpreter can tell which word of 「はい・いいえ」 is circled; text boxes go to `Grid.loose_text`;
- data validations stored in the sheet's `extLst` (`x14:dataValidation`, what Excel 2010+ writes for
  lists that refer to another sheet), which openpyxl drops;
- form-control check boxes / option buttons (VML `x:ClientData` + `xl/ctrlProps`): written into the
  text of the cell under them as ☑ / ☐ (with their label) near their horizontal position, the same
  convention the Word reader uses;
- the sheet's raw `<col>` widths (openpyxl invents a width when the attribute is absent), so the
  centre of a shape is placed against the real column grid.

Macros are never run (values only). Table rows/columns start at A1, so `rows[r][c]` is Excel row r+1,
column c+1; a table covers A1 to the last row/column holding content (text, fill, merge, shape).
"""
from __future__ import annotations

import warnings
import zipfile
from pathlib import Path

from extractors.grid import Grid
from extractors.model import ExtractionError
from extractors.readers import xmlsafe, ziplimits
from extractors.readers.xlsx.controls import read_form_controls
from extractors.readers.xlsx.drawings import read_shapes
from extractors.readers.xlsx.geometry import Palette
from extractors.readers.xlsx.package import sheet_parts
from extractors.readers.xlsx.sheet import sheet_table
from extractors.readers.xlsx.validations import SheetExtras, read_sheet_extras
from extractors.readers.xlsx.workbook import load_for_reading

MSG_CORRUPT = "Excel ファイルが壊れているか途中までしかありません。事業者に再送を依頼してください。"
MARK_DOUBT = "図形（丸印・チェックボックスなど）の一部を読み取れなかった"


# --------------------------------------------------------------------------- entry point

def read_xlsx(path: Path | str) -> Grid:
    path = Path(path)
    check_package(path)
    try:
        with open(path, "rb") as f, warnings.catch_warnings():
            # openpyxl warns about parts it drops (extLst validations: read below from the XML).
            warnings.simplefilter("ignore", UserWarning)
            # Bytes, not the path, so that openpyxl ignores the extension (.xlsm, a renamed .xls, none).
            wb = load_for_reading(f.read())
    except ExtractionError:
        raise
    except Exception as exc:  # openpyxl raises many kinds on malformed parts
        raise ExtractionError(f"{MSG_CORRUPT}（詳細: {type(exc).__name__}: {exc}）", "corrupt") from exc

    grid = Grid(source=path.name, format="xlsx", tables=[])
    with zipfile.ZipFile(path) as zf:
        parts = sheet_parts(zf)
        palette = Palette.from_workbook(wb)
        for ws in wb.worksheets:
            part = parts.get(ws.title)
            problems: list[str] = []  # drawing parts that could not be read: marks may be missing
            shapes = read_shapes(zf, part.drawing, problems) if part and part.drawing else []
            extras = read_sheet_extras(zf, part.xml) if part else SheetExtras()
            controls = read_form_controls(zf, part.vml, extras.control_checked, problems) if part and part.vml else []
            table = sheet_table(wb, ws, palette, shapes, extras, controls)
            if problems:
                table.mark_doubt = MARK_DOUBT
                table.warnings += [f"シート「{ws.title}」: {p}" for p in problems]
            grid.tables.append(table)
            grid.loose_text.extend(s.text for s in shapes if s.text)
    return grid


def check_package(path: Path) -> None:
    """Refuse zip bombs, absurd packages and parts with entity declarations before openpyxl inflates them."""
    ziplimits.check_package(path, "Excel", MSG_CORRUPT)
    xmlsafe.check_package(path)
