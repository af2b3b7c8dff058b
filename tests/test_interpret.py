"""The interpreter on layouts vendors produce when they retype a form (grids built directly)."""
from __future__ import annotations

from extractors.grid import Cell, Grid, Mark, Table
from extractors.interpret import interpret

MDS_TITLE = "製造業者による医療情報セキュリティ開示書 チェックリスト（ガイドライン第5.2版対応）"


def C(text="", **kw):
    return Cell(text=text, **kw)


def _doc(*tables, fmt="docx", loose=()):
    return interpret(Grid(source="vendor.docx", format=fmt, tables=list(tables), loose_text=list(loose)), "0" * 64)


def _answers(doc):
    return {i.item_id: (i.answer, i.answer_status) for i in doc.items}


def test_inline_glyph_options_in_one_answer_column():
    rows = [
        [C("No."), C("確認項目"), C("回答"), C("備考")],
        [C("4.1"), C("利用者の認証方式は？"), C(), C()],
        [C(""), C("・記憶（ID・パスワード等）"), C("■はい　□いいえ　□対象外"), C()],
        [C(""), C("・生体認証（指紋等）"), C("☐はい ☑いいえ ☐対象外"), C()],
        [C(""), C("・上記のうちの二要素を組み合わせた認証（具体的な組み合わせを備考に記入してください）"),
         C("□はい □いいえ □対象外"), C()],
        [C("4.3"), C("アクセス記録（アクセスログ）機能があるか？"), C("■はい ■いいえ □対象外"), C("※2")],
    ]
    doc = _doc(Table("本文1", [[C(MDS_TITLE)]], kind="text"), Table("表1", rows))
    got = _answers(doc)
    assert got["4.1/記憶"] == ("はい", "answered")
    assert got["4.1/生体認証"] == ("いいえ", "answered")
    assert got["4.1/上記のうちの二要素を組み合わせた認証"] == ("", "unanswered")
    assert got["4.3"] == ("", "ambiguous")
    assert doc.item("4.3").needs_review
    assert doc.item("4.3").remark_ref == "2" and doc.item("4.3").remark_ref_empty


def test_table_without_header_and_continuation_page_keep_columns():
    header = [C("項番"), C("質問"), C("はい"), C("いいえ"), C("対象外"), C("備考")]
    page1 = [header,
             [C("1"), C("扱う情報のリストを医療機関等に提示できるか？"), C("○"), C(), C(), C("ご要求に応じて提出可能です。")],
             [C("2"), C("個人情報が入力・参照できる端末の覗き見防止の機能があるか？"), C(), C("○"), C(), C()]]
    page2 = [[C("3"), C("離席時の不正入力防止の機能があるか？"), C(), C(), C("〇"), C()],
             [C("5"), C("時刻情報の正確性を担保する機能があるか？"), C("✓"), C(), C(), C("NTPサーバと同期します。")]]
    doc = _doc(Table("p.0", [[C(MDS_TITLE)]], kind="text"), Table("p.1", page1, kind="page", page=1),
               Table("p.2", page2, kind="page", page=2), fmt="pdf")
    got = _answers(doc)
    assert got == {"1": ("はい", "answered"), "2": ("いいえ", "answered"), "3": ("対象外", "answered"),
                   "5": ("はい", "answered")}
    assert doc.item("5").location.page == 2
    assert "4" in doc.missing_items


def test_two_row_header_and_english_options_and_number_inside_question():
    rows = [
        [C("確認項目"), C("回答", colspan=3), C(merged_into=(0, 1)), C(merged_into=(0, 1)), C("コメント")],
        [C(merged_into=(0, 0)), C("Yes"), C("No"), C("N/A"), C(merged_into=(0, 4))],
        [C("4.3 アクセス記録（アクセスログ）機能があるか？"), C(), C("X"), C(), C("DB直接アクセスはログが残りません。")],
        [C("１２ 「外部と個人情報を含む医療情報を通信する機能」や「リモートメンテナンス機能」を有するか？"),
         C("該当", marks=[Mark("circle")]), C("非該当"), C(), C()],
    ]
    doc = _doc(Table("Sheet1", [[C(MDS_TITLE)]] + rows, kind="sheet"), fmt="xlsx")
    got = _answers(doc)
    assert got["4.3"] == ("いいえ", "answered")
    assert got["12"] == ("該当", "answered")
    assert doc.item("4.3").remark.startswith("DB直接アクセス")


