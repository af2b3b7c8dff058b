"""The fictional vendors and what each of their files says (the truth), with the planted findings.

Reference date for the planted date findings: 2026-11-27. Every vendor except クリアメディカル (the clean
control) carries planted problems, listed in each Submission's `planted`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from samples.spec import (APPL, NA, NO, NOT_APPL, YES, ItemSpec, Submission, checklist_items, copy_item,
                          footnote, mds_items, replace_item, set_answer)

AS_OF = "2026-11-27"
MDS52_TITLE = "「製造業者による医療情報セキュリティ開示書」チェックリスト（医療情報システムの安全管理に関するガイドライン第5.2版対応）"
SDS52_TITLE = "「サービス事業者による医療情報セキュリティ開示書」チェックリスト（医療情報システムの安全管理に関するガイドライン第5.2版対応）"
MDS60_TITLE = "「製造業者による医療情報セキュリティ開示書」チェックリスト Ver.5.0（医療情報システムの安全管理に関するガイドライン第6.0版対応）"
SDS60_TITLE = "「サービス事業者による医療情報セキュリティ開示書」チェックリスト Ver.5.0（医療情報システムの安全管理に関するガイドライン第6.0版対応）"
CL_TITLE = "医療機関におけるサイバーセキュリティ対策チェックリスト\n事業者確認用"
CL7_TITLE = "医療機関等におけるサイバーセキュリティ対策チェックリスト\n事業者確認用"
TWO_FACTOR = "4.1/上記のうちの二要素を組み合わせた認証"


@dataclass
class Sample:
    """One file to build: its truth, the renderer family and the renderer's style."""

    submission: Submission
    fmt: str  # xlsx | docx
    style: Any


def _wareki(iso: str) -> str:
    y, m, d = (int(p) for p in iso.split("-"))
    return f"{y}年{m}月{d}日"


