"""MDS layouts vendors make from their own templates, read from real files through extractors.extract():

- combined option headers (はい／該当 | いいえ／非該当 | 対象外) with 該当/非該当 answers in section 12;
- grey shading the form puts on options that do not apply (対象外 on the 該当/非該当 rows), on group rows
  and header rows: decoration, not a mark; a colour a vendor marks with is still a mark;
- a number column headed 「No」「No.」「#」「項番」「番号」 (never the いいえ option);
- header text wrapped over two rows or two lines (「いいえ／非」 over 「該当」);
- a remark that wrapped at the edge of a PDF cell (joined), beside a real paragraph break (kept).

Vendors, products and remarks are invented; questions are the form's own (from the catalogue).
"""
from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook
from openpyxl.styles import PatternFill
from reportlab.pdfgen import canvas as rl_canvas

from extractors import extract
from extractors.forms import get_form
from samples.pdf_builder import FONT, MARGIN, PAGE_H, CellSpec, TableDrawer, _wrap, register_font

FORM = get_form("jahis-mds-4.1")
QUESTION = {c.id: c.text for c in FORM.items}
TITLE = "「製造業者による医療情報セキュリティ開示書」チェックリスト"
VENDOR = "株式会社しおさいメディカルソフト"
PRODUCT = "内視鏡画像ファイリング しおさいView"
GREY = "D9D9D9"  # the form's shading of options that do not apply
HEAD_GREY = "EDEDED"  # the form's header shading
YELLOW = "FFFF00"  # a vendor's marking colour
OPTIONS = ("はい", "いいえ", "対象外")


def _bullet(item_id: str) -> str:
    return "・" + QUESTION[item_id]


# One row per entry: (number printed, catalogue id for the question, chosen option or "", options the form
# greys out on that row, remark). The 該当/非該当 rows (12, 12.3.1.1 and its bullets, 12.4) grey 対象外.
ROWS = [
    ("3", "3", "はい", (), ""),
    ("4", "4", "はい", (), ""),
    ("4.1", "4.1", "", ("はい", "いいえ", "対象外", "remark"), ""),
    ("", "4.1/記憶", "はい", (), ""),
    ("", "4.1/生体認証", "いいえ", (), ""),
    ("", "4.1/物理媒体", "いいえ", (), ""),
    ("4.3", "4.3", "はい", (), "操作ログは本体に5年分保管できます。"),
    ("12", "12", "いいえ", ("対象外",), "院外との通信は行いません。"),
    ("12.1", "12.1", "対象外", (), ""),
    ("12.3.1.1", "12.3.1.1", "いいえ", ("対象外",), ""),
    ("", "12.3.1.1/専用線", "いいえ", ("対象外",), ""),
    ("", "12.3.1.1/公衆網", "いいえ", ("対象外",), ""),
    ("", "12.3.1.1/IP-VPN", "", ("対象外",), ""),  # left blank by the vendor
    ("12.4", "12.4", "いいえ", ("対象外",), ""),
    ("12.4.1", "12.4.1", "対象外", (), ""),
]

EXPECTED = {
    "3": ("はい", "answered"), "4": ("はい", "answered"),
    "4.1/記憶": ("はい", "answered"), "4.1/生体認証": ("いいえ", "answered"), "4.1/物理媒体": ("いいえ", "answered"),
    "4.3": ("はい", "answered"), "12": ("非該当", "answered"), "12.1": ("対象外", "answered"),
    "12.3.1.1": ("非該当", "answered"), "12.3.1.1/専用線": ("非該当", "answered"),
    "12.3.1.1/公衆網": ("非該当", "answered"), "12.3.1.1/IP-VPN": ("", "unanswered"),
    "12.4": ("非該当", "answered"), "12.4.1": ("対象外", "answered"),
}


def _question(cat_id: str) -> str:
    return _bullet(cat_id) if "/" in cat_id else QUESTION[cat_id]


def _fill(colour: str) -> PatternFill:
    return PatternFill("solid", fgColor=colour)


