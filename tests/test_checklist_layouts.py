"""The MHLW 事業者確認用 checklist as the ministry ships it and as vendors retype it, through `extract()`.

Official layout: 「チェック項目」 merged over a section column (「1 体制構築」, merged down its rows) and a
number+question column (「(2) …を確認した。」); 「確認結果（日付）」 merged over 「1回目 | 目標日 | 2回目」;
device sub-headings (「サーバについて、以下を実施している。」) without answers; answers typed with their
date (「はい (5/14)」), target 「(3/31)」 or the empty 「(/)」, the untouched 2回目 「はい・いいえ (/)」; a footer
sentence pointing at the manual. Variants: the section repeated in every row, the number in its own
column, a one-row header, a 「No」 column, a retyped sheet whose date columns lost their words.
Vendors, products and remarks here are invented.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from docx import Document as DocxDocument
from openpyxl import Workbook

from extractors import extract

TITLE = "医療機関におけるサイバーセキュリティ対策チェックリスト"
NOTES = ["○ 令和7年度中",
         "*以下項目は令和7年度中にすべての項目で「はい」にマルが付くよう取り組んでください。",
         "*1回目の確認で「いいえ」の場合、令和7年度中の対応目標日を記入してください。"]
FOOTER = "● 各項目の考え方や確認方法等については、「チェックリストの手引き（架空版）」マニュアルをご覧ください。"
VENDOR = "株式会社しおかぜテクノ"
SECTIONS = {"1": "1 体制構築", "2": "2 医療情報システムの管理・運用"}
HEADINGS = {"全般": "医療情報システム全般について、以下を実施している。",
            "サーバ": "サーバについて、以下を実施している。",
            "ネットワーク機器": "ネットワーク機器について、以下を実施している。"}

# (section, heading, number, question, 1回目, 目標日, 2回目, 備考)
ROWS = [
    ("1", "", "(1)", "事業者内に、医療情報システム等の提供に係る管理責任者を設置している。",
     "はい (5/14)", "(/)", "はい・いいえ (/)", ""),
    ("2", "全般", "(2)", "リモートメンテナンス（保守）している機器の有無を確認した。",
     "はい (5/14)", "(/)", "はい・いいえ (/)", "保守は閉域網経由の専用端末のみで実施"),
    ("2", "全般", "(3)", "医療機関に製造業者/サービス事業者による医療情報セキュリティ開示書（MDS/SDS）を提出した。",
     "はい (5/14)", "(/)", "はい・いいえ (/)", ""),
    ("2", "サーバ", "(4)", "利用者の職種・担当業務別の情報区分毎のアクセス利用権限を設定している。",
     "はい (5/14)", "(/)", "はい・いいえ (/)", ""),
    ("2", "サーバ", "(5)", "退職者や使用していないアカウント等、不要なアカウントを削除している。",
     "いいえ (5/14)", "(3/31)", "はい (2/10)", "棚卸しの手順を年度内に整備する"),
    ("2", "サーバ", "(6)", "アクセスログを管理している。",
     "はい (5/14)", "(/)", "はい・いいえ (/)", ""),
    ("2", "ネットワーク機器", "(7)", "セキュリティパッチ（最新ファームウェアや更新プログラム）を適用している。",
     "はい・いいえ (/)", "(/)", "はい・いいえ (/)", ""),
    ("2", "ネットワーク機器", "(8)", "接続元制限を実施している。",
     "- (/)", "(/)", "はい・いいえ (/)", "当社設置の機器なし"),
]

EXPECTED = {  # id -> (answer, status, first_date, target_date, second_answer, second_date, remark)
    "1(1)": ("はい", "answered", "2025-05-14", "", "", "", ""),
    "2(2)": ("はい", "answered", "2025-05-14", "", "", "", "保守は閉域網経由の専用端末のみで実施"),
    "2(3)": ("はい", "answered", "2025-05-14", "", "", "", ""),
    "2(4)": ("はい", "answered", "2025-05-14", "", "", "", ""),
    "2(5)": ("いいえ", "answered", "2025-05-14", "2026-03-31", "はい", "2026-02-10", "棚卸しの手順を年度内に整備する"),
    "2(6)": ("はい", "answered", "2025-05-14", "", "", "", ""),
    "2(7)": ("", "unanswered", "", "", "", "", ""),
    "2(8)": ("", "unanswered", "", "", "", "", "当社設置の機器なし"),
}
CONCEPTS = {"2(6)": "access_log", "2(8)": "connection_source_restriction", "2(2)": "remote_maintenance_inventory"}


def _body_rows():
    """Rows as (section, kind, cells): kind 'heading' for a device sub-heading, 'item' for an item."""
    out, last = [], None
    for sec, heading, num, q, first, target, second, remark in ROWS:
        if heading and heading != last:
            out.append((sec, "heading", (heading, HEADINGS[heading])))
            last = heading
        out.append((sec, "item", (num, q, first, target, second, remark)))
    return out


def _check(doc, expected=EXPECTED) -> None:
    assert doc.family == "checklist_vendor"
    assert doc.form_id == "mhlw-checklist-r7-vendor"
    got = {i.item_id: i for i in doc.items}
    assert list(got) == list(expected), [(i.item_id, i.question[:20]) for i in doc.items]
    for item_id, (answer, status, first, target, second, second_date, remark) in expected.items():
        item = got[item_id]
        assert (item.answer, item.answer_status) == (answer, status), item_id
        assert (item.first_date, item.target_date) == (first, target), item_id
        assert (item.second_answer, item.second_date) == (second, second_date), item_id
        assert item.remark == remark, item_id
        assert item.known and item.catalogue_id == item_id.split("-")[0], item_id
        assert not item.question.startswith("("), item_id  # the number is not left in the question
        assert item.location is not None and item.location.row
    for item_id, concept in CONCEPTS.items():
        assert got[item_id].concept == concept
    # Instructions, sub-headings and the footer sentence are not items.
    for item in doc.items:
        assert "以下を実施している" not in item.question
        assert "マニュアル" not in item.question and "令和7年度中" not in item.question
    assert got["2(8)"].answer_raw.startswith("-")  # the vendor's N/A dash is kept for the reviewer
    assert doc.vendor == VENDOR


# ------------------------------------------------------------------------------------------------ XLSX

def _xlsx(path: Path, *, section: str = "merged", number: str = "inline", header: str = "official") -> Path:
    """section: merged | repeated; number: inline (「(2) …」 in the question cell) | column | no_column
    (「2(2)」 in a 「No」 column) | running (a 「No」 column counting the rows) | circled (「②…」); header: official (two rows, merged) | flat (one row, no merges) | flat_left (one row, 「チェック項目」
    over the section column and nothing over the questions)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "事業者確認用"
    ws.cell(row=1, column=1, value=TITLE)
    ws.cell(row=1, column=7, value="事業者確認用")
    for k, note in enumerate(NOTES):
        ws.cell(row=3 + k, column=1, value=note)
    r = 7
    # Columns: section, [number], question, first, target, second, remark.
    cols = ["section"] + (["number"] if number not in ("inline", "circled") else []) + \
        ["question", "first", "target", "second", "remark"]
    c = {name: i + 1 for i, name in enumerate(cols)}
    if header == "official":
        ws.cell(row=r, column=1, value="チェック項目")
        ws.merge_cells(start_row=r, start_column=1, end_row=r + 1, end_column=c["question"])
        ws.cell(row=r, column=c["first"], value="確認結果（日付）")
        ws.merge_cells(start_row=r, start_column=c["first"], end_row=r, end_column=c["second"])
        ws.cell(row=r, column=c["remark"], value="備考")
        ws.merge_cells(start_row=r, start_column=c["remark"], end_row=r + 1, end_column=c["remark"])
        for name, word in (("first", "1回目"), ("target", "目標日"), ("second", "2回目")):
            ws.cell(row=r + 1, column=c[name], value=word)
        r += 2
    else:
        words = {"section": "区分", "number": "No", "question": "チェック項目", "first": "1回目",
                 "target": "目標日", "second": "2回目", "remark": "備考"}
        if header == "flat_left":  # the heading word over the section column, nothing over the questions
            words.update(section="チェック項目", question="")
        if header == "flat_words":  # other words; 「再確認」 is known only from the answers under it
            words.update(section="", question="確認項目", first="初回", target="対応予定日", second="再確認",
                         remark="補足")
        for name, col in c.items():
            ws.cell(row=r, column=col, value=words[name] or None)
        r += 1
    section_rows: dict[str, list[int]] = {}
    for sec, kind, cells in _body_rows():
        section_rows.setdefault(sec, []).append(r)
        if section == "repeated" or len(section_rows[sec]) == 1:
            ws.cell(row=r, column=1, value=SECTIONS[sec])
        if kind == "heading":
            ws.cell(row=r, column=c["question"], value=cells[1])
        else:
            num, q, first, target, second, remark = cells
            if number == "inline":
                ws.cell(row=r, column=c["question"], value=f"{num} {q}")
            elif number == "circled":  # 「②」 printed for (2)
                ws.cell(row=r, column=c["question"], value=chr(0x245F + int(num.strip("()"))) + q)
            elif number == "running":  # a 「No」 column counting the items, the number kept in the question
                ws.cell(row=r, column=c["number"], value=int(num.strip("()")))
                ws.cell(row=r, column=c["question"], value=f"{num} {q}")
            else:
                ws.cell(row=r, column=c["number"], value=num if number == "column" else f"{sec}{num}")
                ws.cell(row=r, column=c["question"], value=q)
            ws.cell(row=r, column=c["first"], value=first)
            ws.cell(row=r, column=c["target"], value=target)
            ws.cell(row=r, column=c["second"], value=second)
            ws.cell(row=r, column=c["remark"], value=remark or None)
        r += 1
    if section == "merged":
        for rows in section_rows.values():
            if len(rows) > 1:
                ws.merge_cells(start_row=rows[0], start_column=1, end_row=rows[-1], end_column=1)
    r += 1
    ws.cell(row=r, column=1, value="事業者名：")
    ws.cell(row=r, column=2, value=VENDOR)
    ws.cell(row=r + 2, column=1, value=FOOTER)
    wb.save(path)
    return path


