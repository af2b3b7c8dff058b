"""Decide an item's answer from the cells of its row: option columns, one answer cell, inline options.

Evidence is what the vendor marked: a glyph (○ ● ✓ ☑ ■ レ), a drawn circle, a fill or highlight, a
dropdown value, a typed word, the unchosen words struck through or deleted. Two marks are ambiguous,
no mark is unanswered; nothing is guessed. Every decision carries a confidence.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from extractors.decoration import (
    DECORATION,
    DOUBTFUL,
    MARK,
    NO_DECORATION,
    Decoration,
    fill_colours,
    is_neutral,
    is_pale,
)
from extractors.grid import CHECKED_BOX, UNCHECKED_BOX, Cell, Mark, Table
from extractors.text import normalize_text
from extractors.vocabulary import (
    COUNTERPART,
    EMPTY_ANSWERS,
    ENGLISH,
    NO,
    NOT_APPLICABLE,
    NOT_APPLICABLE_GATE,
    PARAPHRASES,
    YES,
    option_words,
)

POSITIVE_GLYPHS = set("○〇◯●◎✓✔☑☒■✅") | {CHECKED_BOX}
NEGATIVE_GLYPHS = set("□☐") | {UNCHECKED_BOX}
# Typed marks in an option column that mean "this one", with their confidence.
TYPED_MARKS = {"レ": 0.95, "v": 0.85, "V": 0.85, "x": 0.75, "X": 0.75, "1": 0.7, "*": 0.7, "済": 0.8,
               # A check mark typed in a Wingdings font arrives as the letter behind it: ü (✓), þ (☑).
               "ü": 0.8, "þ": 0.8}
# A filled glyph and its hollow twin: where a cell prints both before its words, the hollow one is "not chosen".
GLYPH_PAIRS = {"●": "○〇◯", "◉": "○〇◯", "■": "□", "◆": "◇", "★": "☆", CHECKED_BOX: UNCHECKED_BOX + "□"}
# Typed check marks that mark the option word they stand directly before (「レ該当」「v はい」).
_TYPED_PREFIX = re.compile(r"(?:^|[\s/／・,、|(（\[【])([レvVxXüþ])\s?$")


@dataclass
class Decision:
    answer: str = ""
    status: str = "unanswered"  # answered | unanswered | ambiguous | unreadable
    confidence: float = 1.0
    raw: str = ""
    reason: str = ""  # Japanese, for needs_review
    date_text: str = ""  # a date written beside the answer word: 「はい (9/20)」
    candidates: list[str] = field(default_factory=list)


def _mark_conf(marks: list[Mark], kinds: set[str]) -> float:
    return max((m.confidence for m in marks if m.kind in kinds), default=0.0)


def _has_positive_glyph(text: str) -> bool:
    return any(ch in POSITIVE_GLYPHS for ch in text)


def typed_mark_before(text: str, start: int) -> float:
    """Confidence of a typed check mark (レ v x) standing directly before the word at `start`, else 0."""
    m = _TYPED_PREFIX.search(text[max(0, start - 3):start])
    return TYPED_MARKS.get(m.group(1), 0.0) if m else 0.0


def _glyph_before(text: str, start: int) -> str:
    """The mark glyph printed just before the word at `start` (「●はい」 → 「●」), or ""."""
    for ch in reversed(text[max(0, start - 2):start]):
        if ch in POSITIVE_GLYPHS or ch in NEGATIVE_GLYPHS or any(ch == f or ch in h for f, h in GLYPH_PAIRS.items()):
            return ch
    return ""


def hollow_glyphs_off(glyphs: set[str]) -> set[str]:
    """The hollow glyphs that mean "not chosen" among `glyphs`: those whose filled twin is there too."""
    return {ch for f, hollow in GLYPH_PAIRS.items() if f in glyphs for ch in hollow if ch in glyphs}


def option_cell_evidence(cell: Cell, label: str, row_texts_all_labels: bool,
                         ignore_fill: bool) -> tuple[float, str]:
    """How strongly an option-column cell says "chosen": (confidence 0..1, the answer word it carries).

    `label` is the column's option; a cell may carry its own word (a 該当 row under the はい column).
    `row_texts_all_labels`: every option cell of the row prints its word (a template), so a printed
    word alone is no mark. `ignore_fill`: the cell's fill is the form's shading, no mark (every option
    cell shaded alike, or a shade `extractors.decoration` tells apart from a vendor's mark).
    """
    text = normalize_text((cell.text or "").replace("\n", ""))
    word = label
    found = [w for w, _, _ in option_words(text)]
    if len(found) == 1:
        word = found[0]
    # Explicit negatives: a struck word, an empty box.
    if any(m.kind == "strike" for m in cell.marks):
        return 0.0, word
    circle = _mark_conf(cell.marks, {"circle", "check"})
    if circle:
        return circle, word
    if text and all(ch in NEGATIVE_GLYPHS or ch.isspace() for ch in text):
        return 0.0, word
    if _has_positive_glyph(text):
        return 0.97, word
    stripped = text.replace(" ", "")
    if stripped in TYPED_MARKS:
        return TYPED_MARKS[stripped], word
    if len(found) == 1 and (typed := typed_mark_before(text, text.find(found[0]))):
        return typed, word
    highlight = _mark_conf(cell.marks, {"highlight"})
    fill = 0.0 if ignore_fill else _mark_conf(cell.marks, {"fill"})
    if highlight or fill:
        return max(highlight, fill) * 0.9, word
    if found and not row_texts_all_labels:
        return 0.9, word  # the vendor typed the word into its column
    return 0.0, word


def decide_option_columns(cells: dict[str, Cell], decoration: Decoration | None = None) -> Decision:
    """Answer from separate option columns (label -> cell). `decoration`: the table's shading
    (`table_decoration`); without it a grey fill beside another option's mark is
    taken for shading."""
    texts = {lab: normalize_text((c.text or "").replace("\n", "")) for lab, c in cells.items()}
    row_all_labels = sum(1 for t in texts.values() if option_words(t)) >= 2
    fills = [tuple(sorted(m.detail for m in c.marks if m.kind == "fill")) for c in cells.values()]
    uniform_fill = len(cells) > 1 and all(f and f == fills[0] for f in fills)
    ignored = _shading(cells, row_all_labels, decoration) if not uniform_fill else {}
    chosen: list[tuple[str, float]] = []
    for label, cell in cells.items():
        conf, word = option_cell_evidence(cell, label, row_all_labels, uniform_fill or label in ignored)
        if conf > 0:
            chosen.append((word, conf))
    raw = " | ".join(f"{lab}:{texts[lab] or ('◯' if _marked(cells[lab], lab in ignored) else '')}" for lab in cells)
    strong = [(w, c) for w, c in chosen if c >= 0.5]
    if len(strong) == 1:
        word, conf = strong[0]
        weak_others = [c for w, c in chosen if w != word]
        if weak_others:
            return Decision(word, "answered", min(conf, 0.6), raw, "別の選択肢にも弱い印があります")
        return Decision(word, "answered", conf, raw)
    if len(strong) > 1:
        words = sorted({w for w, _ in strong})
        if len(words) == 1:
            return Decision(words[0], "answered", 0.8, raw, "同じ回答に複数の印があります")
        return Decision("", "ambiguous", 0.9, raw, f"複数の選択肢に印があります（{'・'.join(words)}）", candidates=words)
    if chosen:
        words = [w for w, _ in chosen]
        return Decision("", "unreadable", 0.3, raw, f"印が不明瞭です（{'・'.join(words)}）", candidates=words)
    # The unchosen words struck through: the one printed word left standing is the answer.
    struck = {lab for lab, c in cells.items() if any(m.kind == "strike" for m in c.marks)}
    if struck:
        standing = [next((w for w, _, _ in option_words(texts[lab])), lab)
                    for lab in cells if lab not in struck and texts[lab]]
        if len(standing) == 1:
            return Decision(standing[0], "answered", 0.9, raw)
        reason = "すべての選択肢が消されています" if not standing else f"複数の選択肢が残っています（{'・'.join(standing)}）"
        return Decision("", "ambiguous", 0.8, raw, reason, candidates=standing)
    doubtful = [lab for lab, verdict in ignored.items() if verdict == DOUBTFUL]
    if doubtful:
        return Decision("", "unanswered", 0.6, raw, f"「{'・'.join(doubtful)}」の欄が塗られていますが、様式の網掛けと"
                        "同じ色のため回答の印とは読みませんでした", candidates=doubtful)
    return Decision("", "unanswered", 1.0, raw)


def _marked(cell: Cell, fill_ignored: bool) -> bool:
    return any(m.kind != "fill" or not fill_ignored for m in cell.marks)


def _shading(cells: dict[str, Cell], row_all_labels: bool, decoration: Decoration | None) -> dict[str, str]:
    """Option label -> DECORATION | DOUBTFUL for the cells whose fill is the form's shading, not a mark."""
    deco = decoration or NO_DECORATION
    plain = {lab: option_cell_evidence(c, lab, row_all_labels, True)[0] for lab, c in cells.items()}
    out: dict[str, str] = {}
    for label, cell in cells.items():
        colours = fill_colours(cell)
        if not colours:
            continue
        others_marked = any(v >= 0.5 for lab, v in plain.items() if lab != label)
        verdicts = {deco.classify(label, colour, others_marked) for colour in colours}
        if MARK not in verdicts:
            out[label] = DOUBTFUL if DOUBTFUL in verdicts else DECORATION
    return out


def _span_marks(cell: Cell, start: int, end: int, kinds: set[str]) -> float:
    best = 0.0
    for m in cell.marks:
        if m.kind in kinds and m.span is not None and m.span[0] < end and m.span[1] > start:
            best = max(best, m.confidence)
    return best


def _xfrac(mark: Mark) -> float | None:
    m = re.search(r"xfrac=([0-9.]+)", mark.detail or "")
    return float(m.group(1)) if m else None


# A date beside the answer word: M/D, or with its year (2023/9/20, 2023-09-20, 令和5年9月20日, R5.9.20).
_DATE_TAIL = re.compile(r"[(（]?\s*(?:(?:(?:(?:令和|平成|R|H)\s*(?:\d{1,2}|元)|\d{4})\s*[/／年.\-]\s*)"
                        r"(\d{1,2})\s*[/／月.\-]|(?<![\d/／.])(\d{1,2})\s*[/／月])\s*(\d{1,2})\s*日?\s*[)）]?")
_EMPTY_DATE = re.compile(r"[(（]\s*[/／]?\s*[)）]")


def _unwrap(cell: Cell) -> Cell:
    """Join words a narrow cell wrapped (「対\n象外」), moving mark spans with the text."""
    text = cell.text or ""
    if "\n" not in text and "\r" not in text:
        return cell
    index = []  # new position of each old position
    out = []
    for i, ch in enumerate(text):
        index.append(len(out))
        if ch not in "\r\n":
            out.append(ch)
    index.append(len(out))
    marks = [Mark(m.kind, (index[m.span[0]], index[min(m.span[1], len(text))]) if m.span else None,
                  m.confidence, m.detail) for m in cell.marks]
    return Cell(text="".join(out), marks=marks, choices=cell.choices, date=cell.date, ref=cell.ref, bbox=cell.bbox)


def decide_inline(cell: Cell) -> Decision:
    """Answer from one cell: a dropdown value, a typed word, or inline options with marks."""
    cell = _unwrap(cell)
    original = cell.text or ""
    text = normalize_text(original)
    raw = text
    # Work on the original text so that mark spans line up; NFKC keeps these words' length.
    occurrences = option_words(original)
    if not occurrences:
        occurrences = option_words(text)
        original = text
    date_m = _DATE_TAIL.search(text)
    date_text = date_m.group(0) if date_m else ""
    if text.replace(" ", "") in PARAPHRASES:
        occurrences = []
    if not occurrences:
        bare = text.replace(" ", "")
        low = bare.lower()
        if low in ENGLISH:
            return Decision(ENGLISH[low], "answered", 0.9, raw, date_text=date_text)
        if bare in PARAPHRASES:
            return Decision(PARAPHRASES[bare], "answered", 0.65, raw,
                            f"「{bare}」を「{PARAPHRASES[bare]}」と読みました（様式の選択肢ではありません）")
        if bare in ("○", "〇", "◯", "●"):
            return Decision(YES, "answered", 0.75, raw, "○ のみの記入を「はい」と読みました")
        if bare in ("×", "✕", "✖"):
            return Decision(NO, "answered", 0.75, raw, "× のみの記入を「いいえ」と読みました")
        # 「= (/)」「- ( / )」: a dash for "not applicable" (or nothing) beside the template's empty date.
        rest = _EMPTY_DATE.sub("", _DATE_TAIL.sub("", bare))
        if bare in EMPTY_ANSWERS or rest in EMPTY_ANSWERS or not rest.strip("()（） "):
            circles = [m for m in cell.marks if m.kind == "circle"]
            if circles and not bare:
                return Decision("", "unreadable", 0.3, raw, "空欄に丸印があります")
            return Decision("", "unanswered", 1.0, raw, date_text=date_text)
        return Decision("", "unreadable", 0.5, raw, "回答欄の記載を選択肢として読めません")

    words = [w for w, _, _ in occurrences]
    if cell.choices and text in cell.choices:
        return Decision(text, "answered", 1.0, raw)

    positive: dict[int, float] = {}
    negative: set[int] = set()  # struck through
    unchecked: set[int] = set()  # an empty box before the word
    glyphs = [_glyph_before(original, start) for _, start, _ in occurrences]
    off = hollow_glyphs_off(set(glyphs))  # 「●はい ○いいえ」: ○ beside ● is the unchosen one
    for idx, (word, start, end) in enumerate(occurrences):
        glyph = glyphs[idx]
        if glyph in off or glyph in NEGATIVE_GLYPHS:
            unchecked.add(idx)
        elif glyph in POSITIVE_GLYPHS or glyph in GLYPH_PAIRS:
            positive[idx] = 0.97
        elif typed := typed_mark_before(original, start):
            positive[idx] = typed
        conf = _span_marks(cell, start, end, {"circle", "check", "highlight", "fill"})
        if conf:
            positive[idx] = max(positive.get(idx, 0), conf)
        if _span_marks(cell, start, end, {"strike"}):
            negative.add(idx)
            positive.pop(idx, None)
    # No mark, but one option set in bold / colour / underline among plain ones: weak evidence, for review.
    emphasised_only = False
    if not positive and len(occurrences) > 1:
        emphasised = [i for i, (_, start, end) in enumerate(occurrences)
                      if i not in negative and _span_marks(cell, start, end, {"emphasis"})]
        if len(emphasised) == 1:
            positive[emphasised[0]] = 0.65
            emphasised_only = True
    # A whole-cell circle on a cell holding several words: the shape's centre tells which word.
    whole = [m for m in cell.marks if m.kind == "circle" and m.span is None]
    if whole and len(occurrences) > 1 and not positive:
        frac = _xfrac(whole[0])
        if frac is None or not original:
            return Decision("", "unreadable", 0.3, raw, "丸印がありますが、どの選択肢を囲んでいるか判断できません",
                            date_text=date_text, candidates=[w for w, _, _ in occurrences])
        centres = [((s + e) / 2) / max(len(original), 1) for _, s, e in occurrences]
        idx = min(range(len(centres)), key=lambda i: abs(centres[i] - frac))
        positive[idx] = 0.6
    elif whole and len(occurrences) == 1:
        positive[0] = max(m.confidence for m in whole)

    if positive:
        chosen = {occurrences[i][0] for i in positive}
        conf = min(positive.values())
        if len(chosen) == 1:
            reason = ("太字・色・下線の付いた語を回答と読みました" if emphasised_only else
                      "丸印の位置から判断しました" if conf <= 0.6 else "")
            return Decision(chosen.pop(), "answered", conf, raw, reason, date_text)
        return Decision("", "ambiguous", 0.9, raw, f"複数の選択肢に印があります（{'・'.join(sorted(chosen))}）",
                        date_text, sorted(chosen))
    if unchecked and not negative:
        return Decision("", "unanswered", 1.0, raw, date_text=date_text)
    remaining = [occurrences[i][0] for i in range(len(occurrences)) if i not in negative]
    if len(occurrences) == 1 and not negative:
        return Decision(words[0], "answered", 0.97 if not cell.choices else 1.0, raw, date_text=date_text)
    if negative and len(set(remaining)) == 1:
        return Decision(remaining[0], "answered", 0.9, raw, date_text=date_text)
    if negative and not remaining:
        return Decision("", "ambiguous", 0.8, raw, "すべての選択肢が消されています")
    if negative and len(set(remaining)) > 1:
        return Decision("", "ambiguous", 0.8, raw, f"複数の選択肢が残っています（{'・'.join(remaining)}）",
                        candidates=remaining)
    # Every option printed and none marked: the untouched template.
    return Decision("", "unanswered", 0.95, raw, date_text=date_text)


def fit_to_answer_set(decision: Decision, allowed: tuple[str, ...]) -> Decision:
    """Map はい/いいえ marked on a 該当/非該当 row (and back) when the form's columns force it."""
    if not decision.answer or not allowed or decision.answer in allowed:
        return decision
    mapped = COUNTERPART.get(decision.answer)
    if mapped in allowed:
        decision.reason = (decision.reason + " " if decision.reason else "") + \
            f"「{decision.answer}」を「{mapped}」として読みました"
        decision.answer = mapped
        decision.confidence = min(decision.confidence, 0.85)
        return decision
    if decision.answer == NOT_APPLICABLE and NOT_APPLICABLE_GATE in allowed:
        decision.answer = NOT_APPLICABLE_GATE
        decision.confidence = min(decision.confidence, 0.85)
        return decision
    decision.reason = (decision.reason + " " if decision.reason else "") + "この項目の選択肢にない回答です"
    decision.confidence = min(decision.confidence, 0.6)
    return decision


def table_decoration(table: Table, header_rows: tuple[int, ...], options: dict[str, int]) -> Decoration:
    """The fills of `table` that are the form's, from its header rows and the body under the option columns."""
    deco = Decoration()
    if not options:
        return deco
    option_cols = set(options.values())
    body_start = max(header_rows) + 1 if header_rows else 0
    for r in header_rows:
        for cell in table.rows[r]:
            deco.colours.update(fill_colours(cell))
    lone: dict[str, set[str]] = {}
    beside_mark: dict[tuple[str, str], int] = {}
    marked_rows = 0
    for row in table.rows[body_start:]:
        for col, cell in enumerate(row):
            if col not in option_cols and cell.merged_into is None:
                deco.colours.update(fill_colours(cell))
        cells = {w: row[c] for w, c in options.items() if c < len(row) and row[c].merged_into is None}
        if not cells:
            continue
        texts_all = sum(1 for c in cells.values() if normalize_text(c.text)) >= 2
        marked = {w for w, c in cells.items() if option_cell_evidence(c, w, texts_all, True)[0] >= 0.5}
        marked_rows += bool(marked)
        fills = {w: fill_colours(c) for w, c in cells.items()}
        if len(cells) > 1 and len({fills[w] for w in cells}) == 1:
            continue  # every option cell shaded alike (or none): a shaded row
        filled = [w for w in cells if fills[w]]
        if len(filled) == 1 and not marked:
            for colour in fills[filled[0]]:
                lone.setdefault(colour, set()).add(filled[0])
        for w in filled:
            if marked - {w}:
                for colour in fills[w]:
                    beside_mark[(w, colour)] = beside_mark.get((w, colour), 0) + 1
    deco.marking = {colour for colour, words in lone.items() if len(words) >= 2}
    # A vendor who marks with glyphs or circles: a grey cell alone in a row is more likely the form's.
    if marked_rows >= 3:
        deco.colours.update(colour for colour in lone if is_neutral(colour) and colour not in deco.marking)
    deco.colours -= deco.marking
    deco.columns = {(w, colour) for (w, colour), n in beside_mark.items() if colour not in deco.marking and
                    (is_neutral(colour) or colour in deco.colours or (is_pale(colour) and n >= 2))}
    return deco
