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

import colorsys
import datetime as dt
import posixpath
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

import openpyxl
from lxml import etree
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import range_boundaries, range_to_tuple

from extractors.grid import CHECKED_BOX, UNCHECKED_BOX, Cell, Grid, Mark, Table
from extractors.model import ExtractionError
from extractors.readers import ziplimits

MAX_CELLS = 200_000  # rows × columns of one sheet's used range
MAX_SHAPES = 5_000  # per drawing

NS = {
    "xdr": "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "main": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
    "x14": "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main",
    "xm": "http://schemas.microsoft.com/office/excel/2006/main",
}
EMU_PER_PX = 9525
EMU_PER_PT = 12700

ELLIPSE_PRESETS = {"ellipse", "flowChartConnector", "donut"}
ELLIPSE_NAME = re.compile(r"楕円|正円|^円|oval|ellipse|circle", re.IGNORECASE)
FRAME_PRESETS = {"rect", "roundRect", "snipRoundRect", "flowChartAlternateProcess"}

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
            # A file object, so that openpyxl ignores the extension (.xlsm, a renamed .xls, none).
            wb = openpyxl.load_workbook(BytesIO(f.read()), data_only=True, rich_text=True,
                                        keep_vba=False, keep_links=False)
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
    """Refuse zip bombs and absurd packages before openpyxl inflates them."""
    ziplimits.check_package(path, "Excel", MSG_CORRUPT)


# --------------------------------------------------------------------------- package structure

@dataclass
class SheetPart:
    xml: str  # "xl/worksheets/sheet1.xml"
    drawing: str | None  # "xl/drawings/drawing1.xml"
    vml: str | None = None  # "xl/drawings/vmlDrawing1.vml": form controls (and comments)