def write_xlsx(path: Path, header_rows: list[list[str]], rows: list[list[str]],
               fills: dict[tuple[int, int], str] | None = None, header_fill: str = HEAD_GREY) -> Path:
    """A sheet: title, vendor fields, the header rows (shaded), then the body rows; `fills` by (body row, col)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "開示書"
    ws.append([TITLE])
    ws.append([])
    ws.append(["製造業者：", VENDOR, "作成日：", "2026年2月3日"])
    ws.append(["製品名称：", PRODUCT, "バージョン：", "3.1"])
    ws.append([])
    for hr in header_rows:
        ws.append(hr)
        for col in range(1, len(hr) + 1):
            ws.cell(ws.max_row, col).fill = _fill(header_fill)
    first = ws.max_row + 1
    for row in rows:
        ws.append(row)
    for (r, c), colour in (fills or {}).items():
        ws.cell(first + r, c + 1).fill = _fill(colour)
    wb.save(path)
    return path


def mark_columns_body(glyph: str = "✓", shade: str = GREY) -> tuple[list[list[str]], dict[tuple[int, int], str]]:
    """Body rows for columns 番号 | 確認項目 | はい | いいえ | 対象外 | 備考, with the form's shading."""
    rows, fills = [], {}
    for r, (number, cat_id, chosen, greyed, remark) in enumerate(ROWS):
        row = [number, _question(cat_id)] + [glyph if chosen == o else "" for o in OPTIONS] + [remark]
        rows.append(row)
        for what in greyed:
            col = 5 if what == "remark" else 2 + OPTIONS.index(what)
            fills[(r, col)] = shade
    return rows, fills


def _check(doc, expected=EXPECTED):
    got = {i.item_id: (i.answer, i.answer_status) for i in doc.items}
    for item_id, want in expected.items():
        assert got.get(item_id) == want, (item_id, got.get(item_id))
    return got


@pytest.mark.parametrize("number_header", ["No", "No.", "#", "項番", "番号"])
def test_combined_headers_grey_na_cells_and_number_column(tmp_path, number_header):
    rows, fills = mark_columns_body()
    header = [number_header, "確認項目", "はい／該当", "いいえ／非該当", "対象外", "備考"]
    doc = extract(write_xlsx(tmp_path / "mds.xlsx", [header], rows, fills))
    assert doc.family == "mds" and doc.vendor == VENDOR
    _check(doc)
    # the number column is not an option: no row is read from it, every id comes from its number
    assert not any(i.answer_status == "ambiguous" for i in doc.items)
    for item_id in ("12", "12.3.1.1/専用線", "12.4", "4.1/生体認証"):
        item = doc.item(item_id)
        assert not item.needs_review, (item_id, item.review_reason)
        assert "◯" not in item.answer_raw  # the grey shading is not reported as a mark
    # a row the vendor left blank beside a greyed-out option is unanswered, for sure
    blank = doc.item("12.3.1.1/IP-VPN")
    assert not blank.needs_review and blank.confidence == 1.0
    assert doc.item("12").remark == "院外との通信は行いません。"
    assert doc.item("4.3").remark == "操作ログは本体に5年分保管できます。"


def test_pastel_shading_repeated_down_the_na_column_is_decoration(tmp_path):
    # The tint appears only on the greyed-out 対象外 cells (the group row is left white).
    rows, fills = mark_columns_body(shade="DCE6F1")
    group = next(i for i, row in enumerate(ROWS) if row[1] == "4.1")
    fills = {(r, c): colour for (r, c), colour in fills.items() if r != group}
    header = ["No", "確認項目", "はい／該当", "いいえ／非該当", "対象外", "備考"]
    doc = extract(write_xlsx(tmp_path / "mds_pastel.xlsx", [header], rows, fills, header_fill="FFFFFF"))
    _check(doc)
    assert not any(i.needs_review for i in doc.items if i.item_id.startswith("12"))


def test_grey_na_cells_on_rows_all_left_blank_are_not_read_as_answers(tmp_path):
    # The vendor marks with glyphs but left every 該当/非該当 row blank: the greyed 対象外 cells alone.
    rows, fills = mark_columns_body()
    group = next(i for i, row in enumerate(ROWS) if row[1] == "4.1")
    fills = {(r, c): colour for (r, c), colour in fills.items() if r != group}
    for r, (_, _, _, greyed, _) in enumerate(ROWS):
        if greyed:
            rows[r][2:5] = ["", "", ""]
    header = ["No.", "確認項目", "はい／該当", "いいえ／非該当", "対象外", "備考"]
    doc = extract(write_xlsx(tmp_path / "mds_blank12.xlsx", [header], rows, fills, header_fill="FFFFFF"))
    for item_id in ("12", "12.3.1.1", "12.3.1.1/専用線", "12.4"):
        item = doc.item(item_id)
        assert (item.answer, item.answer_status) == ("", "unanswered"), item_id
        assert item.needs_review and "網掛け" in item.review_reason
    _check(doc, {k: EXPECTED[k] for k in ("3", "4", "4.1/生体認証", "12.1", "12.4.1")})


