"""Samples for guideline 第7.0版 and the 令和8年度 checklist (issue #13): `build_gl7(out_dir)`.

Invented vendors and wording. Written through the same renderers as the other samples:
- a 令和8年度 事業者確認用 (joint 「医療機関・薬局における」 title, numbering of our own, one row the catalogue does
  not know — it must be kept as an unknown item, not dropped), with 2FA and password-reuse いいえ;
- a 令和8年度 医療機関・薬局確認用 whose 2FA row is はい with a planned-only remark;
- an MDS printed for ガイドライン第7.0版 whose 2FA is はい but only planned, with remote maintenance and no stated
  update responsibility; and an MDS of another vendor with 2FA いいえ and more いいえ answers no rule reports, with
  the risk assessments a hospital records for some of them (`RECORDED_ASSESSMENTS`) and a newer version of that MDS
  (`build_gl7_resubmission`) where one of them is no longer いいえ.
Built on request (`python -m samples.build --out DIR --only gl7`), not in the default sample inbox.
"""
from __future__ import annotations

from pathlib import Path

from samples.spec import APPL, NO, YES, ItemSpec, Submission, mds_items

R8_VENDOR_TITLE = "医療機関・薬局におけるサイバーセキュリティ対策チェックリスト\n事業者確認用"
R8_FACILITY_TITLE = "医療機関・薬局におけるサイバーセキュリティ対策チェックリスト\n医療機関・薬局確認用"
MDS70_TITLE = ("「製造業者による医療情報セキュリティ開示書」チェックリスト（医療情報システムの安全管理に関するガイドライン"
               "第7.0版対応）")
TWO_FACTOR = "4.1/上記のうちの二要素を組み合わせた認証"
FIRST = "2026-07-14"

# (number, section, question, answer, target date, remark) — our own numbering; the R8 numbering is not established.
R8_VENDOR_ROWS = [
    ("1(1)", "1", "事業者内に、医療情報システム等の提供に係る管理責任者を設置している。", YES, "", ""),
    ("2(1)", "2", "リモートメンテナンス（保守）している機器の有無を確認した。", YES, "", ""),
    ("2(2)", "2", "医療機関・薬局に製造業者/サービス事業者による医療情報セキュリティ開示書（MDS/SDS）を提出した。", YES, "", ""),
    ("2(3)", "2", "利用者の職種・担当業務別の情報区分毎のアクセス利用権限を設定し、管理者権限の対象者を明確にしている。", YES, "", ""),
    ("2(4)", "2", "退職者や使用していないアカウント等、不要なアカウントを削除している。", YES, "", ""),
    ("2(5)", "2", "アクセスログを管理している。", YES, "", ""),
    ("2(6)", "2", "セキュリティパッチ（最新ファームウェアや更新プログラム）を適用している。", YES, "", ""),
    ("2(7)", "2", "接続元制限を実施している。", YES, "", ""),
    ("2(8)", "2", "パスワードは英数字、記号が混在した8文字以上としている。", YES, "", ""),
    ("2(9)", "2", "パスワードの使い回しを禁止している。", NO, "2027-01-29", "保守用アカウントの個別化を進めています。"),
    ("2(10)", "2", "一定回数以上のログイン失敗でアカウントをロックしている。", YES, "", ""),
    ("2(11)", "2", "医療情報システムへのログインに二要素認証を導入している。", NO, "2027-03-19", ""),
    ("2(12)", "2", "医療機関・薬局との責任分界を書面で取り決めている。", YES, "", ""),  # not in the catalogue
]

R8_FACILITY_ROWS = [
    ("1(1)", "1", "医療情報システム安全管理責任者を設置している。", YES, "", ""),
    ("1(2)", "1", "医療情報システムの運用管理規程等を整備している。", YES, "", ""),
    ("2(1)", "2", "サーバ、端末PC、ネットワーク機器の台帳管理を行っている。", YES, "", ""),
    ("2(2)", "2", "リモートメンテナンス（保守）を利用している機器の有無を事業者に確認した。", YES, "", ""),
    ("2(3)", "2", "事業者から製造業者/サービス事業者による医療情報セキュリティ開示書（MDS/SDS）を提出してもらう。", YES, "", ""),
    ("2(4)", "2", "パスワードの使い回しを禁止している。", YES, "", ""),
    ("2(5)", "2", "一定回数以上のログイン失敗でアカウントをロックしている。", NO, "2027-02-26", ""),
    ("2(6)", "2", "医療情報システムへのログインに二要素認証を導入している。", YES, "",
     "次期システム更新時に導入する予定です。"),
    ("2(7)", "2", "診療科ごとの端末の利用時間帯を記録している。", YES, "", ""),  # not in the catalogue
    ("3(1)", "3", "インシデント発生時における組織内と外部関係機関（事業者、厚生労働省、警察等）への連絡体制図がある。", YES, "", ""),
]


def _checklist_items(rows) -> list[ItemSpec]:
    items = []
    for number, section, question, answer, target, remark in rows:
        items.append(ItemSpec(item_id=number, number_printed=number, question=question,
                              answer=answer, first_date=FIRST, target_date=target, remark=remark, section=section,
                              kind="numbered", options=(YES, NO)))
    return items


def r8_vendor_checklist() -> Submission:
    return Submission(
        file="しらさぎ医療ソフト_事業者確認用_R8.xlsx", convention="xlsx-checklist-split(R8)", family="checklist_vendor",
        form_id="mhlw-checklist-r8-vendor", form_version="令和8年度", vendor="株式会社しらさぎ医療ソフト",
        vendor_key="shirasagi", title=R8_VENDOR_TITLE, items=_checklist_items(R8_VENDOR_ROWS), fiscal_year=2026,
        header_fields={"事業者名": "株式会社しらさぎ医療ソフト", "年度": "令和8年度"})


