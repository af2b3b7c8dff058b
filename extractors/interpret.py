"""One interpreter for every format: a `Grid` in, a `Document` out.

It finds the form (title), the header fields, the header row and column roles of each table, the
item rows (by item number and question text, never by position), bullet rows, section and device
headings, the 備考記載欄 footnotes and the コメント box, decides each answer, and links every row to
the form catalogue. Rows the catalogue lacks are kept, marked unknown.
"""
from __future__ import annotations

import re

from extractors.answer_cells import table_decoration
from extractors.catalogue_link import (
    answer_is_own_word,
    dedupe,
    finalise_ids,
    flag_number_from_question,
    label_unnumbered,
    link_catalogue,
    number_from_question,
    resolve_checklist_sections,
)
from extractors.formdetect import detect_form
from extractors.forms import Form, missing_catalogue_items
from extractors.grid import Cell, Grid, Table
from extractors.header_fields import (
    apply_header,
    cells,
    collect_header_fields,
    guideline_version,
)
from extractors.layout import Layout, detect_header, repeated_header
from extractors.layout_infer import infer_layout
from extractors.mds2 import detect_mds2, read_mds2
from extractors.model import (
    Document,
    ExtractionError,
    Item,
    Location,
    enforce_review,
    flag,
)
from extractors.notes import (
    FOOTNOTE_TITLE,
    read_comment,
    read_footnote_row,
    resolve_footnotes,
    set_remark,
)
from extractors.paragraphs import read_paragraph_items
from extractors.row_answers import apply_decision, decide_row, read_checklist_dates
from extractors.rows import (
    BULLETS,
    ReadState,
    RowContext,
    cell_at,
    classify_row,
    has_evidence,
    row_number_and_question,
    scope_from_row,
    section_column,
    section_of,
    stray_mark,
)
from extractors.text import (
    normalize_text,
    parse_checklist_number,
    parse_dotted_number,
)

GUIDELINE_REF = re.compile(r"[(（]\s*((?:\d{1,2}\.\d{1,2}(?:\.C\d{1,2})?[、,]?\s*)+)\s*[)）]\s*$")


def interpret(grid: Grid, sha256: str) -> Document:
    doc = Document(source_file=grid.source, sha256=sha256, format=grid.format, warnings=list(grid.warnings))
    if converted := next((m.group(1) for w in grid.warnings if (m := re.search(r"旧形式\(\.(\w+)\)", w))), ""):
        doc.converted_from = converted
    if mds2_version := detect_mds2(grid):  # the US NEMA form: its own reader (extractors.mds2)
        mds2 = read_mds2(grid, sha256, mds2_version)
        mds2.converted_from = doc.converted_from
        return mds2
    for table in grid.tables:
        doc.warnings += [w for w in table.warnings if w not in doc.warnings]
    state = ReadState()
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

    resolve_footnotes(state.items, state.footnotes)
    resolve_checklist_sections(state.items, form)
    finalise_ids(state.items, doc.family)
    link_catalogue(state.items, form, doc.family)
    label_unnumbered(state.items)
    doc.items = dedupe(state.items, state.warnings)
    doc.footnotes = state.footnotes
    doc.comment = state.comment
    apply_header(doc, state.header, form)
    doc.guideline_version = guideline_version(grid)
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


def _read_tables(grid: Grid, form: Form | None, state: ReadState) -> None:
    """Visible tables first; hidden sheets only when the visible ones hold no items."""
    visible = [(i, t) for i, t in enumerate(grid.tables) if not t.hidden]
    hidden = [(i, t) for i, t in enumerate(grid.tables) if t.hidden]
    _read_table_list(grid, visible, form, state)
    if not state.items:
        read_paragraph_items(grid, form, state)
    if not state.items and hidden:
        _read_table_list(grid, hidden, form, state)
        if state.items:
            state.warnings.append("回答は非表示シートから読み取りました")


def _read_table_list(grid: Grid, tables: list[tuple[int, Table]], form: Form | None, state: ReadState) -> None:
    carry: Layout | None = None
    footnote_next = False
    section = scope = ""
    footnote_table: Table | None = None  # the last table read as 備考記載欄 notes
    for t_idx, table in tables:
        footnote_mode = bool(FOOTNOTE_TITLE.search(normalize_text(table.name))) or footnote_next \
            or _continues_footnotes(footnote_table, table)
        footnote_next = False
        if table.kind != "text":  # a page number or footer line between the two pages' notes is no table
            footnote_table = None
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
                read_footnote_row(row, state)
                footnote_table = table if table.kind == "page" else None
                continue
            if layout is not None and r >= first_body and (again := repeated_header(table, r, layout)):
                # The header repeated below a page break (or a new header for the rest of the table).
                if again.roles != layout.roles or again.options != layout.options:
                    again.decoration = table_decoration(table, again.header_rows, again.options)
                layout = carry = again
                first_body = max(again.header_rows) + 1
                continue
            if read_comment(table, r, row, layout, state):
                continue
            if layout is None or r < first_body:
                continue
            if r == first_body and _split_over_page(row, table, layout, state):
                _continue_item(state.items[-1], row, RowContext(table, t_idx, r, layout))
                continue
            row_section = section_column(row, RowContext(table, t_idx, r, layout))
            if row_section and row_section != section:
                section, scope = row_section, ""
            ctx = RowContext(table, t_idx, r, layout, section, scope)
            kind = classify_row(row, ctx, form)
            if kind == "section":
                section, scope = section_of(row, ctx, section, scope)
                continue
            if kind == "item":
                item = _read_item(row, ctx, form, grid, state)
                if item is not None:
                    state.items.append(item)
                    if item.section:
                        section = item.section
            elif kind == "continuation" and state.items:
                _continue_item(state.items[-1], row, ctx)


