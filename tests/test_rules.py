"""Each rule fires on a case built from the real form catalogue, and stays silent on a clean one."""
from __future__ import annotations

import datetime as dt

import pytest

from extractors.forms import get_form
from extractors.model import Document, Item, Location
from rules.catalog import load_rules
from rules.engine import evaluate
from rules.findings import CATEGORIES, SEVERITIES

AS_OF = dt.date(2025, 6, 1)
TWO_FACTOR = "4.1/上記のうちの二要素を組み合わせた認証"


def make_doc(form_id: str, answers: dict[str, object], *, vendor="株式会社ABCメディカル", product="ABC電子カルテ",
             created=dt.date(2025, 4, 1), source="abc_mds.xlsx", fill_clean=True, **kw) -> Document:
    """A Document for a catalogue form. answers: item_id -> answer | (answer, remark) | dict of Item fields.

    With fill_clean, every other answerable item gets a clean answer (はい / 該当 for gates, 該当 for
    one transport) so that only the planted problem shows.
    """
    form = get_form(form_id)
    items = []
    for row, cat in enumerate(form.items, start=2):
        if cat.id in answers:
            spec = answers[cat.id]
        elif not fill_clean or not cat.answers:
            spec = None
        else:
            spec = cat.answers[0]  # はい / 該当
            if cat.remark_required_if == spec:
                spec = (spec, "ICカードとパスワードの組合せによる認証です。")
        fields: dict = {}
        if isinstance(spec, tuple):
            fields = {"answer": spec[0], "remark": spec[1]}
        elif isinstance(spec, dict):
            fields = dict(spec)
        elif spec is not None:
            fields = {"answer": spec}
        if spec is None and not cat.answers:
            fields = {"answer": ""}
        answer = fields.get("answer", "")
        fields.setdefault("answer_status", "answered" if answer else "unanswered")
        fields.setdefault("answer_raw", answer)
        items.append(Item(item_id=cat.id, question=cat.text, concept=cat.concept, catalogue_id=cat.id,
                          parent_id=cat.parent, guideline_ref=cat.ref,
                          location=Location(source, sheet="Sheet1", cell=f"C{row}", row=row), **fields))
    return Document(source_file=source, sha256=(source * 64)[:64].encode().hex()[:64], family=form.family,
                    form_id=form_id, form_version=form.form_version, vendor=vendor, product=product,
                    created=created, items=items, format="xlsx", **kw)


def clean_mds(**overrides) -> Document:
    return make_doc("jahis-mds-5.0", overrides)


def clean_checklist(**overrides) -> Document:
    return make_doc("mhlw-checklist-r7-vendor", overrides, product="", source="abc_checklist.xlsx",
                    created=dt.date(2025, 5, 10))


def companions(docs: list[Document]) -> list[Document]:
    """Add the clean documents a complete vendor set has: an SDS beside an MDS with remote maintenance,
    an MDS beside a checklist that says MDS/SDS were submitted."""
    docs = list(docs)
    families = {d.family for d in docs}
    if "mds" in families and "sds" not in families:
        docs.append(make_doc("jahis-sds-5.0", {}, source="abc_sds.xlsx"))
    if "checklist_vendor" in families and "mds" not in families:
        docs += [make_doc("jahis-mds-5.0", {}), make_doc("jahis-sds-5.0", {}, source="abc_sds.xlsx")]
    return docs


def run(*docs: Document, as_of=AS_OF, alone=False):
    return evaluate(list(docs) if alone else companions(list(docs)), as_of=as_of)


def ids(findings, rule_id=None):
    return [(f.rule_id, tuple(f.item_ids)) for f in findings if rule_id is None or f.rule_id == rule_id]


def test_clean_documents_have_no_findings():
    assert run(*[clean_mds(), clean_checklist()], as_of=AS_OF) == []


