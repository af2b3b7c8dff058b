"""Remark analysis with the real spaCy (blank ja + SudachiPy) pipeline on real remark sentences.

The sentences are the vendors' 備考記載欄 entries quoted in the JAMI lecture (remarks.md DECK-A/B/C).
"""
from __future__ import annotations

import pytest

from rules.remarks import analyze, split_sentences


RULE_CLASSES = {"option", "duty_shift", "contradiction", "limitation", "plan"}  # what the catalogue acts on


def classes(text: str) -> set[str]:
    return {s.cls for s in analyze(text)}


@pytest.mark.parametrize("sentence,expected", [
    ("データベース・ファイルサーバーのHDD冗長化及びバックアップを行います。（オプション）", {"option"}),
    ("別途有償にて対応いたします。", {"option"}),
    ("暗号化通信は別契約となります。", {"option"}),
    # 「別途検証の上」 is a check before installing, no extra cost or contract: one fact (the hospital's policy
    # decides), reported once as a duty shift, not again as an option.
    ("病院ポリシーに沿って、資産管理ソフトウェアを導入する場合は、別途検証の上、インストールの可否を判断させていただきます。",
     {"duty_shift"}),
    ("パターンファイルの定期更新作業は、お客様と作業分担の取り決めを行わせていただきます。", {"duty_shift"}),
    ("運用開始時に予め非常用アカウントの作成をお願いします。", {"duty_shift"}),
    ("ご施設のNTPサーバーへのアクセスが必要になります。", {"duty_shift"}),
    ("なお、HIS等基幹システムとの連携、シングルサインオン(SSO)での連携などの場合、上位システムの管理に依存します。", {"duty_shift"}),
    ("病院で用意される保守用ネットワーク回線を利用する場合は、病院ポリシーに従います。", {"duty_shift"}),
    ("セキュリティデバイスによる認証には対応していません。", {"negation", "contradiction"}),
    ("ID/パスワードの登録に関する管理機能は有していますが、パスワードの「強度」を管理する機能は有しておりません。",
     {"negation", "contradiction"}),
    ("多要素認証には対応していない。", {"negation", "contradiction"}),
    ("該当する機能はないため対象外です。", {"negation", "contradiction"}),
    ("データベースへの直接アクセスに関しては、ログが残りません。", {"exception", "negation", "limitation", "log_topic"}),
    ("アクセスログは、管理者が、サーバ上で確認できます。", {"restricted", "limitation", "log_topic"}),
    ("リモートメンテナンス時の認証はID/パスワードのみです。", {"restricted", "limitation"}),
    ("次期更新時に対応予定です。", {"plan"}),
    ("二要素認証は社内で検討中です。", {"plan"}),
])
def test_signals_on_real_remarks(sentence, expected):
    assert classes(sentence) == expected


@pytest.mark.parametrize("sentence", [
    "問題ありません。",
    "運用上の問題はありません。",
    "TLS1.2で暗号化しています。",
    "一定時間操作されない時に、ログアウトする機能が有ります。",
    "ただし、一般ユーザはデータベースへ直接アクセスできないよう管理設定しています。",
    "利用者ID/パスワードによるログイン機能を有しております。",
    "リモートメンテナンス時のなりすまし対策は、生体認証（静脈認証）になります。",
    "弊社提供のリモートメンテナンスでは、暗号化可能なアプリケーションを使用しています。",
    "ユーザID毎にアクセス権限を設定できます",
])
def test_neutral_and_positive_remarks_fire_nothing(sentence):
    assert classes(sentence) & RULE_CLASSES == set()


@pytest.mark.parametrize("sentence", [
    "常時接続は行っておりません。",
    "作業者間でパスワードを共有しません。",
    "平文では送信しません。",
])
def test_negated_risky_practice_is_not_a_denied_capability(sentence):
    assert classes(sentence) & {"negation", "contradiction", "limitation"} == set()


@pytest.mark.parametrize("sentence,cls", [
    ("保守回線は常時接続しています。", "always_on"),
    ("弊社提供のリモートメンテナンスでは、暗号化可能なアプリケーションを使用しています。", "encryption_optional"),
    ("暗号化に対応可能です。", "encryption_optional"),
    ("ご要求に応じて提出可能です。", "on_request"),
    ("基本仕様書、システム概念図、IPアドレスを含むネットワーク構成図はご要望に応じて提供します。", "on_request"),
    ("標準的な形式でのデータ出力に努めます。", "aspirational"),
    ("可能な限り互換性を維持します。", "aspirational"),
    ("原則として翌営業日に対応します。", "aspirational"),
])
def test_more_remark_classes(sentence, cls):
    assert cls in classes(sentence)


@pytest.mark.parametrize("sentence", [
    "TLS1.2で暗号化しています。", "問題ありません。", "通信は常に暗号化しています。",
    "保守作業の都度、医療機関の承認を得て接続を許可しています。", "扱う情報のリストを導入時に提出します。",
    "データは暗号化して保存します。",
])
def test_descriptive_remarks_have_no_c5_c6_c9_class(sentence):
    assert classes(sentence) & {"always_on", "encryption_optional", "on_request", "aspirational"} == set()


def test_prohibition_to_hospital_is_a_duty_shift_not_a_negated_capability():
    assert classes("ご施設の方でソフトウェアのインストールは絶対に行わないで下さい。") == {"duty_shift"}


def test_quote_is_the_exact_sentence():
    remark = ("データベースへの直接アクセスに関しては、ログが残りません。"
              "ただし、一般ユーザはデータベースへ直接アクセスできないよう管理設定しています。")
    limitation = [s for s in analyze(remark) if s.cls == "limitation"]
    assert [s.sentence for s in limitation] == ["データベースへの直接アクセスに関しては、ログが残りません。"]
    assert limitation[0].sentence in remark


def test_sentence_split_keeps_bracketed_tail_and_line_breaks():
    assert split_sentences("HDD冗長化を行います。（オプション）\n次期更新時に対応予定です。") == [
        "HDD冗長化を行います。（オプション）", "次期更新時に対応予定です。"]
    assert split_sentences("") == []


def test_checklist_comment_sentence():
    comment = ("(1)につきまして、弊社が医療情報システム・サービス事業者に該当するかを社内検討中です。"
               "(4)~(8)につきまして、施設ご提供・設定の機器を利用しており、弊社ではリモートメンテナンス用の"
               "ルーターを設置していませんので、回答していません。")
    duty = [s for s in analyze(comment) if s.cls == "duty_shift"]
    assert len(duty) == 1 and duty[0].sentence.startswith("(4)~(8)")
    assert [s.cls for s in analyze(comment) if s.sentence.startswith("(1)")] == ["plan"]


@pytest.mark.parametrize("sentence,cls", [
    ("本機能はオプシヨンです。", "option"),  # small kana read as large (OCR)
    ("カスタマイス対応となります。", "option"),  # a dropped voicing mark
    ("ロードマツプに記載済みです。", "plan"),
    ("ベストエフオートでの対応です。", "aspirational"),
])
def test_slip_in_a_katakana_key_word_still_matches(sentence, cls):
    assert cls in classes(sentence)
    assert all(s.sentence == sentence for s in analyze(sentence))  # the quote keeps the text as written


@pytest.mark.parametrize("word", ["オペレーション", "サポーター", "アカウント", "ネットワーク"])
def test_other_katakana_words_are_not_bent_to_a_key_word(word):
    from rules.remarks import fuzzy_key_term
    assert fuzzy_key_term(word) is None
