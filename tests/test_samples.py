"""The sample builder writes sound vendor files, each with a truth JSON that agrees with the file."""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import docx
import openpyxl
import pdfplumber
import pytest

from extractors.forms import get_form, text_similarity
from samples.build import build, main

REQUIRED_CATEGORIES = {"unsupported", "option_dependent", "responsibility_shift", "remark_contradiction",
                       "limitation", "missing_remark", "inconsistency", "missing_document", "checklist_deadline",
                       "stale_document", "incomplete", "ambiguous_answer"}
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
W14 = "{http://schemas.microsoft.com/office/word/2010/wordml}"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("samples")
    build(out, legacy=shutil.which("soffice") is not None)
    return out


def truths(out: Path) -> dict[str, dict]:
    return {p.name[: -len(".truth.json")]: json.loads(p.read_text(encoding="utf-8"))
            for p in out.glob("*.truth.json")}


def good(out: Path) -> dict[str, dict]:
    return {k: v for k, v in truths(out).items() if not v.get("expect_failure")}


def by_convention(out: Path, fragment: str) -> list[tuple[Path, dict]]:
    """Samples of one convention (legacy copies, which repeat their source's convention, left out)."""
    return [(out / name, t) for name, t in truths(out).items()
            if fragment in t["convention"] and not t["convention"].startswith("legacy")]


def test_every_file_has_truth_naming_it(built):
    files = [p for p in built.iterdir() if not p.name.endswith(".truth.json")]
    assert len(files) >= 25
    for f in files:
        tpath = f.with_name(f.name + ".truth.json")
        assert tpath.exists(), f.name
        assert json.loads(tpath.read_text(encoding="utf-8"))["file"] == f.name


def test_conventions_are_all_present(built):
    conventions = " ".join(t["convention"] for t in truths(built).values())
    for fragment in ("mark-columns(○)", "dropdown", "ellipse", "(■□)", "(☑☐)", "w14-checkbox", "formcheckbox",
                     "footnotes-below", "footnote-sheet", "footnote-table", "GL6.0", "checklist-combined",
                     "split-cells", "chosen-word", "R7-circled", "device-headings", "bad-corrupt", "bad-empty",
                     "bad-not_a_form", "bad-ignored"):
        assert fragment in conventions, fragment
    if shutil.which("soffice"):
        assert "legacy-xls" in conventions and "legacy-doc" in conventions


def test_every_xlsx_opens_and_prints_its_item_numbers(built):
    for name, t in good(built).items():
        if not name.endswith(".xlsx"):
            continue
        wb = openpyxl.load_workbook(built / name)
        text = "\n".join(str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True)
                         for v in row if v is not None)
        for it in t["items"]:
            if it["number_printed"]:
                assert it["number_printed"] in text, (name, it["item_id"])
        if t["vendor"]:
            assert t["vendor"] in text, name


def _marked_rows(path: Path) -> list[list[str]]:
    """Per item row of a mark-column sheet: the option words marked (glyph in a column under the word,
    or a glyph written in front of a 該当/非該当 word)."""
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    rows = list(ws.iter_rows(values_only=True))
    h = next(k for k, r in enumerate(rows) if "はい" in r and "いいえ" in r)
    header = rows[h]
    glyphs = "○〇●✓レx"  # x: one row marked with a typed x (a doubtful mark the truth expects flagged)
    out = []
    for r in rows[h + 1:]:
        marked = []
        for word, v in zip(header, r):
            if not isinstance(v, str) or word not in ("はい", "いいえ", "対象外", "該当", "非該当"):
                continue
            if v in glyphs:
                marked.append(word)
            elif v[:1] in glyphs and v[1:] in ("該当", "非該当"):
                marked.append(v[1:])
        if marked:
            out.append(marked)
    return out


def test_mark_column_sheets_mark_the_truth_answers(built):
    samples = by_convention(built, "mark-columns")
    assert {t["convention"].split("(")[1][0] for _, t in samples} >= {"○", "●", "✓", "レ"}
    for path, t in samples:
        rows = _marked_rows(path)
        single = [m[0] for m in rows if len(m) == 1]
        assert single == [it["answer"] for it in t["items"] if it["answer_status"] == "answered"], path.name
        assert sum(len(m) > 1 for m in rows) == sum(it["answer_status"] == "ambiguous" for it in t["items"])


