"""A second reading of ruled PDF tables with camelot's lattice parser.

pdfplumber (`readers/pdf.py`) reads a ruled table from the page's vector rules, with heuristics of its own
(drawn checkboxes and strike lines are no rules, a page break's open cells are closed, overflowing lines
are settled by layout), and places every character in the cell that holds its centre. camelot reads the
same page with another PDF parser (playa) and its own rule clustering and merged-cell logic; its glyphs
are placed by their baseline (see `page_glyphs`). Where the two readings of a ruled table disagree on a
row — its cell boundaries (a rule one reader saw and the other did not, a merged cell, a row boundary) or
the text that lands in one of its cells — the row's text is not certain: the row goes to
`Table.row_doubt` and the interpreter flags the items read from it (`CAMELOT_DOUBT`).

The comparison is geometric, not by index: each reading's logical cells (merged cells joined) are matched
by their box, and their texts are compared as character counts after normalisation (NFKC, no whitespace,
no ☐/☑ pdfplumber writes for drawn boxes), so a wrap, a space or the order of lines is no doubt; camelot's
cuts around a drawn checkbox are joined. A table camelot does not find at all (it drops near-empty grids)
is not compared, never doubted.

It runs on every ruled table, not only where pdfplumber doubts a row: a row pdfplumber doubts is flagged
already, and the misreadings the second reading catches (a row that lost its text to a neighbour, a rule
one reader dropped) come with no doubt of pdfplumber's own. engine="vector" costs ~0.2 s a page (plus
~3 s to import camelot once per process) against ~0.5 s for pdfplumber's reading.
"""
from __future__ import annotations

import logging
import re
from bisect import bisect_left, bisect_right
import time
import unicodedata
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from extractors.grid import CHECKED_BOX, UNCHECKED_BOX, Table
from extractors.readers.pdf_text import BoxIndex, VerticalIndex, inside

log = logging.getLogger(__name__)

ENABLED = True  # the bench turns it off to time pdfplumber's reading alone
CAMELOT_DOUBT = ("罫線表の2通りの読み取り（pdfplumber と camelot）でこの行のセルの区切りか文字が"
                 "一致しません。質問と回答を原本で確認してください")
STRADDLE_SHARE = 0.2  # a glyph whose body lies this much beyond a cell's rule crosses that rule
TOL = 3.0  # points: two readings of the same rule
CHECKBOX_SIDE = 16.0  # points: a drawn square no larger than this inside a cell is a checkbox
MIN_TABLE_OVERLAP = 0.6  # share of the smaller table box two readings of one table must share
MIN_TWIN_SHARE = 0.5  # share of pdfplumber's cells camelot must read at the same place to compare at all
_DROP = re.compile(r"\s+")
# pdfminer's layout analysis as camelot's lattice needs it: its text lines (glyphs are taken from them), not
# the reading order of text boxes (boxes_flow), whose hierarchical grouping was a quarter of camelot's time.
# The glyphs and cells are the same; only their order in camelot's lists differs, and `compare` counts.
LAYOUT = {"boxes_flow": None}


@dataclass
class LogicalCell:
    box: tuple[float, float, float, float]  # x0, top, x1, bottom (pdfplumber's page coordinates)
    text: str
    rows: tuple[int, ...] = ()  # pdfplumber row indices the cell covers


@dataclass
class Comparison:
    """What the second reading found for one pdfplumber table."""

    table: str
    page: int
    compared: bool = False  # camelot read a table at the same place
    rows: int = 0
    rows_agreed: int = 0
    cells: int = 0
    cells_agreed: int = 0
    doubted: dict[int, str] = field(default_factory=dict)  # row -> what differed (for logs and the bench)


@dataclass
class SecondReading:
    comparisons: list[Comparison] = field(default_factory=list)
    pages: int = 0
    seconds: float = 0.0
    error: str = ""


def is_ruled(table: Table) -> bool:
    """A table pdfplumber read from a page's rules: a page table at full confidence (a scan, a CID page and
    a table read from text alignment carry less) whose cells have boxes."""
    return (table.kind == "page" and table.page is not None and table.confidence >= 1.0 and bool(table.rows)
            and any(c.bbox for row in table.rows for c in row if c.merged_into is None))


