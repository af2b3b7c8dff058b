"""Symbol-font check boxes decoded once (readers/glyphs.py) for every reader: a check typed in Wingdings
reads as ☑ / ☐ / ✓ in XLSX cells and rich-text runs, DOCX runs and symbols, and PDF characters."""
from __future__ import annotations


import openpyxl
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.styles import Font

from extractors.grid import CHECKED_BOX, UNCHECKED_BOX
from extractors.readers.glyphs import decode_pdf_chars, decode_text, symbol_font
from extractors.readers.pdf import read_pdf
from extractors.readers.xlsx import read_xlsx


def test_font_names_and_text():
    assert symbol_font("Wingdings") == symbol_font("QWERTY+Wingdings-Regular") == "wingdings"
    assert symbol_font("Wingdings 2") == symbol_font("Wingdings2") == "wingdings 2"
    assert symbol_font("Wingdings 3") == symbol_font("ＭＳ 明朝") == symbol_font("WingdingsX") == ""
    # Known glyphs decode, unknown symbols vanish, spaces and Japanese words (a fallback font) stay.
    assert decode_text("wingdings", "þ はい ¨ いいえ ☺") == f"{CHECKED_BOX} はい {UNCHECKED_BOX} いいえ ☺"
    assert decode_text("wingdings", "\uf0fcJ") == "✓"
    assert decode_text("", "þ") == "þ"


def test_xlsx_cells_and_runs_in_a_symbol_font(tmp_path):
    path = tmp_path / "記号.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"], ws["B1"] = "項目", "回答"
    ws["A2"] = "パスワードに有効期限を設定できますか。"
    ws["B2"] = CellRichText([TextBlock(InlineFont(rFont="Wingdings"), "þ"), "可能 ",
                             TextBlock(InlineFont(rFont="Wingdings"), "¨"), "不可"])
    ws["A3"], ws["B3"] = "保守時の接続記録を保存しますか。", "ü"
    ws["B3"].font = Font(name="Wingdings")
    ws["A4"], ws["B4"] = "管理者の操作記録を残しますか。", "R"
    ws["B4"].font = Font(name="Wingdings 2")
    ws["A5"], ws["B5"] = "þ は文字として書かれた注記", "þ"  # a text font: the letter stays a letter
    wb.save(path)
    rows = read_xlsx(path).tables[0].rows
    assert rows[1][1].text == f"{CHECKED_BOX}可能 {UNCHECKED_BOX}不可"
    assert rows[2][1].text == "✓"
    assert rows[3][1].text == CHECKED_BOX
    assert rows[4][1].text == "þ"


def _pdf_with_wingdings(runs: list[tuple[str, int, bytes]]) -> bytes:
    """A one-page PDF whose runs use Helvetica (F1) or a non-embedded TrueType Wingdings (F2)."""
    content = b"".join(b"BT /%s 12 Tf %d 700 Td (%s) Tj ET\n" % (f.encode(), x, s) for f, x, s in runs)
    widths = b" ".join([b"900"] * 224)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> "
        b"/Contents 6 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /TrueType /BaseFont /Wingdings /FirstChar 32 /LastChar 255 /Widths [" + widths
        + b"] /FontDescriptor 7 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"endstream",
        b"<< /Type /FontDescriptor /FontName /Wingdings /Flags 4 /FontBBox [0 -200 1000 900] /ItalicAngle 0 "
        b"/Ascent 900 /Descent -200 /CapHeight 700 /StemV 80 >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


def test_pdf_characters_in_a_symbol_font(tmp_path):
    path = tmp_path / "記号.pdf"
    path.write_bytes(_pdf_with_wingdings([("F1", 72, b"Encrypted"), ("F2", 200, b"\xfe"), ("F1", 215, b"Yes"),
                                          ("F2", 260, b"\xa8"), ("F1", 275, b"No")]))
    texts = [c.text for t in read_pdf(path).tables for row in t.rows for c in row]
    assert f"{CHECKED_BOX} Yes" in texts and f"{UNCHECKED_BOX} No" in texts
    assert not any("þ" in t or "¨" in t for t in texts)


def test_pdf_glyph_codes_without_a_unicode_map():
    """A symbol font without a Unicode map gives pdfminer "(cid:N)" with N the font's own code."""
    chars = [{"fontname": "AAAAAA+Wingdings-Regular", "text": "(cid:254)"},
             {"fontname": "AAAAAA+Wingdings-Regular", "text": "(cid:74)"},
             {"fontname": "AAAAAA+MS-Mincho", "text": "(cid:254)"}]
    assert [c["text"] for c in decode_pdf_chars(chars)] == [CHECKED_BOX, "(cid:254)"]