def _rels(zf: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Relationship id → (type suffix, absolute target) for a part."""
    folder, name = posixpath.split(part)
    rels_name = posixpath.join(folder, "_rels", name + ".rels")
    try:
        root = etree.fromstring(zf.read(rels_name))
    except KeyError:
        return {}
    out = {}
    for rel in root.iterfind("rel:Relationship", NS):
        target = rel.get("Target", "")
        if rel.get("TargetMode") == "External":
            continue
        full = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        out[rel.get("Id")] = (rel.get("Type", "").rsplit("/", 1)[-1], full)
    return out


def sheet_parts(zf: zipfile.ZipFile) -> dict[str, SheetPart]:
    """Sheet name → its XML part and drawing part."""
    root = etree.fromstring(zf.read("xl/workbook.xml"))
    wb_rels = _rels(zf, "xl/workbook.xml")
    out = {}
    for sheet in root.iterfind("main:sheets/main:sheet", NS):
        rid = sheet.get(f"{{{NS['r']}}}id")
        if rid not in wb_rels:
            continue
        xml = wb_rels[rid][1]
        rels = _rels(zf, xml).values()
        drawing = next((t for kind, t in rels if kind == "drawing"), None)
        vml = next((t for kind, t in rels if kind == "vmlDrawing"), None)
        out[sheet.get("name")] = SheetPart(xml=xml, drawing=drawing, vml=vml)
    return out


# --------------------------------------------------------------------------- colours

class Palette:
    """Resolves openpyxl colours (rgb, indexed, theme + tint) to "RRGGBB"."""

    THEME_ORDER = ["lt1", "dk1", "lt2", "dk2", "accent1", "accent2", "accent3", "accent4",
                   "accent5", "accent6", "hlink", "folHlink"]

    def __init__(self, indexed: list[str], theme: list[str]):
        self.indexed = indexed
        self.theme = theme

    @classmethod
    def from_workbook(cls, wb) -> "Palette":
        theme: list[str] = []
        if wb.loaded_theme:
            try:
                root = etree.fromstring(wb.loaded_theme)
                scheme = root.find(".//a:clrScheme", NS)
                by_name = {}
                for el in scheme if scheme is not None else []:
                    name = etree.QName(el).localname
                    srgb = el.find("a:srgbClr", NS)
                    sysc = el.find("a:sysClr", NS)
                    if srgb is not None:
                        by_name[name] = srgb.get("val", "").upper()
                    elif sysc is not None:
                        by_name[name] = sysc.get("lastClr", "").upper()
                theme = [by_name.get(n, "") for n in cls.THEME_ORDER]
            except etree.XMLSyntaxError:
                theme = []
        return cls(list(wb._colors), theme)

    def resolve(self, color) -> str:
        """"RRGGBB", or "theme:N" / "indexed:N" when the colour cannot be mapped, or "" for none."""
        if color is None:
            return ""
        ctype = getattr(color, "type", None)
        if ctype == "rgb" and isinstance(color.rgb, str):
            return color.rgb[-6:].upper()
        if ctype == "indexed":
            idx = color.indexed
            if idx is not None and 0 <= idx < len(self.indexed) and idx < 64:
                return self.indexed[idx][-6:].upper()
            return f"indexed:{idx}"
        if ctype == "theme":
            idx = color.theme
            if idx is not None and 0 <= idx < len(self.theme) and self.theme[idx]:
                return apply_tint(self.theme[idx], color.tint or 0.0)
            return f"theme:{idx}"
        return ""


def apply_tint(rgb: str, tint: float) -> str:
    """Excel's tint: lighten (tint > 0) or darken (tint < 0) in HLS lightness."""
    if not tint or len(rgb) != 6:
        return rgb.upper()
    r, g, b = (int(rgb[i: i + 2], 16) / 255 for i in (0, 2, 4))
    h, l, s = colorsys.rgb_to_hls(r, g, b)
    l = l * (1 + tint) if tint < 0 else l * (1 - tint) + tint
    r, g, b = colorsys.hls_to_rgb(h, min(max(l, 0.0), 1.0), s)
    return "".join(f"{round(v * 255):02X}" for v in (r, g, b))


def fill_colour(cell, palette: Palette) -> str:
    fill = cell.fill
    if fill is None or fill.fill_type != "solid":
        return ""
    colour = palette.resolve(fill.fgColor)
    if colour in ("", "FFFFFF"):
        return ""
    return colour


# --------------------------------------------------------------------------- cell text

def display_text(value, number_format: str = "General") -> tuple[str, dt.date | None]:
    """The value as Excel shows it, roughly, and the date when it is a date."""
    if value is None:
        return "", None
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE"), None
    if isinstance(value, dt.datetime):
        return format_date(value.date(), number_format), value.date()
    if isinstance(value, dt.date):
        return format_date(value, number_format), value
    if isinstance(value, dt.time):
        return value.strftime("%H:%M"), None
    if isinstance(value, int):
        return str(value), None
    if isinstance(value, float):
        fmt = number_format or ""
        if fmt.endswith("%"):
            return f"{value * 100:.10g}%", None
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value)), None
        return f"{value:.15g}", None
    return str(value), None


_ERAS = [(dt.date(2019, 5, 1), "令和"), (dt.date(1989, 1, 8), "平成"), (dt.date(1926, 12, 25), "昭和")]


def format_date(d: dt.date, number_format: str) -> str:
    fmt = re.sub(r'"[^"]*"|\[[^\]]*\]', lambda m: m.group(0) if "年" in m.group(0) else "", number_format or "")
    low = fmt.lower()
    if "g" in low and "e" in low:  # Japanese era: ggge年m月d日
        for start, era in _ERAS:
            if d >= start:
                return f"{era}{d.year - start.year + 1}年{d.month}月{d.day}日"
    if "年" in fmt:
        return f"{d.year}年{d.month}月{d.day}日" if "y" in low or "e" in low else f"{d.month}月{d.day}日"
    if "y" in low:
        return f"{d.year}/{d.month}/{d.day}"
    if "m" in low and "d" in low:
        return f"{d.month}/{d.day}"
    return d.isoformat()


def rich_text_and_strikes(value: CellRichText, cell_strike: bool) -> tuple[str, list[tuple[int, int]]]:
    """Concatenate rich-text runs; spans of struck runs (plain runs inherit the cell font)."""
    text, spans, _ = rich_text_marks(value, cell_strike)
    return text, spans