def test_clean_yes_with_neutral_remark_fires_nothing():
    doc = clean_mds(**{"12.2": ("はい", "TLS1.2で暗号化しています。"),
                       "4.3": ("はい", "ログイン、参照、更新の操作を記録します。"),
                       "4.1/記憶": ("はい", "利用者ID/パスワードによるログイン機能を有しております。"),
                       TWO_FACTOR: ("はい", "ICカードとパスワードの組合せ。問題ありません。")})
    assert run(*[doc], as_of=AS_OF) == []


def test_rules_load_with_matrix_severity_and_required_text():
    rules = load_rules()
    assert len(rules) >= 30
    assert len({r.id for r in rules}) == len(rules)
    for r in rules:
        assert r.category in CATEGORIES and r.severity in SEVERITIES
        assert r.title and r.rationale and r.recommendation and r.contract_clause and r.guideline_ref
    assert {r.category for r in rules} == set(CATEGORIES)


# -- the three first rules -----------------------------------------------------------------------

@pytest.mark.parametrize("answer", ["いいえ", "対象外"])
def test_two_factor_unsupported(answer):
    findings = run(*[clean_mds(**{TWO_FACTOR: answer})], as_of=AS_OF)
    f = [f for f in findings if f.rule_id == "unsupported.two_factor_auth"]
    assert len(f) == 1
    f = f[0]
    assert f.category == "unsupported" and f.severity == "高" and f.item_ids == [TWO_FACTOR]
    assert f.vendor == "株式会社ABCメディカル" and f.product == "ABC電子カルテ"
    assert f"回答「{answer}」" in f.evidence and "abc_mds.xlsx / Sheet1 / C" in f.evidence
    assert f.source_files == ["abc_mds.xlsx"] and len(f.document_ids) == 1
    assert f.recommendation and f.contract_clause and f.rationale and "14" in f.guideline_ref


def test_unanswered_item():
    doc = clean_mds(**{"4.3": {"answer": "", "answer_status": "unanswered"}})
    assert ids(run(*[doc], as_of=AS_OF)) == [("incomplete.unanswered", ("4.3",))]


def test_unanswered_behind_closed_gate_is_not_flagged():
    doc = clean_mds(**{"12": "非該当", **{i: "対象外" for i in ("12.1", "12.2", "12.3", "12.3.2")},
                       "12.3.1": {"answer": "", "answer_status": "unanswered"},
                       "12.4": "非該当", "12.4.1": {"answer": "", "answer_status": "unanswered"},
                       **{f"12.3.1.1/{t}": "非該当" for t in ("専用線", "公衆網", "IP-VPN", "IPsec-VPN", "TLS1.2以上")}})
    assert run(*[doc], as_of=AS_OF) == []


def test_ambiguous_answer_needs_review():
    doc = clean_mds(**{"5": {"answer": "", "answer_status": "ambiguous", "answer_raw": "はい いいえ"}})
    f = run(*[doc], as_of=AS_OF)
    assert ids(f) == [("ambiguous.answer", ("5",))]
    assert f[0].needs_review and f[0].category == "ambiguous_answer" and "はい いいえ" in f[0].evidence


# -- unsupported ----------------------------------------------------------------------------------

@pytest.mark.parametrize("item_id,rule_id", [
    ("4.3", "unsupported.access_log"), ("4.3.2", "unsupported.log_protection"), ("12.2", "unsupported.encryption"),
    ("12.1", "unsupported.remote_authentication"), ("12.4.1", "unsupported.remote_login_restriction"),
    ("6", "unsupported.malware_protection"), ("4.2", "unsupported.role_based_access"),
])
def test_unsupported_controls(item_id, rule_id):
    findings = run(*[clean_mds(**{item_id: ("いいえ", "機能を有しておりません。")})], as_of=AS_OF)
    assert (rule_id, (item_id,)) in ids(findings)


def test_encryption_not_applicable_when_no_external_communication():
    gate_closed = {"12": "非該当", "12.1": "対象外", "12.2": "対象外", "12.3": "対象外", "12.3.1": "対象外",
                   "12.3.2": "対象外", "12.4": "非該当", "12.4.1": "対象外",
                   **{f"12.3.1.1/{t}": "非該当" for t in ("専用線", "公衆網", "IP-VPN", "IPsec-VPN", "TLS1.2以上")}}
    assert run(*[clean_mds(**gate_closed)], as_of=AS_OF) == []