def test_combined_headers_in_brackets(tmp_path):
    rows, fills = mark_columns_body(glyph="〇")
    header = ["#", "確認項目", "はい（該当）", "いいえ（非該当）", "対象外", "備考"]
    _check(extract(write_xlsx(tmp_path / "mds_brackets.xlsx", [header], rows, fills)))


def test_one_answer_column_headed_with_its_choices(tmp_path):
    # 「はい・いいえ・対象外」 over one column: the choices to write in it, not the はい option.
    rows = [[number, _question(cat_id), "該当" if chosen == "はい" and cat_id.startswith("12") else
             "非該当" if chosen == "いいえ" and cat_id.startswith("12") else chosen, remark]
            for number, cat_id, chosen, _, remark in ROWS]
    header = ["項番", "確認項目", "はい・いいえ・対象外", "備考"]
    _check(extract(write_xlsx(tmp_path / "mds_answer_column.xlsx", [header], rows)))


def test_english_no_column_and_no_option_told_apart_by_content(tmp_path):
    rows, fills = mark_columns_body(glyph="○")
    header = ["No", "確認項目", "Yes", "No", "N/A", "備考"]
    doc = extract(write_xlsx(tmp_path / "mds_en.xlsx", [header], rows, fills))
    _check(doc)


def test_a_no_column_holding_marks_is_the_no_option(tmp_path):
    # Options left of the question, numbers printed inside the question: the first column reads 「No」
    # and could be a number column, but its cells hold marks, not item numbers.
    rows = []
    for number, cat_id, chosen, _, remark in ROWS[:7]:
        marks = ["○" if chosen == o else "" for o in ("いいえ", "はい", "対象外")]
        rows.append(marks + [f"{number} {_question(cat_id)}".strip(), remark])
    header = ["No", "Yes", "N/A", "確認項目", "備考"]
    doc = extract(write_xlsx(tmp_path / "mds_no_marks.xlsx", [header], rows))
    _check(doc, {k: EXPECTED[k] for k in ("3", "4", "4.1/記憶", "4.1/生体認証", "4.1/物理媒体", "4.3")})


def test_header_text_wrapped_over_two_rows(tmp_path):
    rows, fills = mark_columns_body()
    header = [["項番", "確認項目", "はい／", "いいえ／非", "対象外", "備考"],
              ["", "", "該当", "該当", "", ""]]
    doc = extract(write_xlsx(tmp_path / "mds_wrapped_header.xlsx", header, rows, fills))
    _check(doc)
    assert not doc.item("4.1/物理媒体").needs_review


def test_vendor_marking_colour_is_a_mark_and_grey_beside_it_is_not(tmp_path):
    # The vendor marks by filling the chosen cell yellow (no glyphs); the form greys 対象外 on the 12 rows.
    rows, fills = [], {}
    for r, (number, cat_id, chosen, greyed, remark) in enumerate(ROWS):
        rows.append([number, _question(cat_id), "", "", "", remark])
        for what in greyed:
            fills[(r, 5 if what == "remark" else 2 + OPTIONS.index(what))] = GREY
        if chosen:
            fills[(r, 2 + OPTIONS.index(chosen))] = YELLOW
    # one row with a yellow cell and a ✓ in another option: the vendor marked two options
    r3 = next(i for i, row in enumerate(ROWS) if row[1] == "3")
    rows[r3][3] = "✓"
    header = ["No.", "確認項目", "はい／該当", "いいえ／非該当", "対象外", "備考"]
    doc = extract(write_xlsx(tmp_path / "mds_yellow.xlsx", [header], rows, fills))
    expected = dict(EXPECTED, **{"3": ("", "ambiguous")})
    _check(doc, expected)
    assert doc.item("3").needs_review
    assert not doc.item("12").needs_review and not doc.item("12.3.1.1/公衆網").needs_review


