"""NEMA MDS2 (HN 1-2019): detection, reading XLSX and its PDF print, notes, header fields, the 2013 edition.

Real files: the MDS2 samples (samples/mds2.py, fictional manufacturers, our own question wording) written
as XLSX and printed to PDF by LibreOffice, and small worksheets written here with openpyxl.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from extractors.interpret import interpret
from extractors.mds2 import canonical_id, concept_label, detect_mds2, split_answer
from extractors.readers import read
from samples.metamorphic_writers import soffice_binary
from samples.mds2 import build_mds2, kestrel, render_xlsx


@pytest.fixture(scope="module")
def mds2_samples(tmp_path_factory) -> list[tuple[Path, dict]]:
    out = tmp_path_factory.mktemp("mds2")
    return build_mds2(out, pdf=soffice_binary() is not None)


def _check_against_truth(path: Path, truth: dict) -> None:
    doc = interpret(read(path), "0" * 64)
    assert (doc.family, doc.form_version, doc.form_id) == ("mds2", "HN 1-2019", "nema-mds2-2019")
    assert (doc.vendor, doc.product, doc.product_version) == (truth["vendor"], truth["product"],
                                                               truth["product_version"])
    assert doc.created is not None and doc.created.isoformat() == truth["created"]
    got = {i.item_id: i for i in doc.items}
    assert [i.item_id for i in doc.items] == [t["item_id"] for t in truth["items"]]
    assert not any(i.item_id.startswith("DOC-") and i.item_id in {f"DOC-{n}" for n in range(1, 8)}
                   for i in doc.items), "DOC-1 … DOC-7 are header fields, not rows"
    for t in truth["items"]:
        item = got[t["item_id"]]
        assert (item.answer, item.answer_raw, item.remark, item.number_printed) == \
            (t["answer"], t["answer_raw"], t["remark"], t["number_printed"]), t["item_id"]
        assert item.question.replace(" ", "") == t["question"].replace(" ", ""), t["item_id"]
        assert item.needs_review == t["needs_review"], (t["item_id"], item.review_reason)
        assert item.location is not None and item.location.cell
        if item.needs_review:
            assert item.review_reason
    assert doc.footnotes == truth["footnotes"]
    assert doc.missing_items == []


def test_mds2_xlsx_samples_match_truth(mds2_samples):
    xlsx = [(p, t) for p, t in mds2_samples if p.suffix == ".xlsx"]
    assert len(xlsx) == 2
    for path, truth in xlsx:
        _check_against_truth(path, truth)


@pytest.mark.skipif(soffice_binary() is None, reason="LibreOffice がないため PDF 印刷を作れません")
def test_mds2_pdf_print_gives_the_same_rows(mds2_samples):
    pdfs = [(p, t) for p, t in mds2_samples if p.suffix == ".pdf"]
    assert len(pdfs) == 2
    for path, truth in pdfs:
        _check_against_truth(path, truth)
        doc = interpret(read(path), "0" * 64)
        assert all(i.location.page for i in doc.items)


@pytest.mark.skipif(soffice_binary() is None, reason="LibreOffice がないため PDF 印刷を作れません")
def test_mds2_pdf_print_portrait_with_mapping_columns(tmp_path):
    from samples.metamorphic_writers import print_pdf

    sub = kestrel()
    xlsx = render_xlsx(sub, tmp_path / "wide.xlsx", print_columns="G", orientation="portrait")
    _check_against_truth(print_pdf(xlsx, tmp_path / "wide.pdf"), sub.truth())


def test_mds2_concepts_and_planted_answers(mds2_samples):
    path = next(p for p, t in mds2_samples if p.name.startswith("Kestrel") and p.suffix == ".xlsx")
    doc = interpret(read(path), "0" * 64)
    mfa = doc.item("PAUT-8")
    assert (mfa.concept, mfa.answer, mfa.remark, mfa.known) == ("two_factor_auth", "はい", "optional", True)
    assert doc.item("SBOM-1").concept == "sbom" and doc.item("RMOT-1").concept == "remote_maintenance"
    assert doc.item("AUDT-2").concept == "access_log"
    assert concept_label("two_factor_auth") == "二要素認証" and concept_label("sbom") == "SBOM"
    typo = doc.item("SAHD-15")
    assert typo.number_printed == "SHDA-15" and typo.needs_review and "SHDA-15" in typo.review_reason
    see_note = doc.item("SAHD-16")
    assert see_note.answer == "" and see_note.needs_review and see_note.remark.startswith("Hardening")


def test_split_answer_words():
    assert split_answer("Yes, optional") == ("はい", "optional", "", "")
    assert split_answer("No: hardware appliance") == ("いいえ", "hardware appliance", "", "")
    assert split_answer("N/A") == ("対象外", "", "", "")
    assert split_answer("Yes, see Note 4")[:3] == ("はい", "", "4")
    answer, _, ref, doubt = split_answer("See Note 2")
    assert (answer, ref) == ("", "2") and doubt
    answer, _, _, doubt = split_answer("Partially")
    assert answer == "" and "Partially" in doubt
    assert split_answer("Nothing")[0] == ""  # a word that starts like 「No」 is no answer


def test_canonical_id_corrects_a_transposed_section_code_with_doubt():
    assert canonical_id("PAUT-8") == ("PAUT-8", "")
    fixed, doubt = canonical_id("SHAD-15")
    assert fixed == "SAHD-15" and doubt
    assert canonical_id("QQQQ-3") == ("QQQQ-3", "")


def _worksheet(path: Path, rows: list[list], title: str) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "mds2-form"
    ws.append([title])
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def test_unknown_ids_are_kept_and_notes_resolved(tmp_path):
    rows = [["Question ID", "Question", None, "See note"],
            ["DOC-1", "Manufacturer Name", "Wrenfield Devices Ltd", "__"],
            ["DOC-2", "Device Description", "Infusion pump WP-3", "__"],
            ["DOC-7", "Document Release Date", "14-Feb-2024", "__"]]
    rows += [[f"PAUT-{n}", f"Own wording for person authentication question {n}?", "Yes", "__"] for n in range(1, 8)]
    rows += [["PAUT-8", "Own wording: more than one factor?", "Yes, admin only", "See Note 1"],
             ["PAUT-9", "Own wording for single sign-on?", "No", "__"],
             ["ZZQX-4", "A row this catalogue does not have?", "No", "__"],
             [None, "Notes:"], ["Note 1", "Second factor is a hardware key issued by the facility."]]
    doc = interpret(read(_worksheet(tmp_path / "wrenfield.xlsx", rows, "Manufacturer Disclosure Statement "
                                    "for Medical Device Security -- MDS2")), "0" * 64)
    assert (doc.family, doc.vendor, doc.product, doc.created.isoformat()) == \
        ("mds2", "Wrenfield Devices Ltd", "Infusion pump WP-3", "2024-02-14")
    unknown = doc.item("ZZQX-4")
    assert unknown is not None and unknown.known is False and unknown.answer == "いいえ"
    mfa = doc.item("PAUT-8")
    assert mfa.remark == "admin only\nSecond factor is a hardware key issued by the facility."
    assert mfa.remark_ref == "1" and mfa.location.cell == "C13"
    assert "PAUT-9" in {i.item_id for i in doc.items} and "AUDT-2" in doc.missing_items


def _hn2013(folder: Path, release_date: str) -> Path:
    """An HN 1-2013 worksheet of a fictional maker: header labels over values, numbered questions, CNFS."""
    rows = [["Device Category", "Manufacturer", "Document ID", "Document Release Date"],
            ["Ventilator", "Osprey Respiratory Inc.", "OR-77", release_date],
            ["HIMSS/NEMA HN 1-2013"],
            ["A", "Own wording: can the device hold private data?", "Yes", "__"],
            [None, "AUTOMATIC LOGOFF (ALOF)"]]
    rows += [[f"1-{n}", f"Own wording for an older logoff question {n}?", "Yes" if n % 2 else "No", "__"]
             for n in range(1, 4)]
    rows += [[None, "CONFIGURATION OF SECURITY FEATURES (CNFS)"],
             ["4-1", "Own wording for configuring security features?", "N/A", "__"]]
    return _worksheet(folder / "osprey.xlsx", rows, "Manufacturer Disclosure Statement for Medical Device Security – MDS2")


def test_hn_2013_form_is_recognised_and_flagged(tmp_path):
    grid = read(_hn2013(tmp_path, "2016-05-01"))
    assert detect_mds2(grid) == "HN 1-2013"
    doc = interpret(grid, "0" * 64)
    assert (doc.family, doc.form_version) == ("mds2", "HN 1-2013")
    assert (doc.vendor, doc.created.isoformat()) == ("Osprey Respiratory Inc.", "2016-05-01")  # labels over values
    assert [i.item_id for i in doc.items] == ["A", "1-1", "1-2", "1-3", "4-1"]
    assert [i.answer for i in doc.items] == ["はい", "はい", "いいえ", "はい", "対象外"]
    assert all(not i.known and i.needs_review and "HN 1-2013" in i.review_reason for i in doc.items)
    assert any("HN 1-2013" in w for w in doc.warnings)
    assert not any("読み取れませんでした" in w for w in doc.warnings)


def test_an_unreadable_release_date_of_the_2013_header_is_said(tmp_path):
    doc = interpret(read(_hn2013(tmp_path, "spring of last year")), "0" * 64)
    assert doc.vendor == "Osprey Respiratory Inc." and doc.created is None
    assert doc.header_fields["Document Release Date"] == "spring of last year"
    assert any("「spring of last year」を読み取れませんでした" in w for w in doc.warnings)


def test_japanese_forms_are_not_mds2(tmp_path):
    rows = [["製造業者による医療情報セキュリティ開示書"], ["項番", "質問", "はい", "いいえ", "対象外", "備考"],
            ["1", "扱う情報のリストを医療機関等に提示できるか？", "○", None, None, None],
            ["2", "Is there an MDS2 for the device?", "○", None, None, None]]
    grid = read(_worksheet(tmp_path / "jp.xlsx", rows, "開示書"))
    assert detect_mds2(grid) == ""



def test_mds2_findings_on_the_samples_and_none_on_a_clean_one(mds2_samples):
    import datetime as dt

    from rules.engine import evaluate

    found = {}
    for path, _ in mds2_samples:
        if path.suffix != ".xlsx":
            continue
        doc = interpret(read(path), path.name.ljust(64, "0"))
        found[path.name.split("_")[0]] = {(f.rule_id, tuple(f.item_ids)) for f in evaluate([doc], as_of=dt.date(2026, 11, 30))}
    assert found["Larkspur"] == set()
    kestrel = found["Kestrel"]
    assert ("inconsistency.mds2_parent_child", ("SBOM-1", "SBOM-2")) in kestrel
    assert ("inconsistency.mds2_remote_without_log", ("RMOT-1", "AUDT-2.8.1")) in kestrel
    assert ("option.mds2_words", ("PAUT-8",)) in kestrel
    assert ("unsupported.mds2_sbom", ("SBOM-1",)) in kestrel
    assert not any(rule == "inconsistency.mds2_parent_child" and ids[1] in ("SBOM-3", "SBOM-4") for rule, ids in kestrel)
