"""Find a table's header row and what each column holds (number, question, options, answer, dates, remark).

Header wording varies by vendor (「項目」「確認項目」「質問」, 「回答」「確認結果」, 「備考」「コメント」), headers
span two rows (「確認結果」 over 「1回目 | 目標日 | 2回目」, 「回答」 over 「はい | いいえ | 対象外」), and some tables
have no header at all (a continuation page, an inline-option Word table). Without a header the roles are
inferred from the content of the column.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from extractors.grid import Cell, Table
from extractors.text import normalize_text, parse_checklist_number, parse_dotted_number
from extractors.vocabulary import CHOICE, NO, NOT_APPLICABLE, OPTION_RE, OPTION_WORDS, YES

# role -> header words (normalised, compared without spaces). Order matters: first match wins.
HEADER_WORDS: list[tuple[str, tuple[str, ...]]] = [
    ("target", ("目標日", "対応目標日", "目標", "対応予定日", "予定日")),
    ("first", ("1回目", "一回目", "初回", "第1回")),
    ("second", ("2回目", "二回目", "第2回", "3回目")),
    ("remark", ("備考", "備考欄", "コメント", "補足", "説明", "特記事項", "備考(補足説明)", "備考・補足")),
    ("ref", ("参照", "ガイドライン", "ガイドライン参照", "該当箇所", "参照先", "根拠", "GL参照", "ガイドライン項番",
             "参照項目", "対応するガイドライン")),
    ("number", ("項番", "番号", "No", "NO", "No.", "NO.", "#", "項目番号", "ID", "通番")),
    ("question", ("確認項目", "項目", "質問", "質問項目", "内容", "確認事項", "チェック項目", "設問", "チェック内容",
                  "要求事項", "確認内容", "項目内容", "質問内容", "評価項目", "対策項目")),
    ("answer", ("回答", "回答欄", "確認結果", "結果", "選択", "回答(選択)", "チェック", "確認結果(日付)", "対応状況",
                "実施状況", "回答結果", "Answer")),
    ("date", ("日付", "確認日", "実施日", "回答日", "確認日付")),
    ("scope", ("対象", "区分", "対象機器", "機器", "分類")),
]

NUMBER_OR_NO = {"No", "NO", "no"}  # a number column's header, or the English option 「No」
_MARK_GLYPHS = set("○〇◯●◎✓✔☑☒■✅レ✗×")


@dataclass
class Layout:
    """Column roles of a table: role -> column index; options: answer word -> column index."""

    roles: dict[str, int] = field(default_factory=dict)
    options: dict[str, int] = field(default_factory=dict)
    # Option column -> the answer words its header prints (「いいえ／非該当」 → (いいえ, 非該当)).
    option_labels: dict[int, tuple[str, ...]] = field(default_factory=dict)
    date_cols: dict[str, int] = field(default_factory=dict)  # first/second -> date column beside it
    # A checklist's 2回目 with its own option columns (「2回目」 over 「はい | いいえ | 日付」): word -> column.
    second_options: dict[str, int] = field(default_factory=dict)
    header_rows: tuple[int, ...] = ()
    n_cols: int = 0
    inferred: bool = False
    # Header cells reading 「No」: an item-number column or the English いいえ option (decided by content).
    undecided: list[int] = field(default_factory=list)
    # The table's shading (extractors.decoration.Decoration), set by the interpreter per table.
    decoration: object = None
    # The answer is written at the end of the question cell: 「4.3 アクセスログ…？ ■はい □いいえ」.
    inline_answers: bool = False

    @property
    def is_checklist(self) -> bool:
        return "first" in self.roles or "target" in self.roles


_SQUASH = re.compile(r"[\s　:：・]")


def _squash(text: str) -> str:
    return _SQUASH.sub("", normalize_text(text))


# HEADER_WORDS as header_role compares them (squashed once, not per header cell)
_SQUASHED_HEADER_WORDS = [(role, tuple(_squash(w) for w in words)) for role, words in HEADER_WORDS]


def header_role(text: str, exact: bool = False) -> tuple[str, str] | None:
    """('option', 'はい') | ('question', '') … for a header cell's text, or None.

    `exact`: only whole header words (「回答」), not words that merely contain one (「確認結果(日付)」).
    """
    t = _squash(text)
    words = [p for p in re.split(r"[,，、/／\s]+|\bor\b", normalize_text(text)) if p]
    if 2 < len(words) <= 8 and len({OPTION_WORDS[w] for w in words if w in OPTION_WORDS} & {YES, NO, NOT_APPLICABLE}) >= 2:
        return "answer", ""  # 「Yes, No, N/A, or See Note」: the options of one answer column
    if not t or len(t) > 16 or normalize_text(text)[:1] in "・･•◦‣":
        return None  # a bullet row (「・記憶（ID・パスワード等）」) is never a header cell
    if t in OPTION_WORDS:
        return "option", OPTION_WORDS[t]
    if words := option_header_words(text):
        if len({CHOICE[w].column for w in words}) > 1:
            return "answer", ""  # 「はい・いいえ」: the choices to write in one answer column
        return "option", words[0]  # 「はい/該当」: the column serves both answer sets
    if ("日付" in t or re.search(r"(実施|確認|回答)日$", t)) and not re.search(r"目標|予定|結果", t) \
            and ("回目" in t or "回答" not in t):
        return "date", ""
    for role, words in _SQUASHED_HEADER_WORDS:
        if t in words:
            return role, ""
    if exact:
        return None
    for role, words in _SQUASHED_HEADER_WORDS:
        for sw in words:
            if len(sw) >= 2 and sw in t and role not in ("question",):
                if role == "answer" and ("日" in t and "回目" not in t):
                    continue
                return role, ""
    if "項目" in t or "質問" in t:
        return "question", ""
    return None


def option_header_words(text: str) -> tuple[str, ...]:
    """The answer words of a combined option header: 「はい／該当」「はい（該当）」 → (はい, 該当); () otherwise.

    A line break inside a word is a wrap of a narrow cell (「いいえ／非⏎該当」), so lines are joined first;
    lines that are each an option word (「はい⏎該当」) are separate words."""
    flat = normalize_text(text).replace(" ", "")
    for separators, t in ((r"[/／|｜()（）・、,]", flat.replace("\n", "")), (r"[/／\n|｜()（）・、,]", flat)):
        parts = [p for p in re.split(separators, t) if p]
        if len(parts) > 1 and all(p in OPTION_WORDS for p in parts):
            return tuple(OPTION_WORDS[p] for p in parts)
    return ()


def row_cells(row: list[Cell]) -> list[tuple[int, Cell]]:
    return [(i, c) for i, c in enumerate(row) if c.merged_into is None]


def detect_header(table: Table, start: int = 0, max_scan: int = 40) -> Layout | None:
    """The first row (from `start`) that reads as a header, merged with a second header row if any."""
    rows = table.rows
    for r in range(start, min(len(rows), start + max_scan)):
        wrapped = merge_wrapped_header(rows, r)
        layout = _layout_from_row(wrapped[0] if wrapped is not None else rows[r])
        if not _looks_like_header(layout):
            continue
        header_rows = [r]
        # A second header row below: options under 「回答」, or 1回目/目標日/2回目 under 「確認結果」; a third
        # row may split 1回目 and 2回目 into 「回答 | 日付」. Pieces of a wrapped header word in the second row
        # (「備」 over 「考」) are part of the top row; its other cells may still be sub-header words.
        candidates = [(n, rows[n]) for n in (r + 1, r + 2) if n < len(rows)]
        if wrapped is not None:
            header_rows.append(r + 1)
            candidates[0] = (r + 1, wrapped[1])
        first_sub = r + 1
        for nxt, sub_row in candidates:
            below = _layout_from_row(sub_row)
            sub = below.options or "first" in below.roles or "target" in below.roles or (
                nxt > first_sub and "first" in layout.roles and any(k == "answer" or k.startswith("date@")
                                                                    for k in below.roles))
            if not (sub and not _row_has_item_number(sub_row) and _all_header_words(sub_row)):
                if nxt == first_sub and wrapped is not None:
                    continue  # only wrapped pieces in the second row: a third row may still be a sub-header
                break
            for role, col in below.roles.items():
                layout.roles.setdefault(role, col)
            layout.options.update(below.options)
            layout.option_labels.update(below.option_labels)
            if nxt not in header_rows:
                header_rows.append(nxt)
        if "first" in layout.roles:  # 「確認結果（日付）」 over 1回目 | 目標日 | 2回目
            layout.roles.pop("answer", None)
            layout.roles.pop("answer_span", None)
        if layout.options and "answer" in layout.roles and (
                layout.roles["answer"] in layout.options.values() or "answer_span" in layout.roles):
            del layout.roles["answer"]
        if "answer" not in layout.roles:
            layout.roles.pop("answer_span", None)
        if len(layout.options) == 1 and not any(r in layout.roles for r in ("answer", "first")):
            # One option word over one column (「Yes」, 「はい」) is no choice between options: the column is
            # the answer column, and each cell is read by its own word, never by the header's.
            layout.roles["answer"] = layout.options.popitem()[1]
        _pair_dates(layout)
        _second_round_options(rows, header_rows, layout)
        layout.header_rows = tuple(header_rows)
        layout.n_cols = table.n_cols
        resolve_number_columns(table, layout)
        _split_merged_question(table, layout)
        _find_unlabelled_number(table, layout)
        _checklist_target_from_content(table, layout)
        return layout
    return None


def repeated_header(table: Table, r: int, layout: Layout) -> Layout | None:
    """Row r of a table body that is a header row again (the table continued below a page break, its
    header repeated): the layout to read on with, its `header_rows` the rows to skip; None for a body row.

    Every filled cell of the row is a header word, with no mark and no item number. When its columns read
    as the current header's, the current layout goes on; otherwise the layout is detected anew from it."""
    row = table.rows[r]
    wrapped = merge_wrapped_header(table.rows, r)
    top = wrapped[0] if wrapped is not None else row
    filled = [c for _, c in row_cells(top) if normalize_text(c.text) or any(m.kind in ANSWER_MARKS for m in c.marks)]
    if _row_has_item_number(row) or not filled or not all(
            header_role(c.text) and not any(m.kind in ANSWER_MARKS for m in c.marks) for c in filled):
        return None
    found = detect_header(table, start=r, max_scan=1)
    if found is None:
        return None
    if found.roles == layout.roles and found.options == layout.options:
        return replace(layout, header_rows=found.header_rows)
    return found


