"""camelot's lattice reading as a second reading of ruled PDF tables (extractors/readers/pdf_camelot.py).

Every PDF here is drawn with reportlab and read by the real readers: pdfplumber through `read_pdf`, camelot
through `read_camelot`. Where the two agree nothing is doubted; where they disagree on a row, the row is in
`Table.row_doubt` and the items read from it are flagged.
"""
from __future__ import annotations

from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas as rl_canvas

from extractors import extract
from extractors.forms import get_form
from extractors.readers.pdf import read_pdf
from extractors.readers.pdf_camelot import (
    CAMELOT_DOUBT, check_ruled_tables, compare, is_ruled, read_camelot,
)
from samples.pdf_builder import FONT, register_font
from tests.office_files import rule_table

XS = [50, 90, 330, 380, 430, 480, 545]
ROWS = [("番号", "確認項目", "はい", "いいえ", "対象外", "備考"),
        ("1", "利用者ごとに識別できるか？", "○", "", "", ""),
        ("2", "操作の記録を残せるか？", "", "○", "", "記録は九十日分です"),
        ("3", "通信路は暗号化されるか？", "○", "", "", ""),
        ("4", "保守窓口を定めているか？", "", "", "○", "")]


def _ruled_table(path: Path, *, row_h: float = 22.0, size: float = 9.0, drop_below: int | None = None,
                 no_rule: tuple[int, int] | None = None, extra_rule_in_row: int | None = None,
                 checkboxes: bool = False, box_side: float = 8.0) -> Path:
    """A small ruled table. `drop_below`: that row's question is printed over the rule under the row (its
    lines fall half into the next row); `no_rule=(col, row)`: the vertical rule left of `col` is missing in
    `row` (a merged cell); `extra_rule_in_row`: a horizontal rule across the middle of that row;
    `checkboxes`: the option cells hold drawn squares of `box_side` (an X in the chosen one) instead of ○."""
    register_font()
    c = rl_canvas.Canvas(str(path), pagesize=A4)
    c.setFont(FONT, size)
    c.setLineWidth(0.6)
    top = 760.0
    ys = [top - i * row_h for i in range(len(ROWS) + 1)]
    for y in ys:
        c.line(XS[0], y, XS[-1], y)
    if extra_rule_in_row is not None:
        y = ys[extra_rule_in_row] - row_h / 2
        c.line(XS[0], y, XS[-1], y)
    for j, x in enumerate(XS):
        if no_rule is not None and j == no_rule[0]:
            r = no_rule[1]
            c.line(x, ys[0], x, ys[r])
            c.line(x, ys[r + 1], x, ys[-1])
        else:
            c.line(x, ys[0], x, ys[-1])
    for i, row in enumerate(ROWS):
        for j, text in enumerate(row):
            baseline = ys[i] - row_h / 2 - size * 0.35
            if drop_below == i and j == 1:
                baseline = ys[i + 1] - size * 0.3  # the line sits on the rule under its row
            if checkboxes and i > 0 and 2 <= j <= 4:
                side = box_side
                x0, y0 = (XS[j] + XS[j + 1] - side) / 2, ys[i] - (row_h + side) / 2
                c.rect(x0, y0, side, side, stroke=1, fill=0)
                if text:
                    c.line(x0, y0, x0 + side, y0 + side)
                    c.line(x0, y0 + side, x0 + side, y0)
                continue
            if text:
                c.drawString(XS[j] + 3, baseline, text)
    c.save()
    return path


def _page_table(path: Path):
    tables = [t for t in read_pdf(path).tables if is_ruled(t)]
    assert len(tables) == 1, [t.name for t in tables]
    return tables[0]


def test_readings_that_agree_doubt_nothing(tmp_path):
    path = _ruled_table(tmp_path / "plain.pdf")
    grid = read_pdf(path)
    table = _page_table(path)
    assert table.row_doubt == {}
    table.row_doubt.clear()
    second = check_ruled_tables(path, grid.tables)
    [comparison] = second.comparisons
    assert comparison.compared and not second.error
    assert (comparison.rows_agreed, comparison.rows) == (5, 5)
    assert (comparison.cells_agreed, comparison.cells) == (30, 30)


def test_a_merged_cell_both_readers_see_is_no_doubt(tmp_path):
    path = _ruled_table(tmp_path / "merged.pdf", no_rule=(2, 2))
    table = _page_table(path)
    assert table.rows[2][2].merged_into == (2, 1)  # pdfplumber joined the question and the はい cell
    assert table.row_doubt == {}


