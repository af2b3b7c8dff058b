"""Metamorphic variants of the sample families: the same answers, written in other vendors' layouts.

A `Variant` is the written table model of one sample file: the sample's own `Submission` (the truth)
plus how it is laid out (columns and their header labels, how answers are drawn, sections, numbers,
splits, remarks). Transformations (`samples.metamorphic_transforms`) are small named functions over a
Variant; `render` turns it into blocks (paragraphs and tables of cells) that the writers
(`samples.metamorphic_writers`) put into a real .xlsx / .docx (and a LibreOffice-printed .pdf).
`samples.metamorphic_check.check(doc, variant)` compares what the real readers extracted with the
Variant's truth.

Families and their base sample (the samples' own specs, see samples/vendors.py):
mds = the MDS with a 備考記載欄 (○ marks, 該当/非該当 columns, one ambiguous row),
sds = the SDS with ✓ marks and gate words in the はい/いいえ cells, inline remarks,
checklist_vendor = the R5 事業者確認用 checklist with 「はい (9/20)」 answers (and _r6: device headings with
repeated numbers, _r7: ①…⑬), checklist_facility = the R5 医療機関確認用 checklist with its 有無 row.
"""
from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field

from samples.office_xlsx import SCOPE_HEADINGS, SECTION_LABELS, combined_first, combined_second, combined_target, md
from samples.spec import APPL, NA, NO, NOT_APPL, YES, ItemSpec, Submission

MDS_OPTIONS = (YES, NO, NA)
GATE_OPTIONS = (APPL, NOT_APPL)
CHECKLIST_RESULT_ROLES = ("first", "target", "second", "first_answer", "first_date", "target_date",
                          "second_answer", "second_date")
WIDE_ROLES = {"q": 58, "remark": 36, "section": 16}


@dataclass
class Column:
    """One column: its role, its header label (may hold a line break), and an optional group label
    printed above it in a second header row (「回答」 over はい | いいえ | 対象外).

    Roles: num, q, remark, section, empty, answer (one answer cell), opt:<word> or opt:<word>|<word>
    (an option column; two words when one column serves both answer sets, 「はい／該当」), and the
    checklist roles first, target, second, first_answer, first_date, target_date, second_answer, second_date.
    """

    role: str
    label: str
    group: str = ""
    wrap_rows: bool = False  # a label with a line break is split over two header rows (not kept in one cell)


@dataclass
class Out:
    """One written cell."""

    text: str = ""
    bold: bool = False
    fill: bool = False  # grey (headers, sections, unused option cells)
    colour: str = ""  # a coloured fill (hex), the vendor's mark
    choices: tuple[str, ...] | None = None  # a dropdown list
    date: dt.date | None = None  # a real date value (xlsx)


@dataclass
class TableBlock:
    rows: list[list[Out]]
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # r0, c0, r1, c1 inclusive
    widths: list[float] = field(default_factory=list)
    header_rows: int = 0
    new_page: bool = False  # starts a new sheet (xlsx) / after a page break (docx)


@dataclass
class CommentBlock:
    label: str
    text: str


