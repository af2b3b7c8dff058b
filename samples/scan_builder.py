"""Scanned-PDF samples: rasterise born-digital sample PDFs, rotate/skew/dirty them, wrap as image-only PDFs.

`build_scan_samples(src_pdfs, out_dir)` takes any sample PDFs (with `<src>.truth.json` beside them) and writes
scan variants with the same truth copied under the new name. The expectation for a scan is
"right answer OR needs_review", never a confident wrong answer.

`draw_source_pdfs(out_dir)` draws two small source forms with reportlab + IPAex (an MDS-style table with one
column per option, and a checklist-style table with 「はい・いいえ」 in one cell), with hand-drawn-looking
ellipses, struck-through options and an unanswered row, so the scan reader can be tested without any other
sample builder. `samples.scan_forms.draw_form_sources` draws two whole forms (an SDS with a shaded header
row, groups and 該当/非該当 rows; a checklist with its 事業者名 line and an instruction sentence under it).

Run: python -m samples.scan_builder --out DIR
"""
from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
    "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
)
FONT_NAME = "IPAexGothic"
SCAN_DPI = 300


@dataclass(frozen=True)
class ScanVariant:
    """How one scan copy is degraded: rotation (multiple of 90, counter-clockwise), skew (degrees), noise."""

    suffix: str
    quarter_turns: int = 0
    skew_degrees: float = 0.0
    noise_sigma: float = 10.0
    blur_radius: float = 0.7
    grayscale: bool = True


DEFAULT_VARIANTS = (
    ScanVariant("scan", quarter_turns=0, skew_degrees=1.5, noise_sigma=12.0, blur_radius=0.8, grayscale=True),
    ScanVariant("scan_rot90", quarter_turns=1, skew_degrees=-0.8, noise_sigma=8.0, blur_radius=0.6, grayscale=False),
)


# ---------------------------------------------------------------------------------------------- source PDFs

def _register_font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT_NAME in pdfmetrics.getRegisteredFontNames():
        return
    for path in FONT_CANDIDATES:
        if Path(path).exists():
            pdfmetrics.registerFont(TTFont(FONT_NAME, path))
            return
    raise FileNotFoundError("IPAex/IPA ゴシックのフォントが見つかりません（fonts-ipaexfont を入れてください）")


def _hand_ellipse(c, cx: float, cy: float, rx: float, ry: float, rng: random.Random) -> None:
    """A pen-drawn ellipse: slightly wobbly radius, tilted, the stroke overlapping its start a little."""
    tilt = math.radians(rng.uniform(-4, 4))
    start = rng.uniform(0, 2 * math.pi)
    sweep = 2 * math.pi + rng.uniform(0.15, 0.45)
    phase = rng.uniform(0, 2 * math.pi)
    path = c.beginPath()
    steps = 72
    for i in range(steps + 1):
        t = start + sweep * i / steps
        wobble = 1 + 0.035 * math.sin(3 * t + phase)
        x, y = rx * wobble * math.cos(t), ry * wobble * math.sin(t)
        px = cx + x * math.cos(tilt) - y * math.sin(tilt)
        py = cy + x * math.sin(tilt) + y * math.cos(tilt)
        if i == 0:
            path.moveTo(px, py)
        else:
            path.lineTo(px, py)
    c.drawPath(path, stroke=1, fill=0)


def _strike(c, x0: float, x1: float, y: float, rng: random.Random) -> None:
    c.line(x0 - 2, y + rng.uniform(-0.6, 0.6), x1 + 2, y + rng.uniform(-0.6, 0.6))


def _wrap(text: str, width_chars: int) -> list[str]:
    return [text[i:i + width_chars] for i in range(0, len(text), width_chars)] or [""]


MDS_ROWS = (
    # (number, question, answer, convention, remark)
    ("1", "扱う情報のリストを医療機関等に提示できるか?", "はい", "circle", ""),
    ("2", "端末の覗き見防止の機能があるか?", "いいえ", "circle", "オプションで対応"),
    ("3", "離席時の不正入力防止の機能があるか?", "はい", "strike", ""),
    ("4", "アクセス管理の機能があるか?", "対象外", "circle", "単体装置のため"),
    ("5", "アクセスログを取得しているか?", "", "none", ""),
    ("6", "パスワードの強度を管理する機能があるか?", "いいえ", "strike", "有しておりません"),
    ("7", "不正ソフトウェア対策を実施しているか?", "はい", "circle", ""),
)

