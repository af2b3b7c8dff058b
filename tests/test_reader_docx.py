"""DOCX reader: real .docx files built here with python-docx plus raw WordprocessingML."""
from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
from pathlib import Path

import pytest
from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import parse_xml

from extractors.grid import Grid, Table
from extractors.model import ExtractionError
from extractors.readers.docx import read_docx
from extractors.text import normalize_text

ROOT = Path(__file__).resolve().parents[1]

NS = (
    'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
    'xmlns:v="urn:schemas-microsoft-com:vml"'
)


def el(fragment: str):
    """One element from a WordprocessingML fragment (namespaces declared on its root)."""
    fragment = fragment.strip()
    end = min(i for i in (fragment.find(" "), fragment.find(">"), fragment.find("/>")) if i > 0)
    return parse_xml(fragment[:end] + " " + NS + fragment[end:])


def para(*runs_xml: str):
    return el("<w:p>" + "".join(runs_xml) + "</w:p>")


def run(text: str, rpr: str = "") -> str:
    return f'<w:r>{"<w:rPr>" + rpr + "</w:rPr>" if rpr else ""}<w:t xml:space="preserve">{text}</w:t></w:r>'


def checkbox_sdt(checked: bool, glyph: str | None = None) -> str:
    glyph = glyph or ("☒" if checked else "☐")
    return (
        '<w:sdt><w:sdtPr><w14:checkbox>'
        f'<w14:checked w14:val="{1 if checked else 0}"/>'
        '<w14:checkedState w14:val="2612" w14:font="MS Gothic"/>'
        '<w14:uncheckedState w14:val="2610" w14:font="MS Gothic"/>'
        '</w14:checkbox></w:sdtPr><w:sdtContent>'
        f'<w:r><w:rPr><w:rFonts w:ascii="MS Gothic" w:eastAsia="MS Gothic"/></w:rPr><w:t>{glyph}</w:t></w:r>'
        '</w:sdtContent></w:sdt>'
    )


def form_checkbox(default: int, checked: int | None) -> str:
    chk = "" if checked is None else f'<w:checked w:val="{checked}"/>'
    return (
        '<w:r><w:fldChar w:fldCharType="begin"><w:ffData><w:name w:val="Check1"/><w:enabled/>'
        f'<w:checkBox><w:sizeAuto/><w:default w:val="{default}"/>{chk}</w:checkBox>'
        '</w:ffData></w:fldChar></w:r>'
        '<w:r><w:instrText xml:space="preserve"> FORMCHECKBOX </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
        '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
    )


def dropdown_sdt(items: list[str], shown: str, placeholder: bool = False) -> str:
    lis = "".join(f'<w:listItem w:displayText="{i}" w:value="{i}"/>' for i in items)
    plc = "<w:showingPlcHdr/>" if placeholder else ""
    return (
        f'<w:sdt><w:sdtPr>{plc}<w:dropDownList>{lis}</w:dropDownList></w:sdtPr>'
        f'<w:sdtContent>{run(shown)}</w:sdtContent></w:sdt>'
    )


def date_sdt(full: str, shown: str) -> str:
    return (
        f'<w:sdt><w:sdtPr><w:date w:fullDate="{full}"><w:dateFormat w:val="M/d"/>'
        '<w:lid w:val="ja-JP"/><w:calendar w:val="gregorian"/></w:date></w:sdtPr>'
        f'<w:sdtContent>{run(shown)}</w:sdtContent></w:sdt>'
    )


def sym(font: str, char: str) -> str:
    return f'<w:r><w:sym w:font="{font}" w:char="{char}"/></w:r>'


def eq_enclosed(enclosure: str, word: str) -> str:
    return (
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
        f'<w:r><w:instrText xml:space="preserve"> eq \\o\\ac({enclosure},</w:instrText></w:r>'
        f'<w:r><w:rPr><w:position w:val="2"/></w:rPr><w:instrText>\\s\\up 1({word})</w:instrText></w:r>'
        '<w:r><w:instrText>)</w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
    )


