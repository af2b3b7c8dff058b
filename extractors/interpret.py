"""One interpreter for every format: a `Grid` in, a `Document` out.

It finds the form (title), the header fields, the header row and column roles of each table, the
item rows (by item number and question text, never by position), bullet rows, section and device
headings, the 備考記載欄 footnotes and the コメント box, decides each answer, and links every row to
the form catalogue. Rows the catalogue lacks are kept, marked unknown.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from extractors import answers as ans
from extractors.catalogue_link import (
    answer_is_own_word, dedupe, finalise_ids, flag_number_from_question, label_unnumbered, link_catalogue,
    number_from_question, resolve_checklist_sections,
)
from extractors.decoration import table_decoration
from extractors.forms import Form, best_text_match, missing_catalogue_items
from extractors.formdetect import detect_form, inline_label, label_field, squash_label
from extractors.grid import Cell, Grid, Mark, Table
from extractors.header_fields import apply_header, cells, collect_header_fields, value_right
from extractors.layout import Layout, detect_header, header_role, infer_layout, split_inline_answer
from extractors.model import Document, ExtractionError, Item, Location, enforce_review, flag
from extractors.text import (
    normalize_text, parse_checklist_number, parse_date, parse_dotted_number,
)

DEVICE_HEADINGS = {"サーバ": "サーバ", "サーバー": "サーバ", "端末PC": "端末PC", "端末": "端末PC", "端末pc": "端末PC",
                   "ネットワーク機器": "ネットワーク機器", "NW機器": "ネットワーク機器", "ネットワーク": "ネットワーク機器",
                   "医療情報システム全般": "医療情報システム全般", "全般": "医療情報システム全般"}
BULLETS = "・･•◦‣"
FOOTNOTE_TITLE = re.compile(r"備考記載欄|備考欄[（(]?詳細|注記一覧|備考一覧")
FOOTNOTE_REF = re.compile(r"^(?:※|注|備考|\*|＊)?\s*[(（]?\s*(\d{1,3})\s*[)）]?\s*(?:参照)?$")
EMBEDDED_REF = re.compile(r"※\s*(\d{1,3})")
GUIDELINE_REF = re.compile(r"[(（]\s*((?:\d{1,2}\.\d{1,2}(?:\.C\d{1,2})?[、,]?\s*)+)\s*[)）]\s*$")
COMMENT_LABEL = re.compile(r"^(?:コメント|備考・コメント|コメント欄|補足事項|特記事項)$")


@dataclass
class RowContext:
    table: Table
    table_index: int
    row_index: int
    layout: Layout
    section: str = ""
    scope: str = ""


@dataclass
class _State:
    footnotes: dict[str, str] = field(default_factory=dict)
    header: dict[str, tuple[str, Cell]] = field(default_factory=dict)
    comment: str = ""
    items: list[Item] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # The last numbered row and whether it had answer evidence: bullet rows attach to it.
    parent: Item | None = None
    parent_open: bool = False


def interpret(grid: Grid, sha256: str) -> Document:
    doc = Document(source_file=grid.source, sha256=sha256, format=grid.format, warnings=list(grid.warnings))
    if converted := next((m.group(1) for w in grid.warnings if (m := re.search(r"旧形式\(\.(\w+)\)", w))), ""):
        doc.converted_from = converted
    for table in grid.tables:
        doc.warnings += [w for w in table.warnings if w not in doc.warnings]
    state = _State()
    state.header = collect_header_fields(grid)
    guess = detect_form(grid, _numbering_hint(grid))
    form = guess.form
    doc.family, doc.form_version = guess.family, guess.form_version
    doc.form_id = form.id if form else ""
    _read_tables(grid, form, state)

    if not state.items:
        raise ExtractionError(_not_a_form_message(grid), "not_a_form")
    if doc.family == "unknown":
        doc.family = "checklist_vendor" if any("(" in i.item_id for i in state.items) else "unknown"

    _resolve_footnotes(state.items, state.footnotes)
    resolve_checklist_sections(state.items, form)
    finalise_ids(state.items, doc.family)
    link_catalogue(state.items, form, doc.family)
    label_unnumbered(state.items)
    doc.items = dedupe(state.items, state.warnings)
    doc.footnotes = state.footnotes
    doc.comment = state.comment
    apply_header(doc, state.header, form)
    if form is not None:
        doc.missing_items = missing_catalogue_items(form, {i.catalogue_id for i in doc.items if i.catalogue_id})
    doc.warnings += state.warnings
    if form is None or sum(1 for i in doc.items if i.known) * 2 < len(doc.items):
        _doubt_unknown_form(doc)  # no catalogue form, or one guessed that most rows do not match
    enforce_review(doc.items)
    return doc


UNKNOWN_FORM_REASON = "様式を特定できないため回答を確認してください"


def _doubt_unknown_form(doc: Document) -> None:
    """A form the catalogue does not know is trusted only when each answer is the answer cell's own word
    (「はい」, 「Yes」, 「■いいえ」): then the sheet itself says what was chosen. An answer taken from a column's
    position or header (a mark under an option column) means nothing certain on a form whose columns we do
    not know, and an unknown form with no answer at all may have been misread: every row is flagged."""
    answered = [i for i in doc.items if i.answer]
    if answered and all(answer_is_own_word(i) for i in answered):
        return
    doc.warnings.append("様式を特定できないため、すべての回答を要確認としました")
    for item in doc.items:
        flag(item, UNKNOWN_FORM_REASON, 0.5)






# ---------------------------------------------------------------------------------------------- tables

def _numbering_hint(grid: Grid) -> str:
    dotted = checklist = 0
    for table in grid.tables:
        for row in table.rows[:200]:
            for _, cell in cells(row)[:3]:
                t = normalize_text(cell.text)
                if parse_checklist_number(t)[0]:
                    checklist += 1
                elif parse_dotted_number(t)[0] and "." in parse_dotted_number(t)[0]:
                    dotted += 1
    if checklist > dotted and checklist >= 3:
        return "checklist"
    return "dotted" if dotted >= 3 else ""


def _read_tables(grid: Grid, form: Form | None, state: _State) -> None:
    """Visible tables first; hidden sheets only when the visible ones hold no items."""
    visible = [(i, t) for i, t in enumerate(grid.tables) if not t.hidden]
    hidden = [(i, t) for i, t in enumerate(grid.tables) if t.hidden]
    _read_table_list(grid, visible, form, state)
    if not state.items:
        _read_paragraph_items(grid, form, state)
    if not state.items and hidden:
        _read_table_list(grid, hidden, form, state)
        if state.items:
            state.warnings.append("回答は非表示シートから読み取りました")


def _read_table_list(grid: Grid, tables: list[tuple[int, Table]], form: Form | None, state: _State) -> None:
    carry: Layout | None = None
    footnote_next = False
    section = scope = ""
    for t_idx, table in tables:
        footnote_mode = bool(FOOTNOTE_TITLE.search(normalize_text(table.name))) or footnote_next
        footnote_next = False
        layout = None if footnote_mode or table.kind == "text" else detect_header(table)
        if layout is None and not footnote_mode and table.kind != "text":
            if carry is not None and table.n_cols == carry.n_cols:
                layout = Layout(roles=dict(carry.roles), options=dict(carry.options),
                                option_labels=dict(carry.option_labels), date_cols=dict(carry.date_cols),
                                n_cols=carry.n_cols, inferred=True)
            else:
                layout = infer_layout(table)
        if layout is not None:
            carry = layout
            layout.decoration = table_decoration(table, layout.header_rows, layout.options)
        first_body = (max(layout.header_rows) + 1) if layout and layout.header_rows else 0
        for r, row in enumerate(table.rows):
            texts = [normalize_text(c.text) for _, c in cells(row)]
            joined = " ".join(t for t in texts if t)
            if FOOTNOTE_TITLE.search(joined) and len(joined) < 60:
                footnote_mode = True
                if table.kind == "text":
                    footnote_next = True
                continue
            if footnote_mode:
                _read_footnote_row(row, state)
                continue
            if _read_comment(table, r, row, layout, state):
                continue
            if layout is None or r < first_body:
                continue
            row_section = _section_column(row, RowContext(table, t_idx, r, layout))
            if row_section and row_section != section:
                section, scope = row_section, ""
            ctx = RowContext(table, t_idx, r, layout, section, scope)
            kind = _classify_row(row, ctx, form)
            if kind == "section":
                section, scope = _section_of(row, ctx, section, scope)
                continue
            if kind == "item":
                item = _read_item(row, ctx, form, grid, state)
                if item is not None:
                    state.items.append(item)
                    if item.section:
                        section = item.section
            elif kind == "continuation" and state.items:
                _continue_item(state.items[-1], row, ctx)


_ANSWER_LINE = re.compile(r"^(?:回答|回答欄|確認結果|結果|選択)\s*[:：]\s*(.*)$")
_REMARK_LINE = re.compile(r"^(?:備考|コメント|補足)\s*[:：]\s*(.*)$")


def _read_paragraph_items(grid: Grid, form: Form | None, state: _State) -> None:
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
                    _apply_decision(current, ans.decide_inline(cell), RowContext(table, t_idx, r, layout))
                continue
            if m := _REMARK_LINE.match(norm):
                if current is not None:
                    _set_remark(current, m.group(1), state)
                continue
            number, rest = parse_checklist_number(line, section)
            if not number:
                number, rest = parse_dotted_number(norm)
            bullet = norm[:1] in BULLETS
            if not (number or bullet) or len(rest or norm) < 4:
                continue
            question = rest if number else norm
            split = ans._OPTION_RE.search(question)
            inline = ""
            if split and split.start() > 4 and any(ch in ans.POSITIVE_GLYPHS | ans.NEGATIVE_GLYPHS
                                                   for ch in question[max(0, split.start() - 2):split.start()]):
                inline = question[split.start() - 1:]
                question = question[: split.start() - 1].strip()
            if number and not _is_question_like(question) and not inline:
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
                _apply_decision(item, ans.decide_inline(Cell(text=inline)), ctx)
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


def _read_footnote_row(row: list[Cell], state: _State) -> None:
    """A 備考記載欄 row: 「5 | text」 in two cells, or 「5. text」 in one."""
    present = [c for _, c in cells(row)]
    if not present:
        return
    first = normalize_text(present[0].text)
    m = FOOTNOTE_REF.match(first)
    if not m:
        m2 = re.match(r"^(?:※|注)?\s*(\d{1,3})\s*[.:：、)）]\s*(.+)$", first)
        if m2:
            state.footnotes.setdefault(m2.group(1), m2.group(2).strip())
        return
    rest = [normalize_text(c.text) for c in present[1:]]
    text = "\n".join(t for t in rest if t and not header_role(t) and t not in ("内容", "備考"))
    state.footnotes.setdefault(m.group(1), text)


def _read_comment(table: Table, r: int, row: list[Cell], layout: Layout | None, state: _State) -> bool:
    if layout is not None and r in layout.header_rows:
        return False
    for col, cell in cells(row):
        t = normalize_text(cell.text)
        if not t:
            continue
        m = re.match(r"^(コメント|備考・コメント|コメント欄)\s*[:：]\s*(.+)$", t, re.S)
        if m:
            state.comment = (state.comment + "\n" if state.comment else "") + m.group(2).strip()
            return True
        if COMMENT_LABEL.match(squash_label(t)):
            value = value_right(row, col, check=False)
            text = normalize_text(value.text) if value is not None else ""
            if not text and r + 1 < len(table.rows):
                below = table.rows[r + 1][col] if col < len(table.rows[r + 1]) else None
                if below is not None and below.merged_into is None:
                    text = normalize_text(below.text)
                    below.text = ""  # consumed
                    below.marks = []
            if text:
                state.comment = (state.comment + "\n" if state.comment else "") + text
            return True
        break  # only the first non-empty cell can be a comment label
    return False


def _answer_cells(row: list[Cell], layout: Layout) -> list[Cell]:
    cols = list(layout.options.values())
    if "answer_span" in layout.roles:
        cols += list(range(layout.roles["answer"], layout.roles["answer_span"] + 1))
    for role in ("answer", "first", "second", "target"):
        if role in layout.roles:
            cols.append(layout.roles[role])
    return [_cell_at(row, c) for c in cols if _cell_at(row, c) is not None]


def _stray_mark(row: list[Cell], layout: Layout) -> bool:
    """A lone mark glyph (● ○ ✓ ☑) or a drawn circle in a cell that is not one of the row's answer cells."""
    answer_ids = {id(c) for c in _answer_cells(row, layout)}
    for cell in row:
        if id(cell) in answer_ids or cell.merged_into is not None:
            continue
        text = normalize_text(cell.text).replace(" ", "")
        if text and len(text) <= 2 and all(ch in ans.POSITIVE_GLYPHS for ch in text):
            return True
        if any(m.kind in ("circle", "check") for m in cell.marks):
            return True
    return False


