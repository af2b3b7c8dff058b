"""The rows of an MDS2 worksheet, from a Grid: a sheet's (or Word table's) rows by their cells, a PDF print's
rows from the words' positions.

A sheet row: the question ID in one of the first columns, then the question, the answer and the note
number; the columns are taken from the header cells (「Question ID」「Question」「Yes, No, N/A, or See Note」
「Note #」) when the sheet prints them, else the cells after the ID in order. The notes table (`Note 1` …)
is read wherever it is.

A PDF print (LibreOffice, fit to width): a question wraps over several lines and the ID and answer stand
on one of them. The words are grouped into lines, lines into printed rows by the vertical gap between
them (the cell padding between rows is wider than the line pitch inside a row), and each printed row's
words into the ID, question, answer and note columns by the x position of the answer and note columns.
"""
from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass, field

from extractors.grid import Cell, Grid, Table
from extractors.text import normalize_text

VERSION_2019, VERSION_2013 = "HN 1-2019", "HN 1-2013"
ID_RE = re.compile(r"^([A-Z]{3,4})\s?-\s?(\d{1,2}(?:\.\d{1,2}){0,3})$")
# HN 1-2013: 「1-1」 … in the capability sections, 「A」… 「B.1」 in the private-data section before them.
ID_2013_RE = re.compile(r"^(\d{1,2})\s?-\s?(\d{1,2})$|^([A-I])(?:\.(\d))?$")
NOTE_ROW = re.compile(r"^Note\s*#?\s*(\d{1,3})\s*[:.)]?\s*(.*)$", re.I | re.S)
NOTES_TITLE = re.compile(r"^Notes?\s*:?$", re.I)

@dataclass
class Row:
    """One printed row: the ID, question, answer and note texts, with where they were read."""

    printed_id: str
    question: str = ""
    answer: str = ""
    note: str = ""
    sheet: str | None = None
    page: int | None = None
    cell: str = ""  # the answer cell ("C24"; "x=…,y=…" on a page)
    row: int | None = None
    confidence: float = 1.0
    doubts: list[str] = field(default_factory=list)  # Japanese review reasons from the reader


@dataclass
class Mds2Sheet:
    rows: list[Row]
    notes: dict[str, str]


ANSWER_HEAD_WORD = re.compile(r"^(Yes|No|N/A|NA|See\s+Notes?)\b", re.I)
COLUMN_HEAD = re.compile(r"^(Question\s*ID|Note\s*#|See\s+note)$", re.I)
# A question (or a section's description sentence) ends its cell: 「?」「:」 or a full stop not of 「e.g.」.
QUESTION_END = re.compile(r"([?？:：]|(?<!\be\.g)(?<!\bi\.e)(?<!\betc)\.)$")
ANSWER_WORD = re.compile(r"^(Yes|No|N/A|NA|See Notes?)$", re.I)
NOTE_CELL = re.compile(r"^(_{2,}|See Notes?\s*#?\s*\d{1,3}.*|Note\s*#?\s*\d{1,3})$", re.I)
FUSED_ANSWER = re.compile(r"^(.*\S)(?:\s+|(?<=[?)]))(Yes|No|N/A)$", re.S)
FUSED_ID = re.compile(r"^([A-Z]{3,4}\s?-\s?\d{1,2}(?:\.\d{1,2}){0,3})\s+(\S.*)$", re.S)


def _id_match(text: str, version: str):
    t = normalize_text(text).strip()
    return (ID_RE if version == VERSION_2019 else ID_2013_RE).match(t)


def sheet_rows(grid: Grid, version: str) -> Mds2Sheet:
    if grid.format == "pdf" and any(c.bbox for t in grid.tables for row in t.rows for c in row):
        return _page_rows(grid, version)
    rows: list[Row] = []
    notes: dict[str, str] = {}
    for table in grid.tables:
        if table.hidden and rows:
            continue
        _table_rows(table, version, rows, notes)
    return Mds2Sheet(rows, notes)


# ------------------------------------------------------------------------------------------------ sheets

def _texts(row: list[Cell]) -> list[tuple[int, str]]:
    return [(i, normalize_text(c.text).strip()) for i, c in enumerate(row)
            if c.merged_into is None and c.text.strip()]


