"""Named transformations of a metamorphic `Variant` (samples.metamorphic): each one changes how the same
answers are laid out (header words, column order, numbers, sections, answer drawing, splits, remarks,
print), the way other vendors fill the same forms. A transformation that changes what the file says
(an ambiguous row has no way to be written as a single typed word) changes the Variant's truth too.

`TRANSFORMS` maps a name to a `Transform`; `variant(family, names)` applies names in order to a fresh base.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

from samples.metamorphic import CHECKLIST_FAMILIES, FAMILIES, Column, Variant, fresh
from samples.spec import APPL, NA, NO, NOT_APPL, YES

MDS_LIKE = ("mds", "sds")
CHECKLISTS = CHECKLIST_FAMILIES


@dataclass(frozen=True)
class Transform:
    name: str  # ASCII, for readable test ids
    fn: Callable[[Variant], None]
    families: tuple[str, ...]
    slow: bool = False  # prints through LibreOffice (2-10 s with the PDF read)
    detail: str = ""  # the Japanese word or glyph the name stands for


TRANSFORMS: dict[str, Transform] = {}

# ASCII names of the header words and glyphs the transformations write.
ROMAJI = {"項目": "komoku", "質問": "shitsumon", "確認事項": "kakunin_jiko", "設問": "setsumon",
          "確認内容": "kakunin_naiyo", "コメント": "comment", "補足": "hosoku", "備考欄": "bikoran",
          "特記事項": "tokki_jiko", "備考（補足説明）": "biko_hosoku_setsumei", "回答": "kaito",
          "確認結果": "kakunin_kekka", "選択": "sentaku", "結果": "kekka", "1回目確認": "ikkaime_kakunin",
          "対応目標日": "taio_mokuhyobi", "二回目": "nikaime", "項番": "kouban", "番号": "bangou", "#": "hash",
          "": "blank", "○": "maru", "●": "kuromaru", "✓": "check", "■": "kuroshikaku", "レ": "re",
          "◯": "oomaru", "■□": "shikaku", "☑☐": "checkbox", "●○": "kuromaru_shiromaru"}


def _ascii(word: str) -> str:
    return ROMAJI.get(word, word)


def _register(name: str, fn: Callable[[Variant], None], families=FAMILIES, slow: bool = False,
              detail: str = "") -> None:
    assert name not in TRANSFORMS and name.isascii(), name
    TRANSFORMS[name] = Transform(name, fn, tuple(families), slow, detail)


def transform(name: str, families=FAMILIES, slow: bool = False):
    def deco(fn):
        _register(name, fn, families, slow)
        return fn
    return deco


def for_family(family: str, include_slow: bool = True) -> list[str]:
    return [t.name for t in TRANSFORMS.values() if family in t.families and (include_slow or not t.slow)]


def variant(family: str, names: list[str] | tuple[str, ...]) -> Variant:
    v = fresh(family)
    for name in names:
        t = TRANSFORMS[name]
        if family in t.families:
            t.fn(v)
            v.applied.append(name)
    return v


# ---------------------------------------------------------------- helpers

def _index(v: Variant, role: str) -> int:
    return v.roles().index(role)


def _relabel(v: Variant, role: str, label: str) -> None:
    col = v.col(role)
    if col is not None:
        col.label = label


def _insert(v: Variant, col: Column, before: str | None = None, after: str | None = None) -> None:
    roles = v.roles()
    if before in roles:
        v.columns.insert(roles.index(before), col)
    elif after in roles:
        v.columns.insert(roles.index(after) + 1, col)
    else:
        v.columns.append(col)


def _remove(v: Variant, role: str) -> None:
    v.columns = [c for c in v.columns if c.role != role]


def _first_answer_role(v: Variant) -> str:
    for c in v.columns:
        if c.role.startswith("opt:") or c.role in ("answer", "first", "first_answer"):
            return c.role
    return "remark"


def _resolve_ambiguous(v: Variant) -> None:
    """One typed word cannot say "two marks": an ambiguous row is written (and expected) as its first mark."""
    for it in v.sub.items:
        if it.answer_status == "ambiguous" and it.marked:
            it.answer, it.answer_status, it.marked = it.marked[0], "answered", it.marked[:1]


def _answer_column(v: Variant, label: str, mode: str) -> None:
    """Replace the option columns (はい | いいえ | 対象外 | …) by one answer column."""
    if v.is_checklist:
        return
    opts = v.option_columns()
    if opts:
        at = v.columns.index(opts[0])
        v.columns = [c for c in v.columns if c not in opts]
        v.columns.insert(at, Column("answer", label))
    else:
        _relabel(v, "answer", label)
    v.answer_mode = mode
    if mode in ("word", "dropdown"):
        _resolve_ambiguous(v)


def _ensure_remark(v: Variant) -> None:
    """A 備考 column with something in it: the facility form has no such column (add one), and a checklist
    without any remark gets one on each いいえ row."""
    if "remark" not in v.roles():
        v.columns.append(Column("remark", "備考"))
    if any(it.remark or it.remark_ref for it in v.sub.items):
        return
    for it in v.sub.items:
        if it.answer == NO:
            it.remark = "対応手順を整備中です。整備後に再確認し、2回目の欄に記入します。"


# ---------------------------------------------------------------- writer

_register("writer_docx", lambda v: setattr(v, "fmt", "docx"))

# ---------------------------------------------------------------- header synonyms

for word in ("項目", "質問", "確認事項", "設問", "確認内容"):
    _register(f"hdr_question={_ascii(word)}", functools.partial(_relabel, role="q", label=word), detail=word)


def _remark_label(v: Variant, label: str) -> None:
    _ensure_remark(v)
    _relabel(v, "remark", label)


for word in ("コメント", "補足", "備考欄", "特記事項", "備考（補足説明）"):
    _register(f"hdr_remark={_ascii(word)}", functools.partial(_remark_label, label=word), detail=word)

for word in ("回答", "確認結果", "選択"):
    _register(f"answer_word_column={_ascii(word)}", functools.partial(_answer_column, label=word, mode="word"),
              MDS_LIKE, detail=word)


def _result_group(v: Variant, label: str) -> None:
    for c in v.columns:
        if c.group:
            c.group = label


for word in ("確認結果", "回答", "結果"):
    _register(f"hdr_result_group={_ascii(word)}", functools.partial(_result_group, label=word), CHECKLISTS,
              detail=word)
for role, word in (("first", "1回目確認"), ("target", "対応目標日"), ("second", "二回目")):
    _register(f"hdr_{role}={_ascii(word)}", functools.partial(_relabel, role=role, label=word), CHECKLISTS,
              detail=word)


@transform("hdr_result_single_row", CHECKLISTS)
def _no_group(v: Variant) -> None:
    """1回目 | 目標日 | 2回目 in the one header row, without 確認結果 above them."""
    for c in v.columns:
        c.group = ""


# ---------------------------------------------------------------- header wraps

def _wrap(v: Variant, role: str, label: str, how: str) -> None:
    if role == "remark":
        _ensure_remark(v)
    _relabel(v, role, label)
    col = v.col(role)
    if col is not None:
        col.wrap_rows = how == "rows"


for how in ("cell", "rows"):
    _register(f"wrap_question_{how}", functools.partial(_wrap, role="q", label="確認\n項目", how=how))
    _register(f"wrap_remark_{how}", functools.partial(_wrap, role="remark", label="備\n考", how=how))
_register("wrap_option_cell", functools.partial(_wrap, role=f"opt:{NA}", label="対象\n外", how="cell"), MDS_LIKE)
_register("wrap_target_cell", functools.partial(_wrap, role="target", label="対応\n目標日", how="cell"), CHECKLISTS)


@transform("hdr_answer_group_over_options", MDS_LIKE)
def _answer_group(v: Variant) -> None:
    """「回答」 merged over the option columns, the option words in a second header row."""
    for c in v.option_columns():
        c.group = "回答"


def _combined_option_headers(v: Variant, wrap: str = "", how: str = "cell") -> None:
    """One column serves both answer sets: 「はい／該当」 「いいえ／非該当」 「対象外」."""
    opts = v.option_columns()
    if not opts:  # one answer column already
        return
    at = v.columns.index(opts[0])
    v.columns = [c for c in v.columns if c not in opts]
    yes_label, no_label = f"{YES}／{APPL}", f"{NO}／{NOT_APPL}"
    if wrap:
        yes_label, no_label = f"{YES}／\n{APPL}", f"{NO}／非\n該当"
    rows = how == "rows"
    v.columns[at:at] = [Column(f"opt:{YES}|{APPL}", yes_label, wrap_rows=rows),
                        Column(f"opt:{NO}|{NOT_APPL}", no_label, wrap_rows=rows), Column(f"opt:{NA}", NA)]


_register("hdr_combined_yes_applicable", _combined_option_headers, MDS_LIKE)
_register("hdr_combined_wrapped_cell", functools.partial(_combined_option_headers, wrap="yes"), MDS_LIKE)
_register("hdr_combined_wrapped_rows", functools.partial(_combined_option_headers, wrap="yes", how="rows"), MDS_LIKE)

# ---------------------------------------------------------------- number column


def _number_name(v: Variant, name: str) -> None:
    if "num" in v.roles():
        _relabel(v, "num", name)
    else:
        _insert(v, Column("num", name), before="q")


for name in ("No", "No.", "項番", "番号", "#"):
    _register(f"number_column={_ascii(name)}", functools.partial(_number_name, name=name), detail=name)
_register("number_column=blank", functools.partial(_number_name, name=""))


@transform("number_in_question")
def _number_in_question(v: Variant) -> None:
    _remove(v, "num")


# ---------------------------------------------------------------- column order, empty columns, blank rows

@transform("remark_before_answer")
def _remark_first(v: Variant) -> None:
    _ensure_remark(v)
    col = v.col("remark")
    v.columns.remove(col)
    v.columns.insert(_index(v, _first_answer_role(v)), col)


def _reorder_options(v: Variant, order: tuple[str, ...]) -> None:
    opts = v.option_columns()
    if not opts:
        v.option_order = order
        return
    at = v.columns.index(opts[0])
    v.columns = [c for c in v.columns if c not in opts]
    rank = {w: k for k, w in enumerate(order)}
    opts.sort(key=lambda c: rank.get(c.role[4:].split("|")[0], 99))
    v.columns[at:at] = opts
    v.option_order = order


_register("options_reversed", functools.partial(_reorder_options, order=(NA, NO, YES, NOT_APPL, APPL)), MDS_LIKE)
_register("options_gate_first", functools.partial(_reorder_options, order=(APPL, NOT_APPL, YES, NO, NA)), MDS_LIKE)


@transform("checklist_second_before_target", CHECKLISTS)
def _second_before_target(v: Variant) -> None:
    target = v.col("target") or v.col("target_date")
    if target is None or ("second" not in v.roles() and "second_date" not in v.roles()):
        return
    v.columns.remove(target)
    v.columns.insert(_index(v, "second" if "second" in v.roles() else "second_date") + 1, target)


@transform("gate_columns_added", ("sds",))
def _gate_columns(v: Variant) -> None:
    if f"opt:{NA}" not in v.roles():
        return
    _insert(v, Column(f"opt:{APPL}", APPL), after=f"opt:{NA}")
    _insert(v, Column(f"opt:{NOT_APPL}", NOT_APPL), after=f"opt:{APPL}")


@transform("gate_words_in_yes_no", ("mds",))
def _gate_in_yes_no(v: Variant) -> None:
    _remove(v, f"opt:{APPL}")
    _remove(v, f"opt:{NOT_APPL}")


for where in ("front", "after_question", "end"):
    def _empty(v: Variant, where: str = where) -> None:
        col = Column("empty", "")
        if where == "front":
            v.columns.insert(0, col)
        elif where == "after_question":
            _insert(v, col, after="q")
        else:
            v.columns.append(col)
    _register(f"empty_column_{where}", _empty)

def _set(v: Variant, attr: str, value) -> None:
    setattr(v, attr, value)


for n in (1, 4):
    _register(f"blank_rows_every_{n}", functools.partial(_set, attr="blank_every", value=n))


# ---------------------------------------------------------------- sections

def _sections(v: Variant, mode: str) -> None:
    v.section_mode = mode
    if mode.startswith("column"):
        if "section" not in v.roles():
            v.columns.insert(0, Column("section", "区分"))
    else:
        _remove(v, "section")


for mode in ("rows", "column_merged", "column_repeated", "none"):
    _register(f"sections_{mode}", functools.partial(_sections, mode=mode))

# ---------------------------------------------------------------- numbers

_register("numbers_fullwidth", functools.partial(_set, attr="number_style", value="fullwidth"))
for style in ("spaced", "hyphen", "prefixed", "trailing_dot"):
    _register(f"numbers_{style}", functools.partial(_set, attr="number_style", value=style), MDS_LIKE)
for style in ("paren", "circled", "bare", "half_paren", "sectioned"):
    _register(f"numbers_{style}", functools.partial(_set, attr="number_style", value=style), CHECKLISTS)

# ---------------------------------------------------------------- answers


for glyph in ("○", "●", "✓", "■", "レ", "◯"):
    def _glyph(v: Variant, glyph: str = glyph) -> None:
        v.glyph = glyph
    _register(f"glyph={_ascii(glyph)}", _glyph, MDS_LIKE, detail=glyph)


for name, colour, fmt in (("answer_fill_yellow", "FFFF00", "xlsx"), ("answer_fill_yellow_docx", "FFFF00", "docx"),
                          ("answer_fill_grey_marks", "A6A6A6", "xlsx")):
    def _fill(v: Variant, colour: str = colour, fmt: str = fmt) -> None:
        """The chosen option cell is filled (no glyph)."""
        v.mark_colour, v.fmt = colour, fmt
    _register(name, _fill, MDS_LIKE)


@transform("grey_unused_option_cells", MDS_LIKE)
def _grey_unused(v: Variant) -> None:
    """Option cells a row does not offer (はい/いいえ/対象外 on a 該当 row, all on a heading row) are greyed."""
    v.grey_unused = True


@transform("answer_dropdown", MDS_LIKE)
def _dropdown(v: Variant) -> None:
    _answer_column(v, "回答", "dropdown")


@transform("answer_dropdown_docx", MDS_LIKE)
def _dropdown_docx(v: Variant) -> None:
    _answer_column(v, "回答", "dropdown")
    v.fmt = "docx"


for on, off, fmt in (("■", "□", "xlsx"), ("☑", "☐", "docx"), ("●", "○", "xlsx")):
    def _inline(v: Variant, on: str = on, off: str = off, fmt: str = fmt) -> None:
        _answer_column(v, "回答", "inline")
        v.inline_glyphs = (on, off)
        v.fmt = fmt
    _register(f"answer_inline_{_ascii(on + off)}_{fmt}", _inline, MDS_LIKE, detail=on + off)


@transform("answer_inline_reordered", MDS_LIKE)
def _inline_reordered(v: Variant) -> None:
    _answer_column(v, "回答", "inline")
    v.option_order = (NA, NO, YES, NOT_APPL, APPL)


def _split(v: Variant, mode: str = "split", text_dates: bool = False, fmt: str = "") -> None:
    roles = v.roles()
    v.answer_mode, v.dates_as_text = mode, text_dates
    if fmt:
        v.fmt = fmt
    if "first" not in roles:  # split already
        return
    at = roles.index("first")
    keep = [c for c in v.columns if c.role not in ("first", "target", "second")]
    group = v.col("first").group
    new = [Column("first_answer", "1回目", group), Column("first_date", "確認日", group),
           Column("target_date", "目標日", group), Column("second_answer", "2回目", group),
           Column("second_date", "確認日", group)]
    v.columns = keep[:at] + new + keep[at:]


_register("checklist_split_cells", _split, CHECKLISTS)
_register("checklist_split_text_dates", functools.partial(_split, text_dates=True), CHECKLISTS)
_register("checklist_split_dropdown", functools.partial(_split, mode="split_dropdown"), CHECKLISTS)
_register("checklist_split_docx", functools.partial(_split, text_dates=True, fmt="docx"), CHECKLISTS)
for style in ("fullwidth", "newline", "glyph", "year"):
    _register(f"checklist_answer_{style}", functools.partial(_set, attr="checklist_answer_style", value=style),
              CHECKLISTS)

# ---------------------------------------------------------------- split tables

for name, header, page, fmt in (("split_repeated_header", True, False, ""), ("split_no_header", False, False, ""),
                                ("split_new_page", True, True, ""), ("split_new_page_no_header", False, True, ""),
                                ("split_docx_page_break", True, True, "docx")):
    def _split_table(v: Variant, header: bool = header, page: bool = page, fmt: str = fmt) -> None:
        v.split_at, v.split_header, v.split_page = 0.5, header, page
        if fmt:
            v.fmt = fmt
    _register(name, _split_table)

# ---------------------------------------------------------------- remarks


@transform("remark_line_breaks")
def _remark_breaks(v: Variant) -> None:
    _ensure_remark(v)
    _inline_footnotes(v)
    v.remark_style = "linebreaks"


@transform("remark_trailing_spaces")
def _remark_trailing(v: Variant) -> None:
    _ensure_remark(v)
    _inline_footnotes(v)
    v.remark_style = "trailing"


def _inline_footnotes(v: Variant) -> None:
    """Remarks written in the 備考 cell, no 備考記載欄 (an empty footnote becomes an empty remark)."""
    for it in v.sub.items:
        it.remark_ref = it.remark_ref_style = ""
    v.sub.footnotes = {}


transform("footnotes_inline", MDS_LIKE)(_inline_footnotes)


def _footnotes(v: Variant, style: str = "", on_sheet: bool = False, label: str = "備考記載欄") -> None:
    """Every remark moved into the 備考記載欄; the 備考 cell prints its number (「3」 or 「※3」)."""
    number = 0
    refs = {}
    for it in v.sub.items:
        if it.remark_ref:
            refs[it.item_id] = it.remark_ref
        elif it.remark:
            number = max([number] + [int(n) for n in v.sub.footnotes]) + 1
            v.sub.footnotes[str(number)] = it.remark
            it.remark_ref = str(number)
    for it in v.sub.items:
        if it.remark_ref:
            it.remark_ref_style = f"{style}{it.remark_ref}"
    v.footnotes_on_sheet, v.footnote_label = on_sheet, label


_register("footnotes_all", _footnotes, MDS_LIKE)
_register("footnotes_star_refs", functools.partial(_footnotes, style="※"), MDS_LIKE)
_register("footnotes_on_own_sheet", functools.partial(_footnotes, on_sheet=True), MDS_LIKE)

# ---------------------------------------------------------------- LibreOffice prints

PRINTS = (
    ("print_xlsx_a4_landscape", "xlsx", {"orientation": "landscape", "paper": "A4"}, "ＭＳ Ｐゴシック"),
    ("print_xlsx_a4_portrait", "xlsx", {"orientation": "portrait", "paper": "A4"}, "ＭＳ 明朝"),
    ("print_xlsx_a3_landscape", "xlsx", {"orientation": "landscape", "paper": "A3"}, "Noto Sans CJK JP"),
    ("print_docx_a4_portrait", "docx", {"orientation": "portrait", "paper": "A4"}, "ＭＳ 明朝"),
    ("print_docx_b4_landscape", "docx", {"orientation": "landscape", "paper": "B4"}, "IPAexGothic"),
)
for name, fmt, page, font in PRINTS:
    def _print(v: Variant, fmt: str = fmt, page: dict = page, font: str = font) -> None:
        v.fmt, v.pdf, v.font, v.doubtful = fmt, dict(page), font, True
    _register(name, _print, slow=True)