def _cell_at(row: list[Cell], col: int | None) -> Cell | None:
    if col is None or col >= len(row):
        return None
    return row[col]


def _has_evidence(row: list[Cell], layout: Layout) -> bool:
    for cell in _answer_cells(row, layout):
        if cell.merged_into is not None:
            continue
        if normalize_text(cell.text) or cell.marks or cell.choices:
            return True
    return False


def _row_number_and_question(row: list[Cell], ctx: RowContext) -> tuple[str, str, str]:
    """(number as printed, parsed number, question text)."""
    roles = ctx.layout.roles
    num_cell = _cell_at(row, roles.get("number"))
    q_cell = _cell_at(row, roles.get("question"))
    num_text = normalize_text(num_cell.text) if num_cell is not None and num_cell.merged_into is None else ""
    question = q_cell.text if q_cell is not None and q_cell.merged_into is None else ""
    if ctx.layout.inline_answers and q_cell is not None:
        question = split_inline_answer(q_cell)[0]
    if q_cell is None:
        # No question column: the longest text outside the answer cells.
        answer_ids = {id(c) for c in _answer_cells(row, ctx.layout)}
        texts = [c.text for _, c in cells(row) if id(c) not in answer_ids]
        question = max(texts, key=lambda t: len(t or ""), default="")
    question = (question or "").strip()
    printed = num_text
    if num_text and question.startswith(num_text):
        question = question[len(num_text):].strip()
    if not printed:
        # The number printed at the start of the question text.
        raw = normalize_text(question)
        n1, rest1 = parse_checklist_number(question, ctx.section)
        n2, rest2 = parse_dotted_number(raw)
        if n1:
            printed = raw[: len(raw) - len(rest1)].strip()
            return printed, n1, rest1
        if n2:
            printed = raw[: len(raw) - len(rest2)].strip()
            return printed, n2, rest2
        return "", "", normalize_text(question)
    n1, rest1 = parse_checklist_number(num_cell.text, ctx.section)
    if n1 and not rest1:
        return printed, n1, normalize_text(question)
    n2, rest2 = parse_dotted_number(num_text)
    if n2 and not rest2:
        # A bare section digit in the number column and 「(6) …」 in the question: 2(6). A running 「No」
        # (1, 2, 3 … one per row) is not a section: the section comes from the context.
        section = n2 if "." not in n2 and not _running_numbers(ctx) else ctx.section
        qn, qrest = parse_checklist_number(question, section)
        if qn and "." not in n2:
            return f"{printed}{normalize_text(question)[:len(normalize_text(question)) - len(qrest)]}".strip(), qn, qrest
        return printed, n2, normalize_text(question)
    return printed, "", normalize_text(question)