ANSWER_MARKS = {"circle", "check", "strike"}


def _layout_from_row(row: list[Cell]) -> Layout:
    layout = Layout()
    for col, cell in row_cells(row):
        hr = header_role(cell.text)
        if not hr:
            continue
        role, word = hr
        if role == "option" and any(m.kind in ANSWER_MARKS for m in cell.marks):
            return Layout()  # a circled option word: an answered row, not a header
        if role == "option" and _squash(cell.text) in NUMBER_OR_NO:
            layout.undecided.append(col)
        elif role == "option":
            layout.options.setdefault(word, col)
            layout.option_labels.setdefault(col, option_header_words(cell.text) or (word,))
        elif role == "date":
            layout.roles.setdefault(f"date@{col}", col)
        else:
            layout.roles.setdefault(role, col)
            # A merged 「回答」 header over several columns: remember the span for option detection.
            if cell.colspan > 1:
                layout.roles.setdefault(f"{role}_span", col + cell.colspan - 1)
    _place_undecided(layout)
    return layout


def _place_undecided(layout: Layout) -> None:
    """「No」 left of the question and of every option is the item-number column; elsewhere it is いいえ.
    (A first guess from the header alone; `resolve_number_columns` checks it against the column's content.)"""
    for col in layout.undecided:
        later = [c for c in list(layout.options.values()) + [layout.roles.get("question", -1)] if c >= 0]
        if "number" not in layout.roles and all(col < c for c in later):
            layout.roles["number"] = col
        else:
            layout.options.setdefault(NO, col)


