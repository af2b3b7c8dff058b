"""Turning positioned PDF characters into text: visual lines, rejoined words, tokens with boxes.

Works on pdfplumber char dicts (x0, x1, top, bottom, text, size). Every visible character keeps
its index in the produced text, so that a drawn mark found over a character can be turned into a
span of the cell text.
"""
from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter

from extractors.vocabulary import ANSWERS

Box = tuple[float, float, float, float]  # x0, top, x1, bottom

CID = re.compile(r"^\(cid:\d+\)$")
# Characters that separate tokens (a circled word is a token): spaces, 中黒, slashes, brackets, commas.
SEPARATORS = set(" \u3000\t\n・･/／、,，()（）[]［］「」:：|｜")


_SAME_GLYPH = itemgetter("upright", "text", "fontname", "size")
_POSITION = itemgetter("doctop", "x0")
_DOCTOP, _X0 = itemgetter("doctop"), itemgetter("x0")


def unique_chars(page):
    """The page with each character printed more than once over itself (bold by overprint) kept once: the
    characters pdfplumber's `Page.dedupe_chars()` keeps (same glyph within 1 pt; the first by position),
    in page order. pdfplumber restores the order with `list.index`, quadratic in the characters of a page
    (a fifth of reading a dense form); the same set here is picked by identity, and most glyphs, printed
    once, are kept without clustering."""
    chars = page.chars
    keep: set[int] = set()
    for _, same in groupby(sorted(chars, key=_SAME_GLYPH), key=_SAME_GLYPH):
        for row in _within_1pt(list(same), _DOCTOP):
            for spot in _within_1pt(row, _X0):
                keep.add(id(min(spot, key=_POSITION)))
    if len(keep) == len(chars):
        return page
    return page.filter(lambda obj: obj.get("object_type") != "char" or id(obj) in keep)


def _within_1pt(objs: list[dict], key) -> list[list[dict]]:
    """The groups of pdfplumber's `cluster_objects(objs, key, 1)`: sorted by `key`, a gap over 1 pt starts the
    next group. Equal keys keep their order, so `min` over a group picks the object pdfplumber's would."""
    if len(objs) == 1:
        return [objs]
    objs = sorted(objs, key=key)
    groups, last = [[objs[0]]], key(objs[0])
    for obj in objs[1:]:
        value = key(obj)
        if value <= last + 1:
            groups[-1].append(obj)
        else:
            groups.append([obj])
        last = value
    return groups


def is_cid(text: str) -> bool:
    return bool(CID.match(text))


def _is_wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def char_box(ch: dict) -> Box:
    return (ch["x0"], ch["top"], ch["x1"], ch["bottom"])


def centre(box: Box) -> tuple[float, float]:
    return ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)


def inside(point: tuple[float, float], box: Box, tol: float = 0.0) -> bool:
    x, y = point
    return box[0] - tol <= x <= box[2] + tol and box[1] - tol <= y <= box[3] + tol


