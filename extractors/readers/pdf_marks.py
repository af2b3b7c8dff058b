"""Marks drawn on a PDF page: ellipses round words, strike-through lines, filled cells.

Input is what pdfplumber reports (curves, lines, rects) and the laid-out text of each cell.
Only vector evidence is read here; scanned pages are the OCR reader's job.
"""
from __future__ import annotations

from dataclasses import dataclass

from extractors.grid import Mark
from extractors.readers.pdf_text import Box, LaidText, Token, VerticalIndex, centre, inside

CIRCLE_CONFIDENCE = 0.97
CIRCLE_OVERLAP_CONFIDENCE = 0.9
STRIKE_CONFIDENCE = 0.95
FILL_CONFIDENCE = 0.98


@dataclass
class MarkTarget:
    """A place marks can land on: a table cell or a text segment, with its laid-out text."""

    box: Box
    laid: LaidText
    marks: list[Mark]


def colour_hex(colour) -> str:
    """pdfplumber colour (gray, RGB or CMYK floats, or a pattern name) → "RRGGBB" ("" if unknown)."""
    if colour is None or isinstance(colour, str):
        return ""
    vals = list(colour) if isinstance(colour, (tuple, list)) else [colour]
    try:
        vals = [float(v) for v in vals]
    except (TypeError, ValueError):
        return ""
    if len(vals) == 1:
        r = g = b = vals[0]
    elif len(vals) == 3:
        r, g, b = vals
    elif len(vals) == 4:
        c, m, y, k = vals
        r, g, b = (1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k)
    else:
        return ""
    return "".join(f"{max(0, min(255, round(v * 255))):02X}" for v in (r, g, b))


def _axis_aligned(pts) -> bool:
    return all(abs(a[0] - b[0]) < 0.5 or abs(a[1] - b[1]) < 0.5 for a, b in zip(pts, pts[1:]))


def is_round_shape(obj: dict) -> bool:
    """An ellipse, circle or rounded rectangle: a closed curve with sloped segments and some size."""
    pts = obj.get("pts") or []
    w, h = obj["x1"] - obj["x0"], obj["bottom"] - obj["top"]
    if w < 4 or h < 4 or len(pts) < 4:
        return False
    if _axis_aligned(pts):
        return False
    first, last = pts[0], pts[-1]
    closed = abs(first[0] - last[0]) < 0.25 * w + 1 and abs(first[1] - last[1]) < 0.25 * h + 1
    return closed or bool(obj.get("fill") is False and obj.get("path") and obj["path"][-1][0] == "h")


def is_mark_fill(rect: dict) -> bool:
    """A filled rectangle with a real colour (not white, not a hairline rule)."""
    if not rect.get("fill"):
        return False
    w, h = rect["x1"] - rect["x0"], rect["bottom"] - rect["top"]
    if w < 3 or h < 3:
        return False
    hexc = colour_hex(rect.get("non_stroking_color"))
    return bool(hexc) and hexc != "FFFFFF"


def horizontal_segments(lines: list[dict], rects: list[dict]) -> list[tuple[float, float, float, float]]:
    """Short straight strokes that may strike a word: (x0, x1, y_at_x0, y_at_x1) in top-down y."""
    segs = []
    for ln in lines:
        pts = ln.get("pts") or [(ln["x0"], ln["top"]), (ln["x1"], ln["bottom"])]
        (xa, ya), (xb, yb) = pts[0], pts[-1]
        if xa > xb:
            (xa, ya), (xb, yb) = (xb, yb), (xa, ya)
        if xb - xa < 2 or abs(yb - ya) > (xb - xa) * 0.5:
            continue  # vertical or steep: not a strike
        segs.append((xa, xb, ya, yb))
    for r in rects:  # a strike drawn as a thin filled rectangle
        h = r["bottom"] - r["top"]
        if h <= 1.5 and r["x1"] - r["x0"] >= 2:
            y = (r["top"] + r["bottom"]) / 2
            segs.append((r["x0"], r["x1"], y, y))
    return segs


