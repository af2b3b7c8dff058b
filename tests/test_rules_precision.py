"""Precision: compliant answers and remarks must not fire, and the gap next to them still must.

Each test pairs a wording that answers the form's own question (no finding) with the nearest wording that is
a real gap (finding). All wording and vendors are invented for these tests.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

import rules.checks_remark as checks  # where no_without_remark reads the catalogue
from rules.catalog import load_config
from rules.engine import evaluate
from tests.test_rules import AS_OF, clean_checklist, clean_mds, ids, make_doc, run


def rule_ids(findings, prefix=""):
    return [(f.rule_id, tuple(f.item_ids)) for f in findings if f.rule_id.startswith(prefix)]


# -- いいえ without a reason: only where the form (or the hospital) asks for one ------------------------

@pytest.mark.parametrize("item", ["2", "3", "8", "11"])
def test_bare_no_where_the_form_asks_no_remark_is_no_missing_remark(item):
    found = run(clean_mds(**{item: "いいえ"}))
    assert not rule_ids(found, "missing_remark.")


def test_bare_no_where_the_catalogue_asks_for_a_remark_still_fires(monkeypatch):
    real = checks.catalogue_item

    def asking(doc, item):
        cat = real(doc, item)
        if cat is not None and cat.id == "2":
            return dataclasses.replace(cat, remark_required_if="いいえ")
        return cat

    monkeypatch.setattr(checks, "catalogue_item", asking)
    assert ("missing_remark.no_without_reason", ("2",)) in ids(run(clean_mds(**{"2": "いいえ"})))
    explained = clean_mds(**{"2": ("いいえ", "画面フィルタは市販品での対応となります。")})
    assert ("missing_remark.no_without_reason", ("2",)) not in ids(run(explained))
    # a はい on that item needs no reason
    assert ("missing_remark.no_without_reason", ("2",)) not in ids(run(clean_mds()))


def test_hospital_rule_naming_concepts_asks_for_a_reason(tmp_path):
    rule_dir = tmp_path / "ours"
    rule_dir.mkdir()
    (rule_dir / "reasons.yaml").write_text("""
rules:
  - id: hospital.screen_privacy_reason
    title: 覗き見防止が「いいえ」で理由がない
    category: missing_remark
    severity: 低
    applies_to: {families: [mds, sds]}
    condition: {check: no_without_remark, concepts: [screen_privacy], answer_in: [いいえ]}
    rationale: 当院は外来受付端末の覗き見防止を重視している。
    recommendation: 理由と代替策を確認する。
    contract_clause: 乙は覗き見防止の代替策を示す。
