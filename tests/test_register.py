import csv
import datetime as dt
import os

import pandas as pd
import pytest
from openpyxl import load_workbook

from pipeline import safe_io
from pipeline.answer_table import write_answers
from pipeline.config import ANSWER_COLUMNS, REGISTER_COLUMNS, REVIEWER_COLUMNS
from pipeline.register import SHEET_GUIDE, SHEET_REGISTER, update_register
from pipeline.store import Store
from rules.findings import Finding
from tests.conftest import make_document

DAY1, DAY2, DAY3 = dt.date(2025, 4, 1), dt.date(2025, 5, 1), dt.date(2025, 6, 1)


def finding(rule_id="R001", item="12.3.1", severity="高", evidence="12.3.1 いいえ", vendor="株式会社テストメディカル"):
    return Finding(rule_id=rule_id, category="unsupported", severity=severity, title="リモート保守の記録がない",
                   finding="リモート保守のログが残りません。", vendor=vendor, product="電子カルテX",
                   item_ids=[item], evidence=evidence, source_files=["mds.xlsx"], document_ids=["abc"],
                   recommendation="ログの提出を求める", contract_clause="保守作業の記録を提出すること")


def sheet_rows(path):
    ws = load_workbook(path)[SHEET_REGISTER]
    header = [c.value for c in ws[1]]
    return header, {r[0]: dict(zip(header, r)) for r in ws.iter_rows(min_row=2, values_only=True)}


def edit_xlsx(path, risk_id, values):
    wb = load_workbook(path)
    ws = wb[SHEET_REGISTER]
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if row[0].value == risk_id:
            for name, value in values.items():
                row[header.index(name)].value = value
    wb.save(path)


def test_register_files_have_contract_columns_and_guide(tmp_path):
    with Store.open(tmp_path) as store:
        result = update_register(store, [finding(), finding("R002", "4.1", "低")], tmp_path, DAY1)
    assert {p.name for p in result.paths} == {"risk_register.xlsx", "risk_register.parquet", "risk_register.csv"}
    header, rows = sheet_rows(tmp_path / "risk_register.xlsx")
    assert header[:len(REGISTER_COLUMNS)] == REGISTER_COLUMNS
    assert set(REVIEWER_COLUMNS) <= set(header)
    parquet = pd.read_parquet(tmp_path / "risk_register.parquet")
    assert list(parquet.columns[:len(REGISTER_COLUMNS)]) == REGISTER_COLUMNS
    with open(tmp_path / "risk_register.csv", encoding="utf-8-sig", newline="") as f:
        assert next(csv.reader(f))[:len(REGISTER_COLUMNS)] == REGISTER_COLUMNS
    assert list(parquet["severity"]) == ["高", "低"]  # most severe first
    assert set(parquet["status"]) == {"未対応"}
    assert set(parquet["first_seen"]) == {"2025-04-01"}
    assert parquet["risk_id"].iloc[0] == finding().risk_id

    wb = load_workbook(tmp_path / "risk_register.xlsx")
    ws = wb[SHEET_REGISTER]
    assert ws.freeze_panes == "B2" and ws.auto_filter.ref.startswith("A1:")
    assert ws["F2"].fill.fgColor.rgb.endswith("F8CBAD")  # 高 is red-ish
    [dv] = ws.data_validations.dataValidation
    assert dv.type == "list" and "協議中" in dv.formula1
    guide = {r[0]: r[1] for r in wb[SHEET_GUIDE].iter_rows(min_row=2, values_only=True)}
    assert set(REGISTER_COLUMNS) <= set(guide) and all(guide[c] for c in REGISTER_COLUMNS)