def ellipse_drawing(name: str = "楕円 3", with_text: str = "") -> str:
    txbx = (f'<wps:txbx><w:txbxContent><w:p>{run(with_text)}</w:p></w:txbxContent></wps:txbx>'
            if with_text else "")
    return (
        '<w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing>'
        '<wp:anchor distT="0" distB="0" distL="0" distR="0" simplePos="0" relativeHeight="1" '
        'behindDoc="0" locked="0" layoutInCell="1" allowOverlap="1">'
        '<wp:simplePos x="0" y="0"/><wp:positionH relativeFrom="column"><wp:posOffset>0</wp:posOffset></wp:positionH>'
        '<wp:positionV relativeFrom="paragraph"><wp:posOffset>0</wp:posOffset></wp:positionV>'
        '<wp:extent cx="457200" cy="228600"/><wp:wrapNone/>'
        f'<wp:docPr id="5" name="{name}"/>'
        '<a:graphic><a:graphicData uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
        '<wps:wsp><wps:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="457200" cy="228600"/></a:xfrm>'
        '<a:prstGeom prst="ellipse"><a:avLst/></a:prstGeom><a:noFill/></wps:spPr>'
        f'{txbx}<wps:bodyPr/></wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice>'
        '<mc:Fallback><w:pict><v:oval style="width:36pt;height:18pt" filled="f">'
        + (f'<v:textbox><w:txbxContent><w:p>{run(with_text)}</w:p></w:txbxContent></v:textbox>' if with_text else "")
        + '</v:oval></w:pict></mc:Fallback></mc:AlternateContent></w:r>'
    )


def set_cell(cell, *paragraphs):
    """Replace a python-docx cell's paragraphs with raw ones."""
    tc = cell._tc
    for p in list(tc.iterchildren("{*}p")):
        tc.remove(p)
    for p in paragraphs:
        tc.append(p)


def tc_pr(cell, xml: str):
    tcpr = cell._tc.get_or_add_tcPr()
    tcpr.append(el(xml))


def save(doc, tmp_path: Path, name: str = "t.docx") -> Path:
    path = tmp_path / name
    doc.save(str(path))
    return path


def texts(table: Table) -> list[list[str]]:
    return [[c.text for c in row] for row in table.rows]


# --- checkbox conventions ---------------------------------------------------------------------

def test_checkbox_controls_legacy_fields_and_symbols(tmp_path):
    doc = Document()
    t = doc.add_table(rows=6, cols=3)
    set_cell(t.cell(0, 0), para(run("項目")))
    set_cell(t.cell(0, 1), para(run("回答")))
    # Content controls: the state decides, not the display glyph (■ shown for an unchecked box).
    set_cell(t.cell(1, 1), para(checkbox_sdt(True), run("はい "), checkbox_sdt(False, glyph="■"), run("いいえ")))
    # Legacy FORMCHECKBOX: w:checked overrides w:default.
    set_cell(t.cell(2, 1), para(form_checkbox(0, 1), run("はい"), form_checkbox(1, 0), run("いいえ"),
                                form_checkbox(1, None), run("対象外")))
    # Wingdings / Wingdings 2 symbol runs.
    set_cell(t.cell(3, 1), para(sym("Wingdings", "F0FE"), run("はい"), sym("Wingdings", "F0A8"), run("いいえ"),
                                sym("Wingdings 2", "0052"), run("対象外")))
    set_cell(t.cell(4, 1), para(sym("Wingdings", "F0A1"), run("はい"), sym("Wingdings", "F06C"), run("いいえ")))
    # Plain glyph text stays as typed.
    set_cell(t.cell(5, 1), para(run("■はい □いいえ ○ ● ✓ レ")))
    # Symbol font applied to plain text (Insert Symbol without w:sym): þ in Wingdings is ☑.
    set_cell(t.cell(5, 2), para(run("þ", rpr='<w:rFonts w:ascii="Wingdings" w:hAnsi="Wingdings"/>'), run("はい")))
    grid = read_docx(save(doc, tmp_path))
    assert isinstance(grid, Grid) and grid.format == "docx"
    (table,) = [t for t in grid.tables if t.kind == "table"]
    col = [row[1].text for row in table.rows]
    assert col == [
        "回答",
        "☑はい ☐いいえ",
        "☑はい☐いいえ☑対象外",
        "☑はい☐いいえ☑対象外",
        "○はい●いいえ",
        "■はい □いいえ ○ ● ✓ レ",
    ]
    assert table.rows[5][2].text == "☑はい"
    assert table.rows[1][1].ref == "行2 列2"


