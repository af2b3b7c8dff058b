"""Vendors whose MDS/SDS (and one checklist) arrive as Word files."""
from __future__ import annotations

from samples.office_docx import DocxStyle
from samples.spec import (APPL, NA, NO, NOT_APPL, YES, Submission, checklist_items, footnote, mds_items,
                          set_answer)
from samples.vendors import MDS52_TITLE, SDS52_TITLE, SDS60_TITLE, CL_TITLE, TWO_FACTOR, clean_remarks

DOCX_STYLES = {
    # D: one answer cell 「■はい □いいえ □対象外」, header table, 備考記載欄 as a second table.
    "D_mds": DocxStyle(mode="glyph_inline", glyphs=("■", "□"), columns=("num", "q", "answer", "remark"),
                       header_pos="table", footnotes="table", font="ＭＳ 明朝"),
    # E: 「☑はい ☐いいえ ☐対象外」 with the number inside the question; header fields only in the page footer.
    "E_sds": DocxStyle(mode="glyph_inline", glyphs=("☑", "☐"), columns=("q", "answer", "remark"),
                       labels={"q": "チェック項目", "answer": "回答欄", "remark": "備考（補足説明）"},
                       header_pos="footer", font="游明朝", section_rows=False),
    # H: legacy FORMCHECKBOX fields in はい/いいえ/対象外 columns; header fields as paragraphs.
    "H_mds": DocxStyle(mode="formcheckbox", columns=("num", "q", YES, NO, NA, "remark"), header_pos="paragraph",
                       font="ＭＳ ゴシック", landscape=True),
    # Z (clean): w14 checkbox content controls in option columns.
    "Z_sds": DocxStyle(mode="sdt_checkbox", columns=("num", "q", YES, NO, NA, "remark"), header_pos="table",
                       font="游ゴシック", landscape=True),
    # D checklist: only the chosen word left with its date.
    "D_cl": DocxStyle(mode="chosen_word", font="ＭＳ 明朝"),
}


def vendor_d():
    items = mds_items("jahis-mds-4.1", answers={"4.1/物理媒体": YES, TWO_FACTOR: YES, "7": NA,
                                                "12.4": NOT_APPL, "12.4.1": NA})
    mds = Submission(
        file="東邦メディカルシステム_開示書(MDS)_検体検査システム.docx", convention="docx-glyph-inline(■□)+footnote-table",
        family="mds", form_id="jahis-mds-4.1", form_version="GL5.2", vendor="東邦メディカルシステム株式会社",
        vendor_key="toho", product="TOHO-LIS 検体検査システム", product_version="7.0", created="",
        title=MDS52_TITLE, items=items, deployment="on_premise",
        header_fields={"製造業者": "東邦メディカルシステム株式会社", "作成日": "",
                       "製品名称": "TOHO-LIS 検体検査システム", "バージョン": "7.0"})
    footnote(mds, "2", "1", "第三者に対する対策が必要な場合は、市販の覗き見防止フィルム等の利用をご検討ください。")
    footnote(mds, "3", "2", "離席時に自動で画面をロックする機能は有しておりません。")
    footnote(mds, "7", "3", "無線LAN環境を提供しておりません。")
    footnote(mds, "12.3.1.1/専用線", "4", "弊社提供のリモート接続では、NTTフレッツ光データコネクト回線を標準としています。")
    mds.plant("missing_remark", [TWO_FACTOR], "二要素認証 はい だが具体的な組み合わせの記載がない")
    mds.plant("responsibility_shift", ["2"], "覗き見防止フィルムの利用を医療機関に求める")
    mds.plant("remark_contradiction", ["3"], "はい だが「…機能は有しておりません」")
    mds.plant("incomplete", [], "作成日が空欄")
    mds.plant("stale_document", [], "ガイドライン第5.2版の様式")

    cl_items = checklist_items("mhlw-checklist-r5-vendor", "2023-08-02")
    it = next(i for i in cl_items if i.item_id == "2(5)")
    it.answer, it.answer_status, it.marked, it.first_date = "", "unanswered", (), ""
    cl = Submission(
        file="東邦メディカルシステム_事業者確認用チェックリスト.docx", convention="docx-checklist-chosen-word",
        family="checklist_vendor", form_id="mhlw-checklist-r5-vendor", form_version="令和5年度",
        vendor="東邦メディカルシステム(株)", vendor_key="toho", title=CL_TITLE, items=cl_items, fiscal_year=2023,
        header_fields={"事業者名": "東邦メディカルシステム(株)", "年度": "令和5年度"})
    cl.plant("incomplete", ["2(5)"], "テンプレートのまま「はい・いいえ (　/　)」で未回答")
    return [(mds, "D_mds"), (cl, "D_cl")]