@pytest.mark.parametrize("payload", ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)"])
def test_vendor_text_is_never_a_formula(tmp_path, payload):
    with Store.open(tmp_path) as store:
        update_register(store, [finding(evidence=payload, vendor=payload)], tmp_path, DAY1)
    ws = load_workbook(tmp_path / "risk_register.xlsx")[SHEET_REGISTER]
    header = [c.value for c in ws[1]]
    for col in ("evidence", "vendor"):
        cell = ws.cell(row=2, column=header.index(col) + 1)
        assert cell.data_type == "s" and cell.value == payload and cell.quotePrefix
    with open(tmp_path / "risk_register.csv", encoding="utf-8-sig", newline="") as f:
        row = list(csv.DictReader(f))[0]
    assert row["evidence"] == "'" + payload and row["vendor"] == "'" + payload
    # Parquet is data, not a spreadsheet: it keeps the text exactly.
    assert pd.read_parquet(tmp_path / "risk_register.parquet")["evidence"][0] == payload


def test_living_register_keeps_edits_and_keeps_vanished_findings_open_without_evidence(tmp_path):
    """Without a newer document evaluated by the rule (tests/test_register_integrity.py) nothing becomes 解消."""
    kept, vanishing = finding("R001"), finding("R002", "4.1", "中")
    xlsx = tmp_path / "risk_register.xlsx"
    with Store.open(tmp_path) as store:
        update_register(store, [kept, vanishing], tmp_path, DAY1)
    edit_xlsx(xlsx, kept.risk_id, {"対応状況": "協議中", "メモ": "=営業に確認", "期限": dt.datetime(2025, 9, 30)})
    edit_xlsx(xlsx, vanishing.risk_id, {"担当": "情報システム課 山田"})

    with Store.open(tmp_path) as store:
        update_register(store, [kept], tmp_path, DAY2)
    _, rows = sheet_rows(xlsx)
    assert rows[kept.risk_id]["対応状況"] == "協議中" and rows[kept.risk_id]["status"] == "協議中"
    assert rows[kept.risk_id]["メモ"] == "=営業に確認" and rows[kept.risk_id]["期限"] == "2025-09-30"
    assert rows[kept.risk_id]["first_seen"] == "2025-04-01" and rows[kept.risk_id]["last_seen"] == "2025-05-01"
    gone = rows[vanishing.risk_id]
    assert gone["status"] == "未対応" and gone["解消日"] in ("", None) and gone["担当"] == "情報システム課 山田"
    assert gone["last_seen"] == "2025-04-01" and gone["今回未検出の理由"]

    # The workbook is deleted: the store's copy brings the edits back.
    os.remove(xlsx)
    with Store.open(tmp_path) as store:
        update_register(store, [kept], tmp_path, DAY3)
    _, rows = sheet_rows(xlsx)
    assert rows[kept.risk_id]["メモ"] == "=営業に確認"
    assert rows[vanishing.risk_id]["担当"] == "情報システム課 山田" and not rows[vanishing.risk_id]["解消日"]

    # A corrupted workbook: a warning, and still nothing lost.
    xlsx.write_bytes(b"not a workbook")
    with Store.open(tmp_path) as store:
        result = update_register(store, [kept, vanishing], tmp_path, DAY3)
    assert any("読み込めませんでした" in w for w in result.warnings)
    _, rows = sheet_rows(xlsx)
    assert rows[kept.risk_id]["対応状況"] == "協議中"
    # The finding fires again: it is open again, keeping its first_seen and the reviewer's note.
    back = rows[vanishing.risk_id]
    assert back["status"] == "未対応" and back["解消日"] in ("", None) and back["first_seen"] == "2025-04-01"
    assert back["今回未検出の理由"] in ("", None)
    assert back["担当"] == "情報システム課 山田"