def test_dropdown_date_and_placeholder(tmp_path):
    doc = Document()
    t = doc.add_table(rows=2, cols=3)
    set_cell(t.cell(0, 0), para(dropdown_sdt(["はい", "いいえ", "対象外"], "いいえ")))
    set_cell(t.cell(0, 1), para(date_sdt("2023-09-20T00:00:00Z", "9/20")))
    set_cell(t.cell(0, 2), para(dropdown_sdt(["該当", "非該当"], "アイテムを選択してください。", placeholder=True)))
    # Legacy FORMDROPDOWN with the second entry selected.
    set_cell(t.cell(1, 0), para(
        '<w:r><w:fldChar w:fldCharType="begin"><w:ffData><w:name w:val="Drop1"/><w:ddList>'
        '<w:result w:val="1"/><w:listEntry w:val="はい"/><w:listEntry w:val="いいえ"/></w:ddList>'
        '</w:ffData></w:fldChar></w:r><w:r><w:instrText> FORMDROPDOWN </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="end"/></w:r>'))
    grid = read_docx(save(doc, tmp_path))
    row0, row1 = grid.tables[0].rows
    assert (row0[0].text, row0[0].choices) == ("いいえ", ["はい", "いいえ", "対象外"])
    assert (row0[1].text, row0[1].date) == ("9/20", dt.date(2023, 9, 20))
    assert (row0[2].text, row0[2].choices) == ("", ["該当", "非該当"])
    assert (row1[0].text, row1[0].choices) == ("いいえ", ["はい", "いいえ"])
    assert row1[1].choices is None and row1[1].date is None


# --- marks ------------------------------------------------------------------------------------

def test_strike_highlight_fill_circle_marks(tmp_path):
    doc = Document()
    t = doc.add_table(rows=4, cols=2)
    strike = "<w:strike/>"
    # Struck words, one split over two runs (Word does that), one double-struck.
    set_cell(t.cell(0, 0), para(run("はい"), run("／"), run("いい", strike), run("え", strike), run("／"),
                                run("対象外", "<w:dstrike/>")))
    set_cell(t.cell(0, 1), para(run("はい", '<w:strike w:val="0"/>'), run("いいえ", '<w:highlight w:val="yellow"/>'),
                                run("対象外", '<w:shd w:val="clear" w:color="auto" w:fill="FFFF00"/>')))
    tc_pr(t.cell(1, 0), '<w:shd w:val="clear" w:color="auto" w:fill="FFFF00"/>')
    set_cell(t.cell(1, 0), para(run("はい")))
    tc_pr(t.cell(1, 1), '<w:shd w:val="clear" w:color="auto" w:fill="FFFFFF"/>')
    set_cell(t.cell(1, 1), para(run("いいえ")))
    # 囲い文字 (enclose-characters field) around はい.
    set_cell(t.cell(2, 0), para(run("いいえ・"), eq_enclosed("○", "はい"), run("・対象外")))
    # An ellipse shape anchored in the cell's paragraph.
    set_cell(t.cell(2, 1), para(run("はい"), ellipse_drawing("楕円 7")))
    # Two paragraphs in one cell: spans count the joining newline.
    set_cell(t.cell(3, 0), para(run("備考")), para(run("対象外", strike)))
    grid = read_docx(save(doc, tmp_path))
    rows = grid.tables[0].rows

    c = rows[0][0]
    assert c.text == "はい／いいえ／対象外"
    spans = {(m.kind, c.text[m.span[0]:m.span[1]]) for m in c.marks}
    assert spans == {("strike", "いいえ"), ("strike", "対象外")}
    assert len(c.marks) == 2

    c = rows[0][1]
    assert [(m.kind, c.text[m.span[0]:m.span[1]]) for m in c.marks] == [("highlight", "いいえ対象外")]

    fills = [m for m in rows[1][0].marks if m.kind == "fill"]
    assert len(fills) == 1 and fills[0].detail == "FFFF00" and fills[0].span is None
    assert rows[1][1].marks == []

    c = rows[2][0]
    assert c.text == "いいえ・はい・対象外"
    (circle,) = c.marks
    assert circle.kind == "circle" and c.text[circle.span[0]:circle.span[1]] == "はい"

    c = rows[2][1]
    assert c.text == "はい"
    (circle,) = c.marks
    assert (circle.kind, circle.span, circle.detail) == ("circle", None, "楕円 7")

    c = rows[3][0]
    assert c.text == "備考\n対象外"
    (m,) = c.marks
    assert m.kind == "strike" and m.span == (3, 6)


