"""What the sheet XML holds that openpyxl drops (x14 list validations, control states, raw column
widths), and the values of list validations."""
from __future__ import annotations

import zipfile
from dataclasses import dataclass, field

from lxml import etree
from openpyxl.utils.cell import range_boundaries, range_to_tuple

from extractors.readers.xlsx.cells import _cell_text
from extractors.readers.xlsx.package import NS, _rels
from extractors.readers.xmlsafe import iterparse, parse_xml

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
            for _, el in iterparse(f, tag=tags, part=sheet_part):
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
                prop = parse_xml(zf.read(target), target)
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
