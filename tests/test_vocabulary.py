"""One answer vocabulary: every reader, the interpreter, the rules and the reports take their answer words
from extractors.vocabulary (checked by importing the modules, not by reading their text)."""
from __future__ import annotations

import importlib
import pkgutil

import pytest

import extractors
import pipeline
import rules
from extractors import vocabulary as vocab
from extractors.answer_cells import decide_inline, decide_option_columns
from extractors.grid import Cell, Mark

WORDS = set(vocab.ANSWERS)
OWN = {id(v) for v in vars(vocab).values()}


def _modules():
    for package in (extractors, rules, pipeline):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if info.name.endswith("templates.make_memo_template"):
                continue  # a script
            yield importlib.import_module(info.name)


def _answer_collection(value) -> bool:
    """A module-level list of answer words, or a map from printed words to answers."""
    if isinstance(value, (tuple, list, set, frozenset)):
        members = {v for v in value if isinstance(v, str)}
    elif isinstance(value, dict):
        members = {v for v in value.values() if isinstance(v, str)}
    else:
        return False
    return len(members & WORDS) >= 2


def test_no_module_defines_its_own_answer_words():
    own_lists = []
    for module in _modules():
        for name, value in vars(module).items():
            if _answer_collection(value) and id(value) not in OWN:
                own_lists.append(f"{module.__name__}.{name}")
    assert not own_lists, f"answer words defined outside extractors.vocabulary: {own_lists}"


def test_readers_interpreter_and_rules_share_the_vocabulary():
    from extractors import layout, model
    from extractors.readers import pdf_text, scan, scan_ocr
    from rules.schema import value_vocabularies

    assert model.ANSWERS is vocab.ANSWERS and model.YES is vocab.YES
    assert scan.ANSWERS is scan_ocr.ANSWERS is pdf_text.ANSWERS is vocab.ANSWERS
    assert layout.OPTION_WORDS is vocab.OPTION_WORDS
    assert value_vocabularies()["answer_in"] == frozenset(vocab.ANSWERS)
    # Every canonical word, and every printed synonym, stands for a canonical answer.
    assert set(vocab.OPTION_WORDS.values()) == WORDS
    assert set(vocab.ENGLISH.values()) | set(vocab.PARAPHRASES.values()) <= WORDS
    assert {c.word for c in vocab.CHOICES} == WORDS and set(vocab.COUNTERPART) <= WORDS


@pytest.mark.parametrize("word, result", [("はい", "compliant"), ("いいえ", "gap"), ("対象外", "not_applicable"),
                                          ("該当", "applies"), ("非該当", "not_applicable"), ("", "unknown"),
                                          ("たぶん", "unknown")])
def test_each_answer_means_one_result(word, result):
    assert vocab.result_of(word) == result


def test_option_words_longest_first_in_text_order():
    assert vocab.option_words("□該当 ■非該当") == [("該当", 1, 3), ("非該当", 5, 8)]
    assert [w for w, _, _ in vocab.option_words("はい・いいえ・対象外")] == ["はい", "いいえ", "対象外"]
    assert vocab.option_words("妥当な設定です") == []


@pytest.mark.parametrize("raw, na", [("=", True), ("－", True), ("／", True), ("N/A", True), ("na", True),
                                     ("いいえ", False), ("", False), ("==", False)])
def test_na_marks(raw, na):
    assert vocab.is_na_mark(raw) is na


def test_the_same_marked_word_from_a_column_and_from_one_cell():
    """「Which word did the vendor mark」 is decided from the vocabulary's words the same way for an option column
    and for options printed in one cell."""
    inline = decide_inline(Cell(text="はい・非該当・いいえ", marks=[Mark("circle", (3, 6), 0.9)]))
    columns = decide_option_columns({"はい": Cell(text=""), "非該当": Cell(text="○"), "いいえ": Cell(text="")})
    assert inline.answer == columns.answer == "非該当"
    english = decide_inline(Cell(text="N/A"))
    paraphrase = decide_inline(Cell(text="なし"))
    assert (english.answer, english.reason) == ("対象外", "")
    assert paraphrase.answer == "いいえ" and paraphrase.reason  # read, but a person confirms