# --- table structure --------------------------------------------------------------------------

def test_gridspan_and_vmerge(tmp_path):
    doc = Document()
    t = doc.add_table(rows=4, cols=4)
    for r in range(4):
        for c in range(4):
            set_cell(t.cell(r, c), para(run(f"{r}{c}")))
    h = t.cell(0, 0).merge(t.cell(0, 1))  # colspan 2 (gridSpan)
    set_cell(h, para(run("00")))
    v = t.cell(1, 0).merge(t.cell(3, 0))  # rowspan 3 (vMerge restart + continue)
    set_cell(v, para(run("縦結合")))
    path = save(doc, tmp_path)
    grid = read_docx(path)
    table = grid.tables[0]
    assert all(len(r) == 4 for r in table.rows)
    top = table.rows[0][0]
    assert (top.text, top.colspan, top.rowspan) == ("00", 2, 1)
    assert table.rows[0][1].merged_into == (0, 0) and table.rows[0][1].text == ""
    assert table.rows[0][2].text == "02"
    v = table.rows[1][0]
    assert (v.text, v.rowspan, v.colspan) == ("縦結合", 3, 1)
    assert table.rows[2][0].merged_into == (1, 0) and table.rows[3][0].merged_into == (1, 0)
    assert table.rows[2][1].text == "21" and table.rows[1][3].text == "13"
    assert table.rows[3][0].ref == "行4 列1"


def test_grid_before_shifts_columns(tmp_path):
    doc = Document()
    t = doc.add_table(rows=2, cols=3)
    for r in range(2):
        for c in range(3):
            set_cell(t.cell(r, c), para(run(f"{r}{c}")))
    tr = t._tbl.tr_lst[1]
    tr.remove(tr.tc_lst[0])
    tr.get_or_add_trPr().append(el('<w:gridBefore w:val="1"/>'))
    grid = read_docx(save(doc, tmp_path))
    assert texts(grid.tables[0]) == [["00", "01", "02"], ["", "11", "12"]]


def test_nested_table_is_flattened_with_glyphs(tmp_path):
    doc = Document()
    t = doc.add_table(rows=1, cols=2)
    set_cell(t.cell(0, 0), para(run("4.1 認証")))
    inner = t.cell(0, 1).add_table(rows=2, cols=2)
    set_cell(inner.cell(0, 0), para(checkbox_sdt(True)))
    set_cell(inner.cell(0, 1), para(run("はい")))
    set_cell(inner.cell(1, 0), para(checkbox_sdt(False)))
    set_cell(inner.cell(1, 1), para(run("いいえ", "<w:strike/>")))
    grid = read_docx(save(doc, tmp_path))
    (table,) = grid.tables
    assert table.n_cols == 2
    c = table.rows[0][1]
    assert c.text == "☑\tはい\n☐\tいいえ"
    (m,) = c.marks
    assert m.kind == "strike" and c.text[m.span[0]:m.span[1]] == "いいえ"


# --- document order, loose text ---------------------------------------------------------------

def test_body_order_text_tables_headers_and_text_boxes(tmp_path):
    doc = Document()
    doc.sections[0].header.paragraphs[0].text = "事業者名：株式会社テスト医療システム"
    doc.sections[0].footer.paragraphs[0].text = "1/3"
    doc.add_paragraph("医療情報セキュリティ開示書")
    doc.add_paragraph("")  # blank paragraphs give no rows
    doc.add_table(rows=1, cols=1).cell(0, 0).text = "A"
    doc.add_paragraph("注記")
    p = doc.add_paragraph("見出し")
    p._p.append(el(ellipse_drawing("楕円 1", with_text="コメント：特記事項なし")))
    doc.add_table(rows=1, cols=1).cell(0, 0).text = "B"
    grid = read_docx(save(doc, tmp_path))
    assert [(t.name, t.kind) for t in grid.tables] == [
        ("本文1", "text"), ("表1", "table"), ("本文2", "text"), ("表2", "table")]
    assert texts(grid.tables[2]) == [["注記"], ["見出し"]]
    assert grid.tables[2].rows[1][0].ref == "行2 列1"
    # The ellipse carrying the text box marks its paragraph; its text goes to loose_text once.
    assert [m.kind for m in grid.tables[2].rows[1][0].marks] == ["circle"]
    assert "事業者名：株式会社テスト医療システム" in grid.loose_text
    assert "1/3" in grid.loose_text
    assert grid.loose_text.count("コメント：特記事項なし") == 1
    assert all("コメント" not in c.text for t in grid.tables for r in t.rows for c in r)


