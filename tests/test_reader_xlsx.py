"""XLSX reader on workbooks built here with openpyxl (+ drawing XML injected the way Excel writes it)."""
from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.cell.cell import MergedCell
from openpyxl.styles import Border, Font, PatternFill, Protection, Side
from openpyxl.styles.colors import Color
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from extractors.grid import Cell, Grid
from extractors.model import ExtractionError
from extractors.readers import read
from extractors.readers.xlsx import read_xlsx
from extractors.readers.xlsx.workbook import load_for_reading
from extractors.text import normalize_text


XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


# --------------------------------------------------------------------------- helpers

def marker(col: int, row: int, col_off: int = 0, row_off: int = 0) -> str:
    return (f"<xdr:col>{col}</xdr:col><xdr:colOff>{col_off}</xdr:colOff>"
            f"<xdr:row>{row}</xdr:row><xdr:rowOff>{row_off}</xdr:rowOff>")


def sp(name: str, prst: str, *, text: str = "", no_fill: bool = True, xfrm: str = "", sid: int = 2) -> str:
    body = (f'<xdr:txBody><a:bodyPr/><a:lstStyle/><a:p><a:r><a:rPr lang="ja-JP"/><a:t>{text}</a:t></a:r></a:p>'
            f"</xdr:txBody>") if text else ""
    fill = "<a:noFill/>" if no_fill else '<a:solidFill><a:srgbClr val="FFFFFF"/></a:solidFill>'
    cnv = '<xdr:cNvSpPr txBox="1"/>' if text else "<xdr:cNvSpPr/>"
    return (f'<xdr:sp macro="" textlink=""><xdr:nvSpPr><xdr:cNvPr id="{sid}" name="{name}"/>{cnv}</xdr:nvSpPr>'
            f'<xdr:spPr>{xfrm}<a:prstGeom prst="{prst}"><a:avLst/></a:prstGeom>{fill}'
            f'<a:ln w="19050"><a:solidFill><a:srgbClr val="FF0000"/></a:solidFill></a:ln></xdr:spPr>{body}</xdr:sp>')


def two_cell(frm: str, to: str, shape: str) -> str:
    return (f'<xdr:twoCellAnchor editAs="oneCell"><xdr:from>{frm}</xdr:from><xdr:to>{to}</xdr:to>'
            f"{shape}<xdr:clientData/></xdr:twoCellAnchor>")


def one_cell(frm: str, cx: int, cy: int, shape: str) -> str:
    return (f'<xdr:oneCellAnchor><xdr:from>{frm}</xdr:from><xdr:ext cx="{cx}" cy="{cy}"/>'
            f"{shape}<xdr:clientData/></xdr:oneCellAnchor>")


def inject_drawing(path: Path, sheet_no: int, anchors: list[str], sheet_extra: str = "") -> None:
    """Add xl/drawings/drawingN.xml to sheet N as Excel does (rels, content type, <drawing r:id>)."""
    drawing = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
               f'<xdr:wsDr xmlns:xdr="{XDR}" xmlns:a="{A}">{"".join(anchors)}</xdr:wsDr>')
    inject_parts(path, sheet_no, {f"xl/drawings/drawing{sheet_no}.xml": drawing},
                 [("rIdDr1", "drawing", f"../drawings/drawing{sheet_no}.xml")],
                 '<drawing r:id="rIdDr1"/>' + sheet_extra,
                 f'<Override PartName="/xl/drawings/drawing{sheet_no}.xml" '
                 'ContentType="application/vnd.openxmlformats-officedocument.drawing+xml"/>')


def inject_parts(path: Path, sheet_no: int, parts: dict[str, str], rels: list[tuple[str, str, str]],
                 sheet_xml: str, content_types: str) -> None:
    """Add package parts to sheet N: the parts, the sheet's rels, XML at the end of the sheet, content types."""
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        names = src.namelist()
        for name in names:
            data = src.read(name)
            if name == f"xl/worksheets/sheet{sheet_no}.xml":
                text = data.decode("utf-8")
                if 'xmlns:r="' not in text.split(">", 2)[1]:
                    text = text.replace("<worksheet ", f'<worksheet xmlns:r="{R}" ', 1)
                text = text.replace("</worksheet>", f"{sheet_xml}</worksheet>")
                data = text.encode("utf-8")
            elif name == "[Content_Types].xml":
                data = data.replace(b"</Types>", f"{content_types}</Types>".encode())
            dst.writestr(name, data)
        rels_name = f"xl/worksheets/_rels/sheet{sheet_no}.xml.rels"
        assert rels_name not in names
        dst.writestr(rels_name, (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + "".join(f'<Relationship Id="{rid}" Type="{R}/{kind}" Target="{target}"/>' for rid, kind, target in rels)
            + "</Relationships>"))
        for name, text in parts.items():
            dst.writestr(name, text)
    tmp.replace(path)


