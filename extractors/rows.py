"""What one table row is: an item, a section or device heading, a continuation; its number, question and scope."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import extractors.answer_cells as ans
from extractors.catalogue_link import (
    number_from_question,
)
from extractors.formdetect import inline_label, label_field
from extractors.forms import Form, best_text_match
from extractors.grid import Cell, Table
from extractors.header_fields import cells
from extractors.layout import Layout
from extractors.layout_infer import split_inline_answer
from extractors.model import Item
from extractors.text import normalize_text, parse_checklist_number, parse_dotted_number

DEVICE_HEADINGS = {"サーバ": "サーバ", "サーバー": "サーバ", "端末PC": "端末PC", "端末": "端末PC", "端末pc": "端末PC",
                   "ネットワーク機器": "ネットワーク機器", "NW機器": "ネットワーク機器", "ネットワーク": "ネットワーク機器",
                   "医療情報システム全般": "医療情報システム全般", "全般": "医療情報システム全般"}


BULLETS = "・･•◦‣"


@dataclass
class RowContext:
    table: Table
    table_index: int
    row_index: int
    layout: Layout
    section: str = ""
    scope: str = ""


@dataclass
class ReadState:
    footnotes: dict[str, str] = field(default_factory=dict)
    header: dict[str, tuple[str, Cell]] = field(default_factory=dict)
    comment: str = ""
    items: list[Item] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # The last numbered row and whether it had answer evidence: bullet rows attach to it.
    parent: Item | None = None
    parent_open: bool = False


def answer_cells(row: list[Cell], layout: Layout) -> list[Cell]:
    cols = list(layout.options.values())
    if "answer_span" in layout.roles:
        cols += list(range(layout.roles["answer"], layout.roles["answer_span"] + 1))
    for role in ("answer", "first", "second", "target"):
        if role in layout.roles:
            cols.append(layout.roles[role])
    return [cell_at(row, c) for c in cols if cell_at(row, c) is not None]


def stray_mark(row: list[Cell], layout: Layout) -> bool:
    """A lone mark glyph (● ○ ✓ ☑) or a drawn circle in a cell that is not one of the row's answer cells."""
    answer_ids = {id(c) for c in answer_cells(row, layout)}
    for cell in row:
        if id(cell) in answer_ids or cell.merged_into is not None:
            continue
        text = normalize_text(cell.text).replace(" ", "")
        if text and len(text) <= 2 and all(ch in ans.POSITIVE_GLYPHS for ch in text):
            return True
        if any(m.kind in ("circle", "check") for m in cell.marks):
            return True
    return False


def cell_at(row: list[Cell], col: int | None) -> Cell | None:
    if col is None or col >= len(row):
        return None
    return row[col]


def has_evidence(row: list[Cell], layout: Layout) -> bool:
    for cell in answer_cells(row, layout):
        if cell.merged_into is not None:
            continue
        if normalize_text(cell.text) or cell.marks or cell.choices:
            return True
    return False


def row_number_and_question(row: list[Cell], ctx: RowContext) -> tuple[str, str, str]:
    """(number as printed, parsed number, question text)."""
    roles = ctx.layout.roles
    num_cell = cell_at(row, roles.get("number"))
    q_cell = cell_at(row, roles.get("question"))
    num_text = normalize_text(num_cell.text) if num_cell is not None and num_cell.merged_into is None else ""
    question = q_cell.text if q_cell is not None and q_cell.merged_into is None else ""
    if ctx.layout.inline_answers and q_cell is not None:
        question = split_inline_answer(q_cell)[0]
    if q_cell is None:
        # No question column: the longest text outside the answer cells.
        answer_ids = {id(c) for c in answer_cells(row, ctx.layout)}
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
        if not n1 and (bare := parse_checklist_number(question, ctx.section, bare=True))[0] and \
                _bare_checklist_item(row, ctx, bare[1]):
            n1, rest1 = bare
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
        section = n2 if "." not in n2 and not running_numbers(ctx) else ctx.section
        qn, qrest = parse_checklist_number(question, section)
        if qn and "." not in n2:
            return f"{printed}{normalize_text(question)[:len(normalize_text(question)) - len(qrest)]}".strip(), qn, qrest
        if "." not in n2 and _bare_checklist_item(row, ctx, normalize_text(question)) and not running_numbers(ctx):
            # A checklist under a section (its own column or rows) with 「4」 in the number column: item (4).
            return printed, f"{ctx.section}({int(n2)})", normalize_text(question)
        return printed, n2, normalize_text(question)
    return printed, "", normalize_text(question)