# -- remarks ---------------------------------------------------------------------------------------

def test_option_remark_quotes_sentence():
    remark = "データベース・ファイルサーバーのHDD冗長化及びバックアップを行います。（オプション）"
    f = run(*[clean_mds(**{"11": ("はい", remark)})], as_of=AS_OF)
    assert ids(f) == [("option.remark", ("11",))]
    assert f[0].quote == remark and f[0].category == "option_dependent" and remark in f[0].evidence


def test_responsibility_shift_remark():
    remark = "弊社推奨のウイルス対策ソフトウェアの導入が可能です。パターンファイルの定期更新作業は、お客様と作業分担の取り決めを行わせていただきます。"
    f = run(*[clean_mds(**{"6": ("はい", remark)})], as_of=AS_OF)
    assert ids(f) == [("responsibility.remark", ("6",))]
    assert f[0].quote == "パターンファイルの定期更新作業は、お客様と作業分担の取り決めを行わせていただきます。"


def test_contradiction_when_yes_but_remark_denies():
    f = run(*[clean_mds(**{"4.1.2": ("はい", "セキュリティデバイスによる認証には対応していません。")})], as_of=AS_OF)
    assert ids(f) == [("contradiction.remark", ("4.1.2",))]
    assert f[0].severity == "高"


def test_no_contradiction_when_answer_is_no():
    f = run(*[clean_mds(**{"4.1.2": ("いいえ", "セキュリティデバイスによる認証には対応していません。")})], as_of=AS_OF)
    assert "contradiction.remark" not in [x.rule_id for x in f]


def test_limitation_log_only_on_server_by_admin():
    f = run(clean_mds(**{"4.3.1": ("はい", "アクセスログは、管理者が、サーバ上で確認できます。")}))
    assert ids(f) == [("limitation.remark", ("4.3.1",))]


def test_limitation_direct_db_access_not_logged():
    remark = ("データベースへの直接アクセスに関しては、ログが残りません。"
              "ただし、一般ユーザはデータベースへ直接アクセスできないよう管理設定しています。")
    f = run(*[clean_mds(**{"4.3": ("はい", remark)})], as_of=AS_OF)
    assert ids(f) == [("limitation.remark", ("4.3",))]
    assert f[0].quote == "データベースへの直接アクセスに関しては、ログが残りません。"


def test_planned_two_factor():
    f = run(*[clean_mds(**{TWO_FACTOR: ("はい", "次期更新時に生体認証との組合せに対応予定です。")})], as_of=AS_OF)
    assert ids(f) == [("contradiction.planned", (TWO_FACTOR,))]


def test_checklist_comment_duty_shift():
    doc = clean_checklist()
    doc.comment = ("(1) につきまして、社内検討中です。(4)～(8) につきまして、施設ご提供・設定の機器を利用。"
                   "及び弊社ではリモートメンテナンス用のルーターを設置していません。")
    f = run(*[doc], as_of=AS_OF)
    assert [x.rule_id for x in f] == ["responsibility.checklist_comment"]
    assert "施設ご提供" in f[0].quote
    assert f[0].item_ids == ["2(4)", "2(5)", "2(6)", "2(7)", "2(8)"]


# -- missing remarks -------------------------------------------------------------------------------

def test_two_factor_yes_without_combination():
    f = run(*[clean_mds(**{TWO_FACTOR: ("はい", "")})], as_of=AS_OF)
    assert ids(f) == [("missing_remark.required", (TWO_FACTOR,))]


def test_footnote_pointing_to_empty_note():
    f = run(*[clean_mds(**{"9": {"answer": "はい", "remark": "13", "remark_ref": "13", "remark_ref_empty": True}})],
                 as_of=AS_OF)
    assert ids(f) == [("missing_remark.footnote_empty", ("9",))]


