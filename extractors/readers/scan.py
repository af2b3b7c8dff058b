"""Scanned PDF pages (an image, no text layer) → one `Table(kind="page")` with OCR text and pen marks.

Steps: render at 300 dpi → upright (Tesseract OSD) and level (projection profile) → table rules and cells
(OpenCV morphology; merged cells span) → pen marks (ellipses, strike lines, ticks, shaded cells) → OCR of
every cell and of the text outside the tables in one Tesseract run, with rules and marks erased → cells
with text, marks assigned to the word they circle or strike, and bbox in PDF points.

A scan must never produce a confident wrong answer: the table's confidence is 0.5–0.8 from OCR quality,
each mark's confidence reflects its evidence (clean ellipse ~0.8, partial arc ~0.6, blob ~0.4), and a
mark whose word had to be inferred from the column layout is lowered further.

Entry point: `read_scanned_page(pdf_path, page_number) -> list[Table]`, called by the PDF reader for
pages that have no text layer.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from extractors.grid import Cell, Mark, Table
from extractors.readers.scan_image import (
    CellBox, GridBoxes, PageImage, binarise, correct_page, estimate_char_height, find_grids, find_rules,
    render_page,
)
from extractors.readers.scan_marks import (
    FoundMark, cell_fill, drop_ellipse_edges, find_checks, find_ellipses, find_strikes,
)
from extractors.readers.scan_ocr import RegionText, Token, assemble, fix_number_text, ocr_regions
from extractors.vocabulary import ANSWERS, CHOICE

SCAN_WARNING = "スキャン画像から読み取りました（要確認）"
INFERRED_FACTOR = 0.7  # confidence factor for a mark whose word came from the column layout
CHECK_GLYPHS = {"レ", "✓", "✔", "v", "V", "ν", "√", "ﾚ"}


@dataclass
class ScanStats:
    """What a page cost and found; `read_scanned_page` keeps the last one for logging and tests."""

    seconds: float = 0.0
    rotation: int = 0
    skew: float = 0.0
    n_cells: int = 0
    n_marks: int = 0
    timings: dict[str, float] = field(default_factory=dict)


last_stats = ScanStats()


@dataclass
class _Unit:
    """A place text and marks go: a table cell, or a text line outside the tables."""

    box: tuple[int, int, int, int]
    region: RegionText = field(default_factory=RegionText)
    marks: list[Mark] = field(default_factory=list)
    cellbox: CellBox | None = None
    grid_index: int = -1


def read_scanned_page(pdf_path: Path, page_number: int) -> list[Table]:
    """Read one image-only page of a PDF into a single page table."""
    global last_stats
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    page = correct_page(render_page(Path(pdf_path), page_number))
    timings["orient"] = time.perf_counter() - t0

    t = time.perf_counter()
    binary = binarise(page.gray)
    char_h = estimate_char_height(binary, page.dpi)
    rules = find_rules(binary, char_h)
    grids = find_grids(rules, char_h)
    rule_mask = cv2.dilate(rules.both, cv2.getStructuringElement(cv2.MORPH_RECT, (5, 5)))
    ink = cv2.bitwise_and(binary, cv2.bitwise_not(rule_mask))
    strikes = find_strikes(ink, char_h, rules.horizontal)
    # A flat pen loop's top or bottom passes for a strike; erasing it would break the loop. Loops found
    # with nothing erased first clear those false strikes, then the real strikes are erased for the search.
    strikes = drop_ellipse_edges(strikes, [e for e in find_ellipses(ink, char_h) if e.confidence >= 0.6])
    ellipses = find_ellipses(ink, char_h, strikes)
    strikes = drop_ellipse_edges(strikes, ellipses)
    timings["layout"] = time.perf_counter() - t

    t = time.perf_counter()
    units = _cell_units(grids, ink, char_h)
    erase = rule_mask.copy()
    for e in ellipses:
        if e.confidence < 0.6 and not any(_inside(e.box, g.box) for g in grids):
            continue  # a blob outside the tables is most likely a large title glyph: keep it for OCR
        # The contour is the stroke's outer edge: a thick line over it removes the whole pen stroke.
        cv2.drawContours(erase, [e.pixels], -1, 255, thickness=max(9, int(char_h * 0.5)))
    for s in strikes:
        x0, y0, x1, y1 = s.box
        erase[y0:y1 + 1, x0:x1 + 1] = 255
    outside = _outside_regions(ink, erase, grids, char_h)
    keep = cv2.dilate(cv2.bitwise_and(ink, cv2.bitwise_not(erase)), np.ones((3, 3), np.uint8))
    inked = [u for u in units if _has_ink(keep, u.box, char_h)]
    psms = [7 if _single_line(keep, u.box, char_h) else 6 for u in inked] + [6] * len(outside)
    words = ocr_regions(page.gray, [u.box for u in inked] + outside, keep, psms)
    for unit, ws in zip(inked, words):
        unit.region = assemble(ws)
    text_units = [u for ws in words[len(inked):] for u in _line_units(assemble(ws))]
    timings["ocr"] = time.perf_counter() - t

    t = time.perf_counter()
    all_units = units + text_units
    templates = _column_templates(units)
    warnings = [SCAN_WARNING] + page.warnings
    for mark in ellipses + strikes:
        unit = _unit_for(mark, all_units)
        if unit is not None:
            _attach(mark, unit, templates, warnings, _row_words(unit, units))
    paper = float(np.median(page.gray[::8, ::8]))
    for unit in units:
        fill = cell_fill(page.gray, page.rgb, ink, unit.box, paper)
        if fill is not None:
            unit.marks.append(Mark("fill", None, fill.confidence, fill.detail))
        if not unit.marks and unit.region.text.strip() in CHECK_GLYPHS:
            check = find_checks(ink, char_h, unit.box)
            if check is not None:
                unit.marks.append(Mark("check", None, check.confidence, check.detail))
    if not grids:
        warnings.append("表の罫線が見つかりませんでした（本文として読み取り）")
    rows = _rows(grids, units, text_units, page)
    confs = [u.region.confidence for u in all_units if u.region.confidence is not None]
    ocr_conf = statistics.fmean(confs) if confs else 0.0
    confidence = round(min(0.8, max(0.5, 0.5 + 0.3 * ocr_conf)), 2)
    timings["assemble"] = time.perf_counter() - t

    last_stats = ScanStats(seconds=time.perf_counter() - t0, rotation=page.rotation, skew=page.skew,
                           n_cells=len(units), n_marks=sum(len(u.marks) for u in all_units), timings=timings)
    return [Table(name=f"p.{page_number}", rows=rows, kind="page", page=page_number, warnings=warnings,
                  confidence=confidence)]


# ------------------------------------------------------------------------------------------------ units

def _cell_units(grids: list[GridBoxes], ink: np.ndarray, char_h: float) -> list[_Unit]:
    units = []
    inset = 2
    for gi, grid in enumerate(grids):
        for cb in grid.cells:
            box = (cb.x0 + inset, cb.y0 + inset, cb.x1 - inset, cb.y1 - inset)
            units.append(_Unit(box=box, cellbox=cb, grid_index=gi))
    return units


def _outside_regions(ink: np.ndarray, erase: np.ndarray, grids: list[GridBoxes],
                     char_h: float) -> list[tuple[int, int, int, int]]:
    """Text blocks outside the tables (titles, vendor names, notes): ink merged into blocks by dilation."""
    rest = cv2.bitwise_and(ink, cv2.bitwise_not(erase))
    for g in grids:
        gx0, gy0, gx1, gy1 = g.box
        rest[gy0:gy1 + 1, gx0:gx1 + 1] = 0
    kx, ky = max(int(char_h * 1.5), 9), max(int(char_h * 0.6), 5)
    merged = cv2.dilate(rest, cv2.getStructuringElement(cv2.MORPH_RECT, (kx, ky)))
    n, _labels, stats, _ = cv2.connectedComponentsWithStats(merged, connectivity=8)
    h, w = ink.shape
    regions = []
    for i in range(1, n):
        x, y, bw, bh, area = (int(v) for v in stats[i])
        if bh < char_h * 0.8 or bw < char_h * 0.8 or bh > h * 0.5:
            continue
        pad = int(char_h * 0.3)
        regions.append((max(x - pad, 0), max(y - pad, 0), min(x + bw + pad, w - 1), min(y + bh + pad, h - 1)))
    return sorted(regions, key=lambda b: (b[1], b[0]))


def _has_ink(keep: np.ndarray, box: tuple[int, int, int, int], char_h: float) -> bool:
    x0, y0, x1, y1 = box
    return cv2.countNonZero(keep[y0:y1 + 1, x0:x1 + 1]) >= char_h * 2


def _single_line(keep: np.ndarray, box: tuple[int, int, int, int], char_h: float) -> bool:
    """Ink rows span at most one text line: Tesseract reads such a cell better as one line (psm 7)."""
    x0, y0, x1, y1 = box
    rows = np.flatnonzero(keep[y0:y1 + 1, x0:x1 + 1].any(axis=1))
    return rows.size > 0 and rows[-1] - rows[0] <= char_h * 1.8


def _line_units(region: RegionText) -> list[_Unit]:
    """Each OCR line outside the tables becomes a one-cell row, with its own tokens."""
    units = []
    offset = 0
    for text, box in region.lines:
        start, end = offset, offset + len(text)
        offset = end + 1  # the "\n"
        tokens = [Token(t.text, (t.span[0] - start, t.span[1] - start), t.box, t.fixed_from, t.conf)
                  for t in region.tokens if start <= t.span[0] and t.span[1] <= end]
        units.append(_Unit(box=box, region=RegionText(text=text, tokens=tokens, lines=[(text, box)],
                                                      confidence=region.confidence)))
    return units


def _unit_for(mark: FoundMark, units: list[_Unit]) -> _Unit | None:
    cx, cy = mark.centre
    for u in units:
        x0, y0, x1, y1 = u.box
        if x0 <= cx <= x1 and y0 <= cy <= y1:
            return u
    # Largest overlap otherwise (a mark drawn across a rule).
    best, best_area = None, 0
    mx0, my0, mx1, my1 = mark.box
    for u in units:
        x0, y0, x1, y1 = u.box
        area = max(0, min(x1, mx1) - max(x0, mx0)) * max(0, min(y1, my1) - max(y0, my0))
        if area > best_area:
            best, best_area = u, area
    return best


# ------------------------------------------------------------------------------------------------ marks

def _column_templates(units: list[_Unit]) -> dict[tuple[int, int, int], list[tuple[str, float, float]]]:
    """Option words printed in each column, as (word, relative x centre, relative y centre) medians,
    learnt from the rows where OCR read them: used when OCR lost the word a mark covers."""
    seen: dict[tuple[int, int, int], dict[str, list[tuple[float, float]]]] = {}
    for u in units:
        if u.cellbox is None:
            continue
        key = (u.grid_index, u.cellbox.col, u.cellbox.colspan)
        x0, y0, x1, y1 = u.box
        for tok in u.region.tokens:
            if tok.text in ANSWERS:
                cx, cy = tok.centre
                seen.setdefault(key, {}).setdefault(tok.text, []).append(
                    ((cx - x0) / max(x1 - x0, 1), (cy - y0) / max(y1 - y0, 1)))
    templates = {}
    for key, words in seen.items():
        entries = [(w, statistics.median(p[0] for p in pos), statistics.median(p[1] for p in pos))
                   for w, pos in words.items() if len(pos) >= 2]
        if entries:
            templates[key] = sorted(entries, key=lambda e: (round(e[2], 1), e[1]))
    return templates


def _row_words(unit: _Unit, units: list[_Unit]) -> set[str]:
    """Option words OCR read in the cells of the unit's table row (the unit itself included)."""
    if unit.cellbox is None:
        return {t.text for t in unit.region.tokens if t.text in ANSWERS}
    row = [u for u in units if u.grid_index == unit.grid_index and u.cellbox is not None
           and u.cellbox.row <= unit.cellbox.row < u.cellbox.row + u.cellbox.rowspan]
    return {t.text for u in row for t in u.region.tokens if t.text in ANSWERS}