def _bare_checklist_item(row: list[Cell], ctx: RowContext, question: str) -> bool:
    """A number printed without brackets (「4 …」「4) …」, 「4」 in the number column) is the checklist item (4)
    of the current section: the layout is a checklist's (date columns), a section is known (its own column
    or heading rows), and the row reads as an item (a question, or answered), not as a section heading."""
    return bool(ctx.layout.is_checklist and ctx.section and question and
                (is_question_like(question) or has_evidence(row, ctx.layout)))


def running_numbers(ctx: RowContext) -> bool:
    """The number column counts rows (1, 2, 3, 4 …) rather than holding a section digit repeated or merged."""
    col = ctx.layout.roles.get("number")
    if col is None:
        return False
    values = [normalize_text(row[col].text) for row in ctx.table.rows[max(ctx.layout.header_rows or (0,)) + 1:]
              if col < len(row) and row[col].merged_into is None]
    digits = [int(v) for v in values if v.isdigit()]
    return len(digits) >= 4 and len(set(digits)) == len(digits)


def is_question_like(text: str) -> bool:
    t = normalize_text(text).rstrip()
    return t.endswith(("?", "？", "。", "か", "か。")) or "してください" in t


def classify_row(row: list[Cell], ctx: RowContext, form: Form | None) -> str:
    non_blank = [(i, c) for i, c in cells(row) if normalize_text(c.text) or c.marks]
    if not non_blank:
        return "blank"
    first_text = normalize_text(non_blank[0][1].text)
    if label_field(first_text) or inline_label(first_text):
        return "blank"  # a header field (事業者名, 作成日) inside the table area
    evidence = has_evidence(row, ctx.layout)
    printed, number, question = row_number_and_question(row, ctx)
    only_text = normalize_text(non_blank[0][1].text) if len(non_blank) == 1 else ""
    wide = len(non_blank) == 1 and non_blank[0][1].colspan >= max(2, ctx.layout.n_cols - 1)
    if not evidence and (len(non_blank) == 1 and device_heading(only_text) or
                         device_heading(question) and not number):
        return "section"
    if not evidence:
        known = form is not None and number and any(c.number == number for c in form.items)
        if known and (is_question_like(question) or not wide):
            return "item"
        if not number and question and number_from_question(question, form) is not None:
            return "item"  # a catalogue question whose number was lost (a scan): not a section heading
        if wide or (len(non_blank) == 1 and not is_question_like(only_text) and
                    only_text[:1] not in BULLETS):  # a bullet left unanswered is still an item row
            return "section"
        if number and question and is_question_like(question):
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


def device_heading(text: str) -> str:
    """「サーバ」, 「【端末PC】」, 「サーバについて、以下を実施している。」 → the device heading."""
    t = re.sub(r"[\s【】\[\]()（）<>＜＞■◆●・:：]", "", normalize_text(text))
    t = re.sub(r"^(対象|区分)", "", t)
    if t in DEVICE_HEADINGS:
        return DEVICE_HEADINGS[t]
    m = re.match(r"^(サーバー?|端末PC|端末|ネットワーク機器|医療情報システム全般)(について|に関して|に対して|の)", t)
    if m and len(t) <= 30:
        return DEVICE_HEADINGS.get(m.group(1), "")
    return ""


def section_of(row: list[Cell], ctx: RowContext, section: str, scope: str) -> tuple[str, str]:
    texts = [normalize_text(c.text) for _, c in cells(row) if normalize_text(c.text)]
    for t in texts:
        if device := device_heading(t):
            return section_column(row, ctx) or section, device
    text = " ".join(texts)
    m = re.match(r"^\s*(\d{1,2})\s*[.．、]?\s*\D", text)
    if m and "." not in text[: m.end(1) + 1]:
        return m.group(1), ""
    return section, scope


def section_column(row: list[Cell], ctx: RowContext) -> str:
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


def scope_from_row(row: list[Cell], ctx: RowContext) -> str:
    roles = ctx.layout.roles
    if "scope" in roles:
        cell = cell_at(row, roles["scope"])
        if cell is not None:
            if cell.merged_into is not None:
                r0, c0 = cell.merged_into
                cell = ctx.table.rows[r0][c0]
            if device := device_heading(cell.text):
                return device
    for _, cell in cells(row):
        if device := device_heading(cell.text):
            return device
    return ctx.scope
