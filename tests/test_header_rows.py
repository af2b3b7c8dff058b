"""Header rows that are not where, or not as whole, as the reader first expects, on real XLSX files:

- the header printed again in the middle of a sheet (the table went on below a page break): those rows
  are no items, the rows after them are read with the same columns, or with the new columns when the
  repeated header orders them differently;
- a header word broken over two header rows (「備」 over 「考」, 「チェック」 over 「項目」, 「コメ」 over 「ント」),
  also beside a header whose second row holds its own words (「確認結果（日付）」 over 「1回目 | 目標日 | 2回目」).

Vendors, products and remarks are invented; questions are the forms' own (from the catalogue).
"""
from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

from extractors import extract
from extractors.forms import get_form
from extractors.text import normalize_text
from tests.office_files import rule_table

MDS = get_form("jahis-mds-4.1")
QUESTION = {c.id: c.text for c in MDS.items}
MDS_TITLE = "「製造業者による医療情報セキュリティ開示書」チェックリスト"
VENDOR = "株式会社こもれびシステムズ"
OPTIONS = ("はい", "いいえ", "対象外")

# (number, chosen option, remark)
MDS_ROWS = [("3", "はい", ""), ("4", "はい", "端末ロックは5分で作動します。"), ("4.2", "いいえ", ""),
            ("4.3", "はい", ""), ("5", "対象外", "時刻同期は院内サーバに従います。"), ("6", "はい", ""),
            ("7", "いいえ", "無線LANは使用しません。"), ("8", "はい", "")]


def _mds_sheet(path: Path, header: list[str], repeat_at: int | None = None,
               second_header: list[str] | None = None, wrapped: dict[int, tuple[str, str]] | None = None) -> Path:
    """One MDS sheet, columns 番号 | 確認項目 | はい | いいえ | 対象外 | 備考 (or the order of the header given).

    repeat_at: the header is printed again before that body row (with `second_header`'s order after it);
    wrapped: column -> (top piece, bottom piece) of a header word broken over two header rows."""
    wb = Workbook()
    ws = wb.active
    ws.title = "開示書"
    ws.append([MDS_TITLE])
    ws.append(["製造業者：", VENDOR, "作成日：", "2026年4月1日"])
    ws.append(["製品名称：", "検査予約ポータル こもれび", "バージョン：", "2.0"])
    ws.append([])

    def put_header(words: list[str]) -> None:
        if wrapped:
            ws.append([wrapped[c][0] if c in wrapped else w for c, w in enumerate(words)])
            ws.append([wrapped[c][1] if c in wrapped else None for c in range(len(words))])
        else:
            ws.append(words)

    def body(number: str, chosen: str, remark: str, words: list[str]) -> list[str]:
        by_role = {"番号": number, "確認項目": QUESTION[number], "備考": remark or None}
        return [by_role.get(w, "○" if w == chosen else None) for w in words]

    put_header(header)
    words = header
    for k, (number, chosen, remark) in enumerate(MDS_ROWS):
        if k == repeat_at:
            ws.append([])
            ws.append(["（次ページへ続く）"])
            words = second_header or header
            put_header(words)
        ws.append(body(number, chosen, remark, words))
    wb.save(path)
    return path


MDS_HEADER = ["番号", "確認項目", "はい", "いいえ", "対象外", "備考"]


def _check_mds(doc) -> None:
    got = {i.item_id: i for i in doc.items}
    assert list(got) == [n for n, _, _ in MDS_ROWS], [(i.item_id, i.question[:12]) for i in doc.items]
    for number, chosen, remark in MDS_ROWS:
        item = got[number]
        assert (item.answer, item.answer_status) == (chosen, "answered"), number
        assert item.remark == remark, number
        assert not item.needs_review, (number, item.review_reason)


