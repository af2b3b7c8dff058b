"""A form retyped as paragraphs instead of a table: 「4.3 …？」 then 「回答：■はい □いいえ」, 「備考：…」."""
from __future__ import annotations

import re

import extractors.answer_cells as ans
from extractors.forms import Form
from extractors.grid import Cell, Grid, Mark
from extractors.layout import Layout
from extractors.model import Item, Location, flag
from extractors.notes import set_remark
from extractors.row_answers import apply_decision
from extractors.rows import BULLETS, ReadState, RowContext, is_question_like
from extractors.text import normalize_text, parse_checklist_number, parse_dotted_number
from extractors.vocabulary import OPTION_RE

_ANSWER_LINE = re.compile(r"^(?:回答|回答欄|確認結果|結果|選択)\s*[:：]\s*(.*)$")


_REMARK_LINE = re.compile(r"^(?:備考|コメント|補足)\s*[:：]\s*(.*)$")


def read_paragraph_items(grid: Grid, form: Form | None, state: ReadState) -> None:
    """A form retyped as paragraphs, not a table: 「4.3 アクセス記録…？」 then 「回答：■はい □いいえ」, 「備考：…」.

    Used only when no table holds items, so that instructions in running text are not read as items.
    """
    layout = Layout(roles={"question": 0, "answer": 1, "remark": 2}, n_cols=3)
    section = ""
    current: Item | None = None
    for t_idx, table in enumerate(grid.tables):
        if table.kind != "text":
            continue
        for r, row in enumerate(table.rows):
            line = " ".join(c.text for c in row if c.text).strip()
            marks = [m for c in row for m in c.marks]
            norm = normalize_text(line)
            if not norm:
                continue
            if m := _ANSWER_LINE.match(norm):
                if current is not None:
                    offset = len(line) - len(m.group(1)) if line.endswith(m.group(1)) else 0
                    cell = Cell(text=line[offset:], marks=_shift_marks(marks, -offset), ref=f"{table.name} 行{r + 1}")
                    apply_decision(current, ans.decide_inline(cell), RowContext(table, t_idx, r, layout))
                continue
            if m := _REMARK_LINE.match(norm):
                if current is not None:
                    set_remark(current, m.group(1), state)
                continue
            number, rest = parse_checklist_number(line, section)
            if not number:
                number, rest = parse_dotted_number(norm)
            bullet = norm[:1] in BULLETS
            if not (number or bullet) or len(rest or norm) < 4:
                continue
            question = rest if number else norm
            split = OPTION_RE.search(question)
            inline = ""
            if split and split.start() > 4 and any(ch in ans.POSITIVE_GLYPHS | ans.NEGATIVE_GLYPHS
                                                   for ch in question[max(0, split.start() - 2):split.start()]):
                inline = question[split.start() - 1:]
                question = question[: split.start() - 1].strip()
            if number and not is_question_like(question) and not inline:
                if "." not in number and "(" not in number:
                    section = number
                continue
            ctx = RowContext(table, t_idx, r, layout, section)
            item = Item(item_id=number, number_printed=number, question=question.lstrip(BULLETS + " "))
            if bullet and state.parent is None:
                continue
            if bullet:
                item.kind, item.parent_id = "bullet", state.parent.item_id
            elif number:
                state.parent = item
            item.location = Location(file=grid.source, sheet=table.name if table.kind != "page" else None,
                                     page=table.page, row=r + 1)
            if inline:
                apply_decision(item, ans.decide_inline(Cell(text=inline)), ctx)
            state.items.append(item)
            current = item
    answered = [i for i in state.items if i.answer_raw or i.answer_status != "unanswered"]
    if len(answered) < 2:
        state.items.clear()  # a letter or a note with a numbered list is not a form
        state.parent = None
    if state.items:
        state.warnings.append("表ではなく本文の段落から回答を読み取りました（要確認）")
        for item in state.items:
            flag(item, "表ではなく本文の段落から読み取りました", 0.85)


def _shift_marks(marks, delta: int):
    return [Mark(m.kind, (m.span[0] + delta, m.span[1] + delta) if m.span else None, m.confidence, m.detail)
            for m in marks]
