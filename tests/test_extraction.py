"""Every sample file's answers, remarks and header fields match its truth (real readers, real files)."""
from __future__ import annotations

import pytest

from extractors import extract
from extractors.model import ExtractionError
from tests.truth import compare, load_truth, truth_files

OFFICE = (".xlsx", ".docx", ".xls", ".doc", ".xlsm", ".docm")


def _office_samples(inbox):
    return [p for p in truth_files(inbox) if p.suffix.lower() in OFFICE and not load_truth(p).get("expect_failure")]


def test_office_samples_match_truth(sample_inbox):
    files = _office_samples(sample_inbox)
    assert len(files) >= 10, "the sample builder should write at least ten Office samples"
    report = {}
    for path in files:
        truth = load_truth(path)
        try:
            doc = extract(path)
        except ExtractionError as exc:
            report[path.name] = [f"extraction failed: {exc.message}"]
            continue
        problems = compare(doc, truth)
        if problems:
            report[path.name] = problems
    lines = [f"{name} [{load_truth(sample_inbox / name)['convention']}]:\n  " + "\n  ".join(p[:12])
             for name, p in report.items()]
    print(f"office samples: {len(files) - len(report)}/{len(files)} match their truth")
    assert not report, "\n".join(lines)


def test_every_convention_has_a_sample(sample_inbox):
    conventions = {load_truth(p)["convention"] for p in _office_samples(sample_inbox)}
    assert len(conventions) >= 8, sorted(conventions)


def test_bad_files_fail_with_a_japanese_reason(sample_inbox):
    bad = [p for p in truth_files(sample_inbox) if load_truth(p).get("expect_failure") not in (None, "ignored")]
    assert bad, "the sample builder should write bad files"
    for path in bad:
        with pytest.raises(ExtractionError) as info:
            extract(path)
        assert any("\u3040" <= ch <= "\u30ff" for ch in info.value.message), info.value.message
