"""A row the vendor deleted from a form is reported, also for a form reconstructed from a sibling form."""
from __future__ import annotations

from pathlib import Path

import openpyxl

from extractors import extract
from extractors.forms import get_form, missing_catalogue_items


def _write_form(path: Path, form_id: str, title: str, skip: set[str]) -> None:
    form = get_form(form_id)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([title])
    ws.append(["事業者名", "株式会社テスト保守サービス"])
    ws.append(["項番", "確認項目", "はい", "いいえ", "対象外", "備考"])
    for c in form.items:
        if c.parent or c.kind == "group" or c.id in skip or not c.answers:
            continue
        ws.append([c.number, c.text, "○", "", "", ""])
    wb.save(path)


def test_deleted_row_of_a_reconstructed_form_is_missing(tmp_path):
    form = get_form("jahis-sds-4.1")
    assert not form.established
    path = tmp_path / "sds.xlsx"
    _write_form(path, form.id, "サービス事業者による医療情報セキュリティ開示書 チェックリスト", {"4.1.2"})
    doc = extract(path)
    assert doc.form_id == "jahis-sds-4.1"
    assert doc.missing_items == ["4.1.2"]


def test_a_form_that_ends_early_is_not_a_gap():
    form = get_form("jahis-sds-4.1")
    numbered = [c.id for c in form.items if not c.parent and c.kind != "group" and c.answers]
    present = set(numbered[:-3])  # the last rows absent: the form may simply end there
    assert missing_catalogue_items(form, present) == []
    present.discard(numbered[5])
    assert missing_catalogue_items(form, present) == [numbered[5]]


def test_established_form_reports_every_absent_item():
    form = get_form("jahis-mds-4.1")
    present = {c.id for c in form.items}
    present.discard("9")
    assert missing_catalogue_items(form, present) == ["9"]