def test_header_repeated_mid_sheet_is_no_item(tmp_path):
    doc = extract(_mds_sheet(tmp_path / "repeated.xlsx", MDS_HEADER, repeat_at=4))
    _check_mds(doc)
    assert not any("確認項目" == i.question for i in doc.items)


def test_repeated_header_with_other_column_order_is_read_anew(tmp_path):
    """Below the page break the options come in another order and the remark moved left: the rows after it
    are read by the new header, not by the first one."""
    second = ["番号", "確認項目", "備考", "対象外", "いいえ", "はい"]
    _check_mds(extract(_mds_sheet(tmp_path / "reordered.xlsx", MDS_HEADER, repeat_at=3, second_header=second)))


def test_question_and_remark_words_broken_over_two_header_rows(tmp_path):
    """「チェック」 over 「項目」 (「チェック」 alone reads as an answer column) and 「コメ」 over 「ント」."""
    wrapped = {1: ("チェック", "項目"), 5: ("コメ", "ント")}
    _check_mds(extract(_mds_sheet(tmp_path / "wrapped.xlsx", MDS_HEADER, wrapped=wrapped)))


def test_bold_word_header_broken_over_two_rows(tmp_path):
    """A Word table whose header is bold: bold is no mark, the broken pieces (「対象」 over 「外」, 「備」 over
    「考」) still join into their words."""
    from docx import Document as DocxDocument

    path = tmp_path / "bold.docx"
    d = DocxDocument()
    d.add_paragraph(MDS_TITLE)
    d.add_paragraph(f"製造業者：{VENDOR}　　作成日：2026年4月1日")
    t = d.add_table(rows=2 + len(MDS_ROWS), cols=6)
    top = ["番号", "確認項目", "はい", "いいえ", "対象", "備"]
    below = ["", "", "", "", "外", "考"]
    for col, (a, b) in enumerate(zip(top, below)):
        for r, text in ((0, a), (1, b)):
            if text:
                t.cell(r, col).paragraphs[0].add_run(text).bold = True
    for k, (number, chosen, remark) in enumerate(MDS_ROWS):
        values = [number, QUESTION[number], *("○" if o == chosen else "" for o in OPTIONS), remark]
        for col, value in enumerate(values):
            t.cell(2 + k, col).text = value
    d.save(path)
    _check_mds(extract(path))


def test_broken_words_in_a_repeated_two_row_header(tmp_path):
    wrapped = {5: ("備", "考")}
    _check_mds(extract(_mds_sheet(tmp_path / "both.xlsx", MDS_HEADER, repeat_at=5, wrapped=wrapped)))


# ------------------------------------------------------------------------------------------------ checklist

CHECKLIST_TITLE = "医療機関におけるサイバーセキュリティ対策チェックリスト"
# (number, question, 1回目, 目標日, 2回目, 備考)
CHECKLIST_ROWS = [
    ("(1)", "事業者内に、医療情報システム等の提供に係る管理責任者を設置している。", "はい (6/3)", "(/)",
     "はい・いいえ (/)", ""),
    ("(2)", "リモートメンテナンス（保守）している機器の有無を確認した。", "はい (6/3)", "(/)", "はい・いいえ (/)",
     "保守は院内の専用端末からのみ"),
    ("(3)", "医療機関に製造業者/サービス事業者による医療情報セキュリティ開示書（MDS/SDS）を提出した。",
     "いいえ (6/3)", "(12/20)", "はい (1/15)", "提出用の版を準備中"),
    ("(4)", "利用者の職種・担当業務別の情報区分毎のアクセス利用権限を設定している。", "はい (6/3)", "(/)",
     "はい・いいえ (/)", ""),
]
CHECKLIST_EXPECTED = {
    "1(1)": ("はい", "2025-06-03", "", "", ""),
    "2(2)": ("はい", "2025-06-03", "", "", "保守は院内の専用端末からのみ"),
    "2(3)": ("いいえ", "2025-06-03", "2025-12-20", "はい", "提出用の版を準備中"),
    "2(4)": ("はい", "2025-06-03", "", "", ""),
}