def test_official_xlsx_layout(tmp_path):
    _check(extract(_xlsx(tmp_path / "official.xlsx")))


@pytest.mark.parametrize("section,number,header", [
    ("repeated", "inline", "official"),   # the section printed again in every row, no merge
    ("merged", "column", "official"),     # 「(2)」 in its own column under the merged header
    ("repeated", "inline", "flat"),       # one header row, nothing merged
    ("repeated", "no_column", "flat"),    # a 「No」 column holding 「2(2)」
    ("merged", "inline", "flat_left"),    # 「チェック項目」 over the section column only
    ("repeated", "running", "flat"),      # 「No」 counting 1…8, 「(n)」 still printed in the question
    ("merged", "inline", "flat_words"),   # other header words
    ("merged", "circled", "official"),    # 「②」 instead of 「(2)」
])
def test_retyped_xlsx_variants(tmp_path, section, number, header):
    _check(extract(_xlsx(tmp_path / f"{section}_{number}_{header}.xlsx", section=section, number=number,
                         header=header)))


def test_date_columns_that_lost_their_words(tmp_path):
    """A retyped sheet labels its three result columns 1回目 | 2回目 | 3回目, though the middle one holds the
    target dates: the column's content decides, and the 2回目 answer is read from the third column."""
    path = _xlsx(tmp_path / "relabelled.xlsx")
    from openpyxl import load_workbook

    wb = load_workbook(path)
    ws = wb.active
    ws.cell(row=8, column=4, value="2回目")
    ws.cell(row=8, column=5, value="3回目")
    wb.save(path)
    _check(extract(path))