def cell(grid: Grid, sheet: str, ref: str) -> Cell:
    table = next(t for t in grid.tables if t.name == sheet)
    for row in table.rows:
        for c in row:
            if c.ref == ref:
                return c
    raise KeyError(ref)


def circle_detail(c: Cell) -> dict[str, str]:
    marks = [m for m in c.marks if m.kind == "circle"]
    assert len(marks) == 1, c
    name, *pairs = marks[0].detail.split(";")
    return {"name": name, **dict(p.split("=") for p in pairs)}


def build_form(path: Path) -> Path:
    """A small MDS-like sheet with every convention the reader must keep."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "開示書"
    ws.column_dimensions["A"].width = 10
    ws.column_dimensions["B"].width = 40
    ws.column_dimensions["C"].width = 20
    ws.column_dimensions["D"].width = 12
    ws.append(["番号", "質問", "回答", "選択", "備考"])
    ws.append(["4.1", "利用者の識別・認証を行っていますか。", "はい・いいえ", None, "※1"])
    ws.append(["4.2", "パスワードの強度を管理していますか。", "はい・いいえ・対象外", None, ""])
    ws.append(["4.3", "二要素認証に対応していますか。", None, None, "オプション"])
    ws.append(["5.1", "アクセスログを取得していますか。", None, None, None])
    ws.append(["作成日", dt.datetime(2023, 9, 20), 1.0, 2.5, None])
    ws["B6"].number_format = "yyyy/m/d"
    # strike: rich text runs and a whole-cell struck font
    ws["C4"] = CellRichText(["はい", "・", TextBlock(InlineFont(strike=True), "いいえ")])
    ws["C5"] = "いいえ"
    ws["C5"].font = Font(strike=True)
    # fills: rgb, theme + tint, indexed, white (not a mark)
    ws["D2"].fill = PatternFill("solid", fgColor="FFFFFF00")
    ws["D3"].fill = PatternFill("solid", fgColor=Color(theme=4, tint=0.3999755851924192))
    ws["D4"].fill = PatternFill("solid", fgColor=Color(indexed=10))
    ws["D5"].fill = PatternFill("solid", fgColor="FFFFFFFF")
    # merged remark over two rows, hidden row and column
    ws.merge_cells("E4:E5")
    ws.row_dimensions[7].hidden = True
    ws["A7"] = "非表示行"
    ws.column_dimensions["F"].hidden = True
    ws["F1"] = "非表示列"
    # validations: inline list, a range on another sheet, a defined name
    options = wb.create_sheet("選択肢")
    options.sheet_state = "hidden"
    for i, v in enumerate(["はい", "いいえ", "対象外"], 1):
        options.cell(i, 1, v)
    inline = DataValidation(type="list", formula1='"はい,いいえ,対象外"')
    ranged = DataValidation(type="list", formula1="選択肢!$A$1:$A$3")
    named = DataValidation(type="list", formula1="回答肢")
    for dv, ref in ((inline, "D2:D3"), (ranged, "D4"), (named, "D5")):
        ws.add_data_validation(dv)
        dv.add(ref)
    wb.defined_names["回答肢"] = DefinedName("回答肢", attr_text="選択肢!$A$1:$A$2")
    wb.save(path)
    return path


# Column widths in EMU for build_form: width chars × 7 px × 9525 EMU/px.
COL_C_EMU = 20 * 7 * 9525


@pytest.fixture(scope="module")
def form_grid(tmp_path_factory) -> Grid:
    path = build_form(tmp_path_factory.mktemp("xlsx") / "form.xlsx")
    inject_drawing(path, 1, [
        # C2 「はい・いいえ」: ellipse over the left third (はい)
        two_cell(marker(2, 1, 0, 10000), marker(2, 1, COL_C_EMU // 3, 180000), sp("楕円 1", "ellipse")),
        # C3 「はい・いいえ・対象外」: ellipse on the right part, anchored by one cell + extent
        one_cell(marker(2, 2, COL_C_EMU * 2 // 3, 10000), COL_C_EMU // 3, 170000,
                 sp("楕円 2", "ellipse", sid=3)),
        # an .xls round trip writes an ellipse as an unfilled rect named 楕円: over E2
        two_cell(marker(4, 1, 20000, 10000), marker(4, 1, 300000, 180000), sp("楕円 3", "rect", sid=4)),
        # a text box with the vendor's comment (not a circle)
        two_cell(marker(6, 8), marker(9, 12), sp("テキスト ボックス 5", "rect", text="コメント: 保守は遠隔で実施", sid=5)),
        # a filled rectangle (a decoration, not a mark) over B5
        two_cell(marker(1, 4), marker(1, 4, 200000, 100000), sp("正方形/長方形 6", "rect", no_fill=False, sid=6)),
        # an ellipse drawn over the covered part of the merged E4:E5 → mark on E4
        two_cell(marker(4, 4, 10000, 10000), marker(4, 4, 400000, 150000), sp("Oval 7", "ellipse", sid=7)),
    ])
    return read(path)


# --------------------------------------------------------------------------- cells

def test_sheets_hidden_and_order(form_grid):
    assert form_grid.format == "xlsx"
    assert [(t.name, t.kind, t.hidden) for t in form_grid.tables] == [
        ("開示書", "sheet", False), ("選択肢", "sheet", True)]


def test_text_numbers_dates_refs(form_grid):
    assert cell(form_grid, "開示書", "B2").text == "利用者の識別・認証を行っていますか。"
    assert cell(form_grid, "開示書", "A2").text == "4.1"
    assert cell(form_grid, "開示書", "C6").text == "1"
    assert cell(form_grid, "開示書", "D6").text == "2.5"
    date_cell = cell(form_grid, "開示書", "B6")
    assert date_cell.date == dt.date(2023, 9, 20)
    assert date_cell.text == "2023/9/20"
    table = form_grid.tables[0]
    assert table.rows[1][2].ref == "C2"


def test_strike_marks(form_grid):
    c4 = cell(form_grid, "開示書", "C4")
    assert c4.text == "はい・いいえ"
    assert [(m.kind, m.span) for m in c4.marks] == [("strike", (3, 6))]
    assert c4.text[3:6] == "いいえ"
    c5 = cell(form_grid, "開示書", "C5")
    assert [(m.kind, m.span) for m in c5.marks] == [("strike", (0, 3))]


def test_fill_marks(form_grid):
    def fills(ref):
        return [m.detail for m in cell(form_grid, "開示書", ref).marks if m.kind == "fill"]
    assert fills("D2") == ["FFFF00"]
    assert fills("D3") == ["95B3D7"]  # accent1 4F81BD, 40 % lighter, as Excel shows it
    assert fills("D4") == ["FF0000"]  # indexed 10
    assert fills("D5") == []  # white is no mark


def test_merged_cells(form_grid):
    top = cell(form_grid, "開示書", "E4")
    assert (top.rowspan, top.colspan, top.merged_into) == (2, 1, None)
    covered = cell(form_grid, "開示書", "E5")
    assert covered.merged_into == (3, 4) and covered.text == ""


def test_hidden_rows_and_columns(form_grid):
    assert cell(form_grid, "開示書", "A7").hidden and cell(form_grid, "開示書", "A7").text == "非表示行"
    assert cell(form_grid, "開示書", "F1").hidden
    assert not cell(form_grid, "開示書", "A6").hidden


def test_validation_choices(form_grid):
    assert cell(form_grid, "開示書", "D2").choices == ["はい", "いいえ", "対象外"]
    assert cell(form_grid, "開示書", "D3").choices == ["はい", "いいえ", "対象外"]
    assert cell(form_grid, "開示書", "D4").choices == ["はい", "いいえ", "対象外"]
    assert cell(form_grid, "開示書", "D5").choices == ["はい", "いいえ"]
    assert cell(form_grid, "開示書", "C2").choices is None


# --------------------------------------------------------------------------- shapes

def test_ellipse_on_left_word(form_grid):
    d = circle_detail(cell(form_grid, "開示書", "C2"))
    assert d["name"] == "楕円 1"
    assert 0.1 < float(d["xfrac"]) < 0.25  # centre of the left third: はい of 「はい・いいえ」


def test_ellipse_one_cell_anchor_on_right_word(form_grid):
    d = circle_detail(cell(form_grid, "開示書", "C3"))
    assert d["name"] == "楕円 2"
    assert 0.75 < float(d["xfrac"]) < 0.95


def test_rect_named_ellipse_counts(form_grid):
    d = circle_detail(cell(form_grid, "開示書", "E2"))
    assert d["name"] == "楕円 3"


def test_ellipse_over_merged_range_goes_to_top_left(form_grid):
    assert circle_detail(cell(form_grid, "開示書", "E4"))["name"] == "Oval 7"
    assert not cell(form_grid, "開示書", "E5").marks


def test_textbox_and_filled_rect_are_not_circles(form_grid):
    assert form_grid.loose_text == ["コメント: 保守は遠隔で実施"]
    assert not [m for m in cell(form_grid, "開示書", "B5").marks if m.kind == "circle"]
    circles = [c.ref for t in form_grid.tables for row in t.rows for c in row
               if any(m.kind == "circle" for m in c.marks)]
    assert sorted(circles) == ["C2", "C3", "E2", "E4"]


def test_grouped_ellipse_is_placed_inside_the_group(tmp_path):
    """A group anchored over B2:D2 whose child ellipse sits in the right quarter → D2."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["a", "b", "c", "d"])
    ws.append(["x", "はい", "いいえ", "対象外"])
    path = tmp_path / "group.xlsx"
    wb.save(path)
    group = ('<xdr:grpSp><xdr:nvGrpSpPr><xdr:cNvPr id="10" name="グループ化 10"/><xdr:cNvGrpSpPr/></xdr:nvGrpSpPr>'
             '<xdr:grpSpPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="400" cy="100"/>'
             '<a:chOff x="1000" y="1000"/><a:chExt cx="400" cy="100"/></a:xfrm></xdr:grpSpPr>'
             + sp("楕円 11", "ellipse", sid=11, xfrm='<a:xfrm><a:off x="1310" y="1000"/><a:ext cx="80" cy="100"/></a:xfrm>')
             + sp("テキスト 12", "rect", sid=12, text="注記", xfrm='<a:xfrm><a:off x="1000" y="1000"/><a:ext cx="50" cy="50"/></a:xfrm>')
             + "</xdr:grpSp>")
    inject_drawing(path, 1, [two_cell(marker(1, 1), marker(4, 1, 0, 190500), group)])
    grid = read_xlsx(path)
    assert circle_detail(cell(grid, "Sheet", "D2"))["name"] == "楕円 11"
    assert grid.loose_text == ["注記"]


