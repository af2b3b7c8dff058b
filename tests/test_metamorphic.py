"""Metamorphic tests: every sample family, written in other vendors' layouts (real .xlsx/.docx/.pdf files
through the real readers), must give the same item ids, answers, statuses, remarks and checklist dates as
the untransformed file, or, where the layout makes an answer doubtful (a print), flag it for review.

The CI set is fixed (every fast transformation per family plus a few LibreOffice prints). `make fuzz`
runs every print and random combinations of transformations (Hypothesis); those tests carry the `fuzz`
marker, which the default `-m "not fuzz"` leaves out.

Layouts the interpreter does not read yet are marked xfail(strict) in `XFAIL` with the kind of layout;
`METAMORPHIC_NO_XFAIL=1` drops those marks to see which pass after a fix is merged.
"""
from __future__ import annotations

import os

import pytest

from extractors import extract
from samples.metamorphic import FAMILIES, fresh
from samples.metamorphic_check import check
from samples.metamorphic_transforms import TRANSFORMS, for_family, variant
from samples.metamorphic_writers import soffice_binary, write

NO_XFAIL = os.environ.get("METAMORPHIC_NO_XFAIL") == "1"

# LibreOffice prints in the CI set (each 2-10 s); `make fuzz` prints every family every way.
CI_PRINTS = {
    ("mds", "print_xlsx_a4_landscape"), ("sds", "print_docx_b4_landscape"),
    ("checklist_vendor", "print_xlsx_a4_portrait"), ("checklist_vendor", "print_docx_a4_portrait"),
    ("checklist_facility", "print_xlsx_a4_landscape"), ("checklist_facility", "print_docx_b4_landscape"),
    ("checklist_vendor_r6", "print_docx_a4_portrait"), ("checklist_vendor_r7", "print_xlsx_a4_portrait"),
}

# Kinds of layout not yet understood: (kind, transformations, families). Each becomes a strict xfail, so a
# fixed kind fails the suite until its entry goes. None is known today; `make fuzz` looks for new ones.
KNOWN_GAPS: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = []
XFAIL: dict[tuple[str, str], str] = {(family, name): kind for kind, names, families in KNOWN_GAPS
                                     for name in names for family in families}

# Fixed combinations (several found by `make fuzz`); the key of a combination is its names joined by "+".
COMBOS: list[tuple[str, tuple[str, ...]]] = [
    ("mds", ("answer_dropdown", "sections_column_merged", "numbers_spaced")),
    ("mds", ("writer_docx", "answer_inline_checkbox_docx", "split_no_header", "footnotes_on_own_sheet")),
    ("mds", ("wrap_question_rows", "number_column=blank")),
    ("sds", ("wrap_question_rows", "number_in_question")),
    ("sds", ("options_reversed", "remark_before_answer", "footnotes_star_refs")),
    ("sds", ("writer_docx", "hdr_answer_group_over_options", "numbers_hyphen", "blank_rows_every_1")),
    ("sds", ("split_new_page_no_header", "footnotes_all")),
    ("sds", ("writer_docx", "hdr_combined_wrapped_rows")),
    ("checklist_vendor", ("checklist_split_cells", "number_column=kouban", "sections_rows")),
    ("checklist_vendor", ("writer_docx", "checklist_split_cells", "split_repeated_header")),
    ("checklist_vendor_r6", ("checklist_split_dropdown", "blank_rows_every_4", "split_new_page")),
    ("checklist_vendor_r7", ("numbers_paren", "hdr_result_single_row", "remark_before_answer")),
    ("checklist_facility", ("checklist_answer_fullwidth", "sections_none", "empty_column_front")),
    ("checklist_facility", ("numbers_bare", "number_column=kouban", "checklist_answer_year")),
    ("checklist_vendor_r6", ("numbers_half_paren", "sections_rows", "checklist_answer_glyph")),
    ("checklist_facility", ("hdr_remark=comment", "wrap_question_rows")),
]
# The same structural transformations written as Word files too (every one passes in Word today).
DOCX_CI = ("number_column=kouban", "number_in_question", "sections_column_repeated", "sections_none",
           "blank_rows_every_4", "empty_column_after_question", "remark_line_breaks", "numbers_fullwidth",
           "split_repeated_header", "remark_before_answer")


