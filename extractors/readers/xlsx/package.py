"""The workbook package: namespaces, relationships, and each sheet's XML, drawing and VML parts."""
from __future__ import annotations

import posixpath
import zipfile
from dataclasses import dataclass

from extractors.readers.xmlsafe import parse_xml

NS = {
    "xdr": "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "main": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
    "x14": "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main",
    "xm": "http://schemas.microsoft.com/office/excel/2006/main",
}


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
        root = parse_xml(zf.read(rels_name), rels_name)
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
    root = parse_xml(zf.read("xl/workbook.xml"), "xl/workbook.xml")
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