def check_ruled_tables(path: Path | str, tables: list[Table]) -> SecondReading:
    """Read the pages of `tables`' ruled tables with camelot and put the rows where the readings disagree
    into `row_doubt` (a row pdfplumber doubts already keeps its own reason)."""
    ruled = [t for t in tables if is_ruled(t)]
    result = SecondReading()
    if not ruled or not ENABLED:
        return result
    pages = sorted({t.page for t in ruled})
    start = time.perf_counter()
    try:
        found = read_camelot(Path(path), pages)
    except Exception as exc:  # noqa: BLE001 - a failed second reading leaves the first as it was
        log.warning("camelot could not read %s: %s", Path(path).name, exc)
        result.error = f"{type(exc).__name__}: {exc}"
        return result
    finally:
        result.seconds = time.perf_counter() - start
        result.pages = len(pages)
    for table in ruled:
        comparison = compare(table, found.get(table.page, []))
        result.comparisons.append(comparison)
        for r in comparison.doubted:
            table.row_doubt.setdefault(r, CAMELOT_DOUBT)
        if comparison.doubted:
            log.info("%s %s: camelot disagrees on rows %s", Path(path).name, table.name, comparison.doubted)
    return result


@dataclass
class Glyph:
    """A character as camelot's PDF parser (playa) read it, in pdfplumber's page coordinates."""

    text: str
    x: float  # horizontal centre
    y: float  # vertical centre of the glyph's body
    top: float
    bottom: float


@dataclass
class CamelotTable:
    cells: list[LogicalCell]
    glyphs: list[Glyph]  # the page's characters


def read_camelot(path: Path, pages: list[int]) -> dict[int, list[CamelotTable]]:
    """camelot's lattice tables of `pages`, each as its logical cells and the page's characters in
    pdfplumber's coordinates (camelot's own text of the cells is not used: see `page_glyphs`).

    engine="vector" reads the rules from the PDF's drawing operators (no page rendering, no Ghostscript,
    ~0.1-0.3 s a page); "raster" renders every page with pypdfium2 (~2 s a page) and misses the thin rules
    of a dense form (whole rows read as one cell), so it would doubt right readings."""
    import camelot  # heavy (OpenCV, pandas): only when a ruled table is there

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = camelot.read_pdf(str(path), pages=",".join(map(str, pages)), flavor="lattice", engine="vector",
                                 suppress_stdout=True, layout_kwargs=LAYOUT)
    out: dict[int, list[CamelotTable]] = {}
    glyphs: dict[int, list[Glyph]] = {}
    for ct in found:
        page = int(ct.page)
        if page not in glyphs:
            glyphs[page] = page_glyphs(ct)
        out.setdefault(page, []).append(CamelotTable(logical_cells(ct), glyphs[page]))
    return out


def page_glyphs(ct) -> list[Glyph]:
    """The page's characters placed by their baseline, not by the glyph box: the box depends on the
    font's descent, which the two parsers read differently for some embedded CJK fonts (playa puts the
    whole box under the baseline there), while the baseline is where the text was printed."""
    height = float(ct.pdf_size[1])
    out: list[Glyph] = []
    seen: set[tuple[str, float, float]] = set()
    for line in ct.textlines:
        for ch in getattr(line, "_objs", []):
            text = ch.get_text() if hasattr(ch, "get_text") else ""
            if not text.strip() or not hasattr(ch, "matrix"):
                continue
            a, b, c, d, _, f = ch.matrix
            size = float(getattr(ch, "size", 0) or (ch.y1 - ch.y0))
            if b == 0 and c == 0 and a > 0 and d > 0:
                low, high = f - 0.12 * size, f + 0.88 * size  # upright text: the body around the baseline
            else:
                low, high = ch.y0, ch.y1
            key = (text, round(ch.x0, 1), round(low, 1))
            if key in seen:  # a character printed twice over itself (bold by overprint)
                continue
            seen.add(key)
            out.append(Glyph(text, (ch.x0 + ch.x1) / 2, height - (low + high) / 2, height - high, height - low))
    return out


def logical_cells(ct) -> list[LogicalCell]:
    """Join camelot's elementary cells that no rule separates into the cells a reader sees."""
    grid = ct.cells
    height = float(ct.pdf_size[1])
    n_rows, n_cols = len(grid), len(grid[0]) if grid else 0
    parent = {(r, c): (r, c) for r in range(n_rows) for c in range(n_cols)}

    def root(k):
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for r in range(n_rows):
        for c in range(n_cols):
            cell = grid[r][c]
            if c + 1 < n_cols and not cell.right and not grid[r][c + 1].left:
                parent[root((r, c + 1))] = root((r, c))
            if r + 1 < n_rows and not cell.bottom and not grid[r + 1][c].top:
                parent[root((r + 1, c))] = root((r, c))
    groups: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for k in parent:
        groups.setdefault(root(k), []).append(k)
    out = []
    for members in groups.values():
        cells = [grid[r][c] for r, c in members]
        x0, x1 = min(c.x1 for c in cells), max(c.x2 for c in cells)
        y0, y1 = min(c.y1 for c in cells), max(c.y2 for c in cells)
        out.append(LogicalCell((x0, height - y1, x1, height - y0), ""))
    return out


def norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return _DROP.sub("", text.replace(CHECKED_BOX, "").replace(UNCHECKED_BOX, ""))


