"""Write a metamorphic `Variant` (samples.metamorphic) as a real .xlsx (openpyxl), .docx (python-docx), or
a LibreOffice print of either to PDF. The writers only lay out the blocks `render` gives them."""
from __future__ import annotations

import atexit
import shutil
import subprocess
import tempfile
from pathlib import Path

from samples.metamorphic import CommentBlock, Out, TableBlock, Variant, render

PAPER_XLSX = {"A4": 9, "A3": 8, "B4": 12}


# ---------------------------------------------------------------- xlsx

def write_xlsx(v: Variant, path: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    thin = Side(style="thin", color="000000")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    grey = PatternFill("solid", fgColor="D9D9D9")
    wb = Workbook()
    ws = wb.active
    ws.title = "チェックリスト" if v.is_checklist else "開示書"
    sheets = [ws]
    row = 1
    validations: dict[tuple[str, ...], tuple[DataValidation, object]] = {}  # choices -> (rule, its sheet)

    def font(bold=False):
        return Font(name=v.font, size=10, bold=bold)

    def put(r: int, c: int, out: Out, border: bool = True):
        cell = ws.cell(row=r, column=c, value=out.date if out.date else (out.text or None))
        cell.font = font(out.bold)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        if out.date:
            cell.number_format = v.date_format
        if border:
            cell.border = box
        if out.colour:
            cell.fill = PatternFill("solid", fgColor=out.colour)
        elif out.fill:
            cell.fill = grey
        if out.choices:
            key = tuple(out.choices)
            if key not in validations or validations[key][1] is not ws:
                dv = DataValidation(type="list", formula1='"' + ",".join(key) + '"', allow_blank=True)
                ws.add_data_validation(dv)
                validations[key] = (dv, ws)
            validations[key][0].add(cell.coordinate)
        return cell

    for block in render(v):
        if isinstance(block, TableBlock):
            if block.new_page:
                ws = wb.create_sheet("続き" if len(sheets) == 1 else f"続き{len(sheets)}")
                if block.header_rows == 1 and len(block.rows[0]) == 2:
                    ws.title = v.footnote_label
                sheets.append(ws)
                row = 1
            for k, w in enumerate(block.widths, 1):
                ws.column_dimensions[get_column_letter(k)].width = w
            for r, cells in enumerate(block.rows):
                for c, out in enumerate(cells):
                    put(row + r, c + 1, out)
            for r0, c0, r1, c1 in block.merges:
                ws.merge_cells(start_row=row + r0, start_column=c0 + 1, end_row=row + r1, end_column=c1 + 1)
            row += len(block.rows) + 1
        elif isinstance(block, CommentBlock):
            put(row, 1, Out(block.label, bold=True))
            put(row, 2, Out(block.text))
            ws.merge_cells(start_row=row, start_column=2, end_row=row + 2, end_column=max(2, len(v.columns)))
            row += 4
        else:
            if block:
                ws.cell(row=row, column=1, value=block).font = font(bold=row <= 2)
            row += 1
    for sheet in sheets:
        sheet.page_setup.orientation = (v.pdf or {}).get("orientation", "landscape")
        sheet.page_setup.paperSize = PAPER_XLSX[(v.pdf or {}).get("paper", "A4")]
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0
    wb.save(path)
    return path


# ---------------------------------------------------------------- docx

def _sdt_dropdown(text: str, choices: tuple[str, ...]):
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    sdt = OxmlElement("w:sdt")
    pr = OxmlElement("w:sdtPr")
    dd = OxmlElement("w:dropDownList")
    for ch in choices:
        li = OxmlElement("w:listItem")
        li.set(qn("w:displayText"), ch)
        li.set(qn("w:value"), ch)
        dd.append(li)
    pr.append(dd)
    sdt.append(pr)
    content = OxmlElement("w:sdtContent")
    r = OxmlElement("w:r")
    t = OxmlElement("w:t")
    t.text = text or "選択してください。"
    r.append(t)
    content.append(r)
    sdt.append(content)
    return sdt


def _shade(cell, colour: str = "D9D9D9") -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), colour)
    cell._tc.get_or_add_tcPr().append(shd)