def merge_wrapped_header(rows: list[list[Cell]], r: int) -> tuple[list[Cell], list[Cell]] | None:
    """Row r's header cells with their wrapped remainder from row r+1 joined in (「備」 over 「考」, 「チェック」
    over 「項目」, 「いいえ／非」 over 「該当」), and row r+1 without those pieces; None when nothing wraps.

    Per column, the texts of the two rows joined top to bottom form the word: a column whose two pieces make
    a whole header word of another role than the top piece alone is one wrapped word. Every other filled cell
    of row r+1 must be a header word of its own (「1回目 | 目標日 | 2回目」 under 「確認結果（日付）」); row r+1
    holds no mark and no item number."""
    if r + 1 >= len(rows):
        return None
    top, below = rows[r], rows[r + 1]
    if _row_has_item_number(below):
        return None
    merged = [Cell(text=c.text, marks=c.marks, colspan=c.colspan, merged_into=c.merged_into, ref=c.ref)
              for c in top]
    rest = [Cell(text=c.text, marks=c.marks, colspan=c.colspan, merged_into=c.merged_into, ref=c.ref)
            for c in below]
    joined_any = False
    for col, cell in row_cells(below):
        text = normalize_text(cell.text)
        marked = any(m.kind not in ("fill", "emphasis") for m in cell.marks)  # header rows: shaded, bold
        if not text and not marked:
            continue
        if not text or marked or len(_squash(text)) > 8:
            return None
        above = top[col] if col < len(top) else None
        above_text = normalize_text(above.text) if above is not None and above.merged_into is None else ""
        joined = above_text + text
        role = header_role(joined, exact=True) if above_text else None
        if role and role != header_role(above_text, exact=True) and (
                cell.colspan <= 1 or cell.colspan == above.colspan):
            merged[col].text = joined
            rest[col].text, rest[col].marks = "", []
            joined_any = True
        elif not header_role(text):
            return None
    return (merged, rest) if joined_any else None


