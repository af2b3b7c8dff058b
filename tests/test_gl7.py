"""Guideline 第7.0版 and the 令和8年度 checklist (issue #13), on real files written by samples/gl7.py."""
from __future__ import annotations

import pytest

from extractors import extract
from tests.test_reports import CHROMIUM, html_to_pdf_text
from samples.gl7 import RECORDED_ASSESSMENTS, TWO_FACTOR, build_gl7, build_gl7_resubmission
from tests.office_files import fill_sheet_rows


@pytest.fixture(scope="module")
def gl7_inbox(tmp_path_factory):
    out = tmp_path_factory.mktemp("gl7") / "inbox"
    build_gl7(out)
    return out


@pytest.fixture(scope="module")
def docs(gl7_inbox):
    return {p.name: extract(p) for p in sorted(gl7_inbox.glob("*.xlsx"))}


def _doc(docs, part):
    return next(d for name, d in docs.items() if part in name)


def test_r8_vendor_checklist_is_told_apart_by_title_and_year(docs):
    d = _doc(docs, "事業者確認用_R8")
    assert (d.family, d.form_id, d.form_version) == ("checklist_vendor", "mhlw-checklist-r8-vendor", "令和8年度")
    by_concept = {i.concept: i for i in d.items if i.concept}
    tfa = by_concept["two_factor_auth"]
    assert tfa.item_id == "2(11)" and tfa.answer == "いいえ" and tfa.first_date == "2026-07-14"
    assert tfa.target_date == "2027-03-19"
    assert by_concept["password_reuse_ban"].answer == "いいえ"
    assert by_concept["account_lockout"].answer == "はい"
    # A row whose wording the catalogue does not know is kept, by its number and text, as unknown.
    unknown = [i for i in d.items if not i.known]
    assert [i.item_id for i in unknown] == ["2(12)"] and "責任分界" in unknown[0].question
    assert unknown[0].answer == "はい"


def test_r8_facility_checklist_joint_title(docs):
    d = _doc(docs, "医療機関・薬局確認用_R8")
    assert (d.family, d.form_id, d.form_version) == ("checklist_facility", "mhlw-checklist-r8-facility", "令和8年度")
    tfa = next(i for i in d.items if i.concept == "two_factor_auth")
    assert tfa.answer == "はい" and "予定" in tfa.remark
    assert [i.item_id for i in d.items if not i.known] == ["2(7)"]
    lock = next(i for i in d.items if i.concept == "account_lockout")
    assert lock.answer == "いいえ" and lock.target_date == "2027-02-26"


def test_earlier_checklist_years_keep_their_forms():
    from extractors.formdetect import detect_form
    from extractors.grid import Cell, Grid, Table

    def grid(title):
        return Grid(source="x.xlsx", format="xlsx", tables=[Table(name="s", rows=[[Cell(text=title)]])])

    r7 = detect_form(grid("医療機関等におけるサイバーセキュリティ対策チェックリスト 事業者確認用（令和7年度）"))
    assert r7.form.id == "mhlw-checklist-r7-vendor"
    # The joint hospital/pharmacy title without a printed year is the 令和8年度 form.
    r8 = detect_form(grid("医療機関・薬局におけるサイバーセキュリティ対策チェックリスト 事業者確認用"))
    assert r8.form.id == "mhlw-checklist-r8-vendor" and r8.form_version == "令和8年度"


def test_guideline_version_is_a_header_field(docs, tmp_path):
    from pipeline.answer_table import answers_frame

    gl7 = _doc(docs, "MDS_GL7")
    assert gl7.guideline_version == "7.0" and gl7.form_id == "jahis-mds-5.0"
    assert _doc(docs, "いなほ").guideline_version == "5.2"
    assert _doc(docs, "事業者確認用_R8").guideline_version == ""  # not printed: not guessed
    df = answers_frame(list(docs.values()))
    assert "guideline_version" in df.columns
    assert set(df.loc[df["source_file"].str.contains("MDS_GL7"), "guideline_version"]) == {"7.0"}


