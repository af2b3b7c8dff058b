"""The one answer vocabulary: what an item's answer can be, what it means, and the printed words for it.

Every reader, the interpreter and the rules import their answer words from here; no other module lists them.

- `CHOICES`: the canonical answers `Item.answer` may hold, each with its meaning for a gap assessment
  (`result`: compliant / gap / not_applicable / applies, in the spirit of a compliance tool's answer
  choices; an empty answer is `unknown`), its answer set (はい/いいえ/対象外 or 該当/非該当) and the option
  column it shares on a combined header (「はい／該当」).
- printed words that stand for an answer: English option words (「Yes」「N/A」), paraphrases read with doubt
  (「可」「なし」), and the dashes a vendor writes for "nothing / not applicable" (「=」「-」).
- "Which option words does this text print, where": `option_words(text)` (longest first, so that 非該当 is
  never read as the 該当 inside it). Which of them the vendor marked is decided from the marks around those
  words in `extractors.answer_cells`, the same for every format.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

Result = Literal["compliant", "gap", "not_applicable", "applies", "unknown"]
# How sure the reading of an item's answer is (Item.answer_status), and its Japanese label for people.
AnswerStatus = Literal["answered", "unanswered", "ambiguous", "unreadable"]
ANSWER_STATUS_LABELS: dict[str, str] = {"answered": "回答あり", "unanswered": "未回答", "ambiguous": "複数回答",
                                        "unreadable": "判読不能"}
AnswerSet = Literal["yes_no", "gate"]

YES, NO, NOT_APPLICABLE = "はい", "いいえ", "対象外"
APPLICABLE, NOT_APPLICABLE_GATE = "該当", "非該当"


@dataclass(frozen=True)
class AnswerChoice:
    word: str  # the canonical word stored in Item.answer
    result: Result  # what the answer means for a gap assessment
    answer_set: AnswerSet  # yes_no: はい/いいえ/対象外; gate: 該当/非該当 (a feature present or not)
    column: str  # the yes/no/n.a. option column the word shares on a combined header (「いいえ／非該当」 → いいえ)
    label: str  # Japanese, for people


CHOICES: tuple[AnswerChoice, ...] = (
    AnswerChoice(YES, "compliant", "yes_no", YES, "対応している"),
    AnswerChoice(NO, "gap", "yes_no", NO, "対応していない"),
    AnswerChoice(NOT_APPLICABLE, "not_applicable", "yes_no", NOT_APPLICABLE, "対象外"),
    AnswerChoice(APPLICABLE, "applies", "gate", YES, "機能・条件に該当する"),
    AnswerChoice(NOT_APPLICABLE_GATE, "not_applicable", "gate", NO, "機能・条件に該当しない"),
)
ANSWERS: tuple[str, ...] = tuple(c.word for c in CHOICES)  # the order every caller relies on
CHOICE = {c.word: c for c in CHOICES}
# The same meaning in the other answer set (はい on a 該当/非該当 row, and back).
COUNTERPART = {YES: APPLICABLE, NO: NOT_APPLICABLE_GATE, APPLICABLE: YES, NOT_APPLICABLE_GATE: NO}
AFFIRMATIVE = frozenset(c.word for c in CHOICES if c.result in ("compliant", "applies"))  # はい, 該当


def result_of(answer: str) -> Result:
    """What an answer means: compliant | gap | not_applicable | applies; unknown for "" or a foreign word."""
    choice = CHOICE.get(answer)
    return choice.result if choice else "unknown"


# ------------------------------------------------------------------------------------------ printed words

# English option words as a header or a cell prints them, case as printed (a header 「No」 may be a number).
ENGLISH_OPTIONS = {"Yes": YES, "YES": YES, "No": NO, "N/A": NOT_APPLICABLE, "NA": NOT_APPLICABLE}
# Printed option word -> answer: what a header cell or a column's word may say.
OPTION_WORDS = {w: w for w in ANSWERS} | ENGLISH_OPTIONS
# A cell's typed English answer, compared in lower case.
ENGLISH = {w.lower(): a for w, a in ENGLISH_OPTIONS.items()}
# Words some vendors write instead of the form's options: read, but a person confirms.
PARAPHRASES = {"可": YES, "不可": NO, "有": YES, "無": NO, "あり": YES, "なし": NO, "有り": YES, "無し": NO,
               "対応": YES, "対応済": YES, "未対応": NO, "非対応": NO, "該当なし": NOT_APPLICABLE}
# Dashes and slashes a vendor writes where there is nothing to answer (a checklist has no 対象外).
DASHES = frozenset({"-", "=", "ー", "－", "―", "ｰ", "−", "‐", "／", "/"})
# What the interpreter reads as no answer at all (the raw text is kept for the reviewer).
EMPTY_ANSWERS = frozenset({""}) | DASHES
# What a checklist cell's raw text says when the vendor meant "not applicable" without the form's word.
NA_MARKS = DASHES | {w for w, a in ENGLISH_OPTIONS.items() if a == NOT_APPLICABLE} | {
    w.lower() for w, a in ENGLISH_OPTIONS.items() if a == NOT_APPLICABLE}

# The canonical words in a text, longest first so that 非該当 is found before the 該当 inside it.
OPTION_RE = re.compile("|".join(sorted(map(re.escape, ANSWERS), key=len, reverse=True)))


def option_words(text: str) -> list[tuple[str, int, int]]:
    """(answer word, start, end) of each option word a text prints, in the order of the text."""
    return [(m.group(0), m.start(), m.end()) for m in OPTION_RE.finditer(text or "")]


def is_na_mark(raw: str) -> bool:
    """A cell's raw text is a dash or 「N/A」 meaning "not applicable" (「=」「-」「／」)."""
    return raw.strip() in NA_MARKS


# ------------------------------------------------------------------------------------------ ledger 有無 cells

# What a device ledger writes in a yes/no column (ネットワーク接続, リモート保守), besides the answer words above.
PRESENT_WORDS = frozenset({"○", "◯", "〇", "●", "✓", "レ", "有", "有り", "あり", "はい", "yes", "y", "接続", "接続あり",
                           "接続有", "院内lan", "lan", "オンライン", "対応", "実施", "する", "要"})
ABSENT_WORDS = frozenset({"×", "✕", "無", "無し", "なし", "いいえ", "no", "n", "未接続", "非接続", "接続なし", "接続無",
                          "スタンドアロン", "スタンドアローン", "オフライン", "しない", "不要", "未実施"})


def presence(text: str) -> bool | None:
    """A ledger's 有無 cell: True (有), False (無) or None (blank, 不明 or a word not known here)."""
    t = unicodedata.normalize("NFKC", text or "").strip().casefold().replace(" ", "")
    if not t:
        return None
    if t in PRESENT_WORDS or (t.startswith(("有", "あり", "○", "〇")) and len(t) > 1 and "無" not in t):
        return True
    if t in ABSENT_WORDS or t.startswith(("無", "なし", "×")):
        return False
    return None


# Every word that is an answer, an option paraphrase or a presence / absence mark, casefolded: a cell of these
# names no thing (a device, a product), it answers or marks something.
ANSWER_OR_MARK_WORDS = frozenset(w.casefold() for w in (*OPTION_WORDS, *PARAPHRASES, *PRESENT_WORDS, *ABSENT_WORDS))