CHECKLIST_ROWS = (
    ("(1)", "医療情報システム安全管理責任者を設置している。", "はい", "circle", "4/12"),
    ("(2)", "リモートメンテナンスを利用している機器の有無を確認した。", "いいえ", "circle", "5/20"),
    ("(3)", "MDS/SDSを提出してもらう。", "はい", "strike", "6/1"),
    ("(4)", "不要なアカウントを削除している。", "", "none", ""),
    ("(5)", "アクセスログを管理している。", "いいえ", "strike", "7/3"),
    ("(6)", "セキュリティパッチを適用している。", "はい", "circle", "9/30"),
)


def _draw_number_and_question(c, cols, y_mid: float, number: str, question: str, wrap: int) -> None:
    """The number and question cells of one row (black pen, the question wrapped at `wrap` characters)."""
    c.setStrokeColorRGB(0, 0, 0)
    c.setLineWidth(1.0)
    c.setFont(FONT_NAME, 10)
    c.drawCentredString((cols[0] + cols[1]) / 2, y_mid - 3.5, number)
    c.setFont(FONT_NAME, 8.5)
    lines = _wrap(question, wrap)
    for k, line in enumerate(lines):
        c.drawString(cols[1] + 4, y_mid + 4 - 11 * k + (5 if len(lines) == 1 else 0) - 3, line)
    c.setFont(FONT_NAME, 10)


def _draw_mds(path: Path, rng: random.Random) -> dict:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    width, height = A4
    c.setFont(FONT_NAME, 13)
    c.drawString(50, height - 60, "製造業者による医療情報セキュリティ開示書")
    c.setFont(FONT_NAME, 9)
    c.drawString(50, height - 78, "製造業者名: 株式会社サンプル医療機器　製品名: 画像サーバ X1")

    cols = [50, 80, 300, 345, 395, 445, 545]  # 項番 | 質問 | はい | いいえ | 対象外 | 備考
    header = ["項番", "質問", "はい", "いいえ", "対象外", "備考"]
    options = ("はい", "いいえ", "対象外")
    top = height - 100
    row_h = 34
    n_rows = 1 + 1 + len(MDS_ROWS)  # header + merged section row + items
    bottom = top - n_rows * row_h
    c.setLineWidth(1.0)
    # horizontal rules
    for i in range(n_rows + 1):
        y = top - i * row_h
        c.line(cols[0], y, cols[-1], y)
    # vertical rules; the section row (i == 1) is one merged cell
    for x in cols:
        c.line(x, top, x, top - row_h)
        c.line(x, top - 2 * row_h, x, bottom)
    c.line(cols[0], top - row_h, cols[0], top - 2 * row_h)
    c.line(cols[-1], top - row_h, cols[-1], top - 2 * row_h)
    c.setFont(FONT_NAME, 10)
    for j, label in enumerate(header):
        c.drawCentredString((cols[j] + cols[j + 1]) / 2, top - row_h / 2 - 3.5, label)
    c.drawString(cols[0] + 6, top - row_h * 1.5 - 3.5, "6.5 アクセス管理・利用者認証")

    items = []
    for i, (number, question, answer, convention, remark) in enumerate(MDS_ROWS):
        y_mid = top - (i + 2.5) * row_h
        _draw_number_and_question(c, cols, y_mid, number, question, 25)
        word_boxes = {}
        for j, option in enumerate(options):
            cx = (cols[2 + j] + cols[3 + j]) / 2
            c.drawCentredString(cx, y_mid - 3.5, option)
            w = c.stringWidth(option, FONT_NAME, 10)
            word_boxes[option] = (cx - w / 2, cx + w / 2)
        c.setFont(FONT_NAME, 8.5)
        c.drawString(cols[5] + 4, y_mid - 3, remark)
        c.setStrokeColorRGB(0.85, 0.05, 0.05)
        c.setLineWidth(1.4)
        evidence = []
        if convention == "circle":
            x0, x1 = word_boxes[answer]
            _hand_ellipse(c, (x0 + x1) / 2 + rng.uniform(-1.5, 1.5), y_mid + rng.uniform(-1, 1),
                          (x1 - x0) / 2 + 7, 10, rng)
            evidence.append({"kind": "circle", "word": answer})
        elif convention == "strike":
            c.setStrokeColorRGB(0, 0, 0)
            for option in options:
                if option != answer:
                    x0, x1 = word_boxes[option]
                    _strike(c, x0, x1, y_mid, rng)
                    evidence.append({"kind": "strike", "word": option})
        items.append({
            "item_id": number, "question": question, "answer": answer,
            "answer_status": "answered" if answer else "unanswered", "remark": remark,
            "evidence": evidence,
        })
    c.showPage()
    c.save()
    return {"family": "mds", "layout": "option_columns", "options": list(options), "items": items}