def test_drawn_checkboxes_cut_no_cell(tmp_path):
    """camelot reads a drawn box's square as table rules and cuts the option cell around it; pdfplumber
    writes the box as ☐/☑ into the cell. The comparison joins camelot's pieces: no doubt."""
    path = _ruled_table(tmp_path / "boxes.pdf", checkboxes=True, row_h=12.0, size=7.0, box_side=10.0)
    table = _page_table(path)
    assert "☑" in table.rows[1][2].text and "☐" in table.rows[1][3].text
    assert table.row_doubt == {}


def test_text_over_a_rule_that_leaves_a_row_empty_is_doubted(tmp_path):
    """A question printed over the rule under its row: pdfplumber's layout gives the line to the next row
    and leaves its own row without a question; camelot's glyphs are centred in the row they were printed
    for. Both rows are doubted."""
    path = _ruled_table(tmp_path / "crossing.pdf", drop_below=2)
    table = _page_table(path)
    assert table.rows[2][1].text == ""  # pdfplumber's reading: the question went to the row below
    assert table.row_doubt == {2: CAMELOT_DOUBT, 3: CAMELOT_DOUBT}


def test_a_rule_only_one_reader_sees_doubts_that_row(tmp_path):
    """Structure, not text: camelot's reading of a print with a rule across row 3 against pdfplumber's
    reading of the same table without it. Only row 3 differs."""
    table = _page_table(_ruled_table(tmp_path / "plain.pdf"))
    other = read_camelot(_ruled_table(tmp_path / "split.pdf", extra_rule_in_row=3), [1])
    comparison = compare(table, other[1])
    assert comparison.compared
    assert set(comparison.doubted) == {3}
    assert comparison.rows_agreed == 4


def test_table_camelot_does_not_find_is_not_compared(tmp_path):
    """A page camelot reads no table on (here: an empty page) leaves pdfplumber's reading as it was."""
    table = _page_table(_ruled_table(tmp_path / "plain.pdf"))
    c = rl_canvas.Canvas(str(tmp_path / "empty.pdf"), pagesize=A4)
    c.setFont(register_font(), 9)
    c.drawString(50, 700, "表のないページ")
    c.save()
    comparison = compare(table, read_camelot(tmp_path / "empty.pdf", [1]).get(1, []))
    assert not comparison.compared and comparison.doubted == {}


# ------------------------------------------------------------------------------------------------ end to end

MDS = get_form("jahis-mds-4.1")
QUESTION = {c.id: c.text for c in MDS.items}
OPTIONS = ("はい", "いいえ", "対象外")
MDS_ROWS = [("3", "はい"), ("4", "はい"), ("4.2", "いいえ"), ("4.3", "はい"), ("5", "対象外"), ("6", "はい")]


def _mds_print(path: Path, drop: str | None) -> Path:
    """A one-page MDS print of an invented vendor; the question of row `drop` printed over the rule under it."""
    register_font()
    c = rl_canvas.Canvas(str(path), pagesize=(842.0, 595.0))
    c.setFont(FONT, 10)
    c.drawString(40, 560, "「製造業者による医療情報セキュリティ開示書」チェックリスト")
    c.drawString(40, 545, "製造業者：株式会社あさぎり計測")
    c.drawString(40, 530, "製品名称：あさぎり検査ビューア")
    xs = [40, 80, 560, 600, 640, 680, 800]
    rows = [("番号", "確認項目", "はい", "いいえ", "対象外", "備考")]
    rows += [(n, QUESTION[n], *("○" if o == chosen else "" for o in OPTIONS), "") for n, chosen in MDS_ROWS]
    top, row_h, size = 510.0, 18.0, 7.0
    for k, row in enumerate(rows):
        for x0, text in zip(xs, row):
            if not text:
                continue
            baseline = top - k * row_h - row_h / 2 - size * 0.35
            if row[0] == drop and x0 == xs[1]:
                baseline = top - (k + 1) * row_h - size * 0.3
            c.setFont(FONT, size)
            c.drawString(x0 + 2, baseline, text)
    rule_table(c, xs, top, row_h, len(rows))
    c.save()
    return path


def test_end_to_end_items_of_a_disputed_row_are_flagged(tmp_path):
    doc = extract(_mds_print(tmp_path / "mds.pdf", drop="4.3"))
    got = {i.item_id: i for i in doc.items}
    for number, chosen in MDS_ROWS:
        assert got[number].answer == chosen, number
    flagged = {n for n, i in got.items() if i.needs_review}
    assert flagged == {"4.3", "5"}, flagged
    for number in flagged:
        assert "camelot" in got[number].review_reason, got[number].review_reason


def test_end_to_end_a_clean_print_has_no_flag(tmp_path):
    doc = extract(_mds_print(tmp_path / "mds.pdf", drop=None))
    got = {i.item_id: i for i in doc.items}
    assert [n for n, _ in MDS_ROWS] == [n for n in got if n in dict(MDS_ROWS)]
    assert not [n for n, i in got.items() if i.needs_review]