@dataclass
class Variant:
    """The written table model of one file."""

    family: str  # a key of FAMILIES (the Submission's own family is sub.family)
    sub: Submission
    columns: list[Column]
    fmt: str = "xlsx"  # xlsx | docx
    answer_mode: str = "marks"  # MDS: marks | word | dropdown | inline; checklist: combined | split | split_dropdown
    glyph: str = "○"
    mark_colour: str = ""  # set: the chosen option cell is filled with this colour instead of a glyph
    grey_unused: bool = False  # option cells that do not apply to the row are greyed (template habit)
    inline_glyphs: tuple[str, str] = ("■", "□")
    option_order: tuple[str, ...] = ()  # order of the words in inline cells and dropdown lists
    section_mode: str = "rows"  # rows | column_merged | column_repeated | none
    number_style: str = "asis"  # see number_text / checklist_number_text
    blank_every: int = 0  # a blank row after every n-th body row
    split_at: float = 0.0  # split the body into two tables at this fraction (0: one table)
    split_header: bool = True  # the second table repeats the header
    split_page: bool = False  # the second table starts a new sheet / page
    remark_style: str = "plain"  # plain | linebreaks | trailing
    footnote_label: str = "備考記載欄"
    footnotes_on_sheet: bool = False  # xlsx: 備考記載欄 on its own sheet
    checklist_answer_style: str = "plain"  # combined cell text: plain | fullwidth | newline | glyph | year
    date_format: str = "m/d"  # split mode, real dates
    dates_as_text: bool = False  # split mode: 「9/20」 typed as text
    pdf: dict | None = None  # print to PDF: {"orientation": "portrait|landscape", "paper": "A4|A3|B4"}
    font: str = "ＭＳ Ｐゴシック"
    doubtful: bool = False  # the layout makes answers doubtful: a wrong answer is acceptable if flagged
    applied: list[str] = field(default_factory=list)  # names of the transformations applied

    @property
    def is_checklist(self) -> bool:
        return self.family.startswith("checklist")

    def roles(self) -> list[str]:
        return [c.role for c in self.columns]

    def col(self, role: str) -> Column | None:
        return next((c for c in self.columns if c.role == role), None)

    def option_columns(self) -> list[Column]:
        return [c for c in self.columns if c.role.startswith("opt:")]


# ---------------------------------------------------------------- bases (the samples' own specs)

def _sample(file_part: str) -> Submission:
    from samples import vendors

    for make in vendors.XLSX_VENDORS:
        for sub, _fmt, _key in make():
            if file_part in sub.file:
                return sub
    raise KeyError(file_part)


def base_variant(family: str) -> Variant:
    """The untransformed file of a family, drawn from the sample spec."""
    if family == "mds":
        sub = _sample("【MDS】")
        cols = [Column("num", "No."), Column("q", "チェック項目")]
        cols += [Column(f"opt:{w}", w) for w in MDS_OPTIONS + GATE_OPTIONS] + [Column("remark", "備考")]
        return Variant(family, sub, cols, glyph="○")
    if family == "sds":
        sub = _sample("リモート保守サービス_SDS")
        cols = [Column("num", "項番"), Column("q", "確認項目")]
        cols += [Column(f"opt:{w}", w) for w in MDS_OPTIONS] + [Column("remark", "備考")]
        return Variant(family, sub, cols, glyph="✓", section_mode="rows")
    result = "確認結果（日付）"
    vendor_checklists = {"checklist_vendor": "メディネクスト_事業者確認用", "checklist_vendor_r6": "【北斗】",
                         "checklist_vendor_r7": "ミライヘルスケア_R7"}
    if family in vendor_checklists:
        sub = _sample(vendor_checklists[family])
        cols = [Column("section", ""), Column("q", "チェック項目"), Column("first", "1回目", result),
                Column("target", "目標日", result), Column("second", "2回目", result), Column("remark", "備考")]
        return Variant(family, sub, cols, answer_mode="combined", section_mode="column_merged")
    if family == "checklist_facility":
        sub = _sample("医療機関確認用")
        cols = [Column("section", ""), Column("q", "チェック項目"), Column("first", "1回目", result),
                Column("target", "目標日", result), Column("second", "2回目", result)]
        return Variant(family, sub, cols, answer_mode="combined", section_mode="column_merged")
    raise KeyError(family)


# checklist_vendor_r6 repeats numbers under サーバ / 端末PC / ネットワーク機器 (ids 2(4)@サーバ);
# checklist_vendor_r7 prints ①…⑬.
FAMILIES = ("mds", "sds", "checklist_vendor", "checklist_vendor_r6", "checklist_vendor_r7", "checklist_facility")
CHECKLIST_FAMILIES = tuple(f for f in FAMILIES if f.startswith("checklist"))


def fresh(family: str) -> Variant:
    return copy.deepcopy(base_variant(family))


# ---------------------------------------------------------------- numbers

_FW = str.maketrans("0123456789.()", "０１２３４５６７８９．（）")


