"""Tesseract OCR of page regions in one call, word boxes, and option-word tokens fixed to the vocabulary.

All regions of a page (every table cell, plus the page outside the tables) are cut out, cleaned of rules
and pen marks, and sent to one `tesseract` process as a list of images: the Japanese model is loaded once.
"""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from rapidfuzz.distance import Levenshtein

from extractors.readers.scan_image import TESSERACT
from extractors.vocabulary import ANSWERS

TOKEN = re.compile(r"[^・･/／、,，|｜\s]+")  # text between option separators
_SMALL_KANA = str.maketrans("ぁぃぅぇぉゃゅょっァィゥェォャュョッ", "あいうえおやゆよつアイウエオヤユヨツ")


@dataclass
class OcrWord:
    text: str
    box: tuple[int, int, int, int]  # page px
    conf: float
    line: tuple[int, int, int]  # (block, paragraph, line) within its region


@dataclass
class Token:
    """A piece of a region's text between separators, with where it is on the page."""

    text: str
    span: tuple[int, int]  # into the region's text
    box: tuple[int, int, int, int]
    fixed_from: str = ""  # the OCR text when it was corrected to an option word
    conf: float = 1.0  # lowest Tesseract confidence (0..1) of the words it came from

    @property
    def centre(self) -> tuple[float, float]:
        return (self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2


@dataclass
class RegionText:
    text: str = ""
    tokens: list[Token] = field(default_factory=list)
    lines: list[tuple[str, tuple[int, int, int, int]]] = field(default_factory=list)  # (text, box) per line
    confidence: float | None = None  # mean Tesseract word confidence 0..1, None without words


def ocr_regions(gray: np.ndarray, regions: list[tuple[int, int, int, int]], keep: np.ndarray,
                psms: list[int] | None = None, pad: int = 24) -> list[list[OcrWord]]:
    """OCR each region (x0, y0, x1, y1 px) of `gray`, showing only pixels in `keep` (the ink left after
    rules and pen marks are removed) on white: scan noise and cell borders otherwise become letters.

    `psms` gives each region's page segmentation mode (7 = one line, 6 = a block); regions are grouped
    by mode and each group is one Tesseract process (the groups run concurrently). A region with ink that
    Tesseract read nothing from (a short word such as 該当 alone in a cell, whose grey stroke edges blur
    it) is read once more with its paper stretched to white, which thins the strokes.
    """
    if not regions:
        return []
    psms = psms or [6] * len(regions)
    page_paper = float(np.median(gray[::8, ::8]))
    results = _ocr_pass(gray, regions, keep, psms, pad, page_paper, list(range(len(regions))), stretch=False)
    retry = [k for k, words in enumerate(results) if not words]
    if retry:
        again = _ocr_pass(gray, regions, keep, psms, pad, page_paper, retry, stretch=True)
        for k in retry:
            results[k] = again[k]
    return results


def _ocr_pass(gray: np.ndarray, regions: list[tuple[int, int, int, int]], keep: np.ndarray, psms: list[int],
              pad: int, page_paper: float, which: list[int], stretch: bool) -> list[list[OcrWord]]:
    """One Tesseract run per page segmentation mode over the regions listed in `which`."""
    results: list[list[OcrWord]] = [[] for _ in regions]
    with tempfile.TemporaryDirectory() as tmp:
        groups: dict[int, list[int]] = {}
        for k in which:
            x0, y0, x1, y1 = regions[k]
            crop = _paper_white(gray[y0:y1 + 1, x0:x1 + 1], keep[y0:y1 + 1, x0:x1 + 1] > 0,
                                None if stretch else page_paper)
            crop = cv2.copyMakeBorder(crop, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)
            cv2.imwrite(str(Path(tmp) / f"r{k:04d}.png"), crop)
            groups.setdefault(psms[k], []).append(k)
        # One thread per process: Tesseract's OpenMP threads only slow it down on a small, shared machine.
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
        running = []
        for psm, members in groups.items():
            list_file = Path(tmp) / f"psm{psm}.txt"
            list_file.write_text("".join(f"{tmp}/r{k:04d}.png\n" for k in members), "utf-8")
            out = Path(tmp) / f"out{psm}"
            proc = subprocess.Popen([TESSERACT, str(list_file), str(out), "-l", "jpn", "--psm", str(psm),
                                     "--dpi", "300", "tsv"], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, env=env)
            running.append((proc, out.with_suffix(".tsv"), members))
        for proc, tsv, members in running:
            try:
                proc.wait(timeout=600)
            except subprocess.TimeoutExpired:
                proc.kill()
                continue
            rows = tsv.read_text("utf-8").splitlines()[1:] if tsv.exists() else []
            for row in rows:
                parts = row.split("\t")
                if len(parts) < 12 or parts[0] != "5":
                    continue
                text = parts[11].strip()
                conf = float(parts[10])
                index = int(parts[1]) - 1
                if not text or conf < 0 or not 0 <= index < len(members):
                    continue
                k = members[index]
                left, top, width, height = (int(v) for v in parts[6:10])
                x0, y0 = regions[k][0] - pad, regions[k][1] - pad
                results[k].append(OcrWord(text, (x0 + left, y0 + top, x0 + left + width, y0 + top + height),
                                          conf / 100, (int(parts[2]), int(parts[3]), int(parts[4]))))
    return results


SHADED = 25  # grey levels below the page's paper from which a region counts as shaded


def _paper_white(gray: np.ndarray, ink: np.ndarray, page_paper: float | None = 255.0) -> np.ndarray:
    """The region's ink on white; in a shaded region (or always when `page_paper` is None), contrast
    stretched so that the region's paper is white and its darkest ink black.

    The mask keeps a grey halo round each stroke; on a shaded cell (a grey header row) Tesseract then
    binarises the strokes into blobs and reads nothing. The stretch turns the halo white and gives clean
    strokes. White regions are left as they are on the first pass: stretching them can upset Tesseract's
    line finding in a long block of text."""
    crop = np.where(ink, gray, 255).astype(np.uint8)
    if not ink.any() or ink.all():
        return crop
    paper = float(np.median(gray[~ink]))
    dark = float(np.percentile(gray[ink], 2))
    if (page_paper is not None and paper > page_paper - SHADED) or paper - dark < 40:
        return crop
    stretched = (gray.astype(np.float32) - dark) * (255.0 / (paper - dark))
    return np.where(ink, np.clip(stretched, 0, 255), 255).astype(np.uint8)


def _is_cjk(ch: str) -> bool:
    return ord(ch) > 0x2E80


def fix_option_word(token: str) -> str | None:
    """The option word a short OCR token stands for, when the match is close and unambiguous; else None.

    Three-letter words allow one edit (いいぇ→いいえ, 対象夕→対象外); two-letter words only small-kana or
    voiced-mark variants (はぃ→はい, ばい→はい), so that a real word like 妥当 never becomes 該当.
    """
    t = unicodedata.normalize("NFKC", token).replace(" ", "")
    if t in ANSWERS:
        return t
    if not 2 <= len(t) <= 4:
        return None

    def loose(s: str) -> str:
        s = unicodedata.normalize("NFD", s.translate(_SMALL_KANA))
        return "".join(c for c in s if not unicodedata.combining(c))

    scored = sorted((Levenshtein.distance(t, w), w) for w in ANSWERS)
    best_d, best = scored[0]
    if best_d != 1 or scored[1][0] == 1:
        return None
    if len(best) == 2 and (len(t) != 2 or loose(t) != loose(best)):
        return None
    return best


def _split_concatenated(token: str) -> list[str] | None:
    """「はいいいえ」 (the separator lost) → ["はい", "いいえ"]; None unless it is all option words."""
    if token in ANSWERS or not token:
        return None
    best: dict[int, list[str]] = {0: []}
    for i in range(len(token)):
        if i not in best:
            continue
        for w in ANSWERS:
            if token.startswith(w, i) and i + len(w) not in best:
                best[i + len(w)] = best[i] + [w]
    return best.get(len(token))


def _split_option_prefix(token: str) -> list[str] | None:
    """「はいいいえ9/」, 「はい(8」 (a date glued on by OCR) → option words, then the rest; None unless the
    rest starts with something that cannot continue a word (a digit, a bracket, a slash)."""
    for end in range(len(token) - 1, 1, -1):
        rest = token[end:]
        if not re.match(r"[\d(（/／)）]", rest):
            continue
        words = [token[:end]] if token[:end] in ANSWERS else _split_concatenated(token[:end])
        if words:
            return words + [rest]
    return None


def assemble(words: list[OcrWord]) -> RegionText:
    """Join a region's words into lines (no space between Japanese characters), then split tokens."""
    if not words:
        return RegionText()
    by_line: dict[tuple[int, int, int], list[OcrWord]] = {}
    for w in words:
        by_line.setdefault(w.line, []).append(w)
    lines = sorted(by_line.values(), key=lambda ws: min(w.box[1] for w in ws))
    text = ""
    char_boxes: list[tuple[int, int, int, int] | None] = []
    char_confs: list[float] = []
    line_info = []
    for n, line in enumerate(lines):
        if n:
            text += "\n"
            char_boxes.append(None)
            char_confs.append(1.0)
        line_start = len(text)
        for m, w in enumerate(sorted(line, key=lambda w: w.box[0])):
            wt = unicodedata.normalize("NFKC", w.text)
            if m and text and not (_is_cjk(text[-1]) or _is_cjk(wt[0])):
                text += " "
                char_boxes.append(None)
                char_confs.append(1.0)
            x0, y0, x1, y1 = w.box
            step = (x1 - x0) / max(len(wt), 1)
            for i, ch in enumerate(wt):
                text += ch
                char_boxes.append((int(x0 + i * step), y0, int(x0 + (i + 1) * step), y1))
                char_confs.append(w.conf)
        lbox = _union([b for b in char_boxes[line_start:] if b])
        line_info.append((text[line_start:], lbox))
    tokens: list[Token] = []
    for match in TOKEN.finditer(text):
        piece, start, end = match.group(), match.start(), match.end()
        box = _union([b for b in char_boxes[start:end] if b])
        parts = _split_concatenated(piece) or _split_option_prefix(piece)
        if parts:
            offset = start
            for p in parts:
                tokens.append(Token(p, (offset, offset + len(p)),
                                    _union([b for b in char_boxes[offset:offset + len(p)] if b]),
                                    conf=min(char_confs[offset:offset + len(p)])))
                offset += len(p)
        else:
            tokens.append(Token(piece, (start, end), box, conf=min(char_confs[start:end])))
    result = RegionText(text=text, tokens=tokens, lines=line_info,
                        confidence=float(np.mean([w.conf for w in words])))
    return fix_tokens(result)


# Characters Tesseract's Japanese model reads in place of a digit (one for one, so spans stay valid).
_DIGIT_LOOKALIKES = str.maketrans({"l": "1", "I": "1", "|": "1", "!": "1", "]": "1", "丨": "1", "ｌ": "1",
                                   "O": "0", "o": "0", "〇": "0", "○": "0", "ロ": "0", "口": "0"})
_NUMBER_SEPARATORS = str.maketrans({",": ".", "，": ".", "、": ".", "。": ".", "・": ".", "･": ".", "．": "."})
_LOOKALIKE_CHARS = "lI|!]丨ｌOo〇○ロ口"
_LOOKALIKE = re.escape(_LOOKALIKE_CHARS)  # for use inside a character class
_WHOLE_NUMBER = re.compile(rf"^[\d{_LOOKALIKE}][\d{_LOOKALIKE} .,，、。・･．]*$")
_DOTTED_AFTER_FIX = re.compile(r"^\d{1,2}(?:\s*\.\s*\d{1,2}){0,4}\.?$")
_BRACKET_NUMBER = re.compile(rf"^([(（\[〔{{]\s*)([\d{_LOOKALIKE}]{{1,2}})(\s*[)）\]〕}}|])")
_LEADING_DOTTED = re.compile(rf"^([\d{_LOOKALIKE}]{{1,2}}(?:\s*[.,，、。・･．]\s*[\d{_LOOKALIKE}]{{1,2}}){{1,4}})(?=\s*[^\x00-\x7f])")


def fix_number_text(text: str) -> str:
    """An item number as OCR misreads it, restored: 「4,l」 → 「4.1」, 「l2。3」 → 「12.3」, 「(l)」 → 「(1)」.

    Only where the text is a number: a whole cell of digits, look-alikes and separators that makes a dotted
    number once fixed; a bracketed 「(l)」 「[8]」 「(3|」 at the start of a cell; a dotted number at the start of a
    question (「4.l 利用者の…」, at least one real digit). Every replacement is one character for one, so
    mark spans into the text stay where they were. Words (「ID」, 「IP-VPN」, 「ロール」) are left alone.
    """
    if not text or not any(ch in _LOOKALIKE_CHARS or ch in ",，、。・･．[〔{" for ch in text):
        return text
    stripped = text.strip()
    lead = text.index(stripped[0]) if stripped else 0
    if _WHOLE_NUMBER.match(stripped) and any(ch.isdigit() for ch in stripped):
        fixed = stripped.translate(_DIGIT_LOOKALIKES).translate(_NUMBER_SEPARATORS)
        if _DOTTED_AFTER_FIX.match(fixed):
            return text[:lead] + fixed + text[lead + len(fixed):]
        return text
    if m := _BRACKET_NUMBER.match(stripped):
        digits = m.group(2).translate(_DIGIT_LOOKALIKES)
        if digits.isdigit() and not digits.startswith("0"):
            # Brackets misread as [ ] 〔 〕 { } | become round ones; the full-width pair stays as it is.
            opening = m.group(1).replace("[", "(").replace("〔", "(").replace("{", "(")
            closing = m.group(3)
            for wrong in "]〕}|":
                closing = closing.replace(wrong, ")")
            start = lead + m.start(1)
            fixed = opening + digits + closing
            return text[:start] + fixed + text[start + len(fixed):]
        return text
    if (m := _LEADING_DOTTED.match(stripped)) and any(ch.isdigit() for ch in m.group(1)):
        fixed = m.group(1).translate(_DIGIT_LOOKALIKES).translate(_NUMBER_SEPARATORS)
        if re.fullmatch(r"\d{1,2}(?:\s*\.\s*\d{1,2}){1,4}", fixed):
            return text[:lead] + fixed + text[lead + len(fixed):]
    return text


def fix_tokens(region: RegionText) -> RegionText:
    """Replace tokens that are close misreadings of option words, shifting later spans."""
    text, shift, tokens = region.text, 0, []
    for tok in region.tokens:
        start, end = tok.span[0] + shift, tok.span[1] + shift
        fixed = fix_option_word(tok.text)
        if fixed and fixed != tok.text:
            text = text[:start] + fixed + text[end:]
            shift += len(fixed) - len(tok.text)
            tokens.append(Token(fixed, (start, start + len(fixed)), tok.box, fixed_from=tok.text, conf=tok.conf))
        else:
            tokens.append(Token(tok.text, (start, end), tok.box, tok.fixed_from, tok.conf))
    return RegionText(text=text, tokens=tokens, lines=region.lines, confidence=region.confidence)


def _union(boxes: list[tuple[int, int, int, int]]) -> tuple[int, int, int, int]:
    if not boxes:
        return (0, 0, 0, 0)
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))
