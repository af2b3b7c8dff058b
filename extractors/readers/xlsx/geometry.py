"""Colours (indexed, theme + tint) and the sheet's column/row geometry in EMU."""
from __future__ import annotations

import colorsys
import re

from lxml import etree

from extractors.readers.xlsx.package import NS
from extractors.readers.xmlsafe import parse_xml

EMU_PER_PX = 9525
EMU_PER_PT = 12700


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
                root = parse_xml(wb.loaded_theme, "xl/theme")
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