def resolve_number_columns(table: Table, layout: Layout) -> None:
    """Check number and option columns against what their body holds: a column of distinct item numbers
    is the number column whatever its header says (「No」 read as いいえ); a 「No」 column of marks is いいえ."""
    body = table.rows[max(layout.header_rows or (0,)) + 1:][:120]

    def profile(col: int) -> tuple[int, int]:
        numbers, marks = set(), 0
        for row in body:
            if col >= len(row) or row[col].merged_into is not None:
                continue
            t = normalize_text(row[col].text)
            if is_number_text(t):
                numbers.add(t.replace(" ", ""))
            elif t and (any(ch in _MARK_GLYPHS for ch in t) or len(t) <= 2) or \
                    any(m.kind in ("circle", "check") for m in row[col].marks):
                marks += 1
        return len(numbers), marks

    for word, col in list(layout.options.items()):
        n_numbers, n_marks = profile(col)
        if n_numbers >= 3 and n_numbers > n_marks:
            del layout.options[word]
            layout.roles.setdefault("number", col)
            if word == NO:  # 「No」 was the number column: a later 「No」 may be the option
                for other in layout.undecided:
                    if other != col and other not in layout.options.values() and other != layout.roles["number"]:
                        layout.options[NO] = other
                        break
    number = layout.roles.get("number")
    if number in layout.undecided and NO not in layout.options:
        n_numbers, n_marks = profile(number)
        if n_marks >= 2 and n_numbers == 0:
            del layout.roles["number"]
            layout.options[NO] = number


def _all_header_words(row: list[Cell]) -> bool:
    """Every filled cell of the row is a header word (a second header row holds no marks, no bullets)."""
    filled = [c for _, c in row_cells(row) if normalize_text(c.text) or c.marks]
    return bool(filled) and all(header_role(c.text) and not any(m.kind in ANSWER_MARKS for m in c.marks)
                                for c in filled)


