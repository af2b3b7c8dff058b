"""End to end: build the samples, extract every file, evaluate, and find every planted gap.

The sample builder plants findings per file (`planted` in each truth JSON: category + item ids) and
keeps one clean control vendor (クリアメディカル) that must produce no finding at all.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from extractors import extract
from extractors.model import ExtractionError
from rules.engine import evaluate

CLEAN_VENDOR_KEY = "clearmedical"
NOT_A_RULE = {"noise"}  # planted extraction noise, checked by the extraction tests


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    from samples.build import build
    from samples.vendors import AS_OF

    out = tmp_path_factory.mktemp("samples")
    paths = build(out, legacy=False)  # LibreOffice-made legacy files are covered by the extraction tests
    docs, truths = [], {}
    for path in paths:
        truth = json.loads(Path(str(path) + ".truth.json").read_text(encoding="utf-8"))
        if truth.get("expect_failure"):
            continue
        try:
            doc = extract(path)
        except ExtractionError:
            continue
        docs.append(doc)
        truths[doc.source_file] = truth
    findings = evaluate(docs, as_of=dt.date.fromisoformat(AS_OF))
    return docs, truths, findings


def test_samples_were_extracted(evaluated):
    docs, truths, _ = evaluated
    assert len(docs) >= 10
    assert any(t["vendor_key"] == CLEAN_VENDOR_KEY for t in truths.values())


def test_every_planted_gap_is_found(evaluated):
    docs, truths, findings = evaluated
    missed, total = [], 0
    for doc in docs:
        mine = [f for f in findings if doc.source_file in f.source_files]
        for planted in truths[doc.source_file]["planted"]:
            if planted["category"] in NOT_A_RULE:
                continue
            total += 1
            same_category = [f for f in mine if f.category == planted["category"]]
            found_ids = {i for f in same_category for i in f.item_ids}
            if not same_category or not set(planted["item_ids"]) <= found_ids:
                missed.append(f"{Path(doc.source_file).name}: {planted} (found {sorted(found_ids)})")
    assert total >= 30
    assert not missed, "\n".join(missed)


def test_clean_control_vendor_has_no_findings(evaluated):
    docs, truths, findings = evaluated
    clean_files = {d.source_file for d in docs if truths[d.source_file]["vendor_key"] == CLEAN_VENDOR_KEY}
    assert clean_files
    noisy = [(f.rule_id, f.item_ids, f.finding) for f in findings if set(f.source_files) & clean_files]
    assert noisy == []


def test_findings_are_complete(evaluated):
    _, _, findings = evaluated
    assert findings
    for f in findings:
        assert f.vendor and f.title and f.finding and f.evidence and f.source_files and f.document_ids
        assert f.recommendation and f.contract_clause and f.rationale and f.guideline_ref
        assert "{" not in f.finding  # message templates fully filled
        if f.quote:
            assert f.quote in f.evidence
