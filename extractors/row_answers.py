"""An item row's answer: option columns or one answer cell decided, the decision applied with its doubt, checklist dates."""
from __future__ import annotations

import extractors.answer_cells as ans
from extractors.grid import Cell
from extractors.layout import Layout
from extractors.layout_infer import split_inline_answer
from extractors.model import Item, flag
from extractors.rows import RowContext, cell_at
from extractors.text import normalize_text, parse_date
from extractors.vocabulary import ANSWERS, option_words


def option_cells(row: list[Cell], layout: Layout) -> dict[str, Cell]:
    """Option word -> cell: from option header columns, or from the words printed in the cells under a
    「回答」 header merged over several columns."""
    cells: dict[str, Cell] = {}
    for word, col in sorted(layout.options.items(), key=lambda kv: kv[1]):
        cell = cell_at(row, col)
        if cell is not None:
            cells[word] = cell
    if cells or "answer_span" not in layout.roles:
        return cells
    for col in range(layout.roles["answer"], layout.roles["answer_span"] + 1):
        cell = cell_at(row, col)
        if cell is None or cell.merged_into is not None:
            continue
        words = [w for w, _, _ in option_words(normalize_text(cell.text))]
        key = words[0] if len(words) == 1 else f"列{col + 1}"
        cells.setdefault(key, cell)
    if len(cells) < 2 or not any(k in ANSWERS for k in cells):
        return {}
    return cells


def decide_row(row: list[Cell], layout: Layout) -> tuple[ans.Decision, Cell | None]:
    cells = option_cells(row, layout)
    if cells:
        decision = ans.decide_option_columns(cells, layout.decoration)
        chosen = next((c for w, c in cells.items() if decision.answer and
                       (w == decision.answer or decision.answer in normalize_text(c.text))), None)
        return decision, chosen or next(iter(cells.values()), None)
    col = layout.roles.get("first", layout.roles.get("answer"))
    cell = cell_at(row, col)
    if cell is None:
        return ans.Decision(), None
    if layout.inline_answers:
        answer_cell = split_inline_answer(cell)[1]
        return (ans.decide_inline(answer_cell), cell) if answer_cell is not None else (ans.Decision(), cell)
    if cell.merged_into is not None:
        return ans.Decision(), cell
    return ans.decide_inline(cell), cell


def apply_decision(item: Item, decision: ans.Decision, ctx: RowContext) -> None:
    item.answer = decision.answer
    item.answer_status = decision.status
    item.answer_raw = decision.raw
    item.confidence = round(decision.confidence * ctx.table.confidence, 3)
    item.needs_review, item.review_reason = False, ""
    if decision.reason:
        flag(item, decision.reason)
    # Below 0.8 sit the readings a person must confirm: a typed x / 1 / *, a lone ○, an emphasised word.
    if decision.status in ("ambiguous", "unreadable") or item.confidence < 0.8:
        flag(item, "" if item.review_reason else "読み取りの確信度が低いため確認してください")
    if decision.status == "unanswered" and ctx.table.confidence < 0.9:
        flag(item, "スキャン画像のため未回答かどうか確認してください", 0.5)
    elif decision.status == "unanswered" and ctx.table.mark_doubt:
        # A drawing part the reader could not read: a circle or tick on this row may have been lost.
        flag(item, f"{ctx.table.mark_doubt}ため未回答かどうか確認してください", 0.5)


def read_checklist_dates(item: Item, row: list[Cell], layout: Layout, decision: ans.Decision,
                          fiscal_year: int | None) -> None:
    def date_of(cell: Cell | None, text: str = "") -> str:
        if cell is not None and cell.date:
            return cell.date.isoformat()
        d = parse_date(text or (cell.text if cell is not None else ""), fiscal_year)
        return d.isoformat() if d else ""

    item.first_date = date_of(None, decision.date_text) if decision.date_text else ""
    if "first" in layout.date_cols:
        item.first_date = date_of(cell_at(row, layout.date_cols["first"])) or item.first_date
    target = cell_at(row, layout.roles.get("target"))
    if target is not None and target.merged_into is None:
        item.target_date = date_of(target)
        if normalize_text(target.text) and not item.target_date and fiscal_year is None:
            flag(item, "目標日の年度が分かりません")
    second = cell_at(row, layout.roles.get("second"))
    if second is not None and second.merged_into is None:
        options2 = {w: c for w, col in layout.second_options.items() if (c := cell_at(row, col)) is not None}
        d2 = ans.decide_option_columns(options2) if options2 else ans.decide_inline(second)
        if d2.status == "answered":
            item.second_answer = d2.answer
        elif d2.status in ("ambiguous", "unreadable"):
            flag(item, "2回目の回答を読み取れません")
        item.second_date = date_of(None, d2.date_text) if d2.date_text else ""
        if "second" in layout.date_cols:
            item.second_date = date_of(cell_at(row, layout.date_cols["second"])) or item.second_date
    if decision.date_text and not item.first_date:
        # An M/D date without the form's fiscal year, or a date that does not exist (「2023/13/40」).
        year_missing = fiscal_year is None and parse_date(decision.date_text, 2000) is not None
        flag(item, "日付の年度が分かりません" if year_missing else "日付を読み取れません")
