"""Every sample file's answers, remarks and header fields match its truth (real readers, real files)."""
from __future__ import annotations

import pytest

from extractors import extract
from extractors.model import ExtractionError
from tests.truth import compare, load_truth, truth_files

OFFICE = (".xlsx", ".docx", ".xls", ".doc", ".xlsm", ".docm")


def _office_samples(inbox):
    return [p for p in truth_files(inbox) if p.suffix.lower() in OFFICE and not load_truth(p).get("expect_failure")]


def _office_names() -> list[str]:
    from samples.build import office_samples

    return sorted(sub.file for sub, _fmt, _style in office_samples())


@pytest.mark.parametrize("name", _office_names())
def test_office_sample_matches_truth(sample_inbox, name):
    """One test per Office sample (each sample is one vendor's convention)."""
    path = sample_inbox / name
    problems = compare(extract(path), load_truth(path))
    assert not problems, f"{name} [{load_truth(path)['convention']}]:\n  " + "\n  ".join(problems[:15])


def test_every_office_file_of_the_sample_set_matches_truth(sample_inbox):
    """All Office files the builder wrote, the legacy .xls/.doc conversions included."""
    files = _office_samples(sample_inbox)
    assert len(files) >= 10, "the sample builder should write at least ten Office samples"
    report = {}
    for path in files:
        truth = load_truth(path)
        try:
            doc = extract(path)
        except ExtractionError as exc:
            report[path.name] = [f"extraction failed: {exc.message}"]
            continue
        problems = compare(doc, truth)
        if problems:
            report[path.name] = problems
    lines = [f"{name} [{load_truth(sample_inbox / name)['convention']}]:\n  " + "\n  ".join(p[:12])
             for name, p in report.items()]
    print(f"office samples: {len(files) - len(report)}/{len(files)} match their truth")
    assert not report, "\n".join(lines)


def test_every_convention_has_a_sample(sample_inbox):
    conventions = {load_truth(p)["convention"] for p in _office_samples(sample_inbox)}
    assert len(conventions) >= 8, sorted(conventions)


def test_bad_files_fail_with_a_japanese_reason(sample_inbox):
    bad = [p for p in truth_files(sample_inbox) if load_truth(p).get("expect_failure") not in (None, "ignored")]
    assert bad, "the sample builder should write bad files"
    for path in bad:
        with pytest.raises(ExtractionError) as info:
            extract(path)
        assert any("\u3040" <= ch <= "\u30ff" for ch in info.value.message), info.value.message


def test_option_set_apart_by_colour_or_bold_in_real_files(tmp_path):
    """Word and Excel files where the vendor picked the word by colouring it or making it bold."""
    import docx
    from docx.shared import RGBColor
    from openpyxl import Workbook
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    title = "製造業者による医療情報セキュリティ開示書 チェックリスト（ガイドライン第5.2版対応）"
    question = "時刻情報の正確性を担保する機能があるか？"
    word = docx.Document()
    word.add_paragraph(title)
    table = word.add_table(rows=2, cols=3)
    for cell, text in zip(table.rows[0].cells, ("項目", "回答", "備考")):
        cell.text = text
    table.rows[1].cells[0].text = f"5 {question}"
    para = table.rows[1].cells[1].paragraphs[0]
    para.add_run("はい・")
    para.add_run("いいえ").font.color.rgb = RGBColor(0xFF, 0, 0)
    para.add_run("・対象外")
    word.save(tmp_path / "colour.docx")

    book = Workbook()
    sheet = book.active
    sheet.append([title])
    sheet.append(["項目", "回答", "備考"])
    sheet.append([f"5 {question}", CellRichText([TextBlock(InlineFont(b=True), "はい"), "・いいえ・対象外"]), ""])
    book.save(tmp_path / "bold.xlsx")

    coloured, bold = extract(tmp_path / "colour.docx").item("5"), extract(tmp_path / "bold.xlsx").item("5")
    assert (coloured.answer, coloured.needs_review) == ("いいえ", True)
    assert (bold.answer, bold.needs_review) == ("はい", True)


def test_a_pasted_check_picture_over_an_option_cell_is_read_for_review(tmp_path):
    from openpyxl import Workbook
    from openpyxl.drawing.image import Image as SheetImage
    from PIL import Image, ImageDraw

    tick = tmp_path / "tick.png"
    picture = Image.new("RGB", (16, 16), "white")
    ImageDraw.Draw(picture).line([(2, 8), (6, 13), (14, 2)], fill="black", width=2)
    picture.save(tick)
    book = Workbook()
    sheet = book.active
    sheet.append(["製造業者による医療情報セキュリティ開示書 チェックリスト（ガイドライン第5.2版対応）"])
    sheet.append(["項番", "確認項目", "はい", "いいえ", "対象外", "備考"])
    sheet.append(["5", "時刻情報の正確性を担保する機能があるか？", "", "", "", ""])
    sheet.append(["6", "不正ソフトウェア対策を行っているか？", "○", "", "", ""])
    image = SheetImage(str(tick))
    image.width = image.height = 12
    sheet.add_image(image, "D3")
    book.save(tmp_path / "picture.xlsx")
    doc = extract(tmp_path / "picture.xlsx")
    pictured = doc.item("5")
    assert (pictured.answer, pictured.needs_review) == ("いいえ", True)
    assert (doc.item("6").answer, doc.item("6").needs_review) == ("はい", False)
