"""Symbol-font glyphs (Wingdings, Wingdings 2) decoded once, for every reader.

A box, a check or a circle typed in a symbol font is stored as the font's code point: a Latin-1 letter
(þ, ü, ¨, n…), its private-use twin U+F0xx (Word's `w:sym`, some PDF exports), or a bare glyph code in a
PDF without a Unicode map ("(cid:254)"). Only the font makes it ☑ or ✓. The Word reader (symbol runs
and `w:sym`), the Excel reader (cells and rich-text runs in a symbol font) and the PDF reader (characters
of an embedded symbol font) all decode through `SYMBOL_FONTS` here.

What a symbol font draws at a code we do not know is a picture, not text: it decodes to "". Characters
outside Latin-1 and the private-use area are drawn by a fallback font (a Japanese word in a run whose
Latin font is Wingdings) and are kept as they are, as is white space.
"""
from __future__ import annotations

import re
from functools import lru_cache

from extractors.grid import CHECKED_BOX, UNCHECKED_BOX

# Wingdings / Wingdings 2 code points (low byte of the symbol char) that mean a box, a check or a
# circle. Ballot boxes with a tick or an X are checked boxes.
SYMBOL_FONTS: dict[str, dict[int, str]] = {
    "wingdings": {
        0xFE: CHECKED_BOX, 0xFD: CHECKED_BOX, 0x78: CHECKED_BOX,  # ☑ ☒ ⌧
        0xA8: UNCHECKED_BOX, 0x6F: UNCHECKED_BOX, 0x71: UNCHECKED_BOX, 0x72: UNCHECKED_BOX,  # ◻ □ ❑ ❒
        0x6E: "■", 0xA7: "■",
        0x6C: "●", 0x9F: "●", 0x6D: "○", 0xA1: "○", 0xA2: "○", 0xA4: "●", 0xA5: "◎",
        0xFC: "✓", 0xFB: "✗",
    },
    "wingdings 2": {
        0x52: CHECKED_BOX, 0x53: CHECKED_BOX, 0x54: CHECKED_BOX, 0x51: CHECKED_BOX,  # ☑ ☒
        0xA3: UNCHECKED_BOX, 0x2A: UNCHECKED_BOX,  # □
        0x50: "✓", 0x4F: "✗",
        0x98: "○", 0x99: "○", 0x9A: "●", 0x9B: "●",
    },
}

# "Wingdings", "wingdings 2", "Wingdings2", "ABCDEF+Wingdings-Regular", "Wingdings,Bold".
_FONT_NAME = re.compile(r"(?:[a-z]{6}\+)?wingdings(?:[\s_-]*([23]))?(?![a-z0-9])")
_CID = re.compile(r"^\(cid:(\d+)\)$")


@lru_cache(maxsize=256)
def symbol_font(name: str | None) -> str:
    """The `SYMBOL_FONTS` key of a font name, or "" when it is not a symbol font we decode (asked for every
    character, of the few font names a document uses)."""
    m = _FONT_NAME.match((name or "").strip().lower())
    if not m:
        return ""
    key = f"wingdings {m.group(1)}" if m.group(1) else "wingdings"
    return key if key in SYMBOL_FONTS else ""


def symbol_glyph(font: str, code: int) -> str | None:
    """The glyph a symbol font draws at `code` (U+F0xx or its low byte); None when unknown or not a symbol font."""
    table = SYMBOL_FONTS.get(font)
    if table is None:
        return None
    if code >= 0xF000:
        code -= 0xF000
    return table.get(code)


def _drawn_by_symbol_font(code: int) -> bool:
    return code < 0x100 or 0xF000 <= code <= 0xF0FF


def decode_text(font: str, text: str) -> str:
    """Text typed in symbol font `font` (a `SYMBOL_FONTS` key) as the glyphs it shows."""
    if not font:
        return text
    out = []
    for ch in text:
        glyph = symbol_glyph(font, ord(ch))
        if glyph is None:  # a space stays a space; an unknown symbol is a picture
            glyph = ch if ch.isspace() or not _drawn_by_symbol_font(ord(ch)) else ""
        out.append(glyph)
    return "".join(out)


def decode_pdf_chars(chars: list[dict]) -> list[dict]:
    """pdfplumber characters of a symbol font as the glyphs they show ("(cid:N)" included); characters
    that draw an unknown symbol are dropped. Other characters are returned untouched."""
    out = []
    for c in chars:
        font = symbol_font(c.get("fontname"))
        if not font:
            out.append(c)
            continue
        text = c.get("text") or ""
        cid = _CID.match(text)
        if cid:
            code = int(cid.group(1))
            glyph = symbol_glyph(font, code) or ("" if _drawn_by_symbol_font(code) else text)
        else:
            glyph = decode_text(font, text)
        if glyph:
            out.append(c if glyph == text else {**c, "text": glyph})
    return out
