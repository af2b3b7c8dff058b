"""Each vendor's layout habits (column order, labels, sheet names, fonts, marks)."""
from __future__ import annotations

from samples.office_xlsx import XlsxStyle
from samples.spec import APPL, NA, NO, NOT_APPL, YES

XLSX_STYLES: dict[str, XlsxStyle] = {
    # A: number column, ○ in はい/いいえ/対象外, separate 該当/非該当 pair, footnote block below the table.
    "A_mds": XlsxStyle(columns=("num", "q", YES, NO, NA, APPL, NOT_APPL, "remark"), glyph="○",
                       labels={"num": "No.", "q": "チェック項目", "remark": "備考"}, sheet_name="MDS",
                       footnotes="below", font="ＭＳ Ｐゴシック"),
    # B: dropdown 回答 column fed by hidden sheet 選択肢; cover and revision sheets; hidden work sheet.
    "B_sds": XlsxStyle(columns=("num", "q", "answer", "remark"), answer_mode="dropdown", dropdown_source="range",
                       labels={"num": "項番", "q": "確認内容", "answer": "回答", "remark": "備考・補足"},
                       sheet_name="SDSチェックリスト", extra_sheets=("表紙", "改訂履歴"), hidden_sheet="作業用",
                       font="Meiryo UI", start_col=2),
    # C: every option word printed, the chosen one circled by an Excel ellipse; header fields beside the title;
    # footnotes on their own sheet; remark refs printed as 「※n」.
    "C_mds": XlsxStyle(columns=("q", "opt1", "opt2", "opt3", "remark"), answer_mode="ellipse",
                       labels={"q": "項目", "opt1": "回答", "remark": "備考"}, sheet_name="開示書",
                       header_pos="beside", footnotes="sheet", number_in_question=True, font="游ゴシック"),
    # F: GL6.0, reordered columns (備考 before the options), レ marks, no number column.
    "F_mds": XlsxStyle(columns=("q", "remark", APPL, NOT_APPL, YES, NO, NA), glyph="レ",
                       labels={"q": "確認項目", "remark": "コメント"}, sheet_name="MDS(GL6.0)",
                       section_rows=False, font="ＭＳ ゴシック", title_merged=False),
    # I: ● marks, no 該当/非該当 columns (gate rows print 「●該当」「非該当」 in the はい/いいえ cells),
    # header fields under the table.
    "I_mds": XlsxStyle(columns=("num", "q", YES, NO, NA, "remark"), glyph="●", header_pos="below",
                       labels={"num": "項目番号", "q": "質問事項", "remark": "備考欄"}, sheet_name="開示書(MDS)",
                       font="ＭＳ Ｐ明朝"),
    "I_sds": XlsxStyle(columns=("num", "q", YES, NO, NA, "remark"), glyph="✓", sheet_name="開示書(SDS)",
                       extra_sheets=("表紙",), font="ＭＳ Ｐ明朝"),
    # Checklists.
    "I_cl": XlsxStyle(columns=("num", "q", "first_answer", "first_date", "target_date", "second_answer",
                               "second_date", "remark"), answer_mode="split", sheet_name="事業者確認用",
                      date_format="m月d日"),
    "facility_cl": XlsxStyle(columns=("section", "q", "first", "target", "second"), answer_mode="combined",
                             sheet_name="医療機関確認用", vendor_label="医療機関名：", vendor_pos="above"),
    "A_cl": XlsxStyle(columns=("section", "q", "first", "target", "second", "remark"), answer_mode="combined",
                      sheet_name="事業者確認用", fullwidth_dates=("1(1)",)),
    "B_cl": XlsxStyle(columns=("section", "q", "first", "target", "second", "remark"), answer_mode="combined",
                      sheet_name="チェックリスト", font="Meiryo UI"),
    "C_cl": XlsxStyle(columns=("num", "q", "first_answer", "first_date", "target_date", "second_answer",
                               "second_date", "remark"), answer_mode="split", sheet_name="事業者用",
                      labels={"first_answer": "1回目", "first_date": "確認日", "target_date": "目標日",
                              "second_answer": "2回目", "second_date": "確認日", "q": "チェック項目"},
                      date_format="yyyy/m/d", section_rows=False),
    "F_cl": XlsxStyle(columns=("q", "first", "target", "second"), answer_mode="combined", sheet_name="Sheet1",
                      vendor_pos="above", vendor_label="事業者名：", comment_label="備考"),
    "G_cl": XlsxStyle(columns=("section", "q", "first", "target", "second", "remark"), answer_mode="combined",
                      sheet_name="事業者確認用"),
    "E_cl": XlsxStyle(columns=("section", "q", "first", "target", "second", "remark"), answer_mode="combined",
                      sheet_name="R7事業者確認用", font="BIZ UDゴシック"),
    "H_cl": XlsxStyle(columns=("num", "q", "first_answer", "first_date", "target_date", "second_answer",
                               "second_date", "remark"), answer_mode="split", sheet_name="チェックリスト",
                      labels={"first_answer": "1回目 回答", "first_date": "1回目 日付", "target_date": "対応目標日",
                              "second_answer": "2回目 回答", "second_date": "2回目 日付"}, date_format="m/d"),
    "Z_cl": XlsxStyle(columns=("section", "q", "first", "target", "second", "remark"), answer_mode="combined",
                      sheet_name="事業者確認用"),
}
