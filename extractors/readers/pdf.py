"""Born-digital PDF reader: `read_pdf(path) -> Grid`.

Per page: the ruled table(s) as `Table(kind="page")` with merged cells, bboxes and refs, the text
outside them as `Table(kind="text")` (one row per visual line, split at large gaps) in reading
order, and the marks that are drawn rather than typed (ellipses, strike lines, fills).
Pages without a text layer go to the OCR reader (`extractors.readers.scan`).
"""
from __future__ import annotations

import logging
from bisect import bisect_left
from pathlib import Path

import pdfplumber
from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

from extractors.grid import Cell, Grid, Table
from extractors.model import ExtractionError
from extractors.readers.glyphs import decode_pdf_chars
from extractors.readers.pdf_camelot import check_ruled_tables
from extractors.readers.pdf_marks import (
    MarkTarget, checkbox_char, find_drawn_checkboxes, horizontal_segments, is_mark_fill, is_round_shape,
    place_circle, place_fill, place_strikes,
)
from extractors.readers.pdf_objects import drop_parser_debug_calls, use_fast_objects
from extractors.readers.pdf_overflow import OVERFLOW_DOUBT, settle_overflow
from extractors.readers.pdf_text import (
    Box, BoxIndex, LaidText, VerticalIndex, centre, group_lines, inside, is_cid, lay_out, line_text, split_segments,
    unique_chars,
)

log = logging.getLogger(__name__)

MAX_PAGES = 300
MAX_PAGE_SIDE = 6000.0  # points (A0 is 3370): larger is no form
MAX_FILE_BYTES = 200 * 1024 * 1024
CID_WARNING = "文字コードを読み取れないフォントがあります"
TABLE_SETTINGS = {
    "vertical_strategy": "lines", "horizontal_strategy": "lines",
    "snap_tolerance": 3, "join_tolerance": 3, "intersection_tolerance": 3, "edge_min_length": 3,
}


def _close_quietly(pdf) -> None:
    """pdfplumber's close() can itself raise on a malformed file; the reader's own error must win."""
    try:
        pdf.close()
    except Exception as exc:  # noqa: BLE001 - nothing left to read from a broken file
        log.debug("closing %s failed: %s", pdf, exc)


def read_pdf(path: Path | str) -> Grid:
    path = Path(path)
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ExtractionError("PDF が大きすぎます（200MB 超）。分割してお送りください。", kind="too_large")
    drop_parser_debug_calls()
    try:
        pdf = pdfplumber.open(path)
    except Exception as exc:  # pdfplumber wraps pdfminer's errors in PdfminerException
        causes = (exc, *exc.args)
        if any(isinstance(c, (PDFPasswordIncorrect, PDFEncryptionError)) for c in causes):
            raise ExtractionError("PDF がパスワードで保護されているため読み取れません。保護を解除した PDF を"
                                  "ご提出いただくよう依頼してください。", kind="encrypted") from exc
        raise ExtractionError(f"PDF が壊れているため読み取れません（{type(exc).__name__}）。", kind="corrupt") from exc
    try:
        try:
            pages = pdf.pages
        except Exception as exc:
            raise ExtractionError(f"PDF が壊れているため読み取れません（{type(exc).__name__}）。",
                                  kind="corrupt") from exc
        if len(pages) > MAX_PAGES:
            raise ExtractionError(f"PDF のページ数が多すぎます（{len(pages)} ページ、上限 {MAX_PAGES}）。",
                                  kind="too_large")
        if not pages:
            raise ExtractionError("PDF にページがありません。", kind="empty")
        tables: list[Table] = []
        warnings: list[str] = []
        for n, page in enumerate(pages, start=1):
            if max(page.width, page.height) > MAX_PAGE_SIDE:
                raise ExtractionError(f"PDF のページサイズが大きすぎます（p.{n}）。", kind="too_large")
            try:
                page_tables = read_page(use_fast_objects(page), n, path)
            except (ExtractionError, MemoryError):  # out of memory: the file is too large, not one page broken
                raise
            except Exception as exc:  # one broken page must not lose the others
                log.warning("page %s of %s failed: %s", n, path.name, exc)
                page_tables = [Table(name=f"p.{n}", rows=[], kind="page", page=n, confidence=0.0,
                                     warnings=[f"ページを読み取れませんでした（{type(exc).__name__}）"])]
            for t in page_tables:
                warnings += [f"p.{n}: {w}" for w in t.warnings if f"p.{n}: {w}" not in warnings]
            tables += page_tables
    finally:
        _close_quietly(pdf)
    check_ruled_tables(path, tables)  # camelot's second reading: rows where it disagrees go to row_doubt
    return Grid(source=path.name, format="pdf", tables=tables, warnings=warnings)