def test_struck_options_and_only_chosen_word_left():
    rows = [
        [C("項目"), C("回答"), C("備考")],
        [C("5 時刻情報の正確性を担保する機能があるか？"), C("はい・いいえ・対象外", marks=[Mark("strike", (3, 6)),
                                                                 Mark("strike", (7, 10))]), C()],
        [C("6 不正ソフトウェア対策を行っているか？"), C("はい・いいえ・対象外", marks=[Mark("circle", (3, 6))]), C()],
        [C("7 無線LANを利用する場合のセキュリティ対策機能はあるか？"), C("はい・いいえ・対象外"), C()],
    ]
    doc = _doc(Table("表1", [[C(MDS_TITLE)]] + rows))
    assert _answers(doc) == {"5": ("はい", "answered"), "6": ("いいえ", "answered"), "7": ("", "unanswered")}


def test_unknown_rows_are_kept_and_typos_still_link_to_the_catalogue():
    rows = [
        [C("番号"), C("確認事項"), C("はい"), C("いいえ"), C("対象外"), C("備考")],
        [C("1 2. 3. 1"), C("ネットワークの経路制御・プロトコル制御に関わる機能は、安全管理ガイドラインを満たす設定が可能か"),
         C("●"), C(), C(), C()],
        [C("4.3"), C("アクセス記緑（アクセスログ）機能があるか？"), C(), C("●"), C(), C()],
        [C("13"), C("クラウドバックアップに対応しているか？"), C("●"), C(), C(), C()],
    ]
    doc = _doc(Table("表1", [[C(MDS_TITLE)]] + rows))
    assert doc.item("12.3.1").number_printed == "1 2. 3. 1"
    assert doc.item("12.3.1").concept == "network_control_config"
    assert doc.item("4.3").concept == "access_log"
    unknown = doc.item("13")
    assert unknown is not None and not unknown.known and unknown.answer == "はい"


def test_checklist_with_device_headings_and_dates_in_the_fiscal_year():
    rows = [
        [C("医療機関におけるサイバーセキュリティ対策チェックリスト 事業者確認用（令和6年度）")],
        [C("項目"), C("1回目"), C("目標日"), C("2回目"), C("備考")],
        [C("サーバ")],
        [C("(4) 利用者の職種・担当業務別の情報区分毎のアクセス利用権限を設定している。"), C("いいえ（１０／２０）"),
         C("(3/31)"), C("はい (2/15)"), C()],
        [C("端末PC")],
        [C("(4) 利用者の職種・担当業務別の情報区分毎のアクセス利用権限を設定している。"), C("="), C(), C(),
         C("端末は提供していません")],
        [C("事業者名"), C("株式会社 北斗システムズ")],
    ]
    doc = _doc(Table("チェックリスト", rows, kind="sheet"), fmt="xlsx")
    assert doc.family == "checklist_vendor" and doc.form_version == "令和6年度"
    server = doc.item("2(4)@サーバ")
    assert (server.answer, server.first_date, server.target_date, server.second_answer, server.second_date) == \
        ("いいえ", "2024-10-20", "2025-03-31", "はい", "2025-02-15")
    pc = doc.item("2(4)@端末PC")
    assert pc.answer == "" and pc.answer_status == "unanswered" and pc.answer_raw == "="
    assert doc.vendor == "株式会社 北斗システムズ"


def test_form_retyped_as_paragraphs():
    lines = [MDS_TITLE, "製造業者：株式会社パラグラフ", "4.3 アクセス記録（アクセスログ）機能があるか？", "回答：□はい ■いいえ □対象外",
             "備考：DB直接アクセスはログが残りません。", "5 時刻情報の正確性を担保する機能があるか？ ■はい □いいえ □対象外",
             "本書の記載内容は2025年4月時点のものです。"]
    doc = _doc(Table("本文1", [[C(t)] for t in lines], kind="text"))
    assert _answers(doc) == {"4.3": ("いいえ", "answered"), "5": ("はい", "answered")}
    assert doc.item("4.3").remark == "DB直接アクセスはログが残りません。"
    assert doc.vendor == "株式会社パラグラフ"


def test_hyphenated_numbers_and_several_footnotes_in_one_remark():
    rows = [
        [C("No."), C("確認項目"), C("はい"), C("いいえ"), C("対象外"), C("備考")],
        [C("4-1-1"), C("パスワードを利用者認証手段として利用している場合、パスワード管理は可能か？"), C("○"), C(), C(),
         C("※1、※2")],
        [C("No.4.3"), C("アクセス記録（アクセスログ）機能があるか？"), C(), C("○"), C(), C("詳細は※2参照")],
        [C("備考記載欄")],
        [C("1"), C("桁数の設定が可能です。")],
        [C("2"), C("ログの保存期間は1年です。")],
    ]
    doc = _doc(Table("Sheet1", [[C(MDS_TITLE)]] + rows, kind="sheet"), fmt="xlsx")
    pw = doc.item("4.1.1")
    assert (pw.answer, pw.remark_ref, pw.remark) == ("はい", "1,2", "桁数の設定が可能です。\nログの保存期間は1年です。")
    log = doc.item("4.3")
    assert log.answer == "いいえ" and log.remark_ref == "2" and log.remark.endswith("ログの保存期間は1年です。")


