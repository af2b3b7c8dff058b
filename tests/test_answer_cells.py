"""Answer cells as vendors fill them: a filled and a hollow glyph of one pair in one cell, a typed check mark
before an option word, a checklist date written with its year, checklist numbers printed without brackets.

Each kind through real files (openpyxl) and the real readers; a few cell-level checks pin the edges (the
lone ○ convention, two filled marks, a katakana word ending in レ). Vendors and remarks are invented.
"""
from __future__ import annotations

import pytest
from openpyxl import load_workbook

from extractors import extract
from extractors.answer_cells import decide_inline, decide_option_columns
from extractors.grid import Cell
from extractors.text import parse_checklist_number
from tests.test_checklist_layouts import _xlsx as checklist_xlsx
from tests.test_mds_layouts import QUESTION, write_xlsx

# ------------------------------------------------------------------------- filled and hollow glyph pairs


@pytest.mark.parametrize("on,off", [("●", "○"), ("■", "□"), ("◉", "○"), ("☑", "☐"), ("★", "☆"), ("●", "◯")])
def test_hollow_twin_of_the_filled_glyph_is_the_unchosen_option(on, off):
    d = decide_inline(Cell(f"{off}はい {on}いいえ {off}対象外"))
    assert (d.answer, d.status) == ("いいえ", "answered")
    assert d.confidence >= 0.9


def test_lone_hollow_circle_before_one_word_still_marks_it():
    d = decide_inline(Cell("はい ○いいえ 対象外"))
    assert (d.answer, d.status) == ("いいえ", "answered")


def test_two_filled_marks_stay_ambiguous_and_flagged():
    d = decide_inline(Cell("●はい ●いいえ ○対象外"))
    assert d.status == "ambiguous" and d.reason
    assert d.candidates == ["いいえ", "はい"]


def test_hollow_circles_only_on_every_word_are_not_read_as_a_choice():
    """Without a filled twin, ○ is itself the mark: ○ on two words is two marks, for review."""
    d = decide_inline(Cell("○はい ○いいえ 対象外"))
    assert d.status == "ambiguous"


MDS_HEADER = [["番号", "確認項目", "回答", "備考"]]


def test_inline_filled_and_hollow_circles_in_an_xlsx_answer_column(tmp_path):
    rows = [
        ["3", QUESTION["3"], "●はい ○いいえ ○対象外", ""],
        ["4", QUESTION["4"], "○はい ●いいえ ○対象外", "年内に対応予定です。"],
        ["4.3", QUESTION["4.3"], "○はい ○いいえ ●対象外", ""],
        ["12.1", QUESTION["12.1"], "○はい ○いいえ ○対象外", ""],  # no filled glyph: ○ everywhere is no choice
        ["12.4.1", QUESTION["12.4.1"], "●はい ●いいえ ○対象外", ""],  # two marks
    ]
    doc = extract(write_xlsx(tmp_path / "inline.xlsx", MDS_HEADER, rows))
    assert doc.family == "mds"
    got = {i.item_id: i for i in doc.items}
    assert (got["3"].answer, got["3"].answer_status, got["3"].needs_review) == ("はい", "answered", False)
    assert (got["4"].answer, got["4"].remark) == ("いいえ", "年内に対応予定です。")
    assert got["4.3"].answer == "対象外"
    assert got["12.1"].answer == "" and got["12.1"].needs_review
    assert got["12.4.1"].answer_status == "ambiguous" and got["12.4.1"].needs_review


# ------------------------------------------------------------------------- typed check mark before a word


@pytest.mark.parametrize("prefix,conf_at_least", [("レ", 0.9), ("v", 0.8), ("V ", 0.8), ("x", 0.7)])
def test_typed_check_mark_before_one_inline_word(prefix, conf_at_least):
    d = decide_inline(Cell(f"はい {prefix}いいえ 対象外"))
    assert (d.answer, d.status) == ("いいえ", "answered")
    assert d.confidence >= conf_at_least


def test_katakana_ending_in_re_is_not_a_typed_mark():
    d = decide_inline(Cell("トイレ該当 非該当"))
    assert d.status != "answered" or d.answer != "該当"


def test_typed_check_mark_before_a_gate_word_in_option_columns():
    """A 該当/非該当 row under the はい/いいえ columns: each column prints its word, the chosen one has レ."""
    d = decide_option_columns({"はい": Cell("レ該当"), "いいえ": Cell("非該当")})
    assert (d.answer, d.status) == ("該当", "answered")
    d = decide_option_columns({"はい": Cell("該当"), "いいえ": Cell("レ非該当")})
    assert (d.answer, d.status) == ("非該当", "answered")
    d = decide_option_columns({"はい": Cell("該当"), "いいえ": Cell("非該当")})
    assert d.status == "unanswered"


def test_typed_re_before_gate_words_in_an_xlsx(tmp_path):
    header = [["番号", "確認項目", "はい", "いいえ", "対象外", "備考"]]
    rows = [
        ["3", QUESTION["3"], "レ", "", "", ""],
        ["12", QUESTION["12"], "該当", "レ非該当", "", "外部接続はありません。"],
        ["12.4", QUESTION["12.4"], "レ該当", "非該当", "", ""],
        ["12.4.1", QUESTION["12.4.1"], "", "レ", "", ""],
    ]
    doc = extract(write_xlsx(tmp_path / "re.xlsx", header, rows))
    got = {i.item_id: i for i in doc.items}
    assert (got["3"].answer, got["12.4.1"].answer) == ("はい", "いいえ")
    assert (got["12"].answer, got["12"].answer_status, got["12"].remark) == ("非該当", "answered", "外部接続はありません。")
    assert (got["12.4"].answer, got["12.4"].answer_status) == ("該当", "answered")