def _looks_like_header(layout: Layout) -> bool:
    has_item = "question" in layout.roles or "number" in layout.roles
    has_answer = bool(layout.options) or any(r in layout.roles for r in ("answer", "first", "target"))
    n_roles = len([r for r in layout.roles if not r.endswith("_span") and not r.startswith("date@")])
    n_roles += len(layout.options)
    return has_item and has_answer and n_roles >= 2


def _pair_dates(layout: Layout) -> None:
    """Date columns right after 1回目 / 2回目 carry that answer's date."""
    date_cols = sorted(v for k, v in layout.roles.items() if k.startswith("date@"))
    for key in [k for k in layout.roles if k.startswith("date@")]:
        del layout.roles[key]
    for which in ("first", "second"):
        if which in layout.roles:
            col = layout.roles[which]
            nxt = [d for d in date_cols if d > col and not any(
                col < layout.roles.get(o, -1) < d for o in ("first", "second", "target") if o != which)]
            if nxt:
                layout.date_cols[which] = nxt[0]
                date_cols.remove(nxt[0])
    if date_cols and "answer" in layout.roles and "first" not in layout.roles:
        layout.roles["first"] = layout.roles.pop("answer")
        layout.date_cols["first"] = date_cols[0]


def _split_merged_question(table: Table, layout: Layout) -> None:
    """「項目」 merged over two columns (number | question): give the number column its own role."""
    span_end = layout.roles.pop("question_span", None)
    q = layout.roles.get("question")
    if q is None or "number" in layout.roles:
        return
    body = table.rows[max(layout.header_rows or (0,)) + 1:]
    if span_end is None:
        # Not merged: 「チェック項目」 over the section column and a blank header cell over the questions.
        used = set(layout.roles.values()) | set(layout.options.values()) | set(layout.date_cols.values())
        right = q + 1
        if right in used or right >= table.n_cols or any(
                right < len(table.rows[h]) and normalize_text(table.rows[h][right].text) for h in layout.header_rows):
            return
        numbered = sum(1 for row in body if right < len(row) and _is_numbered_question(row[right].text))
        if numbered >= 2:
            layout.roles["question"] = right
        return
    for col in range(q, span_end + 1):
        numbers = sum(1 for row in body if col < len(row) and is_number_text(row[col].text))
        texts = sum(1 for row in body if col < len(row) and len(normalize_text(row[col].text)) > 8)
        if numbers >= 3 and numbers > texts:
            layout.roles["number"] = col
            layout.roles["question"] = next((c for c in range(col + 1, span_end + 1)), q)
            return
    # 「チェック項目」 over a section column (「1 体制構築」, merged down) and a number+question column
    # (「(2) リモート…」): the question column is the one whose cells start with an item number and go on
    # with a question; the other one is left of it and read as the section by the interpreter.
    numbered = {col: sum(1 for row in body if col < len(row) and row[col].merged_into is None
                         and _is_numbered_question(row[col].text)) for col in range(q, span_end + 1)}
    best = max(numbered, key=lambda c: (numbered[c], -c))
    if numbered[best] >= 2 and best != q:
        layout.roles["question"] = best


def _second_round_options(rows: list[list[Cell]], header_rows: list[int], layout: Layout) -> None:
    """Option words under 「2回目」 (the options dict keeps the 1回目 ones): the second answer's columns."""
    second, end = layout.roles.get("second"), layout.roles.get("second_span")
    if second is None or end is None:
        return
    for r in header_rows:
        for col, cell in row_cells(rows[r]):
            hr = header_role(cell.text) if second <= col <= end else None
            if hr and hr[0] == "option":
                layout.second_options.setdefault(hr[1], col)
    if len(layout.second_options) < 2:
        layout.second_options.clear()


_DATE_ONLY = re.compile(r"^[(（]?\s*(?:\d{1,2}\s*[/／月]\s*\d{1,2}\s*日?|[/／]?)\s*[)）]?$")