# --------------------------------------------------------------------------- one page


def read_page(page, n: int, path: Path) -> list[Table]:
    page = unique_chars(page)
    all_chars = decode_pdf_chars(page.chars)  # Wingdings boxes and checks as ☑ ☐ ✓
    cid: list[dict] = []
    chars: list[dict] = []
    for c in all_chars:
        (cid if is_cid(c["text"]) else chars).append(c)
    visible = [c for c in chars if c["text"].strip()]
    cid_share = len(cid) / max(1, len(cid) + len(visible))
    if not visible and (page.images or cid):
        return _scan_page(path, n, reason=CID_WARNING if cid else "")
    if cid_share > 0.5:
        return _scan_page(path, n, reason=CID_WARNING)
    tables = _vector_page(page, n, chars, cid_share)
    _doubt_images_over_cells(tables, page.images or [])
    return tables


IMAGE_DOUBT = "表の上に画像が貼り付けられている"


def _doubt_images_over_cells(tables: list[Table], images: list[dict]) -> None:
    """A picture over a table (a pasted ✓ or ○ stamp) is no text and no vector mark: an empty answer under it
    is not certain. The table says so (`mark_doubt`), and the interpreter flags its empty answers."""
    for table in tables:
        boxes = [c.bbox for row in table.rows for c in row if c.bbox]
        if not boxes:
            continue
        x0, top = min(b[0] for b in boxes), min(b[1] for b in boxes)
        x1, bottom = max(b[2] for b in boxes), max(b[3] for b in boxes)
        over = [im for im in images
                if im.get("x0", 0) < x1 and im.get("x1", 0) > x0 and im.get("top", 0) < bottom
                and im.get("bottom", 0) > top]
        if over:
            table.mark_doubt = IMAGE_DOUBT
            table.warnings.append(f"表の上に画像が {len(over)} 個あります（印が画像の場合は読み取れません）")


def _scan_page(path: Path, n: int, reason: str) -> list[Table]:
    from extractors.readers.scan import read_scanned_page  # local: OpenCV and Tesseract only for image pages

    tables = read_scanned_page(path, n)
    from extractors.readers import scan

    st = scan.last_stats
    log.info("file %s page %d: read as a scanned image (OCR) in %.2fs, rotation %d, skew %.1f, %d cells, %d marks",
             path.name, n, st.seconds, st.rotation, st.skew, st.n_cells, st.n_marks)
    if reason:
        for t in tables:
            if reason not in t.warnings:
                t.warnings.append(reason)
    return tables


