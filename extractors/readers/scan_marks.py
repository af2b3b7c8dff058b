"""Pen marks on a scanned page: ellipses round a word, strike lines through words, ticks, filled cells.

OCR drops a circled word and garbles a struck one, so marks are found in the image. Every detection
carries a confidence that reflects the evidence: a clean closed ellipse ~0.8, a partial arc ~0.6, an
irregular blob ~0.4. Coordinates are pixels of the corrected page image.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np


@dataclass
class FoundMark:
    kind: str  # circle | strike | check | fill
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 (px)
    confidence: float
    detail: str = ""
    ellipse: tuple | None = None  # cv2.fitEllipse result for circles
    pixels: np.ndarray | None = field(default=None, repr=False)  # contour points, to erase before OCR

    @property
    def centre(self) -> tuple[float, float]:
        if self.ellipse is not None:
            return float(self.ellipse[0][0]), float(self.ellipse[0][1])
        return (self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2

    def encloses(self, x: float, y: float, margin: float = 1.0) -> bool:
        """Is (x, y) inside the fitted ellipse (scaled by `margin`), or inside the box for a blob?"""
        if self.ellipse is None:
            return self.box[0] <= x <= self.box[2] and self.box[1] <= y <= self.box[3]
        (cx, cy), (w, h), angle = self.ellipse
        t = math.radians(angle)
        dx, dy = x - cx, y - cy
        u = dx * math.cos(t) + dy * math.sin(t)
        v = -dx * math.sin(t) + dy * math.cos(t)
        a, b = max(w / 2 * margin, 1), max(h / 2 * margin, 1)
        return (u / a) ** 2 + (v / b) ** 2 <= 1.0


def _ellipse_quality(points: np.ndarray, ellipse) -> tuple[float, float]:
    """(median radial residual, angular coverage 0..1) of contour points against a fitted ellipse."""
    (cx, cy), (w, h), angle = ellipse
    t = math.radians(angle)
    pts = points.reshape(-1, 2).astype(np.float64)
    dx, dy = pts[:, 0] - cx, pts[:, 1] - cy
    u = dx * math.cos(t) + dy * math.sin(t)
    v = -dx * math.sin(t) + dy * math.cos(t)
    a, b = max(w / 2, 1e-3), max(h / 2, 1e-3)
    r = np.sqrt((u / a) ** 2 + (v / b) ** 2)
    residual = float(np.median(np.abs(r - 1)))
    theta = np.arctan2(v / b, u / a)
    bins = np.histogram(theta, bins=24, range=(-math.pi, math.pi))[0]
    # Count only points near the ellipse for coverage.
    near = np.abs(r - 1) < 0.2
    bins = np.histogram(theta[near], bins=24, range=(-math.pi, math.pi))[0]
    coverage = float(np.count_nonzero(bins) / 24)
    return residual, coverage


def find_ellipses(ink: np.ndarray, char_h: float, strikes: list[FoundMark] = ()) -> list[FoundMark]:
    """Ellipses (and blob-like loops) a little taller than a text line, around one or a few words.

    Strike lines are erased first: a struck word is otherwise one merged blob.
    """
    if strikes:
        ink = ink.copy()
        for s in strikes:
            x0, y0, x1, y1 = s.box
            ink[y0 - 1:y1 + 2, x0 - 1:x1 + 2] = 0
    closed = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    contours, _ = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    found = []
    for contour in contours:
        x, y, w, h = (int(v) for v in cv2.boundingRect(contour))
        if not (1.15 * char_h <= h <= 4.5 * char_h and 1.4 * char_h <= w <= 16 * char_h) or len(contour) < 30:
            continue
        ellipse = cv2.fitEllipse(contour)
        (_cx, _cy), (ew, eh), _angle = ellipse
        if min(ew, eh) < 0.8 * char_h or max(ew, eh) > 20 * char_h:
            continue
        residual, coverage = _ellipse_quality(contour, ellipse)
        # Ink inside the ellipse: a pen loop round a word is mostly paper, a blob is mostly ink.
        local = ink[y:y + h, x:x + w]
        mask = np.zeros_like(local)
        inner = ((ellipse[0][0] - x, ellipse[0][1] - y), (ellipse[1][0] * 0.7, ellipse[1][1] * 0.7), ellipse[2])
        cv2.ellipse(mask, inner, 255, -1)
        inside = cv2.countNonZero(cv2.bitwise_and(local, mask)) / max(cv2.countNonZero(mask), 1)
        # A large glyph (a title in a bigger font) is about one text line tall; a pen loop round a word
        # clears the text above and below, so a shape that is not clearly a loop must be taller.
        loop_sized = h >= 1.7 * char_h
        if inside > 0.6:
            if not loop_sized or w > 3 * h:
                continue
            confidence, detail = 0.4, "塗りつぶし状の印"
        elif residual < 0.06 and coverage >= 0.9 and inside < 0.35:
            confidence, detail = 0.8, "楕円"
        elif residual < 0.12 and coverage >= 0.7 and loop_sized:
            confidence, detail = 0.6, "楕円（一部）"
        elif residual < 0.2 and coverage >= 0.5 and loop_sized:
            confidence, detail = 0.4, "不整形の囲み"
        else:
            continue
        found.append(FoundMark("circle", (x, y, x + w - 1, y + h - 1), confidence, detail, ellipse, contour))
    return found


def find_strikes(ink: np.ndarray, char_h: float, rules: np.ndarray | None = None) -> list[FoundMark]:
    """Short horizontal lines with ink above and below them: a line drawn through a word.

    At least two characters long (a kanji's own horizontal stroke is shorter than one em); the ink test
    rejects underlines and an ellipse's flat top (ink on one side only). `rules` (the table rules' mask)
    bounds the look above and below at the nearest rule: ink beyond a rule belongs to the next row, so
    the flat bottom of an ellipse that touches the rule is not taken for a line through a word.
    """
    tall = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_RECT, (1, 5)))
    length = max(int(char_h * 2.0), 15)
    lines = cv2.morphologyEx(tall, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (length, 1)))
    n, _labels, stats, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
    found = []
    reach = int(char_h * 0.5)
    for i in range(1, n):
        x, y, w, h = (int(v) for v in stats[i, :4])
        if h > 0.45 * char_h or w > 25 * char_h:
            continue
        top, bottom = max(y - reach, 0), y + h + reach
        if rules is not None:
            top, bottom = _rule_bounds(rules, x, w, y, y + h, top, bottom)
        above = ink[top:max(y - 2, 0), x:x + w]
        below = ink[y + h + 2:bottom, x:x + w]
        if min(y - 2 - top, bottom - (y + h + 2)) < 0.2 * char_h:
            continue  # a rule right beside the line: a mark's edge along a cell border, not a strike
        if above.size == 0 or below.size == 0:
            continue
        # Ink share of the whole look-out (reach rows), even where a rule cut it short: a few rows of an
        # ellipse's own stroke between the line and the rule are not the glyphs of a struck word.
        a = cv2.countNonZero(above) / max(above.size, (reach - 2) * w)
        b = cv2.countNonZero(below) / max(below.size, (reach - 2) * w)
        if a < 0.03 or b < 0.03:
            continue  # an underline, a rule stub, the edge of a box
        # Balanced ink on both sides means the line goes through the middle of the glyphs.
        balance = min(a, b) / max(a, b)
        confidence = 0.75 if balance > 0.35 else 0.55
        points = np.array([[[x, y + h // 2]], [[x + w - 1, y + h // 2]]], dtype=np.int32)
        found.append(FoundMark("strike", (x, y, x + w - 1, y + h - 1), confidence, "取り消し線", None, points))
    return found


def drop_ellipse_edges(strikes: list[FoundMark], ellipses: list[FoundMark]) -> list[FoundMark]:
    """Strikes that are the flat top or bottom of a found ellipse, not a line through a word: a wide, flat
    pen loop looks like a line with ink on both sides. Such a line touches the outline at its middle and
    runs along it as a tangent (its ends just outside); a line through a circled word crosses the inside."""
    def radius(e: FoundMark, x: float, y: float) -> float:
        (cx, cy), (w, h), angle = e.ellipse
        t = math.radians(angle)
        u = (x - cx) * math.cos(t) + (y - cy) * math.sin(t)
        v = -(x - cx) * math.sin(t) + (y - cy) * math.cos(t)
        return math.sqrt((u / max(w / 2, 1)) ** 2 + (v / max(h / 2, 1)) ** 2)

    def along(e: FoundMark, s: FoundMark) -> bool:
        x0, y0, x1, y1 = s.box
        y = (y0 + y1) / 2
        # The contour is the stroke's outer edge: the line runs along the stroke, a little inside it.
        return 0.7 <= radius(e, (x0 + x1) / 2, y) <= 1.2 and max(radius(e, x0, y), radius(e, x1, y)) <= 1.35

    return [s for s in strikes if not any(e.ellipse is not None and along(e, s) for e in ellipses)]


def _rule_bounds(rules: np.ndarray, x: int, w: int, y0: int, y1: int, top: int, bottom: int) -> tuple[int, int]:
    """Narrow the window [top, bottom) round a line at rows y0..y1 so that it stops at the nearest table
    rule running along at least half the line's length."""
    start = top
    covered = np.count_nonzero(rules[start:bottom, x:x + w], axis=1) >= 0.5 * max(w, 1)
    for k in range(min(y0 - start, len(covered)) - 1, -1, -1):
        if covered[k]:
            top = start + k + 1
            break
    for k in range(max(y1 - start, 0), len(covered)):
        if covered[k]:
            bottom = start + k
            break
    return top, bottom