def test_split_answer_and_date_columns(tmp_path):
    """A third header row splits 1回目 and 2回目 into 「回答 | 日付」: the date is read from its own column."""
    wb = Workbook()
    ws = wb.active
    ws.cell(row=1, column=1, value=TITLE)
    ws.cell(row=1, column=8, value="事業者確認用")
    ws.cell(row=2, column=1, value=NOTES[0])
    ws.cell(row=4, column=1, value="チェック項目")
    ws.merge_cells("A4:B6")
    ws.cell(row=4, column=3, value="確認結果（日付）")
    ws.merge_cells("C4:G4")
    ws.cell(row=4, column=8, value="備考")
    ws.merge_cells("H4:H6")
    ws.cell(row=5, column=3, value="1回目")
    ws.merge_cells("C5:D5")
    ws.cell(row=5, column=5, value="目標日")
    ws.merge_cells("E5:E6")
    ws.cell(row=5, column=6, value="2回目")
    ws.merge_cells("F5:G5")
    for col, word in ((3, "回答"), (4, "日付"), (6, "回答"), (7, "日付")):
        ws.cell(row=6, column=col, value=word)
    r = 7
    first_rows = {}
    for sec, kind, cells in _body_rows():
        first_rows.setdefault(sec, r)
        if first_rows[sec] == r:
            ws.cell(row=r, column=1, value=SECTIONS[sec])
        if kind == "heading":
            ws.cell(row=r, column=2, value=cells[1])
        else:
            num, q, first, target, second, remark = cells
            ws.cell(row=r, column=2, value=f"{num} {q}")
            for col, text in ((3, first), (6, second)):
                word, _, date = text.partition(" ")
                ws.cell(row=r, column=col, value=None if "・" in word else word)
                ws.cell(row=r, column=col + 1, value=None if "/)" in date else date.strip("()"))
            ws.cell(row=r, column=5, value=target.strip("()") if target != "(/)" else None)
            ws.cell(row=r, column=8, value=remark or None)
        r += 1
    ws.merge_cells(start_row=first_rows["2"], start_column=1, end_row=r - 1, end_column=1)
    ws.cell(row=r + 1, column=1, value="事業者名：")
    ws.cell(row=r + 1, column=2, value=VENDOR)
    ws.cell(row=r + 3, column=1, value=FOOTER)
    path = tmp_path / "split.xlsx"
    wb.save(path)
    expected = dict(EXPECTED)
    expected["2(8)"] = ("", "unanswered", "", "", "", "", "当社設置の機器なし")
    doc = extract(path)
    got = {i.item_id: i for i in doc.items}
    assert list(got) == list(expected)
    for item_id, (answer, status, first, target, second, second_date, remark) in expected.items():
        item = got[item_id]
        assert (item.answer, item.answer_status, item.first_date, item.target_date) == (answer, status, first, target)
        assert (item.second_answer, item.second_date, item.remark) == (second, second_date, remark)