def _checklist(path: Path, remark: tuple[str, str] = ("備考", ""), question: tuple[str, str] = ("チェック項目", ""),
               repeat_at: int | None = None) -> Path:
    """The two-row checklist header: 「確認結果（日付）」 merged over 1回目 | 目標日 | 2回目; the question and
    remark words in the top row, or broken over both rows when given as two pieces."""
    wb = Workbook()
    ws = wb.active
    ws.title = "確認用"
    ws.cell(row=1, column=1, value=CHECKLIST_TITLE)
    ws.cell(row=2, column=1, value="事業者確認用")
    ws.cell(row=3, column=1, value="○ 令和7年度中")
    r = 5

    def header() -> None:
        nonlocal r
        ws.cell(row=r, column=2, value=question[0])
        if question[1]:
            ws.cell(row=r + 1, column=2, value=question[1])
        ws.cell(row=r, column=3, value="確認結果（日付）")
        ws.merge_cells(start_row=r, start_column=3, end_row=r, end_column=5)
        for col, word in ((3, "1回目"), (4, "目標日"), (5, "2回目")):
            ws.cell(row=r + 1, column=col, value=word)
        ws.cell(row=r, column=6, value=remark[0])
        if remark[1]:
            ws.cell(row=r + 1, column=6, value=remark[1])
        r += 2

    header()
    for k, (num, q, first, target, second, rem) in enumerate(CHECKLIST_ROWS):
        if k == repeat_at:
            r += 1
            ws.cell(row=r, column=1, value="（次頁へ続く）")
            r += 1
            header()
        ws.cell(row=r, column=1, value="1 体制構築" if k == 0 else "2 医療情報システムの管理・運用")
        for col, value in ((2, f"{num} {q}"), (3, first), (4, target), (5, second), (6, rem or None)):
            ws.cell(row=r, column=col, value=value)
        r += 1
    r += 1
    ws.cell(row=r, column=1, value="事業者名：")
    ws.cell(row=r, column=2, value=VENDOR)
    wb.save(path)
    return path


def _check_checklist(doc) -> None:
    got = {i.item_id: i for i in doc.items}
    assert list(got) == list(CHECKLIST_EXPECTED), [(i.item_id, i.question[:12]) for i in doc.items]
    for item_id, (answer, first, target, second, remark) in CHECKLIST_EXPECTED.items():
        item = got[item_id]
        assert (item.answer, item.answer_status) == (answer, "answered"), item_id
        assert (item.first_date, item.target_date, item.second_answer) == (first, target, second), item_id
        assert item.remark == remark, item_id


def test_checklist_remark_word_broken_beside_the_result_sub_header(tmp_path):
    _check_checklist(extract(_checklist(tmp_path / "remark.xlsx", remark=("備", "考"))))


def test_checklist_question_word_broken_over_the_two_header_rows(tmp_path):
    _check_checklist(extract(_checklist(tmp_path / "question.xlsx", question=("チェック", "項目"),
                                        remark=("コメ", "ント"))))


def test_checklist_two_row_header_repeated_after_a_page_break(tmp_path):
    doc = extract(_checklist(tmp_path / "repeated.xlsx", repeat_at=2))
    _check_checklist(doc)
    assert not any(i.question in ("チェック項目", "1回目") for i in doc.items)


# ------------------------------------------------------------------------------------------------ PDF print