def strikes_token(seg: tuple[float, float, float, float], tok: Token) -> bool:
    x0, x1, ya, yb = seg
    tx0, ttop, tx1, tbot = tok.box
    width = tx1 - tx0
    overlap = min(x1, tx1) - max(x0, tx0)
    if width <= 0 or overlap < 0.6 * width:
        return False
    if x1 - x0 > width + 4 * (tbot - ttop) + 6:
        return False  # a long rule through a line of text is no strike of this word
    cx = (max(x0, tx0) + min(x1, tx1)) / 2
    y = ya + (yb - ya) * ((cx - x0) / (x1 - x0) if x1 > x0 else 0)
    h = tbot - ttop
    return ttop + 0.2 * h <= y <= tbot - 0.15 * h


def _overlap_fraction(inner: Box, outer: Box) -> float:
    w = min(inner[2], outer[2]) - max(inner[0], outer[0])
    h = min(inner[3], outer[3]) - max(inner[1], outer[1])
    area = (inner[2] - inner[0]) * (inner[3] - inner[1])
    return (w * h / area) if w > 0 and h > 0 and area > 0 else 0.0


def _target_at(point, targets: list[MarkTarget]) -> MarkTarget | None:
    found = [t for t in targets if inside(point, t.box, tol=0.5)]
    if not found:
        return None
    return min(found, key=lambda t: (t.box[2] - t.box[0]) * (t.box[3] - t.box[1]))


def place_circle(shape: dict, targets: list[MarkTarget]) -> bool:
    """Attach a circle mark to the word(s) whose centre it encloses. Returns False if it fits nowhere."""
    sbox: Box = (shape["x0"], shape["top"], shape["x1"], shape["bottom"])
    best: tuple[MarkTarget, list[Token], float] | None = None
    for t in targets:
        toks = [tok for tok in t.laid.tokens() if inside(centre(tok.box), sbox)]
        conf = CIRCLE_CONFIDENCE
        if not toks:
            # LibreOffice prints ellipses that can be smaller than the word: take a word mostly covered
            toks = [tok for tok in t.laid.tokens() if _overlap_fraction(tok.box, sbox) >= 0.5]
            conf = CIRCLE_OVERLAP_CONFIDENCE
        if toks and (best is None or len(toks) > len(best[1]) and conf >= best[2]):
            best = (t, toks, conf)
    if best:
        t, toks, conf = best
        t.marks.append(Mark("circle", span=(min(k.start for k in toks), max(k.end for k in toks)),
                            confidence=conf, detail=colour_hex(shape.get("stroking_color"))))
        return True
    # an ellipse over an empty cell (a ○ column answered by drawing): whole-cell mark
    t = _target_at(centre(sbox), targets)
    if t is not None and _overlap_fraction(sbox, t.box) >= 0.6:
        t.marks.append(Mark("circle", span=None, confidence=CIRCLE_OVERLAP_CONFIDENCE,
                            detail=colour_hex(shape.get("stroking_color"))))
        return True
    return False


def place_strikes(segs, targets: list[MarkTarget]) -> None:
    for t in targets:
        for tok in t.laid.tokens():
            if any(strikes_token(s, tok) for s in segs):
                t.marks.append(Mark("strike", span=(tok.start, tok.end), confidence=STRIKE_CONFIDENCE))