def _attach(mark: FoundMark, unit: _Unit, templates: dict, warnings: list[str],
            row_words: set[str] = frozenset()) -> None:
    region = unit.region
    tokens = region.tokens
    if mark.kind == "circle":
        hit = [t for t in tokens if mark.encloses(*t.centre, margin=1.1)]
    else:  # strike: the line runs through the token's middle over most of its width
        sx0, sy0, sx1, sy1 = mark.box
        sy = (sy0 + sy1) / 2
        hit = [t for t in tokens if t.box[1] <= sy <= t.box[3]
               and min(sx1, t.box[2]) - max(sx0, t.box[0]) >= 0.5 * max(t.box[2] - t.box[0], 1)]
    confidence = mark.confidence
    detail = mark.detail
    if hit and any(t.text in ANSWERS for t in hit) or (hit and not _template_for(unit, templates)):
        if not any(t.text in ANSWERS for t in hit) and min(t.conf for t in hit) < 0.6:
            # Marked text that OCR could barely read: the mark is real, the word may not be.
            confidence = round(confidence * 0.6, 2)
            detail += "（語の読み取りが不確か）"
        if mark.kind == "strike":
            for t in hit:
                unit.marks.append(Mark("strike", t.span, confidence, detail))
            return
        span = (min(t.span[0] for t in hit), max(t.span[1] for t in hit))
        if len(hit) > 1:
            detail += "（複数の語を囲む）"
        unit.marks.append(Mark("circle", span, confidence, detail))
        return
    inferred = _infer_from_template(mark, unit, templates, row_words)
    if inferred is not None:
        words, text, factor = inferred
        if text != region.text:
            warnings.append(f"{_ref(unit)}: 印の付いた語が読み取れないため、同じ列の配置から補いました")
            unit.region = _retext(unit, text)
        for w in words:
            start = unit.region.text.find(w)
            unit.marks.append(Mark(mark.kind, (start, start + len(w)), round(confidence * factor, 2),
                                   detail + "（位置から推定）"))
        return
    # Nothing to tie the mark to a word: keep it on the whole cell, with little weight.
    unit.marks.append(Mark(mark.kind, None, round(min(confidence, 0.4), 2), detail + "（語を特定できず）"))