def test_every_docx_opens(built):
    for name, t in good(built).items():
        if name.endswith(".docx"):
            d = docx.Document(built / name)
            assert d.tables, name


def test_dropdown_xlsx_uses_a_hidden_choice_sheet(built):
    [(path, t)] = by_convention(built, "dropdown")
    wb = openpyxl.load_workbook(path)
    assert wb["選択肢"].sheet_state == "hidden"
    formulas = {dv.formula1 for ws in wb.worksheets for dv in ws.data_validations.dataValidation}
    assert {"選択肢!$A$1:$A$3", "選択肢!$B$1:$B$2"} <= formulas
    form = next(ws for ws in wb.worksheets if ws.data_validations.dataValidation)
    values = [v for row in form.iter_rows(values_only=True) for v in row]
    assert values.count("非該当") == sum(1 for it in t["items"] if it["answer"] == "非該当")


def _ellipse_count(path: Path) -> int:
    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/drawings/drawing1.xml").decode("utf-8")
        rels = [n for n in z.namelist() if n.startswith("xl/worksheets/_rels/")]
        assert any(b"drawings/drawing1.xml" in z.read(n) for n in rels)
        assert b"/xl/drawings/drawing1.xml" in z.read("[Content_Types].xml")
    return xml.count('prst="ellipse"')