def draw_ruled_table(c, cols: list[float], header: list[str], top: float, row_h: float, n_rows: int) -> None:
    """Rules of a table of `n_rows` rows (header included) between the x positions `cols`, and its header."""
    bottom = top - n_rows * row_h
    c.setLineWidth(1.0)
    for i in range(n_rows + 1):
        c.line(cols[0], top - i * row_h, cols[-1], top - i * row_h)
    for x in cols:
        c.line(x, top, x, bottom)
    c.setFont(FONT_NAME, 10)
    for j, label in enumerate(header):
        c.drawCentredString((cols[j] + cols[j + 1]) / 2, top - row_h / 2 - 3.5, label)


def _draw_checklist(path: Path, rng: random.Random) -> dict:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    width, height = A4
    c.setFont(FONT_NAME, 12)
    c.drawString(50, height - 60, "サイバーセキュリティ対策チェックリスト（事業者確認用）")
    cols = [50, 85, 330, 420, 480, 545]  # 番号 | 確認事項 | 回答 | 確認日 | 備考
    header = ["番号", "確認事項", "回答", "確認日", "備考"]
    top = height - 90
    row_h = 36
    draw_ruled_table(c, cols, header, top, row_h, 1 + len(CHECKLIST_ROWS))
    items = []
    for i, (number, question, answer, convention, date) in enumerate(CHECKLIST_ROWS):
        y_mid = top - (i + 1.5) * row_h
        _draw_number_and_question(c, cols, y_mid, number, question, 26)
        # 「はい・いいえ」 as one string in one cell; word positions from string widths.
        text = "はい・いいえ"
        x_start = cols[2] + 14
        c.drawString(x_start, y_mid - 3.5, text)
        w_hai = c.stringWidth("はい", FONT_NAME, 10)
        w_dot = c.stringWidth("・", FONT_NAME, 10)
        w_iie = c.stringWidth("いいえ", FONT_NAME, 10)
        word_boxes = {"はい": (x_start, x_start + w_hai),
                      "いいえ": (x_start + w_hai + w_dot, x_start + w_hai + w_dot + w_iie)}
        c.drawCentredString((cols[3] + cols[4]) / 2, y_mid - 3.5, date or "(  /  )")
        c.setStrokeColorRGB(0.1, 0.1, 0.7)
        c.setLineWidth(1.3)
        evidence = []
        if convention == "circle":
            x0, x1 = word_boxes[answer]
            _hand_ellipse(c, (x0 + x1) / 2 + rng.uniform(-1, 1), y_mid + rng.uniform(-1, 1),
                          (x1 - x0) / 2 + 4.5, 9, rng)
            evidence.append({"kind": "circle", "word": answer})
        elif convention == "strike":
            c.setStrokeColorRGB(0, 0, 0)
            other = "いいえ" if answer == "はい" else "はい"
            x0, x1 = word_boxes[other]
            _strike(c, x0, x1, y_mid, rng)
            evidence.append({"kind": "strike", "word": other})
        items.append({
            "item_id": number, "question": question, "answer": answer,
            "answer_status": "answered" if answer else "unanswered", "first_date": date,
            "evidence": evidence,
        })
    c.showPage()
    c.save()
    return {"family": "checklist_vendor", "layout": "options_in_one_cell", "options": ["はい", "いいえ"],
            "items": items}