# ------------------------------------------------------------------------------------------------ DOCX

def _docx(path: Path, *, section: str = "merged", glyphs: bool = False) -> Path:
    doc = DocxDocument()
    doc.add_paragraph(TITLE)
    doc.add_paragraph("事業者確認用")
    for note in NOTES:
        doc.add_paragraph(note)
    body = _body_rows()
    table = doc.add_table(rows=2 + len(body), cols=6)
    table.style = "Table Grid"
    table.cell(0, 0).text = "チェック項目"
    table.cell(0, 0).merge(table.cell(1, 1))
    table.cell(0, 2).text = "確認結果（日付）"
    table.cell(0, 2).merge(table.cell(0, 4))
    table.cell(0, 5).text = "備考"
    table.cell(0, 5).merge(table.cell(1, 5))
    for col, word in ((2, "1回目"), (3, "目標日"), (4, "2回目")):
        table.cell(1, col).text = word
    first_rows: dict[str, int] = {}
    for k, (sec, kind, cells) in enumerate(body):
        r = 2 + k
        first_rows.setdefault(sec, r)
        if section == "repeated" or first_rows[sec] == r:
            table.cell(r, 0).text = SECTIONS[sec]
        if kind == "heading":
            table.cell(r, 1).text = cells[1]
            continue
        num, q, first, target, second, remark = cells
        if glyphs and "・" in first:
            first = "□はい　□いいえ（　/　）"
        elif glyphs and first[0] in "はい":
            word, date = first.split(" ")
            first = ("■はい　□いいえ" if word == "はい" else "□はい　■いいえ") + date.replace("(", "（").replace(")", "）")
        table.cell(r, 1).text = f"{num} {q}"
        table.cell(r, 2).text = first
        table.cell(r, 3).text = target
        table.cell(r, 4).text = second
        table.cell(r, 5).text = remark
    if section == "merged":
        last = 2 + len(body) - 1
        table.cell(first_rows["2"], 0).merge(table.cell(last, 0))
        table.cell(first_rows["2"], 0).text = SECTIONS["2"]
    doc.add_paragraph(f"事業者名：{VENDOR}")
    doc.add_paragraph(FOOTER)
    doc.save(path)
    return path