# ====================================================================== A: メディネクスト
def vendor_a() -> list[tuple[Submission, str, str]]:
    items = mds_items("jahis-mds-4.1", answers={"4.3": NO, "4.3.1": NA, "4.3.2": NA, TWO_FACTOR: NO})
    mds = Submission(
        file="【MDS】NEXT-Chart電子カルテ_医療情報セキュリティ開示書_20230721.xlsx",
        convention="xlsx-mark-columns(○)+footnotes-below", family="mds", form_id="jahis-mds-4.1",
        form_version="GL5.2", vendor="株式会社メディネクスト", vendor_key="medinext",
        product="NEXT-Chart 電子カルテシステム", product_version="3.2以降", created="2023-07-21",
        title=MDS52_TITLE, items=items, deployment="on_premise",
        header_fields={"製造業者": "株式会社メディネクスト", "作成日": "2023年7月21日",
                       "製品名称": "NEXT-Chart 電子カルテシステム", "バージョン": "3.2以降"})
    footnote(mds, "1", "1", "ご要求に応じて提出可能です。")
    footnote(mds, "2", "2", "第三者に対する対策が必要な場合は、市販の覗き見防止フィルム等の利用をご検討ください。")
    footnote(mds, "3", "3", "一定時間操作されない時に、ログアウトする機能が有ります。")
    footnote(mds, TWO_FACTOR, "4", "ID/パスワードによる認証に対応しています。二要素認証には対応していません。")
    footnote(mds, "4.3", "5", "アクセスログ機能は有しておりません。")
    footnote(mds, "6", "6", "弊社推奨のウイルス対策ソフトウェアの導入が可能です。パターンファイルの定期更新作業は、"
                            "お客様と作業分担の取り決めを行わせていただきます。")
    footnote(mds, "11", "7", "データベース・ファイルサーバーのHDD冗長化及びバックアップを行います。（オプション）")
    footnote(mds, "12.4", "8", "弊社提供のリモートメンテナンスでは、IP-VPN回線を標準としています。")
    footnote(mds, "12.4.1", "9", "")
    set_answer(mds.items, "9", "", status="ambiguous", marked=(YES, NO))
    mds.plant("unsupported", [TWO_FACTOR, "4.3"], "二要素認証 いいえ、アクセスログ機能 いいえ")
    mds.plant("responsibility_shift", ["2", "6"], "覗き見防止フィルムの検討を病院へ、パターンファイル更新はお客様と作業分担")
    mds.plant("option_dependent", ["11"], "HDD冗長化及びバックアップは（オプション）")
    mds.plant("missing_remark", ["12.4.1"], "備考 9 を参照しているが備考記載欄の 9 は空欄")
    mds.plant("ambiguous_answer", ["9"], "はい と いいえ の両方に○")
    mds.plant("missing_document", ["12.4"], "オンプレミス製品でリモートメンテナンス 該当だが SDS の提出がない")
    mds.plant("stale_document", [], "作成日 2023-07-21 は2年以上前、かつガイドライン第5.2版の様式")

    cl_items = checklist_items("mhlw-checklist-r5-vendor", "2023-09-20",
                               answers={"1(1)": NO, "2(8)": NO},
                               targets={"2(8)": "2024-03-31"}, seconds={"2(8)": (YES, "2024-02-15")},
                               remarks={"2(8)": "保守用ルータの設定変更により対応"})
    cl_items[0].first_date = "2023-10-20"
    cl = Submission(
        file="メディネクスト_事業者確認用チェックリスト_R5.xlsx", convention="xlsx-checklist-combined「はい (9/20)」",
        family="checklist_vendor", form_id="mhlw-checklist-r5-vendor", form_version="令和5年度",
        vendor="株式会社　メディネクスト", vendor_key="medinext", title=CL_TITLE, items=cl_items, fiscal_year=2023,
        header_fields={"事業者名": "株式会社　メディネクスト", "年度": "令和5年度"},
        comment="(1)につきまして、管理責任者の選任について社内で検討中です。")
    cl.plant("checklist_deadline", ["1(1)"], "1回目 いいえ で目標日の記入がない")
    cl.plant("inconsistency", ["2(6)"], "チェックリスト 2(6) アクセスログ管理 はい だが MDS 4.3 アクセスログ機能 いいえ")
    return [(mds, "xlsx", "A_mds"), (cl, "xlsx", "A_cl")]