def _template_for(unit: _Unit, templates: dict) -> list | None:
    if unit.cellbox is None:
        return None
    return templates.get((unit.grid_index, unit.cellbox.col, unit.cellbox.colspan))


def _infer_from_template(mark: FoundMark, unit: _Unit, templates: dict,
                         row_words: set[str] = frozenset()) -> tuple[list[str], str, float] | None:
    """The option word(s) under a mark, from where the column prints them: (words, cell text, factor).

    Words a column prints at the same place in different rows (はい in one row, 該当 in another) are
    alternatives: the row's own option words (いいえ/対象外 or 非該当 in its other cells) choose between
    them, and without such a clue the word is not inferred.
    The factor lowers the mark's confidence: little for a column that prints one word (every row says
    the same), more when several words share the cell, most when OCR read none of them here."""
    template = _template_for(unit, templates)
    if not template:
        return None
    template = _row_template(template, row_words)
    if not template:
        return None
    x0, y0, x1, y1 = unit.box
    positions = [(w, x0 + rx * (x1 - x0), y0 + ry * (y1 - y0)) for w, rx, ry in template]
    if mark.kind == "circle":
        words = [w for w, px, py in positions if mark.encloses(px, py, margin=1.15)]
        if len(words) > 1:
            cx, cy = mark.centre
            words = [min(positions, key=lambda p: (p[1] - cx) ** 2 + (p[2] - cy) ** 2)[0]]
    else:
        sx0, sy0, sx1, sy1 = mark.box
        words = [w for w, px, py in positions if sx0 <= px <= sx1]
    if not words:
        return None
    recognised = {t.text for t in unit.region.tokens if t.text in ANSWERS}
    template_words = [w for w, _, _ in template]
    if len(template_words) == 1:
        factor = 0.9
    elif recognised & (set(template_words) - set(words)):
        factor = 0.85  # the other words of this row were read where the column prints them
    else:
        factor = INFERRED_FACTOR
    if all(w in unit.region.text for w in words):
        return words, unit.region.text, factor
    if not recognised <= set(template_words):
        return None
    # OCR lost option words; the row prints the same options as the rest of its column.
    return words, "・".join(template_words), factor


