"""Draw a `Submission` into an .xlsx the way vendors do (openpyxl, plus raw drawing XML for ellipses).

The renderer only lays out what the spec says: the marked options, the remark or its footnote
number, the dates. It never decides an answer.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from samples.ziputil import normalize, read_entries, write_entries
from samples.spec import APPL, NA, NO, NOT_APPL, YES, ItemSpec, Submission

THIN = Side(style="thin", color="000000")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="center")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
GREY = PatternFill("solid", fgColor="D9D9D9")
ROW_HEIGHT_PT = 30.0  # MDS item rows: fixed so that an ellipse anchored in a cell stays inside it


@dataclass
class XlsxStyle:
    """One vendor's spreadsheet habits.

    columns: roles left to right. MDS roles: num, q, はい, いいえ, 対象外, 該当, 非該当, opt1, opt2, opt3,
    answer, remark, ref. Checklist roles: section, q, first, target, second, first_answer, first_date,
    second_answer, second_date, remark.
    """

    columns: tuple[str, ...]
    labels: dict[str, str] = field(default_factory=dict)
    sheet_name: str = "チェックリスト"
    font: str = "ＭＳ Ｐゴシック"
    font_size: float = 10.0
    glyph: str = "○"  # mark glyph in option columns
    answer_mode: str = "marks"  # marks | dropdown | ellipse (MDS); combined | split (checklist)
    dropdown_source: str = "inline"  # inline | range (hidden sheet 選択肢)
    header_pos: str = "above"  # above | beside (right of the title) | below (under the table)
    title_merged: bool = True
    section_rows: bool = True  # merged section heading rows
    number_in_question: bool = False  # print 「4.3 アクセス記録…」 in the question cell
    footnotes: str = ""  # "" | below | sheet
    extra_sheets: tuple[str, ...] = ()  # 表紙, 改訂履歴 before the form
    hidden_sheet: str = ""  # name of a hidden sheet holding vendor notes
    start_col: int = 1
    date_format: str = "m/d"  # checklist split mode
    fullwidth_dates: tuple[str, ...] = ()  # checklist item ids whose dates are printed full width
    comment_label: str = "コメント："
    vendor_label: str = "事業者名："
    vendor_pos: str = "below"  # checklist: above | below


def _font(style: XlsxStyle, bold: bool = False, size: float | None = None) -> Font:
    return Font(name=style.font, size=size or style.font_size, bold=bold)


def _put(ws, row: int, col: int, value, style: XlsxStyle, *, bold=False, align=WRAP, border=True, fill=None):
    c = ws.cell(row=row, column=col, value=value)
    c.font = _font(style, bold)
    c.alignment = align
    if border:
        c.border = BOX
    if fill:
        c.fill = fill
    return c


def _add_extra_sheets(wb: Workbook, sub: Submission, style: XlsxStyle) -> None:
    for name in style.extra_sheets:
        ws = wb.create_sheet(name)
        if name == "表紙":
            ws["B3"] = sub.title or sub.form_id
            ws["B3"].font = _font(style, True, 14)
            ws["B6"] = "提出先：医療機関 御中"
            ws["B8"] = f"提出元：{sub.vendor}" if sub.vendor else "提出元："
            ws["B9"] = f"対象：{sub.product} {sub.product_version}".strip()
            ws.column_dimensions["B"].width = 70
        elif name == "改訂履歴":
            rows = [("版", "改訂日", "改訂内容", "担当"), ("1.0", "2022/04/01", "初版作成", "品質保証部"),
                    ("1.1", sub.created.replace("-", "/") if sub.created else "", "ガイドライン対応の見直し", "品質保証部")]
            for r, vals in enumerate(rows, 1):
                for c, v in enumerate(vals, 1):
                    _put(ws, r, c, v, style, bold=(r == 1))
            ws.column_dimensions["C"].width = 40


def _header_field_pairs(sub: Submission) -> list[tuple[str, str]]:
    return list(sub.header_fields.items())


# ---------------------------------------------------------------- MDS / SDS

def _opt_cols(style: XlsxStyle) -> dict[str, int]:
    return {role: style.start_col + k for k, role in enumerate(style.columns)}


def _write_mds(wb: Workbook, sub: Submission, style: XlsxStyle) -> list[tuple[int, int]]:
    """Returns (row, col) cells to circle with an ellipse (ellipse mode)."""
    ws = wb.create_sheet(style.sheet_name)
    cols = _opt_cols(style)
    last_col = max(cols.values())
    widths = {"num": 9, "q": 58, "remark": 42, "answer": 10, "ref": 12}
    for role, c in cols.items():
        ws.column_dimensions[get_column_letter(c)].width = widths.get(role, 8)
    row = 1
    # Title (merged), header fields above or beside.
    title = sub.title
    tcell = _put(ws, row, style.start_col, title, style, bold=True, border=False,
                 align=Alignment(horizontal="center", vertical="center", wrap_text=True))
    tcell.font = _font(style, True, 12)
    title_end = last_col if style.header_pos == "above" else max(style.start_col + 1, last_col - 2)
    if style.title_merged:
        ws.merge_cells(start_row=row, start_column=style.start_col, end_row=row, end_column=title_end)
    ws.row_dimensions[row].height = 36
    row += 2
    pairs = _header_field_pairs(sub)
    if style.header_pos == "below":
        pass
    elif style.header_pos == "above":
        # Two pairs a line: 「製造業者： …」 in the first columns, 「作成日： …」 right of the question column.
        q = cols["q"]
        per_line = 2 if q >= style.start_col + 2 else 1  # two pairs need room left of the question column
        for k in range(0, len(pairs), per_line):
            for j, (label, value) in enumerate(pairs[k:k + per_line]):
                first_end = max(style.start_col + 1, q)
                if j == 0:
                    lc, vc, vend = style.start_col, style.start_col + 1, first_end
                else:
                    lc, vc, vend = first_end + 1, first_end + 2, last_col
                _put(ws, row, lc, f"{label}：", style, bold=True, border=False)
                _put(ws, row, vc, value, style, border=False)
                if vend > vc:
                    ws.merge_cells(start_row=row, start_column=vc, end_row=row, end_column=vend)
            row += 1
        row += 1
    else:  # beside the title: label/value pairs stacked in the two right-most columns
        r = 1
        for label, value in pairs:
            _put(ws, r, last_col - 1, label, style, bold=True)
            _put(ws, r, last_col, value, style)
            r += 1
        row = max(row, r + 1)
    ws.cell(row=row, column=style.start_col, value="※本開示書の適合性をJAHIS/JIRAが証明するものではありません。").font = _font(style, size=8)
    row += 2
    # Header row.
    default_labels = {"num": "項番", "q": "確認項目", YES: YES, NO: NO, NA: NA, APPL: APPL, NOT_APPL: NOT_APPL,
                      "opt1": "回答", "opt2": "", "opt3": "", "answer": "回答", "remark": "備考", "ref": "GL項番"}
    labels = {**default_labels, **style.labels}
    header_row = row
    for role, c in cols.items():
        _put(ws, row, c, labels.get(role, role), style, bold=True, align=CENTER, fill=GREY)
    if "opt1" in cols and "opt3" in cols:
        ws.merge_cells(start_row=row, start_column=cols["opt1"], end_row=row, end_column=cols["opt3"])
    row += 1
    ellipses: list[tuple[int, int]] = []
    validations: dict[tuple[str, ...], DataValidation] = {}
    last_section = None
    for it in sub.items:
        if style.section_rows and it.section and it.section != last_section and it.kind != "bullet":
            _put(ws, row, style.start_col, it.section, style, bold=True, fill=GREY)
            ws.merge_cells(start_row=row, start_column=style.start_col, end_row=row, end_column=last_col)
            row += 1
            last_section = it.section
        ws.row_dimensions[row].height = ROW_HEIGHT_PT
        for role, c in cols.items():
            value = _mds_cell(it, role, style)
            _put(ws, row, c, value, style, align=CENTER if role not in ("q", "remark") else WRAP)
        if style.answer_mode == "ellipse" and it.kind != "group":
            words = list(it.options)
            for k, word in enumerate(words):
                if word in it.marked:
                    ellipses.append((row, cols[f"opt{k + 1}"]))
        if style.answer_mode == "dropdown" and it.kind != "group":
            key = tuple(it.options)
            if key not in validations:
                if style.dropdown_source == "range":
                    src = _choice_range(wb, key)
                    dv = DataValidation(type="list", formula1=src, allow_blank=True)
                else:
                    dv = DataValidation(type="list", formula1='"' + ",".join(key) + '"', allow_blank=True)
                dv.error, dv.errorTitle = "一覧から選択してください。", "入力エラー"
                ws.add_data_validation(dv)
                validations[key] = dv
            validations[key].add(f"{get_column_letter(cols['answer'])}{row}")
        row += 1
    ws.freeze_panes = ws.cell(row=header_row + 1, column=style.start_col)
    if style.header_pos == "below":  # 作成日 etc. under the table, as some vendors' footers do
        row += 1
        for label, value in pairs:
            _put(ws, row, cols["q"], label, style, bold=True)
            _put(ws, row, cols["q"] + 1, value, style)
            ws.merge_cells(start_row=row, start_column=cols["q"] + 1, end_row=row, end_column=last_col)
            row += 1
    if style.footnotes == "below":
        row += 1
        _write_footnote_block(ws, sub, style, row, cols["q"] - 1 if cols["q"] > style.start_col else style.start_col)
    elif style.footnotes == "sheet":
        fs = wb.create_sheet("備考記載欄")
        fs.column_dimensions["B"].width = 80
        _write_footnote_block(fs, sub, style, 1, 1)
    ws.print_title_rows = f"{header_row}:{header_row}"
    _fit_landscape(ws)
    return ellipses


def _mds_cell(it: ItemSpec, role: str, style: XlsxStyle):
    if role == "num":
        return it.number_printed if it.kind != "bullet" else ""
    if role == "q":
        text = it.question if it.kind != "bullet" else f"・{it.question}"
        if style.number_in_question and it.number_printed:
            text = f"{it.number_printed} {text}"
        if "num" not in style.columns and it.kind != "bullet" and not style.number_in_question:
            text = f"{it.number_printed} {text}"
        return text
    if role == "remark":
        if it.remark_ref:
            return it.remark_ref_style or it.remark_ref
        return it.remark or None
    if it.kind == "group":
        return None
    if role in (YES, NO, NA, APPL, NOT_APPL):
        if role in it.options:
            return (it.glyph or style.glyph) if role in it.marked else None
        if role in (YES, NO) and APPL not in style.columns and APPL in it.options:
            # No 該当/非該当 columns: the gate row prints its words in the はい/いいえ cells, mark in front.
            word = it.options[(YES, NO).index(role)]
            return f"{style.glyph}{word}" if word in it.marked else word
        return None
    if role in ("opt1", "opt2", "opt3"):
        k = int(role[-1]) - 1
        return it.options[k] if k < len(it.options) else None
    if role == "answer":
        return it.marked[0] if len(it.marked) == 1 else None
    return None


def _choice_range(wb: Workbook, options: tuple[str, ...]) -> str:
    """Lists on a hidden sheet 選択肢: column A = はい/いいえ/対象外, column B = 該当/非該当."""
    if "選択肢" not in wb.sheetnames:
        cs = wb.create_sheet("選択肢")
        cs.sheet_state = "hidden"
        for r, v in enumerate((YES, NO, NA), 1):
            cs.cell(row=r, column=1, value=v)
        for r, v in enumerate((APPL, NOT_APPL), 1):
            cs.cell(row=r, column=2, value=v)
    if APPL in options:
        return "選択肢!$B$1:$B$2"
    return "選択肢!$A$1:$A$3"


def _write_footnote_block(ws, sub: Submission, style: XlsxStyle, row: int, col: int) -> int:
    _put(ws, row, col, "備考記載欄", style, bold=True, border=False)
    row += 1
    _put(ws, row, col, "No", style, bold=True, align=CENTER, fill=GREY)
    _put(ws, row, col + 1, "内容", style, bold=True, align=CENTER, fill=GREY)
    row += 1
    for number, text in sorted(sub.footnotes.items(), key=lambda kv: int(re.sub(r"\D", "", kv[0]) or 0)):
        _put(ws, row, col, int(number) if number.isdigit() else number, style, align=CENTER)
        _put(ws, row, col + 1, text or None, style)
        ws.row_dimensions[row].height = 30
        row += 1
    return row


# ---------------------------------------------------------------- checklists

SCOPE_HEADINGS = {
    "医療情報システム全般": "医療情報システム全般について、以下を実施している。",
    "サーバ": "サーバについて、以下を実施している。",
    "端末PC": "端末PCについて、以下を実施している。",
    "ネットワーク機器": "ネットワーク機器について、以下を実施している。",
}
SECTION_LABELS = {"1": "1 体制構築", "2": "2 医療情報システムの管理・運用", "3": "3 インシデント発生に備えた対応"}


def md(iso_date: str, fullwidth: bool = False) -> str:
    if not iso_date:
        return "　/　"
    d = dt.date.fromisoformat(iso_date)
    s = f"{d.month}/{d.day}"
    if fullwidth:
        s = s.translate(str.maketrans("0123456789/", "０１２３４５６７８９／"))
    return s


def combined_first(it: ItemSpec, fullwidth: bool = False) -> str:
    if it.answer_raw:
        return f"{it.answer_raw} (/)"
    if not it.answer:
        return "はい・いいえ (　/　)"
    if fullwidth:
        return f"{it.answer}（{md(it.first_date, True)}）"
    return f"{it.answer} ({md(it.first_date)})"


def combined_target(it: ItemSpec) -> str:
    return f"({md(it.target_date)})" if it.target_date else "(　/　)"


def combined_second(it: ItemSpec) -> str:
    if not it.second_answer:
        return "はい・いいえ (　/　)"
    return f"{it.second_answer} ({md(it.second_date)})"


def _write_checklist(wb: Workbook, sub: Submission, style: XlsxStyle) -> None:
    ws = wb.create_sheet(style.sheet_name)
    cols = _opt_cols(style)
    last_col = max(cols.values())
    widths = {"section": 16, "q": 62, "first": 16, "target": 10, "second": 16, "remark": 30,
              "first_answer": 10, "first_date": 11, "second_answer": 10, "second_date": 11, "num": 6}
    for role, c in cols.items():
        ws.column_dimensions[get_column_letter(c)].width = widths.get(role, 12)
    row = 1
    title_lines = sub.title.split("\n")
    for k, line in enumerate(title_lines):
        cell = _put(ws, row, style.start_col, line, style, bold=True, border=False,
                    align=Alignment(horizontal="center", vertical="center"))
        cell.font = _font(style, True, 14 if k == 0 else 12)
        if style.title_merged:
            ws.merge_cells(start_row=row, start_column=style.start_col, end_row=row, end_column=last_col)
        row += 1
    # 事業者名 (or 医療機関名 on the facility form): the header field of that name, else the vendor.
    who = sub.header_fields.get(style.vendor_label.rstrip("：: "), sub.vendor)
    if style.vendor_pos == "above":
        _put(ws, row, cols["q"], f"{style.vendor_label}{who}", style, border=False)
        row += 1
    fy_label = sub.header_fields.get("年度", "")
    if fy_label:
        ws.cell(row=row, column=style.start_col, value=f"○ {fy_label}中").font = _font(style, True)
        row += 1
    notes = [f"*以下項目は{fy_label}中にすべての項目で「はい」にマルが付くよう取り組んでください。",
             f"*1回目の確認で「いいえ」の場合、{fy_label}中の対応目標日を記入してください。"]
    for n in notes:
        ws.cell(row=row, column=style.start_col, value=n).font = _font(style, size=9)
        row += 1
    row += 1
    labels = {"section": "", "q": "チェック項目", "first": "1回目", "target": "目標日", "second": "2回目",
              "remark": "備考", "num": "No.", "first_answer": "1回目", "first_date": "確認日",
              "target_date": "対応目標日", "second_answer": "2回目", "second_date": "確認日", **style.labels}
    # Two header rows: group label over the result columns.
    result_roles = [r for r in style.columns if r in ("first", "target", "second", "first_answer", "first_date",
                                                      "target_date", "second_answer", "second_date")]
    for role, c in cols.items():
        if role in result_roles:
            continue
        _put(ws, row, c, labels.get(role, ""), style, bold=True, align=CENTER, fill=GREY)
        ws.merge_cells(start_row=row, start_column=c, end_row=row + 1, end_column=c)
    rc = [cols[r] for r in result_roles]
    _put(ws, row, min(rc), style.labels.get("result", "確認結果（日付）"), style, bold=True, align=CENTER, fill=GREY)
    ws.merge_cells(start_row=row, start_column=min(rc), end_row=row, end_column=max(rc))
    for r in result_roles:
        _put(ws, row + 1, cols[r], labels.get(r, r), style, bold=True, align=CENTER, fill=GREY)
    row += 2
    last_scope = None
    section_first_row: dict[str, int] = {}
    for it in sub.items:
        if it.section == "2" and it.scope and it.scope != last_scope and it.scope in SCOPE_HEADINGS:
            _put(ws, row, cols["q"], SCOPE_HEADINGS[it.scope], style, bold=True)
            for role, c in cols.items():
                if role not in ("q", "section"):
                    _put(ws, row, c, None, style)
            if "section" in cols:
                _put(ws, row, cols["section"], None, style)
            section_first_row.setdefault(it.section, row)
            row += 1
            last_scope = it.scope
        section_first_row.setdefault(it.section, row)
        ws.row_dimensions[row].height = 27
        for role, c in cols.items():
            value = _checklist_cell(it, role, style)
            cell = _put(ws, row, c, value, style, align=WRAP if role in ("q", "remark") else CENTER)
            if isinstance(value, dt.date):
                cell.number_format = style.date_format
        row += 1
        section_first_row[f"end{it.section}"] = row - 1
    # Section labels in the first column, merged down their rows.
    if "section" in cols:
        for sec, label in SECTION_LABELS.items():
            if sec in section_first_row:
                r0, r1 = section_first_row[sec], section_first_row[f"end{sec}"]
                _put(ws, r0, cols["section"], label, style, bold=True, align=CENTER)
                if r1 > r0:
                    ws.merge_cells(start_row=r0, start_column=cols["section"], end_row=r1, end_column=cols["section"])
    row += 1
    # コメント box: label in the first column, a merged area beside it.
    _put(ws, row, style.start_col, style.comment_label, style, bold=True)
    _put(ws, row, style.start_col + 1, sub.comment or None, style,
         align=Alignment(wrap_text=True, vertical="top"))
    ws.merge_cells(start_row=row, start_column=style.start_col + 1, end_row=row + 3, end_column=last_col)
    row += 5
    if style.vendor_pos == "below":
        _put(ws, row, cols["q"], f"{style.vendor_label}{who}", style, border=False)
        row += 1
    ws.cell(row=row + 1, column=style.start_col,
            value="● 各項目の考え方や確認方法等については、「医療機関におけるサイバーセキュリティ対策チェックリストマニュアル"
                  "～医療機関・事業者向け～」をご覧ください。").font = _font(style, size=8)
    _fit_landscape(ws)


def _fit_landscape(ws) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0


def _checklist_cell(it: ItemSpec, role: str, style: XlsxStyle):
    if role == "q":
        return it.question if "num" in style.columns else f"{it.number_printed} {it.question}".strip()
    if role == "num":
        return it.number_printed
    if role == "section":
        return "医療情報システムの有無" if it.item_id == "有無" else None
    fw = it.item_id in style.fullwidth_dates
    if role == "first":
        return combined_first(it, fw)
    if role == "target":
        return combined_target(it)
    if role == "second":
        return combined_second(it)
    if role == "first_answer":
        return it.answer or it.answer_raw or None
    if role == "first_date":
        return dt.date.fromisoformat(it.first_date) if it.first_date else None
    if role == "target_date":
        return dt.date.fromisoformat(it.target_date) if it.target_date else None
    if role == "second_answer":
        return it.second_answer or None
    if role == "second_date":
        return dt.date.fromisoformat(it.second_date) if it.second_date else None
    if role == "remark":
        return it.remark or None
    return None


# ---------------------------------------------------------------- entry point

def render_xlsx(sub: Submission, path: Path, style: XlsxStyle) -> Path:
    path = Path(path)
    wb = Workbook()
    wb.remove(wb.active)
    _add_extra_sheets(wb, sub, style)
    ellipses: list[tuple[int, int]] = []
    if sub.family in ("mds", "sds"):
        ellipses = _write_mds(wb, sub, style)
    else:
        _write_checklist(wb, sub, style)
    if style.hidden_sheet:
        hs = wb.create_sheet(style.hidden_sheet)
        hs["A1"] = "社内確認用メモ（提出時非表示）"
        hs["A2"] = "レビュー担当：品質保証部"
        hs.sheet_state = "hidden"
    wb.active = wb.sheetnames.index(style.sheet_name)
    wb.properties.creator = sub.vendor or "user"
    wb.properties.created = dt.datetime(2025, 1, 1, 9, 0, 0)
    wb.properties.modified = dt.datetime(2025, 1, 1, 9, 0, 0)
    wb.save(path)
    if ellipses:
        sheet_index = wb.sheetnames.index(style.sheet_name) + 1
        widths = {}
        ws = wb[style.sheet_name]
        for _, c in ellipses:
            letter = get_column_letter(c)
            widths[c] = ws.column_dimensions[letter].width or 8.43
        inject_ellipses(path, sheet_index, ellipses, widths)
    normalize(path)
    return path


# ---------------------------------------------------------------- ellipse shapes

NS_XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
NS_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
EMU_PER_PX = 9525
EMU_PER_PT = 12700


def _col_width_emu(width_chars: float) -> int:
    px = int(width_chars * 7 + 5)
    return px * EMU_PER_PX


def _drawing_xml(cells: list[tuple[int, int]], widths: dict[int, float]) -> bytes:
    anchors = []
    row_emu = int(ROW_HEIGHT_PT * EMU_PER_PT)
    for k, (row, col) in enumerate(cells, 1):
        col_emu = _col_width_emu(widths[col])
        c0, r0 = col - 1, row - 1
        dx, dy = int(col_emu * 0.12), int(row_emu * 0.15)
        anchors.append(f"""<xdr:twoCellAnchor editAs="oneCell">
