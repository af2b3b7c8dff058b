"""Text that overflows its table cell in a print.

A spreadsheet row kept at a fixed height prints a wrapped cell's lines beyond the row: the lines of a
vertically centred cell spill half a line into the rows above and below (「…代替機能があるか？」 over the
rule, 「(6.5.C3)」 under it), and a character's centre no longer says which row it belongs to. A line
that straddles a row rule belongs to the row whose text block, with that line, is centred in its cell:
the assignment of the straddling lines that centres every affected cell's block best is taken. When two
assignments centre about equally well, the rows are not certain and are reported for review.
"""
from __future__ import annotations

from itertools import product

from extractors.readers.pdf_text import Box, group_lines

OVERFLOW_DOUBT = "セルからはみ出した文字がどの行のものか確定できません。質問と回答を確認してください"
STRADDLE = 0.25  # a line straddles a rule when at least this share of its height lies on either side
MAX_GROUP = 8  # straddling lines decided together (2**8 assignments at most)
CLEAR_MARGIN = 1.0  # points: the best assignment must centre this much better than the next one


def settle_overflow(table_cells: list[tuple[int, int, Box]], by_cell: dict[tuple[int, int], list[dict]]
                    ) -> tuple[int, set[int]]:
    """Move straddling lines of `by_cell` (cell -> chars) to the cell they were printed for.

    Returns (lines moved, rows whose text stays uncertain)."""
    columns: dict[int, list[tuple[int, int, Box]]] = {}
    for r, c, box in table_cells:
        columns.setdefault(c, []).append((r, c, box))
    moved, doubtful = 0, set()
    for col_cells in columns.values():
        col_cells.sort(key=lambda t: t[2][1])
        m, d = _settle_column(col_cells, by_cell)
        moved += m
        doubtful |= d
    return moved, doubtful


def _settle_column(cells: list[tuple[int, int, Box]], by_cell: dict[tuple[int, int], list[dict]]
                   ) -> tuple[int, set[int]]:
    chars = [ch for r, c, _ in cells for ch in by_cell.get((r, c), [])]
    if not chars:
        return 0, set()
    lines = []
    for ln in group_lines(chars):
        top, bottom = min(ch["top"] for ch in ln), max(ch["bottom"] for ch in ln)
        cx = sum((ch["x0"] + ch["x1"]) / 2 for ch in ln) / len(ln)
        lines.append((ln, top, bottom, cx))
    home = {id(ch): k for k, (r, c, _) in enumerate(cells) for ch in by_cell.get((r, c), [])}
    fixed: dict[int, int] = {}  # line -> cell index
    free: dict[int, tuple[int, int]] = {}  # straddling line -> (upper cell, lower cell)
    for i, (ln, top, bottom, cx) in enumerate(lines):
        h = max(bottom - top, 1.0)
        cand = [k for k, (_, _, b) in enumerate(cells) if b[0] - 0.5 <= cx <= b[2] + 0.5
                and min(bottom, b[3]) - max(top, b[1]) >= STRADDLE * h]
        if len(cand) == 2 and cand[1] == cand[0] + 1 and abs(cells[cand[0]][2][3] - cells[cand[1]][2][1]) < 1.0:
            free[i] = (cand[0], cand[1])
        else:
            homes = [home[id(ch)] for ch in ln]
            fixed[i] = max(set(homes), key=homes.count)
    if not free:
        return 0, set()
    moved, doubtful = 0, set()
    for group in _groups(free):
        if len(group) > MAX_GROUP:
            doubtful |= {cells[k][0] for i in group for k in free[i]}
            continue
        affected = {k for i in group for k in free[i]}
        scored = []
        for choice in product((0, 1), repeat=len(group)):
            where = dict(fixed)
            where.update({i: free[i][pick] for i, pick in zip(group, choice)})
            scored.append((_cost(cells, lines, where, affected), choice))
        scored.sort(key=lambda s: s[0])
        best_cost, best = scored[0]
        if len(scored) > 1 and scored[1][0] - best_cost < CLEAR_MARGIN:
            doubtful |= {cells[k][0] for k in affected}
        for i, pick in zip(group, best):
            line = lines[i][0]
            target = free[i][pick]
            if all(home[id(ch)] == target for ch in line):
                continue
            ids = {id(ch) for ch in line}
            for k in free[i]:
                key = cells[k][:2]
                by_cell[key] = [ch for ch in by_cell.get(key, []) if id(ch) not in ids]
            by_cell[cells[target][:2]].extend(line)
            by_cell[cells[target][:2]].sort(key=lambda ch: (ch["top"], ch["x0"]))
            moved += 1
    return moved, doubtful


def _groups(free: dict[int, tuple[int, int]]) -> list[list[int]]:
    """Straddling lines that share a cell are decided together."""
    groups: list[list[int]] = []
    cells_of: list[set[int]] = []
    for i in sorted(free):
        if groups and cells_of[-1] & set(free[i]):
            groups[-1].append(i)
            cells_of[-1] |= set(free[i])
        else:
            groups.append([i])
            cells_of.append(set(free[i]))
    return groups


def _cost(cells, lines, where: dict[int, int], affected: set[int]) -> float:
    """How far each affected cell's text block sits from the cell's vertical centre (points, summed)."""
    total = 0.0
    for k in affected:
        mine = [lines[i] for i, cell in where.items() if cell == k]
        if not mine:
            continue
        top, bottom = min(m[1] for m in mine), max(m[2] for m in mine)
        box = cells[k][2]
        total += abs((top + bottom) / 2 - (box[1] + box[3]) / 2)
    return total