def _vector_page(page, n: int, chars: list[dict], cid_share: float) -> list[Table]:
    checkboxes = find_drawn_checkboxes(page.rects, page.lines + page.curves, chars)
    checkbox_parts = {k for cb in checkboxes for k in cb.parts}
    chars = chars + [checkbox_char(cb) for cb in checkboxes]
    segs = horizontal_segments(page.lines, [r for r in page.rects if id(r) not in checkbox_parts])
    verticals = [e for e in page.edges if e.get("orientation") == "v"]
    by_top = VerticalIndex([c["top"] for c in chars], [c["bottom"] for c in chars])
    strike_segs = [s for s in segs if _crosses_text(s, chars, by_top, verticals)]
    ruled = page.filter(lambda obj: id(obj) not in checkbox_parts and _is_ruling(obj, strike_segs))
    settings = dict(TABLE_SETTINGS, explicit_horizontal_lines=_closing_lines(ruled.edges))
    found = [t for t in ruled.find_tables(settings) if len(t.cells) >= 2]
    found.sort(key=lambda t: (t.bbox[1], t.bbox[0]))

    blocks: list[tuple[float, Table, list[MarkTarget]]] = []
    used: set[int] = set()
    for k, ft in enumerate(found, start=1):
        name = f"p.{n}" if k == 1 else f"p.{n} 表{k}"
        table, targets, ids = _grid_table(ft, chars, n, name)
        used |= ids
        blocks.append((ft.bbox[1], table, targets))
    rest = [c for c in chars if id(c) not in used]
    if not found:
        aligned = _aligned_table(rest, n)
        if aligned is not None:
            table, targets, ids = aligned
            used |= ids
            rest = [c for c in chars if id(c) not in used]
            top = min(c.bbox[1] for r in table.rows for c in r if c.bbox)
            blocks.append((top, table, targets))
    table_boxes = [ft.bbox for ft in found]
    blocks += _text_blocks(rest, n, table_boxes)

    targets = [t for _, _, ts in blocks for t in ts]
    for shape in [s for s in page.curves if id(s) not in checkbox_parts] + [r for r in page.rects if _is_rounded(r)]:
        if is_round_shape(shape):
            place_circle(shape, targets)
    place_strikes(strike_segs, targets)
    for rect in page.rects:
        if is_mark_fill(rect) and not _is_rounded(rect):
            place_fill(rect, targets)
    for _, table, _ in blocks:
        _sort_marks(table)

    blocks.sort(key=lambda b: b[0])
    tables = [t for _, t, _ in blocks]
    if cid_share > 0:
        for t in tables:
            t.warnings.append(CID_WARNING)
            t.confidence = min(t.confidence, max(0.1, 0.5 * (1 - cid_share)))
        if not tables:
            tables = [Table(name=f"p.{n}", rows=[], kind="page", page=n, confidence=0.1, warnings=[CID_WARNING])]
    return tables


def _closing_lines(edges: list[dict], tol: float = 2.0) -> list[dict]:
    """Horizontal rules a page break cut off: a merged cell (a section label spanning many rows) that runs
    over the end of a page has its two sides printed but no bottom rule, and no top rule on the next page,
    so the table finder would drop the cell and its text. Where two or more vertical rules end at the same
    height with no horizontal rule there, close them with a line between the outermost of them."""
    hs = [e for e in edges if e.get("orientation") == "h"]
    vs = [e for e in edges if e.get("orientation") == "v" and e["bottom"] - e["top"] >= 6]
    hs_by_top = VerticalIndex([h["top"] for h in hs], [h["bottom"] for h in hs])

    def ruled_at(y: float, x: float) -> bool:
        near = (hs[i] for i in hs_by_top.reaching(y - tol, y + tol))
        return any(abs(h["top"] - y) <= tol and h["x0"] - tol <= x <= h["x1"] + tol for h in near)

    ends: list[tuple[float, float, bool]] = []  # (y, x, open) for both ends of every vertical rule
    for v in vs:
        for y in (v["top"], v["bottom"]):
            ends.append((y, v["x0"], not ruled_at(y, v["x0"])))
    ends.sort()
    lines = []
    i = 0
    while i < len(ends):
        j = i
        while j + 1 < len(ends) and ends[j + 1][0] - ends[i][0] <= tol:
            j += 1
        group = sorted(ends[i:j + 1], key=lambda e: e[1])
        for k, (y, x, is_open) in enumerate(group):
            if not is_open or len(group) < 2:
                continue
            other = group[k + 1] if k + 1 < len(group) else group[k - 1]
            if abs(other[1] - x) < 3:
                continue
            x0, x1 = sorted((x, other[1]))
            lines.append({"object_type": "line", "x0": x0, "x1": x1, "top": y, "bottom": y,
                          "width": x1 - x0, "height": 0.0})
        i = j + 1
    return lines


def _is_rounded(rect: dict) -> bool:
    path = rect.get("path") or []
    return any(seg[0] == "c" for seg in path)