def test_report_shows_the_unknown_rows(docs):
    from pipeline.report_data import group_by_vendor_product
    from pipeline.reports import render_report

    d = _doc(docs, "事業者確認用_R8")
    group = group_by_vendor_product([d], [])[0]
    html = render_report(group)
    assert "カタログ）にない項目" in html and "2(12)「医療機関・薬局との責任分界" in html


# ----------------------------------------------------------------------------- step 2: the gl7 rule family

def _findings(docs, as_of, prefix="gl7."):
    import datetime as dt

    from rules.engine import evaluate

    return [f for f in evaluate(list(docs.values()), as_of=dt.date.fromisoformat(as_of))
            if f.rule_id.startswith(prefix)]


def test_two_factor_countdown_from_the_evaluation_date(docs):
    found = _findings(docs, "2026-10-01")
    deadline = {(f.vendor, tuple(f.item_ids)): f for f in found if f.rule_id == "gl7.two_factor_deadline"}
    vendor_row = deadline[("株式会社しらさぎ医療ソフト", ("2(11)",))]
    assert "あと 182 日" in vendor_row.finding and "2027-04-01" in vendor_row.finding
    assert "第7.0版" in vendor_row.guideline_ref and "第6.0版" in vendor_row.guideline_ref
    assert all(f.source_files[0].endswith("R8.xlsx") for f in deadline.values())  # checklists only
    # MDS/SDS: the existing rule (same risk id as before) runs the same check, so one row per gap.
    mds_row = next(f for f in _findings(docs, "2026-10-01", "unsupported.two_factor_auth"))
    assert mds_row.vendor == "株式会社いなほシステム" and "あと 182 日" in mds_row.finding
    assert "第7.0版" in mds_row.guideline_ref and "第6.0版" in mds_row.guideline_ref
    later = {f.finding for f in _findings(docs, "2027-04-11", "") if "two_factor" in f.rule_id}
    assert any("10 日過ぎています" in t for t in later)


def test_planned_two_factor_asks_for_the_date(docs):
    planned = [f for f in _findings(docs, "2026-10-01") if f.rule_id == "gl7.two_factor_planned"]
    assert [f.item_ids for f in planned] == [["2(6)"]] and "こもれび" in planned[0].source_files[0]
    assert "次期システム更新時" in planned[0].finding and "導入の時期が書かれていません" in planned[0].finding
    # MDS/SDS: contradiction.planned (one row per gap) quotes the plan and its promised time.
    mds = [f for f in _findings(docs, "2026-10-01", "contradiction.planned") if "MDS_GL7" in f.source_files[0]]
    assert len(mds) == 1 and "次期バージョンで対応予定" in mds[0].finding and "予定時期：記載なし" in mds[0].finding


def test_reuse_and_lockout_where_the_form_asks(docs):
    found = {(f.rule_id, tuple(f.item_ids)) for f in _findings(docs, "2026-10-01")}
    assert ("gl7.password_reuse", ("2(9)",)) in found
    assert ("gl7.account_lockout", ("2(5)",)) in found
    assert ("gl7.account_lockout", ("2(10)",)) not in found  # はい on the vendor sheet


def test_no_rule_asks_for_periodic_password_changes():
    import re

    from rules.catalog import load_rules

    asking = re.compile(r"定期的(に|な)(パスワード)?(の)?変更|パスワードの?有効期限|有効期限を設定")
    for rule in load_rules(include_disabled=True):
        for text in (rule.title, rule.recommendation, rule.contract_clause, rule.message):
            assert not asking.search(text), (rule.id, text)


def test_gl7_data_is_validated(tmp_path):
    from rules.gl7_data import GL7_DATA, load_gl7
    from rules.schema import ConfigError

    bad = tmp_path / "gl7.yaml"
    bad.write_text(GL7_DATA.read_text(encoding="utf-8").replace("    - two_factor_auth\n", "    - two_factor_authx\n", 1),
                   encoding="utf-8")
    with pytest.raises(ConfigError, match="two_factor_authx"):
        load_gl7(bad)
    bad.write_text(GL7_DATA.read_text(encoding="utf-8").replace("reference_date: 2027-04-01", "reference_date: 来年"),
                   encoding="utf-8")
    with pytest.raises(ConfigError, match="reference_date"):
        load_gl7(bad)