def _running_numbers(ctx: RowContext) -> bool:
    """The number column counts rows (1, 2, 3, 4 …) rather than holding a section digit repeated or merged."""
    col = ctx.layout.roles.get("number")
    if col is None:
        return False
    values = [normalize_text(row[col].text) for row in ctx.table.rows[max(ctx.layout.header_rows or (0,)) + 1:]
              if col < len(row) and row[col].merged_into is None]
    digits = [int(v) for v in values if v.isdigit()]
    return len(digits) >= 4 and len(set(digits)) == len(digits)


def _is_question_like(text: str) -> bool:
    t = normalize_text(text).rstrip()
    return t.endswith(("?", "？", "。", "か", "か。")) or "してください" in t


def _classify_row(row: list[Cell], ctx: RowContext, form: Form | None) -> str:
    non_blank = [(i, c) for i, c in cells(row) if normalize_text(c.text) or c.marks]
    if not non_blank:
        return "blank"
    first_text = normalize_text(non_blank[0][1].text)
    if label_field(first_text) or inline_label(first_text):
        return "blank"  # a header field (事業者名, 作成日) inside the table area
    evidence = _has_evidence(row, ctx.layout)
    printed, number, question = _row_number_and_question(row, ctx)
    only_text = normalize_text(non_blank[0][1].text) if len(non_blank) == 1 else ""
    wide = len(non_blank) == 1 and non_blank[0][1].colspan >= max(2, ctx.layout.n_cols - 1)
    if not evidence and (len(non_blank) == 1 and _device_heading(only_text) or
                         _device_heading(question) and not number):
        return "section"
    if not evidence:
        known = form is not None and number and any(c.number == number for c in form.items)
        if known and (_is_question_like(question) or not wide):
            return "item"
        if not number and question and number_from_question(question, form) is not None:
            return "item"  # a catalogue question whose number was lost (a scan): not a section heading
        if wide or (len(non_blank) == 1 and not _is_question_like(only_text) and
                    only_text[:1] not in BULLETS):  # a bullet left unanswered is still an item row
            return "section"
        if number and question and _is_question_like(question):
            return "item"  # an unanswered numbered row
        if number and "(" not in number and "." not in number and question:
            return "section"  # 「1 体制構築」
        if question and not number:
            if question.lstrip()[:1] in BULLETS:
                return "item"
            if form is not None and best_text_match(question, list(form.items), 85)[0] is not None:
                return "item"
            return "continuation"
        return "blank"
    return "item"