def _checklist_target_from_content(table: Table, layout: Layout) -> None:
    """A retyped checklist whose date columns lost their words (「1回目 | 2回目 | 3回目」 over 「はい (9/20) |
    (3/31) | はい・いいえ (/)」): a column right of 1回目 holding only dates is the target-date column, and the
    next column holding answer words is the second answer (also when its header word is unknown)."""
    if "first" not in layout.roles:
        return
    body = table.rows[max(layout.header_rows or (0,)) + 1:]
    # 「No」 over a column of item numbers in a checklist (whose answers are in 1回目/2回目): not an option.
    for word, col in list(layout.options.items()):
        if "number" not in layout.roles and sum(1 for row in body if col < len(row)
                                                and is_number_text(row[col].text)) >= 2:
            layout.roles["number"] = col
            del layout.options[word]
    if "target" in layout.roles and "second" in layout.roles:
        return
    first = layout.roles["first"]
    taken = {v for k, v in layout.roles.items() if k not in ("second", "second_span")} | set(layout.date_cols.values())
    words: dict[int, int] = {}
    dates: dict[int, int] = {}
    for col in range(first + 1, table.n_cols):
        if col in taken:
            continue
        texts = [normalize_text(row[col].text) for row in body if col < len(row) and row[col].merged_into is None]
        words[col] = sum(1 for t in texts if OPTION_RE.search(t))
        dates[col] = sum(1 for t in texts if t and _DATE_ONLY.match(t))
    if "target" not in layout.roles:
        date_only = [c for c in words if words[c] == 0 and dates[c] >= 2]
        if not date_only:
            return
        target = date_only[0]
        layout.roles["target"] = target
        layout.roles.pop("second_span", None)
        second = [c for c in words if c > target and words[c] >= 2]
        if second:
            layout.roles["second"] = second[0]
        elif layout.roles.get("second") == target:
            del layout.roles["second"]
    if "second" not in layout.roles:
        # A 2回目 column under a word the header vocabulary lacks (「再確認」): answer words right of the target.
        second = [c for c in words if c > layout.roles["target"] and words[c] >= 2]
        if second:
            layout.roles["second"] = second[0]


def _is_numbered_question(text: str) -> bool:
    """「(2) リモートメンテナンス…を確認した。」, 「2.1 …」: an item number followed by a question."""
    t = normalize_text(text)
    num, rest = parse_checklist_number(text or "")  # the raw text: 「⑥」 before NFKC makes it 「6」
    if not num:
        num, rest = parse_dotted_number(t)
        # 「1 体制構築」 is a section, not an item; 「2 …を確認した。」 is a checklist item without brackets.
        num = num if "." in num or rest.rstrip().endswith(("。", "か", "?", "？")) else ""
    return bool(num) and len(rest) >= 6


def _find_unlabelled_number(table: Table, layout: Layout) -> None:
    """A number column whose header cell is blank: the column left of the question holding item numbers."""
    q = layout.roles.get("question")
    if q is None or "number" in layout.roles:
        return
    body = table.rows[max(layout.header_rows or (0,)) + 1:]
    for col in range(q - 1, -1, -1):
        if col in layout.options.values() or col in layout.roles.values():
            continue
        numbers = sum(1 for row in body if col < len(row) and is_number_text(row[col].text))
        if numbers >= 2:
            layout.roles["number"] = col
            return


def is_number_text(text: str) -> bool:
    t = normalize_text(text)
    if not t:
        return False
    num, rest = parse_dotted_number(t)
    if num and not rest:
        return True
    num, rest = parse_checklist_number(t)
    return bool(num) and not rest


def _row_has_item_number(row: list[Cell]) -> bool:
    """An item row, not a second header row: an item number, or a long (question) text."""
    for _, c in row_cells(row):
        t = normalize_text(c.text)
        if is_number_text(t) or len(t) > 20 or (len(t) > 8 and (parse_dotted_number(t)[0] or
                                                                  parse_checklist_number(c.text)[0])):
            return True
    return False