def number_text(number: str, style: str) -> str:
    """An MDS item number as a vendor prints it."""
    if not number or style == "asis":
        return number
    if style == "fullwidth":
        return number.translate(_FW)
    if style == "spaced":  # 「1 2. 3. 1」: a space inside a two-digit number and after every dot
        parts = number.split(".")
        parts[0] = " ".join(parts[0]) if len(parts[0]) > 1 else parts[0]
        return ". ".join(parts)
    if style == "hyphen":
        return number.replace(".", "-")
    if style == "prefixed":
        return f"No.{number}"
    if style == "trailing_dot":
        return f"{number}."
    raise ValueError(style)


def checklist_number_text(it: ItemSpec, style: str) -> str:
    """A checklist number (printed 「(6)」) as a vendor prints it."""
    printed = it.number_printed
    inner = printed.strip("()")
    if printed and "\u2460" <= printed[0] <= "\u2473":  # ①…⑳
        inner = str(ord(printed[0]) - 0x2460 + 1)
    if not printed or style == "asis" or not inner.isdigit():
        return printed
    if style == "paren":
        return f"({inner})"
    if style == "fullwidth":
        return printed.translate(_FW)
    if style == "circled":
        return chr(0x2460 + int(inner) - 1)
    if style == "bare":
        return inner
    if style == "half_paren":
        return f"{inner})"
    if style == "sectioned":  # 「2(6)」
        return f"{it.section}({inner})" if it.section else printed
    raise ValueError(style)


# ---------------------------------------------------------------- cells

