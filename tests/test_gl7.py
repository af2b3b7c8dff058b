"""Guideline 第7.0版 and the 令和8年度 checklist (issue #13), on real files written by samples/gl7.py."""
from __future__ import annotations

import pytest

from extractors import extract
from samples.gl7 import build_gl7


@pytest.fixture(scope="module")
def gl7_inbox(tmp_path_factory):
    out = tmp_path_factory.mktemp("gl7") / "inbox"
    build_gl7(out)
    return out


@pytest.fixture(scope="module")
def docs(gl7_inbox):
    return {p.name: extract(p) for p in sorted(gl7_inbox.glob("*.xlsx"))}


def _doc(docs, part):
    return next(d for name, d in docs.items() if part in name)


def test_r8_vendor_checklist_is_told_apart_by_title_and_year(docs):
    d = _doc(docs, "事業者確認用_R8")
    assert (d.family, d.form_id, d.form_version) == ("checklist_vendor", "mhlw-checklist-r8-vendor", "令和8年度")
    by_concept = {i.concept: i for i in d.items if i.concept}
    tfa = by_concept["two_factor_auth"]
    assert tfa.item_id == "2(11)" and tfa.answer == "いいえ" and tfa.first_date == "2026-07-14"
    assert tfa.target_date == "2027-03-19"
    assert by_concept["password_reuse_ban"].answer == "いいえ"
    assert by_concept["account_lockout"].answer == "はい"
    # A row whose wording the catalogue does not know is kept, by its number and text, as unknown.
    unknown = [i for i in d.items if not i.known]
    assert [i.item_id for i in unknown] == ["2(12)"] and "責任分界" in unknown[0].question
    assert unknown[0].answer == "はい"


def test_r8_facility_checklist_joint_title(docs):
    d = _doc(docs, "医療機関・薬局確認用_R8")
    assert (d.family, d.form_id, d.form_version) == ("checklist_facility", "mhlw-checklist-r8-facility", "令和8年度")
    tfa = next(i for i in d.items if i.concept == "two_factor_auth")
    assert tfa.answer == "はい" and "予定" in tfa.remark
    assert [i.item_id for i in d.items if not i.known] == ["2(7)"]
    lock = next(i for i in d.items if i.concept == "account_lockout")
    assert lock.answer == "いいえ" and lock.target_date == "2027-02-26"


def test_earlier_checklist_years_keep_their_forms():
    from extractors.formdetect import detect_form
    from extractors.grid import Cell, Grid, Table

    def grid(title):
        return Grid(source="x.xlsx", format="xlsx", tables=[Table(name="s", rows=[[Cell(text=title)]])])

    r7 = detect_form(grid("医療機関等におけるサイバーセキュリティ対策チェックリスト 事業者確認用（令和7年度）"))
    assert r7.form.id == "mhlw-checklist-r7-vendor"
    # The joint hospital/pharmacy title without a printed year is the 令和8年度 form.
    r8 = detect_form(grid("医療機関・薬局におけるサイバーセキュリティ対策チェックリスト 事業者確認用"))
    assert r8.form.id == "mhlw-checklist-r8-vendor" and r8.form_version == "令和8年度"


def test_guideline_version_is_a_header_field(docs, tmp_path):
    from pipeline.answers import answers_frame

    gl7 = _doc(docs, "MDS_GL7")
    assert gl7.guideline_version == "7.0" and gl7.form_id == "jahis-mds-5.0"
    assert _doc(docs, "いなほ").guideline_version == "5.2"
    assert _doc(docs, "事業者確認用_R8").guideline_version == ""  # not printed: not guessed
    df = answers_frame(list(docs.values()))
    assert "guideline_version" in df.columns
    assert set(df.loc[df["source_file"].str.contains("MDS_GL7"), "guideline_version"]) == {"7.0"}


def test_report_shows_the_unknown_rows(docs):
    from pipeline.report_data import group_by_vendor_product
    from pipeline.reports import render_report

    d = _doc(docs, "事業者確認用_R8")
    group = group_by_vendor_product([d], [])[0]
    html = render_report(group)
    assert "カタログ）にない項目" in html and "2(12)「医療機関・薬局との責任分界" in html