# ------------------------------------------------------------------------- checklist dates with the year


def _rewrite(path, change) -> None:
    """Rewrite every body cell of a checklist sheet through `change(text) -> text`."""
    wb = load_workbook(path)
    ws = wb.active
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.value = change(cell.value)
    wb.save(path)


@pytest.mark.parametrize("written", ["2025/5/14", "2025-05-14", "2025年5月14日", "令和7年5月14日", "R7.5.14"])
def test_checklist_first_date_written_with_its_year(tmp_path, written):
    path = checklist_xlsx(tmp_path / "year.xlsx")
    _rewrite(path, lambda t: t.replace("(5/14)", f"({written})"))
    doc = extract(path)
    got = {i.item_id: i for i in doc.items}
    assert (got["1(1)"].answer, got["1(1)"].first_date) == ("はい", "2025-05-14")
    assert (got["2(5)"].answer, got["2(5)"].first_date, got["2(5)"].target_date) == ("いいえ", "2025-05-14",
                                                                                     "2026-03-31")
    assert not got["1(1)"].needs_review, got["1(1)"].review_reason


def test_checklist_date_that_does_not_exist_is_flagged(tmp_path):
    path = checklist_xlsx(tmp_path / "bad_date.xlsx")
    wb = load_workbook(path)
    ws = wb.active
    for row in ws.iter_rows():  # only the row of 2(6) keeps a date that cannot be
        texts = [c.value for c in row]
        if any(isinstance(t, str) and "アクセスログ" in t for t in texts):
            for c in row:
                if c.value == "はい (5/14)":
                    c.value = "はい (2025/13/40)"
    wb.save(path)
    item = extract(path).item("2(6)")
    assert item.answer == "はい" and item.first_date == ""
    assert item.needs_review and "日付" in item.review_reason


def test_year_dates_beside_the_answer_word_in_one_cell():
    for text in ("はい (2024/9/3)", "いいえ（2024-09-03）", "はい 令和6年9月3日", "はい (R6.9.3)"):
        d = decide_inline(Cell(text))
        assert d.status == "answered" and d.date_text, text
    assert decide_inline(Cell("はい (9/3)")).date_text == "(9/3)"


# ------------------------------------------------------------------------- checklist numbers without brackets


def test_bare_checklist_number_only_when_asked_and_under_a_section():
    assert parse_checklist_number("4 アクセスログを管理している。", "2", bare=True) == ("2(4)", "アクセスログを管理している。")
    assert parse_checklist_number("4) アクセスログを管理している。", "2", bare=True)[0] == "2(4)"
    assert parse_checklist_number("4 アクセスログを管理している。", "2")[0] == ""  # not without the hint
    assert parse_checklist_number("4 アクセスログを管理している。", "", bare=True)[0] == ""  # no section
    assert parse_checklist_number("4.1 利用者認証", "2", bare=True)[0] == ""  # a dotted MDS number


@pytest.mark.parametrize("style", ["bare", "half_paren"])
def test_checklist_numbers_printed_without_brackets(tmp_path, style):
    path = checklist_xlsx(tmp_path / f"{style}.xlsx")

    def unbracket(text: str) -> str:
        if len(text) > 3 and text[0] == "(" and text[2] == ")":
            return f"{text[1]} {text[3:].lstrip()}" if style == "bare" else f"{text[1]}) {text[3:].lstrip()}"
        return text
    _rewrite(path, unbracket)
    doc = extract(path)
    got = {i.item_id: i for i in doc.items}
    assert list(got) == ["1(1)", "2(2)", "2(3)", "2(4)", "2(5)", "2(6)", "2(7)", "2(8)"]
    assert got["2(5)"].answer == "いいえ" and got["2(5)"].remark == "棚卸しの手順を年度内に整備する"
    assert got["2(6)"].question.startswith("アクセスログ")
    assert not any(i.needs_review for i in doc.items if i.answer_status == "answered"), \
        [(i.item_id, i.review_reason) for i in doc.items if i.needs_review]
    # The section headings are no items, the device sub-headings neither.
    assert not any("体制構築" in i.question or "以下を実施" in i.question for i in doc.items)


def test_mds_item_numbered_with_a_bare_digit_stays_an_mds_item(tmp_path):
    header = [["番号", "確認項目", "はい", "いいえ", "対象外", "備考"]]
    rows = [["3", QUESTION["3"], "○", "", "", ""], ["4", QUESTION["4"], "", "○", "", ""],
            ["4.3", QUESTION["4.3"], "○", "", "", ""]]
    doc = extract(write_xlsx(tmp_path / "mds.xlsx", header, rows))
    assert [i.item_id for i in doc.items][:3] == ["3", "4", "4.3"]


def test_bare_digits_in_a_number_column_under_a_section_column(tmp_path):
    path = checklist_xlsx(tmp_path / "column.xlsx", number="column")
    _rewrite(path, lambda t: t.strip("()") if len(t) == 3 and t[0] == "(" and t[2] == ")" else t)
    doc = extract(path)
    got = {i.item_id: i for i in doc.items}
    assert list(got) == ["1(1)", "2(2)", "2(3)", "2(4)", "2(5)", "2(6)", "2(7)", "2(8)"]
    assert [got[k].number_printed for k in ("1(1)", "2(5)")] == ["1", "5"]
    assert got["2(5)"].target_date == "2026-03-31" and got["2(5)"].answer == "いいえ"
    # 1…8 without a repeat looks like a column counting the rows: the ids come from the question texts,
    # each one flagged for a person to confirm rather than taken silently.
    assert all(i.needs_review and i.review_reason for i in doc.items)