""", encoding="utf-8")
    (tmp_path / "rules_config.yaml").write_text("extra_rule_dirs: [ours]\n", encoding="utf-8")
    cfg = load_config(tmp_path / "rules_config.yaml")
    doc = clean_mds(**{"2": "いいえ"})
    assert ("hospital.screen_privacy_reason", ("2",)) in ids(evaluate([doc, make_doc("jahis-sds-5.0", {}, source="s.xlsx")],
                                                                   AS_OF, cfg))
    doc = clean_mds(**{"2": ("いいえ", "端末側の偏光フィルムでの対応をお勧めします。")})
    assert not rule_ids(evaluate([doc], AS_OF, cfg), "hospital.")


# -- 「要求に応じて提出」 answers the question 「提示できるか」 ---------------------------------------------

@pytest.mark.parametrize("item,remark", [
    ("1", "取り扱うデータ項目の一覧は、ご依頼があれば開示可能です。"),
    ("1", "お求めに応じて一覧表を提出可能です。"),
    ("12.3.2", "経路制御の設計書はご要望に応じて提示可能です。"),
])
def test_on_request_on_a_question_about_presenting_is_compliant(item, remark):
    assert not rule_ids(run(clean_mds(**{item: ("はい", remark)})), "missing_document.")


def test_on_request_for_evidence_of_another_item_still_fires():
    found = run(clean_mds(**{"4.3.1": ("はい", "操作履歴の帳票はご要望に応じて開示可能です。")}))
    assert ("missing_document.on_request", ("4.3.1",)) in ids(found)


# -- MDS ↔ SDS: the vendor's remote-maintenance service SDS covers its products -------------------------

def _mds(product="病棟看護支援システム ナースノート", **answers):
    return make_doc("jahis-mds-5.0", {"12.4": "該当", **answers}, product=product, source="nn_mds.xlsx")


def _sds(product, source="svc_sds.xlsx", vendor="株式会社ABCメディカル", **answers):
    return make_doc("jahis-sds-5.0", answers, product=product, source=source, vendor=vendor)


@pytest.mark.parametrize("service", ["ABC遠隔保守サービス", "保守センター リモートメンテナンスサービス",
                                     "ABC Remote Maintenance Service", "ABC RemoteService", "ABC リモートサービス"])
def test_service_sds_of_the_same_vendor_covers_the_mds(service):
    assert not rule_ids(run(_mds(), _sds(service), alone=True), "missing_document.sds_required")


@pytest.mark.parametrize("sds", [
    _sds("ABCクラウド予約サービス"),                                   # another service, not remote maintenance
    _sds("ABC遠隔保守サービス", **{"12.4": "非該当"}),                  # says itself it has no remote maintenance
    _sds("ABC遠隔保守サービス", vendor="株式会社みどり保守サポート"),     # another vendor's service
])
def test_sds_that_does_not_cover_the_remote_maintenance_still_fires(sds):
    found = run(_mds(), sds, alone=True)
    assert ("missing_document.sds_required", ("12.4",)) in ids(found)


def test_no_sds_at_all_still_fires():
    assert ("missing_document.sds_required", ("12.4",)) in ids(run(_mds(), alone=True))


# -- remarks that describe the control the item asks about -----------------------------------------------

@pytest.mark.parametrize("remark", [
    "閲覧権限を持たない職員は記録を開けません。",
    "許可されていない利用者は監査記録にアクセスできません。",
    "記録画面は管理メニューにあります。権限のない利用者には表示されません。",
])
def test_restriction_of_unauthorised_users_is_no_contradiction(remark):
    found = run(clean_mds(**{"4.3.2": ("はい", remark)}))
    assert not rule_ids(found, "contradiction.") and not rule_ids(found, "limitation.")


def test_a_denied_restriction_function_still_fires():
    found = run(clean_mds(**{"4.3.2": ("はい", "記録ファイルの閲覧を制限する仕組みは備えていません。")}))
    assert ("contradiction.remark", ("4.3.2",)) in ids(found)
    found = run(clean_mds(**{"4.3.1": ("はい", "利用者には記録の閲覧権限がありません。")}))
    assert ("contradiction.remark", ("4.3.1",)) in ids(found)
    found = run(clean_mds(**{"4.3.2": ("はい", "権限のない職員が記録を開けないようにする仕組みはありません。")}))
    assert ("contradiction.remark", ("4.3.2",)) in ids(found)


@pytest.mark.parametrize("item,remark", [
    ("12.4", "保守作業の手順は別添の保守要領書に従います。"),
    ("12.4", "接続手順は弊社の標準作業手順に沿って実施します。"),
    ("5", "院内のタイムサーバ、又は当社のタイムサーバと時刻を合わせる機能があります。"),
    ("5", "当社提供の時刻サーバ、もしくは病院指定のサーバを同期先に選べます。"),
])
def test_vendor_specification_or_vendor_alternative_is_no_duty_shift(item, remark):
    assert not rule_ids(run(clean_mds(**{item: ("はい" if item == "5" else "該当", remark)})), "responsibility.")


@pytest.mark.parametrize("item,remark", [
    ("12.4", "回線の設定は貴院の情報管理規程に従います。"),
    ("5", "時刻の同期先は病院指定のNTPサーバとなります。"),
    ("6", "定義ファイルの更新はお客様の運用ルールに沿ってご対応ください。"),
])
def test_hospital_duty_still_fires(item, remark):
    answer = "該当" if item == "12.4" else "はい"
    found = run(clean_mds(**{item: (answer, remark)}))
    assert ("responsibility.remark", (item,)) in ids(found)


def test_separate_verification_is_no_option_but_extra_cost_is():
    found = run(clean_mds(**{"8": ("はい", "他社製ツールを入れる際は別途検証のうえ可否をご連絡します。")}))
    assert not rule_ids(found, "option.")
    found = run(clean_mds(**{"8": ("はい", "制限ツールは別途費用にてご提供します。")}))
    assert ("option.remark", ("8",)) in ids(found)


def test_fallback_mode_is_the_answer_to_the_fallback_question():
    found = run(clean_mds(**{"4.1.2": ("はい", "カード紛失時はパスワードのみの認証へ切り替えて利用できます。")}))
    assert not rule_ids(found, "limitation.")
    found = run(clean_mds(**{"4.1.2": ("はい", "代替手段はありますが、管理者のみが操作できます。")}))
    assert ("limitation.remark", ("4.1.2",)) in ids(found)


# -- a checklist without a vendor name: a review item, never a missing document -------------------------

def test_unnamed_checklist_claims_no_missing_document():
    checklist = clean_checklist()
    checklist.vendor = ""
    checklist.source_file = "checklist_scan_01.xlsx"
    found = evaluate([checklist, make_doc("jahis-mds-5.0", {}, vendor="株式会社そよかぜ医療", source="s_mds.xlsx",
                                          product="そよかぜ検査", **{}),
                      make_doc("jahis-sds-5.0", {}, vendor="株式会社そよかぜ医療", source="s_sds.xlsx",
                               product="そよかぜ検査")], as_of=AS_OF)
    assert not rule_ids(found, "missing_document.")
    assert [f.rule_id for f in found if f.category == "incomplete"] == ["incomplete.header_checklist"]


def test_named_checklist_without_disclosure_still_fires():
    found = evaluate([clean_checklist()], as_of=AS_OF)
    assert [f.rule_id for f in found if f.category == "missing_document"] == ["missing_document.disclosure_missing"]


# -- stale documents: one row per vendor, one row per document -------------------------------------------

def test_old_form_is_one_row_per_vendor():
    mds = make_doc("jahis-mds-4.1", {}, product="みなもと画像管理", source="minamoto_mds.xlsx")
    sds = make_doc("jahis-sds-4.1", {}, product="みなもと遠隔保守サービス", source="minamoto_sds.xlsx")
    other = make_doc("jahis-mds-4.1", {}, vendor="株式会社こだま医工", product="こだま検査", source="kodama_mds.xlsx")
    found = [f for f in run(mds, sds, other, alone=True) if f.category == "stale_document"]
    assert sorted((f.vendor, f.rule_id, tuple(sorted(f.source_files))) for f in found) == [
        ("株式会社ABCメディカル", "stale.form_version", ("minamoto_mds.xlsx", "minamoto_sds.xlsx")),
        ("株式会社こだま医工", "stale.form_version", ("kodama_mds.xlsx",))]
    mine = next(f for f in found if f.vendor == "株式会社ABCメディカル")
    assert "minamoto_mds.xlsx" in mine.finding and "minamoto_sds.xlsx" in mine.finding and mine.product == ""
    assert next(f for f in found if f.vendor != "株式会社ABCメディカル").product == "こだま検査"


def test_old_and_outdated_document_is_one_row_and_its_sibling_keeps_the_form_row():
    old = make_doc("jahis-mds-4.1", {}, product="みなもと画像管理", source="minamoto_mds.xlsx",
                   created=dt.date(2021, 6, 1))
    sibling = make_doc("jahis-sds-4.1", {}, product="みなもと遠隔保守サービス", source="minamoto_sds.xlsx")
    found = [f for f in run(old, sibling, alone=True) if f.category == "stale_document"]
    assert sorted((f.rule_id, tuple(f.source_files)) for f in found) == [
        ("stale.created", ("minamoto_mds.xlsx",)), ("stale.form_version", ("minamoto_sds.xlsx",))]
    # a current form: only the date
    current = make_doc("jahis-mds-5.0", {}, created=dt.date(2021, 6, 1))
    found = [f for f in run(current, alone=True) if f.category == "stale_document"]
    assert [f.rule_id for f in found] == ["stale.created"] and "様式" not in found[0].finding