def _device_heading(text: str) -> str:
    """「サーバ」, 「【端末PC】」, 「サーバについて、以下を実施している。」 → the device heading."""
    t = re.sub(r"[\s【】\[\]()（）<>＜＞■◆●・:：]", "", normalize_text(text))
    t = re.sub(r"^(対象|区分)", "", t)
    if t in DEVICE_HEADINGS:
        return DEVICE_HEADINGS[t]
    m = re.match(r"^(サーバー?|端末PC|端末|ネットワーク機器|医療情報システム全般)(について|に関して|に対して|の)", t)
    if m and len(t) <= 30:
        return DEVICE_HEADINGS.get(m.group(1), "")
    return ""


def _section_of(row: list[Cell], ctx: RowContext, section: str, scope: str) -> tuple[str, str]:
    texts = [normalize_text(c.text) for _, c in cells(row) if normalize_text(c.text)]
    for t in texts:
        if device := _device_heading(t):
            return _section_column(row, ctx) or section, device
    text = " ".join(texts)
    m = re.match(r"^\s*(\d{1,2})\s*[.．、]?\s*\D", text)
    if m and "." not in text[: m.end(1) + 1]:
        return m.group(1), ""
    return section, scope


def _section_column(row: list[Cell], ctx: RowContext) -> str:
    """A section number printed in a (merged) cell left of the question: 「2 医療情報システムの管理・運用」."""
    q = ctx.layout.roles.get("question")
    if q is None:
        return ""
    for col in range(0, q):
        if col == ctx.layout.roles.get("number") or col >= len(row):
            continue
        cell = row[col]
        if cell.merged_into is not None:
            r0, c0 = cell.merged_into
            cell = ctx.table.rows[r0][c0]
        m = re.match(r"^\s*(\d{1,2})\s*[.．、]?\s*[^\d.．(（\s]", normalize_text(cell.text))
        if m:
            return m.group(1)
    return ""