def _marks(family: str, names: tuple[str, ...]) -> list:
    marks = []
    if any(TRANSFORMS[n].slow for n in names):
        marks.append(pytest.mark.skipif(soffice_binary() is None, reason="LibreOffice (soffice) がありません"))
    key = (family, "+".join(names))
    if key in XFAIL and not NO_XFAIL:
        marks.append(pytest.mark.xfail(strict=True, reason=XFAIL[key]))
    return marks


def _param(family: str, *names: str):
    return pytest.param(family, names, id=f"{family}-{'+'.join(names)}", marks=_marks(family, names))


def _cases(ci: bool) -> list:
    cases = []
    for family in FAMILIES:
        for name in for_family(family):
            if TRANSFORMS[name].slow and ci != ((family, name) in CI_PRINTS):
                continue
            if not TRANSFORMS[name].slow and not ci:
                continue
            cases.append(_param(family, name))
        if ci:
            cases += [_param(family, "writer_docx", name) for name in DOCX_CI if family in TRANSFORMS[name].families]
            cases += [_param(family, *names) for fam, names in COMBOS if fam == family]
    return cases


def _run(tmp_path, family: str, names: list[str]) -> list[str]:
    v = variant(family, names)
    path = write(v, tmp_path, "variant")
    return check(extract(path), v)


@pytest.mark.parametrize("family,names", _cases(ci=True))
def test_variant_gives_the_same_answers(tmp_path, family, names):
    problems = _run(tmp_path, family, list(names))
    assert not problems, f"{family} + {names}:\n  " + "\n  ".join(problems[:20])


@pytest.mark.parametrize("family", FAMILIES)
def test_untransformed_family_matches_its_truth(tmp_path, family):
    problems = check(extract(write(fresh(family), tmp_path, "base")), fresh(family))
    assert not problems, "\n".join(problems)


def test_every_family_has_at_least_thirty_transformations():
    counts = {family: len(for_family(family)) for family in FAMILIES}
    assert all(n >= 30 for n in counts.values()), counts


def test_the_check_catches_a_changed_answer_and_a_lost_remark(tmp_path):
    """The metamorphic check can fail: a file whose truth was altered after writing is reported."""
    v = fresh("mds")
    doc = extract(write(v, tmp_path, "base"))
    v.sub.item("4.3").answer = "はい"
    v.sub.item("6").remark = "別の備考"
    problems = check(doc, v)
    assert any(p.startswith("4.3.answer") for p in problems), problems
    assert any(p.startswith("6.remark") for p in problems), problems


def test_a_flagged_wrong_answer_passes_only_where_the_layout_is_doubtful(tmp_path):
    v = fresh("sds")
    doc = extract(write(v, tmp_path, "base"))
    doc.item("5").answer, doc.item("5").needs_review = "いいえ", True
    assert check(doc, v)
    v.doubtful = True
    assert not check(doc, v)


# ---------------------------------------------------------------- make fuzz

@pytest.mark.fuzz
@pytest.mark.parametrize("family,names", _cases(ci=False))
def test_every_print(tmp_path, family, names):
    problems = _run(tmp_path, family, list(names))
    assert not problems, f"{family} + {names}:\n  " + "\n  ".join(problems[:20])


def _known_failing(family: str, name: str) -> bool:
    return (family, name) in XFAIL and not NO_XFAIL


# Combinations that fail for a kind already in XFAIL; `make fuzz` skips them to look for new kinds.
def _known_combination(family: str, combo: list[str]) -> bool:
    """A random combination that contains a known gap (none today): skipped so that fuzzing looks for new ones."""
    return not NO_XFAIL and any((family, name) in XFAIL for name in combo)


@pytest.mark.fuzz
@pytest.mark.parametrize("family", FAMILIES)
def test_random_combinations(tmp_path_factory, family):
    """Hypothesis draws 2-4 fast transformations that pass alone and applies them together."""
    from hypothesis import HealthCheck, assume, given, settings
    from hypothesis import strategies as st

    names = [n for n in for_family(family, include_slow=False) if not _known_failing(family, n)]

    @settings(max_examples=int(os.environ.get("METAMORPHIC_FUZZ_EXAMPLES", "40")), deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.filter_too_much])
    @given(st.lists(st.sampled_from(names), min_size=2, max_size=4, unique=True))
    def run(combo):
        assume(not _known_combination(family, combo))
        problems = _run(tmp_path_factory.mktemp("fuzz"), family, combo)
        assert not problems, f"{family} + {combo}:\n  " + "\n  ".join(problems[:20])

    run()