def test_locked_register_is_written_beside_and_edits_read_from_it(tmp_path, monkeypatch):
    with Store.open(tmp_path) as store:
        update_register(store, [finding()], tmp_path, DAY1)
    real_replace = os.replace

    def locked_replace(src, dst):
        if str(dst).endswith("risk_register.xlsx"):
            raise PermissionError(13, "Permission denied")
        return real_replace(src, dst)

    monkeypatch.setattr(safe_io.os, "replace", locked_replace)
    with Store.open(tmp_path) as store:
        result = update_register(store, [finding()], tmp_path, DAY2)
    alt = tmp_path / "risk_register (新).xlsx"
    assert alt in result.paths and alt.is_file()
    assert any("risk_register (新).xlsx" in w for w in result.warnings)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    monkeypatch.setattr(safe_io.os, "replace", real_replace)

    # The reviewer wrote into the (新) copy; the next run picks that up.
    edit_xlsx(alt, finding().risk_id, {"対応状況": "リスク受容"})
    with Store.open(tmp_path) as store:
        update_register(store, [finding()], tmp_path, DAY3)
    _, rows = sheet_rows(tmp_path / "risk_register.xlsx")
    assert rows[finding().risk_id]["対応状況"] == "リスク受容"


def test_answers_table_contract_and_csv_safety(tmp_path):
    docs = [make_document(), make_document(vendor="別会社", sha="b" * 64, created=None, source_file="b.pdf")]
    paths, warnings = write_answers(docs, tmp_path)
    assert {p.name for p in paths} == {"answers.csv", "answers.parquet"} and warnings == []
    assert (tmp_path / "answers.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    df = pd.read_parquet(tmp_path / "answers.parquet")
    assert list(df.columns[:len(ANSWER_COLUMNS)]) == ANSWER_COLUMNS
    assert len(df) == 4
    assert df["confidence"].dtype == "float64" and df["needs_review"].dtype == "bool"
    row = df[(df["document_id"] == "a" * 16) & (df["item_id"] == "12.3.1")].iloc[0]
    assert row["number_printed"] == "1 2. 3. 1" and row["location"] == "mds.xlsx / p.3 / 行40"
    assert row["created"] == "2024-04-01" and bool(row["needs_review"])
    assert set(df[df["source_file"] == "b.pdf"]["created"]) == {""}
    with open(tmp_path / "answers.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows[1]["remark"].startswith("'=HYPERLINK")
    assert rows[0]["needs_review"] == "False" and rows[1]["needs_review"] == "True"


def test_an_assessment_written_in_the_sheet_counts_for_the_register_row_of_the_same_item(tmp_path):
    """第7.0版: an いいえ is assessed once, in the register row or in the sheet 「リスク評価」; either clears
    要リスク評価 on the other. A risk with a second item still unassessed stays 要リスク評価."""
    from pipeline.config import ASSESSMENT_COLUMNS, ASSESSMENT_CURRENT, CURRENT_ITEM, RISK_ASSESSMENT, RISK_FLAG
    from pipeline.risk_sheet import AssessmentSheet

    one, two = finding(), finding("R002", "4.1")
    sheet_row = {c: "" for c in ASSESSMENT_COLUMNS} | {ASSESSMENT_CURRENT: CURRENT_ITEM}
    rows = [dict(sheet_row, **{"リスクID": one.risk_id, RISK_ASSESSMENT: "閉域網のみで接続し、作業は立会いで行う。"}),
            dict(sheet_row, **{"リスクID": two.risk_id, RISK_ASSESSMENT: "外部記憶媒体は施錠保管する。"}),
            dict(sheet_row, **{"リスクID": two.risk_id})]
    with Store.open(tmp_path) as store:
        update_register(store, [one, two], tmp_path, DAY1, risk_assessment={one.risk_id, two.risk_id},
                        more_sheets=lambda _rows, _books: AssessmentSheet(rows, []))
        stored = store.register_rows()
    flags = pd.read_parquet(tmp_path / "risk_register.parquet").set_index("risk_id")[RISK_FLAG]
    assert (flags[one.risk_id], flags[two.risk_id]) == ("記録済み", "要リスク評価")
    assert stored[one.risk_id][RISK_FLAG] == "記録済み"
