"""MDS2 ↔ JAHIS MDS cross-walk (issue #14): the sample pairs (samples/mds2_pairs.py, fictional makers, our own
wording) through the real readers and rules, and once through the whole pipeline with the HN 1-2013 sample.

The planted pair's vendor names differ (the US maker's MDS2, the Japanese distributor's MDS) and are tied by
`vendor_aliases`; it also carries answers that differ without contradicting (option, N/A, the MDS2's negated
install question, one-way pairs), which must not fire. The clean pair shares one vendor name.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from extractors import extract
from rules.engine import evaluate
from samples.mds2_pairs import PLANTED, VENDOR_ALIASES, build_pairs, fernhill, harrow
from samples.spec import set_answer
from tests.truth import compare

RULE = "inconsistency.mds2_crosswalk"
AS_OF = dt.date(2026, 11, 30)


def _crosswalk(docs, aliases=None) -> list:
    return [f for f in evaluate(docs, as_of=AS_OF, vendor_aliases=aliases) if f.rule_id == RULE]


def _docs(pair, folder: Path) -> list:
    from samples.mds2 import render_xlsx as render_mds2
    from samples.office_xlsx import render_xlsx
    from samples.styles import XLSX_STYLES

    folder.mkdir(parents=True, exist_ok=True)
    mds2, mds = pair
    return [extract(render_mds2(mds2, folder / mds2.file)), extract(render_xlsx(mds, folder / mds.file, XLSX_STYLES["A_mds"]))]


@pytest.fixture(scope="module")
def pair_docs(tmp_path_factory):
    out = tmp_path_factory.mktemp("pairs")
    docs = {}
    for path, truth in build_pairs(out):
        doc = extract(path)
        assert compare(doc, truth) == [], path.name
        docs[path.name] = doc
    return docs


def test_planted_pair_gives_exactly_the_planted_disagreement(pair_docs):
    found = _crosswalk(list(pair_docs.values()), VENDOR_ALIASES)
    assert [sorted(f.item_ids) for f in found] == [sorted(PLANTED["item_ids"])]
    f = found[0]
    assert f.vendor == "ハロウ・ダイアグノスティクス株式会社" and f.category == "inconsistency" and not f.needs_review
    assert {Path(s).name for s in f.source_files} == {"Harrow_HD410_MDS2.xlsx", "ハロウ_HD-410血液ガス分析装置_MDS.xlsx"}
    # Both documents quoted: file, item id, answer, remark.
    assert "「No」" in f.finding and "「該当」" in f.finding
    assert "Harrow_HD410_MDS2.xlsx" in f.evidence and "ハロウ_HD-410血液ガス分析装置_MDS.xlsx" in f.evidence
    assert "no remote service port" in f.evidence and "IP-VPN経由でリモートメンテナンス" in f.evidence


def test_without_the_alias_the_two_makers_are_not_compared(pair_docs):
    assert _crosswalk(list(pair_docs.values())) == []


def test_clean_pair_gives_nothing(pair_docs):
    clean = [d for name, d in pair_docs.items() if name.startswith("Fernhill")]
    assert len(clean) == 2 and _crosswalk(clean) == []


def test_same_vendor_name_pairs_by_device_model(tmp_path):
    """The clean pair with one MDS2 answer changed: grouped by the vendor name, paired by DOC-3 (model) ↔ 製品名称."""
    mds2, mds = fernhill()
    mfa = mds2.item("PAUT-8")
    mfa.answer, mfa.answer_raw = "はい", "Yes"
    found = _crosswalk(_docs((mds2, mds), tmp_path))
    assert [sorted(f.item_ids) for f in found] == [sorted(["PAUT-8", "4.1/上記のうちの二要素を組み合わせた認証"])]
    other = fernhill()[1]
    other.product = "FM-12 輸液ポンプ"  # another product of the same vendor: nothing to compare
    other.header_fields["製品名称"] = other.product
    assert _crosswalk(_docs((mds2, other), tmp_path / "other")) == []


@pytest.mark.parametrize("what", ["mds2_option_word", "jahis_option_remark", "two_mds2_rows_one_jahis_row"])
def test_a_second_disagreement_once_its_guard_is_taken_away(tmp_path, what):
    mds2, mds = harrow()
    if what == "mds2_option_word":  # PAUT-11 「Yes, optional」 against 4.1/生体認証 いいえ
        bio = mds2.item("PAUT-11")
        bio.answer_raw, bio.remark = "Yes", ""
        want = {"PAUT-11", "4.1/生体認証"}
    elif what == "jahis_option_remark":  # MLDP-2 Yes against 6 いいえ 「…オプションで導入できます。」
        next(i for i in mds.items if i.item_id == "6").remark = "ウイルス対策ソフトは導入していません。"
        want = {"MLDP-2", "6"}
    else:  # 12.2 暗号化 いいえ against TXCF-2 and TXCF-2.1 Yes: one finding naming both MDS2 rows
        set_answer(mds.items, "12.2", "いいえ")
        want = {"12.2", "TXCF-2", "TXCF-2.1"}
    found = {frozenset(f.item_ids) for f in _crosswalk(_docs((mds2, mds), tmp_path), VENDOR_ALIASES)}
    assert found == {frozenset(PLANTED["item_ids"]), frozenset(want)}


def test_mapping_refuses_an_unknown_mds2_id(tmp_path):
    from rules.concept_maps import MAPPINGS_FILE, load_mappings
    from rules.schema import ConfigError

    bad = tmp_path / "concepts.yaml"
    bad.write_text(MAPPINGS_FILE.read_text(encoding="utf-8").replace("{mds2: [PAUT-8]", "{mds2: [PAUT-88]"),
                   encoding="utf-8")
    with pytest.raises(ConfigError, match="PAUT-88"):
        load_mappings(bad)


def test_pipeline_run_finds_the_planted_one_and_reports_mds2_and_2013(prefect_harness, tmp_path):
    import docx
    import pandas as pd

    from pipeline.flow import process_inbox
    from samples.build import write_truth
    from samples.mds2 import render_hn2013

    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    for path, truth in build_pairs(inbox) + [render_hn2013(inbox / "Quillon_MDS2_2013.xlsx")]:
        write_truth(path, truth).unlink()  # the truth is not an inbox file
    config = tmp_path / "mdsgap.yaml"
    config.write_text("vendor_aliases:\n" + "".join(f"  \"{k}\": \"{v}\"\n" for k, v in VENDOR_ALIASES.items()),
                      encoding="utf-8")
    summary = process_inbox(inbox=inbox, out=out, as_of=AS_OF, config_path=config)
    assert not summary.failures, summary.failures
    register = pd.read_parquet(out / "risk_register.parquet")
    rows = register[register["rule_id"] == RULE]
    assert len(rows) == 1 and sorted(rows.iloc[0]["item_ids"].split(", ")) == sorted(PLANTED["item_ids"])

    answers = pd.read_csv(out / "answers.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    old = answers[answers["source_file"].str.endswith("Quillon_MDS2_2013.xlsx")]
    assert len(old) == 7 and set(old["form_version"]) == {"HN 1-2013"}
    assert set(old["vendor"]) == {"Quillon Renal Care Corp."} and set(old["needs_review"]) == {"True"}
    mfa = answers[answers["source_file"].str.endswith("Harrow_HD410_MDS2.xlsx") & (answers["item_id"] == "PAUT-8")]
    assert mfa.iloc[0]["question"].startswith("Multi-factor authentication")  # English in answers.csv

    reports = {p.name: p.read_text(encoding="utf-8") for p in (out / "reports").glob("*.html")}
    assert any("HN 1-2013" in html for html in reports.values())  # the older edition is reported as such
    # The distributor's report quotes the maker's MDS2 row too: English question led by the Japanese concept label.
    label = "【リモートサービス】Remote service connections are permitted?"
    distributor = next(html for name, html in reports.items() if name.startswith("ハロウ"))
    assert label in distributor and "リモートメンテナンス機能を有するか" in distributor
    memo = next(p for p in (out / "negotiation").glob("*.docx") if p.name.startswith("ハロウ"))
    text = "\n".join(par.text for par in docx.Document(str(memo)).paragraphs)
    assert label in text and "食い違" in text