def test_tracked_changes_hidden_text_and_auto_numbers(tmp_path):
    doc = Document()
    doc.add_paragraph("List Number 1", style="List Number")
    doc.add_paragraph("List Number 2", style="List Number")
    p = doc.add_paragraph()
    p._p.append(el('<w:del w:id="1" w:author="x"><w:r><w:delText>はい</w:delText></w:r></w:del>'))
    p._p.append(el('<w:ins w:id="2" w:author="x"><w:r><w:t>いいえ</w:t></w:r></w:ins>'))
    p._p.append(el('<w:r><w:rPr><w:vanish/></w:rPr><w:t>隠し</w:t></w:r>'))
    grid = read_docx(save(doc, tmp_path))
    rows = texts(grid.tables[0])
    assert rows[2] == ["いいえ"]
    # The template's "List Number" style carries the list (numPr on the style, not the paragraph).
    assert rows[:2] == [["1. List Number 1"], ["2. List Number 2"]]


def test_style_strike_vml_oval_and_block_placeholder(tmp_path):
    doc = Document()
    style = doc.styles.add_style("取消線", WD_STYLE_TYPE.CHARACTER)
    style.font.strike = True
    p = doc.add_paragraph("はい／")
    p.add_run("いいえ", style="取消線")
    p.add_run("／対象外")
    # A VML oval (older Word, or the Fallback LibreOffice writes) marks the paragraph.
    doc.add_paragraph("該当")._p.append(el('<w:r><w:pict><v:oval style="width:30pt;height:15pt"/></w:pict></w:r>'))
    body = doc.element.body
    body.insert(len(body) - 1, el(
        '<w:sdt><w:sdtPr><w:showingPlcHdr/></w:sdtPr><w:sdtContent>'
        f'<w:p>{run("ここをクリックまたはタップしてテキストを入力してください。")}</w:p></w:sdtContent></w:sdt>'))
    grid = read_docx(save(doc, tmp_path))
    (table,) = grid.tables
    assert texts(table) == [["はい／いいえ／対象外"], ["該当"]]
    (m,) = table.rows[0][0].marks
    assert m.kind == "strike" and table.rows[0][0].text[m.span[0]:m.span[1]] == "いいえ"
    assert [(m.kind, m.span) for m in table.rows[1][0].marks] == [("circle", None)]


def test_explicit_auto_numbering_renders_item_numbers(tmp_path):
    """Item numbers produced by Word's list engine (not typed) appear in the text."""
    doc = Document()
    part = doc.part
    numbering = part.numbering_part.element
    numbering.insert(0, el(
        '<w:abstractNum w:abstractNumId="90">'
        '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1."/></w:lvl>'
        '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1.%2."/></w:lvl>'
        '<w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="decimalEnclosedCircle"/><w:lvlText w:val="%3"/></w:lvl>'
        '</w:abstractNum>'))
    numbering.append(el('<w:num w:numId="90"><w:abstractNumId w:val="90"/></w:num>'))

    def numbered(text, ilvl):
        return para(f'<w:pPr><w:numPr><w:ilvl w:val="{ilvl}"/><w:numId w:val="90"/></w:numPr></w:pPr>', run(text))

    t = doc.add_table(rows=5, cols=1)
    for i, (text, lvl) in enumerate([("認証", 0), ("パスワード", 1), ("生体", 1), ("記憶", 2), ("ログ", 0)]):
        set_cell(t.cell(i, 0), numbered(text, lvl))
    grid = read_docx(save(doc, tmp_path))
    assert [r[0].text for r in grid.tables[0].rows] == [
        "1. 認証", "1.1. パスワード", "1.2. 生体", "① 記憶", "2. ログ"]