def _remark_text(v: Variant, it: ItemSpec) -> str:
    if it.remark_ref:
        return it.remark_ref_style or it.remark_ref
    text = it.remark
    if not text:
        return ""
    if v.remark_style == "linebreaks":
        text = text.replace("。", "。\n").rstrip("\n")
        if "\n" not in text and len(text) > 12:
            text = text[:len(text) // 2] + "\n" + text[len(text) // 2:]
    elif v.remark_style == "trailing":
        text = text + " 　 "
    return text


def _option_words(col: Column) -> tuple[str, ...]:
    return tuple(col.role[4:].split("|"))


def _option_out(v: Variant, it: ItemSpec, col: Column) -> Out:
    """An option column's cell: the glyph (or a coloured fill) when the row's option is chosen."""
    offered = [w for w in _option_words(col) if w in it.options]
    if offered:
        chosen = offered[0] in it.marked
        if v.mark_colour:
            return Out(colour=v.mark_colour if chosen else "")
        return Out(v.glyph if chosen else "")
    # No column of the row's own words (gate words in the はい/いいえ columns): print the word.
    option_cols = v.option_columns()
    k = option_cols.index(col)
    if any(w in _option_words(c) for c in option_cols for w in it.options) or k >= len(it.options):
        return Out(fill=v.grey_unused)
    word = it.options[k]
    chosen = word in it.marked
    if v.mark_colour:
        return Out(word, colour=v.mark_colour if chosen else "")
    return Out(f"{v.glyph}{word}" if chosen else word)


def _ordered(v: Variant, options: tuple[str, ...]) -> list[str]:
    order = [w for w in v.option_order if w in options]
    return order + [w for w in options if w not in order]


def mds_cell(v: Variant, it: ItemSpec, role: str) -> Out:
    col = v.col(role)
    number = number_text(it.number_printed, v.number_style) if it.kind != "bullet" else ""
    if role == "num":
        return Out(number)
    if role == "q":
        q = f"・{it.question}" if it.kind == "bullet" else it.question
        if "num" not in v.roles() and number:
            q = f"{number} {q}"
        return Out(q)
    if role == "remark":
        return Out(_remark_text(v, it))
    if role == "section":
        return Out(it.section)
    if it.kind == "group" or role == "empty":
        return Out(fill=v.grey_unused and role.startswith("opt:"))
    if role.startswith("opt:"):
        return _option_out(v, it, col)
    if role == "answer":
        chosen = it.marked[0] if len(it.marked) == 1 else ""
        if v.answer_mode == "inline":
            on, off = v.inline_glyphs
            return Out(" ".join(f"{on if w in it.marked else off}{w}" for w in _ordered(v, it.options)))
        if v.answer_mode == "dropdown":
            return Out(chosen, choices=tuple(_ordered(v, it.options)))
        return Out(chosen)
    return Out()


def _checklist_first(v: Variant, it: ItemSpec) -> str:
    style = v.checklist_answer_style
    if style == "fullwidth":
        return combined_first(it, True)
    text = combined_first(it)
    if not it.answer or it.answer_raw:
        return text
    if style == "newline":
        return text.replace(" (", "\n(")
    if style == "glyph":
        on, off = v.inline_glyphs
        marks = " ".join(f"{on if w == it.answer else off}{w}" for w in (YES, NO))
        return f"{marks} ({md(it.first_date)})"
    if style == "year":
        d = dt.date.fromisoformat(it.first_date)
        return f"{it.answer} ({d.year}/{d.month}/{d.day})"
    return text


def _date_out(v: Variant, iso: str) -> Out:
    if not iso:
        return Out()
    if v.dates_as_text:
        return Out(md(iso))
    d = dt.date.fromisoformat(iso)
    return Out(md(iso), date=d)


def checklist_cell(v: Variant, it: ItemSpec, role: str) -> Out:
    number = checklist_number_text(it, v.number_style)
    if role == "num":
        return Out(number)
    if role == "q":
        return Out(it.question if "num" in v.roles() or not number else f"{number} {it.question}")
    if role == "remark":
        return Out(_remark_text(v, it))
    if role == "first":
        return Out(_checklist_first(v, it))
    if role == "target":
        return Out(combined_target(it))
    if role == "second":
        return Out(combined_second(it))
    if role in ("first_answer", "second_answer"):
        word = (it.answer or it.answer_raw) if role == "first_answer" else it.second_answer
        choices = (YES, NO) if v.answer_mode == "split_dropdown" else None
        return Out(word or "", choices=choices)
    if role == "first_date":
        return _date_out(v, it.first_date)
    if role == "target_date":
        return _date_out(v, it.target_date)
    if role == "second_date":
        return _date_out(v, it.second_date)
    return Out()


# ---------------------------------------------------------------- render

def _section_label(v: Variant, it: ItemSpec) -> str:
    if v.is_checklist:
        if it.item_id == "有無":
            return "医療情報システムの有無"
        return SECTION_LABELS.get(it.section, it.section)
    return it.section


def _logical_rows(v: Variant) -> list[tuple[str, list[Out], str]]:
    """(kind, cells, section label) for every body row: item | section | scope | blank."""
    roles = v.roles()
    n = len(roles)
    cell = checklist_cell if v.is_checklist else mds_cell
    rows: list[tuple[str, list[Out], str]] = []
    last_section, last_scope, count = None, None, 0
    for it in v.sub.items:
        label = _section_label(v, it)
        if v.section_mode == "rows" and label and label != last_section and it.kind != "bullet" \
                and it.item_id != "有無":
            rows.append(("section", [Out(label, bold=True, fill=True)] + [Out() for _ in range(n - 1)], label))
        if it.kind != "bullet" and it.item_id != "有無":
            last_section = label
        if v.is_checklist and it.section == "2" and it.scope in SCOPE_HEADINGS and it.scope != last_scope:
            cells = [Out() for _ in range(n)]
            cells[roles.index("q")] = Out(SCOPE_HEADINGS[it.scope], bold=True)
            rows.append(("scope", cells, label))
            last_scope = it.scope
        cells = [cell(v, it, r) for r in roles]
        if "section" in roles:
            cells[roles.index("section")] = Out(label if label else "", bold=True)
        rows.append(("item", cells, label))
        count += 1
        if v.blank_every and count % v.blank_every == 0:
            rows.append(("blank", [Out() for _ in range(n)], label))
    return rows


def _header(v: Variant) -> tuple[list[list[Out]], list[tuple[int, int, int, int]]]:
    cols = v.columns
    grouped = any(c.group for c in cols)
    wrapped = any(c.wrap_rows and "\n" in c.label for c in cols)
    if not grouped and not wrapped:
        return [[Out(c.label, bold=True, fill=True) for c in cols]], []
    top, bottom, merges = [], [], []
    for k, c in enumerate(cols):
        if c.group:
            top.append(Out(c.group, bold=True, fill=True))
            bottom.append(Out(c.label, bold=True, fill=True))
        elif c.wrap_rows and "\n" in c.label:
            first, rest = c.label.split("\n", 1)
            top.append(Out(first, bold=True, fill=True))
            bottom.append(Out(rest, bold=True, fill=True))
        else:
            top.append(Out(c.label, bold=True, fill=True))
            bottom.append(Out("", fill=True))
            merges.append((0, k, 1, k))
    k = 0
    while k < len(cols):  # group labels merged across their columns
        g = cols[k].group
        end = k
        while g and end + 1 < len(cols) and cols[end + 1].group == g:
            end += 1
        if g:
            for j in range(k + 1, end + 1):
                top[j] = Out("", fill=True)
            if end > k:
                merges.append((0, k, 0, end))
        k = end + 1
    return [top, bottom], merges


def _table(v: Variant, body: list[tuple[str, list[Out], str]], with_header: bool) -> TableBlock:
    header, merges = _header(v) if with_header else ([], [])
    rows = [list(r) for r in header]
    h = len(rows)
    n = len(v.columns)
    roles = v.roles()
    for kind, cells, _label in body:
        r = len(rows)
        rows.append(list(cells))
        if kind == "section":
            merges.append((r, 0, r, n - 1))
    if "section" in roles and v.section_mode == "column_merged":  # merged down its rows
        c = roles.index("section")
        r = h
        while r < len(rows):
            label = body[r - h][2]
            end = r
            while end + 1 < len(rows) and body[end + 1 - h][2] == label and body[end + 1 - h][0] != "section":
                end += 1
            for j in range(r + 1, end + 1):
                rows[j][c] = Out()
            rows[r][c] = Out(label, bold=True)
            if end > r:
                merges.append((r, c, end, c))
            r = end + 1
    widths = [WIDE_ROLES.get(c.role, 14 if c.role in CHECKLIST_RESULT_ROLES else 9) for c in v.columns]
    return TableBlock(rows, merges, widths, header_rows=h)


def _preamble(v: Variant) -> list:
    sub = v.sub
    blocks: list = list(sub.title.split("\n"))
    if v.is_checklist:
        fy = sub.header_fields.get("年度", "")
        if v.family == "checklist_facility":
            blocks.append(f"医療機関名：{sub.header_fields.get('医療機関名', '')}")
        blocks += [f"○ {fy}中", f"*以下項目は{fy}中にすべての項目で「はい」にマルが付くよう取り組んでください。",
                   f"*1回目の確認で「いいえ」の場合、{fy}中の対応目標日を記入してください。"]
    else:
        pairs = list(sub.header_fields.items())
        for k in range(0, len(pairs), 2):
            blocks.append("　　".join(f"{a}：{b}" for a, b in pairs[k:k + 2]))
        blocks.append("※本開示書の適合性をJAHIS/JIRAが証明するものではありません。")
    return blocks


def _footnote_block(v: Variant) -> list:
    notes = v.sub.footnotes
    if not notes or not any(i.remark_ref for i in v.sub.items):
        return []
    rows = [[Out("No", bold=True, fill=True), Out("内容", bold=True, fill=True)]]
    for number in sorted(notes, key=int):
        rows.append([Out(number), Out(notes[number])])
    return [v.footnote_label, TableBlock(rows, [], [6, 70], header_rows=1, new_page=v.footnotes_on_sheet)]


def render(v: Variant) -> list:
    """The blocks of the file, top to bottom: paragraphs (str), TableBlock, CommentBlock."""
    body = _logical_rows(v)
    blocks = _preamble(v)
    if v.split_at:
        k = max(1, min(len(body) - 1, int(len(body) * v.split_at)))
        while k < len(body) - 1 and body[k][0] != "item":  # do not start the second table with a heading
            k += 1
        first, second = _table(v, body[:k], True), _table(v, body[k:], v.split_header)
        second.new_page = v.split_page
        blocks += [first, "" if v.split_page else "（次頁へ続く）", second]
    else:
        blocks.append(_table(v, body, True))
    blocks += _footnote_block(v)
    if v.is_checklist:
        blocks.append(CommentBlock("コメント：", v.sub.comment))
        if v.family == "checklist_vendor":
            blocks.append(f"事業者名：{v.sub.vendor}")
    return blocks