def _run_emphasis(font) -> str:
    """「bold」 / 「color:FF0000」 / 「underline」 for a rich-text run set apart from plain text."""
    if font is None:
        return ""
    if font.b:
        return "bold"
    rgb = getattr(getattr(font, "color", None), "rgb", None)
    if isinstance(rgb, str) and rgb[-6:].upper() not in ("000000",):
        return f"color:{rgb[-6:].upper()}"
    if font.u:
        return "underline"
    return ""


def rich_text_marks(value: CellRichText, cell_strike: bool
                    ) -> tuple[str, list[tuple[int, int]], list[tuple[int, int, str]]]:
    """Text, struck spans, and emphasised spans (bold / coloured / underlined runs) of a rich-text cell."""
    text, spans, emphasis = "", [], []
    for run in value:
        if isinstance(run, TextBlock):
            part = run.text or ""
            strike = run.font.strike if run.font is not None and run.font.strike is not None else cell_strike
            emph = _run_emphasis(run.font)
        else:
            part, strike, emph = str(run), cell_strike, ""
        start = len(text)
        if strike and part.strip():
            if spans and spans[-1][1] == start:
                spans[-1] = (spans[-1][0], start + len(part))
            else:
                spans.append((start, start + len(part)))
        if emph and part.strip():
            emphasis.append((start, start + len(part), emph))
        text += part
    return text, spans, emphasis


# --------------------------------------------------------------------------- sheet geometry

class Geometry:
    """Column/row positions in EMU, from the sheet's widths and heights (hidden → 0).

    Column widths are in characters of the workbook's default font; `digit_px` is that font's
    maximum digit width in pixels (7 for Calibri 11, 8 for 游ゴシック / ＭＳ Ｐゴシック 11).
    `cols` are the sheet's <col> elements as written (openpyxl invents a width of 13 when absent).
    """

    def __init__(self, ws, cols: list[tuple[int, int, float | None, bool]] | None = None,
                 default_col_width: float | None = None, digit_px: int = 7):
        if cols is None:  # no raw XML at hand: fall back on openpyxl's view
            cols = [(d.min or 0, d.max or 0, d.width if d.width else None, bool(d.hidden))
                    for d in ws.column_dimensions.values()]
        if default_col_width is None and ws.sheet_format.defaultColWidth:
            default_col_width = float(ws.sheet_format.defaultColWidth)
        self.default_col_px = (round(default_col_width * digit_px) if default_col_width
                               else 8 * digit_px + 5)  # baseColWidth 8 + padding
        self.default_row_pt = float(ws.sheet_format.defaultRowHeight or 15)
        self.col_px: dict[int, float] = {}
        self.hidden_cols: set[int] = set()
        for lo, hi, width, hidden in cols:
            if not lo:
                continue
            for c in range(lo, min(hi or lo, 16384) + 1):
                if hidden:
                    self.hidden_cols.add(c)
                if width is not None:
                    self.col_px[c] = round(width * digit_px)
        self.row_pt: dict[int, float] = {}
        self.hidden_rows: set[int] = set()
        for r, dim in ws.row_dimensions.items():
            if dim.hidden:
                self.hidden_rows.add(r)
            if dim.ht is not None:
                self.row_pt[r] = float(dim.ht)
        self._col_left = [0.0, 0.0]  # 1-based: _col_left[c] = left edge of column c
        self._row_top = [0.0, 0.0]

    def col_width(self, c: int) -> float:
        if c in self.hidden_cols:
            return 0.0
        return self.col_px.get(c, self.default_col_px) * EMU_PER_PX

    def row_height(self, r: int) -> float:
        if r in self.hidden_rows:
            return 0.0
        return self.row_pt.get(r, self.default_row_pt) * EMU_PER_PT

    def col_left(self, c: int) -> float:
        while len(self._col_left) <= c:
            n = len(self._col_left)
            self._col_left.append(self._col_left[n - 1] + self.col_width(n - 1))
        return self._col_left[c]

    def row_top(self, r: int) -> float:
        while len(self._row_top) <= r:
            n = len(self._row_top)
            self._row_top.append(self._row_top[n - 1] + self.row_height(n - 1))
        return self._row_top[r]

    def col_at(self, x: float) -> int:
        c = 1
        while c < 16384 and self.col_left(c + 1) <= x:
            c += 1
        return c

    def row_at(self, y: float) -> int:
        r = 1
        while r < 1_048_576 and self.row_top(r + 1) <= y:
            r += 1
        return r