# ====================================================================== B: 北斗システムズ
def vendor_b():
    printed = {"4.1.1": "４．１．１", "4.1.2": "４．１．２", "12.3.1": "1 2. 3. 1", "12.3.2": "1 2. 3. 2",
               "12.3.1.1": "1 2. 3. 1. 1", "11": "1 1"}
    questions = {"4.2": "利用者の職種・担当業務別の情報区分ごとのアクセス管理機能がるか？",  # dropped character
                 "1": "扱う情報のリストを医療機関に提示できるか？"}
    items = mds_items("jahis-mds-4.1", printed=printed, questions=questions, drop=("4.3.2",), section_style="ref_title",
                      answers={"12": NOT_APPL, "12.4": NOT_APPL, "12.4.1": NA})
    items.append(ItemSpec(item_id="12.5", number_printed="12.5",
                          question="クラウドサービスの稼働状況を利用者に通知する機能があるか？", answer=YES,
                          remark="稼働状況は利用者向けポータルで公開しています。", section=items[-1].section))
    sds = Submission(
        file="北斗システムズ_SDS_検査結果連携クラウド.xlsx", convention="xlsx-dropdown(range on hidden 選択肢)+noise",
        family="sds", form_id="jahis-sds-4.1", form_version="GL5.2", vendor="北斗システムズ株式会社",
        vendor_key="hokuto", product="HOKUTO 検査結果連携クラウド", product_version="2025.1", created="2025-02-14",
        title=SDS52_TITLE.replace("開示書", "指示書", 1), items=items, deployment="cloud",
        header_fields={"サービス事業者": "北斗システムズ株式会社", "作成日": "2025/2/14",
                       "サービス名称": "HOKUTO 検査結果連携クラウド", "バージョン": "2025.1"})
    sds.item("4.1.1").remark = ("ID/パスワードの登録に関する管理機能は有していますが、パスワードの「強度」を管理する機能は"
                                "有しておりません。なお、HIS等基幹システムとの連携、シングルサインオン(SSO)での連携などの"
                                "場合、上位システムの管理に依存します。")
    sds.item("8").remark = "ソフトウェアのインストール制限は病院ポリシーに従います。"
    sds.item("5").remark = "弊社メインサーバとの時刻同期機能を有しております。"
    sds.plant("remark_contradiction", ["4.1.1"], "はい だが「強度を管理する機能は有しておりません」")
    sds.plant("responsibility_shift", ["4.1.1", "8"], "「上位システムの管理に依存します」「病院ポリシーに従います」")
    sds.plant("inconsistency", ["12", "12.1", "12.2", "12.3", "12.3.1"], "12 非該当 なのに 12.x を はい と回答")
    sds.plant("stale_document", [], "ガイドライン第5.2版の様式（第6.0版対応でない）")
    sds.plant("noise", ["4.1.1", "12.3.1", "4.2", "12.5"],
              "全角数字、数字内の空白、設問の脱字、4.3.2 の行欠落、カタログにない 12.5 行、タイトルの「指示書」")

    cl_items = checklist_items("mhlw-checklist-r6-vendor", "2024-08-02",
                               answers={"2(7)": NO}, targets={"2(7)": "2025-03-31"})
    cl = Submission(
        file="【北斗】サイバーセキュリティ対策チェックリスト(事業者確認用)_R6.xlsx",
        convention="xlsx-checklist-combined+device-headings(R6)", family="checklist_vendor",
        form_id="mhlw-checklist-r6-vendor", form_version="令和6年度", vendor="北斗システムズ（株）",
        vendor_key="hokuto", title=CL_TITLE, items=cl_items, fiscal_year=2024,
        header_fields={"事業者名": "北斗システムズ（株）", "年度": "令和6年度"},
        comment="(7) ネットワーク機器につきまして、ファームウェア更新手順を整備中のため、目標日を3月31日としました。")
    cl.plant("checklist_deadline", ["2(7)"], "目標日 2025-03-31 を過ぎても2回目の記入がない")
    return [(sds, "xlsx", "B_sds"), (cl, "xlsx", "B_cl")]