def vendor_e():
    items = mds_items("jahis-sds-4.1", answers={"12.4": NOT_APPL, "12.4.1": NA},
                      remarks={"4.3.1": "アクセスログは、管理者が、サーバ上で確認できます。",
                               "9": "外部入出力装置の制御は上位システムの管理に依存します。"})
    sds = Submission(
        file="ミライ予約問診クラウド_SDS.docx", convention="docx-glyph-inline(☑☐)+header-in-footer",
        family="sds", form_id="jahis-sds-4.1", form_version="GL5.2", vendor="株式会社ミライヘルスケア",
        vendor_key="mirai", product="ミライ予約・問診クラウド", product_version="4.2", created="2025-10-01",
        title=SDS52_TITLE, items=items, deployment="cloud",
        header_fields={"サービス事業者": "株式会社ミライヘルスケア", "作成日": "2025年10月1日",
                       "サービス名称": "ミライ予約・問診クラウド", "バージョン": "4.2"})
    sds.plant("limitation", ["4.3.1"], "利用者ではなく管理者がサーバ上でのみ確認できる")
    sds.plant("responsibility_shift", ["9"], "「上位システムの管理に依存します」")
    sds.plant("stale_document", [], "ガイドライン第5.2版の様式")
    return [(sds, "E_sds")]


def vendor_h():
    items = mds_items("jahis-mds-4.1", answers={
        "12": NOT_APPL, "12.1": NA, "12.2": NA, "12.3": NA, "12.3.1": NA, "12.3.2": NA, "12.4": NOT_APPL,
        "12.4.1": NA, "12.3.1.1/IP-VPN": NOT_APPL, "12.3.1.1/TLS1.2以上": NOT_APPL},
        remarks={"12": "院内ネットワークのみで運用し、外部との通信機能は有しておりません。"})
    mds = Submission(
        file="ユニメディカル_MDS_透析管理システム.docx", convention="docx-formcheckbox",
        family="mds", form_id="jahis-mds-4.1", form_version="GL5.2", vendor="株式会社ユニメディカル",
        vendor_key="unimedical", product="UNI-Dialysis 透析管理システム", product_version="2.4",
        created="2022-03-01", title=MDS52_TITLE, items=items, deployment="on_premise",
        header_fields={"製造業者": "株式会社ユニメディカル", "作成日": "2022年3月1日",
                       "製品名称": "UNI-Dialysis 透析管理システム", "バージョン": "2.4"})
    set_answer(mds.items, "4.2", "", status="ambiguous", marked=(YES, NA))
    mds.plant("ambiguous_answer", ["4.2"], "はい と 対象外 の両方にチェック")
    mds.plant("stale_document", [], "作成日 2022-03-01 は2年以上前、かつガイドライン第5.2版の様式")
    return [(mds, "H_mds")]


def vendor_z():
    items = mds_items("jahis-sds-5.0", answers={
        "4.1/生体認証": YES, "4.1/物理媒体": YES, TWO_FACTOR: YES, "4.1/その他": NO,
        "12.3.1.1/IPsec-VPN": APPL}, remarks=clean_remarks())
    sds = Submission(
        file="クリアメディカル_SDS_ver5.0_クラウド電子カルテ.docx", convention="docx-w14-checkbox(clean control)",
        family="sds", form_id="jahis-sds-5.0", form_version="GL6.0", vendor="株式会社クリアメディカル",
        vendor_key="clearmedical", product="CLEAR クラウド電子カルテ", product_version="2025.2",
        created="2025-09-01", title=SDS60_TITLE, items=items, deployment="cloud",
        header_fields={"サービス事業者": "株式会社クリアメディカル", "作成日": "2025年9月1日",
                       "サービス名称": "CLEAR クラウド電子カルテ", "バージョン": "2025.2"})
    return [(sds, "Z_sds")]


def docx_samples():
    out = []
    for make in (vendor_d, vendor_e, vendor_h, vendor_z):
        for sub, key in make():
            out.append((sub, "docx", DOCX_STYLES[key]))
    return out