def find_checks(ink: np.ndarray, char_h: float, cell_box: tuple[int, int, int, int]) -> FoundMark | None:
    """A tick (✓/レ) alone in a cell: one compact stroke group with diagonal extent, no other ink."""
    x0, y0, x1, y1 = cell_box
    crop = ink[y0:y1, x0:x1]
    n, _labels, stats, _ = cv2.connectedComponentsWithStats(crop, connectivity=8)
    parts = [stats[i] for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] > 20]
    if len(parts) != 1:
        return None
    x, y, w, h, area = (int(v) for v in parts[0])
    if not (0.6 * char_h <= h <= 3 * char_h and 0.5 * char_h <= w <= 3 * char_h):
        return None
    fill_ratio = area / float(w * h)
    if fill_ratio > 0.35:  # a solid glyph or blob, not a stroke
        return None
    return FoundMark("check", (x0 + x, y0 + y, x0 + x + w - 1, y0 + y + h - 1), 0.5, "チェック印")


def cell_fill(gray: np.ndarray, rgb: np.ndarray, ink: np.ndarray, cell_box: tuple[int, int, int, int],
              paper: float) -> FoundMark | None:
    """A shaded cell: its paper (non-ink) pixels are clearly darker than the page's paper."""
    x0, y0, x1, y1 = cell_box
    pad = 4
    if x1 - x0 <= 2 * pad or y1 - y0 <= 2 * pad:
        return None
    g = gray[y0 + pad:y1 - pad, x0 + pad:x1 - pad]
    k = ink[y0 + pad:y1 - pad, x0 + pad:x1 - pad]
    background = g[k == 0]
    if background.size < 50:
        return None
    level = float(np.median(background))
    drop = paper - level
    if drop < 30:
        return None
    colour = np.median(rgb[y0 + pad:y1 - pad, x0 + pad:x1 - pad][k == 0], axis=0).astype(int)
    detail = "{:02X}{:02X}{:02X}".format(*colour)
    return FoundMark("fill", cell_box, 0.6 if drop >= 60 else 0.45, detail)