def _header_columns(table: Table) -> dict[str, int]:
    cols: dict[str, int] = {}
    for row in table.rows:
        for i, t in _texts(row):
            low = t.lower()
            if low in ("question id", "id", "#", "question #") and "id" not in cols:
                cols["id"] = i
            elif low == "question" and "question" not in cols:
                cols["question"] = i
            elif re.match(r"^yes\s*,\s*no\b", low) and "answer" not in cols:
                cols["answer"] = i
            elif re.match(r"^(see\s+note|note\s*#)$", low) and "note" not in cols:
                cols["note"] = i
    return cols


def _table_rows(table: Table, version: str, rows: list[Row], notes: dict[str, str]) -> None:
    cols = _header_columns(table)
    current_note = ""
    for r, row in enumerate(table.rows):
        texts = _texts(row)
        if not texts:
            continue
        first_col, first = texts[0]
        if m := NOTE_ROW.match(first):
            current_note = m.group(1)
            rest = " ".join([m.group(2).strip()] + [t for _, t in texts[1:]]).strip()
            notes[current_note] = rest
            continue
        if NOTES_TITLE.match(first):
            continue
        idm = next(((i, t) for i, t in texts[:2] if i <= 2 and _id_match(t, version)), None)
        if idm is None:
            continue
        current_note = ""
        id_col, printed = idm
        q_col = cols.get("question") if cols.get("question", -1) > id_col else \
            next((i for i, _ in texts if i > id_col), id_col + 1)
        a_col = cols["answer"] if cols.get("answer", -1) > q_col else q_col + 1
        n_col = cols["note"] if cols.get("note", -1) > a_col else a_col + 1
        answer_cell = _cell(row, a_col)
        out = Row(printed_id=printed, question=_text(row, q_col), answer=_answer_text(answer_cell),
                  note=_text(row, n_col), sheet=table.name if table.kind != "page" else None,
                  page=table.page, cell=(answer_cell.ref if answer_cell is not None else ""), row=r + 1,
                  confidence=table.confidence)
        if answer_cell is not None and answer_cell.hidden:
            out.doubts.append("回答が非表示の列にあります")
        if row and all(c.hidden for c in row):
            out.doubts.append("非表示の行です")
        rows.append(out)


def _cell(row: list[Cell], col: int) -> Cell | None:
    return row[col] if 0 <= col < len(row) else None


def _text(row: list[Cell], col: int) -> str:
    cell = _cell(row, col)
    return cell.text.strip() if cell is not None and cell.merged_into is None else ""


def _answer_text(cell: Cell | None) -> str:
    if cell is None or cell.merged_into is not None:
        return ""
    if cell.date is not None and not re.search(r"[A-Za-z]", cell.text):
        return cell.date.isoformat()
    return cell.text.strip()


# ------------------------------------------------------------------------------------------------- pages

class _Word:
    __slots__ = ("text", "x0", "top", "x1", "bottom", "page", "conf", "ref")

    def __init__(self, text, bbox, page, conf, ref):
        self.text, (self.x0, self.top, self.x1, self.bottom) = text, bbox
        self.page, self.conf, self.ref = page, conf, ref

    @property
    def mid(self) -> float:
        return (self.top + self.bottom) / 2


def _page_words(grid: Grid) -> list[_Word]:
    seen, words = set(), []
    for table in grid.tables:
        for row in table.rows:
            for c in row:
                if not c.bbox or not c.text.strip() or c.merged_into is not None:
                    continue
                key = (table.page, normalize_text(c.text).strip(), tuple(round(v) for v in c.bbox))
                if key in seen:
                    continue
                seen.add(key)
                words.append(_Word(normalize_text(c.text).strip(), c.bbox, table.page or 1, table.confidence,
                                   c.ref))
    return words


def _split_fused(words: list[_Word], answer_x0: float | None) -> list[_Word]:
    """A question cell that ran into the answer column (「…erased? Yes」) or an ID run into its question."""
    out = []
    for w in words:
        if m := FUSED_ID.match(w.text):
            width = (w.x1 - w.x0) * len(m.group(1)) / max(len(w.text), 1)
            out.append(_Word(m.group(1), (w.x0, w.top, w.x0 + width, w.bottom), w.page, w.conf, w.ref))
            w = _Word(m.group(2), (w.x0 + width + 1, w.top, w.x1, w.bottom), w.page, w.conf, w.ref)
        if answer_x0 is not None and w.x0 < answer_x0 - 3 < w.x1 and (m := FUSED_ANSWER.match(w.text)):
            out.append(_Word(m.group(1), (w.x0, w.top, answer_x0 - 4, w.bottom), w.page, w.conf, w.ref))
            out.append(_Word(m.group(2), (answer_x0, w.top, w.x1, w.bottom), w.page, w.conf, w.ref))
            continue
        out.append(w)
    return out