ANSWER_SET = {w: CHOICE[w].answer_set for w in ANSWERS}
SAME_PLACE = 0.12  # relative distance under which two template words are printed at the same place


def _row_template(template: list[tuple[str, float, float]], row_words: set[str]) -> list[tuple[str, float, float]]:
    """The column template reduced to what this row prints: of words printed at the same place in
    different rows, the one of the row's answer set (はい/いいえ/対象外 or 該当/非該当); [] when the row
    gives no clue to choose."""
    groups: list[list[tuple[str, float, float]]] = []
    for entry in template:
        for g in groups:
            if any(abs(entry[1] - e[1]) < SAME_PLACE and abs(entry[2] - e[2]) < SAME_PLACE for e in g):
                g.append(entry)
                break
        else:
            groups.append([entry])
    if all(len(g) == 1 for g in groups):
        return template
    sets = {ANSWER_SET[w] for w in row_words}
    if len(sets) != 1:
        return []
    (row_set,) = sets
    chosen = []
    for g in groups:
        fitting = [e for e in g if ANSWER_SET[e[0]] == row_set]
        if len(fitting) == 1:
            chosen.append(fitting[0])
        elif len(fitting) > 1:
            return []
    return chosen


def _retext(unit: _Unit, text: str) -> RegionText:
    x0, y0, x1, y1 = unit.box
    return RegionText(text=text, tokens=[], lines=[(text, unit.box)], confidence=unit.region.confidence)


