"""The born-digital PDF reader on the PDF samples and on PDFs made here with real libraries."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas as rl_canvas

from extractors.grid import Table
from extractors.model import ExtractionError
from extractors.readers.pdf import CID_WARNING, read_pdf
from samples.pdf_builder import FONT, build_pdf_samples, register_font


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("pdf_samples")
    return {p.stem: p for p in build_pdf_samples(out)}


@pytest.fixture(scope="module")
def grids(samples):
    return {name: read_pdf(path) for name, path in samples.items()}


def page_tables(grid, page: int | None = None) -> list[Table]:
    return [t for t in grid.tables if t.kind == "page" and (page is None or t.page == page)]


def row_starting(table: Table, prefix: str) -> list:
    rows = [r for r in table.rows if r and r[0].text.replace("\n", "").startswith(prefix)]
    assert len(rows) == 1, f"{prefix!r}: {len(rows)} rows"
    return rows[0]


def marked(cell, kind: str) -> list[str]:
    return [cell.text[m.span[0]:m.span[1]] if m.span else "<cell>" for m in cell.marks if m.kind == kind]


def truth(path: Path) -> dict:
    return json.loads(Path(str(path) + ".truth.json").read_text(encoding="utf-8"))


def answerable(t: dict) -> list[dict]:
    """Truth items that take an answer (not group headings such as 4.1)."""
    from extractors.forms import get_form
    form = get_form(t["form_id"])
    return [i for i in t["items"] if form.item(i["item_id"]).kind != "group"]


# --------------------------------------------------------------------------- samples


def test_every_sample_has_truth_with_catalogue_questions(samples):
    from extractors.forms import get_form
    for path in samples.values():
        t = truth(path)
        assert t["file"] == path.name and t["items"], path.name
        form = get_form(t["form_id"])
        ids = {i.id for i in form.items}
        for item in t["items"]:
            assert item["item_id"] in ids
            assert item["answer_status"] in ("answered", "unanswered", "ambiguous")
            assert (item["answer"] != "") == (item["answer_status"] == "answered")


def test_circled_option_read_per_row(samples, grids):
    grid = grids["pdf_mds_circle"]
    (table,) = page_tables(grid)
    assert table.name == "p.1" and table.page == 1
    items = {i["item_id"]: i for i in answerable(truth(samples["pdf_mds_circle"]))}
    checked = 0
    for item in items.values():
        label = ("・" + item["question"]) if "/" in item["item_id"] else f"{item['number_printed']} "
        row = row_starting(table, label[:12] if "/" in item["item_id"] else label)
        circled = [w for cell in row[1:4] for w in marked(cell, "circle")]
        if item["answer_status"] == "answered":
            assert circled == [item["answer"]], item["item_id"]
        elif item["answer_status"] == "ambiguous":
            assert sorted(circled) == ["いいえ", "はい"]
        else:
            assert circled == []
        checked += 1
    assert checked == 15
    # ellipses drawn smaller than the word (as LibreOffice prints them) still mark it
    row3 = row_starting(table, "3 ")
    assert marked(row3[2], "circle") == ["いいえ"] and row3[2].marks[0].confidence >= 0.95


def test_merged_cells_bboxes_refs(grids):
    (table,) = page_tables(grids["pdf_mds_circle"])
    header = table.rows[0]
    assert [c.text for c in header if c.merged_into is None] == ["確認項目", "回答", "備考"]
    assert header[1].colspan == 3 and header[2].merged_into == (0, 1) and header[3].merged_into == (0, 1)
    section = table.rows[1]
    assert section[0].text.startswith("医療機関等における情報セキュリティ") and section[0].colspan == 5
    assert all(c.merged_into == (1, 0) for c in section[1:])
    cell = table.rows[2][1]
    assert cell.ref == "p.1 行3 列2"
    x0, top, x1, bottom = cell.bbox
    assert 0 < x0 < x1 < 595 and 0 < top < bottom < 842
    # a remark that wrapped at the cell's edge in the middle of Japanese text runs on without a break
    remark = row_starting(table, "4.1.1 ")[4].text
    assert remark == "パスワードの桁数・有効期限・文字種の設定が可能です。履歴管理はオプション（別途費用）となります。"


def test_text_outside_the_table(grids):
    grid = grids["pdf_mds_circle"]
    assert [t.kind for t in grid.tables] == ["text", "page"]
    head = grid.tables[0]
    assert head.rows[0][0].text.startswith("「製造業者による医療情報セキュリティ開示書」チェックリスト")
    assert [c.text for c in head.rows[1]] == ["製造業者：株式会社ABCメディカル", "作成日：2023年7月21日"]
    assert [c.text for c in head.rows[2]] == ["製品名称：ABC電子カルテ", "バージョン：3.2"]


def test_struck_options(samples, grids):
    (table,) = page_tables(grids["pdf_mds_strike"])
    assert [c.text for c in table.rows[0][:2]] == ["項番", "確認項目"]
    for item in answerable(truth(samples["pdf_mds_strike"])):
        if "/" in item["item_id"]:
            row = next(r for r in table.rows if r[1].text.replace("\n", "").startswith("・" + item["question"][:8]))
        else:
            row = next(r for r in table.rows if r[0].text == item["number_printed"])
        options = [c.text for c in row[2:5]]
        struck = [w for cell in row[2:5] for w in marked(cell, "strike")]
        left = [o for o in options if o not in struck]
        assert left == [item["answer"]], item["item_id"]
    # a double strike-through (two lines across the word) is one mark per word
    double = next(r for r in table.rows if r[0].text == "4")
    assert [len(c.marks) for c in double[2:5]] == [0, 1, 1]


def test_checklist_words_circles_and_templates(samples, grids):
    grid = grids["pdf_checklist_r5"]
    (table,) = page_tables(grid)
    head = table.rows[0]
    assert head[2].text == "確認結果 (日付)" and head[2].colspan == 3
    assert [c.text for c in table.rows[1][2:5]] == ["1回目", "目標日", "2回目"]
    section = table.rows[3][0]
    assert section.text.replace("\n", "") == "2 医療情報システムの管理・運用" and section.rowspan == 10
    assert table.rows[4][0].merged_into == (3, 0)

    def row(no: str):
        return next(r for r in table.rows if r[1].text.startswith(no))

    r1 = row("(1)")
    assert r1[2].text == "はい・いいえ (9 / 20)" and marked(r1[2], "circle") == ["いいえ"]
    assert r1[3].text == "(3 / 31)"
    assert row("(2)")[2].text == "はい (8 / 2)" and not row("(2)")[2].marks
    assert row("(5)")[2].text == "はい・いいえ ( / )" and not row("(5)")[2].marks
    assert marked(row("(7)")[2], "circle") == ["はい"]
    texts = [c.text for t in grid.tables if t.kind == "text" for r in t.rows for c in r]
    assert any(t.startswith("コメント：") and "目標日は3月31日" in t for t in texts)
    assert grid.tables[-1].kind == "text"  # the comment comes after the table
    # truth agrees with what is printed
    items = {i["item_id"]: i for i in truth(samples["pdf_checklist_r5"])["items"]}
    assert items["1(1)"]["first_date"] == "2023-09-20" and items["1(1)"]["target_date"] == "2024-03-31"
    assert items["2(5)"]["answer_status"] == "unanswered"


def test_glyph_marks_and_fill(samples, grids):
    (table,) = page_tables(grids["pdf_mds_glyph"])
    assert [c.text for c in table.rows[0]] == ["確認項目", "はい", "いいえ", "対象外", "備考"]
    items = answerable(truth(samples["pdf_mds_glyph"]))
    options = ["はい", "いいえ", "対象外"]
    for item in items:
        prefix = ("・" + item["question"][:8]) if "/" in item["item_id"] else f"{item['number_printed']} "
        row = row_starting(table, prefix)
        chosen = [options[i] for i, c in enumerate(row[1:4]) if c.text in ("✓", "■")
                  or any(m.kind == "fill" for m in c.marks)]
        assert chosen == [item["answer"]], item["item_id"]
    fill_row = row_starting(table, "4.2 ")
    (fill,) = [m for c in fill_row for m in c.marks]
    assert fill.kind == "fill" and fill.detail == "FFFF00" and fill.span is None
    assert row_starting(table, "2 ")[1].text == "■"


@pytest.mark.parametrize("name", ["pdf_mds_twopage_hdr", "pdf_mds_twopage"])
def test_two_page_table(samples, grids, name):
    grid = grids[name]
    p1, p2 = page_tables(grid, 1), page_tables(grid, 2)
    assert len(p1) == 1 and len(p2) == 2  # page 2: the rest of the table and the 備考記載欄
    assert p1[0].n_cols == p2[0].n_cols == 5
    repeated = p2[0].rows[0][0].text == "確認項目"
    assert repeated == name.endswith("_hdr")
    first_item = p2[0].rows[1 if repeated else 0][0].text
    assert first_item.startswith("11 非常時アカウント")
    assert all(c.ref.startswith("p.2 ") for r in p2[0].rows for c in r)
    # footnote numbers in 備考 and their table at the end
    notes = {r[0].text: r[1].text.replace("\n", "") for r in p2[1].rows[1:]}
    items = {i["item_id"]: i for i in truth(samples[name])["items"]}
    assert notes[items["4.1.1"]["remark_ref"]] == items["4.1.1"]["remark"]
    assert row_starting(p1[0], "4.1.1 ")[4].text == items["4.1.1"]["remark_ref"]
    bullets = [r for r in p2[0].rows if r[0].text.startswith("・")]
    assert [marked(r[2], "circle") or marked(r[1], "circle") for r in bullets] == [
        [items[f"12.3.1.1/{lbl}"]["answer"]] for lbl in ("専用線", "公衆網", "IP-VPN", "IPsec-VPN", "TLS1.2以上")]


# --------------------------------------------------------------------------- PDFs made here


def _canvas(path: Path, **kw) -> rl_canvas.Canvas:
    register_font()
    return rl_canvas.Canvas(str(path), pagesize=A4, **kw)


def test_spaced_out_characters_are_rejoined(tmp_path):
    path = tmp_path / "spaced.pdf"
    c = _canvas(path)
    c.setFont(FONT, 10)
    for i, ch in enumerate("確認項目"):  # letter-spaced heading, one glyph at a time
        c.drawString(100 + i * 25, 700, ch)
    c.drawString(100, 680, "TLS 1.2 以上")
    c.save()
    (text,) = read_pdf(path).tables
    assert [r[0].text for r in text.rows] == ["確認項目", "TLS 1.2 以上"]


def test_bold_by_overprint_is_read_once_like_pdfplumber_dedupe(tmp_path):
    """Some vendors' PDF printers make bold by printing a word twice, a fraction of a point apart. The
    reader keeps each character once: the same characters, in the same order, as pdfplumber's own
    `dedupe_chars`, which it replaces for speed."""
    import pdfplumber

    from extractors.readers.pdf_text import unique_chars

    path = tmp_path / "overprint.pdf"
    c = _canvas(path)
    c.setFont(FONT, 10)
    for dx in (0, 0.3, 0.6):  # 「はい」 struck three times over itself
        c.drawString(100 + dx, 700, "はい")
    c.drawString(160, 700, "いいえ")
    c.drawString(100, 680, "はい はい")  # the same word twice on a line is no overprint
    c.save()
    with pdfplumber.open(path) as pdf:
        page = pdf.pages[0]
        assert len(page.chars) == 3 * 2 + 3 + 5
        assert unique_chars(page).chars == page.dedupe_chars().chars
        assert "".join(ch["text"] for ch in unique_chars(page).chars) == "はいいいえはい はい"
    (text,) = read_pdf(path).tables
    assert [[c.text for c in r] for r in text.rows] == [["はい", "いいえ"], ["はい はい"]]


def test_unique_chars_are_pdfplumbers_dedupe_on_every_sample_page(sample_inbox):
    """The same characters in the same order as pdfplumber's `dedupe_chars` on every page of the sample PDFs
    (pdfplumber's clustering is replaced by pdf_text._within_1pt)."""
    import pdfplumber

    from extractors.readers.pdf_text import unique_chars

    pages = 0
    for path in sorted(sample_inbox.glob("*.pdf")):
        try:
            pdf = pdfplumber.open(path)
        except Exception:  # noqa: BLE001 - the broken samples
            continue
        with pdf:
            for page in pdf.pages:
                assert unique_chars(page).chars == page.dedupe_chars().chars, (path.name, page.page_number)
                pages += 1
    assert pages >= 20


def test_unruled_table_read_from_alignment(tmp_path):
    path = tmp_path / "unruled.pdf"
    c = _canvas(path)
    c.setFont(FONT, 9)
    rows = [("項目", "回答", "備考"), ("1 扱う情報のリスト", "はい", "一覧あり"),
            ("2 覗き見防止", "いいえ", ""), ("3 離席時の不正入力防止", "対象外", "端末なし")]
    for k, (a, b, r) in enumerate(rows):
        y = 700 - 18 * k
        c.drawString(60, y, a)
        c.drawString(300, y, b)
        if r:
            c.drawString(400, y, r)
    c.ellipse(296, 700 - 18 - 4, 318, 700 - 18 + 11)  # circle round 「はい」
    c.save()
    (table,) = page_tables(read_pdf(path))
    assert [[c.text for c in r] for r in table.rows] == [
        ["項目", "回答", "備考"], ["1 扱う情報のリスト", "はい", "一覧あり"],
        ["2 覗き見防止", "いいえ", ""], ["3 離席時の不正入力防止", "対象外", "端末なし"]]
    assert marked(table.rows[1][1], "circle") == ["はい"]


def test_cid_font_is_flagged_and_never_passed_on(tmp_path):
    path = tmp_path / "cid.pdf"
    c = _canvas(path, pageCompression=0)
    # page 1: mostly readable text with a few unmappable glyphs → vector text, flagged
    c.setFont("Helvetica", 10)
    c.drawString(72, 700, "Security disclosure form, version 1.0, product ABC")
    c.setFont(FONT, 10)
    c.drawString(72, 680, "はい")
    c.showPage()
    # page 2: mostly unmappable glyphs → the scan path (or the flagged vector text without OCR)
    c.setFont(FONT, 14)
    c.drawString(72, 700, "アクセスログを管理している。")
    c.setFont("Helvetica", 14)
    c.drawString(72, 670, "Version 1.0")
    c.save()
    raw = path.read_bytes()
    assert raw.count(b"/ToUnicode") >= 1
    path.write_bytes(raw.replace(b"/ToUnicode", b"/ToUnicodX"))  # same length: xref stays valid
    grid = read_pdf(path)
    texts = [c.text for t in grid.tables for r in t.rows for c in r]
    assert not any("(cid:" in t for t in texts)
    assert {t.page for t in grid.tables} == {1, 2}
    assert all(CID_WARNING in t.warnings and t.confidence < 0.9 for t in grid.tables)
    page1 = [t for t in grid.tables if t.page == 1]
    assert all(t.confidence < 0.5 for t in page1)
    assert [c.text for t in page1 for r in t.rows for c in r] == [
        "Security disclosure form, version 1.0, product ABC"]
    assert any("Version 1.0" in c.text for t in grid.tables if t.page == 2 for r in t.rows for c in r)
    assert any(w.startswith("p.1: ") and CID_WARNING in w for w in grid.warnings)


def test_image_only_page(tmp_path):
    from PIL import Image
    img = tmp_path / "scan.png"
    Image.new("RGB", (200, 100), "white").save(img)
    path = tmp_path / "scan.pdf"
    c = _canvas(path)
    c.drawImage(str(img), 50, 500, 400, 200)
    c.save()
    grid = read_pdf(path)
    assert grid.tables and all(t.page == 1 for t in grid.tables)  # read by the scan reader, never skipped


def test_encrypted_corrupt_too_large(tmp_path):
    from reportlab.lib.pdfencrypt import StandardEncryption
    enc = tmp_path / "enc.pdf"
    c = _canvas(enc, encrypt=StandardEncryption("user-pw", "owner-pw"))
    c.setFont(FONT, 10)
    c.drawString(72, 700, "秘密")
    c.save()
    with pytest.raises(ExtractionError) as e:
        read_pdf(enc)
    assert e.value.kind == "encrypted" and "パスワード" in e.value.message

    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage\n%%EOF")
    with pytest.raises(ExtractionError) as e:
        read_pdf(bad)
    assert e.value.kind == "corrupt"

    big = tmp_path / "many.pdf"
    c = _canvas(big)
    for _ in range(301):
        c.showPage()
    c.save()
    with pytest.raises(ExtractionError) as e:
        read_pdf(big)
    assert e.value.kind == "too_large"


# --------------------------------------------------------------------------- LibreOffice-printed


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice がありません")
def test_libreoffice_printed_office_files_read_like_their_source(tmp_path):
    import docx
    import openpyxl
    from openpyxl.styles import Alignment, Border, Side

    rows = [["項目", "回答", "備考"],
            ["1 扱う情報のリストを医療機関等に提示できるか？", "はい", "導入時に一覧を提出します。"],
            ["2 個人情報が入力・参照できる端末の覗き見防止の機能があるか？", "いいえ", ""],
            ["4.1.1 パスワード管理は可能か？", "対象外", "ID・パスワードは使用しません"]]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "MDS"
    thin = Side(style="thin")
    for r, values in enumerate(rows, start=1):
        for c, v in enumerate(values, start=1):
            cell = ws.cell(r, c, v)
            cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
            cell.alignment = Alignment(wrap_text=True, vertical="center")
    ws.sheet_properties.pageSetUpPr.fitToPage = True  # one page wide, as vendors print forms
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    for r in range(1, len(rows) + 1):
        ws.row_dimensions[r].height = 30
    for col, w in zip("ABC", (42, 8, 28)):
        ws.column_dimensions[col].width = w
    xlsx = tmp_path / "sheet.xlsx"
    wb.save(xlsx)

    d = docx.Document()
    d.add_paragraph("製造業者：株式会社ワードメディカル")
    t = d.add_table(rows=len(rows), cols=3)
    t.style = "Table Grid"
    for r, values in enumerate(rows):
        for c, v in enumerate(values):
            t.cell(r, c).text = v
    src_docx = tmp_path / "word.docx"
    d.save(src_docx)

    out = tmp_path / "out"
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/lo", "--headless", "--convert-to",
                    "pdf", "--outdir", str(out), str(xlsx), str(src_docx)], check=True, capture_output=True,
                   timeout=180)
    for pdf, expect_text in ((out / "sheet.pdf", False), (out / "word.pdf", True)):
        grid = read_pdf(pdf)
        (table,) = page_tables(grid)
        got = [[c.text.replace("\n", "") for c in r if c.merged_into is None] for r in table.rows]
        assert got == rows, pdf
        if expect_text:
            assert any(c.text == "製造業者：株式会社ワードメディカル"
                       for t in grid.tables if t.kind == "text" for r in t.rows for c in r)