def _lines(words: list[_Word]) -> list[list[_Word]]:
    lines: list[list[_Word]] = []
    for w in sorted(words, key=lambda w: (w.page, w.mid, w.x0)):
        if lines and lines[-1][0].page == w.page and abs(lines[-1][0].mid - w.mid) <= 3:
            lines[-1].append(w)
        else:
            lines.append([w])
    return [sorted(line, key=lambda w: w.x0) for line in lines]


def _repeated(lines: list[list[_Word]]) -> set[int]:
    """Lines printed at the same height on several pages (a print header or footer): not form rows."""
    key = lambda line: (" ".join(w.text for w in line), round(line[0].mid / 4))  # noqa: E731
    counts = Counter(key(line) for line in lines)
    pages = {k: {line[0].page for line in lines if key(line) == k} for k, n in counts.items() if n > 1}
    top = {p: min(line[0].mid for line in lines if line[0].page == p) for p in {line[0].page for line in lines}}
    end = {p: max(line[0].mid for line in lines if line[0].page == p) for p in top}
    margin = lambda line: line[0].mid < top[line[0].page] + 60 or line[0].mid > end[line[0].page] - 40  # noqa: E731
    plain = lambda line: not any(ANSWER_HEAD_WORD.match(w.text) or NOTE_CELL.match(w.text) for w in line)  # noqa: E731
    return {i for i, line in enumerate(lines) if len(pages.get(key(line), ())) > 1 and margin(line) and plain(line)}