def _crosses_text(seg, chars: list[dict], by_top: VerticalIndex, verticals: list[dict]) -> bool:
    """A stroke through the middle of some characters, as long as they are: a strike, not a rule."""
    x0, x1, ya, yb = seg
    y = (ya + yb) / 2
    crossed = []
    for c in (chars[i] for i in by_top.reaching(y, y)):
        h = c["bottom"] - c["top"]
        if (c["text"].strip() and c["top"] + 0.2 * h <= y <= c["bottom"] - 0.15 * h
                and min(x1, c["x1"]) - max(x0, c["x0"]) > 0.3 * (c["x1"] - c["x0"])):
            crossed.append(c)
    if not crossed:
        return False
    size = max(c["bottom"] - c["top"] for c in crossed)
    extent = max(c["x1"] for c in crossed) - min(c["x0"] for c in crossed)
    if x1 - x0 > extent + 2 * size + 4:
        return False

    def touches(x: float) -> bool:
        return any(abs(v["x0"] - x) <= 1.0 and v["top"] - 1 <= y <= v["bottom"] + 1 for v in verticals)

    return not (touches(x0) and touches(x1))  # a rule joins the borders at both ends


def _is_ruling(obj: dict, strike_segs) -> bool:
    kind = obj.get("object_type")
    if kind == "curve":
        return not is_round_shape(obj) and not any(seg[0] == "c" for seg in (obj.get("path") or []))
    if kind == "rect":
        if _is_rounded(obj):
            return False
        if is_mark_fill(obj) and not obj.get("stroke"):
            return False  # a colour fill: a mark or shading, its borders are drawn separately
        h = obj["bottom"] - obj["top"]
        if h <= 1.5:
            y = (obj["top"] + obj["bottom"]) / 2
            return not any(abs((s[2] + s[3]) / 2 - y) < 0.3 and abs(s[0] - obj["x0"]) < 0.3 for s in strike_segs)
        return True
    if kind == "line":
        y = (obj["top"] + obj["bottom"]) / 2
        return not any(abs((s[2] + s[3]) / 2 - y) < 0.6 and abs(s[0] - obj["x0"]) < 0.6 for s in strike_segs)
    return True


# --------------------------------------------------------------------------- ruled tables


def _cluster(values: list[float], tol: float = 2.0) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if out and v - out[-1] <= tol:
            continue
        out.append(v)
    return out


def _index(bounds: list[float], v: float) -> int:
    """The index of the bound nearest to `v` (the lower one on a tie); `bounds` ascending, as `_cluster` gives."""
    i = bisect_left(bounds, v)
    if i == 0 or (i < len(bounds) and abs(bounds[i] - v) < abs(bounds[i - 1] - v)):
        return min(i, len(bounds) - 1)
    return i - 1


def _grid_table(ft, chars: list[dict], n: int, name: str) -> tuple[Table, list[MarkTarget], set[int]]:
    cells = [tuple(c) for c in ft.cells]
    xs = _cluster([c[0] for c in cells] + [c[2] for c in cells])
    ys = _cluster([c[1] for c in cells] + [c[3] for c in cells])
    n_rows, n_cols = max(1, len(ys) - 1), max(1, len(xs) - 1)
    grid: list[list[Cell | None]] = [[None] * n_cols for _ in range(n_rows)]
    table_cells: list[tuple[int, int, Box]] = []
    for box in cells:
        c0, c1 = _index(xs, box[0]), _index(xs, box[2])
        r0, r1 = _index(ys, box[1]), _index(ys, box[3])
        if c1 <= c0 or r1 <= r0 or grid[r0][c0] is not None:
            continue
        grid[r0][c0] = Cell(rowspan=r1 - r0, colspan=c1 - c0, bbox=box)
        table_cells.append((r0, c0, box))
        for r in range(r0, r1):
            for c in range(c0, c1):
                if (r, c) != (r0, c0) and grid[r][c] is None:
                    grid[r][c] = Cell(merged_into=(r0, c0))
    # characters go to the smallest cell holding their centre
    by_cell: dict[tuple[int, int], list[dict]] = {}
    used: set[int] = set()
    tx0, ttop, tx1, tbot = ft.bbox
    index = BoxIndex([b for _, _, b in table_cells], tol=0.5)  # a margin over the test below
    for ch in chars:
        p = centre((ch["x0"], ch["top"], ch["x1"], ch["bottom"]))
        if not inside(p, (tx0, ttop, tx1, tbot), tol=0.5):
            continue
        holders = [table_cells[i] for i in index.holding(p) if inside(p, table_cells[i][2], tol=0.2)]
        if not holders:
            continue
        r, c, _ = min(holders, key=lambda h: (h[2][2] - h[2][0]) * (h[2][3] - h[2][1]))
        by_cell.setdefault((r, c), []).append(ch)
        used.add(id(ch))
    moved, doubtful = settle_overflow(table_cells, by_cell)
    targets: list[MarkTarget] = []
    rows: list[list[Cell]] = []
    for r in range(n_rows):
        row = []
        for c in range(n_cols):
            cell = grid[r][c] or Cell()
            cell.ref = f"{name} 行{r + 1} 列{c + 1}"
            if cell.merged_into is None and cell.bbox is not None:
                laid = lay_out(by_cell.get((r, c), []), cell.bbox)
                cell.text = laid.text
                targets.append(MarkTarget(cell.bbox, laid, cell.marks))
            row.append(cell)
        rows.append(row)
    table = Table(name=name, rows=rows, kind="page", page=n)
    if moved or doubtful:
        table.warnings.append("セルからはみ出した文字があり、行を位置から判断しました")
    table.row_doubt = {r: OVERFLOW_DOUBT for r in doubtful}
    return table, targets, used


