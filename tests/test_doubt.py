"""One rule for doubt: every review reason comes with needs_review, and an empty answer where a mark could
have been lost is not certain. Grids built directly, and workbooks written here and read by the real reader."""
from __future__ import annotations

import zipfile

import openpyxl

from extractors import extract
from extractors.grid import Cell, Grid, Table
from extractors.interpret import interpret
from extractors.model import Item, enforce_review, flag

MDS_TITLE = "製造業者による医療情報セキュリティ開示書 チェックリスト（ガイドライン第5.2版対応）"
CHECKLIST_TITLE = "医療機関におけるサイバーセキュリティ対策チェックリスト（事業者確認用）"


def C(text="", **kw):
    return Cell(text=text, **kw)


def _doc(*tables, fmt="xlsx"):
    return interpret(Grid(source="vendor.xlsx", format=fmt, tables=list(tables)), "0" * 64)


def _no_silent_reason(doc):
    for item in doc.items:
        assert not item.review_reason or item.needs_review, (item.item_id, item.review_reason)
        assert not item.needs_review or item.review_reason, item.item_id


def test_flag_records_the_reason_and_sets_the_flag():
    item = Item("1", answer="はい", answer_status="answered")
    flag(item, "理由A", 0.6)
    flag(item, "理由A")
    assert item.needs_review and item.review_reason == "理由A" and item.confidence == 0.6
    other = Item("2", review_reason="理由B")
    enforce_review([other])
    assert other.needs_review and other.confidence < 1


def test_lone_circle_typed_x_and_remapped_word_are_flagged():
    rows = [
        [C("No."), C("確認項目"), C("回答"), C("備考")],
        [C("1"), C("扱う情報のリストを医療機関等に提示できるか？"), C("○"), C()],
        [C("2"), C("個人情報が入力・参照できる端末の覗き見防止の機能があるか？"), C("いいえ"), C()],
        [C("12"), C("「外部と個人情報を含む医療情報を通信する機能」や「リモートメンテナンス機能」を有するか？"), C("はい"), C()],
    ]
    doc = _doc(Table("MDS", [[C(MDS_TITLE)]] + rows, kind="sheet"))
    assert doc.item("1").answer == "はい" and doc.item("1").needs_review
    assert not doc.item("2").needs_review  # a plain printed word is certain
    twelve = doc.item("12")
    assert twelve.answer == "該当" and twelve.needs_review and "該当" in twelve.review_reason
    _no_silent_reason(doc)

    cols = [
        [C("No."), C("確認項目"), C("はい"), C("いいえ"), C("対象外"), C("備考")],
        [C("3"), C("離席時の不正入力防止の機能があるか？"), C("x"), C(), C(), C()],
        [C("5"), C("時刻情報の正確性を担保する機能があるか？"), C("○"), C(), C(), C()],
    ]
    doc = _doc(Table("MDS", [[C(MDS_TITLE)]] + cols, kind="sheet"))
    assert doc.item("3").answer == "はい" and doc.item("3").needs_review
    assert not doc.item("5").needs_review
    _no_silent_reason(doc)


def test_hidden_sheet_hidden_row_and_unknown_fiscal_year_are_flagged():
    rows = [
        [C("No."), C("確認項目"), C("はい"), C("いいえ"), C("対象外"), C("備考")],
        [C("1", hidden=True), C("扱う情報のリストを医療機関等に提示できるか？", hidden=True), C("○", hidden=True),
         C(hidden=True), C(hidden=True), C(hidden=True)],
        [C("2"), C("個人情報が入力・参照できる端末の覗き見防止の機能があるか？"), C("○"), C(), C(), C()],
    ]
    doc = _doc(Table("MDS", [[C(MDS_TITLE)]] + rows, kind="sheet"))
    assert doc.item("1").needs_review and "非表示" in doc.item("1").review_reason
    assert not doc.item("2").needs_review
    hidden = _doc(Table("表紙", [[C("ご確認ください")]], kind="sheet"),
                  Table("MDS", [[C(MDS_TITLE)]] + rows[:1] + rows[2:], kind="sheet", hidden=True))
    assert all(i.needs_review for i in hidden.items) and hidden.items

    # A checklist whose fiscal year is unknown: 「はい (8/2)」 and 「12/1」 are dates without a year.
    checklist = [
        [C("セキュリティ確認表")],
        [C("No."), C("確認項目"), C("1回目"), C("目標日"), C("2回目")],
        [C("2(1)"), C("リモート保守を行う端末を把握しているか。"), C("はい (8/2)"), C("12/1"), C()],
    ]
    doc = _doc(Table("チェックリスト", checklist, kind="sheet"))
    item = doc.item("2(1)")
    assert item.answer == "はい" and item.needs_review
    assert "日付の年度が分かりません" in item.review_reason and "目標日の年度が分かりません" in item.review_reason
    _no_silent_reason(doc)