def _page_rows(grid: Grid, version: str) -> Mds2Sheet:
    words = _page_words(grid)
    answer_xs = [w.x0 for w in words if ANSWER_WORD.match(w.text)]
    answer_x0 = statistics.median(answer_xs) if answer_xs else None
    words = _split_fused(words, answer_x0)
    note_xs = [w.x0 for w in words if NOTE_CELL.match(w.text) and (answer_x0 is None or w.x0 > answer_x0 + 5)]
    note_x0 = statistics.median(note_xs) if note_xs else None
    note_hi = None
    if note_x0 is not None:  # the next column (the mapping columns, when printed) starts where many words do
        starts = Counter(round(w.x0) for w in words if w.x0 > note_x0 + 25)
        note_hi = min((x for x, n in starts.items() if n >= 3), default=note_x0 + 80) - 2
    lines = _lines(words)
    skip = _repeated(lines)
    lines = [line for i, line in enumerate(lines) if i not in skip]
    pitches = sorted(b[0].mid - a[0].mid for a, b in zip(lines, lines[1:])
                     if a[0].page == b[0].page and b[0].mid - a[0].mid > 3)
    pitch = pitches[len(pitches) // 5] if pitches else 10.0  # the line pitch inside a wrapped cell
    notes_at = next((i for i, line in enumerate(lines) if len(line) == 1 and NOTES_TITLE.match(line[0].text)),
                    None)
    if notes_at is None:
        notes_at = next((i for i, line in enumerate(lines) if NOTE_ROW.match(line[0].text)), len(lines))
    body, tail = lines[:notes_at], lines[notes_at:]
    rows: list[Row] = []
    for page in sorted({line[0].page for line in body}):
        _page_body([line for line in body if line[0].page == page], version, answer_x0, (note_x0, note_hi), pitch,
                   rows)
    return Mds2Sheet(rows, _page_notes(tail, pitch))


def _column(line: list[_Word], lo: float | None, hi: float | None) -> list[_Word]:
    return [w for w in line if (lo is None or w.x0 >= lo) and (hi is None or w.x0 < hi)]


def _blocks(lines: list[list[_Word]], pitch: float, joins, anchors=(), align: str = "center"
            ) -> list[list[list[_Word]]]:
    """Consecutive lines of one column joined into the text of one cell while `joins(previous, line)`; a block
    holds the line of one row anchor (an ID's height) at most. With anchors printed beside a cell's last line
    ("bottom", Excel's default) a block ends at its anchor line; beside its first line ("top"), an anchor line
    starts a block."""
    at_anchor = lambda line: any(abs(a - line[0].mid) <= 3 for a in anchors)  # noqa: E731
    blocks: list[list[list[_Word]]] = []
    for line in lines:
        if blocks and line[0].mid - blocks[-1][-1][0].mid <= pitch * 1.25 and joins(blocks[-1][-1], line) \
                and not (at_anchor(line) and any(at_anchor(b) for b in blocks[-1])) \
                and not (align == "bottom" and at_anchor(blocks[-1][-1])) \
                and not (align == "top" and at_anchor(line)):
            blocks[-1].append(line)
        else:
            blocks.append([line])
    return blocks


def _align(anchors: list[float], blocks: list[list[list[_Word]]], pitch: float) -> dict[int, int]:
    """Monotonic matching of row anchors (the IDs' heights) to text blocks of one column, in print order:
    a block whose span holds an anchor costs nothing, else its distance; either may stay unmatched."""
    spans = [(b[0][0].mid, b[-1][0].mid) for b in blocks]
    gap, limit = pitch * 1.5, pitch * 3
    n, m = len(anchors), len(blocks)
    inf = float("inf")
    cost = [[inf] * (m + 1) for _ in range(n + 1)]
    move = [[None] * (m + 1) for _ in range(n + 1)]
    cost[0][0] = 0.0
    for i in range(n + 1):
        for j in range(m + 1):
            c = cost[i][j]
            if c == inf:
                continue
            if i < n and c + gap < cost[i + 1][j]:
                cost[i + 1][j], move[i + 1][j] = c + gap, (i, j, False)
            if j < m and c + gap < cost[i][j + 1]:
                cost[i][j + 1], move[i][j + 1] = c + gap, (i, j, False)
            if i < n and j < m:
                top, bottom = spans[j]
                d = 0.0 if top - 2 <= anchors[i] <= bottom + 2 else min(abs(anchors[i] - top),
                                                                         abs(anchors[i] - bottom))
                if d <= limit and c + d < cost[i + 1][j + 1]:
                    cost[i + 1][j + 1], move[i + 1][j + 1] = c + d, (i, j, True)
    out, (i, j) = {}, (n, m)
    while (i, j) != (0, 0):
        pi, pj, matched = move[i][j]
        if matched:
            out[pj] = pi
        i, j = pi, pj
    return out


def _text_of(block: list[list[_Word]]) -> str:
    text = " ".join(" ".join(w.text.split()) for line in block for w in line)
    return re.sub(r"(?<=[a-z]-) (?=[a-z])", "", text)  # a word hyphenated at a line end: 「de- identify」


def _page_body(lines, version, answer_x0, note_cols, pitch, rows: list[Row]) -> None:
    note_x0, note_hi = note_cols
    id_words = [line[0] for line in lines if _id_match(line[0].text, version)]
    if not id_words:
        return
    ids = set(map(id, id_words))
    q_lo = max(w.x0 for w in id_words) + 1
    lines = [[w for w in line if id(w) not in ids] or [line[0]] for line in lines]
    anchors = [w.mid for w in id_words]
    a_lo = answer_x0 - 3 if answer_x0 is not None else None
    n_lo = note_x0 - 3 if note_x0 is not None else None
    q_lines = [q for line in lines if (q := [w for w in _column(line, q_lo, a_lo) if id(w) not in ids])]
    a_lines = [a for line in lines if (a := _column(line, a_lo, n_lo))] if a_lo is not None else []
    n_lines = [n for line in lines if (n := _column(line, n_lo, note_hi))] if n_lo is not None else []
    ends_question = lambda prev, line: not QUESTION_END.search(prev[-1].text)  # noqa: E731
    continues_answer = lambda prev, line: not ANSWER_HEAD_WORD.match(line[0].text)  # noqa: E731
    heads = [line[0].mid for line in lines if any(COLUMN_HEAD.match(w.text) for w in line)]
    a_lines = [line for line in a_lines if not any(abs(h - line[0].mid) <= pitch * 3 for h in heads)
               or not ANSWER_HEAD_WORD.match(line[0].text)
               or any(abs(a - line[0].mid) <= 3 for a in anchors)]  # the answer column's own header
    at = lambda line: next((a for a in anchors if abs(a - line[0].mid) <= 3), None)  # noqa: E731
    align = _label_alignment(_blocks(q_lines, pitch, ends_question, anchors), at)
    q_blocks = _blocks(q_lines, pitch, ends_question, anchors, align)
    a_blocks = _blocks(a_lines, pitch, continues_answer, anchors, align)
    n_blocks = _blocks(n_lines, pitch, lambda prev, line: False)
    q_of, a_of, n_of = (_align(anchors, b, pitch) for b in (q_blocks, a_blocks, n_blocks))
    texts = [{"q": [], "a": [], "n": [], "ref": None, "doubt": []} for _ in id_words]
    for blocks, owner, key in ((q_blocks, q_of, "q"), (a_blocks, a_of, "a"), (n_blocks, n_of, "n")):
        for j, block in enumerate(blocks):
            if j in owner:
                texts[owner[j]][key].append(_text_of(block))
                if key == "a" and texts[owner[j]]["ref"] is None:
                    texts[owner[j]]["ref"] = block[0][0]
            elif key == "a" and ANSWER_HEAD_WORD.match(block[0][0].text):
                # An answer no row claims: the nearest row is doubted rather than the answer dropped.
                near = min(range(len(anchors)), key=lambda i: abs(anchors[i] - block[0][0].mid))
                texts[near]["doubt"].append(f"行に対応しない回答「{_text_of(block)[:20]}」が近くにあります。"
                                            "回答を確認してください")
    for w, t in zip(id_words, texts):
        answer = re.sub(r"\s*_{2,}\s*$", "", " ".join(t["a"]))
        ref = t["ref"] or w
        rows.append(Row(printed_id=w.text, question=" ".join(t["q"]), answer=answer, note=" ".join(t["n"]),
                        page=w.page, cell=ref.ref, confidence=min(w.conf, 0.95), doubts=t["doubt"]))


def _label_alignment(blocks, label_at) -> str:
    """Where labels sit in their cells: "bottom" (beside the last line, Excel's default), "top" or "center",
    by the blocks (separated by a row's padding) that hold exactly one label."""
    votes = Counter()
    for block in blocks:
        at = [k for k, line in enumerate(block) if label_at(line) is not None]
        if len(at) == 1 and len(block) > 1:
            votes["bottom" if at[0] == len(block) - 1 else "top" if at[0] == 0 else "center"] += 1
    return votes.most_common(1)[0][0] if votes else "bottom"


def _page_notes(lines: list[list[_Word]], pitch: float) -> dict[str, str]:
    """The notes table of a print: each 「Note n」 label takes the text block its height falls in."""
    labels, text_lines = [], []
    for line in lines:
        if len(line) == 1 and NOTES_TITLE.match(line[0].text):
            continue
        if m := NOTE_ROW.match(line[0].text):
            labels.append((m.group(1), line[0]))
            rest = [w for w in line[1:]]
            if m.group(2).strip():
                text_lines.append([_Word(m.group(2).strip(), (line[0].x0, line[0].top, line[0].x1, line[0].bottom),
                                         line[0].page, line[0].conf, line[0].ref)] + rest)
            elif rest:
                text_lines.append(rest)
        else:
            text_lines.append(line)
    notes: dict[str, str] = {}
    for page in sorted({w.page for _, w in labels}):
        on_page = [(n, w) for n, w in labels if w.page == page]
        page_lines = [line for line in text_lines if line[0].page == page]
        heights = {round(w.mid): n for n, w in on_page}
        label_at = lambda line: next((n for h, n in heights.items() if abs(h - line[0].mid) <= 3), None)  # noqa: E731
        align = _label_alignment(_blocks(page_lines, pitch, lambda prev, line: True), label_at)
        if align == "center":
            blocks = _blocks(page_lines, pitch, lambda prev, line: True)
            owner = _align([w.mid for _, w in on_page], blocks, pitch)
            for j, block in enumerate(blocks):
                if j in owner:
                    n = on_page[owner[j]][0]
                    notes[n] = f"{notes.get(n, '')} {_text_of(block)}".strip()
        else:
            # A label printed beside its note's last line (bottom) takes the lines above it back to the
            # previous label; beside its first line (top), the lines below it up to the next label.
            pending: list[list[_Word]] = []
            current = None
            for line in page_lines:
                n = label_at(line)
                if align == "bottom":
                    pending.append(line)
                    if n is not None:
                        notes[n] = f"{notes.get(n, '')} {_text_of(pending)}".strip()
                        pending = []
                else:
                    current = n if n is not None else current
                    if current is not None:
                        notes[current] = f"{notes.get(current, '')} {_text_of([line])}".strip()
        for n, _ in on_page:
            notes.setdefault(n, "")
    return notes
