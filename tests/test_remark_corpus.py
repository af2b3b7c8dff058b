"""The remark classes measured on the labelled corpora (tests/data/remark_corpus*.yaml) with the real
spaCy + SudachiPy pipeline: per-class precision and recall must stay at the level the patterns reach.

`python -m rules.remark_eval [--errors]` prints the same table with every miss and false alarm.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from rules.remark_eval import CORPUS, EVAL_CLASSES, evaluate, load_corpus

DATA = Path(__file__).parent / "data"
HOLDOUTS = (DATA / "remark_corpus_holdout.yaml", DATA / "remark_corpus_holdout2.yaml")
SAMPLES = Path(__file__).resolve().parent.parent / "samples"

# Minimums per class (what the patterns reach, with a margin for one or two misses per class).
MIN_PRECISION = 0.95
MIN_RECALL = 0.90


@pytest.fixture(scope="module")
def entries() -> list[dict]:
    return load_corpus(CORPUS) + [e for path in HOLDOUTS for e in load_corpus(path)]


def test_corpus_size_and_coverage(entries):
    assert len(load_corpus(CORPUS)) >= 200
    labelled = {c for e in entries for c in e["classes"]}
    assert labelled == set(EVAL_CLASSES)
    for cls in EVAL_CLASSES:
        assert sum(cls in e["classes"] for e in entries) >= 10, cls
    assert sum(not e["classes"] for e in entries) >= 100  # compliant remarks that must trigger nothing
    texts = [e["text"] for e in entries]
    assert len(texts) == len(set(texts))


def test_corpus_is_not_copied_from_our_samples(entries):
    """The corpus is written independently of the sample documents the patterns were first built on."""
    sample_text = "\n".join(p.read_text(encoding="utf-8") for p in SAMPLES.rglob("*.py"))
    # (terse notes such as 「なし」「未対応」 are words, not sentences one could copy)
    copied = [e["text"] for e in entries if len(e["text"]) >= 8 and e["text"].rstrip("。") in sample_text]
    assert not copied


@pytest.mark.parametrize("cls", EVAL_CLASSES)
def test_precision_and_recall_per_class(entries, cls):
    scores, _ = evaluate(entries)
    s = scores[cls]
    detail = "\n".join(f"{kind} {text}" for kind, text in s.errors)
    assert s.precision >= MIN_PRECISION, f"{cls}: P={s.precision:.3f}\n{detail}"
    assert s.recall >= MIN_RECALL, f"{cls}: R={s.recall:.3f}\n{detail}"


def test_compliant_remarks_trigger_nothing(entries):
    _, false_alarms = evaluate(entries)
    assert false_alarms <= 1


def test_access_restriction_is_no_contradiction():
    """A negation that states who may NOT do something is the control the item asks about."""
    scores, false_alarms = evaluate([
        {"text": "参照権限を持たない利用者はこの帳票を出力できません。", "classes": []},
        {"text": "登録外の端末からは院内LANに接続できない設定です。", "classes": []},
        {"text": "帳票の出力機能は備えておりません。", "classes": ["contradiction"]},
    ])
    assert false_alarms == 0 and scores["contradiction"].tp == 1 and scores["contradiction"].fp == 0