@pytest.mark.parametrize("section,glyphs", [("merged", False), ("repeated", False), ("merged", True)])
def test_docx_layouts(tmp_path, section, glyphs):
    _check(extract(_docx(tmp_path / f"cl_{section}_{glyphs}.docx", section=section, glyphs=glyphs)))


# ------------------------------------------------------------------------------- checklist ↔ disclosure

def test_checklist_product_written_with_its_category_in_brackets_is_the_same_product():
    """「対象システム：NAMI-LAB（検体検査システム）」 on a checklist and 「検体検査システム NAMI-LAB」 on the MDS."""
    from extractors.model import Document
    from rules.grouping import same_product

    def doc(product: str) -> Document:
        return Document(source_file="x.xlsx", sha256="0", format="xlsx", product=product)

    checklist = doc("NAMI-LAB（検体検査システム）")
    assert same_product(checklist, doc("検体検査システム NAMI-LAB"))
    assert same_product(checklist, doc("NAMI-LAB リモート保守サービス"))
    assert not same_product(checklist, doc("KAZE-PACS 画像管理サービス"))
    assert same_product(doc(""), doc("KAZE-PACS 画像管理サービス"))  # no product: all the vendor's products


# ------------------------------------------------------------------------------ struck template words

def test_struck_words_in_the_template_xlsx_and_docx(tmp_path):
    """The vendor keeps 「はい・いいえ (5/14)」 and strikes the word not chosen (font strike on that run)."""
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont
    from openpyxl import load_workbook

    def struck(answer: str, date: str):
        plain, strike = InlineFont(), InlineFont(strike=True)
        yes, no = ("はい", plain), ("いいえ", plain)
        yes, no = (yes, ("いいえ", strike)) if answer == "はい" else ((("はい", strike)), no)
        return CellRichText([TextBlock(yes[1], yes[0]), TextBlock(plain, "・"), TextBlock(no[1], no[0]),
                             TextBlock(plain, f" ({date})")])

    path = _xlsx(tmp_path / "struck.xlsx")
    wb = load_workbook(path, rich_text=True)
    ws = wb.active
    for row in ws.iter_rows(min_row=9):
        cell = row[2]
        if isinstance(cell.value, str) and cell.value.startswith(("はい (", "いいえ (")):
            word, date = cell.value.split(" ")
            cell.value = struck(word, date.strip("()"))
    wb.save(path)
    _check(extract(path))

    docx_path = _docx(tmp_path / "struck.docx")
    doc = DocxDocument(docx_path)
    table = doc.tables[0]
    for row in table.rows[2:]:
        cell = row.cells[2]
        text = cell.text
        if not text.startswith(("はい (", "いいえ (")):
            continue
        word, date = text.split(" ")
        paragraph = cell.paragraphs[0]
        for run in list(paragraph.runs):
            run._r.getparent().remove(run._r)
        for part in ("はい", "・", "いいえ", f" {date}"):
            run = paragraph.add_run(part)
            run.font.strike = part in ("はい", "いいえ") and part != word
    doc.save(docx_path)
    _check(extract(docx_path))


