"""Generate `memo_template.docx`, the editable starting point of every negotiation memo.

    python pipeline/templates/make_memo_template.py [--out PATH]

The hospital may replace the generated file with its own (letterhead in the header, its fonts and
styles). The memo builder uses these paragraph styles when the template has them and falls back to
Normal otherwise: Title, Heading 1–3, 提案条項 (proposed wording), 開示書の引用 (quoted vendor text),
注記 (small notes). A paragraph whose whole text is ［本文］ marks where the memo body goes; without it
the body is appended after whatever the template already holds.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

TEMPLATE_PATH = Path(__file__).with_name("memo_template.docx")
BODY_MARKER = "［本文］"
STYLE_CLAUSE = "提案条項"
STYLE_QUOTE = "開示書の引用"
STYLE_NOTE = "注記"
MINCHO, GOTHIC = "游明朝", "游ゴシック"


def _fonts(style, east_asian: str, latin: str, size: float | None = None, bold: bool | None = None,
           colour: RGBColor | None = None) -> None:
    font = style.font
    font.name = latin
    if size:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    if colour is not None:
        font.color.rgb = colour
    rpr = style.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in ("w:eastAsia", "w:ascii", "w:hAnsi"):
        rfonts.set(qn(attr), east_asian if attr == "w:eastAsia" else latin)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme"):
        rfonts.attrib.pop(qn(attr), None)


def _border_and_shading(style, fill: str, colour: str) -> None:
    ppr = style.element.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    for side in ("top", "left", "bottom", "right"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:val"), "single")
        el.set(qn("w:sz"), "6")
        el.set(qn("w:space"), "4")
        el.set(qn("w:color"), colour)
        borders.append(el)
    ppr.append(borders)
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    ppr.append(shd)


def _page_number_field(paragraph) -> None:
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), kind)
            run._r.append(fld)
        else:
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)


def make_template(path: Path = TEMPLATE_PATH) -> Path:
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = section.bottom_margin = Mm(22)
    section.left_margin = section.right_margin = Mm(22)

    styles = doc.styles
    _fonts(styles["Normal"], MINCHO, "Century", 10.5)
    styles["Normal"].paragraph_format.space_after = Pt(4)
    styles["Normal"].paragraph_format.line_spacing = 1.25
    _fonts(styles["Title"], GOTHIC, "Arial", 16, True, RGBColor(0x1F, 0x4E, 0x79))
    for level, size in ((1, 13), (2, 12), (3, 11)):
        st = styles[f"Heading {level}"]
        _fonts(st, GOTHIC, "Arial", size, True, RGBColor(0x1F, 0x4E, 0x79))
        st.paragraph_format.space_before = Pt(12 if level == 1 else 8)
        st.paragraph_format.space_after = Pt(4)
        st.paragraph_format.keep_with_next = True

    clause = styles.add_style(STYLE_CLAUSE, WD_STYLE_TYPE.PARAGRAPH)
    clause.base_style = styles["Normal"]
    _fonts(clause, MINCHO, "Century", 10.5)
    clause.paragraph_format.left_indent = Mm(6)
    clause.paragraph_format.space_after = Pt(8)
    _border_and_shading(clause, "EEF4FA", "7AA3C8")

    quote = styles.add_style(STYLE_QUOTE, WD_STYLE_TYPE.PARAGRAPH)
    quote.base_style = styles["Normal"]
    _fonts(quote, GOTHIC, "Arial", 9.5, colour=RGBColor(0x44, 0x44, 0x44))
    quote.paragraph_format.left_indent = Mm(6)
    quote.paragraph_format.space_after = Pt(2)

    note = styles.add_style(STYLE_NOTE, WD_STYLE_TYPE.PARAGRAPH)
    note.base_style = styles["Normal"]
    _fonts(note, GOTHIC, "Arial", 9, colour=RGBColor(0x66, 0x66, 0x66))

    header = section.header.paragraphs[0]
    header.text = "［病院名］　医療情報部門　　　　　　　　　　　　　　取扱注意（契約協議用・社外秘）"
    header.style = styles[STYLE_NOTE]
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.style = styles[STYLE_NOTE]
    footer.add_run("－ ")
    _page_number_field(footer)
    footer.add_run(" －")

    doc.add_paragraph(BODY_MARKER)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description="交渉メモのWordテンプレートを作成します。")
    parser.add_argument("--out", type=Path, default=TEMPLATE_PATH, help="出力先（既定: memo_template.docx）")
    print(make_template(parser.parse_args().out))


if __name__ == "__main__":
    main()