# --------------------------------------------------------------------------- text outside tables


def _text_blocks(chars: list[dict], n: int, table_boxes: list[Box]) -> list[tuple[float, Table, list[MarkTarget]]]:
    """Visual lines outside tables, grouped into one text Table per gap between tables."""
    lines = [ln for ln in group_lines(chars) if any(c["text"].strip() for c in ln)]
    right_margin = max((max(c["x1"] for c in ln) for ln in lines), default=0.0)
    groups: dict[int, list[list[dict]]] = {}
    cuts = sorted(b[1] for b in table_boxes)
    for ln in lines:
        top = min(c["top"] for c in ln)
        slot = sum(1 for cut in cuts if top > cut)
        groups.setdefault(slot, []).append(ln)
    out = []
    for k, (slot, lns) in enumerate(sorted(groups.items())):
        name = f"p.{n} 本文" if k == 0 else f"p.{n} 本文{k + 1}"
        rows: list[list[Cell]] = []
        targets: list[MarkTarget] = []
        for ln in _join_wrapped(lns, right_margin):
            row = []
            for seg in split_segments(ln):
                laid = lay_out(seg) if not any("_wrapped_from" in c for c in seg) else _lay_out_flowing(seg)
                box = (min(c["x0"] for c in seg), min(c["top"] for c in seg),
                       max(c["x1"] for c in seg), max(c["bottom"] for c in seg))
                cell = Cell(text=laid.text, bbox=box, ref=f"p.{n} x={box[0]:.0f},y={box[1]:.0f}")
                row.append(cell)
                targets.append(MarkTarget(_pad(box, 2.0), laid, cell.marks))
            if row:
                rows.append(row)
        if rows:
            top = rows[0][0].bbox[1]
            out.append((top, Table(name=name, rows=rows, kind="text", page=n), targets))
    return out


def _join_wrapped(lines: list[list[dict]], right_margin: float) -> list[list[dict]]:
    """Join a paragraph that wrapped at the right margin with its next line (a long footer or title).

    A line is taken as wrapped when it is one run of text (no column gap) reaching the right margin of the
    page's text, spanning most of the text width, and the next line follows at normal line spacing in the
    same font size. The continuation's chars are marked so that they are laid out on the same line."""
    left_margin = min((min(c["x0"] for c in ln) for ln in lines), default=0.0)
    width = right_margin - left_margin
    out: list[list[dict]] = []
    for ln in lines:
        prev = out[-1] if out else None
        if prev is not None and _continues(prev, ln, left_margin, right_margin, width):
            tail = [dict(c, _wrapped_from=len(out) - 1) for c in ln]
            out[-1] = prev + tail
            continue
        out.append(ln)
    return out