def test_no_without_reason():
    # Item 3 asks for no remark: a bare いいえ is the answer (reported as unsupported), not a missing remark.
    # Where the form or a hospital rule asks for the reason, see tests/test_rules_precision.py.
    f = run(*[clean_mds(**{"3": "いいえ"})], as_of=AS_OF)
    assert ids(f) == [("unsupported.auto_lock", ("3",))]
    f = run(*[clean_mds(**{"3": ("いいえ", "OSのスクリーンロックで代替してください。")})], as_of=AS_OF)
    assert ("missing_remark.no_without_reason", ("3",)) not in ids(f)


def test_checklist_na_mark_without_explanation():
    doc = clean_checklist(**{"2(7)": {"answer": "", "answer_status": "unanswered", "answer_raw": "="}})
    assert sorted(ids(run(doc))) == [("incomplete.checklist_na", ("2(7)",)), ("missing_remark.checklist_na", ("2(7)",))]
    doc.comment = "(7) につきまして、弊社が管理するネットワーク機器はありません。"
    assert ids(run(doc)) == [("incomplete.checklist_na", ("2(7)",))]


# -- inconsistency ---------------------------------------------------------------------------------

def test_gate_non_applicable_with_answered_children():
    f = run(*[clean_mds(**{"12": "非該当", "12.2": "はい"})], as_of=AS_OF)
    assert ("inconsistency.gate", ("12", "12.2")) in ids(f)


def test_checklist_access_log_yes_vs_mds_no():
    mds = clean_mds(**{"4.3": ("いいえ", "アクセスログ機能は有しておりません。")})
    checklist = clean_checklist()
    checklist.vendor = "ABC メディカル株式会社"  # same vendor, written differently
    f = run(*[mds, checklist], as_of=AS_OF)
    cross = [x for x in f if x.rule_id == "inconsistency.access_log"]
    assert len(cross) == 1
    assert set(cross[0].item_ids) == {"2(6)", "4.3"}
    assert set(cross[0].source_files) == {"abc_mds.xlsx", "abc_checklist.xlsx"}
    assert cross[0].severity == "高"


def test_cross_rule_needs_same_vendor():
    mds = clean_mds(**{"4.3": ("いいえ", "アクセスログ機能は有しておりません。")})
    checklist = clean_checklist()
    checklist.vendor = "XYZシステムズ株式会社"
    assert not ids(run(*[mds, checklist], as_of=AS_OF), "inconsistency.access_log")


# -- documents -------------------------------------------------------------------------------------

def test_remote_maintenance_without_sds():
    f = run(clean_mds(), alone=True)
    assert ids(f) == [("missing_document.sds_required", ("12.4",))]
    assert f[0].category == "missing_document" and f[0].product == "ABC電子カルテ"


def test_no_sds_needed_without_remote_maintenance():
    mds = clean_mds(**{"12.4": "非該当", "12.4.1": "対象外"})
    assert run(mds, alone=True) == []


def test_sds_required_and_present():
    mds = clean_mds()
    sds = make_doc("jahis-sds-5.0", {}, source="abc_sds.xlsx")
    assert ids(run(*[mds, sds], as_of=AS_OF), "missing_document.sds_required") == []


def test_checklist_says_submitted_but_no_mds():
    f = run(clean_checklist(), alone=True)
    assert ids(f) == [("missing_document.disclosure_missing", ("2(3)",))]
    other_vendor = make_doc("jahis-mds-5.0", {"12.4": "非該当", "12.4.1": "対象外"}, vendor="XYZ株式会社")
    assert ids(run(clean_checklist(), other_vendor, alone=True)) == [("missing_document.disclosure_missing", ("2(3)",))]


# -- deadlines and staleness -----------------------------------------------------------------------