def test_vendor_name_above_its_label_and_a_note_below_it(tmp_path):
    """Lines out of order (as a scan gives them): the company name above 「事業者名：」, the manual note below.
    The note is never the vendor; the company name is."""
    path = _xlsx(tmp_path / "vendor_above.xlsx")
    from openpyxl import load_workbook

    wb = load_workbook(path)
    ws = wb.active
    label_row = next(c.row for c in ws["A"] if c.value == "事業者名：")
    ws.cell(row=label_row, column=2).value = None
    ws.cell(row=label_row - 1, column=1, value=VENDOR)
    ws.cell(row=label_row + 1, column=1, value="「チェックリストの手引き（架空版）」をご覧ください。")
    wb.save(path)
    doc = extract(path)
    assert doc.vendor == VENDOR
    assert [i.item_id for i in doc.items] == list(EXPECTED)


def test_option_columns_for_each_round(tmp_path):
    """A retyped sheet with 「1回目」 and 「2回目」 each over 「はい | いいえ | 日付」, answered with ○: the 2回目
    answer comes from its own option columns, not from the 1回目 ones."""
    wb = Workbook()
    ws = wb.active
    ws["A1"], ws["H1"], ws["A2"] = TITLE, "事業者確認用", NOTES[0]
    ws["A4"] = "チェック項目"
    ws.merge_cells("A4:B6")
    ws["C4"] = "確認結果（日付）"
    ws.merge_cells("C4:I4")
    ws["C5"], ws["F5"], ws["G5"], ws["J4"] = "1回目", "目標日", "2回目", "備考"
    ws.merge_cells("C5:E5")
    ws.merge_cells("F5:F6")
    ws.merge_cells("G5:I5")
    ws.merge_cells("J4:J6")
    for col, word in zip("CDEGHI", ["はい", "いいえ", "日付", "はい", "いいえ", "日付"]):
        ws[f"{col}6"] = word
    # (question, 1回目 はい, いいえ, 日付, 目標日, 2回目 はい, いいえ, 日付, 備考)
    rows = [("(1) " + ROWS[0][3], "○", "", "5/14", "", "", "", "", ""),
            ("(2) " + ROWS[1][3], "", "○", "5/14", "3/31", "", "○", "2/10", "保守端末の更新待ち"),
            ("(3) " + ROWS[2][3], "", "○", "5/14", "3/31", "○", "", "2/10", ""),
            ("(4) " + ROWS[3][3], "○", "", "5/14", "", "", "", "", "")]
    ws["A7"], ws["A8"] = SECTIONS["1"], SECTIONS["2"]
    for k, row in enumerate(rows):
        for col, value in zip("BCDEFGHIJ", row):
            if value:
                ws[f"{col}{7 + k}"] = value
    ws.merge_cells("A8:A10")
    ws["A12"], ws["B12"] = "事業者名：", VENDOR
    path = tmp_path / "rounds.xlsx"
    wb.save(path)
    got = {i.item_id: i for i in extract(path).items}
    assert list(got) == ["1(1)", "2(2)", "2(3)", "2(4)"]
    assert [(i.answer, i.first_date, i.target_date, i.second_answer, i.second_date) for i in got.values()] == [
        ("はい", "2025-05-14", "", "", ""),
        ("いいえ", "2025-05-14", "2026-03-31", "いいえ", "2026-02-10"),
        ("いいえ", "2025-05-14", "2026-03-31", "はい", "2026-02-10"),
        ("はい", "2025-05-14", "", "", "")]
    assert got["2(2)"].remark == "保守端末の更新待ち"