# ====================================================================== C: さくらメディカルソフト
def vendor_c():
    items = mds_items("jahis-mds-4.1", answers={"2": NO, "12.2": NO, "4.1/生体認証": YES, TWO_FACTOR: YES})
    mds = Submission(
        file="SAKURA-PACS_MDS_V5.1.xlsx", convention="xlsx-ellipse-shapes+footnote-sheet", family="mds",
        form_id="jahis-mds-4.1", form_version="GL5.2", vendor="さくらメディカルソフト株式会社",
        vendor_key="sakura", product="SAKURA-PACS 医用画像管理システム", product_version="V5.1",
        created="2024-12-05", title=MDS52_TITLE, items=items, deployment="on_premise",
        header_fields={"製造業者": "さくらメディカルソフト株式会社", "作成日": "2024年12月5日",
                       "製品名称": "SAKURA-PACS 医用画像管理システム", "バージョン": "V5.1"})
    footnote(mds, TWO_FACTOR, "1", "ID・パスワードと静脈認証の組み合わせに対応しています。", "※1")
    footnote(mds, "4.3", "2", "データベースへの直接アクセスに関しては、ログが残りません。", "※2")
    footnote(mds, "10", "3", "持ち出し端末の暗号化は別途有償にて対応いたします。", "※3")
    footnote(mds, "12.4.1", "4", "リモートメンテナンス時のなりすまし対策は、生体認証（静脈認証）になります。", "※4")
    set_answer(mds.items, "4.2", "", status="unanswered")
    mds.plant("limitation", ["4.3"], "はい だが「データベースへの直接アクセスに関しては、ログが残りません。」")
    mds.plant("option_dependent", ["10"], "「別途有償にて対応」")
    mds.plant("unsupported", ["12.2"], "データの暗号化 いいえ")
    # 2 and 12.2 いいえ without a remark: the form asks for no remark there (12.2 is reported as unsupported)
    mds.plant("incomplete", ["4.2"], "4.2 に回答の印がない")
    mds.plant("missing_document", ["12.4"], "オンプレミス製品でリモートメンテナンス 該当だが SDS の提出がない")
    mds.plant("stale_document", [], "ガイドライン第5.2版の様式")

    cl_items = checklist_items("mhlw-checklist-r5-vendor", "2023-09-20",
                               answers={"1(1)": NO}, targets={"1(1)": "2024-06-30"})
    # (3) is split into (3)-1 MDS and (3)-2 SDS, retyped with 「指示書」.
    base3 = next(i for i in cl_items if i.item_id == "2(3)")
    replace_item(cl_items, "2(3)", [
        copy_item(base3, item_id="2(3)-1", number_printed="(3)-1",
                  question="医療機関に製造業者による医療情報セキュリティ指示書（MDS）を提出した。"),
        copy_item(base3, item_id="2(3)-2", number_printed="(3)-2", answer=NO, marked=(NO,),
                  question="医療機関にサービス事業者による医療情報セキュリティ指示書（SDS）を提出した。",
                  target_date="2024-03-31"),
    ])
    for iid, raw in (("2(4)", "="), ("2(5)", "="), ("2(6)", "-"), ("2(7)", "="), ("2(8)", "")):
        it = next(i for i in cl_items if i.item_id == iid)
        it.answer, it.answer_status, it.marked, it.first_date, it.answer_raw = "", "unanswered", (), "", raw
    cl = Submission(
        file="(株)さくらメディカルソフト_チェックリスト_事業者確認用.xlsx",
        convention="xlsx-checklist-split-cells(real dates, =/- N/A)", family="checklist_vendor",
        form_id="mhlw-checklist-r5-vendor", form_version="令和5年度", vendor="(株)さくらメディカルソフト",
        vendor_key="sakura", title=CL_TITLE.replace("事業者確認用", "事業者用"), items=cl_items, fiscal_year=2023,
        header_fields={"事業者名": "(株)さくらメディカルソフト", "年度": "令和5年度"},
        comment=("(1)につきまして、弊社が医療情報システム・サービス事業者に該当するかを社内検討中です。"
                 "(3)-2につきまして、SDSの作成を検討中ですので、目標日は3月31日にしました。"
                 "(4)～(8)につきまして、施設ご提供・設定の機器を利用しており、弊社ではリモートメンテナンス用の"
                 "ルーターを設置していませんので、回答していません。"))
    cl.plant("checklist_deadline", ["1(1)", "2(3)-2"], "目標日 2024-06-30 が令和5年度外、(3)-2 は目標日経過後も2回目なし")
    cl.plant("incomplete", ["2(4)", "2(5)", "2(6)", "2(7)", "2(8)"], "「=」「-」空欄で回答なし（理由はコメント）")
    cl.plant("responsibility_shift", ["2(4)", "2(5)", "2(6)", "2(7)", "2(8)"], "「施設ご提供・設定の機器を利用」")
    return [(mds, "xlsx", "C_mds"), (cl, "xlsx", "C_cl")]


# ====================================================================== F: アオバ画像システム (GL6.0, shifted numbering)
def _shift(number: str) -> str:
    head, *rest = number.split(".")
    return ".".join([str(int(head) + 1)] + rest) if int(head) >= 2 else number