# ------------------------------------------------------------------------------------------------ rows

def _ref(unit: _Unit) -> str:
    return f"x={unit.box[0]},y={unit.box[1]}px"


def _cell(unit: _Unit, page: PageImage, rowspan: int = 1, colspan: int = 1) -> Cell:
    bbox = page.to_page_points(unit.box)
    return Cell(text=fix_number_text(unit.region.text), marks=unit.marks, rowspan=rowspan, colspan=colspan,
                ref=f"x={bbox[0]:.0f},y={bbox[1]:.0f}", bbox=bbox)


def _rows(grids: list[GridBoxes], units: list[_Unit], text_units: list[_Unit], page: PageImage) -> list[list[Cell]]:
    """Tables and outside text lines in reading order (top to bottom)."""
    blocks: list[tuple[int, list[list[Cell]]]] = []
    for gi, grid in enumerate(grids):
        rows = [[Cell() for _ in range(grid.n_cols)] for _ in range(grid.n_rows)]
        for unit in (u for u in units if u.grid_index == gi):
            cb = unit.cellbox
            rows[cb.row][cb.col] = _cell(unit, page, cb.rowspan, cb.colspan)
            for r in range(cb.row, min(cb.row + cb.rowspan, grid.n_rows)):
                for c in range(cb.col, min(cb.col + cb.colspan, grid.n_cols)):
                    if (r, c) != (cb.row, cb.col):
                        rows[r][c] = Cell(merged_into=(cb.row, cb.col))
        blocks.append((grid.box[1], rows))
    lines = [u for u in text_units if u.region.text.strip() and not any(_inside(u.box, g.box) for g in grids)]
    for line in _visual_lines(lines):
        blocks.append((min(u.box[1] for u in line), [[_line_cell(line, page)]]))
    blocks.sort(key=lambda b: b[0])
    return [row for _, rows in blocks for row in rows]


def _line_cell(line: list[_Unit], page: PageImage) -> Cell:
    """One page line outside the tables as one cell: its text blocks left to right, joined by a space
    (「事業者名： 株式会社…」 reads as one 「label：value」 line), marks moved along with their text."""
    if len(line) == 1:
        return _cell(line[0], page)
    parts = [_cell(u, page) for u in line]
    text, marks = "", []
    for part in parts:
        offset = len(text) + (1 if text else 0)
        text = f"{text} {part.text}" if text else part.text
        marks += [Mark(m.kind, (m.span[0] + offset, m.span[1] + offset) if m.span else None, m.confidence,
                       m.detail) for m in part.marks]
    boxes = [p.bbox for p in parts if p.bbox]
    bbox = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))
    return Cell(text=text, marks=marks, ref=parts[0].ref, bbox=bbox)


def _visual_lines(units: list[_Unit]) -> list[list[_Unit]]:
    """Text lines outside the tables grouped by the line of the page they sit on, each left to right:
    a label and its value (「事業者名：」 and the name after a gap) are separate text blocks whose tops
    differ by a few pixels, and sorting by top alone can put the value above its label."""
    groups: list[list[_Unit]] = []
    for unit in sorted(units, key=lambda u: (u.box[1] + u.box[3]) / 2):
        cy = (unit.box[1] + unit.box[3]) / 2
        for group in groups:
            if any(u.box[1] <= cy <= u.box[3] and _overlap_y(u.box, unit.box) >= 0.5 for u in group):
                group.append(unit)
                break
        else:
            groups.append([unit])
    return [sorted(g, key=lambda u: u.box[0]) for g in groups]


def _overlap_y(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Vertical overlap of two boxes as a share of the shorter one's height."""
    inter = min(a[3], b[3]) - max(a[1], b[1])
    return inter / max(min(a[3] - a[1], b[3] - b[1]), 1)


def _inside(box: tuple[int, int, int, int], outer: tuple[int, int, int, int]) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return outer[0] <= cx <= outer[2] and outer[1] <= cy <= outer[3]