def test_content_control_wrapping_a_cell_and_block(tmp_path):
    doc = Document()
    t = doc.add_table(rows=1, cols=2)
    set_cell(t.cell(0, 0), para(run("項目")))
    tr = t._tbl.tr_lst[0]
    tc = tr.tc_lst[1]
    tr.remove(tc)
    sdt = el('<w:sdt><w:sdtPr><w:dropDownList><w:listItem w:value="はい"/><w:listItem w:value="いいえ"/>'
             '</w:dropDownList></w:sdtPr><w:sdtContent/></w:sdt>')
    set_cell(type("C", (), {"_tc": tc})(), para(run("はい")))
    sdt[-1].append(tc)
    tr.append(sdt)
    body = doc.element.body
    block = el(f'<w:sdt><w:sdtPr/><w:sdtContent><w:p>{run("ブロック内の段落")}</w:p></w:sdtContent></w:sdt>')
    body.insert(len(body) - 1, block)
    grid = read_docx(save(doc, tmp_path))
    table = next(t for t in grid.tables if t.kind == "table")
    assert texts(table) == [["項目", "はい"]]
    assert table.rows[0][1].choices == ["はい", "いいえ"]
    assert texts(next(t for t in grid.tables if t.kind == "text")) == [["ブロック内の段落"]]


# --- bad input --------------------------------------------------------------------------------

def test_bad_files_raise_extraction_error(tmp_path):
    junk = tmp_path / "junk.docx"
    junk.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ExtractionError) as e:
        read_docx(junk)
    assert e.value.kind == "corrupt" and "読めません" in e.value.message
    ole = tmp_path / "locked.docx"
    ole.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    with pytest.raises(ExtractionError) as e:
        read_docx(ole)
    assert e.value.kind == "encrypted"
    xlsx_like = tmp_path / "book.docx"  # a zip, but not a Word package
    with zipfile.ZipFile(xlsx_like, "w") as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        zf.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(ExtractionError) as e:
        read_docx(xlsx_like)
    assert e.value.kind == "corrupt"
    text = tmp_path / "plain.docx"
    text.write_text("はい いいえ", encoding="utf-8")
    with pytest.raises(ExtractionError):
        read_docx(text)


def test_oversized_package_is_refused(tmp_path, monkeypatch):
    from extractors.readers import ziplimits

    doc = Document()
    doc.add_paragraph("はい")
    path = save(doc, tmp_path)
    monkeypatch.setattr(ziplimits, "MAX_UNCOMPRESSED", 10_000)
    with pytest.raises(ExtractionError) as e:
        read_docx(path)
    assert e.value.kind == "too_large"


def test_large_document_reads(tmp_path):
    """A ~40-page form (600 rows with content controls) reads completely."""
    doc = Document()
    t = doc.add_table(rows=600, cols=4)
    for r, row in enumerate(t.rows):  # row.cells: t.cell(r, c) is quadratic in python-docx
        cells = row.cells
        set_cell(cells[0], para(run(f"{r // 10 + 1}.{r % 10 + 1} 質問文その{r}")))
        set_cell(cells[1], para(checkbox_sdt(r % 2 == 0), run("はい"), checkbox_sdt(r % 2 == 1), run("いいえ")))
        set_cell(cells[2], para(run("対象外", "<w:strike/>")))
    grid = read_docx(save(doc, tmp_path))
    rows = grid.tables[0].rows
    assert len(rows) == 600
    assert sum(r[1].text == "☑はい☐いいえ" for r in rows) == 300
    assert sum(r[1].text == "☐はい☑いいえ" for r in rows) == 300
    assert all(r[2].marks[0].kind == "strike" for r in rows)


# --- the sample builder's files ---------------------------------------------------------------

@pytest.fixture(scope="module")
def sample_dir(sample_inbox):
    return sample_inbox


def test_reads_every_sample_docx(sample_dir):
    files = sorted(p for p in sample_dir.rglob("*.docx") if not p.name.startswith("~$"))
    assert files, "the sample builder writes DOCX samples"
    checked_items = 0
    for path in files:
        truth_path = path.with_name(path.name + ".truth.json")
        truth = json.loads(truth_path.read_text(encoding="utf-8")) if truth_path.exists() else {}
        if truth.get("expect_failure") in ("corrupt", "encrypted", "empty"):
            with pytest.raises(ExtractionError) as e:
                read_docx(path)
            assert e.value.kind == truth["expect_failure"], path.name
            continue
        grid = read_docx(path)
        assert grid.tables, path.name
        if "checkbox" in truth.get("convention", "") or "☑" in truth.get("convention", ""):
            checked_items += _check_truth_boxes(path, grid, truth)
    if checked_items == 0:
        pytest.skip("チェックボックス形式の DOCX サンプルがありません")