def vendor_f():
    from extractors.forms import get_form

    renumber = {c.id: _shift(c.id) for c in get_form("jahis-mds-5.0").items if not c.parent}
    questions = {"4.3": "アクセス記録（アクセスログ）機能があるか？", "7": "無線LANを利用する場合のセキュリティ対策機能はあか？"}
    items = mds_items("jahis-mds-5.0", renumber=renumber, questions=questions, with_ref=False,
                      answers={TWO_FACTOR: NO, "12.4": NOT_APPL, "12.4.1": NA})
    new2 = ItemSpec(item_id="2", number_printed="2",
                    question="医療情報システムを構成する機器（サーバ、端末、ネットワーク機器）の一覧を提示できるか？",
                    answer=YES, remark="導入時に機器構成表を提出します。", section=items[1].section)
    items.insert(1, new2)
    mds = Submission(
        file="AOBA-View_開示書_GL6.0.xlsx", convention="xlsx-mark-columns(レ)+GL6.0-shifted-numbering", family="mds",
        form_id="jahis-mds-5.0", form_version="GL6.0", vendor="アオバ画像システム株式会社", vendor_key="aoba",
        product="AOBA-View 内視鏡画像ファイリング", product_version="6.1", created="2025-08-20",
        title=MDS60_TITLE, items=items, deployment="on_premise",
        header_fields={"製造業者": "アオバ画像システム株式会社", "作成日": "2025年8月20日",
                       "製品名称": "AOBA-View 内視鏡画像ファイリング", "バージョン": "6.1"})
    mds.item(f"{renumber['4.1']}/上記のうちの二要素を組み合わせた認証").remark = "次期バージョンで対応予定です。"
    mds.plant("unsupported", [f"{renumber['4.1']}/上記のうちの二要素を組み合わせた認証"],
              "第6.0版様式（番号が1つずれる）で二要素認証 いいえ")

    cl_items = checklist_items("mhlw-checklist-r6-vendor", "2024-10-10")
    cl = Submission(
        file="アオバ画像システム_事業者確認用_R6.xlsx", convention="xlsx-checklist-combined(R6, vendor above)",
        family="checklist_vendor", form_id="mhlw-checklist-r6-vendor", form_version="令和6年度",
        vendor="ｱｵﾊﾞ画像ｼｽﾃﾑ株式会社", vendor_key="aoba", title=CL_TITLE, items=cl_items, fiscal_year=2024,
        header_fields={"事業者名": "ｱｵﾊﾞ画像ｼｽﾃﾑ株式会社", "年度": "令和6年度"})
    return [(mds, "xlsx", "F_mds"), (cl, "xlsx", "F_cl")]


# ====================================================================== G: オーシャンラボ (checklist only)
def vendor_g():
    cl_items = checklist_items("mhlw-checklist-r5-vendor", "2023-11-06")
    cl = Submission(
        file="オーシャンラボ_チェックリスト(事業者確認用).xlsx", convention="xlsx-checklist-combined(blank 事業者名)",
        family="checklist_vendor", form_id="mhlw-checklist-r5-vendor", form_version="令和5年度", vendor="",
        vendor_key="oceanlab", title=CL_TITLE, items=cl_items, fiscal_year=2023,
        header_fields={"事業者名": "", "年度": "令和5年度"})
    # 2(3) はい: without a vendor name no document can be called missing; the blank name is the review item
    cl.plant("incomplete", [], "事業者名が空欄（ファイル名にのみ記載）")
    return [(cl, "xlsx", "G_cl")]


# ====================================================================== E: ミライヘルスケア (checklist R7)
def vendor_e_checklist():
    cl_items = checklist_items("mhlw-checklist-r7-vendor", "2025-07-15", printed_style="circled",
                               answers={"2(5)": NO}, targets={"2(5)": "2026-03-31"})
    cl = Submission(
        file="ミライヘルスケア_R7チェックリスト_事業者確認用.xlsx", convention="xlsx-checklist-R7-circled-numbers",
        family="checklist_vendor", form_id="mhlw-checklist-r7-vendor", form_version="令和7年度",
        vendor="ミライヘルスケア 株式会社", vendor_key="mirai", title=CL7_TITLE, items=cl_items, fiscal_year=2025,
        header_fields={"事業者名": "ミライヘルスケア 株式会社", "年度": "令和7年度"},
        comment="⑤につきまして、次期バージョンアップで不要アカウントの自動停止に対応予定です。")
    cl.plant("checklist_deadline", ["2(5)"], "目標日 2026-03-31 を過ぎても2回目の記入がない")
    return [(cl, "xlsx", "E_cl")]