def _scope_from_row(row: list[Cell], ctx: RowContext) -> str:
    roles = ctx.layout.roles
    if "scope" in roles:
        cell = _cell_at(row, roles["scope"])
        if cell is not None:
            if cell.merged_into is not None:
                r0, c0 = cell.merged_into
                cell = ctx.table.rows[r0][c0]
            if device := _device_heading(cell.text):
                return device
    for _, cell in cells(row):
        if device := _device_heading(cell.text):
            return device
    return ctx.scope


def _read_item(row: list[Cell], ctx: RowContext, form: Form | None, grid: Grid, state: _State) -> Item | None:
    layout = ctx.layout
    printed, number, question = _row_number_and_question(row, ctx)
    question_clean = question.lstrip(BULLETS + " ").strip()
    is_bullet = question.lstrip()[:1] in BULLETS
    if number and "(" in number and form is not None and form.family in ("mds", "sds") and state.parent_open:
        # 「(1) 記憶」「① 記憶」 under 4.1 in a disclosure form: a numbered bullet, not a checklist item.
        number, is_bullet = "", True
    ref = ""
    if m := GUIDELINE_REF.search(question_clean):
        ref = m.group(1)
        question_clean = question_clean[: m.start()].rstrip()
    recovered = None
    if not number and not is_bullet:
        recovered = number_from_question(question_clean, form, state.parent.item_id
                                         if state.parent is not None and state.parent_open else "")
        number = recovered[0].number if recovered else number
    item = Item(item_id=number, number_printed=printed, question=question_clean, guideline_ref=ref)
    item.scope = _scope_from_row(row, ctx)
    if number and "(" in number:
        item.section = number.split("(")[0]
    elif not number:
        parent = state.parent if state.parent_open else None
        if is_bullet or parent is not None:
            item.kind = "bullet"
            item.parent_id = parent.item_id if parent is not None else ""
    # Remarks
    remark_cell = _cell_at(row, layout.roles.get("remark"))
    if remark_cell is not None and remark_cell.merged_into is None:
        _set_remark(item, remark_cell.text, state)
    # Answers
    fiscal_year = form.fiscal_year if form else None
    decision, answer_cell = _decide(row, layout)
    item.answer_column = next(("／".join(layout.option_labels.get(col, ())) for col in layout.options.values()
                               if answer_cell is not None and _cell_at(row, col) is answer_cell), "")
    if number:
        is_group = form is not None and any(c.number == number and c.kind == "group" for c in form.items)
        state.parent = item
        state.parent_open = is_group or not _has_evidence(row, layout)
        if is_group:
            item.kind = "group"
    _apply_decision(item, decision, ctx)
    if recovered:
        flag_number_from_question(item, *recovered)
    if layout.is_checklist:
        _read_checklist_dates(item, row, layout, decision, fiscal_year)
    loc_cell = answer_cell or _cell_at(row, layout.roles.get("question")) or row[0]
    item.location = Location(file=grid.source,
                             sheet=ctx.table.name if ctx.table.kind != "page" else None,
                             page=ctx.table.page, cell=loc_cell.ref or None, row=ctx.row_index + 1)
    if decision.status == "unanswered" and _stray_mark(row, layout):
        # A mark outside the columns read as answers: the layout was misread, the row is not "unanswered".
        flag(item, "回答欄の外に印があります。回答を確認してください", 0.5)
    if ctx.table.hidden:
        flag(item, "非表示シートの行です")
    elif row and all(c.hidden for c in row):
        flag(item, "非表示の行です")
    elif answer_cell is not None and answer_cell.hidden:
        flag(item, "回答が非表示の列にあります")
    return item


