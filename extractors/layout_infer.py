"""Column roles of a table without a header row, inferred from what its columns hold, and options written at
the end of the question cell (「4.3 アクセスログ…？ ■はい □いいえ」)."""
from __future__ import annotations

import re

from extractors.answer_cells import POSITIVE_GLYPHS
from extractors.grid import Cell, Mark, Table
from extractors.layout import Layout, header_role, is_number_text, row_cells
from extractors.text import normalize_text, parse_checklist_number, parse_dotted_number
from extractors.vocabulary import ANSWERS, OPTION_RE

_INLINE_OPTIONS = re.compile(r"[■□☑☐●○◯✓✔☒]\s*(?:" + OPTION_RE.pattern + ")")


def split_inline_answer(cell: Cell) -> tuple[str, Cell | None]:
    """「質問…？ ■はい □いいえ」 → (question text, a cell holding the options with their marks moved along)."""
    text = cell.text or ""
    m = _INLINE_OPTIONS.search(text)
    if not m or m.start() < 4:
        return text, None
    start = m.start()
    marks = [Mark(k.kind, (k.span[0] - start, k.span[1] - start), k.confidence, k.detail)
             for k in cell.marks if k.span is not None and k.span[0] >= start]
    return text[:start].rstrip(), Cell(text=text[start:], marks=marks, ref=cell.ref, bbox=cell.bbox)


def _inline_answer_layout(table: Table) -> Layout | None:
    """A table whose question cells end with the options (no answer column)."""
    n = table.n_cols
    hits = [0] * n
    for row in table.rows:
        for col, cell in row_cells(row):
            if split_inline_answer(cell)[1] is not None:
                hits[col] += 1
    col = max(range(n), key=lambda c: hits[c]) if n else 0
    if not n or hits[col] < 2:
        return None
    layout = Layout(inferred=True, n_cols=n, inline_answers=True)
    layout.roles["question"] = col
    layout.roles["answer"] = col
    first = table.rows[0] if table.rows else []
    header = {c: header_role(cell.text) for c, cell in row_cells(first)}
    if header and all(header.values()):
        layout.header_rows = (0,)
        for c, role in header.items():
            if role[0] == "remark":
                layout.roles["remark"] = c
    rest = [c for c in range(n) if c != col]
    if "remark" not in layout.roles and rest:
        layout.roles["remark"] = max(rest, key=lambda c: sum(len(normalize_text(r[c].text)) for r in table.rows
                                                            if c < len(r)))
    return layout


def infer_layout(table: Table) -> Layout | None:
    """Roles from content, for a table without a header row: needs answer evidence in several rows."""
    n = table.n_cols
    if n < 1 or len(table.rows) < 2:
        return None
    if inline := _inline_answer_layout(table):
        return inline
    if n < 2:
        return None
    option_hits = [0] * n
    number_hits = [0] * n
    text_len = [0] * n
    for row in table.rows:
        for col, cell in row_cells(row):
            t = normalize_text(cell.text)
            if OPTION_RE.search(t) or (cell.choices and any(c in ANSWERS for c in cell.choices)) or \
                    any(ch in POSITIVE_GLYPHS for ch in t):
                option_hits[col] += 1
            if is_number_text(t) or parse_dotted_number(t)[0] or parse_checklist_number(t)[0]:
                number_hits[col] += 1
            text_len[col] += len(t)
    best_answer = max(range(n), key=lambda c: option_hits[c])
    if option_hits[best_answer] < 2:
        return None
    layout = Layout(inferred=True, n_cols=n)
    layout.roles["answer"] = best_answer
    if span := _option_column_run(table, option_hits):
        # はい | いいえ | 対象外 printed in adjacent columns (a header row lost): read them as one answer span.
        best_answer = span[0]
        layout.roles["answer"], layout.roles["answer_span"] = span
    number_col = max(range(n), key=lambda c: number_hits[c])
    answer_cols = range(best_answer, layout.roles.get("answer_span", best_answer) + 1)
    candidates = [c for c in range(n) if c not in answer_cols]
    question_col = max(candidates, key=lambda c: text_len[c]) if candidates else None
    if number_hits[number_col] >= 2 and number_col != best_answer and number_col != question_col:
        layout.roles["number"] = number_col
    if question_col is None:
        return None
    # Item rows need question text beside the answer evidence in several rows.
    rows_with_both = sum(1 for row in table.rows if question_col < len(row) and best_answer < len(row)
                         and len(normalize_text(row[question_col].text)) >= 6
                         and normalize_text(row[best_answer].text + "".join(m.kind for m in row[best_answer].marks)))
    if rows_with_both < 2:
        return None
    if question_col is not None:
        layout.roles["question"] = question_col
        last_answer = layout.roles.get("answer_span", best_answer)
        rest = [c for c in candidates if c not in (question_col, layout.roles.get("number")) and c > last_answer]
        if rest:
            layout.roles["remark"] = max(rest, key=lambda c: text_len[c])
    return layout


def _option_column_run(table: Table, option_hits: list[int]) -> tuple[int, int] | None:
    """(first, last) of two or more adjacent columns that each print one option word per row, a
    different word in each column (はい | いいえ | 対象外, 該当 | 非該当 in the same columns), or None."""
    n = table.n_cols
    words: list[dict[str, int]] = [{} for _ in range(n)]
    for row in table.rows:
        for col, cell in row_cells(row):
            found = OPTION_RE.findall(normalize_text(cell.text))
            if len(found) == 1:
                words[col][found[0]] = words[col].get(found[0], 0) + 1
    top = [max(w, key=w.get) if w else "" for w in words]
    single = [bool(top[c]) and option_hits[c] >= 2 and sum(words[c].values()) >= 0.6 * option_hits[c]
              for c in range(n)]
    best: tuple[int, int] | None = None
    c = 0
    while c < n:
        if not single[c]:
            c += 1
            continue
        end = c
        while end + 1 < n and single[end + 1] and top[end + 1] not in top[c:end + 1]:
            end += 1
        if end > c and (best is None or end - c > best[1] - best[0]):
            best = (c, end)
        c = end + 1
    return best