def place_fill(rect: dict, targets: list[MarkTarget]) -> bool:
    rbox: Box = (rect["x0"], rect["top"], rect["x1"], rect["bottom"])
    t = _target_at(centre(rbox), targets)
    if t is None:
        return False
    area_t = (t.box[2] - t.box[0]) * (t.box[3] - t.box[1])
    area_r = (rbox[2] - rbox[0]) * (rbox[3] - rbox[1])
    if area_r > 1.2 * area_t + 4:
        return False  # a shaded band larger than the cell: background, not a mark
    span = None
    if area_r < 0.6 * area_t:  # a highlight behind some words only
        toks = [k for k in t.laid.tokens() if inside(centre(k.box), rbox)]
        if toks:
            span = (min(k.start for k in toks), max(k.end for k in toks))
    kind_detail = colour_hex(rect.get("non_stroking_color"))
    if not any(m.kind == "fill" and m.detail == kind_detail and m.span == span for m in t.marks):
        t.marks.append(Mark("fill", span=span, confidence=FILL_CONFIDENCE, detail=kind_detail))
    return True


# --------------------------------------------------------------------------- drawn checkboxes

CHECKBOX_MIN, CHECKBOX_MAX = 4.0, 16.0  # side of a form-field box, in points


@dataclass
class DrawnCheckbox:
    """A checkbox printed as vector strokes (Word legacy FORMCHECKBOX through LibreOffice): a small
    square, crossed by an X of two diagonal lines when checked. No text is printed for it."""

    box: Box
    checked: bool
    parts: list[int]  # id() of the page objects it is made of (square and cross strokes)


def _is_diagonal(obj: dict) -> bool:
    pts = obj.get("pts") or []
    if len(pts) < 2:
        return False
    (xa, ya), (xb, yb) = pts[0], pts[-1]
    dx, dy = abs(xb - xa), abs(yb - ya)
    return dx > 1 and dy > 1 and 0.4 < dy / dx < 2.5


def find_drawn_checkboxes(rects: list[dict], strokes: list[dict], chars: list[dict]) -> list[DrawnCheckbox]:
    """Small stroked squares with no character inside; checked when two diagonal strokes cross inside."""
    boxes = []
    glyphs = [c for c in chars if c["text"].strip()]
    by_top: VerticalIndex | None = None
    for r in rects:
        w, h = r["x1"] - r["x0"], r["bottom"] - r["top"]
        if not (CHECKBOX_MIN <= w <= CHECKBOX_MAX and CHECKBOX_MIN <= h <= CHECKBOX_MAX and abs(w - h) <= 1.5):
            continue
        if not r.get("stroke") or is_mark_fill(r):
            continue
        box: Box = (r["x0"], r["top"], r["x1"], r["bottom"])
        by_top = by_top or VerticalIndex([c["top"] for c in glyphs], [c["bottom"] for c in glyphs])
        near = (glyphs[i] for i in by_top.reaching(box[1], box[3]))
        if any(inside(centre((c["x0"], c["top"], c["x1"], c["bottom"])), box) for c in near):
            continue  # a frame round a glyph (□ printed as text, a boxed number): not a form field
        cross = [s for s in strokes if _is_diagonal(s) and s["x0"] >= box[0] - 1.5 and s["x1"] <= box[2] + 1.5
                 and s["top"] >= box[1] - 1.5 and s["bottom"] <= box[3] + 1.5]
        slopes = set()
        for s in cross:
            (xa, ya), (xb, yb) = s["pts"][0], s["pts"][-1]
            slopes.add((xb - xa) * (yb - ya) > 0)
        checked = len(slopes) == 2  # one stroke each way: an X
        boxes.append(DrawnCheckbox(box, checked, [id(r)] + [id(s) for s in cross]))
    return boxes


def checkbox_char(cb: DrawnCheckbox) -> dict:
    """A pdfplumber-like char for a drawn checkbox: ☑ / ☐ at the box's place, so that it is laid out into
    the cell text in reading order like the glyph a DOCX checkbox becomes."""
    from extractors.grid import CHECKED_BOX, UNCHECKED_BOX

    x0, top, x1, bottom = cb.box
    return {"text": CHECKED_BOX if cb.checked else UNCHECKED_BOX, "x0": x0, "x1": x1, "top": top,
            "bottom": bottom, "size": bottom - top, "object_type": "char", "upright": True,
            "fontname": "drawn-checkbox"}