def _overflowing_print(path: Path, row_h: float = 9.0, pitch: float = 10.0, size: float = 7.0) -> Path:
    """A printed MDS table whose rows kept a fixed height: the two-line question of one row is centred on
    its row and spills half a line over the rules above and below (the centre of its first line lies in
    the row above)."""
    from reportlab.pdfgen import canvas as rl_canvas

    from samples.pdf_builder import FONT, register_font

    register_font()
    c = rl_canvas.Canvas(str(path), pagesize=(842.0, 595.0))
    c.setFont(FONT, 10)
    c.drawString(40, 560, MDS_TITLE)
    c.drawString(40, 545, f"製造業者：{VENDOR}")
    xs = [40, 80, 560, 600, 640, 680, 800]
    rows = [("番号", "確認項目", "はい", "いいえ", "対象外", "備考", "")]
    for number, chosen, remark in MDS_ROWS:
        rows.append((number, QUESTION[number], *("○" if o == chosen else "" for o in OPTIONS), remark, ""))
    top = 520.0
    spill = "4.2"  # this row's question is printed on two lines
    for k, row in enumerate(rows):
        y_top = top - k * row_h
        centre = y_top - row_h / 2
        for x0, text in zip(xs, row):
            if not text:
                continue
            lines = [text]
            if row[0] == spill and x0 == xs[1]:
                lines = [text[:12], text[12:]]
            c.setFont(FONT, size)
            first = centre + (len(lines) - 1) * pitch / 2
            for j, line in enumerate(lines):
                c.drawString(x0 + 2, first - j * pitch - size * 0.35, line)
    rule_table(c, xs, top, row_h, len(rows))
    c.save()
    return path


def test_print_with_a_question_overflowing_its_fixed_height_row(tmp_path):
    doc = extract(_overflowing_print(tmp_path / "overflow.pdf"))
    got = {i.item_id: i for i in doc.items}
    assert list(got) == [n for n, _, _ in MDS_ROWS], [(i.item_id, i.question[:12]) for i in doc.items]
    for number in ("4", "4.2", "4.3"):  # the spilled lines are neither lost nor given to the row above
        assert normalize_text(got[number].question).replace("\n", "") == normalize_text(QUESTION[number]), number
    for number, chosen, remark in MDS_ROWS:
        assert (got[number].answer, got[number].remark) == (chosen, remark), number


def _ruled(c, xs: list[float], top: float, rows: list[tuple[str, ...]], row_h: float = 16.0, size: float = 7.0) -> float:
    from samples.pdf_builder import FONT

    c.setFont(FONT, size)
    for k, row in enumerate(rows):
        for x0, text in zip(xs, row):
            if text:
                c.drawString(x0 + 2, top - k * row_h - row_h / 2 - size * 0.35, text)
    bottom = top - len(rows) * row_h
    for k in range(len(rows) + 1):
        c.line(xs[0], top - k * row_h, xs[-1], top - k * row_h)
    for x in xs:
        c.line(x, top, x, bottom)
    return bottom