def _split_over_page(row: list[Cell], table: Table, layout: Layout, state: ReadState) -> bool:
    """The first row of a table going on from the previous page is the rest of the last item's row when a
    page break cut the row, its item number too (「12.3.」 | 「1.1」): the printed pieces join into one item number
    and the row holds no answer. The last item takes the joined number; the caller appends its texts."""
    prev = state.items[-1] if state.items else None
    cell = cell_at(row, layout.roles.get("number"))
    if prev is None or cell is None or table.page is None or prev.location is None or \
            prev.location.page != table.page - 1 or has_evidence(row, layout):
        return False
    piece, printed = normalize_text(cell.text).replace(" ", ""), prev.number_printed.replace(" ", "")
    if not piece or not printed or not (piece[0] == "." or printed[-1] == "."):
        return False
    joined = printed + piece
    number, rest = parse_dotted_number(joined)
    if not number or rest or joined.rstrip(".") != number:
        return False
    prev.item_id = prev.number_printed = number
    if piece[0] != ".":  # 「3.」 | 「4.」 would be two items: joined only when it reads as one number
        flag(prev, "ページの区切りで分かれた行を1つの項目として読みました。番号と質問を確認してください")
    return True


def _continues_footnotes(notes: Table | None, table: Table) -> bool:
    """A printed 備考記載欄 broken by a page break: the next page's first table, with the notes table's columns
    and no header of its own, goes on with the notes."""
    return (notes is not None and table.kind == "page" and notes.page is not None and table.page == notes.page + 1
            and table.n_cols == notes.n_cols and detect_header(table) is None)


def _read_item(row: list[Cell], ctx: RowContext, form: Form | None, grid: Grid, state: ReadState) -> Item | None:
    layout = ctx.layout
    printed, number, question = row_number_and_question(row, ctx)
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
    item.scope = scope_from_row(row, ctx)
    if number and "(" in number:
        item.section = number.split("(")[0]
    elif not number:
        parent = state.parent if state.parent_open else None
        if is_bullet or parent is not None:
            item.kind = "bullet"
            item.parent_id = parent.item_id if parent is not None else ""
    # Remarks
    remark_cell = cell_at(row, layout.roles.get("remark"))
    if remark_cell is not None and remark_cell.merged_into is None:
        set_remark(item, remark_cell.text, state)
    # Answers
    fiscal_year = form.fiscal_year if form else None
    decision, answer_cell = decide_row(row, layout)
    item.answer_column = next(("／".join(layout.option_labels.get(col, ())) for col in layout.options.values()
                               if answer_cell is not None and cell_at(row, col) is answer_cell), "")
    if number:
        is_group = form is not None and any(c.number == number and c.kind == "group" for c in form.items)
        state.parent = item
        state.parent_open = is_group or not has_evidence(row, layout)
        if is_group:
            item.kind = "group"
    apply_decision(item, decision, ctx)
    if recovered:
        flag_number_from_question(item, *recovered)
    if layout.is_checklist:
        read_checklist_dates(item, row, layout, decision, fiscal_year)
    loc_cell = answer_cell or cell_at(row, layout.roles.get("question")) or row[0]
    item.location = Location(file=grid.source,
                             sheet=ctx.table.name if ctx.table.kind != "page" else None,
                             page=ctx.table.page, cell=loc_cell.ref or None, row=ctx.row_index + 1)
    if decision.status == "unanswered" and stray_mark(row, layout):
        # A mark outside the columns read as answers: the layout was misread, the row is not "unanswered".
        flag(item, "回答欄の外に印があります。回答を確認してください", 0.5)
    if reason := ctx.table.row_doubt.get(ctx.row_index):
        flag(item, reason)
    if ctx.table.hidden:
        flag(item, "非表示シートの行です")
    elif row and all(c.hidden for c in row):
        flag(item, "非表示の行です")
    elif answer_cell is not None and answer_cell.hidden:
        flag(item, "回答が非表示の列にあります")
    return item


def _continue_item(item: Item, row: list[Cell], ctx: RowContext) -> None:
    """A wrapped row (PDF page break, Word soft row) that only continues the previous item's texts."""
    q_cell = cell_at(row, ctx.layout.roles.get("question"))
    r_cell = cell_at(row, ctx.layout.roles.get("remark"))
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