def test_memo_carries_the_update_responsibility_clause_only_where_unstated(docs, tmp_path):
    import datetime as dt

    import docx

    from pipeline.config import ALL_REGISTER_COLUMNS
    from pipeline.memo import build_memos
    from pipeline.register import finding_row, register_frame
    from rules.engine import evaluate

    documents = list(docs.values())
    rows = []
    for f in evaluate(documents, as_of=dt.date(2026, 10, 1)):
        row = {c: "" for c in ALL_REGISTER_COLUMNS} | finding_row(f) | {"status": "未対応"}
        rows.append(row)
    paths = build_memos(tmp_path, documents, register_frame(rows), generated=dt.date(2026, 10, 1))
    text = {p.name: "\n".join(par.text for par in docx.Document(str(p)).paragraphs) for p in paths}
    shirasagi = next(t for n, t in text.items() if "しらさぎ" in n)
    inaho = next(t for n, t in text.items() if "いなほ" in n)
    assert "セキュリティアップデートの責任" in shirasagi and "みなし遵守" in shirasagi
    assert "セキュリティアップデートの責任" not in inaho  # its remark states the vendor applies the updates


# ----------------------------------------------------------------------------- step 3: risk assessment column

def test_risk_assessment_is_kept_across_runs_and_clears_the_flag(gl7_inbox, prefect_harness, tmp_path):
    import datetime as dt
    import shutil

    import pandas as pd
    from openpyxl import load_workbook

    from pipeline.config import REVIEWER_COLUMNS, RISK_ASSESSMENT, RISK_FLAG
    from pipeline.flow import process_inbox

    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    for p in gl7_inbox.glob("*.xlsx"):
        shutil.copy(p, inbox / p.name)
    process_inbox(inbox=inbox, out=out, as_of=dt.date(2026, 10, 1))
    reg = pd.read_parquet(out / "risk_register.parquet")
    assert RISK_ASSESSMENT in REVIEWER_COLUMNS and {RISK_FLAG, RISK_ASSESSMENT} <= set(reg.columns)
    two_factor = reg[(reg["rule_id"] == "unsupported.two_factor_auth") & reg["vendor"].str.contains("いなほ")]
    assert list(two_factor[RISK_FLAG]) == ["要リスク評価"]  # an MDS いいえ
    # A checklist row (not an MDS/SDS いいえ) needs none; a planned はい on an MDS is not an いいえ either.
    assert set(reg.loc[reg["rule_id"] == "gl7.password_reuse", RISK_FLAG]) == {""}
    risk_id = two_factor["risk_id"].iloc[0]

    wb = load_workbook(out / "risk_register.xlsx")
    ws = wb["リスク登録簿"]
    header = [c.value for c in ws[1]]
    assert header.index(RISK_ASSESSMENT) > header.index(RISK_FLAG)
    row = next(r for r in ws.iter_rows(min_row=2) if r[header.index("risk_id")].value == risk_id)
    assert row[header.index(RISK_FLAG)].value == "要リスク評価"
    row[header.index(RISK_ASSESSMENT)].value = "ICカード導入まで端末を職員エリアに限定し、ログを月次で確認する。"
    wb.save(out / "risk_register.xlsx")

    # Every いいえ has a row of the sheet 「リスク評価」, also those no rule reports (no register row for them).
    inaho = _inaho_sheet(out)
    assert set(RECORDED_ASSESSMENTS) | {"4.3.1", TWO_FACTOR} <= set(inaho)
    assert {r["状態"] for r in inaho.values()} == {"要リスク評価"}
    assert inaho[TWO_FACTOR]["リスクID"] == risk_id
    register_items = {i for ids in reg.loc[reg["vendor"].str.contains("いなほ"), "item_ids"] for i in ids.split(", ")}
    assert not set(RECORDED_ASSESSMENTS) & register_items
    fill_sheet_rows(out / "risk_register.xlsx", "リスク評価",
                    {inaho[i]["評価ID"]: {RISK_ASSESSMENT: text, "評価者": "情報システム課", "評価日": "2026-10-01"}
                     for i, text in RECORDED_ASSESSMENTS.items()}, key="評価ID")

    process_inbox(inbox=inbox, out=out, as_of=dt.date(2026, 10, 2))
    assert len(pd.read_parquet(out / "risk_register.parquet")) == len(reg)  # the sheet adds no register row
    inaho2 = _inaho_sheet(out)
    for item_id, text in RECORDED_ASSESSMENTS.items():
        assert (inaho2[item_id][RISK_ASSESSMENT], inaho2[item_id]["状態"]) == (text, "記録済み")
        assert inaho2[item_id]["評価者"] == "情報システム課" and inaho2[item_id]["評価ID"] == inaho[item_id]["評価ID"]
    assert inaho2["4.3.1"]["状態"] == "要リスク評価" and not inaho2["4.3.1"][RISK_ASSESSMENT]
    # the assessment written in the register row of the same item counts as recorded too
    assert inaho2[TWO_FACTOR]["状態"] == "記録済み" and "ICカード" in inaho2[TWO_FACTOR]["登録簿のリスク評価"]
    table = pd.read_parquet(out / "risk_assessments.parquet")
    assert set(table.loc[table["状態"] == "記録済み", RISK_ASSESSMENT]) >= set(RECORDED_ASSESSMENTS.values())
    reg2 = pd.read_parquet(out / "risk_register.parquet").set_index("risk_id")
    assert reg2.loc[risk_id, RISK_ASSESSMENT] == "ICカード導入まで端末を職員エリアに限定し、ログを月次で確認する。"
    assert reg2.loc[risk_id, RISK_FLAG] == "記録済み"
    ws2 = load_workbook(out / "risk_register.xlsx")["リスク登録簿"]
    header2 = [c.value for c in ws2[1]]
    row2 = next(r for r in ws2.iter_rows(min_row=2, values_only=True) if r[header2.index("risk_id")] == risk_id)
    assert row2[header2.index(RISK_FLAG)] == "記録済み" and "ICカード" in row2[header2.index(RISK_ASSESSMENT)]

    # ------------------------------------------------------------------ step 4: the evidence pack
    _check_inspection_pack(out, risk_id, tmp_path)

    # A newer version of the MDS: 4.1/物理媒体 is はい now. Its row keeps the text, marked 過去の版のみ.
    build_gl7_resubmission(inbox)
    process_inbox(inbox=inbox, out=out, as_of=dt.date(2026, 10, 3))
    inaho3 = _inaho_sheet(out)
    gone = inaho3["4.1/物理媒体"]
    assert (gone["現行"], gone[RISK_ASSESSMENT], gone["状態"]) == (
        "過去の版のみ", RECORDED_ASSESSMENTS["4.1/物理媒体"], "記録済み")
    kept = inaho3["4.1/生体認証"]
    assert kept["現行"] == "現行" and kept["ファイル"] == "いなほシステム_MDS_改訂.xlsx"
    assert kept[RISK_ASSESSMENT] == RECORDED_ASSESSMENTS["4.1/生体認証"] and kept["状態"] == "記録済み"
    noes = {(r["ファイル"], r["項目"]) for r in _pack_sheet(out, "いいえとリスク評価")}
    assert ("いなほシステム_MDS_改訂.xlsx", "4.1/生体認証") in noes
    assert not any(item == "4.1/物理媒体" and "いなほ" in file for file, item in noes)


