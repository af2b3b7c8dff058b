"""Run formatting (strike, highlight, hidden, symbol font, emphasis) resolved through styles; cell shading."""
from __future__ import annotations

from dataclasses import dataclass

from extractors.readers.docx.ns import W_PPR, W_RPR, W_TCPR, W_VAL, _OFF, _w
from extractors.readers.glyphs import symbol_font


# --- run formatting through styles ------------------------------------------------------------

@dataclass(frozen=True)
class RunFlags:
    strike: bool = False
    highlight: bool = False
    vanish: bool = False
    symbol_font: str = ""  # "wingdings" / "wingdings 2" when the run's font is a symbol font
    emphasis: str = ""  # "bold", "color:FF0000", "underline": how a vendor may pick a word without a mark


def _on(el) -> bool | None:
    """A toggle property: present without w:val (or val true) is on; None when absent."""
    if el is None:
        return None
    return (el.get(W_VAL) or "true").lower() not in _OFF


_T_STRIKE, _T_DSTRIKE, _T_HIGHLIGHT = _w("strike"), _w("dstrike"), _w("highlight")
_T_SHD, _T_VANISH, _T_FONTS = _w("shd"), _w("vanish"), _w("rFonts")
_T_BOLD, _T_COLOR, _T_UNDERLINE = _w("b"), _w("color"), _w("u")
_FONT_ATTRS = tuple(_w(a) for a in ("ascii", "hAnsi", "eastAsia", "cs"))


def _rpr_flags(rpr, base: RunFlags) -> RunFlags:
    """Apply one w:rPr over inherited flags (one pass over its children)."""
    if rpr is None or len(rpr) == 0:
        return base
    strike, highlight, vanish, font = base.strike, base.highlight, base.vanish, base.symbol_font
    emphasis = base.emphasis
    for el in rpr:
        tag = el.tag
        if tag == _T_BOLD:
            emphasis = "bold" if _on(el) else ("" if emphasis == "bold" else emphasis)
        elif tag == _T_COLOR:
            colour = (el.get(W_VAL) or "auto").upper()
            emphasis = f"color:{colour}" if colour not in ("AUTO", "000000") else emphasis
        elif tag == _T_UNDERLINE:
            if (el.get(W_VAL) or "single").lower() != "none":
                emphasis = emphasis or "underline"
        elif tag == _T_STRIKE:
            strike = _on(el)
        elif tag == _T_DSTRIKE:
            strike = strike or _on(el)
        elif tag == _T_HIGHLIGHT:
            highlight = (el.get(W_VAL) or "none").lower() not in _OFF
        elif tag == _T_SHD:
            if _shading_colour(el):
                highlight = True
        elif tag == _T_VANISH:
            vanish = _on(el)
        elif tag == _T_FONTS:
            names = {(el.get(a) or "").lower() for a in _FONT_ATTRS} - {""}
            if names:
                font = next((k for k in map(symbol_font, sorted(names)) if k), "")
    return RunFlags(strike, highlight, vanish, font, emphasis)


def _shading_colour(shd) -> str:
    """RRGGBB of a `w:shd`, or "" when it is no colour (auto/white/clear without fill)."""
    fill = (shd.get(_w("fill")) or "").upper()
    val = (shd.get(W_VAL) or "").lower()
    if val == "solid":
        colour = (shd.get(_w("color")) or "").upper()
        if colour and colour not in ("AUTO", "FFFFFF"):
            return colour
    if fill and fill not in ("AUTO", "FFFFFF", "NONE"):
        return fill
    return ""


class Styles:
    """Resolved run flags of paragraph and character styles (w:basedOn followed)."""

    def __init__(self, root):
        self._el: dict[str, object] = {}
        self._cache: dict[str, RunFlags] = {}
        self._num: dict[str, tuple[str, int] | None] = {}
        self.default = RunFlags()
        if root is None:
            return
        for st in root.iter(_w("style")):
            sid = st.get(_w("styleId"))
            if sid:
                self._el[sid] = st
        rpr_default = root.find(f"{_w('docDefaults')}/{_w('rPrDefault')}/{W_RPR}")
        self.default = _rpr_flags(rpr_default, RunFlags())

    def flags(self, style_id: str | None, depth: int = 0) -> RunFlags:
        if not style_id:
            return self.default
        if style_id in self._cache:
            return self._cache[style_id]
        st = self._el.get(style_id)
        if st is None or depth > 20:
            return self.default
        based = st.find(_w("basedOn"))
        base = self.flags(based.get(W_VAL) if based is not None else None, depth + 1)
        flags = _rpr_flags(st.find(W_RPR), base)
        self._cache[style_id] = flags
        return flags

    def numbering(self, style_id: str | None, depth: int = 0) -> tuple[str, int] | None:
        """(numId, ilvl) a paragraph style gives its paragraphs, if any."""
        if not style_id or depth > 20:
            return None
        if style_id in self._num:
            return self._num[style_id]
        st = self._el.get(style_id)
        result = None
        if st is not None:
            numpr = st.find(f"{W_PPR}/{_w('numPr')}")
            if numpr is not None and numpr.find(_w("numId")) is not None:
                ilvl = numpr.find(_w("ilvl"))
                result = (numpr.find(_w("numId")).get(W_VAL), int(ilvl.get(W_VAL)) if ilvl is not None else 0)
            else:
                based = st.find(_w("basedOn"))
                result = self.numbering(based.get(W_VAL) if based is not None else None, depth + 1)
        self._num[style_id] = result
        return result


def _merge(base: RunFlags, style: RunFlags) -> RunFlags:
    return RunFlags(
        strike=base.strike or style.strike,
        highlight=base.highlight or style.highlight,
        vanish=base.vanish or style.vanish,
        symbol_font=style.symbol_font or base.symbol_font,
        emphasis=base.emphasis or style.emphasis,
    )


def _cell_fill(tc) -> str:
    tcpr = tc.find(W_TCPR)
    shd = tcpr.find(_w("shd")) if tcpr is not None else None
    return _shading_colour(shd) if shd is not None else ""