def test_paragraph_form_items_are_flagged():
    lines = [MDS_TITLE, "4.3 アクセス記録（アクセスログ）機能があるか？", "回答：□はい ■いいえ □対象外",
             "5 時刻情報の正確性を担保する機能があるか？ ■はい □いいえ □対象外"]
    doc = _doc(Table("本文1", [[C(t)] for t in lines], kind="text"), fmt="docx")
    assert [i.answer for i in doc.items] == ["いいえ", "はい"]
    assert all(i.needs_review and i.confidence < 1 for i in doc.items)


def _workbook_with_vml(path, vml: bytes):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "MDS"
    ws.append([MDS_TITLE])
    ws.append(["製造業者", "株式会社しるし検証"])
    ws.append(["No.", "確認項目", "はい", "いいえ", "対象外", "備考"])
    ws.append(["1", "扱う情報のリストを医療機関等に提示できるか？", "", "", "", ""])
    ws.append(["2", "個人情報が入力・参照できる端末の覗き見防止の機能があるか？", "", "", "", ""])
    ws.append(["3", "離席時の不正入力防止の機能があるか？", "", "○", "", ""])
    wb.save(path)
    with zipfile.ZipFile(path) as src:
        files = {n: src.read(n) for n in src.namelist()}
    files["xl/worksheets/_rels/sheet1.xml.rels"] = (
        b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
        b'package/2006/relationships"><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/'
        b'officeDocument/2006/relationships/vmlDrawing" Target="../drawings/vmlDrawing1.vml"/></Relationships>')
    files["xl/drawings/vmlDrawing1.vml"] = vml
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)


VML_HEAD = (b"<xml xmlns:v='urn:schemas-microsoft-com:vml' xmlns:x='urn:schemas-microsoft-com:office:excel'>"
            b"<v:shape id='_x0000_s1025'><x:ClientData ObjectType='Checkbox'><x:Anchor>2,2,3,2,2,20,3,16</x:Anchor>"
            b"<x:Checked>1</x:Checked></x:ClientData></v:shape>")


def test_broken_checkbox_part_makes_empty_answers_uncertain(tmp_path):
    good = tmp_path / "good.xlsx"
    _workbook_with_vml(good, VML_HEAD + b"</xml>")
    doc = extract(good)
    assert doc.item("1").answer == "はい"
    assert doc.item("2").answer_status == "unanswered" and not doc.item("2").needs_review

    broken = tmp_path / "broken.xlsx"
    # The second check box (on row 2) is cut off: the parser recovers the first and silently drops it.
    _workbook_with_vml(broken, VML_HEAD + b"<v:shape id='_x0000_s1026'><x:ClientData ObjectType='Checkbox'><x:Anch")
    doc = extract(broken)
    assert any("チェックボックス" in w for w in doc.warnings)
    two = doc.item("2")
    assert two.answer_status == "unanswered" and two.needs_review and two.confidence < 1
    assert "未回答かどうか" in two.review_reason
    assert doc.item("3").answer == "いいえ"  # a typed glyph is not in doubt
    _no_silent_reason(doc)


def test_truth_comparison_catches_silent_errors_and_missing_flags():
    from extractors.model import Document
    from tests.truth import compare

    truth = {"items": [
        {"item_id": "1", "answer": "はい", "answer_status": "answered", "needs_review": True},
        {"item_id": "2", "answer": "いいえ", "answer_status": "answered", "needs_review": False},
    ]}
    doc = Document(source_file="x.xlsx", sha256="0" * 64, items=[
        Item("1", answer="はい", answer_status="answered"),  # right, but the sample made it doubtful: no flag
        Item("2", answer="はい", answer_status="answered"),  # wrong and unflagged
    ])
    problems = compare(doc, truth)
    assert any(p.startswith("1:") and "not flagged" in p for p in problems)
    assert any(p.startswith("2.answer") and "silent error" in p for p in problems)
    flag(doc.items[0], "確認")
    flag(doc.items[1], "確認")
    problems = compare(doc, truth)
    assert not any(p.startswith("1:") for p in problems)
    assert any(p.startswith("2.answer") and "silent" not in p for p in problems)  # flagged, still wrong