JAPANESE_FONT = re.compile(r"ゴシック|明朝|メイリオ|Meiryo|Gothic|Mincho|游|Yu |MS P?", re.IGNORECASE)


def default_digit_px(wb) -> int:
    """Max digit width (px) of the workbook's default font, which Excel column widths count in."""
    try:
        font = wb._fonts[0]
        name, size = font.name or "", float(font.sz or 11)
    except (AttributeError, IndexError, TypeError, ValueError):
        return 7
    base = 8 if JAPANESE_FONT.search(name) else 7
    return max(1, round(base * size / 11))


# --------------------------------------------------------------------------- drawn shapes

@dataclass
class Anchor:
    """A shape's place: from/to cell (0-based col/row as in the XML) + EMU offsets, or absolute EMU."""

    kind: str  # two | one | abs
    from_cell: tuple[int, int, int, int] = (0, 0, 0, 0)  # col, colOff, row, rowOff
    to_cell: tuple[int, int, int, int] | None = None
    ext: tuple[int, int] = (0, 0)  # cx, cy
    pos: tuple[int, int] = (0, 0)  # absolute x, y

    def rect(self, geo: Geometry) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) in EMU from the sheet's top-left corner."""
        if self.kind == "abs":
            x0, y0 = self.pos
            return x0, y0, x0 + self.ext[0], y0 + self.ext[1]
        c, co, r, ro = self.from_cell
        x0, y0 = geo.col_left(c + 1) + co, geo.row_top(r + 1) + ro
        if self.kind == "two" and self.to_cell is not None:
            c2, co2, r2, ro2 = self.to_cell
            return x0, y0, geo.col_left(c2 + 1) + co2, geo.row_top(r2 + 1) + ro2
        return x0, y0, x0 + self.ext[0], y0 + self.ext[1]


@dataclass
class Shape:
    name: str
    preset: str  # prstGeom, "custGeom", or ""
    no_fill: bool
    text: str
    anchor: Anchor
    # Where the shape sits inside its anchor, as fractions, when it is a member of a group.
    sub: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)

    def circle_confidence(self) -> float:
        """How sure we are that this shape is a circle drawn to mark an answer (0 = it is not)."""
        if self.preset in ELLIPSE_PRESETS:
            return 1.0
        if self.preset == "picture":
            return 0.5  # a pasted ✓ or ○ image over a cell: maybe a mark, a person must look
        if ELLIPSE_NAME.search(self.name):
            return 0.95  # e.g. LibreOffice writes an .xls ellipse back as prst="rect" named 楕円 1
        if self.text:
            return 0.0
        if self.preset in FRAME_PRESETS and self.no_fill:
            return 0.8  # an empty frame drawn round the answer
        if self.preset == "custGeom" and self.no_fill:
            return 0.6  # a freehand loop
        if self.preset == "ink":
            return 0.5  # pen ink: a loop, a tick or a stroke — a person must look
        return 0.0

    def centre(self, geo: Geometry) -> tuple[float, float]:
        x0, y0, x1, y1 = self.anchor.rect(geo)
        fx0, fy0, fx1, fy1 = self.sub
        return x0 + (x1 - x0) * (fx0 + fx1) / 2, y0 + (y1 - y0) * (fy0 + fy1) / 2


def _marker(el) -> tuple[int, int, int, int]:
    def num(tag: str) -> int:
        found = el.find(f"xdr:{tag}", NS)
        try:
            return int(float(found.text)) if found is not None and found.text else 0
        except ValueError:
            return 0
    return num("col"), num("colOff"), num("row"), num("rowOff")


