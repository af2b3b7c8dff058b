"""Which tables are device ledgers (機器台帳): the kind of header and a list of devices, not a file or a word list.

Every ledger here is our own invented file (XLSX written with openpyxl, CSV bytes in Shift_JIS or UTF-8), read by
the real readers; the non-ledgers are tables a vendor form or a hospital office could hold.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from extractors import extract
from extractors.ledger import read_ledger
from extractors.model import Device, Document, ExtractionError
from extractors.readers import read
from rules.device_match import DocumentIndex


def _xlsx(path: Path, rows: list[list], merges: tuple[str, ...] = ()) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台帳"
    for row in rows:
        ws.append(row)
    for rng in merges:
        ws.merge_cells(rng)
    wb.save(path)
    return path


def _ledger_or_none(path: Path) -> Document | None:
    return read_ledger(read(path), "0" * 64)


def test_merged_two_row_header_without_maker_column(tmp_path):
    path = _xlsx(tmp_path / "設備一覧.xlsx", [
        ["検査部門 設備一覧（令和8年4月）"],
        ["番号", "装置名称", "配置", "", "基本ソフト(OS)", "運用", "", "メモ"],
        ["", "", "部署", "部屋", "", "ネットワーク接続", "保守事業者", ""],
        [1, "自動分析装置", "検査科", "検体室", "Windows 7 Professional", "有", "ひたき理化サービス", ""],
        [2, "血液ガス分析装置", "救急外来", "処置室", "Windows 10 IoT Enterprise LTSC 2021", "無", "", "単独運用"],
        [3, "尿分析装置", "検査科", "検体室", "不明", "有", "つぐみメンテナンス(株)", ""],
    ], merges=("A2:A3", "B2:B3", "C2:D2", "E2:E3", "F2:G2", "H2:H3"))
    doc = extract(path)
    assert doc.family == "device_ledger" and not doc.items
    assert [d.device_name for d in doc.devices] == ["自動分析装置", "血液ガス分析装置", "尿分析装置"]
    assert [d.row for d in doc.devices] == [4, 5, 6]
    first, second, third = doc.devices
    assert (first.department, first.os_raw, first.network) == ("検査科", "Windows 7 Professional", "有")
    # no maker column: the vendor is the maintenance vendor, said so, never a silent guess
    assert (first.vendor, first.maintenance_vendor, first.vendor_from) == ("ひたき理化サービス",) * 2 + (
        "maintenance_vendor",)
    assert third.vendor == "つぐみメンテナンス(株)" and third.vendor_from == "maintenance_vendor"
    assert second.vendor == "" and second.needs_review and "製造業者" in second.review_reason
    assert first.extra.get("配置 部屋") == "検体室" and first.location.cell == "B4"


def test_shift_jis_csv_ledger(tmp_path):
    lines = ["機器名,OS,設置場所,保守事業者,ネットワーク接続,リモート保守",
             "透析用監視装置①,Windows 8.1,透析室,かわせみ医工サービス,有,有",
             "内視鏡画像ファイリング,Win10 Pro 22H2,内視鏡室,かわせみ医工サービス,有,無",
             "院内掲示用端末,Windows 11 23H2,総合受付,,有,無"]
    path = tmp_path / "機器一覧_透析.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp932"))
    doc = extract(path)
    assert doc.family == "device_ledger"
    assert read(path).tables[0].rows[1][0].text == "透析用監視装置①"  # decoded as Shift_JIS (cp932)
    # ledger text is NFKC-normalised like every extracted text (① -> 1)
    assert [d.device_name for d in doc.devices] == ["透析用監視装置1", "内視鏡画像ファイリング", "院内掲示用端末"]
    assert [d.row for d in doc.devices] == [2, 3, 4] and doc.devices[0].location.cell == "A2"
    assert [d.vendor for d in doc.devices] == ["かわせみ医工サービス", "かわせみ医工サービス", ""]
    assert doc.devices[0].remote_maintenance == "有" and doc.devices[1].os_raw == "Win10 Pro 22H2"


def test_only_name_os_place_and_maintenance_vendor(tmp_path):
    path = _xlsx(tmp_path / "端末.xlsx", [
        ["機器名", "OS", "設置場所", "保守事業者"],
        ["放射線読影端末A", "Windows 10 Enterprise LTSC 2019", "読影室", "もずシステムサポート"],
        ["放射線読影端末B", "Windows 10 Enterprise LTSC 2019", "読影室", "もずシステムサポート"],
    ])
    doc = extract(path)
    assert doc.family == "device_ledger" and len(doc.devices) == 2
    assert {(d.vendor, d.vendor_from, d.department) for d in doc.devices} == {
        ("もずシステムサポート", "maintenance_vendor", "読影室")}


def test_maker_written_stays_the_vendor(tmp_path):
    path = _xlsx(tmp_path / "台帳.xlsx", [
        ["装置名", "メーカー", "OS", "保守事業者"],
        ["眼圧計", "うぐいす光学", "Windows 10 22H2", "うぐいすサービス"],
        ["視野計", "", "Windows 10 22H2", "うぐいすサービス"],
    ])
    doc = extract(path)
    assert [(d.vendor, d.vendor_from) for d in doc.devices] == [
        ("うぐいす光学", ""), ("うぐいすサービス", "maintenance_vendor")]


@pytest.mark.parametrize("rows", [
    # a form's question table: item / question / answer columns, with OS and product in its header fields
    [["製品名：", "ほたる検査システム", "OS：", "Windows 10"],
     ["No.", "確認項目", "回答", "備考"],
     ["1", "機器名と設置場所を台帳で管理しているか", "はい", ""],
     ["2", "OS のサポート終了時期を説明しているか", "いいえ", ""]],
    # header fields written across a row (key, value, key, value) above a question list
    [["製造業者", "ほたる医科", "製品名", "ほたる検査システム", "OS", "Windows 10 22H2"],
     ["型番", "HT-1", "作成日", "2026/04/01", "保守事業者", "ほたるサービス"],
     ["1", "ログを取得しているか", "はい", "", "", ""],
     ["2", "ウイルス対策ソフトを導入しているか", "はい", "", "", ""]],
    # ledger words in a header that asks and answers: a checklist, not a list of devices
    [["機器名", "OS", "設置場所", "回答"],
     ["電子カルテ端末", "Windows 11", "外来", "はい"],
     ["検査端末", "Windows 10", "検査科", "いいえ"]],
    # a maintenance-contract list: departments and vendors, but no device named
    [["契約名", "保守事業者", "設置場所", "契約期間", "リモート保守"],
     ["検査機器保守", "ほたるサービス", "検査科", "2026/4-2027/3", "有"],
     ["画像機器保守", "かわせみ医工サービス", "放射線科", "2026/4-2027/3", "無"]],
    # the devices named by answer words: a table of answers, not of devices
    [["機器名", "OS", "ネットワーク接続"],
     ["はい", "Windows 10", "有"],
     ["いいえ", "Windows 11", "無"]],
    # a ledger header with a single row under it: not a list of devices
    [["機器名", "OS", "設置場所", "保守事業者"],
     ["心電図解析装置", "Windows 10 22H2", "生理検査室", "ほたるサービス"]],
])
def test_tables_that_are_not_ledgers(tmp_path, rows):
    path = _xlsx(tmp_path / "表.xlsx", rows)
    assert _ledger_or_none(path) is None
    try:
        doc = extract(path)
    except ExtractionError as err:
        assert err.kind == "not_a_form"
    else:
        assert doc.family != "device_ledger"


def test_a_maker_document_matched_through_the_maintenance_vendor_is_uncertain():
    mds = Document(source_file="m.xlsx", sha256="a" * 64, family="mds", vendor="ひたき理化株式会社",
                   product="HT-分析システム")
    checklist = Document(source_file="c.xlsx", sha256="b" * 64, family="checklist_vendor",
                         vendor="ひたき理化株式会社")
    device = Device(row=4, device_name="自動分析装置", vendor="ひたき理化(株)", maintenance_vendor="ひたき理化(株)",
                    vendor_from="maintenance_vendor")
    matches = DocumentIndex([mds, checklist]).match(device).matches
    by_role = {(m.role, m.document.family): m for m in matches}
    assert set(by_role) == {("maker", "mds"), ("maintenance", "checklist_vendor")}
    assert by_role[("maker", "mds")].uncertain and "保守事業者名で照合" in by_role[("maker", "mds")].reason
    assert not by_role[("maintenance", "checklist_vendor")].uncertain


def test_no_maker_column_findings_are_review_items_where_the_maker_is_a_guess(tmp_path):
    """A networked, remotely maintained device of a ledger without maker: the maintenance vendor's MDS cannot
    prove the device covered (the review item says why); its missing checklist is certain."""
    from rules.engine import evaluate
    from tests.office_files import small_mds

    ledger = extract(_xlsx(tmp_path / "機器.xlsx", [
        ["機器名", "OS", "設置場所", "保守事業者", "ネットワーク接続", "リモート保守"],
        ["眼科検査装置", "Windows 10 22H2", "眼科", "ひたき理化株式会社", "有", "有"],
        ["視力表示端末", "Windows 10 22H2", "眼科", "ひたき理化株式会社", "無", "無"],
    ]))
    mds_path = tmp_path / "mds.xlsx"
    mds_path.write_bytes(small_mds("ひたき理化株式会社", "ひたき眼科ファイリング"))
    mds = extract(mds_path)
    assert mds.family == "mds"
    findings = evaluate([mds], as_of=dt.date(2026, 6, 1), ledgers=[ledger])
    mine = {f.rule_id: f for f in findings if "機器:眼科検査装置" in f.item_ids}
    assert set(mine) == {"device_eol.os_past_support", "missing_document.device_disclosure_missing",
                         "missing_document.device_maintenance_checklist_missing"}
    disclosure = mine["missing_document.device_disclosure_missing"]
    assert disclosure.needs_review and "保守事業者" in disclosure.evidence
    assert not mine["missing_document.device_maintenance_checklist_missing"].needs_review
    assert not any("機器:視力表示端末" in f.item_ids and f.category == "missing_document" for f in findings)


def test_device_names_that_hold_ledger_or_flag_words_are_devices(tmp_path):
    path = _xlsx(tmp_path / "ネットワーク機器.xlsx", [
        ["ホスト名", "OS", "設置場所", "保守業者", "ネットワーク接続"],
        ["ネットワークカメラ", "不明", "駐車場", "しじゅうから通信", "有"],
        ["有線LANスイッチ", "-", "サーバ室", "しじゅうから通信", "有"],
        ["OS更新サーバ", "Windows Server 2019", "サーバ室", "しじゅうから通信", "有"],
    ])
    doc = extract(path)
    assert doc.family == "device_ledger"
    assert [d.device_name for d in doc.devices] == ["ネットワークカメラ", "有線LANスイッチ", "OS更新サーバ"]


def test_a_vulnerability_matched_through_the_maintenance_vendor_is_uncertain(tmp_path):
    """A ledger with 製品名 and 保守事業者 but no maker: a feed entry of that vendor and product is a review item;
    the OS match does not depend on the maker and stays certain."""
    import json

    from rules.vuln_match import FeedIndex, device_matches

    feed_path = tmp_path / "nvd_page.json"
    vulns = [{"cve": {"id": cid, "descriptions": [{"lang": "en", "value": "invented"}],
                      "metrics": {"cvssMetricV31": [{"type": "Primary", "cvssData": {"baseScore": 9.1}}]},
                      "configurations": [{"nodes": [{"cpeMatch": [{"vulnerable": True, "criteria": cpe}]}]}]}}
             for cid, cpe in (("CVE-2099-41001", "cpe:2.3:a:kogera_giken:wardview:*:*:*:*:*:*:*:*"),
                              ("CVE-2099-41002", "cpe:2.3:o:redhat:enterprise_linux:8.0:*:*:*:*:*:*:*"))]
    feed_path.write_text(json.dumps({"format": "NVD_CVE", "version": "2.0", "vulnerabilities": vulns}),
                         encoding="utf-8")
    index = FeedIndex([extract(feed_path)])
    written = Device(row=2, vendor="Kogera Giken", product="WardView", os_raw="RHEL 8.6")
    guessed = Device(row=3, vendor="Kogera Giken", maintenance_vendor="Kogera Giken", product="WardView",
                     os_raw="RHEL 8.6", vendor_from="maintenance_vendor")
    certain = {m.vuln_id: m.certain for m in device_matches(index, written, "RHEL", "8", {})}
    assert certain == {"CVE-2099-41001": True, "CVE-2099-41002": True}
    found = {m.vuln_id: m for m in device_matches(index, guessed, "RHEL", "8", {})}
    assert not found["CVE-2099-41001"].certain and "保守事業者名で照合" in found["CVE-2099-41001"].reason
    assert found["CVE-2099-41002"].certain


def test_header_roles_are_the_same_looked_up_once_or_again():
    """role_of keeps short labels' roles (every table of every file is tried as a ledger); a label's role is the
    same the first time, the next time, and for a text too long to be kept."""
    from extractors.ledger import role_of

    _role_of = role_of.__wrapped__

    labels = ["機器名", " OS ", "ＯＳ／バージョン", "製造業者", "製品名：", "保守業者", "回答", "", "IPアドレス",
              "設置場所（部署）" * 40]
    for _ in range(2):
        assert [role_of(x) for x in labels] == [_role_of(x) for x in labels]
    assert role_of("機器名") and not role_of("製品名：") and not role_of(labels[-1])
