"""Draw a `Submission` into a .docx the way vendors do (python-docx, plus raw XML for checkboxes).

Answer conventions: option glyphs in one cell (「■はい □いいえ □対象外」, ☑/☐), Word checkbox content
controls (w14:checkbox in w:sdt, ☒/☐ glyph runs) or legacy FORMCHECKBOX fields in option columns,
and for checklists only the chosen word left with its date.
"""
from __future__ import annotations


from dataclasses import dataclass, field
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from samples.office_xlsx import SCOPE_HEADINGS, SECTION_LABELS, combined_first, combined_second, combined_target
from samples.spec import NA, NO, YES, ItemSpec, Submission
from samples.ziputil import normalize

W14 = "http://schemas.microsoft.com/office/word/2010/wordml"


@dataclass
class DocxStyle:
    """mode: glyph_inline | sdt_checkbox | formcheckbox (MDS/SDS); chosen_word (checklist)."""

    mode: str
    glyphs: tuple[str, str] = ("■", "□")  # (checked, unchecked) for glyph_inline
    columns: tuple[str, ...] = ("num", "q", "answer", "remark")
    labels: dict[str, str] = field(default_factory=dict)
    header_pos: str = "table"  # table | paragraph | footer
    footnotes: str = ""  # "" | table
    font: str = "ＭＳ 明朝"
    font_size: float = 9.0
    landscape: bool = False
    section_rows: bool = True


def _set_fonts(doc, style: DocxStyle) -> None:
    normal = doc.styles["Normal"]
    normal.font.name = style.font
    normal.font.size = Pt(style.font_size)
    rpr = normal.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia"):
        fonts.set(qn(attr), style.font)


def _shade(cell, fill: str = "D9D9D9") -> None:
    tcpr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tcpr.append(shd)


def _text(cell, text: str, bold: bool = False, align=None) -> None:
    p = cell.paragraphs[0]
    run = p.add_run(text)
    run.bold = bold
    if align is not None:
        p.alignment = align


def _title(doc, sub: Submission) -> None:
    for k, line in enumerate(sub.title.split("\n")):
        p = doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        r = p.add_run(line)
        r.bold = True
        r.font.size = Pt(12 if k == 0 else 11)