def test_ellipse_xlsx_has_one_ellipse_per_mark(built):
    [(path, t)] = by_convention(built, "ellipse")
    expected = sum({"answered": 1, "ambiguous": 2}.get(it["answer_status"], 0) for it in t["items"])
    assert _ellipse_count(path) == expected > 30


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice がありません")
def test_libreoffice_draws_the_ellipses_round_the_truth_answers(built, tmp_path):
    [(path, t)] = by_convention(built, "ellipse")
    profile = (tmp_path / "lo").as_uri()
    subprocess.run(["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(path)], check=True, capture_output=True, timeout=180)
    circled = []
    with pdfplumber.open(tmp_path / (path.stem + ".pdf")) as pdf:
        for page in pdf.pages:
            words = page.extract_words()
            for curve in sorted(page.curves, key=lambda c: (c["top"], c["x0"])):
                inside = [w["text"] for w in words
                          if curve["x0"] <= (w["x0"] + w["x1"]) / 2 <= curve["x1"]
                          and curve["top"] <= (w["top"] + w["bottom"]) / 2 <= curve["bottom"]]
                circled.append("".join(inside))
    expected = [it["answer"] for it in t["items"] if it["answer_status"] == "answered"]
    assert circled == expected


def test_checkbox_docx_has_w14_checkboxes_matching_the_truth(built):
    [(path, t)] = by_convention(built, "w14-checkbox")
    d = docx.Document(path)
    states = [cb.find(f"{W14}checked").get(f"{W14}val") for cb in d.element.body.iter(f"{W14}checkbox")]
    marks = sum(1 for it in t["items"] if it["answer_status"] == "answered")
    assert states.count("1") == marks
    assert len(states) > marks
    glyphs = [r.text for sdt in d.element.body.iter(f"{W}sdt") for r in sdt.iter(f"{W}t")]
    assert glyphs.count("☒") == marks and set(glyphs) == {"☒", "☐"}


def test_formcheckbox_docx_checked_state_matches_the_truth(built):
    [(path, t)] = by_convention(built, "formcheckbox")
    d = docx.Document(path)
    checked = 0
    for box in d.element.body.iter(f"{W}checkBox"):
        state = box.find(f"{W}checked")
        if state is not None:
            on = state.get(f"{W}val", "1") in ("1", "true")
        else:
            on = box.find(f"{W}default").get(f"{W}val") in ("1", "true")
        checked += on
    marks = sum({"answered": 1, "ambiguous": 2}.get(it["answer_status"], 0) for it in t["items"])
    assert checked == marks


def test_glyph_docx_cells_spell_the_answers(built):
    for fragment, on in (("(■□)", "■"), ("(☑☐)", "☑")):
        [(path, t)] = by_convention(built, fragment)
        d = docx.Document(path)
        cells = [c.text for table in d.tables for row in table.rows for c in row.cells if on in c.text
                 or c.text.count("□") + c.text.count("☐") >= 2]
        chosen = [c.split(on)[1].split()[0] for c in cells if on in c]
        assert chosen == [it["answer"] for it in t["items"] if it["answer_status"] == "answered"]


def test_footnotes_resolve_and_one_points_to_an_empty_note(built):
    empty_refs = []
    for name, t in good(built).items():
        for it in t["items"]:
            if it["remark_ref"]:
                assert t["footnotes"][it["remark_ref"]] == it["remark"]
                if not it["remark"]:
                    empty_refs.append((name, it["item_id"]))
    assert empty_refs


def test_mds_rows_match_the_catalogue_by_text(built):
    for name, t in good(built).items():
        if t["family"] not in ("mds", "sds"):
            continue
        form = get_form(t["form_id"])
        assert form is not None
        unknown = []
        for it in t["items"]:
            best = max(text_similarity(it["question"], c.text) for c in form.items)
            if best < 72:
                unknown.append(it["item_id"])
        # Only the vendor's own extra rows are unknown to the catalogue.
        assert len(unknown) <= 1, (name, unknown)


def test_planted_findings_cover_every_category_and_the_clean_vendor_is_clean(built):
    all_truths = good(built)
    planted = {p["category"] for t in all_truths.values() for p in t["planted"]}
    assert REQUIRED_CATEGORIES <= planted
    clean = [t for t in all_truths.values() if t["vendor_key"] == "clearmedical"]
    assert {t["family"] for t in clean} == {"sds", "checklist_vendor"}
    for t in clean:
        assert t["planted"] == []
        if t["family"] == "sds":
            assert t["created"] >= "2025-06-01" and t["form_version"] == "GL6.0"
            form = get_form(t["form_id"])
            for it in t["items"]:
                cat = form.item(it["item_id"])
                assert it["answer_status"] == ("unanswered" if it["kind"] == "group" else "answered")
                if cat and cat.remark_required_if and it["answer"] == cat.remark_required_if:
                    assert it["remark"]
                if it["kind"] == "numbered" and cat and cat.answers == ("はい", "いいえ", "対象外"):
                    assert it["answer"] == "はい", it["item_id"]
        else:
            assert all(it["answer"] == "はい" and it["first_date"] for it in t["items"])


def test_ambiguous_and_unanswered_rows_have_no_answer(built):
    statuses = set()
    for t in good(built).values():
        for it in t["items"]:
            statuses.add(it["answer_status"])
            if it["answer_status"] != "answered":
                assert it["answer"] == ""
    assert {"answered", "unanswered", "ambiguous"} <= statuses


def test_bad_files_are_bad(built):
    bad = {name: t for name, t in truths(built).items() if t.get("expect_failure")}
    assert {t["expect_failure"] for t in bad.values()} == {"corrupt", "empty", "not_a_form", "ignored"}
    for name, t in bad.items():
        path = built / name
        if t["expect_failure"] == "empty":
            assert path.stat().st_size == 0
        elif t["expect_failure"] == "ignored":
            assert name.startswith("~$")
        elif t["expect_failure"] == "corrupt" and name.endswith((".xlsx", ".docx")):
            with pytest.raises(zipfile.BadZipFile):
                zipfile.ZipFile(path)
        elif t["expect_failure"] == "corrupt":
            assert not path.read_bytes().startswith(b"%PDF")
        elif name.endswith(".xlsx"):
            openpyxl.load_workbook(path)
        elif name.endswith(".docx"):
            docx.Document(path)


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice がありません")
def test_legacy_copies_are_ole_files_with_the_source_truth(built):
    for suffix in (".xls", ".doc"):
        [path] = list(built.glob(f"*{suffix}"))
        assert path.read_bytes()[:8] == bytes.fromhex("D0CF11E0A1B11AE1")
        t = json.loads(path.with_name(path.name + ".truth.json").read_text(encoding="utf-8"))
        source = json.loads((built / (t["duplicate_of"] + ".truth.json")).read_text(encoding="utf-8"))
        assert t["items"] == source["items"]


def test_build_is_deterministic_and_only_filters(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    assert main(["--out", str(first), "--only", "medinext", "--no-legacy"]) == 0
    build(second, only="medinext", legacy=False)
    names = sorted(p.name for p in first.iterdir())
    assert names and all("メディネクスト" in n or "NEXT-Chart" in n for n in names)
    for n in names:
        assert hashlib.sha256((first / n).read_bytes()).digest() == hashlib.sha256((second / n).read_bytes()).digest()