# ====================================================================== H: ユニメディカル (checklist R7, split)
def vendor_h_checklist():
    cl_items = checklist_items("mhlw-checklist-r7-vendor", "2025-06-02", printed_style="circled",
                               answers={"2(4)": NO}, targets={"2(4)": "2025-12-26"},
                               seconds={"2(4)": (YES, "2025-12-10")},
                               remarks={"2(4)": "職種別の権限設定を見直し済み（12月）"})
    cl = Submission(
        file="ユニメディカル_事業者確認用チェックリスト_令和7年度.xlsx",
        convention="xlsx-checklist-R7-circled+split-cells", family="checklist_vendor",
        form_id="mhlw-checklist-r7-vendor", form_version="令和7年度", vendor="株式会社 ユニメディカル",
        vendor_key="unimedical", title=CL7_TITLE, items=cl_items, fiscal_year=2025,
        header_fields={"事業者名": "株式会社 ユニメディカル", "年度": "令和7年度"})
    return [(cl, "xlsx", "H_cl")]


# ====================================================================== Z: クリアメディカル (clean control)
def clean_remarks() -> dict[str, str]:
    return {
        "1": "扱う情報のリストを導入時に提出します。",
        "4.1/生体認証": "手のひら静脈認証に対応しています。",
        "4.1/物理媒体": "ICカード認証に対応しています。",
        TWO_FACTOR: "ID・パスワードとICカードの二要素認証に対応しています。",
        "4.1/その他": "上記の認証方式で対応しています。",
        "7": "WPA2-Enterprise以上の暗号化に対応しています。",
        "10": "端末のストレージ暗号化に対応しています。",
        "12.4.1": "保守作業の都度、医療機関の承認を得て接続を許可しています。",
    }


def vendor_z_checklist():
    cl_items = checklist_items("mhlw-checklist-r7-vendor", "2025-06-10", printed_style="circled")
    cl = Submission(
        file="㈱クリアメディカル_事業者確認用_R7.xlsx", convention="xlsx-checklist-R7-circled(clean)",
        family="checklist_vendor", form_id="mhlw-checklist-r7-vendor", form_version="令和7年度",
        vendor="㈱クリアメディカル", vendor_key="clearmedical", title=CL7_TITLE, items=cl_items, fiscal_year=2025,
        header_fields={"事業者名": "㈱クリアメディカル", "年度": "令和7年度"})
    return [(cl, "xlsx", "Z_cl")]