def _inaho_sheet(out) -> dict[str, dict]:
    """The sheet 「リスク評価」 of the register workbook: the rows of 株式会社いなほシステム by item id."""
    from openpyxl import load_workbook

    rows = list(load_workbook(out / "risk_register.xlsx")["リスク評価"].iter_rows(values_only=True))
    sheet = [{h: ("" if v is None else v) for h, v in zip(rows[0], r)} for r in rows[1:]]
    return {r["項目"]: r for r in sheet if "いなほ" in r["事業者"]}


def _pack_sheet(out, name) -> list[dict]:
    from openpyxl import load_workbook

    rows = list(load_workbook(out / "inspection" / "立入検査資料.xlsx")[name].iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def _check_inspection_pack(out, risk_id, tmp_path):
    import hashlib

    from openpyxl import load_workbook
    from typer.testing import CliRunner

    from pipeline.cli import app

    pack = out / "inspection" / "立入検査資料.xlsx"
    html = out / "inspection" / "index.html"
    assert pack.is_file() and html.is_file()  # written by every run
    first_html = html.read_text(encoding="utf-8")
    wb = load_workbook(pack)
    assert wb.sheetnames == ["受領書類", "チェックリスト回答", "いいえとリスク評価", "契約条項"]

    def sheet(name):
        rows = list(wb[name].iter_rows(values_only=True))
        return [dict(zip(rows[0], r)) for r in rows[1:]]

    received = {r["ファイル"]: r for r in sheet("受領書類")}
    mds = received["しらさぎ医療ソフト_MDS_GL7.xlsx"]
    src = out.parent / "inbox" / "processed" / "しらさぎ医療ソフト_MDS_GL7.xlsx"
    assert mds["SHA-256"] == hashlib.sha256(src.read_bytes()).hexdigest()
    assert mds["ガイドラインの版"] == "7.0" and mds["作成日"] == "2026-08-03" and len(mds["受領日"]) == 10
    assert received["しらさぎ医療ソフト_事業者確認用_R8.xlsx"]["様式の版"] == "令和8年度"
    answers = [r for r in sheet("チェックリスト回答") if r["ファイル"].startswith("しらさぎ")]
    tfa = next(r for r in answers if r["項目"] == "2(11)")
    assert (tfa["1回目"], tfa["確認日"], tfa["対応目標日"]) == ("いいえ", "2026-07-14", "2027-03-19")
    noes = {(r["ファイル"], r["項目"]): r for r in sheet("いいえとリスク評価")}
    recorded = noes[("いなほシステム_MDS.xlsx", "4.1/上記のうちの二要素を組み合わせた認証")]
    assert risk_id in recorded["リスクID"] and "ICカード" in recorded["リスク評価"]
    unrecorded = noes[("いなほシステム_MDS.xlsx", "4.3.1")]  # an いいえ no rule reports: still listed
    assert unrecorded["リスク評価"] == "未記録" and unrecorded["備考"].startswith("利用者による確認画面")
    sheet_only = noes[("いなほシステム_MDS.xlsx", "4.1/生体認証")]  # recorded in the sheet 「リスク評価」
    assert sheet_only["リスク評価"] == RECORDED_ASSESSMENTS["4.1/生体認証"] and sheet_only["評価者"] == "情報システム課"
    assert sheet_only["評価ID"].startswith("A-")
    clauses = sheet("契約条項")
    assert any(r["リスクID"] == risk_id and r["対応状況"] == "未対応" and "二要素認証" in r["求める契約条項"]
               for r in clauses)

    # `mdsgap inspection` rewrites the same content from the store.
    result = CliRunner().invoke(app, ["inspection", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert html.read_text(encoding="utf-8") == first_html
    text = html_to_pdf_text(html, tmp_path) if CHROMIUM else first_html
    assert "立入検査資料" in text and "未記録" in text and "いなほシステム" in text


def test_needs_risk_assessment_follows_the_betsushi_list(docs):
    from rules.checks_gl7 import needs_risk_assessment

    import copy

    mds = copy.deepcopy(_doc(docs, "いなほ"))
    assert needs_risk_assessment(mds, mds.item("4.1/上記のうちの二要素を組み合わせた認証"))  # いいえ
    assert not needs_risk_assessment(mds, mds.item("4.1/その他"))  # 対象外
    assert not needs_risk_assessment(mds, mds.item("5"))  # はい
    mds.item("5").answer, mds.item("5").answer_status = "", "unanswered"  # a 別紙 item left blank
    assert needs_risk_assessment(mds, mds.item("5"))
    checklist = _doc(docs, "事業者確認用_R8")
    assert not any(needs_risk_assessment(checklist, i) for i in checklist.items)


def test_assessment_sheet_keeps_what_the_reviewer_wrote(docs, tmp_path):
    """The sheet 「リスク評価」 on its own: the workbook wins, the store keeps a copy, a vanished item keeps its text."""
    import datetime as dt

    from pipeline.register import open_workbooks, write_register_xlsx
    from pipeline.risk_sheet import update_assessments
    from pipeline.store import Store

    documents = list(docs.values())
    xlsx = tmp_path / "risk_register.xlsx"
    with Store.open(tmp_path) as store:
        first = update_assessments(store, documents, [], [], dt.date(2026, 10, 1))
        ids = {(r["事業者"], r["項目"]): r["評価ID"] for r in first.rows}
        assert len(ids) == len(first.rows)  # one row per vendor, product, form and item
        assert {r["状態"] for r in first.rows} == {"要リスク評価"} and any("要リスク評価" in w for w in first.warnings)
        write_register_xlsx([], xlsx, first.add_to)
        bio = ids[("株式会社いなほシステム", "4.1/生体認証")]
        other = ids[("株式会社しらさぎ医療ソフト", "4.1/生体認証")]
        fill_sheet_rows(xlsx, "リスク評価", {bio: {"リスク評価": "=生体認証は使わない運用", "評価日": "2026-10-01"}},
                        key="評価ID")

        books = open_workbooks([xlsx])
        second = {r["評価ID"]: r for r in update_assessments(store, documents, [], books, dt.date(2026, 10, 2)).rows}
        assert second[bio]["リスク評価"] == "=生体認証は使わない運用"  # typed text, kept as text
        assert second[bio]["状態"] == "記録済み" and second[other]["状態"] == "要リスク評価"
        assert second[bio]["初回検出"] == "2026-10-01" and second[bio]["最終確認"] == "2026-10-02"

        xlsx.unlink()  # the workbook is lost: the store's copy is used
        third = {r["評価ID"]: r for r in update_assessments(store, documents, [], [], dt.date(2026, 10, 3)).rows}
        assert third[bio]["リスク評価"] == "=生体認証は使わない運用"

        # The vendor's MDS is gone from the current documents: the written row stays (過去の版のみ), the others go.
        rest = [d for d in documents if "いなほ" not in d.vendor]
        fourth = {r["評価ID"]: r for r in update_assessments(store, rest, [], [], dt.date(2026, 10, 4)).rows}
        assert fourth[bio]["現行"] == "過去の版のみ" and fourth[bio]["リスク評価"] == "=生体認証は使わない運用"
        assert fourth[bio]["状態"] == "記録済み" and fourth[other]["現行"] == "現行"
        assert not any(r["事業者"] == "株式会社いなほシステム" and r["評価ID"] != bio for r in fourth.values())
        assert set(store.assessment_rows()) == set(fourth)


def test_assessment_id_is_stable_across_name_spellings(docs):
    import copy

    from pipeline.risk_sheet import assessment_id

    mds = _doc(docs, "いなほ")
    respelled = copy.deepcopy(mds)
    respelled.vendor, respelled.product = "㈱ いなほシステム", "いなほ\n検査システム"
    respelled.sha256 = "0" * 64  # other bytes (and document id)
    assert assessment_id(respelled, "4.3.1") == assessment_id(mds, "4.3.1") != assessment_id(mds, "4.3.2")
    respelled.family = "sds"
    assert assessment_id(respelled, "4.3.1") != assessment_id(mds, "4.3.1")


def test_a_written_row_without_its_id_is_reported(docs, tmp_path):
    import datetime as dt

    import openpyxl

    from pipeline.register import open_workbooks, write_register_xlsx
    from pipeline.risk_sheet import update_assessments
    from pipeline.store import Store

    xlsx = tmp_path / "risk_register.xlsx"
    with Store.open(tmp_path) as store:
        first = update_assessments(store, list(docs.values()), [], [], dt.date(2026, 10, 1))
        write_register_xlsx([], xlsx, first.add_to)
        wb = openpyxl.load_workbook(xlsx)
        ws = wb["リスク評価"]
        head = [c.value for c in ws[1]]
        ws.append({head.index("リスク評価") + 1: "行を追加して書いた評価"})  # a row the reviewer added by hand
        wb.save(xlsx)
        second = update_assessments(store, list(docs.values()), [], open_workbooks([xlsx]), dt.date(2026, 10, 2))
    assert any(f"{ws.max_row} 行目は評価IDが空欄" in w for w in second.warnings)