def r8_facility_checklist() -> Submission:
    return Submission(
        file="こもれび病院_医療機関・薬局確認用_R8.xlsx", convention="xlsx-checklist-split(R8 facility)",
        family="checklist_facility", form_id="mhlw-checklist-r8-facility", form_version="令和8年度",
        vendor="", vendor_key="komorebi", title=R8_FACILITY_TITLE, items=_checklist_items(R8_FACILITY_ROWS),
        fiscal_year=2026, header_fields={"医療機関名": "こもれび記念病院", "年度": "令和8年度"})


def mds_planned_2fa() -> Submission:
    items = mds_items("jahis-mds-4.1", answers={TWO_FACTOR: YES, "12": APPL, "12.4": APPL},
                      remarks={TWO_FACTOR: "ICカードとパスワードの組合せに、次期バージョンで対応予定です。",
                               "12.4": "弊社保守センターからリモートで保守作業を行います。"})
    return Submission(
        file="しらさぎ医療ソフト_MDS_GL7.xlsx", convention="xlsx-mark-columns(GL7.0 title)", family="mds",
        form_id="jahis-mds-5.0", form_version="GL6.0", vendor="株式会社しらさぎ医療ソフト", vendor_key="shirasagi",
        product="しらさぎ部門システム", product_version="4.0", created="2026-08-03", title=MDS70_TITLE, items=items,
        deployment="on_premise",
        header_fields={"製造業者": "株式会社しらさぎ医療ソフト", "作成日": "2026年8月3日",
                       "製品名称": "しらさぎ部門システム", "バージョン": "4.0"})


INAHO_REMARKS = {"12.4": "保守契約に基づき、セキュリティ更新プログラムの適用は弊社が責任を持って行います。",
                 "4.3.1": "利用者による確認画面はありません。ログは保守担当者が依頼に応じて抽出します。"}


def _inaho_mds(file: str, version: str, created: str, answers: dict, remarks: dict) -> Submission:
    """株式会社いなほシステム's MDS of いなほ検査システム (a 第5.2版 form); `created` as 「YYYY-MM-DD」."""
    year, month, day = (int(x) for x in created.split("-"))
    return Submission(
        file=file, convention="xlsx-mark-columns", family="mds", form_id="jahis-mds-4.1",
        form_version="GL5.2", vendor="株式会社いなほシステム", vendor_key="inaho", product="いなほ検査システム",
        product_version=version, created=created, items=mds_items("jahis-mds-4.1", answers=answers, remarks=remarks),
        deployment="on_premise", title=MDS70_TITLE.replace("第7.0版", "第5.2版"),
        header_fields={"製造業者": "株式会社いなほシステム", "作成日": f"{year}年{month}月{day}日",
                       "製品名称": "いなほ検査システム", "バージョン": version})


def mds_no_2fa() -> Submission:
    """いいえ on 2FA (a finding), on two other authentication methods and on 4.3.1 (no finding: only the sheet
    「リスク評価」 of the register holds them)."""
    return _inaho_mds("いなほシステム_MDS.xlsx", "2.1", "2026-05-11",
                      {TWO_FACTOR: NO, "12": APPL, "12.4": APPL, "4.3.1": NO}, INAHO_REMARKS)


def mds_no_2fa_resubmitted() -> Submission:
    """The same product's newer MDS: IC cards are supported now, so 4.1/物理媒体 is no longer an いいえ."""
    return _inaho_mds("いなほシステム_MDS_改訂.xlsx", "2.2", "2026-09-15",
                      {TWO_FACTOR: NO, "12": APPL, "12.4": APPL, "4.3.1": NO, "4.1/物理媒体": YES},
                      INAHO_REMARKS | {"4.1/物理媒体": "ICカードによる認証に対応しました。"})


# What the hospital records for the いいえ answers of 株式会社いなほシステム (typed by a reviewer into the sheet 「リスク評価」
# of the register workbook): 4.1/生体認証 and 4.1/物理媒体 are recorded, 4.3.1 stays unrecorded (「要リスク評価」).
RECORDED_ASSESSMENTS = {
    "4.1/生体認証": "生体認証は使わない運用とする。二要素認証はICカードとパスワードの組合せで求める。",
    "4.1/物理媒体": "ICカード読取装置は未導入。端末は職員のみが入る区画に置き、入退室を記録する。",
}


def gl7_samples() -> list[tuple[Submission, str]]:
    """(submission, XLSX style key)."""
    return [(r8_vendor_checklist(), "I_cl"), (r8_facility_checklist(), "I_cl"), (mds_planned_2fa(), "A_mds"),
            (mds_no_2fa(), "A_mds")]


def build_gl7_resubmission(out: Path) -> list[tuple[Path, dict]]:
    """The newer MDS of 株式会社いなほシステム alone (dropped into the inbox after a first run)."""
    return build_gl7(out, [(mds_no_2fa_resubmitted(), "A_mds")])


def build_gl7(out: Path, samples: list[tuple[Submission, str]] | None = None) -> list[tuple[Path, dict]]:
    from samples.office_xlsx import render_xlsx
    from samples.styles import XLSX_STYLES

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for sub, key in gl7_samples() if samples is None else samples:
        style = XLSX_STYLES[key]
        if sub.family == "checklist_facility":
            import dataclasses
            style = dataclasses.replace(style, vendor_label="医療機関名：", sheet_name="医療機関・薬局確認用")
        path = out / sub.file
        render_xlsx(sub, path, style)
        written.append((path, sub.truth()))
    return written