def test_deadline_missing_outside_and_passed():
    doc = clean_checklist(**{
        "2(5)": {"answer": "いいえ", "target_date": ""},
        "2(7)": {"answer": "いいえ", "target_date": "2026-05-31"},
        "2(8)": {"answer": "いいえ", "target_date": "2025-05-01"},
        "2(6)": {"answer": "いいえ", "target_date": "2025-05-01", "second_answer": "はい", "second_date": "2025-05-01"},
    })
    got = ids(run(*[doc], as_of=dt.date(2025, 6, 1)))
    assert ("deadline.missing", ("2(5)",)) in got
    assert ("deadline.outside_fiscal_year", ("2(7)",)) in got
    assert ("deadline.passed", ("2(8)",)) in got
    assert not [g for g in got if g[1] == ("2(6)",)]


def test_stale_created_and_old_form():
    doc = make_doc("jahis-mds-4.1", {})
    doc.created = dt.date(2022, 5, 1)
    found = run(*[doc], as_of=AS_OF)
    got = [f.rule_id for f in found]
    # one document, one row: the 作成日 row names the old form too
    assert "stale.created" in got and "stale.form_version" not in got
    assert "GL5.2" in next(f.finding for f in found if f.rule_id == "stale.created")
    doc.created = dt.date(2024, 1, 1)
    got = [f.rule_id for f in run(*[doc], as_of=dt.date(2025, 3, 1))]
    assert "stale.created" not in got and "stale.form_version" not in got


def test_checklist_of_previous_year():
    doc = make_doc("mhlw-checklist-r5-vendor", {}, product="", source="old_checklist.xlsx")
    assert [f.rule_id for f in run(doc)] == ["stale.checklist_year"]
    # The newest form known is not stale even a year later (no newer form exists).
    assert run(clean_checklist(), as_of=dt.date(2026, 11, 27)) == []


def test_bullet_under_renumbered_parent_resolves_concept():
    # GL6.0 sheets may shift numbers (4.1 printed as 5.1); the interpreter links the parent but not the bullet.
    doc = clean_mds(**{TWO_FACTOR: "いいえ"})
    for item in doc.items:
        if item.item_id.startswith("4.1/"):
            item.item_id = "5.1/" + item.item_id.split("/", 1)[1]
            item.catalogue_id, item.concept, item.known, item.parent_id = "", "", False, "5.1"
        elif item.item_id == "4.1":
            item.item_id = "5.1"
    assert ids(run(doc), "unsupported.two_factor_auth") == [("unsupported.two_factor_auth",
                                                             ("5.1/上記のうちの二要素を組み合わせた認証",))]


# -- incomplete ------------------------------------------------------------------------------------

def test_missing_rows_and_blank_header():
    doc = clean_mds()
    doc.items = [i for i in doc.items if i.item_id != "4.3.2"]
    doc.missing_items = ["4.3.2"]
    doc.product = ""
    got = ids(run(*[doc], as_of=AS_OF))
    assert ("incomplete.missing_rows", ("4.3.2",)) in got
    assert ("incomplete.header_disclosure", ()) in got


def test_blank_vendor_recovered_from_file_name_needs_review():
    mds = clean_mds(**{"4.3": ("いいえ", "アクセスログ機能は有しておりません。")})
    checklist = clean_checklist()
    checklist.vendor = ""
    checklist.source_file = "ABCメディカル_事業者確認用チェックリスト.xlsx"
    f = run(*[mds, checklist], as_of=AS_OF)
    cross = [x for x in f if x.rule_id == "inconsistency.access_log"]
    assert len(cross) == 1 and cross[0].needs_review and cross[0].vendor == "株式会社ABCメディカル"


def test_order_is_deterministic_and_risk_ids_stable():
    docs = [clean_mds(**{TWO_FACTOR: "いいえ", "4.3": "いいえ", "5": {"answer": "", "answer_status": "unanswered"}}),
            clean_checklist(**{"2(5)": {"answer": "いいえ", "target_date": ""}})]
    a = evaluate(docs, as_of=AS_OF)
    b = evaluate(list(reversed(docs)), as_of=AS_OF)
    assert [x.risk_id for x in a] == [x.risk_id for x in b]
    sev = [x.severity for x in a]
    assert sev == sorted(sev, key="高中低".index)