_ONLY_REFS = re.compile(r"^(?:(?:※|注|\*|＊)?\s*\d{1,3}\s*(?:参照)?\s*[、,，・/\s]*)+$")


def _set_remark(item: Item, text: str, state: _State) -> None:
    """Keep the remark and note its footnote references; `_resolve_footnotes` fills them in after all tables.

    「5」, 「※3」, 「※1、※4」 are only references; 「詳細は※3参照」 is text with one.
    """
    raw = (text or "").strip()
    norm = normalize_text(raw)
    if m := FOOTNOTE_REF.match(norm):
        item.remark_ref, item.remark = m.group(1), ""
        return
    if norm and _ONLY_REFS.match(norm) and not re.fullmatch(r"\d{4,}", norm.replace(" ", "")):
        item.remark_ref, item.remark = ",".join(re.findall(r"\d{1,3}", norm)), ""
        return
    item.remark = raw
    if refs := EMBEDDED_REF.findall(norm):
        item.remark_ref = ",".join(dict.fromkeys(refs))


def _resolve_footnotes(items: list[Item], footnotes: dict[str, str]) -> None:
    for item in items:
        if not item.remark_ref:
            continue
        refs = item.remark_ref.split(",")
        notes = [(ref, footnotes.get(ref, "").strip()) for ref in refs]
        item.remark_ref_empty = any(not note for _, note in notes)
        if not item.remark:
            item.remark = "\n".join(note for _, note in notes if note)
        else:
            item.remark += "".join(f"\n（※{ref}）{note}" for ref, note in notes if note)


def _option_cells(row: list[Cell], layout: Layout) -> dict[str, Cell]:
    """Option word -> cell: from option header columns, or from the words printed in the cells under a
    「回答」 header merged over several columns."""
    cells: dict[str, Cell] = {}
    for word, col in sorted(layout.options.items(), key=lambda kv: kv[1]):
        cell = _cell_at(row, col)
        if cell is not None:
            cells[word] = cell
    if cells or "answer_span" not in layout.roles:
        return cells
    for col in range(layout.roles["answer"], layout.roles["answer_span"] + 1):
        cell = _cell_at(row, col)
        if cell is None or cell.merged_into is not None:
            continue
        words = ans._OPTION_RE.findall(normalize_text(cell.text))
        key = words[0] if len(words) == 1 else f"列{col + 1}"
        cells.setdefault(key, cell)
    if len(cells) < 2 or not any(k in ans.ANSWERS for k in cells):
        return {}
    return cells


