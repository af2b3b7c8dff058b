"""Cell text as Excel shows it (numbers, dates, Japanese eras) and rich-text runs (strikes, emphasis)."""
from __future__ import annotations

import datetime as dt
import re

from openpyxl.cell.rich_text import CellRichText, TextBlock

from extractors.grid import Cell, Mark
from extractors.readers.glyphs import decode_text, symbol_font
from extractors.readers.xlsx.geometry import Palette, fill_colour

# --------------------------------------------------------------------------- cell text

def display_text(value, number_format: str = "General") -> tuple[str, dt.date | None]:
    """The value as Excel shows it, roughly, and the date when it is a date."""
    if value is None:
        return "", None
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE"), None
    if isinstance(value, dt.datetime):
        return format_date(value.date(), number_format), value.date()
    if isinstance(value, dt.date):
        return format_date(value, number_format), value
    if isinstance(value, dt.time):
        return value.strftime("%H:%M"), None
    if isinstance(value, int):
        return str(value), None
    if isinstance(value, float):
        fmt = number_format or ""
        if fmt.endswith("%"):
            return f"{value * 100:.10g}%", None
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value)), None
        return f"{value:.15g}", None
    return str(value), None


_ERAS = [(dt.date(2019, 5, 1), "令和"), (dt.date(1989, 1, 8), "平成"), (dt.date(1926, 12, 25), "昭和")]


def format_date(d: dt.date, number_format: str) -> str:
    fmt = re.sub(r'"[^"]*"|\[[^\]]*\]', lambda m: m.group(0) if "年" in m.group(0) else "", number_format or "")
    low = fmt.lower()
    if "g" in low and "e" in low:  # Japanese era: ggge年m月d日
        for start, era in _ERAS:
            if d >= start:
                return f"{era}{d.year - start.year + 1}年{d.month}月{d.day}日"
    if "年" in fmt:
        return f"{d.year}年{d.month}月{d.day}日" if "y" in low or "e" in low else f"{d.month}月{d.day}日"
    if "y" in low:
        return f"{d.year}/{d.month}/{d.day}"
    if "m" in low and "d" in low:
        return f"{d.month}/{d.day}"
    return d.isoformat()


def rich_text_and_strikes(value: CellRichText, cell_strike: bool) -> tuple[str, list[tuple[int, int]]]:
    """Concatenate rich-text runs; spans of struck runs (plain runs inherit the cell font)."""
    text, spans, _ = rich_text_marks(value, cell_strike)
    return text, spans


def _run_emphasis(font) -> str:
    """「bold」 / 「color:FF0000」 / 「underline」 for a rich-text run set apart from plain text."""
    if font is None:
        return ""
    if font.b:
        return "bold"
    rgb = getattr(getattr(font, "color", None), "rgb", None)
    if isinstance(rgb, str) and rgb[-6:].upper() not in ("000000",):
        return f"color:{rgb[-6:].upper()}"
    if font.u:
        return "underline"
    return ""


def rich_text_marks(value: CellRichText, cell_strike: bool, cell_symbol_font: str = ""
                    ) -> tuple[str, list[tuple[int, int]], list[tuple[int, int, str]]]:
    """Text, struck spans, and emphasised spans (bold / coloured / underlined runs) of a rich-text cell.
    Runs in a symbol font (their own, else the cell's `cell_symbol_font`) are decoded to the glyphs they show."""
    text, spans, emphasis = "", [], []
    for run in value:
        if isinstance(run, TextBlock):
            part = run.text or ""
            strike = run.font.strike if run.font is not None and run.font.strike is not None else cell_strike
            emph = _run_emphasis(run.font)
            own_font = run.font.rFont if run.font is not None else None
            part = decode_text(symbol_font(own_font) if own_font else cell_symbol_font, part)
        else:
            part, strike, emph = decode_text(cell_symbol_font, str(run)), cell_strike, ""
        start = len(text)
        if strike and part.strip():
            if spans and spans[-1][1] == start:
                spans[-1] = (spans[-1][0], start + len(part))
            else:
                spans.append((start, start + len(part)))
        if emph and part.strip():
            emphasis.append((start, start + len(part), emph))
        text += part
    return text, spans, emphasis


def _cell_text(cell) -> tuple[str, dt.date | None]:
    value = cell.value
    if isinstance(value, CellRichText):
        return rich_text_and_strikes(value, False)[0], None
    return display_text(value, cell.number_format)


def _fill_cell(out: Cell, cell, palette: Palette) -> None:
    font_strike = bool(cell.font is not None and cell.font.strike)
    font = symbol_font(cell.font.name if cell.font is not None else "")  # a check typed in Wingdings
    value = cell.value
    if isinstance(value, CellRichText):
        out.text, spans, emphasis = rich_text_marks(value, font_strike, font)
        out.marks.extend(Mark("strike", span) for span in spans)
        out.marks.extend(Mark("emphasis", (a, b), confidence=0.7, detail=how) for a, b, how in emphasis)
    else:
        out.text, out.date = display_text(value, cell.number_format)
        if font and isinstance(value, str):
            out.text = decode_text(font, out.text)
        if font_strike and out.text.strip():
            out.marks.append(Mark("strike", (0, len(out.text))))
    colour = fill_colour(cell, palette)
    if colour:
        out.marks.append(Mark("fill", None, 1.0, colour))