# ====================================================================== I: いろはメディカル (MDS + SDS)
def vendor_i():
    items = mds_items("jahis-mds-4.1", answers={"4.1/物理媒体": YES, TWO_FACTOR: YES},
                      remarks={TWO_FACTOR: "ID・パスワードとICカードの組み合わせに対応しています。",
                               "4.3.1": "アクセスログは取得していますが、利用者が参照する機能は有しておりません。",
                               "12.4.1": "保守作業時の接続は、事前申請に基づき都度接続としています。"})
    mds = Submission(
        file="いろはメディカル_放射線情報システム_MDS.xlsx", convention="xlsx-mark-columns(●)+gate-in-yes-no+header-below",
        family="mds", form_id="jahis-mds-4.1", form_version="GL5.2", vendor="いろはメディカル株式会社",
        vendor_key="iroha", product="IROHA-RIS 放射線情報システム", product_version="11.0", created="2025-07-01",
        title=MDS52_TITLE, items=items, deployment="on_premise",
        header_fields={"製造業者": "いろはメディカル株式会社", "作成日": "2025年7月1日",
                       "製品名称": "IROHA-RIS 放射線情報システム", "バージョン": "11.0"})
    mds.plant("remark_contradiction", ["4.3.1"], "はい だが「利用者が参照する機能は有しておりません」")
    typed = mds.item("5")  # one row marked with a typed 「x」 instead of ●: read, but a person confirms
    typed.glyph, typed.needs_review = "x", True
    mds.plant("stale_document", [], "ガイドライン第5.2版の様式（作成日は新しい）")

    s_items = mds_items("jahis-sds-4.1", answers={"12.3.1.1/IPsec-VPN": APPL, "12.3.1.1/TLS1.2以上": NOT_APPL},
                        remarks={"12.1": "リモートメンテナンス時の認証はID/パスワードのみです。",
                                 "6": "保守用端末のウイルス対策は病院ポリシーに従う。"})
    sds = Submission(
        file="いろはメディカル_リモート保守サービス_SDS.xlsx", convention="xlsx-mark-columns(✓)+gate-in-yes-no",
        family="sds", form_id="jahis-sds-4.1", form_version="GL5.2", vendor="いろはメディカル(株)",
        vendor_key="iroha", product="IROHA リモート保守サービス", product_version="2025", created="2025-07-01",
        title=SDS52_TITLE, items=s_items, deployment="on_premise",
        header_fields={"サービス事業者": "いろはメディカル(株)", "作成日": "2025年7月1日",
                       "サービス名称": "IROHA リモート保守サービス", "バージョン": "2025"})
    sds.plant("limitation", ["12.1"], "なりすまし対策 はい だが「ID/パスワードのみ」")
    sds.plant("responsibility_shift", ["6"], "「病院ポリシーに従う」")
    sds.plant("stale_document", [], "ガイドライン第5.2版の様式")

    cl_items = checklist_items("mhlw-checklist-r6-vendor", "2024-09-03")
    cl = Submission(
        file="いろはメディカル_事業者確認用_令和6年度.xlsx", convention="xlsx-checklist-split-cells(R6 device headings)",
        family="checklist_vendor", form_id="mhlw-checklist-r6-vendor", form_version="令和6年度",
        vendor="いろはメディカル株式会社", vendor_key="iroha", title=CL_TITLE, items=cl_items, fiscal_year=2024,
        header_fields={"事業者名": "いろはメディカル株式会社", "年度": "令和6年度"})
    return [(mds, "xlsx", "I_mds"), (sds, "xlsx", "I_sds"), (cl, "xlsx", "I_cl")]


# ====================================================================== 医療機関確認用 (hospital's own checklist)
def facility_checklist():
    items = checklist_items("mhlw-checklist-r5-facility", "2023-10-02", answers={"2(3)": NO, "3(1)": NO},
                            targets={"2(3)": "2024-01-31", "3(1)": "2024-03-29"},
                            seconds={"2(3)": (YES, "2024-01-22")})
    # The 有無 row is printed with the label 「医療情報システムの有無」 in the section column, no number.
    items[0].number_printed = ""
    items[0].question = "医療情報システムを導入、運用している。（「いいえ」の場合、以下すべての項目は確認不要）"
    cl = Submission(
        file="医療機関確認用チェックリスト_令和5年度_記入済.xlsx", convention="xlsx-checklist-facility(R5)",
        family="checklist_facility", form_id="mhlw-checklist-r5-facility", form_version="令和5年度",
        vendor="", vendor_key="facility", title=CL_TITLE.replace("事業者確認用", "医療機関確認用"), items=items,
        fiscal_year=2023, header_fields={"医療機関名": "市立みなと総合病院", "年度": "令和5年度"},
        comment="3(1)につきまして、連絡体制図を作成中です。")
    cl.plant("checklist_deadline", ["3(1)"], "目標日 2024-03-29 を過ぎても2回目の記入がない")
    return [(cl, "xlsx", "facility_cl")]


XLSX_VENDORS: list[Callable] = [vendor_i, facility_checklist, vendor_a, vendor_b, vendor_c, vendor_f, vendor_g, vendor_e_checklist,
                                vendor_h_checklist, vendor_z_checklist]