def _ext(el) -> tuple[int, int]:
    if el is None:
        return 0, 0
    return int(float(el.get("cx", 0))), int(float(el.get("cy", 0)))


def _anchor(el) -> Anchor | None:
    kind = etree.QName(el).localname
    if kind == "twoCellAnchor":
        frm, to = el.find("xdr:from", NS), el.find("xdr:to", NS)
        if frm is None:
            return None
        return Anchor("two", _marker(frm), _marker(to) if to is not None else None)
    if kind == "oneCellAnchor":
        frm = el.find("xdr:from", NS)
        if frm is None:
            return None
        return Anchor("one", _marker(frm), ext=_ext(el.find("xdr:ext", NS)))
    if kind == "absoluteAnchor":
        pos = el.find("xdr:pos", NS)
        xy = (int(float(pos.get("x", 0))), int(float(pos.get("y", 0)))) if pos is not None else (0, 0)
        return Anchor("abs", pos=xy, ext=_ext(el.find("xdr:ext", NS)))
    return None


def _shape_text(sp) -> str:
    paras = []
    for p in sp.iterfind("xdr:txBody/a:p", NS):
        paras.append("".join(t.text or "" for t in p.iter(f"{{{NS['a']}}}t")))
    return "\n".join(paras).strip()


def _xfrm(el) -> tuple[float, float, float, float, float, float, float, float] | None:
    """(off x, off y, ext cx, ext cy, chOff x, chOff y, chExt cx, chExt cy) of an a:xfrm."""
    if el is None:
        return None
    def pair(tag, a, b):
        found = el.find(f"a:{tag}", NS)
        return (float(found.get(a, 0)), float(found.get(b, 0))) if found is not None else (0.0, 0.0)
    off, ext = pair("off", "x", "y"), pair("ext", "cx", "cy")
    ch_off, ch_ext = pair("chOff", "x", "y"), pair("chExt", "cx", "cy")
    return (*off, *ext, *ch_off, *ch_ext)


def _collect(el, anchor: Anchor, box: tuple[float, float, float, float], group, out: list[Shape]) -> None:
    """Shapes under an anchor element, a group, or an mc:AlternateContent choice (`el`).

    `box` is the rectangle of the enclosing group (or the whole anchor) as fractions of the anchor;
    inside a group (`group` is the xdr:grpSp element), each child's own a:xfrm, in the group's child
    coordinates, places it within that box.
    """
    for child in el:
        if len(out) >= MAX_SHAPES:
            return
        tag = etree.QName(child).localname
        if tag == "sp":
            sp_pr = child.find("xdr:spPr", NS)
            prst = sp_pr.find("a:prstGeom", NS) if sp_pr is not None else None
            preset = prst.get("prst", "") if prst is not None else (
                "custGeom" if sp_pr is not None and sp_pr.find("a:custGeom", NS) is not None else "")
            c_nv = child.find("xdr:nvSpPr/xdr:cNvPr", NS)
            name = (c_nv.get("name", "") if c_nv is not None else "").strip()
            no_fill = sp_pr is not None and sp_pr.find("a:noFill", NS) is not None
            xfrm = sp_pr.find("a:xfrm", NS) if sp_pr is not None else None
            child_box = _in_group(xfrm, box, group) if group is not None else box
            out.append(Shape(name, preset, no_fill, _shape_text(child), anchor, child_box))
        elif tag == "grpSp":
            grp_pr = child.find("xdr:grpSpPr", NS)
            xfrm = grp_pr.find("a:xfrm", NS) if grp_pr is not None else None
            group_box = _in_group(xfrm, box, group) if group is not None else box
            _collect(child, anchor, group_box, child, out)
        elif tag == "pic":  # a pasted picture (a ✓ or ○ image); logos sit on title cells, not answer cells
            c_nv = child.find("xdr:nvPicPr/xdr:cNvPr", NS)
            name = (c_nv.get("name", "") if c_nv is not None else "").strip() or "図"
            sp_pr = child.find("xdr:spPr", NS)
            xfrm = sp_pr.find("a:xfrm", NS) if sp_pr is not None else None
            child_box = _in_group(xfrm, box, group) if group is not None else box
            out.append(Shape(name, "picture", True, "", anchor, child_box))
        elif tag == "contentPart":  # pen ink drawn on a tablet: a mark, shape unknown
            out.append(Shape("インク", "ink", True, "", anchor, box))
        elif tag == "AlternateContent":  # take the first choice Excel offers (a14 shapes, ink)
            choice = next(iter(child), None)
            if choice is not None:
                _collect(choice, anchor, box, group, out)