<xdr:from><xdr:col>{c0}</xdr:col><xdr:colOff>{dx}</xdr:colOff><xdr:row>{r0}</xdr:row><xdr:rowOff>{dy}</xdr:rowOff></xdr:from>
<xdr:to><xdr:col>{c0}</xdr:col><xdr:colOff>{col_emu - dx}</xdr:colOff><xdr:row>{r0}</xdr:row><xdr:rowOff>{row_emu - dy}</xdr:rowOff></xdr:to>
<xdr:sp macro="" textlink=""><xdr:nvSpPr><xdr:cNvPr id="{k + 1}" name="楕円 {k}"/><xdr:cNvSpPr/></xdr:nvSpPr>
<xdr:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="{col_emu - 2 * dx}" cy="{row_emu - 2 * dy}"/></a:xfrm>
<a:prstGeom prst="ellipse"><a:avLst/></a:prstGeom><a:noFill/>
<a:ln w="19050"><a:solidFill><a:srgbClr val="FF0000"/></a:solidFill></a:ln></xdr:spPr>
<xdr:style><a:lnRef idx="2"><a:schemeClr val="accent1"><a:shade val="50000"/></a:schemeClr></a:lnRef>
<a:fillRef idx="1"><a:schemeClr val="accent1"/></a:fillRef><a:effectRef idx="0"><a:schemeClr val="accent1"/></a:effectRef>
<a:fontRef idx="minor"><a:schemeClr val="lt1"/></a:fontRef></xdr:style>
<xdr:txBody><a:bodyPr vertOverflow="clip" rtlCol="0" anchor="ctr"/><a:lstStyle/><a:p><a:endParaRPr lang="ja-JP"/></a:p></xdr:txBody>
</xdr:sp><xdr:clientData/></xdr:twoCellAnchor>""")
    xml = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           f'<xdr:wsDr xmlns:xdr="{NS_XDR}" xmlns:a="{NS_A}">' + "".join(anchors) + "</xdr:wsDr>")
    return xml.encode("utf-8")


# Elements that must follow <drawing> in a worksheet (CT_Worksheet sequence).
_AFTER_DRAWING = ("legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
                  "webPublishItems", "tableParts", "extLst")


def inject_ellipses(path: Path, sheet_index: int, cells: list[tuple[int, int]], widths: dict[int, float]) -> None:
    """Add a drawing part with one ellipse per cell to sheet `sheet_index` (1-based) of a saved xlsx."""
    sheet_part = f"xl/worksheets/sheet{sheet_index}.xml"
    rels_part = f"xl/worksheets/_rels/sheet{sheet_index}.xml.rels"
    drawing_part = "xl/drawings/drawing1.xml"
    names, entries = read_entries(path)
    if drawing_part in entries:
        raise ValueError("the workbook already has a drawing part")
    # Sheet rels.
    if rels_part in entries:
        rels = etree.fromstring(entries[rels_part])
    else:
        rels = etree.Element(f"{{{NS_PKG_REL}}}Relationships", nsmap={None: NS_PKG_REL})
    rid = "rIdEllipse1"
    etree.SubElement(rels, f"{{{NS_PKG_REL}}}Relationship", Id=rid,
                     Type=f"{NS_R}/drawing", Target="../drawings/drawing1.xml")
    entries[rels_part] = etree.tostring(rels, xml_declaration=True, encoding="UTF-8", standalone=True)
    # <drawing r:id> in the sheet, at its schema position.
    sheet = etree.fromstring(entries[sheet_part])
    drawing = etree.Element(f"{{{NS_MAIN}}}drawing", nsmap={"r": NS_R})
    drawing.set(f"{{{NS_R}}}id", rid)
    after = [el for el in sheet if etree.QName(el).localname in _AFTER_DRAWING]
    if after:
        after[0].addprevious(drawing)
    else:
        sheet.append(drawing)
    entries[sheet_part] = etree.tostring(sheet, xml_declaration=True, encoding="UTF-8", standalone=True)
    # Content type override.
    ct = etree.fromstring(entries["[Content_Types].xml"])
    etree.SubElement(ct, f"{{{NS_CT}}}Override", PartName="/" + drawing_part,
                     ContentType="application/vnd.openxmlformats-officedocument.drawing+xml")
    entries["[Content_Types].xml"] = etree.tostring(ct, xml_declaration=True, encoding="UTF-8", standalone=True)
    entries[drawing_part] = _drawing_xml(cells, widths)
    write_entries(path, names, entries)
