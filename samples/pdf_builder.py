"""Born-digital PDF samples drawn with reportlab, each with a `<file>.truth.json` beside it.

Conventions drawn (one file each unless noted):
- `pdf_mds_circle`      : MDS, options printed per row in their own cells, the chosen one encircled
                          with a drawn ellipse; one row with two circles (ambiguous), one with none.
- `pdf_mds_strike`      : MDS, number and question in separate columns, the unchosen options struck.
- `pdf_checklist_r5`    : 事業者確認用チェックリスト (令和5年度): 「はい (8 / 2)」 (only the chosen word left),
                          「はい・いいえ ( / )」 untouched for an unanswered row, 「はい・いいえ」 with one encircled,
                          target dates, a コメント line under the table.
- `pdf_mds_glyph`       : MDS with ✓ / ■ glyphs in the option columns and one highlighted (filled) cell.
- `pdf_mds_twopage_hdr` : MDS spanning two pages, header row repeated on page 2, 備考 as footnote numbers
                          resolved in a 備考記載欄 table at the end.
- `pdf_mds_twopage`     : the same without the repeated header.
LibreOffice-printed PDFs of the Office samples: `print_with_libreoffice(sources, out_dir)`; their
truth is the source file's truth.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as rl_canvas

from extractors.forms import get_form

FONT = "IPAexGothic"
FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
    "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
)
PAGE_W, PAGE_H = A4
MARGIN = 36.0
RED = (0.85, 0.0, 0.0)


def register_font() -> str:
    if FONT in pdfmetrics.getRegisteredFontNames():
        return FONT
    for path in FONT_CANDIDATES:
        if Path(path).exists():
            pdfmetrics.registerFont(TTFont(FONT, path))
            return FONT
    raise FileNotFoundError("日本語フォント (IPAexGothic) が見つかりません: apt install fonts-ipaexfont")


# --------------------------------------------------------------------------- drawing a table


@dataclass
class CellSpec:
    text: str = ""
    colspan: int = 1
    rowspan: int = 1
    circle: tuple[str, ...] = ()  # substrings to encircle (first occurrence each)
    circle_pad: float = 3.0  # negative: an ellipse smaller than the word (as LibreOffice prints)
    strike: tuple[str, ...] = ()  # substrings to strike through
    double_strike: bool = False
    fill: tuple[float, float, float] | None = None
    align: str = "left"  # left | center


Row = list  # list[CellSpec | None]; None = covered by a merged cell


def _wrap(text: str, width: float, size: float) -> list[str]:
    lines: list[str] = []
    for para in text.split("\n"):
        line = ""
        for ch in para:
            if line and pdfmetrics.stringWidth(line + ch, FONT, size) > width:
                lines.append(line)
                line = ""
            line += ch
        lines.append(line)
    return lines


class TableDrawer:
    """Draws rows of CellSpecs with ruling lines; paginates, optionally repeating header rows."""

    def __init__(self, c: rl_canvas.Canvas, col_widths: list[float], size: float = 8.5,
                 x: float = MARGIN, line_width: float = 0.5):
        self.c, self.cols, self.size, self.x, self.lw = c, col_widths, size, x, line_width
        self.leading = size * 1.35
        self.pad = 3.0

    def _cell_width(self, ci: int, spec: CellSpec) -> float:
        return sum(self.cols[ci:ci + spec.colspan])

    def row_height(self, row: Row) -> float:
        h = self.leading + 2 * self.pad
        for ci, spec in enumerate(row):
            if spec is None or spec.rowspan > 1:
                continue
            lines = _wrap(spec.text, self._cell_width(ci, spec) - 2 * self.pad, self.size)
            h = max(h, len(lines) * self.leading + 2 * self.pad)
        return h

    def draw(self, rows: list[Row], y_top: float, header_rows: int = 0, repeat_header: bool = False,
             bottom: float = MARGIN, on_new_page=None) -> float:
        """Draw the rows from y_top (reportlab y, downwards); returns the y under the table."""
        heights = [self.row_height(r) for r in rows]
        # rowspan cells are drawn with the sum of the heights of the rows they cover
        y = y_top
        i = 0
        first_on_page = True
        while i < len(rows):
            block = 1
            # keep a rowspan block on one page
            for ci, spec in enumerate(rows[i]):
                if spec is not None and spec.rowspan > 1:
                    block = max(block, spec.rowspan)
            need = sum(heights[i:i + block])
            if y - need < bottom and not first_on_page:
                self.c.showPage()
                y = on_new_page() if on_new_page else PAGE_H - MARGIN
                first_on_page = True
                if repeat_header and header_rows:
                    for h in range(header_rows):
                        self._draw_row(rows, h, heights, y)
                        y -= heights[h]
                continue
            for k in range(i, i + block):
                self._draw_row(rows, k, heights, y)
                y -= heights[k]
            i += block
            first_on_page = False
        return y

    def _draw_row(self, rows: list[Row], ri: int, heights: list[float], y_top: float) -> None:
        c, size = self.c, self.size
        x = self.x
        for ci, spec in enumerate(rows[ri]):
            w = self.cols[ci]
            if spec is None:
                x += w
                continue
            w = self._cell_width(ci, spec)
            h = sum(heights[ri:ri + spec.rowspan])
            y0 = y_top - h
            if spec.fill:
                c.setFillColorRGB(*spec.fill)
                c.rect(x, y0, w, h, stroke=0, fill=1)
            c.setStrokeColorRGB(0, 0, 0)
            c.setLineWidth(self.lw)
            c.rect(x, y0, w, h, stroke=1, fill=0)
            lines = _wrap(spec.text, w - 2 * self.pad, size)
            c.setFillColorRGB(0, 0, 0)
            c.setFont(FONT, size)
            text_h = len(lines) * self.leading
            ty = y_top - (h - text_h) / 2 - size  # vertically centred
            positions: list[tuple[str, float, float]] = []  # line, x start, baseline
            for line in lines:
                lw_ = pdfmetrics.stringWidth(line, FONT, size)
                tx = x + (w - lw_) / 2 if spec.align == "center" else x + self.pad
                c.drawString(tx, ty, line)
                positions.append((line, tx, ty))
                ty -= self.leading
            for word in spec.circle:
                self._mark_word(positions, word, "circle", spec)
            for word in spec.strike:
                self._mark_word(positions, word, "strike", spec)
            x += self.cols[ci]  # covered cells (None) add their own widths

    def _mark_word(self, positions, word: str, kind: str, spec: CellSpec) -> None:
        c, size = self.c, self.size
        for line, tx, base in positions:
            idx = line.find(word)
            if idx < 0:
                continue
            x0 = tx + pdfmetrics.stringWidth(line[:idx], FONT, size)
            x1 = x0 + pdfmetrics.stringWidth(word, FONT, size)
            top, bot = base + size * 0.88, base - size * 0.12
            c.setStrokeColorRGB(*RED)
            if kind == "circle":
                p = spec.circle_pad
                c.setLineWidth(1.0)
                c.ellipse(x0 - p, bot - p * 0.6, x1 + p, top + p * 0.6, stroke=1, fill=0)
            else:
                c.setLineWidth(0.8)
                mid = (top + bot) / 2
                offsets = (-1.2, 1.2) if spec.double_strike else (0.0,)
                for off in offsets:
                    c.line(x0 - 1, mid + off, x1 + 1, mid + off)
            c.setStrokeColorRGB(0, 0, 0)
            return
        raise ValueError(f"{word!r} not in cell text {spec.text!r}")


# --------------------------------------------------------------------------- truth


def truth_item(item_id: str, number_printed: str, question: str, answer: str = "", status: str = "",
               remark: str = "", remark_ref: str = "", first_date: str = "", target_date: str = "",
               second_answer: str = "", second_date: str = "") -> dict:
    return {
        "item_id": item_id, "number_printed": number_printed, "question": question, "answer": answer,
        "answer_status": status or ("answered" if answer else "unanswered"), "remark": remark,
        "remark_ref": remark_ref, "first_date": first_date, "target_date": target_date,
        "second_answer": second_answer, "second_date": second_date,
        "needs_review": status in ("ambiguous", "unreadable"),  # two marks: the reader must flag it
    }


def write_truth(pdf_path: Path, **fields) -> None:
    truth = {
        "file": pdf_path.name, "convention": "", "family": "", "form_id": "", "form_version": "",
        "vendor": "", "product": "", "product_version": "", "created": "", "comment": "",
        "header_fields": {}, "items": [], "planted": [], "expect_failure": None,
    }
    truth.update(fields)
    Path(str(pdf_path) + ".truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1),
                                                   encoding="utf-8")


# --------------------------------------------------------------------------- MDS

MDS_SECTIONS = {
    "1": "医療機関等における情報セキュリティマネジメントシステムの実践(6.2)",
    "2": "物理的安全対策(6.4)",
    "3": "技術的安全対策(6.5)",
    "8": "情報及び情報機器の持ち出しについて(6.9)",
    "11": "災害、サイバー攻撃等の非常時の対応(6.10)",
    "12": "外部と個人情報を含む医療情報を交換する場合の安全管理(6.11)",
}
OPTIONS_YN = ("はい", "いいえ", "対象外")
OPTIONS_APPL = ("該当", "非該当")
REMARKS = {
    "1": "導入時に一覧を提出します。",
    "4.1.1": "パスワードの桁数・有効期限・文字種の設定が可能です。履歴管理はオプション（別途費用）となります。",
    "4.3.1": "ログの閲覧は管理者権限のみ。",
    "6": "ウイルス対策ソフトは医療機関様にてご用意ください。",
    "9": "USBポートの無効化は OS の設定で対応します。",
    "12.4.1": "接続は保守時のみ許可し、作業記録を残します。",
}
# Answers cycle through this list so that every option appears; a few rows are planted per file.
_ANSWER_CYCLE = ("はい", "はい", "いいえ", "はい", "対象外", "はい", "いいえ")


@dataclass
class MdsRow:
    item_id: str
    number: str  # as printed
    question: str  # catalogue text (+ guideline ref as printed)
    options: tuple[str, ...]
    answer: str
    status: str
    remark: str = ""
    remark_ref: str = ""
    section: str = ""  # section heading printed before this row
    bullet: bool = False
    group: bool = False  # a heading row that takes no answer


def mds_rows(form_id: str = "jahis-mds-4.1", limit: int | None = None, ambiguous: str = "",
             unanswered: str = "") -> list[MdsRow]:
    form = get_form(form_id)
    rows: list[MdsRow] = []
    k = 0
    for it in form.items:
        section = MDS_SECTIONS.get(it.id, "") if not it.parent else ""
        printed_q = it.text + (f"({it.ref})" if it.ref and not it.parent else "")
        if it.kind == "group":
            rows.append(MdsRow(it.id, it.number, printed_q, (), "", "unanswered", section=section, group=True))
            continue
        options = OPTIONS_APPL if set(it.answers) == set(OPTIONS_APPL) else OPTIONS_YN
        if it.id == unanswered:
            answer, status = "", "unanswered"
        elif it.id == ambiguous:
            answer, status = "", "ambiguous"
        else:
            answer = _ANSWER_CYCLE[k % len(_ANSWER_CYCLE)]
            if options == OPTIONS_APPL:
                answer = "該当" if answer == "はい" else "非該当"
            status = "answered"
        k += 1
        rows.append(MdsRow(it.id, "" if it.parent else it.number, printed_q, options, answer, status,
                           remark=REMARKS.get(it.id, ""), section=section, bullet=bool(it.parent)))
        if limit and len(rows) >= limit:
            break
    return rows


def _label(row: MdsRow) -> str:
    if row.bullet:
        return "・" + row.question
    return f"{row.number} {row.question}"


def _mds_header(c: rl_canvas.Canvas, title: str, vendor: str, created_printed: str, product: str,
                version: str) -> float:
    c.setFont(FONT, 9.5)
    c.drawString(MARGIN, PAGE_H - MARGIN - 12, title)
    c.setFont(FONT, 9)
    y = PAGE_H - MARGIN - 34
    c.drawString(MARGIN, y, f"製造業者：{vendor}")
    c.drawString(MARGIN + 300, y, f"作成日：{created_printed}")
    y -= 15
    c.drawString(MARGIN, y, f"製品名称：{product}")
    c.drawString(MARGIN + 300, y, f"バージョン：{version}")
    return y - 12


MDS_TITLE = "「製造業者による医療情報セキュリティ開示書」チェックリスト（医療情報システムの安全管理に関するガイドライン第5.2版対応）"


@dataclass
class MdsFile:
    name: str
    convention: str
    vendor: str
    product: str
    version: str
    created: dt.date
    mark: str  # circle | strike | glyph
    separate_number: bool = False
    limit: int | None = None
    ambiguous: str = ""
    unanswered: str = ""
    footnotes: bool = False
    repeat_header: bool | None = None  # None: single page expected
    size: float = 8.5
    small_circle_rows: tuple[str, ...] = ()
    fill_rows: tuple[str, ...] = ()
    square_rows: tuple[str, ...] = ()
    double_strike_rows: tuple[str, ...] = ()


def build_mds_pdf(spec: MdsFile, out_dir: Path) -> Path:
    register_font()
    path = out_dir / f"{spec.name}.pdf"
    rows = mds_rows(limit=spec.limit, ambiguous=spec.ambiguous, unanswered=spec.unanswered)
    footnotes: dict[str, str] = {}
    if spec.footnotes:
        for r in rows:
            if r.remark:
                n = str(len(footnotes) + 1)
                footnotes[n] = r.remark
                r.remark_ref = n
    c = rl_canvas.Canvas(str(path), pagesize=A4)
    c.setTitle(spec.name)
    created_printed = f"{spec.created.year}年{spec.created.month}月{spec.created.day}日"
    y = _mds_header(c, MDS_TITLE, spec.vendor, created_printed, spec.product, spec.version)
    glyph_mode = spec.mark == "glyph"
    if spec.separate_number:
        cols = [42, 265, 34, 38, 40, 104]
        header = [CellSpec("項番", align="center"), CellSpec("確認項目", align="center")]
    else:
        cols = [307, 34, 38, 40, 104]
        header = [CellSpec("確認項目", align="center")]
    if glyph_mode:
        header += [CellSpec(o, align="center") for o in OPTIONS_YN]
    else:
        header += [CellSpec("回答", colspan=3, align="center"), None, None]
    header.append(CellSpec("備考", align="center"))
    table: list[Row] = [header]
    n_cols = len(cols)
    for r in rows:
        if r.section:
            table.append([CellSpec(r.section, colspan=n_cols)] + [None] * (n_cols - 1))
        first = ([CellSpec(r.number), CellSpec(("・" + r.question) if r.bullet else r.question)]
                 if spec.separate_number else [CellSpec(_label(r))])
        if r.group:
            table.append(first + [CellSpec() for _ in range(4)])
            continue
        opts = list(r.options) + [""] * (3 - len(r.options))
        cells = []
        for o in opts:
            cell = CellSpec(o if not glyph_mode else "", align="center")
            chosen = (o == r.answer and o) or (r.status == "ambiguous" and o in OPTIONS_YN[:2])
            if glyph_mode and o and r.answer == o:
                if r.item_id in spec.fill_rows:
                    cell.fill = (1.0, 1.0, 0.0)
                else:
                    cell.text = "■" if r.item_id in spec.square_rows else "✓"
            elif glyph_mode and o and r.status == "ambiguous" and o in OPTIONS_YN[:2]:
                cell.text = "✓"
            elif spec.mark == "circle" and chosen:
                cell.circle = (o,)
                if r.item_id in spec.small_circle_rows:
                    cell.circle_pad = -2.0
            elif spec.mark == "strike" and o and r.status != "unanswered" and not chosen:
                cell.strike = (o,)
                cell.double_strike = r.item_id in spec.double_strike_rows
            cells.append(cell)
        remark_cell = CellSpec(r.remark_ref or r.remark, align="center" if r.remark_ref else "left")
        table.append(first + cells + [remark_cell])
    drawer = TableDrawer(c, cols, size=spec.size)
    y = drawer.draw(table, y, header_rows=1, repeat_header=bool(spec.repeat_header),
                    on_new_page=lambda: PAGE_H - MARGIN)
    if footnotes:
        y -= 14
        if y < MARGIN + 40 + 20 * len(footnotes):
            c.showPage()
            y = PAGE_H - MARGIN
        c.setFont(FONT, 10)
        c.drawString(MARGIN, y - 10, "備考記載欄")
        y -= 16
        fn_rows = [[CellSpec("番号", align="center"), CellSpec("内容", align="center")]]
        fn_rows += [[CellSpec(n, align="center"), CellSpec(t)] for n, t in footnotes.items()]
        TableDrawer(c, [40, 300], size=spec.size).draw(fn_rows, y)
    c.save()

    items = [truth_item(r.item_id, r.number, r.question, r.answer, r.status, r.remark, r.remark_ref)
             for r in rows]  # group rows (4.1, 12.3.1.1) take no answer: unanswered, as in samples/spec.py
    form = get_form("jahis-mds-4.1")
    write_truth(
        path, convention=spec.convention, family=form.family, form_id=form.id,
        form_version=form.form_version, vendor=spec.vendor, product=spec.product,
        product_version=spec.version, created=spec.created.isoformat(),
        header_fields={"製造業者": spec.vendor, "作成日": created_printed, "製品名称": spec.product,
                       "バージョン": spec.version},
        items=items)
    return path


# --------------------------------------------------------------------------- checklist


@dataclass
class ChecklistRow:
    item_id: str
    printed: str  # 「(1) 事業者内に…」
    section_label: str  # left column (merged over the section's rows)
    heading: str = ""  # device heading row printed before it
    first: str = ""  # answer
    first_md: str = ""  # "8/2"
    style: str = "only"  # only: 「はい (8 / 2)」; circle: 「はい・いいえ (9 / 20)」 one circled; blank: template
    target_md: str = ""
    remark: str = ""


def _md_iso(md: str, fiscal_year: int) -> str:
    if not md:
        return ""
    m, d = (int(p) for p in md.split("/"))
    return dt.date(fiscal_year if m >= 4 else fiscal_year + 1, m, d).isoformat()


def _md_print(md: str) -> str:
    if not md:
        return "(  /  )"
    m, d = md.split("/")
    return f"({m} / {d})"


def build_checklist_pdf(out_dir: Path, name: str = "pdf_checklist_r5") -> Path:
    register_font()
    form = get_form("mhlw-checklist-r5-vendor")
    text = {it.id: it.text for it in form.items}
    sec1, sec2 = "1 体制構築", "2 医療情報システムの管理・運用"
    rows = [
        ChecklistRow("1(1)", f"(1) {text['1(1)']}", sec1, first="いいえ", first_md="9/20", style="circle",
                     target_md="3/31", remark="社内で管理責任者の選任を検討中です。"),
        ChecklistRow("2(2)", f"(2) {text['2(2)']}", sec2, heading="医療情報システム全般について、以下を実施している。",
                     first="はい", first_md="8/2"),
        ChecklistRow("2(3)", f"(3) {text['2(3)']}", sec2, first="はい", first_md="8/2", style="circle"),
        ChecklistRow("2(4)", f"(4) {text['2(4)']}", sec2, heading="サーバについて、以下を実施している。",
                     first="はい", first_md="8/2"),
        ChecklistRow("2(5)", f"(5) {text['2(5)']}", sec2, style="blank"),
        ChecklistRow("2(6)", f"(6) {text['2(6)']}", sec2, first="いいえ", first_md="8/2", target_md="12/1"),
        ChecklistRow("2(7)", f"(7) {text['2(7)']}", sec2, heading="ネットワーク機器について、以下を実施している。",
                     first="はい", first_md="8/2", style="circle"),
        ChecklistRow("2(8)", f"(8) {text['2(8)']}", sec2, first="はい", first_md="10/5",
                     remark="保守用ルーターで接続元IPを制限。"),
    ]
    path = out_dir / f"{name}.pdf"
    c = rl_canvas.Canvas(str(path), pagesize=A4)
    c.setFont(FONT, 12)
    c.drawString(MARGIN, PAGE_H - MARGIN - 12, "医療機関におけるサイバーセキュリティ対策チェックリスト")
    c.setFont(FONT, 10)
    c.drawString(MARGIN, PAGE_H - MARGIN - 30, "事業者確認用")
    c.drawString(MARGIN, PAGE_H - MARGIN - 46, "○ 令和5年度中")
    c.setFont(FONT, 8)
    c.drawString(MARGIN, PAGE_H - MARGIN - 62, "*1回目の確認で「いいえ」の場合、令和5年度中の対応目標日を記入してください。")
    cols = [58, 168, 86, 42, 86, 83]
    table: list[Row] = [
        [CellSpec("", rowspan=2), CellSpec("チェック項目", rowspan=2, align="center"),
         CellSpec("確認結果 (日付)", colspan=3, align="center"), None, None, CellSpec("備考", rowspan=2, align="center")],
        [None, None, CellSpec("1回目", align="center"), CellSpec("目標日", align="center"),
         CellSpec("2回目", align="center"), None],
    ]
    # section label column merged over each section's rows (headings included)
    body: list[tuple[str, Row]] = []
    for r in rows:
        if r.heading:
            body.append((r.section_label, [CellSpec(r.heading, colspan=5), None, None, None, None]))
        if r.style == "only":
            first = CellSpec(f"{r.first} {_md_print(r.first_md)}", align="center")
        elif r.style == "circle":
            first = CellSpec(f"はい・いいえ {_md_print(r.first_md)}", circle=(r.first,), align="center")
        else:
            first = CellSpec(f"はい・いいえ {_md_print('')}", align="center")
        body.append((r.section_label, [CellSpec(r.printed), first, CellSpec(_md_print(r.target_md), align="center"),
                                       CellSpec("はい・いいえ (  /  )", align="center"), CellSpec(r.remark)]))
    i = 0
    while i < len(body):
        label = body[i][0]
        j = i
        while j < len(body) and body[j][0] == label:
            j += 1
        for k in range(i, j):
            lead = CellSpec(label, rowspan=j - i) if k == i else None
            table.append([lead] + body[k][1])
        i = j
    y = TableDrawer(c, cols, size=7.5).draw(table, PAGE_H - MARGIN - 72)
    comment = "(1)につきまして、管理責任者の設置を社内で検討中のため目標日は3月31日としました。"
    c.setFont(FONT, 8.5)
    c.drawString(MARGIN, y - 18, "コメント：")
    c.drawString(MARGIN + 50, y - 18, comment)
    vendor = "株式会社サンプルメディカル"
    c.drawString(MARGIN + 280, y - 44, f"事業者名：{vendor}")
    c.save()
    fy = form.fiscal_year
    items = [truth_item(r.item_id, r.item_id, text[r.item_id], r.first, "answered" if r.first else "unanswered",
                        remark=r.remark, first_date=_md_iso(r.first_md, fy), target_date=_md_iso(r.target_md, fy))
             for r in rows]
    write_truth(path, convention="checklist_word_only_and_circle", family=form.family, form_id=form.id,
                form_version=form.form_version, vendor=vendor, comment=comment,
                header_fields={"事業者名": vendor}, items=items)
    return path


# --------------------------------------------------------------------------- all samples

MDS_FILES = (
    MdsFile("pdf_mds_circle", "mds_circle", "株式会社ABCメディカル", "ABC電子カルテ", "3.2", dt.date(2023, 7, 21),
            "circle", limit=16, ambiguous="4.2", unanswered="4.3.2", small_circle_rows=("3",)),
    MdsFile("pdf_mds_strike", "mds_strike", "株式会社ストライク医療", "画像ビューア S", "02-12以降", dt.date(2023, 9, 1),
            "strike", separate_number=True, limit=16, double_strike_rows=("4",)),
    MdsFile("pdf_mds_glyph", "mds_glyph", "グリフ・システムズ株式会社", "検査システム G", "1.0", dt.date(2024, 1, 15),
            "glyph", limit=14, square_rows=("2", "3"), fill_rows=("4.2",)),
    MdsFile("pdf_mds_twopage_hdr", "mds_twopage_header", "二頁メディカル株式会社", "PACS Two", "5.1",
            dt.date(2023, 11, 30), "circle", footnotes=True, repeat_header=True, size=10.5),
    MdsFile("pdf_mds_twopage", "mds_twopage", "二頁メディカル株式会社", "PACS Two", "5.1",
            dt.date(2023, 11, 30), "circle", footnotes=True, repeat_header=False, size=10.5),
)


def build_pdf_samples(out_dir: Path | str) -> list[Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [build_mds_pdf(spec, out_dir) for spec in MDS_FILES]
    paths.append(build_checklist_pdf(out_dir))
    return paths


# --------------------------------------------------------------------------- LibreOffice-printed samples

SML = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
# CT_Worksheet children that come after <pageSetup> (the schema fixes the order).
_AFTER_PAGE_SETUP = ("headerFooter", "rowBreaks", "colBreaks", "customProperties", "cellWatches", "ignoredErrors",
                     "smartTags", "drawing", "legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects",
                     "controls", "webPublishItems", "tableParts", "extLst")
_BEFORE_PAGE_SETUP = ("printOptions", "pageMargins")
PORTRAIT_MAX_WIDTH = 95.0  # Excel column-width units that fit an A4 portrait page at 100 %
DEFAULT_COL_WIDTH = 8.43


def _q(tag: str) -> str:
    return f"{{{SML}}}{tag}"


def _text_width(text: str) -> float:
    """Width of a text in Excel column units (a wide character counts as two)."""
    import unicodedata
    longest = max((ln for ln in str(text).split("\n")), key=len, default="")
    return sum(2.0 if unicodedata.east_asian_width(ch) in ("W", "F") else 1.0 for ch in longest)


def _col_index(ref: str) -> int:
    n = 0
    for ch in re.match(r"[A-Z]+", ref).group(0):
        n = n * 26 + ord(ch) - 64
    return n


def _sheet_paths(entries: dict[str, bytes]) -> list[str]:
    from lxml import etree
    wb = etree.fromstring(entries["xl/workbook.xml"])
    rels = etree.fromstring(entries["xl/_rels/workbook.xml.rels"])
    targets = {r.get("Id"): r.get("Target") for r in rels.iter(f"{{{PKG_REL}}}Relationship")}
    out = []
    for sh in wb.iter(_q("sheet")):
        target = targets.get(sh.get(f"{{{REL}}}id"), "")
        target = target.lstrip("/") if target.startswith("/") else "xl/" + target
        if target in entries:
            out.append(target)
    return out


def _shared_strings(entries: dict[str, bytes]) -> list[str]:
    from lxml import etree
    data = entries.get("xl/sharedStrings.xml")
    if not data:
        return []
    root = etree.fromstring(data)
    return ["".join(t.text or "" for t in si.iter(_q("t"))) for si in root.iter(_q("si"))]


class _Styles:
    """cellXfs of styles.xml: how a style aligns text, its font size, and clones that wrap or shrink."""

    def __init__(self, data: bytes):
        from lxml import etree
        self.root = etree.fromstring(data)
        self.xfs = self.root.find(_q("cellXfs"))
        fonts = self.root.find(_q("fonts"))
        self.font_sizes = []
        for font in (fonts if fonts is not None else []):
            sz = font.find(_q("sz"))
            self.font_sizes.append(float(sz.get("val")) if sz is not None else 11.0)
        self.clones: dict[tuple[int, str], int] = {}

    def _alignment(self, index: int):
        xf = self.xfs[index] if index < len(self.xfs) else None
        return xf.find(_q("alignment")) if xf is not None else None

    def wraps(self, index: int) -> bool:
        al = self._alignment(index)
        return al is not None and al.get("wrapText") in ("1", "true")

    def shrinks(self, index: int) -> bool:
        al = self._alignment(index)
        return al is not None and al.get("shrinkToFit") in ("1", "true")

    def font_size(self, index: int) -> float:
        xf = self.xfs[index] if index < len(self.xfs) else None
        k = int(xf.get("fontId", "0")) if xf is not None else 0
        return self.font_sizes[k] if k < len(self.font_sizes) else 11.0

    def clone(self, index: int, how: str) -> int:
        """A copy of style `index` that wraps (`how="wrap"`) or shrinks to fit (`how="shrink"`)."""
        import copy
        key = (index, how)
        if key not in self.clones:
            xf = copy.deepcopy(self.xfs[index])
            al = xf.find(_q("alignment"))
            if al is None:
                al = xf.makeelement(_q("alignment"), {})
                xf.insert(0, al)
            if how == "wrap":
                al.set("wrapText", "1")
            else:
                al.set("shrinkToFit", "1")
                al.attrib.pop("wrapText", None)
            al.set("vertical", al.get("vertical") or "top")  # a merged cell over a page break: keep text at its top
            xf.set("applyAlignment", "1")
            self.xfs.append(xf)
            self.xfs.set("count", str(len(self.xfs)))
            self.clones[key] = len(self.xfs) - 1
        return self.clones[key]

    def to_bytes(self) -> bytes:
        from lxml import etree
        return etree.tostring(self.root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _set_fit_to_width(ws, landscape: bool) -> None:
    pr = ws.find(_q("sheetPr"))
    if pr is None:
        pr = ws.makeelement(_q("sheetPr"), {})
        ws.insert(0, pr)
    fit = pr.find(_q("pageSetUpPr"))
    if fit is None:
        fit = pr.makeelement(_q("pageSetUpPr"), {})
        pr.append(fit)  # last child of CT_SheetPr
    fit.set("fitToPage", "1")
    setup = ws.find(_q("pageSetup"))
    if setup is None:
        setup = ws.makeelement(_q("pageSetup"), {})
        later = [ws.find(_q(t)) for t in _AFTER_PAGE_SETUP]
        later = [e for e in later if e is not None]
        if later:
            later[0].addprevious(setup)
        else:
            ws.append(setup)
    setup.set("paperSize", "9")
    setup.set("fitToWidth", "1")
    setup.set("fitToHeight", "0")
    if landscape:
        setup.set("orientation", "landscape")


SHRINK_UP_TO = 1.8  # text at most this many times its cell width is shrunk onto one line; longer text wraps
LINE_HEIGHT = 1.4  # row height per wrapped line, in units of the font size


def _fit_text(ws, strings: list[str], styles: _Styles) -> int:
    """Make every text fit its cell the way a careful vendor would before printing.

    A text wider than its column (Excel clips it at a filled neighbour, LibreOffice prints it across the
    neighbours) is shrunk onto one line when it is a little too wide (labels) and wrapped when much too wide
    (remarks); a row is made tall enough for its wrapped lines, because LibreOffice does not re-measure
    row heights when it opens an .xlsx. Returns the number of cells changed.
    """
    widths: dict[int, float] = {}
    cols = ws.find(_q("cols"))
    for col in (cols if cols is not None else []):
        for k in range(int(col.get("min")), int(col.get("max")) + 1):
            widths[k] = float(col.get("width", DEFAULT_COL_WIDTH))
    merged: dict[str, tuple[float, int]] = {}  # top-left ref → (width, rows spanned)
    merges = ws.find(_q("mergeCells"))
    for m in (merges if merges is not None else []):
        a, _, b = m.get("ref").partition(":")
        b = b or a
        c0, c1 = _col_index(a), _col_index(b)
        r0, r1 = int(re.sub(r"[A-Z]+", "", a)), int(re.sub(r"[A-Z]+", "", b))
        merged[a] = (sum(widths.get(k, DEFAULT_COL_WIDTH) for k in range(c0, c1 + 1)), r1 - r0 + 1)
    changed = 0
    data = ws.find(_q("sheetData"))
    for row in (data if data is not None else []):
        need_height = 0.0
        for c in row.iter(_q("c")):
            kind = c.get("t")
            if kind == "s":
                v = c.find(_q("v"))
                text = strings[int(v.text)] if v is not None and v.text and v.text.isdigit() else ""
            elif kind == "inlineStr":
                text = "".join(t.text or "" for t in c.iter(_q("t")))
            else:
                continue
            ref = c.get("r")
            width, spanned = merged.get(ref, (widths.get(_col_index(ref), DEFAULT_COL_WIDTH), 1))
            s = int(c.get("s", "0"))
            size = styles.font_size(s)
            scale = size / 11.0 * 1.1  # column units are 11 pt digits; leave a little room
            lines = [_text_width(p) * scale for p in str(text).split("\n")]
            if styles.shrinks(s):
                continue
            if max(lines) > width and max(lines) <= SHRINK_UP_TO * width and len(lines) == 1:
                # a label a little too wide: one smaller line (a wrapped label breaks mid-word, and its
                # pieces interleave with the value printed beside it)
                c.set("s", str(styles.clone(s, "shrink")))
                changed += 1
                continue
            if not styles.wraps(s):
                if max(lines) <= width:
                    continue
                c.set("s", str(styles.clone(s, "wrap")))
                changed += 1
            if spanned == 1:
                n_lines = sum(max(1, -(-int(w) // max(1, int(width)))) for w in lines)
                need_height = max(need_height, n_lines * size * LINE_HEIGHT + 3)
        current = float(row.get("ht", "15"))
        if need_height > current:
            row.set("ht", f"{need_height:.1f}")
            row.set("customHeight", "1")
    return changed


def xlsx_print_copy(src: Path, dst: Path) -> Path:
    """A copy of an .xlsx set up the way vendors print: every sheet fit to one page width (landscape when
    wide), long unwrapped text wrapped. Edits the package XML so that drawings (ellipses) survive, which an
    openpyxl load+save would drop."""
    from lxml import etree
    from samples.ziputil import read_entries, write_entries

    names, entries = read_entries(Path(src))
    strings = _shared_strings(entries)
    styles = _Styles(entries["xl/styles.xml"]) if "xl/styles.xml" in entries else None
    for sheet in _sheet_paths(entries):
        ws = etree.fromstring(entries[sheet])
        if styles is not None:
            _fit_text(ws, strings, styles)
        cols = ws.find(_q("cols"))
        total = 0.0
        for col in (cols if cols is not None else []):
            total += float(col.get("width", DEFAULT_COL_WIDTH)) * (int(col.get("max")) - int(col.get("min")) + 1)
        _set_fit_to_width(ws, landscape=total > PORTRAIT_MAX_WIDTH)
        entries[sheet] = etree.tostring(ws, xml_declaration=True, encoding="UTF-8", standalone=True)
    if styles is not None:
        entries["xl/styles.xml"] = styles.to_bytes()
    write_entries(Path(dst), names, entries)
    return Path(dst)


W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def docx_print_copy(src: Path, dst: Path) -> Path:
    """A copy of a .docx whose table rows may not break across pages (Word: 「行の途中で改ページする」 off),
    as forms are usually set up; a row split over two pages would print its question in two pieces."""
    from lxml import etree
    from samples.ziputil import read_entries, write_entries

    names, entries = read_entries(Path(src))
    root = etree.fromstring(entries["word/document.xml"])
    w = f"{{{W_NS}}}"
    for tr in root.iter(f"{w}tr"):
        pr = tr.find(f"{w}trPr")
        if pr is None:
            pr = tr.makeelement(f"{w}trPr", {})
            ex = tr.find(f"{w}tblPrEx")
            if ex is not None:
                ex.addnext(pr)
            else:
                tr.insert(0, pr)
        if pr.find(f"{w}cantSplit") is None:
            pr.insert(0, pr.makeelement(f"{w}cantSplit", {}))
    entries["word/document.xml"] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    write_entries(Path(dst), names, entries)
    return Path(dst)


def print_with_libreoffice(sources: list[Path], out_dir: Path | str, timeout: float = 300) -> list[Path]:
    """Print Office samples to PDF with LibreOffice, as `<name>.<ext>.pdf` beside them; each PDF gets its
    source's truth (file name changed, `printed_from` added). Spreadsheets are printed from a fit-to-width
    copy (`xlsx_print_copy`), Word files from a copy whose table rows do not split (`docx_print_copy`); the
    source file and its truth are not touched."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        raise FileNotFoundError("LibreOffice (soffice) が見つかりません")
    sources = [Path(s) for s in sources]
    results = []
    with tempfile.TemporaryDirectory(prefix="mdsgap-print-") as tmp_name:
        tmp = Path(tmp_name)
        staged = tmp / "in"
        staged.mkdir()
        # one staged copy per source, named by position so that odd file names cannot collide
        copies = []
        for k, src in enumerate(sources):
            copy = staged / f"s{k:03d}{src.suffix.lower()}"
            if src.suffix.lower() == ".xlsx":
                xlsx_print_copy(src, copy)
            elif src.suffix.lower() == ".docx":
                docx_print_copy(src, copy)
            else:
                shutil.copyfile(src, copy)
            copies.append(copy)
        if copies:  # one LibreOffice start for the whole batch
            subprocess.run([soffice, f"-env:UserInstallation=file://{tmp}/profile", "--headless",
                            "--convert-to", "pdf", "--outdir", str(tmp / "out"), *map(str, copies)],
                           check=True, capture_output=True, timeout=timeout)
        for src, copy in zip(sources, copies):
            produced = tmp / "out" / f"{copy.stem}.pdf"
            if not produced.exists():
                raise RuntimeError(f"LibreOffice が {src.name} を PDF にできませんでした")
            target = out_dir / f"{src.name}.pdf"
            shutil.move(str(produced), target)
            truth_src = Path(str(src) + ".truth.json")
            if truth_src.exists():
                truth = json.loads(truth_src.read_text(encoding="utf-8"))
                truth["file"] = target.name
                truth["printed_from"] = src.name
                truth.pop("duplicate_of", None)
                Path(str(target) + ".truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1),
                                                             encoding="utf-8")
            results.append(target)
    return results