def _in_group(xfrm_el, group_box, group_el) -> tuple[float, float, float, float]:
    """A child's box (as fractions of the anchor) from its xfrm in the group's child coordinates."""
    gx = _xfrm(group_el.find("xdr:grpSpPr/a:xfrm", NS))
    cx = _xfrm(xfrm_el)
    if gx is None or cx is None or gx[6] <= 0 or gx[7] <= 0:
        return group_box
    fx0 = (cx[0] - gx[4]) / gx[6]
    fy0 = (cx[1] - gx[5]) / gx[7]
    fx1 = (cx[0] + cx[2] - gx[4]) / gx[6]
    fy1 = (cx[1] + cx[3] - gx[5]) / gx[7]
    bx0, by0, bx1, by1 = group_box
    w, h = bx1 - bx0, by1 - by0
    return bx0 + fx0 * w, by0 + fy0 * h, bx0 + fx1 * w, by0 + fy1 * h


def read_shapes(zf: zipfile.ZipFile, drawing_part: str, problems: list[str] | None = None) -> list[Shape]:
    """Shapes of a drawing part; a part that is missing or broken is noted in `problems` (marks may be lost)."""
    try:
        root = etree.fromstring(zf.read(drawing_part))
    except (KeyError, etree.XMLSyntaxError, zipfile.BadZipFile, OSError) as exc:
        if problems is not None:
            problems.append(f"図形の部品（{drawing_part}）を読み取れませんでした（{type(exc).__name__}）。"
                            "丸印などの印が失われている可能性があります")
        return []
    shapes: list[Shape] = []
    for el in root:
        anchor = _anchor(el)
        if anchor is None:
            continue
        _collect(el, anchor, (0.0, 0.0, 1.0, 1.0), None, shapes)
    return shapes


# --------------------------------------------------------------------------- form controls

VML = "urn:schemas-microsoft-com:vml"
VML_EXCEL = "urn:schemas-microsoft-com:office:excel"


@dataclass
class FormControl:
    """An Excel form control check box or option button (VML `x:ClientData`)."""

    kind: str  # Checkbox | Radio
    checked: bool
    label: str
    anchor: Anchor


