"""Word tables into `Table`s: block order, rows and cells through content controls, gridSpan / vMerge /
gridBefore resolved so that grid columns line up across rows."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from extractors.grid import Cell, Mark, Table
from extractors.readers.docx.fields import _sdt_info
from extractors.readers.docx.ns import (
    MC_ALT, MC_CHOICE, MC_FALLBACK, W_P, W_SDT, W_SDTCONTENT, W_SDTPR, W_TBL, W_TC, W_TCPR, W_TR, W_TRPR, W_VAL, _w,
)
from extractors.readers.docx.sink import TextSink, _finish
from extractors.readers.docx.styles import _cell_fill

if TYPE_CHECKING:
    from extractors.readers.docx.walker import _Walker


# --- block and table structure ----------------------------------------------------------------

def iter_blocks(container):
    """Yield ("p", el) / ("tbl", el) in order, looking through block-level content controls,
    custom XML and markup-compatibility wrappers. Placeholder-only block controls are skipped."""
    for child in container:
        tag = child.tag
        if tag == W_P:
            yield "p", child
        elif tag == W_TBL:
            yield "tbl", child
        elif tag == W_SDT:
            content = child.find(W_SDTCONTENT)
            if content is not None and not _sdt_info(child.find(W_SDTPR)).placeholder:
                yield from iter_blocks(content)
        elif tag in (_w("customXml"), _w("ins"), _w("moveTo")):
            yield from iter_blocks(child)
        elif tag == MC_ALT:
            chosen = child.find(MC_CHOICE)
            if chosen is None:
                chosen = child.find(MC_FALLBACK)
            if chosen is not None:
                yield from iter_blocks(chosen)


def _iter_rows(tbl):
    for child in tbl:
        if child.tag == W_TR:
            yield child
        elif child.tag in (W_SDT, _w("customXml")):
            inner = child.find(W_SDTCONTENT) if child.tag == W_SDT else child
            if inner is not None:
                yield from _iter_rows(inner)


def _iter_cells(tr, outer=None):
    """Yield (tc, outer sdtPr or None): cells may sit inside cell-level content controls."""
    for child in tr:
        if child.tag == W_TC:
            yield child, outer
        elif child.tag == W_SDT:
            inner = child.find(W_SDTCONTENT)
            if inner is not None:
                yield from _iter_cells(inner, child.find(W_SDTPR))
        elif child.tag == _w("customXml"):
            yield from _iter_cells(child, outer)


def _int_val(el, default: int) -> int:
    if el is None:
        return default
    try:
        return max(int(el.get(W_VAL) or default), 0)
    except ValueError:
        return default


@dataclass
class _Slot:
    tc: object
    outer: object
    col: int
    span: int
    vmerge: str | None  # None | "restart" | "continue"
    hmerge: str | None


def _row_layout(tr) -> tuple[int, list[_Slot], int]:
    trpr = tr.find(W_TRPR)
    before = _int_val(trpr.find(_w("gridBefore")), 0) if trpr is not None else 0
    after = _int_val(trpr.find(_w("gridAfter")), 0) if trpr is not None else 0
    col = before
    slots = []
    for tc, outer in _iter_cells(tr):
        tcpr = tc.find(W_TCPR)
        span, vm, hm = 1, None, None
        if tcpr is not None:
            span = max(_int_val(tcpr.find(_w("gridSpan")), 1), 1)
            v = tcpr.find(_w("vMerge"))
            if v is not None:
                vm = "restart" if (v.get(W_VAL) or "continue") == "restart" else "continue"
            h = tcpr.find(_w("hMerge"))
            if h is not None:
                hm = "restart" if (h.get(W_VAL) or "continue") == "restart" else "continue"
        slots.append(_Slot(tc, outer, col, span, vm, hm))
        col += span
    return before, slots, col + after


def build_table(tbl, walker: _Walker, name: str) -> Table:
    rows_xml = list(_iter_rows(tbl))
    layouts = [_row_layout(tr) for tr in rows_xml]
    pictures_before = walker.pictures
    grid_cols = tbl.find(_w("tblGrid"))
    n_cols = max([len(grid_cols.findall(_w("gridCol"))) if grid_cols is not None else 0]
                 + [width for _, _, width in layouts] + [0])
    rows: list[list[Cell]] = []
    sinks: dict[tuple[int, int], TextSink] = {}
    warnings: list[str] = []
    for r, (_before, slots, _width) in enumerate(layouts):
        row = [Cell(ref=f"行{r + 1} 列{c + 1}") for c in range(n_cols)]
        rows.append(row)
        for slot in slots:
            c = slot.col
            if c >= n_cols:
                continue
            owner: tuple[int, int] | None = None
            if slot.vmerge == "continue" and r > 0:
                above = rows[r - 1][c]
                owner = above.merged_into if above.merged_into is not None else (r - 1, c)
                top = rows[owner[0]][owner[1]]
                if top.merged_into is not None or owner not in sinks:
                    owner = None
            if owner is None and slot.hmerge == "continue" and c > 0:
                left = row[c - 1]
                owner = left.merged_into if left.merged_into is not None else (r, c - 1)
                if owner not in sinks:
                    owner = None
            if owner is not None:
                _append_continuation(walker, slot.tc, sinks[owner])
                top = rows[owner[0]][owner[1]]
                top.rowspan = max(top.rowspan, r - owner[0] + 1)
                top.colspan = max(top.colspan, c + slot.span - owner[1])
                for k in range(c, min(c + slot.span, n_cols)):
                    row[k].merged_into = owner
                continue
            sink = TextSink()
            shapes: list[Mark] = []
            walker.cell_content(slot.tc, sink, shapes)
            _apply_outer_sdt(slot.outer, sink)
            sinks[(r, c)] = sink
            cell = row[c]
            cell.colspan = min(slot.span, n_cols - c)
            cell.marks.extend(shapes)
            fill = _cell_fill(slot.tc)
            if fill:
                cell.marks.append(Mark("fill", span=None, detail=fill))
            for k in range(c + 1, min(c + slot.span, n_cols)):
                row[k].merged_into = (r, c)
        if slots and slots[-1].col + slots[-1].span > n_cols:
            warnings.append(f"行{r + 1}: 表の列数を超えるセルを無視しました")
    for (r, c), sink in sinks.items():
        cell = rows[r][c]
        text, marks = _finish(sink)
        cell.text = text
        cell.marks = [*marks, *cell.marks]
        cell.choices = sink.choices
        cell.date = sink.date
    # Spans recorded on covered cells must agree with the owner's final extent.
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            if cell.merged_into is not None:
                top = rows[cell.merged_into[0]][cell.merged_into[1]]
                top.rowspan = max(top.rowspan, r - cell.merged_into[0] + 1)
                top.colspan = max(top.colspan, c - cell.merged_into[1] + 1)
    table = Table(name=name, rows=rows, kind="table", warnings=warnings)
    if walker.pictures > pictures_before:
        table.mark_doubt = PICTURE_DOUBT
        table.warnings.append(f"表の中に画像が {walker.pictures - pictures_before} 個あります（印が画像の場合は読み取れません）")
    return table


PICTURE_DOUBT = "表の中に画像が貼り付けられている"


def _append_continuation(walker: _Walker, tc, sink: TextSink):
    """Content Word keeps in a vMerge continuation cell is appended to the merged cell."""
    extra = TextSink()
    shapes: list[Mark] = []
    walker.cell_content(tc, extra, shapes)
    if extra.text.strip():
        offset = sink.length + (1 if sink.length else 0)
        if sink.length:
            sink.emit("\n")
        sink.parts.append(extra.text)
        sink.length += extra.length
        for m in extra.marks:
            sink.marks.append(Mark(m.kind, (m.span[0] + offset, m.span[1] + offset), m.confidence, m.detail)
                              if m.span else m)
    sink.marks.extend(shapes)
    if extra.choices:
        sink.add_choices(extra.choices)
    if sink.date is None:
        sink.date = extra.date


def _apply_outer_sdt(pr, sink: TextSink):
    if pr is None:
        return
    info = _sdt_info(pr)
    if info.choices:
        sink.add_choices(info.choices)
    if info.date is not None and sink.date is None:
        sink.date = info.date
