"""Image geometry for scanned pages: render, orientation, deskew, binarise, table rules and cell boxes.

All coordinates here are pixels of the corrected (upright, deskewed) image; `PageImage.to_page_points`
maps them back to the PDF page (points, top-left origin, as pdfplumber reports them).
"""
from __future__ import annotations

import functools
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

DPI = 300
TESSERACT = "tesseract"


@dataclass
class PageImage:
    """The page as an upright, deskewed image, with the transform back to PDF points."""

    gray: np.ndarray  # uint8, corrected
    rgb: np.ndarray  # uint8 HxWx3, corrected
    dpi: int
    rotation: int  # degrees clockwise applied to make the page upright (0/90/180/270)
    skew: float  # degrees of skew removed
    inverse: np.ndarray  # 2x3 affine: corrected px -> rendered page px
    warnings: list[str]

    def to_page_points(self, box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        x0, y0, x1, y1 = box
        corners = np.array([[x0, y0, 1], [x1, y0, 1], [x0, y1, 1], [x1, y1, 1]], dtype=np.float64)
        mapped = corners @ self.inverse.T
        scale = 72.0 / self.dpi
        return (round(float(mapped[:, 0].min()) * scale, 1), round(float(mapped[:, 1].min()) * scale, 1),
                round(float(mapped[:, 0].max()) * scale, 1), round(float(mapped[:, 1].max()) * scale, 1))


def render_page(pdf_path: Path, page_number: int, dpi: int = DPI) -> np.ndarray:
    """Render one 1-based page to an RGB array with pypdfium2 (comes with camelot)."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(pdf_path))
    try:
        page = pdf[page_number - 1]
        bitmap = page.render(scale=dpi / 72.0, grayscale=False)
        img = np.array(bitmap.to_pil().convert("RGB"))
        page.close()
    finally:
        pdf.close()
    return img


# ------------------------------------------------------------------------------------------- orientation

@functools.lru_cache(maxsize=1)
def osd_available() -> bool:
    try:
        out = subprocess.run([TESSERACT, "--list-langs"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "osd" in out.stdout.split()


def _rotate_quarter(img: np.ndarray, clockwise_degrees: int) -> np.ndarray:
    codes = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    return cv2.rotate(img, codes[clockwise_degrees]) if clockwise_degrees in codes else img


OSD_CROP = 0.35  # side of the OSD window as a share of the page side (about 12 % of the page)
OSD_MIN_CONFIDENCE = 2.0  # below this the crop is retried on the whole page


def densest_window(gray: np.ndarray, frac: float) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the window of `frac` × the page's sides holding the most ink (text and rules)."""
    h, w = gray.shape
    step = 10
    ink = 255.0 - cv2.resize(gray, (max(1, w // step), max(1, h // step)), interpolation=cv2.INTER_AREA)
    sat = np.pad(ink.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    wh, ww = max(1, int(h * frac) // step), max(1, int(w * frac) // step)
    sums = sat[wh:, ww:] - sat[:-wh, ww:] - sat[wh:, :-ww] + sat[:-wh, :-ww]
    y, x = np.unravel_index(int(np.argmax(sums)), sums.shape)
    return x * step, y * step, min(w, (x + ww) * step), min(h, (y + wh) * step)


def _osd(image: np.ndarray, dpi: int) -> tuple[int, float] | None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "osd.png"
        cv2.imwrite(str(path), image)
        try:
            out = subprocess.run([TESSERACT, str(path), "stdout", "--psm", "0", "--dpi", str(dpi)],
                                 capture_output=True, text=True, timeout=60,
                                 env={**os.environ, "OMP_THREAD_LIMIT": "1"})
        except (OSError, subprocess.TimeoutExpired):
            return None
    rotate = re.search(r"Rotate:\s*(\d+)", out.stdout)
    conf = re.search(r"Orientation confidence:\s*([\d.]+)", out.stdout)
    if not rotate:
        return None
    return int(rotate.group(1)) % 360, float(conf.group(1)) if conf else 0.0


def orientation_by_osd(gray: np.ndarray) -> tuple[int, float] | None:
    """Tesseract OSD: (degrees clockwise to make upright, confidence) or None.

    OSD looks at text only: table rules, cell shading and grey paper are removed first (a crop full of
    rules, shaded header cells and circled option words misleads it, even upside down with confidence).
    Cheap first: the inkiest window (OSD_CROP of each side) at half resolution, which holds enough
    characters for a sure answer on a form; the whole page at half resolution only when that is unsure,
    and then the more confident of the two answers."""
    text = _text_only(gray)
    x0, y0, x1, y1 = densest_window(text, OSD_CROP)
    crop = cv2.resize(text[y0:y1, x0:x1], None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    result = _osd(crop, DPI // 2)
    if result is not None and result[1] >= OSD_MIN_CONFIDENCE:
        return result
    small = cv2.resize(text, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    whole = _osd(small, DPI // 2)
    if whole is None or (result is not None and result[1] > whole[1]):
        return result
    return whole


def _text_only(gray: np.ndarray) -> np.ndarray:
    """Black text on white: binarised, with the table rules (horizontal or vertical, so in any quarter
    turn) erased."""
    binary = binarise(gray)
    rules = find_rules(binary, estimate_char_height(binary))
    mask = cv2.dilate(rules.both, cv2.getStructuringElement(cv2.MORPH_RECT, (5, 5)))
    return cv2.bitwise_not(cv2.bitwise_and(binary, cv2.bitwise_not(mask)))


def orientation_by_ocr(gray: np.ndarray) -> tuple[int, float] | None:
    """Fallback without OSD data: OCR a central crop in the four rotations, keep the most confident."""
    h, w = gray.shape
    side = min(h, w) // 2
    crop = gray[(h - side) // 2:(h + side) // 2, (w - side) // 2:(w + side) // 2]
    crop = cv2.resize(crop, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    scores = {}
    with tempfile.TemporaryDirectory() as tmp:
        listing = []
        for deg in (0, 90, 180, 270):
            p = Path(tmp) / f"r{deg}.png"
            cv2.imwrite(str(p), _rotate_quarter(crop, deg))
            listing.append(str(p))
        (Path(tmp) / "list.txt").write_text("\n".join(listing) + "\n")
        try:
            subprocess.run([TESSERACT, str(Path(tmp) / "list.txt"), str(Path(tmp) / "out"), "-l", "jpn",
                            "--psm", "6", "tsv"], capture_output=True, timeout=120)
            rows = (Path(tmp) / "out.tsv").read_text("utf-8").splitlines()[1:]
        except (OSError, subprocess.TimeoutExpired, FileNotFoundError):
            return None
    for deg, page in zip((0, 90, 180, 270), range(1, 5)):
        confs = [float(r.split("\t")[10]) for r in rows
                 if r.split("\t")[1] == str(page) and r.split("\t")[0] == "5" and float(r.split("\t")[10]) >= 0]
        scores[deg] = sum(confs)  # confident words, summed: garbage gets few and low
    best = max(scores, key=scores.get)
    return (best, scores[best]) if scores[best] > 0 else None


# ------------------------------------------------------------------------------------------- skew

def estimate_skew(gray: np.ndarray, limit: float = 5.0) -> float:
    """Skew in degrees by projection profiles on a reduced binary image (rules and text lines both count).

    Returns the angle to rotate counter-clockwise (cv2 convention) to level the page.
    """
    scale = 900.0 / max(gray.shape)
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    _, binary = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    h, w = binary.shape
    centre = (w / 2, h / 2)

    def score(angle: float) -> float:
        m = cv2.getRotationMatrix2D(centre, angle, 1.0)
        rotated = cv2.warpAffine(binary, m, (w, h), flags=cv2.INTER_NEAREST, borderValue=0)
        profile = rotated.sum(axis=1, dtype=np.float64)
        return float(np.sum(np.diff(profile) ** 2))

    coarse = np.arange(-limit, limit + 1e-9, 0.25)
    best = max(coarse, key=score)
    fine = np.arange(best - 0.25, best + 0.25 + 1e-9, 0.05)
    return float(round(max(fine, key=score), 2))


def correct_page(rgb: np.ndarray, dpi: int = DPI) -> PageImage:
    """Make the rendered page upright (OSD, else OCR of four rotations) and level (projection profile)."""
    warnings: list[str] = []
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    h0, w0 = gray.shape
    result = orientation_by_osd(gray) if osd_available() else None
    if result is None:
        result = orientation_by_ocr(gray)
    rotation = 0
    if result is None:
        warnings.append("ページの向きを判定できませんでした（正立として読み取り）")
    else:
        rotation, _conf = result
    if rotation:
        warnings.append(f"ページが{rotation}度回転していたため補正しました")
    rgb = _rotate_quarter(rgb, rotation)
    gray = _rotate_quarter(gray, rotation)
    # Affine of the quarter turn: rendered px -> rotated px.
    quarter = {
        0: np.array([[1, 0, 0], [0, 1, 0]], dtype=np.float64),
        90: np.array([[0, -1, h0 - 1], [1, 0, 0]], dtype=np.float64),
        180: np.array([[-1, 0, w0 - 1], [0, -1, h0 - 1]], dtype=np.float64),
        270: np.array([[0, 1, 0], [-1, 0, w0 - 1]], dtype=np.float64),
    }[rotation]
    skew = estimate_skew(gray)
    h, w = gray.shape
    deskew = np.array([[1, 0, 0], [0, 1, 0]], dtype=np.float64)
    if abs(skew) >= 0.1:
        deskew = cv2.getRotationMatrix2D((w / 2, h / 2), skew, 1.0)
        gray = cv2.warpAffine(gray, deskew, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)
        rgb = cv2.warpAffine(rgb, deskew, (w, h), flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255))
    full = _compose(deskew, quarter)
    inverse = cv2.invertAffineTransform(full)
    return PageImage(gray=gray, rgb=rgb, dpi=dpi, rotation=rotation, skew=skew, inverse=inverse,
                     warnings=warnings)


def _compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    a = np.vstack([outer, [0, 0, 1]])
    b = np.vstack([inner, [0, 0, 1]])
    return (a @ b)[:2]


# ------------------------------------------------------------------------------------------- binarise, rules

def binarise(gray: np.ndarray) -> np.ndarray:
    """Ink = 255. A median blur first removes scanner speckle."""
    blurred = cv2.medianBlur(gray, 3)
    _, binary = cv2.threshold(blurred, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    return binary


def estimate_char_height(binary: np.ndarray, dpi: int = DPI) -> float:
    """Typical text height in px: glyph parts merged into words (horizontal dilation), median height."""
    lo, hi = dpi * 5 / 72, dpi * 24 / 72
    merged = cv2.dilate(binary, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 5)))
    n, _labels, stats, _ = cv2.connectedComponentsWithStats(merged, connectivity=8)
    heights = [stats[i, cv2.CC_STAT_HEIGHT] - 4 for i in range(1, n)
               if lo <= stats[i, cv2.CC_STAT_HEIGHT] - 4 <= hi and stats[i, cv2.CC_STAT_WIDTH] < dpi * 3]
    if not heights:
        return dpi * 10 / 72
    return float(np.clip(np.median(heights), dpi * 6 / 72, dpi * 20 / 72))


@dataclass
class Rules:
    horizontal: np.ndarray  # mask of table rules
    vertical: np.ndarray

    @property
    def both(self) -> np.ndarray:
        return cv2.bitwise_or(self.horizontal, self.vertical)


def find_rules(binary: np.ndarray, char_h: float) -> Rules:
    """Table rules by morphological opening; horizontal segments that do not reach a vertical rule at
    both ends (a strike through a word, an ellipse's flat top) are dropped unless they are very long."""
    h_len = max(int(char_h * 2.6), 25)
    v_len = max(int(char_h * 1.7), 20)
    horiz = cv2.morphologyEx(binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (h_len, 1)))
    vert = cv2.morphologyEx(binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, v_len)))
    # Rules broken by noise: bridge small gaps along the rule direction.
    horiz = cv2.morphologyEx(horiz, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 1)))
    vert = cv2.morphologyEx(vert, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (1, 9)))
    reach = int(char_h * 0.4) + 3
    vert_near = cv2.dilate(vert, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * reach + 1, 2 * reach + 1)))
    long_enough = binary.shape[1] * 0.25
    n, labels, stats, _ = cv2.connectedComponentsWithStats(horiz, connectivity=8)
    keep = np.zeros(n, dtype=bool)
    for i in range(1, n):
        x, y, w, h = stats[i, :4]
        if w >= long_enough:
            keep[i] = True
            continue
        ys = slice(y, y + h)
        left = vert_near[ys, max(x, 0):x + 3].any()
        right = vert_near[ys, max(x + w - 3, 0):x + w].any()
        keep[i] = bool(left and right)
    horiz = np.where(keep[labels], 255, 0).astype(np.uint8)
    return Rules(horizontal=horiz, vertical=vert)


# ------------------------------------------------------------------------------------------- cells

@dataclass
class CellBox:
    x0: int
    y0: int
    x1: int
    y1: int
    row: int = 0
    col: int = 0
    rowspan: int = 1
    colspan: int = 1

    @property
    def box(self) -> tuple[int, int, int, int]:
        return self.x0, self.y0, self.x1, self.y1

    def contains(self, x: float, y: float) -> bool:
        return self.x0 <= x <= self.x1 and self.y0 <= y <= self.y1


@dataclass
class GridBoxes:
    """One ruled table: its outer box and its cells with row/column indices (merged cells span)."""

    box: tuple[int, int, int, int]
    cells: list[CellBox]
    n_rows: int
    n_cols: int


def _cluster(values: list[int], tolerance: float) -> list[float]:
    centres: list[list[int]] = []
    for v in sorted(values):
        if centres and v - centres[-1][-1] <= tolerance:
            centres[-1].append(v)
        else:
            centres.append([v])
    return [float(np.mean(c)) for c in centres]


def find_grids(rules: Rules, char_h: float) -> list[GridBoxes]:
    """Cells are the connected regions enclosed by rules; rows and columns come from their edges."""
    grid = cv2.dilate(rules.both, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3)))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(grid, connectivity=8)
    found = []
    for i in range(1, n):
        x, y, w, h = stats[i, :4]
        if w < char_h * 8 or h < char_h * 2.5:
            continue
        region = (labels[y:y + h, x:x + w] == i).astype(np.uint8) * 255
        inside = cv2.bitwise_not(region)
        m, _cl, cstats, _ = cv2.connectedComponentsWithStats(inside, connectivity=4)
        boxes = []
        for j in range(1, m):
            cx, cy, cw, ch = cstats[j, :4]
            touches_border = cx == 0 or cy == 0 or cx + cw >= w or cy + ch >= h
            if touches_border or cw < char_h * 0.8 or ch < char_h * 0.8:
                continue
            # A region much smaller than its box is not a cell (a gap between two rules).
            if cstats[j, cv2.CC_STAT_AREA] < 0.6 * cw * ch:
                continue
            boxes.append(CellBox(x + cx, y + cy, x + cx + cw - 1, y + cy + ch - 1))
        if len(boxes) < 2:
            continue
        tol = char_h * 0.6
        col_edges = _cluster([b.x0 for b in boxes], tol)
        row_edges = _cluster([b.y0 for b in boxes], tol)
        for b in boxes:
            b.col = int(np.argmin([abs(b.x0 - e) for e in col_edges]))
            b.row = int(np.argmin([abs(b.y0 - e) for e in row_edges]))
            b.colspan = max(1, sum(1 for e in col_edges if b.x0 - tol <= e < b.x1 - tol))
            b.rowspan = max(1, sum(1 for e in row_edges if b.y0 - tol <= e < b.y1 - tol))
        found.append(GridBoxes(box=(x, y, x + w - 1, y + h - 1), cells=boxes,
                               n_rows=len(row_edges), n_cols=len(col_edges)))
    found.sort(key=lambda g: (g.box[1], g.box[0]))
    return found