def _header_fields(doc, sub: Submission, style: DocxStyle) -> None:
    pairs = list(sub.header_fields.items())
    if style.header_pos == "table":
        t = doc.add_table(rows=(len(pairs) + 1) // 2, cols=4)
        t.style = "Table Grid"
        for k, (label, value) in enumerate(pairs):
            row, col = divmod(k, 2)
            _text(t.cell(row, col * 2), label, bold=True)
            _shade(t.cell(row, col * 2), "F2F2F2")
            if value:
                _text(t.cell(row, col * 2 + 1), value)
        doc.add_paragraph()
    elif style.header_pos == "paragraph":
        for k in range(0, len(pairs), 2):
            doc.add_paragraph("　　".join(f"{label}：{value}" for label, value in pairs[k:k + 2]))
    elif style.header_pos == "footer":
        footer = doc.sections[0].footer
        p = footer.paragraphs[0]
        p.text = "　".join(f"{label}：{value}" for label, value in pairs)
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT


# ---------------------------------------------------------------- checkbox XML

def _sdt_checkbox(checked: bool, sdt_id: int):
    sdt = OxmlElement("w:sdt")
    pr = OxmlElement("w:sdtPr")
    idel = OxmlElement("w:id")
    idel.set(qn("w:val"), str(sdt_id))
    pr.append(idel)
    cb = OxmlElement("w14:checkbox")
    ch = OxmlElement("w14:checked")
    ch.set(qn("w14:val"), "1" if checked else "0")
    cs = OxmlElement("w14:checkedState")
    cs.set(qn("w14:val"), "2612")
    cs.set(qn("w14:font"), "ＭＳ ゴシック")
    us = OxmlElement("w14:uncheckedState")
    us.set(qn("w14:val"), "2610")
    us.set(qn("w14:font"), "ＭＳ ゴシック")
    cb.extend([ch, cs, us])
    pr.append(cb)
    sdt.append(pr)
    content = OxmlElement("w:sdtContent")
    r = OxmlElement("w:r")
    rpr = OxmlElement("w:rPr")
    fonts = OxmlElement("w:rFonts")
    for a in ("w:ascii", "w:eastAsia", "w:hAnsi"):
        fonts.set(qn(a), "ＭＳ ゴシック")
    fonts.set(qn("w:hint"), "eastAsia")
    rpr.append(fonts)
    r.append(rpr)
    t = OxmlElement("w:t")
    t.text = "☒" if checked else "☐"
    r.append(t)
    content.append(r)
    sdt.append(content)
    return sdt


def _formcheckbox_runs(checked: bool, index: int) -> list:
    """A legacy FORMCHECKBOX. Some use w:default only, some override it with w:checked."""
    begin = OxmlElement("w:r")
    fc = OxmlElement("w:fldChar")
    fc.set(qn("w:fldCharType"), "begin")
    ff = OxmlElement("w:ffData")
    name = OxmlElement("w:name")
    name.set(qn("w:val"), f"Check{index}")
    ff.append(name)
    ff.append(OxmlElement("w:enabled"))
    coe = OxmlElement("w:calcOnExit")
    coe.set(qn("w:val"), "0")
    ff.append(coe)
    box = OxmlElement("w:checkBox")
    box.append(OxmlElement("w:sizeAuto"))
    default = OxmlElement("w:default")
    variant = index % 3
    if variant == 0:  # state in w:default only
        default.set(qn("w:val"), "1" if checked else "0")
        box.append(default)
    elif variant == 1:  # template default unchecked, user's state in w:checked
        default.set(qn("w:val"), "0")
        box.append(default)
        chk = OxmlElement("w:checked")
        if not checked:
            chk.set(qn("w:val"), "0")
        box.append(chk)
    else:  # template default checked, overridden by w:checked
        default.set(qn("w:val"), "1")
        box.append(default)
        chk = OxmlElement("w:checked")
        chk.set(qn("w:val"), "1" if checked else "0")
        box.append(chk)
    ff.append(box)
    fc.append(ff)
    begin.append(fc)
    instr_r = OxmlElement("w:r")
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = " FORMCHECKBOX "
    instr_r.append(instr)
    end = OxmlElement("w:r")
    fe = OxmlElement("w:fldChar")
    fe.set(qn("w:fldCharType"), "end")
    end.append(fe)
    return [begin, instr_r, end]


# ---------------------------------------------------------------- MDS / SDS

def _mds_table(doc, sub: Submission, style: DocxStyle) -> None:
    cols = list(style.columns)
    labels = {"num": "No.", "q": "確認項目", "answer": "回答", "remark": "備考", YES: YES, NO: NO, NA: NA,
              **style.labels}
    table = doc.add_table(rows=1, cols=len(cols))
    table.style = "Table Grid"
    for k, role in enumerate(cols):
        _text(table.rows[0].cells[k], labels.get(role, role), bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
        _shade(table.rows[0].cells[k])
    wide = style.landscape
    widths = {"num": Cm(1.4), "q": Cm(12.5 if wide else 8.5), "answer": Cm(3.6), "remark": Cm(7.5 if wide else 4.5),
              YES: Cm(1.4), NO: Cm(1.4), NA: Cm(1.4)}
    counter = {"sdt": 1000, "ff": 0}
    last_section = None
    for it in sub.items:
        if style.section_rows and it.section and it.section != last_section and it.kind != "bullet":
            row = table.add_row()
            merged = row.cells[0].merge(row.cells[-1])
            _text(merged, it.section, bold=True)
            _shade(merged, "F2F2F2")
            last_section = it.section
        row = table.add_row()
        for k, role in enumerate(cols):
            _mds_cell(row.cells[k], it, role, style, counter)
    _set_widths(table, [widths.get(role, Cm(2.0)) for role in cols])


def _set_widths(table, widths: list) -> None:
    """Column widths in the table grid and every cell (LibreOffice reads the grid, Word the cells)."""
    table.autofit = False
    grid = table._tbl.tblGrid
    for k, gc in enumerate(grid.findall(qn("w:gridCol"))):
        gc.set(qn("w:w"), str(int(widths[k].twips)))
    for row in table.rows:
        for k, cell in enumerate(row.cells):
            if k < len(widths):
                cell.width = widths[k]


def _mds_cell(cell, it: ItemSpec, role: str, style: DocxStyle, counter: dict) -> None:
    if role == "num":
        _text(cell, it.number_printed if it.kind != "bullet" else "")
        return
    if role == "q":
        q = f"・{it.question}" if it.kind == "bullet" else it.question
        if "num" not in style.columns and it.kind != "bullet":
            q = f"{it.number_printed} {q}"
        _text(cell, q)
        return
    if role == "remark":
        _text(cell, (it.remark_ref_style or it.remark_ref) if it.remark_ref else it.remark)
        return
    if it.kind == "group":
        return
    if role == "answer":  # one cell with every option and a glyph before each
        on, off = style.glyphs
        _text(cell, " ".join(f"{on if o in it.marked else off}{o}" for o in it.options))
        return
    # Option column (はい/いいえ/対象外 header): 該当/非該当 rows use the first two columns with a label.
    option_cols = [c for c in style.columns if c in (YES, NO, NA)]
    k = option_cols.index(role)
    if k >= len(it.options):
        return
    option = it.options[k]
    checked = option in it.marked
    p = cell.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if style.mode == "sdt_checkbox":
        counter["sdt"] += 1
        p._p.append(_sdt_checkbox(checked, counter["sdt"]))
    else:
        counter["ff"] += 1
        for r in _formcheckbox_runs(checked, counter["ff"]):
            p._p.append(r)
    if option not in (YES, NO, NA) or role != option:
        p.add_run(option)


def _footnote_table(doc, sub: Submission) -> None:
    doc.add_paragraph()
    doc.add_paragraph().add_run("備考記載欄").bold = True
    t = doc.add_table(rows=1, cols=2)
    t.style = "Table Grid"
    _text(t.rows[0].cells[0], "No", bold=True)
    _text(t.rows[0].cells[1], "内容", bold=True)
    for number in sorted(sub.footnotes, key=int):
        row = t.add_row()
        _text(row.cells[0], number)
        _text(row.cells[1], sub.footnotes[number])
    _set_widths(t, [Cm(1.2), Cm(15)])


# ---------------------------------------------------------------- checklist

def _checklist_table(doc, sub: Submission, style: DocxStyle) -> None:
    fy = sub.header_fields.get("年度", "")
    doc.add_paragraph(f"○ {fy}中")
    doc.add_paragraph(f"*以下項目は{fy}中にすべての項目で「はい」にマルが付くよう取り組んでください。")
    doc.add_paragraph(f"*1回目の確認で「いいえ」の場合、{fy}中の対応目標日を記入してください。")
    table = doc.add_table(rows=2, cols=6)
    table.style = "Table Grid"
    top, sub_hdr = table.rows
    _text(top.cells[1], "チェック項目", bold=True)
    res = top.cells[2].merge(top.cells[4])
    _text(res, "確認結果（日付）", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    _text(top.cells[5], "備考", bold=True)
    for k, label in ((2, "1回目"), (3, "目標日"), (4, "2回目")):
        _text(sub_hdr.cells[k], label, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    last_scope, last_section = None, None
    for it in sub.items:
        if it.section == "2" and it.scope and it.scope != last_scope and it.scope in SCOPE_HEADINGS:
            row = table.add_row()
            if it.section != last_section:
                _text(row.cells[0], SECTION_LABELS[it.section], bold=True)
                last_section = it.section
            merged = row.cells[1].merge(row.cells[5])
            _text(merged, SCOPE_HEADINGS[it.scope])
            last_scope = it.scope
        row = table.add_row()
        if it.section != last_section:
            _text(row.cells[0], SECTION_LABELS.get(it.section, it.section), bold=True)
            last_section = it.section
        _text(row.cells[1], f"{it.number_printed} {it.question}")
        _text(row.cells[2], combined_first(it).replace("/", " / ") if it.answer else combined_first(it))
        _text(row.cells[3], combined_target(it))
        _text(row.cells[4], combined_second(it))
        _text(row.cells[5], it.remark)
    _set_widths(table, [Cm(2.2), Cm(8.0), Cm(2.6), Cm(1.8), Cm(2.6), Cm(2.8)])
    doc.add_paragraph()
    doc.add_paragraph(f"コメント：{sub.comment}")
    doc.add_paragraph(f"事業者名：{sub.vendor}")


# ---------------------------------------------------------------- entry point

def render_docx(sub: Submission, path: Path, style: DocxStyle) -> Path:
    path = Path(path)
    doc = Document()
    _set_fonts(doc, style)
    sec = doc.sections[0]
    sec.page_height, sec.page_width = Cm(29.7), Cm(21.0)
    if style.landscape:
        sec.orientation = WD_ORIENT.LANDSCAPE
        sec.page_width, sec.page_height = sec.page_height, sec.page_width
    sec.left_margin = sec.right_margin = Cm(1.5)
    sec.top_margin = sec.bottom_margin = Cm(1.5)
    _title(doc, sub)
    if sub.family in ("mds", "sds"):
        _header_fields(doc, sub, style)
        doc.add_paragraph("※本開示書の適合性をJAHIS/JIRAが証明するものではありません。")
        _mds_table(doc, sub, style)
        if style.footnotes == "table" and sub.footnotes:
            _footnote_table(doc, sub)
    else:
        _checklist_table(doc, sub, style)
    cp = doc.core_properties
    cp.author = cp.last_modified_by = sub.vendor or "user"
    cp.title = sub.title.split("\n")[0]
    cp.revision = 1
    doc.save(path)
    normalize(path)
    return path