def _decide(row: list[Cell], layout: Layout) -> tuple[ans.Decision, Cell | None]:
    cells = _option_cells(row, layout)
    if cells:
        decision = ans.decide_option_columns(cells, layout.decoration)
        chosen = next((c for w, c in cells.items() if decision.answer and
                       (w == decision.answer or decision.answer in normalize_text(c.text))), None)
        return decision, chosen or next(iter(cells.values()), None)
    col = layout.roles.get("first", layout.roles.get("answer"))
    cell = _cell_at(row, col)
    if cell is None:
        return ans.Decision(), None
    if layout.inline_answers:
        answer_cell = split_inline_answer(cell)[1]
        return (ans.decide_inline(answer_cell), cell) if answer_cell is not None else (ans.Decision(), cell)
    if cell.merged_into is not None:
        return ans.Decision(), cell
    return ans.decide_inline(cell), cell


def _apply_decision(item: Item, decision: ans.Decision, ctx: RowContext) -> None:
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


def _read_checklist_dates(item: Item, row: list[Cell], layout: Layout, decision: ans.Decision,
                          fiscal_year: int | None) -> None:
    def date_of(cell: Cell | None, text: str = "") -> str:
        if cell is not None and cell.date:
            return cell.date.isoformat()
        d = parse_date(text or (cell.text if cell is not None else ""), fiscal_year)
        return d.isoformat() if d else ""

    item.first_date = date_of(None, decision.date_text) if decision.date_text else ""
    if "first" in layout.date_cols:
        item.first_date = date_of(_cell_at(row, layout.date_cols["first"])) or item.first_date
    target = _cell_at(row, layout.roles.get("target"))
    if target is not None and target.merged_into is None:
        item.target_date = date_of(target)
        if normalize_text(target.text) and not item.target_date and fiscal_year is None:
            flag(item, "目標日の年度が分かりません")
    second = _cell_at(row, layout.roles.get("second"))
    if second is not None and second.merged_into is None:
        options2 = {w: c for w, col in layout.second_options.items() if (c := _cell_at(row, col)) is not None}
        d2 = ans.decide_option_columns(options2) if options2 else ans.decide_inline(second)
        if d2.status == "answered":
            item.second_answer = d2.answer
        elif d2.status in ("ambiguous", "unreadable"):
            flag(item, "2回目の回答を読み取れません")
        item.second_date = date_of(None, d2.date_text) if d2.date_text else ""
        if "second" in layout.date_cols:
            item.second_date = date_of(_cell_at(row, layout.date_cols["second"])) or item.second_date
    if decision.date_text and not item.first_date and fiscal_year is None:
        flag(item, "日付の年度が分かりません")


def _continue_item(item: Item, row: list[Cell], ctx: RowContext) -> None:
    """A wrapped row (PDF page break, Word soft row) that only continues the previous item's texts."""
    q_cell = _cell_at(row, ctx.layout.roles.get("question"))
    r_cell = _cell_at(row, ctx.layout.roles.get("remark"))
    if q_cell is not None and normalize_text(q_cell.text):
        item.question = f"{item.question}{normalize_text(q_cell.text)}"
    if r_cell is not None and normalize_text(r_cell.text):
        item.remark = f"{item.remark}\n{r_cell.text.strip()}" if item.remark else r_cell.text.strip()


def _not_a_form_message(grid: Grid) -> str:
    names = "、".join(t.name for t in grid.tables[:5] if t.name)
    sample = ""
    for table in grid.tables:
        for row in table.rows[:5]:
            for _, c in cells(row):
                if normalize_text(c.text):
                    sample = normalize_text(c.text)[:30]
                    break
            if sample:
                break
        if sample:
            break
    kind = {"xlsx": "表計算ファイル", "docx": "Word文書", "pdf": "PDF"}.get(grid.format, "ファイル")
    desc = f"（{names}）" if names else ""
    head = f"先頭の記載は「{sample}」です。" if sample else "読み取れる文字がありません。"
    return (f"{kind}{desc}ですが、医療情報セキュリティ開示書（MDS/SDS）やチェックリストの回答項目が見つかりません。"
            f"{head}開示書・チェックリストかどうか確認し、正しいファイルを事業者に依頼してください。")