def test_lone_fill_in_the_forms_own_shade_is_not_read_as_the_answer(tmp_path):
    # A row whose only evidence is one cell in the header's shade: not read as the answer, but flagged.
    rows, fills = mark_columns_body()
    r4 = next(i for i, row in enumerate(ROWS) if row[1] == "4")
    rows[r4][2] = ""
    fills[(r4, 2)] = HEAD_GREY
    header = ["項番", "確認項目", "はい／該当", "いいえ／非該当", "対象外", "備考"]
    doc = extract(write_xlsx(tmp_path / "mds_lone_shade.xlsx", [header], rows, fills))
    item = doc.item("4")
    assert (item.answer, item.answer_status) == ("", "unanswered")
    assert item.needs_review and "網掛け" in item.review_reason
    _check(doc, {k: v for k, v in EXPECTED.items() if k != "4"})


# --------------------------------------------------------------------------- PDF

REMARK_WRAPPED = "保守用の閉域回線はオプションサービスとしてご契約いただけます。"
REMARK_NOTE = "※回線の手配は弊社が代行します。"
SIZE = 8.5
PAD = 3.0


def _remark_width() -> float:
    """A remark column width at which the first line of REMARK_WRAPPED ends inside 「オプション」."""
    for tenth in range(600, 2400):
        width = tenth / 10
        first = _wrap(REMARK_WRAPPED, width - 2 * PAD, SIZE)[0]
        if first.endswith(("オプ", "オプシ", "オプショ")):
            return width
    raise AssertionError("no width splits the word")


def write_pdf(path: Path, header: list[list[str]], opt_width: float) -> Path:
    register_font()
    c = rl_canvas.Canvas(str(path), pagesize=(595.27, 841.89))
    c.setFont(FONT, 10)
    c.drawString(MARGIN, PAGE_H - MARGIN - 12, TITLE)
    c.setFont(FONT, 9)
    c.drawString(MARGIN, PAGE_H - MARGIN - 34, f"製造業者：{VENDOR}")
    c.drawString(MARGIN + 300, PAGE_H - MARGIN - 34, "作成日：2026年2月3日")
    c.drawString(MARGIN, PAGE_H - MARGIN - 49, f"製品名称：{PRODUCT}")
    c.drawString(MARGIN + 300, PAGE_H - MARGIN - 49, "バージョン：3.1")
    widths = [40.0, 250.0 - 3 * opt_width + 90, opt_width, opt_width, opt_width, _remark_width()]
    grey = tuple(int(GREY[i:i + 2], 16) / 255 for i in (0, 2, 4))
    spec_rows = [[CellSpec(t, align="center") for t in hr] for hr in header]
    for number, cat_id, chosen, greyed, remark in ROWS:
        if cat_id == "12":
            remark = REMARK_WRAPPED + "\n" + REMARK_NOTE
        row = [CellSpec(number), CellSpec(_question(cat_id))]
        row += [CellSpec("●" if chosen == o else "", align="center", fill=grey if o in greyed else None)
                for o in OPTIONS]
        row.append(CellSpec(remark))
        spec_rows.append(row)
    TableDrawer(c, widths, size=SIZE).draw(spec_rows, PAGE_H - MARGIN - 62, header_rows=len(header))
    c.showPage()
    c.save()
    return path


def _check_pdf(doc):
    assert doc.family == "mds" and doc.vendor == VENDOR
    _check(doc)
    for item_id in ("12", "12.3.1.1", "12.3.1.1/専用線", "4.1/生体認証"):
        assert not doc.item(item_id).needs_review, (item_id, doc.item(item_id).review_reason)
    # the wrap inside 「オプション」 is joined; the paragraph break before ※ stays
    assert doc.item("12").remark == REMARK_WRAPPED + "\n" + REMARK_NOTE


def test_pdf_header_wrapped_inside_a_narrow_cell_and_remark_wrap(tmp_path):
    register_font()
    opt_width = 52.0  # 「いいえ／非該当」 does not fit: it wraps inside the header cell
    assert _wrap("いいえ／非該当", opt_width - 2 * PAD, SIZE) == ["いいえ／非", "該当"]
    header = [["項番", "確認項目", "はい／該当", "いいえ／非該当", "対象外", "備考"]]
    _check_pdf(extract(write_pdf(tmp_path / "mds_narrow.pdf", header, opt_width)))


def test_pdf_header_continued_in_a_second_ruled_row(tmp_path):
    header = [["項番", "確認項目", "はい／", "いいえ／非", "対象外", "備考"],
              ["", "", "該当", "該当", "", ""]]
    _check_pdf(extract(write_pdf(tmp_path / "mds_two_row_header.pdf", header, 40.0)))
