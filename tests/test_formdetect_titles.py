"""Form family from a retyped title: a slip of one or two characters in the form phrase still names the form.

The workbooks are written here with our own invented vendor and product; the real XLSX reader reads them.
"""
from __future__ import annotations

import openpyxl
import pytest

from extractors.formdetect import detect_form
from extractors.readers.xlsx import read_xlsx


def _workbook(tmp_path, title: str, name: str = "disclosure.xlsx"):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = title
    ws["A3"], ws["B3"] = "製造業者名", "株式会社ミズナラ医療技研"
    ws["A4"], ws["B4"] = "製品名", "ミズナラ検体ビューア"
    ws["A6"], ws["B6"], ws["C6"] = "項目", "質問", "回答"
    ws["A7"], ws["B7"], ws["C7"] = "1", "扱う情報のリストを提示できるか", "はい"
    path = tmp_path / name
    wb.save(path)
    return read_xlsx(path)


@pytest.mark.parametrize("title,family", [
    ("製造業者による医療情報セキュリティ開示書", "mds"),
    ("サービス事業者による医療情報セキュリティ開示書", "sds"),
    # slips a vendor makes when retyping the title
    ("製造業者による医療情報セキュリティ指示書", "mds"),
    ("サービス事業者による医療情報セキュリティ指示書", "sds"),
    ("製造業者による医療情報セキユリティ開示書（第2版）", "mds"),
    ("サービス事業者による医療情報セキュリテイ開事書", "sds"),
])
def test_title_with_a_slip_names_its_family(tmp_path, title, family):
    assert detect_form(_workbook(tmp_path, title)).family == family


def test_unrelated_security_title_is_not_a_disclosure_form(tmp_path):
    grid = _workbook(tmp_path, "医療情報セキュリティに関するお知らせ", name="notice.xlsx")
    assert detect_form(grid).family == "unknown"
