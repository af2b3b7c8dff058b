"""Find a table's header row and what each column holds (number, question, options, answer, dates, remark).

Header wording varies by vendor (「項目」「確認項目」「質問」, 「回答」「確認結果」, 「備考」「コメント」), headers
span two rows (「確認結果」 over 「1回目 | 目標日 | 2回目」, 「回答」 over 「はい | いいえ | 対象外」), and some tables
have no header at all (a continuation page, an inline-option Word table). Without a header the roles are
inferred from the content of the column.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from extractors.grid import Cell, Mark, Table
from extractors.model import ANSWERS
from extractors.text import normalize_text, parse_checklist_number, parse_dotted_number

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

OPTION_WORDS = {w: w for w in ANSWERS} | {"Yes": "はい", "YES": "はい", "No": "いいえ", "N/A": "対象外", "NA": "対象外"}


@dataclass
class Layout:
    """Column roles of a table: role -> column index; options: answer word -> column index."""

    roles: dict[str, int] = field(default_factory=dict)
    options: dict[str, int] = field(default_factory=dict)
    date_cols: dict[str, int] = field(default_factory=dict)  # first/second -> date column beside it
    header_rows: tuple[int, ...] = ()
    n_cols: int = 0
    inferred: bool = False
    # The answer is written at the end of the question cell: 「4.3 アクセスログ…？ ■はい □いいえ」.
    inline_answers: bool = False

    @property
    def has_answers(self) -> bool:
        return bool(self.options) or "answer" in self.roles or "first" in self.roles

    @property
    def is_checklist(self) -> bool:
        return "first" in self.roles or "target" in self.roles


def _squash(text: str) -> str:
    return re.sub(r"[\s　:：・]", "", normalize_text(text))


def header_role(text: str, exact: bool = False) -> tuple[str, str] | None:
    """('option', 'はい') | ('question', '') … for a header cell's text, or None.

    `exact`: only whole header words (「回答」), not words that merely contain one (「確認結果(日付)」).
    """
    t = _squash(text)
    if not t or len(t) > 16 or normalize_text(text)[:1] in "・･•◦‣":
        return None  # a bullet row (「・記憶（ID・パスワード等）」) is never a header cell
    if t in OPTION_WORDS:
        return "option", OPTION_WORDS[t]
    parts = [p for p in re.split(r"[/／\n|｜]", normalize_text(text).replace(" ", "")) if p]
    if len(parts) > 1 and all(p in OPTION_WORDS for p in parts):
        return "option", OPTION_WORDS[parts[0]]  # 「はい/該当」: the column serves both answer sets
    if ("日付" in t or re.search(r"(実施|確認|回答)日$", t)) and not re.search(r"目標|予定|結果", t) \
            and ("回目" in t or "回答" not in t):
        return "date", ""
    for role, words in HEADER_WORDS:
        for w in words:
            if t == _squash(w):
                return role, ""
    if exact:
        return None
    for role, words in HEADER_WORDS:
        for w in words:
            sw = _squash(w)
            if len(sw) >= 2 and sw in t and role not in ("question",):
                if role == "answer" and ("日" in t and "回目" not in t):
                    continue
                return role, ""
    if "項目" in t or "質問" in t:
        return "question", ""
    return None


def _row_cells(row: list[Cell]) -> list[tuple[int, Cell]]:
    return [(i, c) for i, c in enumerate(row) if c.merged_into is None]


def _covered_cols(row: list[Cell], col: int) -> range:
    return range(col, col + max(1, row[col].colspan))


def detect_header(table: Table, start: int = 0, max_scan: int = 40) -> Layout | None:
    """The first row (from `start`) that reads as a header, merged with a second header row if any."""
    rows = table.rows
    for r in range(start, min(len(rows), start + max_scan)):
        layout = _layout_from_row(rows[r])
        if not _looks_like_header(layout):
            continue
        header_rows = [r]
        # A second header row below: options under 「回答」, or 1回目/目標日/2回目 under 「確認結果」.
        if r + 1 < len(rows):
            below = _layout_from_row(rows[r + 1])
            if (below.options or "first" in below.roles or "target" in below.roles) and \
                    not _row_has_item_number(rows[r + 1]) and _all_header_words(rows[r + 1]):
                for role, col in below.roles.items():
                    layout.roles.setdefault(role, col)
                layout.options.update(below.options)
                header_rows.append(r + 1)
        if "first" in layout.roles:  # 「確認結果（日付）」 over 1回目 | 目標日 | 2回目
            layout.roles.pop("answer", None)
            layout.roles.pop("answer_span", None)
        if layout.options and "answer" in layout.roles and (
                layout.roles["answer"] in layout.options.values() or "answer_span" in layout.roles):
            del layout.roles["answer"]
        if "answer" not in layout.roles:
            layout.roles.pop("answer_span", None)
        _pair_dates(layout)
        layout.header_rows = tuple(header_rows)
        layout.n_cols = table.n_cols
        _split_merged_question(table, layout)
        _find_unlabelled_number(table, layout)
        return layout
    return None


ANSWER_MARKS = {"circle", "check", "strike"}


def _layout_from_row(row: list[Cell]) -> Layout:
    layout = Layout()
    for col, cell in _row_cells(row):
        hr = header_role(cell.text)
        if not hr:
            continue
        role, word = hr
        if role == "option" and any(m.kind in ANSWER_MARKS for m in cell.marks):
            return Layout()  # a circled option word: an answered row, not a header
        if role == "option":
            layout.options.setdefault(word, col)
        elif role == "date":
            layout.roles.setdefault(f"date@{col}", col)
        else:
            layout.roles.setdefault(role, col)
            # A merged 「回答」 header over several columns: remember the span for option detection.
            if cell.colspan > 1:
                layout.roles.setdefault(f"{role}_span", col + cell.colspan - 1)
    return layout


def _all_header_words(row: list[Cell]) -> bool:
    """Every filled cell of the row is a header word (a second header row holds no marks, no bullets)."""
    filled = [c for _, c in _row_cells(row) if normalize_text(c.text) or c.marks]
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
    if q is None or span_end is None or "number" in layout.roles:
        return
    body = table.rows[max(layout.header_rows or (0,)) + 1:]
    for col in range(q, span_end + 1):
        numbers = sum(1 for row in body if col < len(row) and _is_number_text(row[col].text))
        texts = sum(1 for row in body if col < len(row) and len(normalize_text(row[col].text)) > 8)
        if numbers >= 3 and numbers > texts:
            layout.roles["number"] = col
            layout.roles["question"] = next((c for c in range(col + 1, span_end + 1)), q)
            return


def _find_unlabelled_number(table: Table, layout: Layout) -> None:
    """A number column whose header cell is blank: the column left of the question holding item numbers."""
    q = layout.roles.get("question")
    if q is None or "number" in layout.roles:
        return
    body = table.rows[max(layout.header_rows or (0,)) + 1:]
    for col in range(q - 1, -1, -1):
        if col in layout.options.values() or col in layout.roles.values():
            continue
        numbers = sum(1 for row in body if col < len(row) and _is_number_text(row[col].text))
        if numbers >= 2:
            layout.roles["number"] = col
            return


def _is_number_text(text: str) -> bool:
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
    for _, c in _row_cells(row):
        t = normalize_text(c.text)
        if _is_number_text(t) or len(t) > 20 or (len(t) > 8 and (parse_dotted_number(t)[0] or
                                                                  parse_checklist_number(c.text)[0])):
            return True
    return False


_INLINE_OPTIONS = re.compile(r"[■□☑☐●○◯✓✔☒]\s*(?:はい|いいえ|対象外|該当|非該当)")


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
        for col, cell in _row_cells(row):
            if split_inline_answer(cell)[1] is not None:
                hits[col] += 1
    col = max(range(n), key=lambda c: hits[c]) if n else 0
    if not n or hits[col] < 2:
        return None
    layout = Layout(inferred=True, n_cols=n, inline_answers=True)
    layout.roles["question"] = col
    layout.roles["answer"] = col
    first = table.rows[0] if table.rows else []
    header = {c: header_role(cell.text) for c, cell in _row_cells(first)}
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
    from extractors.answers import POSITIVE_GLYPHS, _OPTION_RE  # local: shared vocabulary

    option_hits = [0] * n
    number_hits = [0] * n
    text_len = [0] * n
    for row in table.rows:
        for col, cell in _row_cells(row):
            t = normalize_text(cell.text)
            if _OPTION_RE.search(t) or (cell.choices and any(c in ANSWERS for c in cell.choices)) or \
                    any(ch in POSITIVE_GLYPHS for ch in t):
                option_hits[col] += 1
            if _is_number_text(t) or parse_dotted_number(t)[0] or parse_checklist_number(t)[0]:
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
    from extractors.answers import _OPTION_RE  # local: shared vocabulary

    n = table.n_cols
    words: list[dict[str, int]] = [{} for _ in range(n)]
    for row in table.rows:
        for col, cell in _row_cells(row):
            found = _OPTION_RE.findall(normalize_text(cell.text))
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
