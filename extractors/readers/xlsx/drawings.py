"""Drawn shapes of a sheet's drawing part: circles, frames, pictures, ink, text boxes, groups."""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass

from lxml import etree

from extractors.readers.xlsx.geometry import Geometry
from extractors.readers.xlsx.package import NS
from extractors.readers.xmlsafe import parse_xml

MAX_SHAPES = 5_000  # per drawing

ELLIPSE_PRESETS = {"ellipse", "flowChartConnector", "donut"}
ELLIPSE_NAME = re.compile(r"楕円|正円|^円|oval|ellipse|circle", re.IGNORECASE)
FRAME_PRESETS = {"rect", "roundRect", "snipRoundRect", "flowChartAlternateProcess"}


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
        root = parse_xml(zf.read(drawing_part), drawing_part)
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