def test_print_with_a_row_and_the_notes_cut_by_page_breaks(tmp_path):
    """A Word table printed with rows allowed to break over pages: the number 「12.3.1」 printed as 「12.3.」
    at the foot of one page and 「1」 at the head of the next, its question cut too; the 備考記載欄 table goes
    on over the next page break without its header."""
    from reportlab.pdfgen import canvas as rl_canvas

    from samples.pdf_builder import FONT, register_font

    register_font()
    path = tmp_path / "cut.pdf"
    c = rl_canvas.Canvas(str(path), pagesize=(842.0, 595.0))
    c.setFont(FONT, 10)
    c.drawString(40, 560, MDS_TITLE)
    c.drawString(40, 545, f"製造業者：{VENDOR}")
    xs = [40, 80, 560, 600, 640, 680, 800]
    q = QUESTION["12.3.1"]
    _ruled(c, xs, 520, [("番号", "確認項目", "はい", "いいえ", "対象外", "備考"),
                        ("12.1", QUESTION["12.1"], "○", "", "", "1"), ("12.2", QUESTION["12.2"], "", "○", "", ""),
                        ("12.3", QUESTION["12.3"], "○", "", "", "2"), ("12.3.", q[:15], "", "○", "", "")])
    c.showPage()
    bottom = _ruled(c, xs, 560, [("1", q[15:], "", "", "", ""),
                                 ("12.4", QUESTION["12.4"], "", "", "○", "3")])
    c.setFont(FONT, 10)
    c.drawString(40, bottom - 30, "備考記載欄")
    notes = [("No", "内容"), ("1", "院内ネットワークとの間で相互認証を行います。"), ("2", "経路は専用の中継装置で制御します。")]
    _ruled(c, [40, 80, 800], bottom - 40, notes)
    c.showPage()
    _ruled(c, [40, 80, 800], 560, [("3", "遠隔保守は行っていません。")])
    c.save()

    doc = extract(path)
    got = {i.item_id: i for i in doc.items}
    assert list(got) == ["12.1", "12.2", "12.3", "12.3.1", "12.4"], [(i.item_id, i.question[:12]) for i in doc.items]
    assert normalize_text(got["12.3.1"].question) == normalize_text(q)
    assert (got["12.3.1"].answer, got["12.3"].answer) == ("いいえ", "はい")
    # 「12.3.」 and 「1」 could also be two rows numbered 「12.3.」 and 「1」: the joined item is left for review
    assert got["12.3.1"].needs_review and "ページの区切り" in got["12.3.1"].review_reason
    assert not got["12.3"].needs_review
    assert got["12.4"].answer_status == "answered"
    assert got["12.1"].remark == "院内ネットワークとの間で相互認証を行います。"
    assert got["12.4"].remark == "遠隔保守は行っていません。"


def test_print_with_a_mark_printed_on_the_rule_between_two_rows_is_flagged(tmp_path):
    """A ○ whose row cannot be told (printed across the rule between two rows, as far into each): both rows
    are left for review, whichever row the mark is read for."""
    from reportlab.pdfgen import canvas as rl_canvas

    from samples.pdf_builder import FONT, register_font

    register_font()
    path = tmp_path / "on_rule.pdf"
    c = rl_canvas.Canvas(str(path), pagesize=(842.0, 595.0))
    c.setFont(FONT, 10)
    c.drawString(40, 560, MDS_TITLE)
    c.drawString(40, 545, f"製造業者：{VENDOR}")
    xs = [40, 80, 560, 600, 640, 680, 800]
    rows = [("番号", "確認項目", "はい", "いいえ", "対象外", "備考")]
    for number, chosen, remark in MDS_ROWS:
        chosen = "" if number in ("4.2", "4.3") else chosen
        rows.append((number, QUESTION[number], *("○" if o == chosen else "" for o in OPTIONS), remark))
    row_h, size, top = 14.0, 7.0, 520.0
    _ruled(c, xs, top, rows, row_h=row_h, size=size)
    k = [r[0] for r in rows].index("4.3")  # the rule between 4.2 and 4.3
    c.setFont(FONT, size)
    c.drawString(xs[2] + 2, top - k * row_h - size * 0.35, "○")
    c.save()

    got = {i.item_id: i for i in extract(path).items}
    assert got["4.2"].needs_review and got["4.3"].needs_review
    assert got["4"].answer == "はい" and not got["4"].needs_review


def test_normalised_texts_are_cached_only_when_short_and_never_mixed_up():
    """normalize_text caches short cell texts (one document normalises each about 30 times); a number is not the
    text of an equal number of another type, and a long remark is normalised but not kept."""
    from extractors.text import CACHED_TEXT_LENGTH, normalize_text

    assert (normalize_text(1), normalize_text(1.0), normalize_text(True)) == ("1", "1.0", "True")
    assert normalize_text("ＩＤ\u3000－\u30001") == normalize_text("ＩＤ\u3000－\u30001") == "ID - 1"
    before = normalize_text.cache_info().currsize
    remark = "備考：" + "ＵＴＭ　を導入済み。" * CACHED_TEXT_LENGTH
    assert normalize_text(remark) == "備考:" + "UTM を導入済み。" * CACHED_TEXT_LENGTH
    assert normalize_text.cache_info().currsize == before