def draw_source_pdfs(out_dir: Path, seed: int = 7) -> list[Path]:
    """Draw the two source forms with their truth files; returns the PDF paths."""
    return draw_with_truth(out_dir, (("scan_src_mds.pdf", _draw_mds), ("scan_src_checklist.pdf", _draw_checklist)),
                           seed)


def draw_with_truth(out_dir: Path, drawers, seed: int) -> list[Path]:
    """Draw each (file name, draw function) into `out_dir` with `<file>.truth.json` beside it; returns the PDFs."""
    _register_font()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    written = []
    for name, draw in drawers:
        path = out_dir / name
        truth = draw(path, rng)
        truth["file"] = name
        (out_dir / f"{name}.truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1), "utf-8")
        written.append(path)
    return written


# ---------------------------------------------------------------------------------------------- scanning

def _rasterise(pdf: Path, dpi: int) -> list[Image.Image]:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(pdf), f"{tmp}/p"], check=True,
                       capture_output=True)
        pages = sorted(Path(tmp).glob("p-*.png"), key=lambda p: int(p.stem.split("-")[-1]))
        return [Image.open(p).convert("RGB") for p in pages]


def degrade(page: Image.Image, variant: ScanVariant, rng: np.random.Generator) -> Image.Image:
    """Make a clean rendering look scanned: skew, quarter turns, blur, grey paper, sensor noise, specks."""
    img = page.convert("L") if variant.grayscale else page
    fill = 255 if variant.grayscale else (255, 255, 255)
    if variant.skew_degrees:
        img = img.rotate(variant.skew_degrees, resample=Image.BICUBIC, expand=True, fillcolor=fill)
    for _ in range(variant.quarter_turns % 4):
        img = img.transpose(Image.Transpose.ROTATE_90)
    if variant.blur_radius:
        img = img.filter(ImageFilter.GaussianBlur(variant.blur_radius))
    arr = np.asarray(img).astype(np.float32)
    arr = 18 + arr * (232 - 18) / 255  # paper is not white, ink is not black
    arr += rng.normal(0, variant.noise_sigma, arr.shape)
    specks = rng.random(arr.shape[:2]) < 0.0004
    arr[specks] = 40
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def build_scan_samples(src_pdfs: list[Path], out_dir: Path,
                       variants: tuple[ScanVariant, ...] = DEFAULT_VARIANTS, seed: int = 11) -> list[Path]:
    """Write image-only PDF scans of each source PDF, one per variant; copy `<src>.truth.json` beside each."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    written = []
    for src in map(Path, src_pdfs):
        pages = _rasterise(src, SCAN_DPI)
        truth = src.with_name(src.name + ".truth.json")
        for variant in variants:
            scanned = [degrade(p, variant, rng) for p in pages]
            out = out_dir / f"{src.stem}_{variant.suffix}.pdf"
            scanned[0].save(out, "PDF", resolution=float(SCAN_DPI), save_all=True, append_images=scanned[1:])
            if truth.exists():
                data = json.loads(truth.read_text("utf-8"))
                if isinstance(data, dict):
                    data["file"] = out.name
                    data["scan"] = {"source": src.name, "quarter_turns": variant.quarter_turns,
                                    "skew_degrees": variant.skew_degrees}
                    (out_dir / f"{out.name}.truth.json").write_text(
                        json.dumps(data, ensure_ascii=False, indent=1), "utf-8")
                else:
                    shutil.copyfile(truth, out_dir / f"{out.name}.truth.json")
            written.append(out)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description="スキャン画像 PDF のサンプルを作成します")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("src", nargs="*", type=Path, help="元の PDF（省略時は組み込みの 2 様式を描画）")
    args = parser.parse_args()
    if args.src:
        sources = args.src
    else:
        from samples.scan_forms import draw_form_sources  # local: scan_forms builds on this module

        sources = draw_source_pdfs(args.out / "src") + draw_form_sources(args.out / "src")
    for path in build_scan_samples(sources, args.out):
        print(path)


if __name__ == "__main__":
    main()