def test_one_option_in_bold_or_colour_is_read_for_review():
    rows = [
        [C("項目"), C("回答"), C("備考")],
        [C("5 時刻情報の正確性を担保する機能があるか？"),
         C("はい・いいえ・対象外", marks=[Mark("emphasis", (3, 6), 0.7, "color:FF0000")]), C()],
        [C("6 不正ソフトウェア対策を行っているか？"),
         C("はい・いいえ・対象外", marks=[Mark("emphasis", (0, 10), 0.7, "bold")]), C()],
    ]
    doc = _doc(Table("表1", [[C(MDS_TITLE)]] + rows))
    red = doc.item("5")
    assert (red.answer, red.answer_status, red.needs_review) == ("いいえ", "answered", True)
    assert "太字" in red.review_reason
    assert doc.item("6").answer_status == "unanswered"  # the whole cell in bold singles out nothing


def test_numbered_bullets_under_a_group_row():
    rows = [
        [C("No."), C("確認項目"), C("はい"), C("いいえ"), C("対象外"), C("備考")],
        [C("4.1"), C("利用者の認証方式は？"), C(), C(), C(), C()],
        [C(""), C("(1) 記憶（ID・パスワード等）"), C("○"), C(), C(), C()],
        [C(""), C("② 生体認証（指紋等）"), C(), C("○"), C(), C()],
        [C("4.1.1"), C("パスワードを利用者認証手段として利用している場合、パスワード管理は可能か？"), C("○"), C(), C(), C()],
    ]
    doc = _doc(Table("表1", [[C(MDS_TITLE)]] + rows))
    assert _answers(doc) == {"4.1": ("", "unanswered"), "4.1/記憶": ("はい", "answered"),
                             "4.1/生体認証": ("いいえ", "answered"), "4.1.1": ("はい", "answered")}


def test_options_written_at_the_end_of_the_question_cell():
    rows = [
        [C("確認項目"), C("備考")],
        [C("4.3 アクセス記録（アクセスログ）機能があるか？ ■はい □いいえ □対象外"), C("")],
        [C("5 時刻情報の正確性を担保する機能があるか？\n□はい ■いいえ □対象外"), C("NTPサーバとは同期しません。")],
        [C("6 不正ソフトウェア対策を行っているか？ □はい □いいえ □対象外"), C("")],
    ]
    doc = _doc(Table("本文1", [[C(MDS_TITLE)]], kind="text"), Table("表1", rows))
    assert _answers(doc) == {"4.3": ("はい", "answered"), "5": ("いいえ", "answered"), "6": ("", "unanswered")}
    assert doc.item("5").remark == "NTPサーバとは同期しません。"
    assert doc.item("4.3").concept == "access_log"


def test_header_fields_written_with_a_space_instead_of_a_colon():
    rows = [
        [C("作成日 2024/5/10"), C(), C()],
        [C("事業者名　株式会社スペース"), C(), C()],
        [C("項番"), C("確認項目"), C("回答")],
        [C("5"), C("時刻情報の正確性を担保する機能があるか？"), C("はい")],
        [C("6"), C("不正ソフトウェア対策を行っているか？"), C("いいえ")],
    ]
    doc = _doc(Table("Sheet1", [[C(MDS_TITLE)]] + rows, kind="sheet"), fmt="xlsx")
    assert (doc.vendor, doc.created.isoformat()) == ("株式会社スペース", "2024-05-10")


def test_question_similarity_is_the_same_scored_once_or_again():
    """text_similarity keeps the scores of short text pairs (every copy of a form prints the same questions):
    the same score the first time, the next time, and for texts too long to be kept."""
    from extractors.forms import all_forms, text_similarity

    _text_similarity = text_similarity.__wrapped__

    catalogue = [item.text for form in all_forms() for item in form.items][:60]
    printed = [catalogue[3], catalogue[7] + "（「いいえ」の場合は備考に代替策）", "ウイルス対策ソフトを導入している",
               "二要素認証" * 60, ""]
    pairs = [(p, c) for p in printed for c in catalogue]
    expected = [_text_similarity(a, b) for a, b in pairs]
    for _ in range(2):
        assert [text_similarity(a, b) for a, b in pairs] == expected
    assert max(expected) == 100 and min(expected) == 0.0
