"""A form the catalogue does not know (an English MDS2-like workbook, an unknown Japanese sheet) is read by
each cell's own word or every row is flagged: never a confident wrong answer. Workbooks written here."""
from __future__ import annotations

import openpyxl
import pytest
from openpyxl.styles import PatternFill

from extractors import extract

# (question, cell text, expected answer) for an invented infusion pump.
ROWS = [
    ("PUMP-1", "Can this device display or store personally identifiable information?", "Yes", "はい"),
    ("PUMP-2", "Does the device keep patient data on removable media?", "No", "いいえ"),
    ("LOGN-1", "Does the device support operator-specific user names and passwords?", "No", "いいえ"),
    ("LOGN-2", "Does the device support multi-factor login for operators?", "N/A", "対象外"),
    ("DIAG-1", "Is a network or data flow diagram available for the pump?", "See Note", ""),
    ("IDLE-1", "Does the pump lock its console after a period without input?", "", ""),
    ("IDLE-2", "Can the idle period before the console lock be configured?", "Yes", "はい"),
]

HEADERS = {
    "one_option_word": ["Question ID", "Question", "Yes", "Note #"],
    "answer_words": ["Question ID", "Question", "Yes, No, N/A, or See Note", "Note #"],
    "slash_words": ["ID", "Question", "Yes/No/N/A", "Note #"],
}


def _mds2_like(path, header):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Disclosure"
    ws.append(["Device Security Disclosure Statement (example, invented device)"])
    ws.append(["Manufacturer", "Invented Pumps Ltd."])
    ws.append([])
    ws.append(header)
    fill = PatternFill("solid", fgColor="FFF2CC")  # the answer cells are shaded, as in the NEMA workbook
    for qid, question, answer, _ in ROWS:
        ws.append([qid, question, answer, "1" if answer == "See Note" else ""])
        for cell in ws[ws.max_row][2:4]:
            cell.fill = fill
    ws.append([])
    ws.append(["Note #", "Note"])
    ws.append(["1", "A diagram is supplied on request."])
    wb.save(path)


def _check_no_confident_wrong_answer(doc):
    by_question = {q: expected for _, q, _, expected in ROWS}
    seen = 0
    for item in doc.items:
        expected = next((e for q, e in by_question.items() if q.replace(" ", "") in item.question.replace(" ", "")),
                        None)
        if expected is None:
            continue
        seen += 1
        assert item.answer == expected or item.needs_review, (item.question, item.answer, expected)
        assert not item.review_reason or item.needs_review
    return seen


@pytest.mark.parametrize("name", sorted(HEADERS))
def test_mds2_like_workbook_gives_no_confident_wrong_answer(tmp_path, name):
    path = tmp_path / f"{name}.xlsx"
    _mds2_like(path, HEADERS[name])
    doc = extract(path)
    assert doc.family == "unknown"
    assert _check_no_confident_wrong_answer(doc) == len(ROWS)
    # Each answer is the cell's own word, so the form is understood: No stays いいえ.
    answers = {i.question: i.answer for i in doc.items}
    assert answers[ROWS[1][1]] == "いいえ" and answers[ROWS[3][1]] == "対象外"
    see_note = next(i for i in doc.items if i.question == ROWS[4][1])
    assert see_note.needs_review and see_note.answer == ""


def test_unknown_form_with_option_columns_is_flagged_everywhere(tmp_path):
    """Marks under option columns of a form nobody catalogued: the position means nothing certain."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["機器セキュリティ自己点検票（架空の様式）"])
    ws.append(["No.", "確認項目", "はい", "いいえ", "対象外", "備考"])
    ws.append(["1.1", "管理者パスワードを初期値から変更できるか。", "○", "", "", ""])
    ws.append(["1.2", "操作ログを保存できるか。", "", "○", "", ""])
    ws.append(["1.3", "保守用の遠隔接続を利用者が止められるか。", "", "", "", ""])
    path = tmp_path / "unknown_options.xlsx"
    wb.save(path)
    doc = extract(path)
    assert not any(i.known for i in doc.items) and len(doc.items) == 3
    assert all(i.needs_review and "様式を特定できない" in i.review_reason for i in doc.items)
    assert all(i.confidence < 1 for i in doc.items)