def _continues(prev: list[dict], ln: list[dict], left: float, right: float, width: float) -> bool:
    last_line = [c for c in prev if "_wrapped_from" not in c] if not any("_wrapped_from" in c for c in prev) \
        else [c for c in prev if "_wrapped_from" in c]
    visible = [c for c in last_line if c["text"].strip()]
    nxt = [c for c in ln if c["text"].strip()]
    if not visible or not nxt or len(split_segments(last_line)) != 1 or len(split_segments(ln)) != 1:
        return False
    size = max(c.get("size", 10) for c in visible)
    if abs(max(c.get("size", 10) for c in nxt) - size) > 0.5:
        return False
    x0, x1 = min(c["x0"] for c in visible), max(c["x1"] for c in visible)
    if right - x1 > 1.5 * size or x1 - x0 < 0.85 * width:
        return False
    if visible[-1]["text"] in "。．.":
        return False
    gap = min(c["top"] for c in nxt) - max(c["bottom"] for c in visible)
    return -0.2 * size <= gap <= 0.8 * size


def _lay_out_flowing(chars: list[dict]) -> LaidText:
    """Text of a wrapped paragraph: its visual lines run on without a line break (Japanese text wraps
    anywhere, so no space is added either)."""
    pieces: list[str] = []
    boxes: list[tuple[int, Box]] = []
    parts: dict[int, list[dict]] = {}
    for c in chars:
        parts.setdefault(c.get("_wrapped_from", -1), []).append(c)
    for key in sorted(parts):
        for line in group_lines(parts[key]):
            line_text(line, pieces, boxes)
    return LaidText("".join(pieces), boxes)


def _pad(box: Box, d: float) -> Box:
    return (box[0] - d, box[1] - d, box[2] + d, box[3] + d)


# --------------------------------------------------------------------------- tables without rules


def _aligned_table(chars: list[dict], n: int):
    """A table printed without ruling lines: ≥3 consecutive lines whose segments share column starts."""
    lines = [ln for ln in group_lines(chars) if any(c["text"].strip() for c in ln)]
    segmented = [split_segments(ln) for ln in lines]
    best: tuple[int, int] | None = None
    i = 0
    while i < len(segmented):
        if len(segmented[i]) >= 3:
            j = i
            while j < len(segmented) and len(segmented[j]) >= 2:
                j += 1
            if j - i >= 3 and (best is None or j - i > best[1] - best[0]):
                best = (i, j)
            i = j
        else:
            i += 1
    if best is None:
        return None
    block = segmented[best[0]:best[1]]
    starts = _cluster([seg[0]["x0"] for segs in block for seg in segs], tol=8.0)
    counts = {s: sum(1 for segs in block for seg in segs if abs(seg[0]["x0"] - s) <= 8.0) for s in starts}
    cols = [s for s in starts if counts[s] >= max(2, 0.3 * len(block))]
    if len(cols) < 2:
        return None
    name = f"p.{n}"
    rows: list[list[Cell]] = []
    targets: list[MarkTarget] = []
    used: set[int] = set()
    for r, segs in enumerate(block):
        parts: list[list[dict]] = [[] for _ in cols]
        for seg in segs:
            k = max((i for i, s in enumerate(cols) if s <= seg[0]["x0"] + 8.0), default=0)
            parts[k] += seg
        row = []
        for c, part in enumerate(parts):
            cell = Cell(ref=f"{name} 行{r + 1} 列{c + 1}")
            if part:
                laid = lay_out(part)
                cell.text = laid.text
                cell.bbox = (min(ch["x0"] for ch in part), min(ch["top"] for ch in part),
                             max(ch["x1"] for ch in part), max(ch["bottom"] for ch in part))
                targets.append(MarkTarget(_pad(cell.bbox, 2.0), laid, cell.marks))
                used |= {id(ch) for ch in part}
            row.append(cell)
        rows.append(row)
    table = Table(name=name, rows=rows, kind="page", page=n, confidence=0.85,
                  warnings=["罫線のない表を文字の位置から読み取りました"])
    return table, targets, used


def _sort_marks(table: Table) -> None:
    for row in table.rows:
        for cell in row:
            cell.marks.sort(key=lambda m: (m.span or (-1, -1), m.kind))