def printable_office_samples(folder: Path | str) -> list[Path]:
    """The Office samples in `folder` that are forms with a truth to check (not bad files, lock files or
    legacy duplicates)."""
    out = []
    for path in sorted(Path(folder).iterdir()):
        if path.suffix.lower() not in (".xlsx", ".docx") or path.name.startswith("~$"):
            continue
        truth_path = Path(str(path) + ".truth.json")
        if not truth_path.exists():
            continue
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        if truth.get("expect_failure") or truth.get("duplicate_of") or not truth.get("items"):
            continue
        out.append(path)
    return out


# Scanned copies in the sample set: (source PDF, variant suffix). Each scanned page costs ~4 s to read, so
# a few: a drawn MDS with circles (skewed, grey, noisy), the drawn checklist turned a quarter (colour),
# and one LibreOffice-printed checklist (skewed).
SCAN_SOURCES = (
    ("pdf_mds_circle.pdf", "scan"),
    ("pdf_checklist_r5.pdf", "scan_rot90"),
    ("メディネクスト_事業者確認用チェックリスト_R5.xlsx.pdf", "scan"),
)


def build_printed_and_scanned(out_dir: Path | str) -> list[Path]:
    """LibreOffice-printed PDFs of the Office samples already in `out_dir`, then scanned copies of a few
    PDFs (`SCAN_SOURCES`), each with its truth. Skips (with a message) what the machine cannot make."""
    import sys

    from samples.scan_builder import DEFAULT_VARIANTS, build_scan_samples

    out_dir = Path(out_dir)
    written: list[Path] = []
    if shutil.which("soffice") or shutil.which("libreoffice"):
        written += print_with_libreoffice(printable_office_samples(out_dir), out_dir)
    else:
        print("LibreOffice (soffice) が見つからないため、Office サンプルの PDF 印刷版を作成しません。", file=sys.stderr)
    if not shutil.which("pdftoppm"):
        print("pdftoppm (poppler-utils) が見つからないため、スキャン版 PDF を作成しません。", file=sys.stderr)
        return written
    variants = {v.suffix: v for v in DEFAULT_VARIANTS}
    for name, suffix in SCAN_SOURCES:
        src = out_dir / name
        if src.exists():
            written += build_scan_samples([src], out_dir, variants=(variants[suffix],))
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description="PDF のサンプル開示書を作成します")
    ap.add_argument("--out", required=True)
    ap.add_argument("--print-office", nargs="*", default=[], help="LibreOffice で PDF にする xlsx/docx")
    args = ap.parse_args()
    paths = build_pdf_samples(args.out)
    if args.print_office:
        paths += print_with_libreoffice([Path(p) for p in args.print_office], args.out)
    for p in paths:
        print(p)


if __name__ == "__main__":
    main()