def test_x14_validation_in_extlst(tmp_path):
    """Excel 2010+ writes cross-sheet list validations in extLst; openpyxl drops them."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "回答"
    opts = wb.create_sheet("リスト")
    opts["A1"], opts["A2"] = "該当", "非該当"
    path = tmp_path / "x14.xlsx"
    wb.save(path)
    ext = ('<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
           'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
           '<x14:dataValidations count="1" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
           '<x14:dataValidation type="list" allowBlank="1"><x14:formula1><xm:f>リスト!$A$1:$A$2</xm:f>'
           "</x14:formula1><xm:sqref>B1:B2</xm:sqref></x14:dataValidation></x14:dataValidations></ext></extLst>")
    inject_drawing(path, 1, [], sheet_extra=ext)
    grid = read_xlsx(path)
    table = grid.tables[0]
    assert table.rows[0][1].choices == ["該当", "非該当"]


VML_HEAD = ('<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
            'xmlns:x="urn:schemas-microsoft-com:office:excel"><o:shapelayout v:ext="edit">'
            '<o:idmap v:ext="edit" data="1"/></o:shapelayout>')


def vml_checkbox(sid: int, anchor: str, label: str = "", checked: bool | None = None, kind: str = "Checkbox") -> str:
    """A form-control check box as Excel writes it in the sheet's VML drawing (anchor in cells + px)."""
    state = "" if checked is None else f"<x:Checked>{1 if checked else 0}</x:Checked>"
    text = (f'<v:textbox style="mso-direction-alt:auto" o:singleclick="f"><div style="text-align:left">'
            f'<font face="ＭＳ Ｐゴシック" size="220" color="#000000">{label}</font></div></v:textbox>') if label else ""
    return (f'<v:shape id="_x0000_s{sid}" type="#_x0000_t201" style="position:absolute;z-index:1" filled="f" '
            f'stroked="f" o:insetmode="auto">{text}<x:ClientData ObjectType="{kind}"><x:Anchor>{anchor}</x:Anchor>'
            f"<x:AutoFill>False</x:AutoFill>{state}<x:NoThreeD/></x:ClientData></v:shape>")