def test_picture_over_a_pdf_table_makes_empty_answers_uncertain(tmp_path):
    from PIL import Image
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas as rl_canvas

    from samples.pdf_builder import FONT, register_font

    stamp = tmp_path / "tick.png"
    img = Image.new("RGB", (20, 20), "white")
    for k in range(20):
        img.putpixel((k, 19 - k), (0, 0, 0))
    img.save(stamp)

    def draw(path, with_picture: bool):
        register_font()
        c = rl_canvas.Canvas(str(path), pagesize=A4)
        c.setFont(FONT, 10)
        c.drawString(40, 800, MDS_TITLE)
        cols = [40, 80, 400, 440, 480, 520, 560]
        rows = [("No.", "確認項目", "はい", "いいえ", "対象外", "備考"),
                ("1", "扱う情報のリストを医療機関等に提示できるか？", "○", "", "", ""),
                ("3", "離席時の不正入力防止の機能があるか？", "", "", "", "")]
        y = 700
        for row in rows:
            for i, text in enumerate(row):
                c.rect(cols[i], y - 20, cols[i + 1] - cols[i], 20)
                if text:
                    c.drawString(cols[i] + 3, y - 14, text)
            y -= 20
        if with_picture:  # a tick pasted as a picture over row 3's いいえ cell
            c.drawImage(str(stamp), 452, 643, 14, 14)
        c.save()

    plain, pictured = tmp_path / "plain.pdf", tmp_path / "pictured.pdf"
    draw(plain, False)
    draw(pictured, True)
    three = extract(plain).item("3")
    assert three.answer_status == "unanswered" and not three.needs_review
    doc = extract(pictured)
    three = doc.item("3")
    assert three.answer_status == "unanswered" and three.needs_review and three.confidence < 1
    assert doc.item("1").answer == "はい"
    assert any("画像" in w for w in doc.warnings)


def test_wrapped_option_header_and_a_mark_outside_the_answer_columns():
    rows = [
        [C("項番"), C("確認項目"), C("はい／該当"), C("いいえ／非\n該当"), C("対象外"), C("備考")],
        [C("2"), C("個人情報が入力・参照できる端末の覗き見防止の機能があるか？"), C(), C("●"), C(), C()],
    ]
    doc = _doc(Table("p.1", [[C(MDS_TITLE)]] + rows, kind="page", page=1), fmt="pdf")
    assert (doc.item("2").answer, doc.item("2").needs_review) == ("いいえ", False)

    # A column the header does not name holds the mark: the row is not "unanswered" with certainty.
    rows = [
        [C("項番"), C("確認項目"), C("はい"), C("いいえ"), C("（空欄）"), C("備考")],
        [C("3"), C("離席時の不正入力防止の機能があるか？"), C(), C(), C("●"), C()],
        [C("5"), C("時刻情報の正確性を担保する機能があるか？"), C("●"), C(), C(), C()],
    ]
    doc = _doc(Table("p.1", [[C(MDS_TITLE)]] + rows, kind="page", page=1), fmt="pdf")
    three = doc.item("3")
    assert three.answer_status == "unanswered" and three.needs_review and "回答欄の外" in three.review_reason
    assert not doc.item("5").needs_review


def test_picture_in_a_word_table_makes_empty_answers_uncertain(tmp_path):
    import docx
    from PIL import Image

    stamp = tmp_path / "tick.png"
    Image.new("RGB", (16, 16), "black").save(stamp)

    def write(path, with_picture: bool):
        word = docx.Document()
        word.add_paragraph(MDS_TITLE)
        table = word.add_table(rows=3, cols=6)
        for cell, text in zip(table.rows[0].cells, ("項番", "確認項目", "はい", "いいえ", "対象外", "備考")):
            cell.text = text
        table.rows[1].cells[0].text = "1"
        table.rows[1].cells[1].text = "扱う情報のリストを医療機関等に提示できるか？"
        table.rows[1].cells[2].text = "○"
        table.rows[2].cells[0].text = "3"
        table.rows[2].cells[1].text = "離席時の不正入力防止の機能があるか？"
        if with_picture:
            table.rows[2].cells[3].paragraphs[0].add_run().add_picture(str(stamp))
        word.save(path)

    write(tmp_path / "plain.docx", False)
    write(tmp_path / "pictured.docx", True)
    assert not extract(tmp_path / "plain.docx").item("3").needs_review
    doc = extract(tmp_path / "pictured.docx")
    three = doc.item("3")
    assert three.answer_status == "unanswered" and three.needs_review and "画像" in three.review_reason
    assert doc.item("1").answer == "はい"


def test_answer_on_a_heading_row_is_read_in_its_bullets_words_from_a_combined_column():
    rows = [
        [C("項番"), C("確認項目"), C("はい／該当"), C("いいえ／非\n該当"), C("対象外"), C("備考")],
        [C("12.3.1.1"), C("対応している通信方式はいずれか？"), C(), C("●"), C(), C()],
        [C("12.3.1.1"), C("対応している通信方式はいずれか？"), C("該当"), C(), C(), C()],
    ]
    doc = _doc(Table("p.1", [[C(MDS_TITLE)]] + rows, kind="page", page=1), fmt="pdf")
    by_mark, by_word = doc.items[0], doc.items[1]
    # The column prints both words and the group's bullets answer 該当/非該当: the mark means 非該当.
    assert by_mark.answer == "非該当" and not by_mark.needs_review and by_mark.answer_column == "いいえ／非該当"
    assert by_word.answer == "該当" and "列の見出し" not in by_word.review_reason