class BoxIndex:
    """Boxes filed under the squares of a coarse grid: `holding(point)` gives the indices of the boxes that may
    hold the point within `tol` (those that do, and some that do not), in ascending order, so that testing
    them finds what testing every box finds, in the same order."""

    def __init__(self, boxes: list[Box], tol: float = 0.0, step: float = 24.0):
        self.step = step
        self.squares: dict[tuple[int, int], list[int]] = {}
        for i, b in enumerate(boxes):
            for gx in range(int((b[0] - tol) // step), int((b[2] + tol) // step) + 1):
                for gy in range(int((b[1] - tol) // step), int((b[3] + tol) // step) + 1):
                    self.squares.setdefault((gx, gy), []).append(i)

    def holding(self, point: tuple[float, float]) -> list[int]:
        return self.squares.get((int(point[0] // self.step), int(point[1] // self.step)), [])


class VerticalIndex:
    """Boxes by their tops: `reaching(y0, y1)` gives the indices of the boxes whose vertical extent may reach into
    y0..y1 (every box with bottom >= y0 and top <= y1, and some that do not), in ascending order, so that
    testing them finds what testing every box finds, in the same order."""

    def __init__(self, tops: list[float], bottoms: list[float]):
        self.order = sorted(range(len(tops)), key=tops.__getitem__)
        self.tops = [tops[i] for i in self.order]
        self.tallest = max((b - t for t, b in zip(tops, bottoms)), default=0.0)

    def reaching(self, y0: float, y1: float) -> list[int]:
        # a box whose bottom reaches y0 has its top within its height (and a point of margin) above y0
        return sorted(self.order[bisect_left(self.tops, y0 - self.tallest - 1.0):bisect_right(self.tops, y1)])


@dataclass
class Token:
    """A run of characters between separators: the unit a circle or a strike marks."""

    text: str
    start: int
    end: int
    box: Box


@dataclass
class LaidText:
    text: str
    # (start index in text, box) for each visible character, in text order
    chars: list[tuple[int, Box]] = field(default_factory=list)
    _tokens: list[Token] | None = field(default=None, repr=False, compare=False)

    def tokens(self) -> list[Token]:
        if self._tokens is None:
            self._tokens = self._split_tokens()
        return self._tokens

    def _split_tokens(self) -> list[Token]:
        out: list[Token] = []
        cur: list[tuple[int, Box]] = []

        def flush():
            if cur:
                s, e = cur[0][0], cur[-1][0] + 1
                out.append(Token(self.text[s:e], s, e, (min(b[0] for _, b in cur), min(b[1] for _, b in cur),
                                                        max(b[2] for _, b in cur), max(b[3] for _, b in cur))))
                cur.clear()

        prev = -2
        for idx, box in self.chars:
            ch = self.text[idx]
            if ch in SEPARATORS or idx != prev + 1:
                flush()
            if ch not in SEPARATORS:
                cur.append((idx, box))
            prev = idx
        flush()
        return out


def group_lines(chars: list[dict]) -> list[list[dict]]:
    """Visual lines: chars whose vertical centres agree, each line sorted left to right."""
    lines: list[list[dict]] = []
    centres: list[float] = []  # each line's mean character centre
    sums: list[float] = []  # ... kept as a running sum (the same additions, in the same order, as sum())
    for ch in sorted(chars, key=lambda c: ((c["top"] + c["bottom"]) / 2, c["x0"])):
        cy = (ch["top"] + ch["bottom"]) / 2
        h = max(ch["bottom"] - ch["top"], 1.0)
        for i in range(len(lines) - 1, max(-1, len(lines) - 3), -1):
            if abs(centres[i] - cy) <= 0.45 * h:
                lines[i].append(ch)
                sums[i] += cy
                centres[i] = sums[i] / len(lines[i])
                break
        else:
            lines.append([ch])
            centres.append(cy)
            sums.append(cy)
    for line in lines:
        line.sort(key=lambda c: c["x0"])
    order = sorted(range(len(lines)), key=lambda i: centres[i])
    return [lines[i] for i in order]


def _is_distributed(line: list[dict]) -> bool:
    """Single characters spread evenly over a width (Excel 均等割り付け, letter-spaced titles)."""
    visible = [c for c in line if c["text"].strip()]
    if len(visible) < 2 or len(visible) != len(line):
        return False
    if not all(_is_wide(c["text"]) for c in visible):
        return False
    gaps = [b["x0"] - a["x1"] for a, b in zip(visible, visible[1:])]
    size = max(c.get("size", 10) for c in visible)
    return min(gaps) > 0.25 * size and max(gaps) <= 1.35 * min(gaps) + 0.5


def split_segments(line: list[dict], gap_factor: float = 2.0) -> list[list[dict]]:
    """Split a visual line where the horizontal gap is large (separate columns or fields)."""
    visible = [c for c in line if c["text"].strip()]
    if not visible:
        return []
    if _is_distributed(visible):
        return [visible]
    segs: list[list[dict]] = [[]]
    prev: dict | None = None
    for ch in line:
        if not ch["text"].strip():
            if segs[-1]:
                segs[-1].append(ch)  # spaces stay inside a segment; trailing ones are dropped below
            continue
        if prev is not None and ch["x0"] - prev["x1"] > gap_factor * max(ch.get("size", 10), prev.get("size", 10)):
            segs.append([])
        segs[-1].append(ch)
        prev = ch
    out = []
    for seg in segs:
        while seg and not seg[-1]["text"].strip():
            seg.pop()
        if seg:
            out.append(seg)
    return out


def line_text(line: list[dict], text: list[str], chars: list[tuple[int, Box]]) -> None:
    """Append one visual line to `text` (a list of pieces), recording each char's index."""
    distributed = _is_distributed(line)
    pos = sum(len(p) for p in text)
    prev: dict | None = None
    pending_space = False
    for ch in line:
        t = ch["text"]
        if not t.strip():
            pending_space = prev is not None
            continue
        if prev is not None and not pending_space and not distributed:
            gap = ch["x0"] - prev["x1"]
            size = max(ch.get("size", 10), prev.get("size", 10))
            pending_space = gap > 0.3 * size
        if pending_space:
            text.append(" ")
            pos += 1
            pending_space = False
        text.append(t)
        chars.append((pos, char_box(ch)))
        pos += len(t)
        prev = ch


def lay_out(chars: list[dict], box: Box | None = None) -> LaidText:
    """Text of a cell or block: visual lines joined with "\\n", words rejoined, index per char.

    With the cell's `box`, a line that ran into the right edge of the cell's text in the middle of Japanese
    text is a wrap, not a line break: the next line runs on (「オプシ」+「ョン」 → 「オプション」)."""
    pieces: list[str] = []
    boxes: list[tuple[int, Box]] = []
    lines = [ln for ln in group_lines(chars) if any(c["text"].strip() for c in ln)]
    right = _text_right_edge(lines, box) if box is not None and len(lines) > 1 else None
    prev: list[dict] | None = None
    for line in lines:
        if pieces and not (right is not None and prev is not None and is_wrap(prev, line, right)):
            pieces.append("\n")
        line_text(line, pieces, boxes)
        prev = line
    return LaidText("".join(pieces), boxes)


_SENTENCE_END = set("。．.！!？?")
_CLOSERS = set("）)」』】、，,。．？?！!")
_OPENERS = set("（(「『【")
_RUN_ON = set("、，,・／/") | _OPENERS  # a line ending in these goes on in the next line


def _is_japanese_letter(ch: str) -> bool:
    o = ord(ch)
    return (0x3041 <= o <= 0x309F or 0x30A1 <= o <= 0x30FA or ch in "ーヽヾ々〆ヶ"
            or 0x3400 <= o <= 0x4DBF or 0x4E00 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF)


def _text_right_edge(lines: list[list[dict]], box: Box) -> float:
    """Where the cell's text wraps: the cell's right edge, or, when the longest line comes near it (within
    three characters, the writer's own margin), the end of the longest line."""
    visible = [c for ln in lines for c in ln if c["text"].strip()]
    size = max(c.get("size", 10) for c in visible)
    widest = max(c["x1"] for c in visible)
    return widest if widest >= box[2] - 3 * size else box[2]


def is_wrap(prev: list[dict], line: list[dict], right: float) -> bool:
    """Whether `line` continues `prev` because the text wrapped at `right` (see `_text_right_edge`):
    Japanese text on both sides of the break (a comma or an opening bracket may end the line; a closing
    bracket, a comma or a Latin word may start the next), no sentence end before it, and the previous line
    reaching the right edge within about a character. A new line starting with ・ ※ a number or a mark, or
    a break between two answer words (「はい」 over 「該当」), keep their break."""
    a = [c for c in prev if c["text"].strip()]
    b = [c for c in line if c["text"].strip()]
    if not a or not b:
        return False
    last, first = a[-1]["text"][-1], b[0]["text"][0]
    if last in _SENTENCE_END or not (_is_japanese_letter(last) or last in _RUN_ON):
        return False
    latin = first.isascii() and first.isalpha()
    if not (_is_japanese_letter(first) or first in _CLOSERS or first in _OPENERS or first in "＋+＆&" or latin):
        return False
    size = max(c.get("size", 10) for c in a)
    room = right - max(c["x1"] for c in a)
    if latin:  # a Latin word is moved whole to the next line: the room left is narrower than the word
        word = [b[0]]
        for c in b[1:]:
            if not (c["text"].isascii() and c["text"].strip()) or c["x0"] - word[-1]["x1"] > 0.3 * size:
                break
            word.append(c)
        if room < word[-1]["x1"] - word[0]["x0"] + 0.5 * size:
            return not _ends_and_starts_with_answers(a, b)
    if room > 1.6 * size:
        return False
    return not _ends_and_starts_with_answers(a, b)


def _ends_and_starts_with_answers(a: list[dict], b: list[dict]) -> bool:
    """Options printed over two lines (「はい・いいえ」 over 「対象外」) stay separate words."""
    before, after = "".join(c["text"] for c in a).strip(), "".join(c["text"] for c in b).strip()
    return before.endswith(ANSWERS) and after.startswith(ANSWERS)