def plumber_cells(table: Table) -> list[LogicalCell]:
    out = []
    for r, row in enumerate(table.rows):
        for cell in row:
            if cell.merged_into is None and cell.bbox is not None:
                out.append(LogicalCell(cell.bbox, cell.text, tuple(range(r, r + max(1, cell.rowspan)))))
    return out


def _box(cells: list[LogicalCell]) -> tuple[float, float, float, float]:
    return (min(c.box[0] for c in cells), min(c.box[1] for c in cells),
            max(c.box[2] for c in cells), max(c.box[3] for c in cells))


def _overlap(a, b) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return w * h / smaller if smaller > 0 else 0.0


def _same_box(a, b) -> bool:
    return all(abs(p - q) <= TOL for p, q in zip(a, b))


def compare(table: Table, camelot_tables: list[CamelotTable]) -> Comparison:
    """Match `table`'s logical cells with camelot's by box; a row with a cell that has no twin, or whose
    twin holds other text, is doubted."""
    mine = plumber_cells(table)
    result = Comparison(table=table.name, page=table.page or 0, rows=len(table.rows), cells=len(mine))
    if not mine:
        return result
    box = _box(mine)
    twins = [ct for ct in camelot_tables if ct.cells and _overlap(box, _box(ct.cells)) >= MIN_TABLE_OVERLAP]
    if not twins:
        return result
    result.compared = True
    # camelot's table may be larger than pdfplumber's (two tables joined) or smaller: compare where both read
    inner = [c for ct in twins for c in ct.cells if _overlap(c.box, box) > 0.5]
    glyphs = sorted((g for g in twins[0].glyphs if inside((g.x, g.y), box, tol=TOL)), key=lambda g: g.x)
    corners = BoxIndex([(c.box[0], c.box[1], c.box[0], c.box[1]) for c in inner], tol=TOL + 0.5)
    near = GlyphColumns(glyphs)

    def same_boxes(cell: LogicalCell) -> list[int]:  # inner cells with cell's box, ascending as in `inner`
        return [i for i in corners.holding(cell.box[:2]) if _same_box(inner[i].box, cell.box)]

    inner_box = _box(inner) if inner else box
    twins_found = sum(1 for cell in mine if same_boxes(cell))
    if twins_found < MIN_TWIN_SHARE * len(mine):
        # Not one grid read twice but two geometries (a rotated or offset page box): nothing to compare.
        log.info("camelot's grid of %s p.%s does not line up (%d of %d cells)", table.name, table.page,
                 twins_found, len(mine))
        result.compared = False
        return result
    matched: set[int] = set()
    for cell in mine:
        twin = next((i for i in same_boxes(cell) if i not in matched), None)
        parts = [twin] if twin is not None else _checkbox_parts(cell, inner, matched)
        if not parts:
            if _overlap(cell.box, inner_box) > 0.5:
                for r in cell.rows:
                    result.doubted.setdefault(r, f"区切り {_fmt(cell.box)}")
            continue
        matched.update(parts)
        why = text_differs(cell.text, cell.box, near.reaching(cell.box))
        if why:
            for r in cell.rows + _took_text(cell, mine, glyphs):
                result.doubted.setdefault(r, why)
            continue
        result.cells_agreed += 1
    bands = row_bands(table)
    for i, c in enumerate(inner):
        if i in matched or any(_is_checkbox(c.box) and _within(c.box, m.box) and _has_checkbox(m.text) for m in mine):
            continue
        for r, (top, bottom) in bands.items():  # a camelot cell with no twin doubts its rows
            if bottom - TOL > c.box[1] and top + TOL < c.box[3]:
                result.doubted.setdefault(r, f"camelot だけの区切り {_fmt(c.box)}")
    result.rows_agreed = result.rows - len(result.doubted)
    return result


class GlyphColumns:
    """A table's glyphs (sorted by their centre's x) as `text_differs` needs them for one cell: the glyphs of the
    cell's columns whose body may reach into the cell's rows, in the order of x, so that the cell's text is
    joined in the same order as from all its columns' glyphs. Each column (a cell's x-range) is indexed by the
    glyphs' tops once; a cell then takes the band of rows that can reach it, not the whole column."""

    def __init__(self, glyphs: list[Glyph]):
        self.glyphs = glyphs
        self.at = [g.x for g in glyphs]
        self._columns: dict[tuple[float, float], tuple[int, VerticalIndex]] = {}

    def reaching(self, b) -> list[Glyph]:
        column = self._columns.get((b[0], b[2]))
        if column is None:
            start, end = bisect_left(self.at, b[0] - 0.5), bisect_right(self.at, b[2] + 0.5)
            span = self.glyphs[start:end]
            column = self._columns[(b[0], b[2])] = (start, VerticalIndex([g.top for g in span],
                                                                         [g.bottom for g in span]))
        start, index = column
        return [self.glyphs[start + i] for i in index.reaching(b[1], b[3])]


