"""Form-control check boxes and option buttons (VML `x:ClientData`), written into cell text as ☑ / ☐."""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass

from lxml import etree

from extractors.grid import Cell
from extractors.readers.xlsx.geometry import EMU_PER_PX
from extractors.readers.xlsx.drawings import Anchor
from extractors.readers.xmlsafe import parse_xml

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
        root = parse_xml(data, vml_part, recover=True)
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