ANSWER_WORDS = ("はい", "いいえ", "対象外", "該当", "非該当")


def _boxed_answers(table: Table, r: int) -> list[str] | None:
    """Answers a row marks with ☑: inline (☑はい ☐いいえ) or in per-answer columns (header はい/いいえ)."""
    row = table.rows[r]
    inline = [m for c in row for m in re.findall(r"☑\s*(はい|いいえ|対象外|非該当|該当)", c.text)]
    if inline or any(re.search(r"[☑☐]\s*(はい|いいえ|対象外|非該当|該当)", c.text) for c in row):
        return inline
    header = next((h for h in table.rows[:r] if sum(c.text.strip() in ANSWER_WORDS for c in h) >= 2), None)
    if header is None:
        return None
    return [header[k].text.strip() for k, c in enumerate(row) if c.text.strip() == "☑"]


def _check_truth_boxes(path: Path, grid: Grid, truth: dict) -> int:
    """Every truth item answered はい/いいえ/対象外 is found with exactly that box checked (☑)."""
    index = []
    for table in grid.tables:
        if table.kind != "table":
            continue
        for r, row in enumerate(table.rows):
            index.append((normalize_text("".join(c.text for c in row)), table, r))
    checked = 0
    for item in truth["items"]:
        question = normalize_text(item["question"])
        if not question:
            continue
        hits = [(t, r) for text, t, r in index if question in text]
        assert hits, f"{path.name}: 行が見つかりません: {item['item_id']} {question}"
        table, r = hits[0]
        boxes = _boxed_answers(table, r)
        if boxes is None:
            continue
        expected = [item["answer"]] if item["answer_status"] == "answered" and item["answer"] in ANSWER_WORDS else None
        if expected is None and item["answer_status"] == "unanswered":
            expected = []
        if item["answer_status"] == "ambiguous":
            assert len(boxes) >= 2, f"{path.name} {item['item_id']}: 複数の ☑ が読めていません {boxes}"
            checked += 1
            continue
        if expected is None:
            continue
        assert boxes == expected, f"{path.name} {item['item_id']}: ☑ {boxes} / 正解 {expected}"
        checked += 1
    assert checked, f"{path.name}: ☑ の照合ができた項目がありません"
    return checked


def test_raw_table_merges_span_and_continuation_text(tmp_path):
    """gridSpan together with vMerge, text left in a continuation cell, legacy hMerge."""
    def tc(text="", pr=""):
        return f'<w:tc><w:tcPr>{pr}</w:tcPr><w:p>{run(text) if text else ""}</w:p></w:tc>'

    span2, restart, cont = '<w:gridSpan w:val="2"/>', '<w:vMerge w:val="restart"/>', "<w:vMerge/>"
    h_start, h_cont = '<w:hMerge w:val="restart"/>', "<w:hMerge/>"
    tbl = el(
        '<w:tbl><w:tblPr/><w:tblGrid><w:gridCol/><w:gridCol/><w:gridCol/></w:tblGrid>'
        f'<w:tr>{tc("A", span2 + restart)}{tc("B")}</w:tr>'
        f'<w:tr>{tc("追記", span2 + cont)}{tc("C")}</w:tr>'
        f'<w:tr>{tc("D")}{tc("E", h_start)}{tc("", h_cont)}</w:tr>'
        '</w:tbl>')
    doc = Document()
    body = doc.element.body
    body.insert(len(body) - 1, tbl)
    grid = read_docx(save(doc, tmp_path))
    (table,) = grid.tables
    rows = table.rows
    assert texts(table) == [["A\n追記", "", "B"], ["", "", "C"], ["D", "E", ""]]
    assert (rows[0][0].rowspan, rows[0][0].colspan) == (2, 2)
    assert [rows[0][1].merged_into, rows[1][0].merged_into, rows[1][1].merged_into] == [(0, 0)] * 3
    assert rows[1][2].merged_into is None
    assert (rows[2][1].colspan, rows[2][2].merged_into) == (2, (2, 1))