# --------------------------------------------------------------------------- end to end (grid → Document)

@pytest.mark.parametrize("name", ["pdf_mds_circle", "pdf_mds_strike", "pdf_mds_glyph", "pdf_mds_twopage",
                                  "pdf_mds_twopage_hdr", "pdf_checklist_r5"])
def test_answers_match_truth(samples, grids, name):
    interpret = pytest.importorskip("extractors.interpret").interpret
    from tests.truth import compare
    import hashlib
    path = samples[name]
    doc = interpret(grids[name], hashlib.sha256(path.read_bytes()).hexdigest())
    assert compare(doc, truth(path)) == []


def test_the_index_by_height_finds_every_box_that_reaches_a_band_in_order():
    """VerticalIndex may give boxes that do not reach a band, never leaves out one that does, and keeps the
    boxes' order, so that a test run over its answer finds what a test over every box finds."""
    from extractors.readers.pdf_text import VerticalIndex

    boxes = [(top, top + height) for top in (0.0, 3.5, 10.0, 10.0, 11.9, 30.0, 55.25) for height in (0.0, 2.0, 12.0)]
    index = VerticalIndex([t for t, _ in boxes], [b for _, b in boxes])
    for y0, y1 in [(-5, -1), (0, 0), (2, 2), (10, 10), (12, 13), (20, 29.9), (41, 41), (55.25, 56), (70, 80)]:
        found = index.reaching(y0, y1)
        assert found == sorted(found)
        assert {i for i, (t, b) in enumerate(boxes) if b >= y0 and t <= y1} <= set(found)
    assert VerticalIndex([], []).reaching(0, 10) == []