def _cell_text(cell, out: Out) -> None:
    p = cell.paragraphs[0]
    if out.choices:
        p._p.append(_sdt_dropdown(out.text, out.choices))
        return
    lines = (out.text or "").split("\n")
    for k, line in enumerate(lines):
        run = p.add_run(line)
        run.bold = out.bold
        if k < len(lines) - 1:
            run.add_break()


def write_docx(v: Variant, path: Path) -> Path:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_BREAK
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = v.font
    normal.font.size = Pt(9)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), v.font)
    sec = doc.sections[0]
    paper = (v.pdf or {}).get("paper", "A4")
    w, h = {"A4": (21.0, 29.7), "A3": (29.7, 42.0), "B4": (25.7, 36.4)}[paper]
    sec.page_width, sec.page_height = Cm(w), Cm(h)
    if (v.pdf or {}).get("orientation", "landscape" if len(v.columns) > 6 else "portrait") == "landscape":
        sec.orientation = WD_ORIENT.LANDSCAPE
        sec.page_width, sec.page_height = Cm(h), Cm(w)
    sec.left_margin = sec.right_margin = sec.top_margin = sec.bottom_margin = Cm(1.5)
    usable = sec.page_width - Cm(3.0)
    for block in render(v):
        if isinstance(block, TableBlock):
            if block.new_page:
                doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
            n = max(len(r) for r in block.rows)
            table = doc.add_table(rows=len(block.rows), cols=n)
            table.style = "Table Grid"
            covered = set()
            for r0, c0, r1, c1 in block.merges:
                table.cell(r0, c0).merge(table.cell(r1, c1))
                covered |= {(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)} - {(r0, c0)}
            grid = table._cells  # table.cell(r, c) rebuilds this list on every call
            for r, cells in enumerate(block.rows):
                for c, out in enumerate(cells):
                    if (r, c) in covered:
                        continue
                    cell = grid[r * n + c]
                    _cell_text(cell, out)
                    if out.colour or out.fill:
                        _shade(cell, out.colour or "D9D9D9")
            total = sum(block.widths)
            table.autofit = False
            for k, gc in enumerate(table._tbl.tblGrid.findall(qn("w:gridCol"))):
                gc.set(qn("w:w"), str(int(usable * block.widths[k] / total / 635)))
            for k, cell in enumerate(grid):
                cell.width = int(usable * block.widths[k % n] / total)
        elif isinstance(block, CommentBlock):
            doc.add_paragraph(f"{block.label}{block.text}")
        else:
            doc.add_paragraph(block)
    doc.save(path)
    return path


# ---------------------------------------------------------------- pdf (LibreOffice)

_PROFILE: list[Path] = []


def _profile_dir() -> Path:
    """One LibreOffice profile per process (a profile in use by another soffice cannot be shared),
    kept between prints (a fresh profile costs a few seconds) and removed at exit."""
    if not _PROFILE:
        _PROFILE.append(Path(tempfile.mkdtemp(prefix="mdsgap-metamorphic-lo-")))
        atexit.register(shutil.rmtree, _PROFILE[0], True)
    return _PROFILE[0]


def soffice_binary() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def print_pdf(source: Path, out: Path, timeout: float = 180) -> Path:
    """Print an .xlsx/.docx to PDF with LibreOffice (a private profile kept between calls)."""
    soffice = soffice_binary()
    if not soffice:
        raise FileNotFoundError("LibreOffice (soffice) が見つかりません")
    with tempfile.TemporaryDirectory(prefix="mdsgap-meta-pdf-") as tmp:
        subprocess.run([soffice, f"-env:UserInstallation={_profile_dir().as_uri()}", "--headless",
                        "--convert-to", "pdf", "--outdir", tmp, str(source)],
                       check=True, capture_output=True, timeout=timeout)
        produced = Path(tmp) / f"{source.stem}.pdf"
        if not produced.exists():
            raise RuntimeError(f"LibreOffice が {source.name} を PDF にできませんでした")
        shutil.move(str(produced), out)
    return out


def write(v: Variant, folder: Path, stem: str = "variant") -> Path:
    """Write the variant into `folder` and return the file to extract (.xlsx, .docx or .pdf)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    office = folder / f"{stem}.{v.fmt}"
    (write_xlsx if v.fmt == "xlsx" else write_docx)(v, office)
    if v.pdf is None:
        return office
    return print_pdf(office, folder / f"{stem}.pdf")