def _has_checkbox(text: str) -> bool:
    return CHECKED_BOX in text or UNCHECKED_BOX in text


def _is_checkbox(box) -> bool:
    w, h = box[2] - box[0], box[3] - box[1]
    return 0 < w <= CHECKBOX_SIDE and 0 < h <= CHECKBOX_SIDE and 0.6 <= w / h <= 1.6


def _within(inner_box, outer_box) -> bool:
    return (inner_box[0] >= outer_box[0] - TOL and inner_box[1] >= outer_box[1] - TOL
            and inner_box[2] <= outer_box[2] + TOL and inner_box[3] <= outer_box[3] + TOL)


def _checkbox_parts(cell: LogicalCell, inner: list[LogicalCell], matched: set[int]) -> list[int]:
    """camelot's cells that together make `cell` when pdfplumber found drawn checkboxes in it: camelot reads
    a box's square as table rules, so it cuts the cell around the box (pdfplumber writes the box as ☐/☑)."""
    if not _has_checkbox(cell.text):
        return []
    parts = [i for i, c in enumerate(inner) if i not in matched and _within(c.box, cell.box)]
    if len(parts) < 2 or not any(_is_checkbox(inner[i].box) for i in parts):
        return []
    return parts if _same_box(_box([inner[i] for i in parts]), cell.box) else []


def text_differs(text: str, box, glyphs: list[Glyph]) -> str:
    """Why pdfplumber's `text` of a cell is not the text camelot's parser printed in `box` ("" if it is).

    A glyph whose body lies inside the cell must be in pdfplumber's text. A glyph whose body crosses the
    cell's top or bottom rule (text that overflowed a fixed-height row) may be in it or not: pdfplumber
    settles such lines by layout (`pdf_overflow.py`, with its own doubt), and camelot's position alone says
    no more. Only a cell pdfplumber left without text while crossing glyphs are centred in it is a
    difference: the row lost its text to a neighbour. Compared as character counts after normalisation,
    so line wraps, spaces and the order of lines are no difference."""
    clear: list[str] = []
    loose: list[str] = []
    centred: list[str] = []
    for g in glyphs:
        if not box[0] - 0.5 <= g.x <= box[2] + 0.5 or g.bottom <= box[1] or g.top >= box[3]:
            continue
        body = g.bottom - g.top
        inside_cell = box[1] <= g.y <= box[3]
        if g.top < box[1] - STRADDLE_SHARE * body or g.bottom > box[3] + STRADDLE_SHARE * body:
            loose.append(g.text)
            if inside_cell:
                centred.append(g.text)
        elif inside_cell:
            clear.append(g.text)
    if not loose and sorted(norm(text)) == sorted(norm("".join(clear))):
        return ""  # the common case, the same characters and none crossing a rule (what follows would agree)
    mine = Counter(norm(text))
    must = Counter(norm("".join(clear + (centred if not mine else []))))
    may = must + Counter(norm("".join(loose)))
    missing = must - mine
    extra = mine - may
    if not missing and not extra:
        return ""
    return "文字 " + (f"pdfplumber に無い「{''.join(sorted(missing.elements()))[:20]}」" if missing else "") + \
        (f"camelot に無い「{''.join(sorted(extra.elements()))[:20]}」" if extra else "")


def _took_text(cell: LogicalCell, mine: list[LogicalCell], glyphs: list[Glyph]) -> tuple[int, ...]:
    """The rows of the cells just above and below an empty `cell` that hold the text centred in it."""
    if norm(cell.text):
        return ()
    lost = Counter(norm("".join(g.text for g in glyphs if inside((g.x, g.y), cell.box))))
    rows: tuple[int, ...] = ()
    for other in mine:
        beside = min(other.box[2], cell.box[2]) - max(other.box[0], cell.box[0]) > 0 and (
            abs(other.box[3] - cell.box[1]) <= TOL or abs(other.box[1] - cell.box[3]) <= TOL)
        if lost and beside and not lost - Counter(norm(other.text)):
            rows += other.rows
    return rows


def row_bands(table: Table) -> dict[int, tuple[float, float]]:
    """Each row's top and bottom, from its cells that span that row alone."""
    bands = {}
    for r, row in enumerate(table.rows):
        boxes = [c.bbox for c in row if c.bbox is not None and c.merged_into is None and c.rowspan == 1]
        if boxes:
            bands[r] = (min(b[1] for b in boxes), max(b[3] for b in boxes))
    return bands


def _fmt(box) -> str:
    return "(" + ",".join(f"{v:.0f}" for v in box) + ")"