def test_form_control_checkboxes(tmp_path):
    """Excel check boxes become ☑/☐ in the cell text where they sit; ctrlProps state wins over VML."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.column_dimensions["C"].width = 20  # 140 px
    ws.append(["番号", "質問", "回答"])
    ws.append(["1", "暗号化していますか。", None])
    ws.append(["2", "ログを取得していますか。", "はい　いいえ"])
    ws["C3"] = CellRichText([TextBlock(InlineFont(strike=True), "はい"), "　いいえ"])
    ws.append(["3", "遠隔保守を行いますか。", None])
    ws.append(["4", "コメント", "別紙参照"])
    path = tmp_path / "controls.xlsx"
    wb.save(path)
    vml = (VML_HEAD
           + vml_checkbox(1025, "2, 2, 1, 2, 2, 60, 1, 18", "はい", True)  # C2 left, labelled, checked
           + vml_checkbox(1026, "2, 70, 1, 2, 2, 130, 1, 18", "いいえ", False)  # C2 right
           + vml_checkbox(1027, "2, 0, 2, 2, 2, 14, 2, 18", "", None)  # C3 before はい: unchecked
           + vml_checkbox(1028, "2, 60, 2, 2, 2, 74, 2, 18", "", None)  # C3 before いいえ: ctrlProp says checked
           + vml_checkbox(1029, "2, 2, 3, 2, 2, 60, 3, 18", "対象外", True, kind="Radio")  # C4 option button
           + '<v:shape id="_x0000_s1030" type="#_x0000_t202"><x:ClientData ObjectType="Note">'
             "<x:Anchor>2, 2, 4, 2, 3, 60, 5, 18</x:Anchor></x:ClientData></v:shape>"  # a comment: ignored
           + "</xml>")
    ctrl = ('<formControlPr xmlns="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main" '
            'objectType="CheckBox" checked="Checked" lockText="1" noThreeD="1"/>')
    controls = ('<mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
                '<mc:Choice Requires="x14"><controls><control shapeId="1028" r:id="rIdC1" name="Check Box 4"/>'
                "</controls></mc:Choice></mc:AlternateContent>")
    inject_parts(path, 1, {"xl/drawings/vmlDrawing1.vml": vml, "xl/ctrlProps/ctrlProp1.xml": ctrl},
                 [("rIdV1", "vmlDrawing", "../drawings/vmlDrawing1.vml"),
                  ("rIdC1", "ctrlProp", "../ctrlProps/ctrlProp1.xml")],
                 '<legacyDrawing r:id="rIdV1"/>' + controls,
                 '<Default Extension="vml" ContentType="application/vnd.openxmlformats-officedocument.vmlDrawing"/>'
                 '<Override PartName="/xl/ctrlProps/ctrlProp1.xml" ContentType="application/vnd.ms-excel.controlproperties+xml"/>')
    grid = read_xlsx(path)
    assert cell(grid, "Sheet", "C2").text == "☑はい ☐いいえ"
    c3 = cell(grid, "Sheet", "C3")
    assert c3.text == "☐はい　☑いいえ"
    assert [(m.kind, c3.text[m.span[0]:m.span[1]]) for m in c3.marks] == [("strike", "はい")]
    assert cell(grid, "Sheet", "C4").text == "☑対象外"
    assert cell(grid, "Sheet", "C5").text == "別紙参照"


# --------------------------------------------------------------------------- limits and formats

def test_too_many_cells(tmp_path):
    wb = openpyxl.Workbook()
    wb.active["A1"] = "開示書"
    wb.active.cell(row=500, column=500, value="x")
    path = tmp_path / "big.xlsx"
    wb.save(path)
    with pytest.raises(ExtractionError) as err:
        read(path)
    assert err.value.kind == "too_large"


def test_zip_bomb_refused(tmp_path):
    path = build_form(tmp_path / "bomb.xlsx")
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/media/padding.bin", b"\0" * (12 * 1024 * 1024))
    with pytest.raises(ExtractionError) as err:
        read(path)
    assert err.value.kind == "too_large"


def test_xlsm_and_wrong_extension(tmp_path):
    path = build_form(tmp_path / "form.xlsx")
    for name in ("form.xlsm", "form.xls", "form"):
        renamed = tmp_path / name
        shutil.copy(path, renamed)
        grid = read(renamed)
        assert grid.source == name and grid.format == "xlsx"
        assert cell(grid, "開示書", "B2").text == "利用者の識別・認証を行っていますか。"


def test_chart_sheet_skipped(tmp_path):
    from openpyxl.chart import BarChart, Reference
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([1, 2, 3])
    cs = wb.create_chartsheet("グラフ")
    chart = BarChart()
    chart.add_data(Reference(ws, min_col=1, max_col=3, min_row=1))
    cs.add_chart(chart)
    path = tmp_path / "chart.xlsx"
    wb.save(path)
    assert [t.name for t in read(path).tables] == ["Sheet"]


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")
def test_legacy_xls_round_trip_keeps_ellipse_and_choices(tmp_path):
    path = build_form(tmp_path / "form.xlsx")
    inject_drawing(path, 1, [
        two_cell(marker(2, 1, 0, 10000), marker(2, 1, COL_C_EMU // 3, 180000), sp("楕円 1", "ellipse"))])
    subprocess.run(["soffice", f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}", "--headless",
                    "--convert-to", "xls:MS Excel 97", "--outdir", str(tmp_path / "xls"), str(path)],
                   check=True, capture_output=True, timeout=120)
    xls = tmp_path / "xls" / "form.xls"
    assert xls.read_bytes()[:4] == b"\xd0\xcf\x11\xe0"
    grid = read(xls)
    assert grid.source == "form.xls"
    assert grid.warnings[0] == "旧形式(.xls)から変換して読み取りました"
    assert cell(grid, "開示書", "B2").text == "利用者の識別・認証を行っていますか。"
    d = circle_detail(cell(grid, "開示書", "C2"))
    assert "楕円" in d["name"] and float(d["xfrac"]) < 0.4
    assert cell(grid, "開示書", "D2").choices == ["はい", "いいえ", "対象外"]
    assert [m.detail for m in cell(grid, "開示書", "D2").marks if m.kind == "fill"] == ["FFFF00"]
    assert [(m.kind, m.span) for m in cell(grid, "開示書", "C4").marks] == [("strike", (3, 6))]


# --------------------------------------------------------------------------- sample builder

@pytest.fixture(scope="module")
def sample_files(sample_inbox) -> list[Path]:
    """The Excel files of the shared sample inbox (conftest builds it once per session)."""
    files = [p for p in sorted(sample_inbox.iterdir())
             if p.is_file() and p.suffix.lower() in (".xlsx", ".xlsm", ".xls")]
    if not files:
        pytest.skip("the sample builder wrote no Excel files")
    return files


READER_FAILURES = {"empty", "corrupt", "encrypted", "unsupported", "legacy", "too_large"}


def _norm(text: str) -> str:
    return normalize_text(text).replace(" ", "")


def _row_of(grid: Grid, question: str) -> list[Cell] | None:
    q = _norm(question)
    for table in grid.tables:
        for row in table.rows:
            if q in _norm("".join(c.text for c in row)):
                return row
    return None


def test_sample_builder_excel_files_read(sample_files):
    """Every question of the truth is found in one row; ellipses and dropdowns land on the answer."""
    checked_circles = checked_dropdowns = checked_dates = 0
    for path in sample_files:
        truth_file = path.with_name(path.name + ".truth.json")
        truth = json.loads(truth_file.read_text(encoding="utf-8")) if truth_file.exists() else {}
        failure = truth.get("expect_failure")
        if failure:
            kind = failure.get("kind") if isinstance(failure, dict) else str(failure)
            if kind in READER_FAILURES:
                with pytest.raises(ExtractionError) as err:
                    read(path)
                assert err.value.kind == kind, path.name
            continue
        grid = read(path)
        assert any(c.text.strip() for t in grid.tables for row in t.rows for c in row), path.name
        if not truth:
            continue
        items = [i for i in truth["items"] if i["question"]]
        rows = {i["item_id"]: _row_of(grid, i["question"]) for i in items}
        found = sum(r is not None for r in rows.values())
        assert found >= 0.95 * len(items), (path.name, [k for k, r in rows.items() if r is None])
        for item in items:
            row = rows[item["item_id"]]
            if row is None or item["answer_status"] != "answered":
                continue
            if "ellipse" in truth["convention"]:
                circled = [c.text for c in row if any(m.kind == "circle" for m in c.marks)]
                assert circled == [item["answer"]], (path.name, item["item_id"], circled)
                checked_circles += 1
            if "real dates" in truth["convention"] and item["first_date"]:
                assert any(c.date and c.date.isoformat() == item["first_date"] for c in row), (
                    path.name, item["item_id"])
                checked_dates += 1
            if "dropdown" in truth["convention"]:
                answer_cells = [c for c in row if c.choices and c.text == item["answer"]]
                assert answer_cells, (path.name, item["item_id"])
                checked_dropdowns += 1
    assert checked_circles + checked_dropdowns + checked_dates > 0


# --------------------------------------------------------------------------- merged-range styling (workbook.py)

def _bordered_merge(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["B2"] = "はい・いいえ"
    ws["B2"].border = Border(top=Side(style="thick"), right=Side(style="thick"))
    ws["B2"].protection = Protection(locked=False)
    ws.merge_cells("B2:D3")
    ws["E2"] = "備考"
    wb.save(path)
    return path


def test_merged_ranges_are_styled_except_while_the_reader_loads(tmp_path):
    """load_for_reading leaves out the border and protection openpyxl copies into a merged range; openpyxl's own
    loads (the register's workbooks) keep them, also after a reader's load."""
    path = _bordered_merge(tmp_path / "merged.xlsx")
    read_ws = load_for_reading(path.read_bytes()).active
    assert [str(r) for r in read_ws.merged_cells.ranges] == ["B2:D3"]
    assert isinstance(read_ws["C3"], MergedCell) and read_ws["B2"].value == "はい・いいえ"
    assert read_ws["D3"].border.right.style is None and read_ws["C3"].protection.locked is True
    for _ in range(2):  # before and after another reader's load
        ws = openpyxl.load_workbook(path).active
        assert ws["D3"].border.right.style == "thick" and ws["C2"].border.top.style == "thick"
        assert ws["C3"].protection.locked is False
        load_for_reading(path.read_bytes())


class _NeverSkip:
    """A stand-in for workbook._loading under which openpyxl styles every merged range, as before."""

    active = property(lambda self: False, lambda self, value: None)


def test_reader_reads_the_same_without_merged_range_styling(sample_inbox, tmp_path, monkeypatch):
    """Every sample workbook (merge-heavy checklists and disclosures) and a bordered merge read the same with
    and without openpyxl's merged-range styling."""
    from extractors.model import plain
    from extractors.readers.xlsx import workbook

    def read_all(paths):
        out = {}
        for p in paths:
            try:
                out[p.name] = plain(read_xlsx(p))
            except ExtractionError as exc:  # the broken and hostile samples: refused the same way
                out[p.name] = str(exc)
        return out

    paths = sorted(p for p in sample_inbox.iterdir() if p.suffix == ".xlsx")
    paths.append(_bordered_merge(tmp_path / "merged.xlsx"))
    fast = read_all(paths)
    assert sum(isinstance(v, dict) for v in fast.values()) >= 10
    monkeypatch.setattr(workbook, "_loading", _NeverSkip())
    assert read_all(paths) == fast