def read_form_controls(zf: zipfile.ZipFile, vml_part: str, checked_by_id: dict[int, bool],
                       problems: list[str] | None = None) -> list[FormControl]:
    """Check boxes / option buttons with their state, label and place (comments are skipped)."""
    def lost(why: str) -> list[FormControl]:
        if problems is not None:
            problems.append(f"チェックボックス等の部品（{vml_part}）を読み取れませんでした（{why}）。"
                            "チェックの有無が失われている可能性があります")
        return []
    try:
        data = zf.read(vml_part)
    except (KeyError, zipfile.BadZipFile, OSError) as exc:
        return lost(type(exc).__name__)
    try:
        root = etree.fromstring(data, etree.XMLParser(recover=True, resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        return lost(type(exc).__name__)
    if root is None:
        return lost("XML が空か壊れています")
    out = []
    for shape in root.iter(f"{{{VML}}}shape"):
        client = shape.find(f"{{{VML_EXCEL}}}ClientData")
        if client is None or client.get("ObjectType") not in ("Checkbox", "Radio"):
            continue
        numbers = re.findall(r"-?\d+", client.findtext(f"{{{VML_EXCEL}}}Anchor", default=""))
        if len(numbers) != 8:
            continue
        lc, lo, tr, to, rc, ro, br, bo = (int(n) for n in numbers)
        anchor = Anchor("two", (lc, lo * EMU_PER_PX, tr, to * EMU_PER_PX), (rc, ro * EMU_PER_PX, br, bo * EMU_PER_PX))
        checked = (client.findtext(f"{{{VML_EXCEL}}}Checked", default="") or "").strip() == "1"
        sid = re.search(r"(\d+)$", shape.get("id", "") or shape.get("{urn:schemas-microsoft-com:office:office}spid", ""))
        if sid and int(sid.group(1)) in checked_by_id:
            checked = checked_by_id[int(sid.group(1))]
        box = shape.find(f"{{{VML}}}textbox")
        label = re.sub(r"\s+", " ", "".join(box.itertext())).strip() if box is not None else ""
        out.append(FormControl(client.get("ObjectType"), checked, label, anchor))
    # The parser recovers from broken VML (Excel's own is not always well-formed) by dropping what it cannot
    # read: more check boxes in the bytes than read means some were lost.
    declared = len(re.findall(rb"ObjectType\s*=\s*[\"'](?:Checkbox|Radio)[\"']", data))
    if declared > len(out):
        lost(f"{declared} 個中 {declared - len(out)} 個を読めません")
    return out


def insert_boxes(cell: Cell, boxes: list[tuple[float, str]]) -> None:
    """Write check-box glyphs (with their labels) into the cell text near where they sit.

    `boxes` are (xfrac, "☑はい"); each goes to the word boundary nearest its horizontal position.
    Mark spans after an insertion point move with the text.
    """
    text = cell.text
    if not text.strip():
        cell.text = " ".join(token for _, token in sorted(boxes))
        return
    bounds = sorted({0, len(text)} | {i + 1 for i, ch in enumerate(text) if ch in " \u3000・/／、,\n"})
    placed = [(min(bounds, key=lambda b: abs(b - xfrac * len(text))), token) for xfrac, token in boxes]
    for idx, token in sorted(placed, key=lambda p: p[0], reverse=True):
        if len(token) > 1:  # a labelled box: keep it apart from the words around it
            if idx < len(text) and not text[idx].isspace():
                token += " "
            if idx > 0 and not text[idx - 1].isspace():
                token = " " + token
        text = text[:idx] + token + text[idx:]
        for mark in cell.marks:
            if mark.span is not None:
                start, end = mark.span
                if start >= idx:
                    mark.span = (start + len(token), end + len(token))
                elif end > idx:
                    mark.span = (start, end + len(token))
    cell.text = text


# --------------------------------------------------------------------------- data validations

@dataclass
class RawValidation:
    formula: str
    sqref: str


@dataclass
class SheetExtras:
    """What the sheet XML holds that openpyxl drops."""

    validations: list[RawValidation] = field(default_factory=list)  # x14 list validations (extLst)
    control_checked: dict[int, bool] = field(default_factory=dict)  # form control shapeId → checked
    cols: list[tuple[int, int, float | None, bool]] | None = None  # <col min max width hidden>
    default_col_width: float | None = None  # <sheetFormatPr defaultColWidth>


def _int(value: str | None) -> int:
    try:
        return int(float(value)) if value else 0
    except ValueError:
        return 0


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def read_sheet_extras(zf: zipfile.ZipFile, sheet_part: str) -> SheetExtras:
    """x14 list validations (Excel 2010+ cross-sheet lists) and form-control states (ctrlProps)."""
    out = SheetExtras()
    control_rids: dict[int, str] = {}
    try:
        with zf.open(sheet_part) as f:
            tags = (f"{{{NS['x14']}}}dataValidation", f"{{{NS['main']}}}control", f"{{{NS['main']}}}col",
                    f"{{{NS['main']}}}sheetFormatPr")
            out.cols = []
            for _, el in etree.iterparse(f, tag=tags):
                local = etree.QName(el).localname
                if local == "col":
                    out.cols.append((_int(el.get("min")), _int(el.get("max")), _float(el.get("width")),
                                     el.get("hidden") in ("1", "true")))
                elif local == "sheetFormatPr":
                    out.default_col_width = _float(el.get("defaultColWidth"))
                elif local == "control":
                    sid, rid = el.get("shapeId"), el.get(f"{{{NS['r']}}}id")
                    if sid and sid.isdigit() and rid:
                        control_rids[int(sid)] = rid
                elif el.get("type") == "list":
                    formula = el.findtext("x14:formula1/xm:f", default="", namespaces=NS)
                    sqref = el.findtext("xm:sqref", default="", namespaces=NS)
                    if formula and sqref:
                        out.validations.append(RawValidation(formula, sqref))
                el.clear()
    except (KeyError, etree.XMLSyntaxError):
        out.cols = None
        return out
    if control_rids:
        rels = _rels(zf, sheet_part)
        for sid, rid in control_rids.items():
            target = rels.get(rid, ("", ""))[1]
            try:
                prop = etree.fromstring(zf.read(target))
            except (KeyError, etree.XMLSyntaxError):
                continue
            if prop.get("objectType") in ("CheckBox", "Radio"):
                out.control_checked[sid] = prop.get("checked") == "Checked"
    return out


def resolve_list(wb, ws, formula: str, cache: dict) -> list[str] | None:
    """Values of a list validation: inline 「"はい,いいえ,対象外"」, a range, or a defined name."""
    formula = (formula or "").strip().lstrip("=")
    if formula in cache:
        return cache[formula]
    result = None
    if formula.startswith('"') and formula.endswith('"') and len(formula) >= 2:
        result = [v.strip() for v in formula[1:-1].replace('""', '"').split(",") if v.strip()]
    else:
        ref = formula
        name = ws.defined_names.get(formula) if hasattr(ws, "defined_names") else None
        name = name or wb.defined_names.get(formula)
        if name is not None:
            ref = (name.attr_text or "").lstrip("=")
        result = _range_values(wb, ws, ref)
    cache[formula] = result
    return result


def _range_values(wb, ws, ref: str) -> list[str] | None:
    ref = ref.replace("$", "")
    try:
        if "!" in ref:
            sheet_name, (c0, r0, c1, r1) = range_to_tuple(ref if ":" in ref else ref + ":" + ref.split("!")[1])
            target = wb[sheet_name] if sheet_name in wb.sheetnames else None
        else:
            c0, r0, c1, r1 = range_boundaries(ref)
            target = ws
    except (ValueError, TypeError, KeyError):
        return None
    if target is None or None in (c0, r0, c1, r1) or (r1 - r0 + 1) * (c1 - c0 + 1) > 1000:
        return None
    values = []
    for row in target.iter_rows(min_row=r0, max_row=r1, min_col=c0, max_col=c1):
        for cell in row:
            text = _cell_text(cell)[0].strip()
            if text:
                values.append(text)
    return values


def _sqref_ranges(sqref) -> list[tuple[int, int, int, int]]:
    out = []
    for part in str(sqref).split():
        try:
            c0, r0, c1, r1 = range_boundaries(part)
        except (ValueError, TypeError):
            continue
        if None not in (c0, r0, c1, r1):
            out.append((c0, r0, c1, r1))
    return out


# --------------------------------------------------------------------------- one sheet

def _cell_text(cell) -> tuple[str, dt.date | None]:
    value = cell.value
    if isinstance(value, CellRichText):
        return rich_text_and_strikes(value, False)[0], None
    return display_text(value, cell.number_format)


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


def _fill_cell(out: Cell, cell, palette: Palette) -> None:
    font_strike = bool(cell.font is not None and cell.font.strike)
    value = cell.value
    if isinstance(value, CellRichText):
        out.text, spans, emphasis = rich_text_marks(value, font_strike)
        out.marks.extend(Mark("strike", span) for span in spans)
        out.marks.extend(Mark("emphasis", (a, b), confidence=0.7, detail=how) for a, b, how in emphasis)
    else:
        out.text, out.date = display_text(value, cell.number_format)
        if font_strike and out.text.strip():
            out.marks.append(Mark("strike", (0, len(out.text))))
    colour = fill_colour(cell, palette)
    if colour:
        out.marks.append(Mark("fill", None, 1.0, colour))
