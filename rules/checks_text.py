"""Checks that read what a remark names, beyond the pattern classes: the factors of a two-factor
combination (mapping.md rule 4, remarks.md C5) and password-only remote authentication.

Imported by `rules.checks` so that the checks register.
"""
from __future__ import annotations

import re

from extractors.model import Document
from extractors.text import normalize_text
from extractors.vocabulary import AFFIRMATIVE, YES
from rules.check_base import (ANSWERED, Context, Hit, _base_fields, _item_filter, _remark_blank, check,
                              concept_of, question_of)
from rules.remarks import analyze, split_sentences

# Authentication factors as vendors name them (記憶 / 所持 / 生体).
FACTOR_WORDS = {
    "knowledge": re.compile(r"パスワード|(?<![A-Za-z])(PW|PIN)(?![A-Za-z])|暗証番号|パスフレーズ|記憶", re.I),
    "possession": re.compile(r"ICカード|IC カード|カード認証|物理媒体|トークン|ワンタイム|(?<![A-Za-z])OTP|スマートフォン|スマホ"
                             r"|携帯電話|電子証明書|クライアント証明書|証明書|USBキー|HPKI|マイナンバーカード|SMS|認証アプリ"
                             r"|セキュリティキー|FIDO|事前共有キー|発信元電話番号|発信者番号", re.I),
    "inherence": re.compile(r"生体|静脈|指紋|顔認証|顔画像|虹彩|声紋|掌紋"),
}
# Other authentication methods a 「その他」 row may name.
OTHER_METHOD_WORDS = re.compile(r"SSO|シングルサインオン|LDAP|Active ?Directory|(?<![A-Za-z])AD(?![A-Za-z])|Kerberos"
                                r"|SAML|OAuth|OpenID|連携認証|統合認証|認証基盤|IDaaS", re.I)


def factors_named(text: str) -> set[str]:
    t = normalize_text(text)
    return {kind for kind, pattern in FACTOR_WORDS.items() if pattern.search(t)}


def _plan_only(remark: str) -> bool:
    return any(s.cls == "plan" for s in analyze(remark))


@check("auth_method_unnamed", "document",
       lambda c: "二要素認証・その他の認証方式が「はい」で、備考はあるが具体的な組合せ・方式を挙げていない")
def check_auth_method_unnamed(cond: dict, doc: Document, ctx: Context) -> list[Hit]:
    hits = []
    for item in _item_filter(doc, cond):
        if item.answer_status != ANSWERED or item.answer != YES or _remark_blank(item) or item.remark_ref_empty:
            continue  # a blank remark is the remark_required rule's
        if _plan_only(item.remark):
            continue  # a planned 2FA is the contradiction.planned rule's
        concept = concept_of(doc, item)
        named = factors_named(item.remark)
        if concept == "two_factor_auth" or "二要素" in question_of(doc, item):
            if len(named) >= 2:
                continue
            what = "2種類の認証要素（記憶・所持・生体のうち2つ）"
        else:
            if named or OTHER_METHOD_WORDS.search(normalize_text(item.remark)):
                continue
            what = "具体的な認証方式"
        hits.append(Hit([doc], [(doc, item)], fields=_base_fields(doc, item),
                        finding=f"項目{item.item_id}「{question_of(doc, item)}」は「はい」ですが、備考"
                                f"「{item.remark.strip()}」は{what}を挙げていません。"))
    return hits


@check("remote_password_only", "document",
       lambda c: "リモート接続・なりすまし対策の備考が認証手段としてID・パスワードだけを挙げている")
def check_remote_password_only(cond: dict, doc: Document, ctx: Context) -> list[Hit]:
    hits = []
    for item in _item_filter(doc, cond):
        if item.answer_status != ANSWERED or item.answer not in AFFIRMATIVE or not item.remark.strip():
            continue
        for sentence in split_sentences(item.remark):
            classes = {s.cls for s in analyze(sentence)}
            if classes & {"limitation", "negation", "contradiction", "plan"}:
                continue  # 「…のみです」 is the limitation rule's; a denial or plan is another rule's
            if factors_named(sentence) != {"knowledge"} or not re.search(r"認証|ログイン|接続", sentence):
                continue
            hits.append(Hit([doc], [(doc, item)], quote=sentence,
                            fields=_base_fields(doc, item) | {"quote": sentence},
                            finding=f"項目{item.item_id}「{question_of(doc, item)}」の備考は、リモート接続の認証手段として"
                                    f"ID・パスワードだけを挙げています:「{sentence}」"))
            break
    return hits
