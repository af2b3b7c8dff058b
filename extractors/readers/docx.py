"""DOCX reader: Word tables, paragraphs, headers/footers and text boxes into a `Grid`.

python-docx opens the package (parts and relationships); everything else is read from the raw
WordprocessingML with lxml, because python-docx does not see content controls, legacy form fields,
symbol runs, drawn shapes or field codes (see docs: dependencies.md §7).

The body is walked once, in document order:
- every Word table becomes `Table(kind="table", name="表N")`, with `w:gridSpan` / `w:vMerge` /
  `w:gridBefore` resolved so that grid columns line up across rows;
- each run of paragraphs between tables becomes a one-column `Table(kind="text", name="本文N")`,
  one row per non-blank paragraph;
- headers, footers and text boxes (`w:txbxContent`) go to `Grid.loose_text`.

`Cell.merged_into` holds 0-based (row, col) indexes into `Table.rows` of the merge's top-left cell.
"""
from __future__ import annotations

import datetime as dt
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from extractors.grid import CHECKED_BOX, UNCHECKED_BOX, Cell, Grid, Mark, Table
from extractors.model import ExtractionError
from extractors.readers import ziplimits

# --- namespaces -------------------------------------------------------------------------------

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
STRICT_W_NS = "http://purl.oclc.org/ooxml/wordprocessingml/main"
W14_NS = "http://schemas.microsoft.com/office/word/2010/wordml"
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
WP_NS = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
V_NS = "urn:schemas-microsoft-com:vml"
M_NS = "http://schemas.openxmlformats.org/officeDocument/2006/math"

RT_HEADER = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/header"
RT_FOOTER = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer"
RT_STYLES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"
RT_NUMBERING = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/numbering"


def _w(tag: str) -> str:
    return f"{{{W_NS}}}{tag}"


W_P, W_R, W_T, W_TBL, W_TR, W_TC = _w("p"), _w("r"), _w("t"), _w("tbl"), _w("tr"), _w("tc")
W_SDT, W_SDTPR, W_SDTCONTENT, W_SDTENDPR = _w("sdt"), _w("sdtPr"), _w("sdtContent"), _w("sdtEndPr")
W_RPR, W_PPR, W_TCPR, W_TRPR, W_TBLPR = _w("rPr"), _w("pPr"), _w("tcPr"), _w("trPr"), _w("tblPr")
W_VAL = _w("val")
W14_VAL = f"{{{W14_NS}}}val"
MC_ALT, MC_CHOICE, MC_FALLBACK = f"{{{MC_NS}}}AlternateContent", f"{{{MC_NS}}}Choice", f"{{{MC_NS}}}Fallback"
W_TXBX = _w("txbxContent")

# Elements whose content is not displayed text (or is handled elsewhere).
_SKIP = {
    W_PPR, W_RPR, W_TCPR, W_TRPR, W_TBLPR, _w("tblGrid"), W_SDTPR, W_SDTENDPR,
    _w("del"), _w("moveFrom"), _w("delText"), _w("delInstrText"), _w("instrText"),
    _w("bookmarkStart"), _w("bookmarkEnd"), _w("proofErr"), _w("commentRangeStart"),
    _w("commentRangeEnd"), _w("commentReference"), _w("footnoteReference"),
    _w("endnoteReference"), _w("lastRenderedPageBreak"), _w("rt"), _w("rubyPr"),
    _w("sectPr"), _w("fldData"),
}

# Wingdings / Wingdings 2 code points (low byte of the symbol char) that mean a box, a check or a
# circle. Ballot boxes with a tick or an X are checked boxes.
_SYMBOL_FONTS: dict[str, dict[int, str]] = {
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

_OFF = {"0", "false", "off", "none"}
_CIRCLE_ENCLOSURES = set("○◯〇⭕")


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
                font = next((n for n in names if n in _SYMBOL_FONTS), "")
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


# --- list numbering ---------------------------------------------------------------------------

_AIUEO = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲン"
_IROHA = "イロハニホヘトチリヌルヲワカヨタレソツネナラムウヰノオクヤマケフコエテアサキユメミシヱヒモセスン"


def _roman(n: int) -> str:
    out = ""
    for value, sym in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                       (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= value:
            out += sym
            n -= value
    return out


def _letters(n: int) -> str:
    return chr(ord("A") + (n - 1) % 26) * ((n - 1) // 26 + 1)


def _format_number(n: int, fmt: str) -> str | None:
    """Render a list counter; None for bullets and formats that carry no number."""
    if fmt in ("decimal", "decimalZero", ""):
        return f"{n:02d}" if fmt == "decimalZero" else str(n)
    if fmt == "decimalFullWidth" or fmt == "decimalFullWidth2":
        return str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    if fmt == "decimalEnclosedCircle" or fmt == "decimalEnclosedCircleChinese":
        return chr(0x2460 + n - 1) if 1 <= n <= 20 else str(n)
    if fmt in ("decimalEnclosedParen",):
        return f"({n})"
    if fmt == "upperLetter":
        return _letters(n)
    if fmt == "lowerLetter":
        return _letters(n).lower()
    if fmt == "upperRoman":
        return _roman(n)
    if fmt == "lowerRoman":
        return _roman(n).lower()
    if fmt in ("aiueo", "aiueoFullWidth"):
        return _AIUEO[(n - 1) % len(_AIUEO)]
    if fmt in ("iroha", "irohaFullWidth"):
        return _IROHA[(n - 1) % len(_IROHA)]
    return None


@dataclass
class _Level:
    fmt: str = "decimal"
    text: str = ""
    start: int = 1


class Numbering:
    """Renders Word auto-numbers ("12.3.1", "(6)", "①") so that item numbers typed by the list
    engine and not in the text are not lost. Bullets are not rendered (a bullet glyph such as □
    must not read as an unchecked box)."""

    def __init__(self, root):
        self._levels: dict[str, dict[int, _Level]] = {}  # abstractNumId -> levels
        self._num_abstract: dict[str, str] = {}
        self._overrides: dict[str, dict[int, int]] = {}  # numId -> {ilvl: start}
        self._counters: dict[str, dict[int, int]] = {}  # abstractNumId -> {ilvl: value}
        self._started: set[tuple[str, int]] = set()
        if root is None:
            return
        for an in root.iter(_w("abstractNum")):
            levels = {}
            for lvl in an.iter(_w("lvl")):
                ilvl = int(lvl.get(_w("ilvl")) or 0)
                fmt = lvl.find(_w("numFmt"))
                text = lvl.find(_w("lvlText"))
                start = lvl.find(_w("start"))
                levels[ilvl] = _Level(
                    fmt=fmt.get(W_VAL) if fmt is not None else "decimal",
                    text=text.get(W_VAL) if text is not None else "",
                    start=int(start.get(W_VAL)) if start is not None else 1,
                )
            self._levels[an.get(_w("abstractNumId"))] = levels
        for num in root.iter(_w("num")):
            nid = num.get(_w("numId"))
            aid = num.find(_w("abstractNumId"))
            if aid is not None:
                self._num_abstract[nid] = aid.get(W_VAL)
            for ov in num.iter(_w("lvlOverride")):
                so = ov.find(_w("startOverride"))
                if so is not None:
                    self._overrides.setdefault(nid, {})[int(ov.get(_w("ilvl")) or 0)] = int(so.get(W_VAL))

    def label(self, num_id: str, ilvl: int) -> str:
        aid = self._num_abstract.get(num_id)
        levels = self._levels.get(aid or "")
        if not levels or ilvl not in levels or num_id == "0":
            return ""
        counters = self._counters.setdefault(aid, {})
        override = self._overrides.get(num_id, {})
        if ilvl in override and (num_id, ilvl) not in self._started:
            self._started.add((num_id, ilvl))
            counters[ilvl] = override[ilvl]
        elif ilvl in counters:
            counters[ilvl] += 1
        else:
            counters[ilvl] = levels[ilvl].start
        for deeper in [k for k in counters if k > ilvl]:
            del counters[deeper]
        lvl = levels[ilvl]
        if _format_number(1, lvl.fmt) is None:
            return ""

        def repl(m: re.Match) -> str:
            k = int(m.group(1)) - 1
            ref = levels.get(k)
            value = counters.get(k, ref.start if ref else 1)
            return _format_number(value, ref.fmt if ref else "decimal") or ""

        return re.sub(r"%(\d)", repl, lvl.text)


# --- text accumulation ------------------------------------------------------------------------

@dataclass
class _Field:
    kind: str  # checkbox | dropdown | other
    instr: list[str] = field(default_factory=list)
    in_result: bool = False
    suppress: bool = False
    done: bool = False  # emitted its own text already


@dataclass
class TextSink:
    """Accumulates the text and marks of one cell (or one paragraph of the body)."""

    parts: list[str] = field(default_factory=list)
    length: int = 0
    marks: list[Mark] = field(default_factory=list)
    choices: list[str] | None = None
    date: dt.date | None = None
    fields: list[_Field] = field(default_factory=list)
    suppress: int = 0  # > 0 inside a placeholder or hidden content

    def emit(self, text: str, flags: RunFlags | None = None, circle: bool = False, circle_detail: str = ""):
        if not text or self.suppress:
            return
        start = self.length
        self.parts.append(text)
        self.length += len(text)
        if flags is not None and text.strip():
            if flags.strike:
                self._span_mark("strike", start, self.length)
            if flags.highlight:
                self._span_mark("highlight", start, self.length)
            if flags.emphasis:
                self._span_mark("emphasis", start, self.length, flags.emphasis)
        if circle:
            self.marks.append(Mark("circle", span=(start, self.length), detail=circle_detail))

    def _span_mark(self, kind: str, start: int, end: int, detail: str = ""):
        # Word splits one formatted word over several runs: extend a mark that ends where this starts.
        for m in reversed(self.marks):
            if m.kind == kind and m.span is not None:
                if m.span[1] == start and m.detail == detail:
                    m.span = (m.span[0], end)
                    return
                break
        # Emphasis (bold, colour, underline) is weak evidence: the interpreter uses it only to tell options apart.
        self.marks.append(Mark(kind, span=(start, end), confidence=0.7 if kind == "emphasis" else 1.0,
                               detail=detail))

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def add_choices(self, items: list[str]):
        if self.choices is None:
            self.choices = []
        for it in items:
            if it not in self.choices:
                self.choices.append(it)

    def visible(self) -> bool:
        return all(f.in_result and not f.suppress for f in self.fields)


# --- the walker -------------------------------------------------------------------------------

class _Walker:
    def __init__(self, styles: Styles, numbering: Numbering):
        self.styles = styles
        self.numbering = numbering
        self.loose: list[str] = []
        self.pictures = 0  # pictures (not circles) met so far: a pasted ✓ image is no mark we can read

    # Paragraph -----------------------------------------------------------------------------
    def paragraph(self, p, sink: TextSink, shapes: list[Mark]):
        ppr = p.find(W_PPR)
        pstyle = None
        numpr = None
        if ppr is not None:
            ps = ppr.find(_w("pStyle"))
            pstyle = ps.get(W_VAL) if ps is not None else None
            numpr = ppr.find(_w("numPr"))
        base = self.styles.flags(pstyle)
        num = None
        if numpr is not None and numpr.find(_w("numId")) is not None:
            ilvl = numpr.find(_w("ilvl"))
            num = (numpr.find(_w("numId")).get(W_VAL), int(ilvl.get(W_VAL)) if ilvl is not None else 0)
        elif pstyle:
            num = self.styles.numbering(pstyle)
        if num is not None:
            label = self.numbering.label(*num)
            if label:
                sink.emit(label + " ")
        self.inline(p, sink, base, shapes)

    def inline(self, el, sink: TextSink, base: RunFlags, shapes: list[Mark]):
        for child in el:
            tag = child.tag
            if not isinstance(tag, str) or tag in _SKIP:
                continue
            if tag == W_R:
                self.run(child, sink, base, shapes)
            elif tag == W_SDT:
                self.sdt_inline(child, sink, base, shapes)
            elif tag == _w("fldSimple"):
                self.simple_field(child, sink, base, shapes)
            elif tag == W_P:  # paragraphs nested in inline containers (rare)
                self.paragraph(child, sink, shapes)
            elif tag == MC_ALT:
                self.alternate(child, sink, base, shapes)
            elif tag == f"{{{M_NS}}}t":
                sink.emit(child.text or "", base)
            else:
                self.inline(child, sink, base, shapes)

    def run(self, r, sink: TextSink, base: RunFlags, shapes: list[Mark]):
        rpr = r.find(W_RPR)
        flags = base
        if rpr is not None:
            rs = rpr.find(_w("rStyle"))
            if rs is not None:
                flags = _merge(base, self.styles.flags(rs.get(W_VAL)))
            flags = _rpr_flags(rpr, flags)
        for child in r:
            tag = child.tag
            if tag == W_T:
                text = child.text or ""
                if flags.symbol_font:
                    text = "".join(_symbol(flags.symbol_font, ord(ch)) or "" for ch in text)
                if flags.vanish or not sink.visible():
                    continue
                sink.emit(text, flags)
            elif tag == _w("fldChar"):
                self.field_char(child, sink)
            elif tag == _w("instrText"):
                if sink.fields and not sink.fields[-1].in_result:
                    sink.fields[-1].instr.append(child.text or "")
            elif not sink.visible() or flags.vanish:
                continue
            elif tag == _w("tab") or tag == _w("ptab"):
                sink.emit("\t")
            elif tag in (_w("br"), _w("cr")):
                sink.emit("\n")
            elif tag == _w("noBreakHyphen"):
                sink.emit("-", flags)
            elif tag == _w("sym"):
                font = (child.get(_w("font")) or "").lower()
                code = int(child.get(_w("char")) or "0", 16)
                glyph = _symbol(font, code)
                if glyph is None and font not in _SYMBOL_FONTS:
                    # Unicode from a text font; private-use codes of other symbol fonts carry no text.
                    glyph = chr(code) if code >= 0x20 and not 0xE000 <= code <= 0xF8FF else ""
                sink.emit(glyph or "", flags)
            elif tag in (_w("drawing"), _w("pict"), _w("object")):
                self.shape(child, shapes)
            elif tag == MC_ALT:
                self.alternate(child, sink, flags, shapes)
            elif tag == _w("ruby"):
                base_el = child.find(_w("rubyBase"))
                if base_el is not None:
                    self.inline(base_el, sink, flags, shapes)

    def alternate(self, alt, sink: TextSink, flags: RunFlags, shapes: list[Mark]):
        """mc:AlternateContent: read the first Choice (DrawingML), else the Fallback (VML)."""
        chosen = alt.find(MC_CHOICE)
        if chosen is None:
            chosen = alt.find(MC_FALLBACK)
        if chosen is None:
            return
        for child in chosen:
            if child.tag in (_w("drawing"), _w("pict"), _w("object")):
                self.shape(child, shapes)
            elif child.tag == W_R:
                self.run(child, sink, flags, shapes)
            else:
                self.inline(child, sink, flags, shapes)

    # Fields --------------------------------------------------------------------------------
    def field_char(self, fc, sink: TextSink):
        kind = fc.get(_w("fldCharType"))
        if kind == "begin":
            outer_visible = sink.visible()
            ff = fc.find(_w("ffData"))
            f = _Field("other")
            if ff is not None and ff.find(_w("checkBox")) is not None:
                f = _Field("checkbox", suppress=True)
                if outer_visible:
                    sink.emit(CHECKED_BOX if _legacy_checked(ff.find(_w("checkBox"))) else UNCHECKED_BOX)
            elif ff is not None and ff.find(_w("ddList")) is not None:
                f = _Field("dropdown", suppress=True)
                entries, value = _legacy_dropdown(ff.find(_w("ddList")))
                if outer_visible:
                    sink.emit(value)
                    sink.add_choices(entries)
            sink.fields.append(f)
        elif kind == "separate":
            if sink.fields:
                f = sink.fields[-1]
                self._finish_instruction(f, sink)
                f.in_result = True
        elif kind == "end":
            if sink.fields:
                f = sink.fields.pop()
                if not f.in_result:
                    self._finish_instruction(f, sink)

    def _finish_instruction(self, f: _Field, sink: TextSink):
        if f.done or f.kind != "other":
            return
        f.done = True
        enclosed = _parse_enclosure("".join(f.instr))
        if enclosed is None:
            return
        enclosure, word = enclosed
        f.suppress = True  # a cached result would repeat the word
        if all(g.in_result and not g.suppress for g in sink.fields[:-1]):
            sink.emit(word, circle=True, circle_detail=f"囲い文字 {enclosure}")

    def simple_field(self, fs, sink: TextSink, base: RunFlags, shapes: list[Mark]):
        enclosed = _parse_enclosure(fs.get(_w("instr")) or "")
        if enclosed is not None:
            enclosure, word = enclosed
            sink.emit(word, circle=True, circle_detail=f"囲い文字 {enclosure}")
            return
        self.inline(fs, sink, base, shapes)

    # Content controls ----------------------------------------------------------------------
    def sdt_inline(self, sdt, sink: TextSink, base: RunFlags, shapes: list[Mark]):
        pr = sdt.find(W_SDTPR)
        content = sdt.find(W_SDTCONTENT)
        info = _sdt_info(pr)
        if info.checkbox is not None:
            if sink.visible():
                sink.emit(CHECKED_BOX if info.checkbox else UNCHECKED_BOX)
            if content is not None:  # the display glyph is not emitted, but shapes still count
                for d in content.iter(_w("drawing"), _w("pict")):
                    self.shape(d, shapes)
            return
        if info.choices is not None:
            sink.add_choices(info.choices)
        if info.date is not None and sink.date is None and not info.placeholder:
            sink.date = info.date
        if content is None:
            return
        if info.placeholder:
            sink.suppress += 1
        try:
            self.inline(content, sink, base, shapes)
        finally:
            if info.placeholder:
                sink.suppress -= 1

    # Shapes and text boxes -----------------------------------------------------------------
    def shape(self, el, shapes: list[Mark]):
        for geom in el.iter(f"{{{A_NS}}}prstGeom"):
            if geom.get("prst") in ("ellipse", "flowChartConnector"):
                shapes.append(Mark("circle", span=None, detail=_shape_name(el) or "楕円"))
                break
        else:
            for oval in el.iter(f"{{{V_NS}}}oval", f"{{{V_NS}}}shape"):
                if oval.tag == f"{{{V_NS}}}oval" or (oval.get("type") or "").endswith("_x0000_t3"):
                    shapes.append(Mark("circle", span=None, detail=oval.get("alt") or oval.get("id") or "楕円"))
                    break
            else:
                if next(el.iter(f"{{{A_NS}}}blip", f"{{{V_NS}}}imagedata"), None) is not None:
                    self.pictures += 1
        for box in el.iter(W_TXBX):
            text = self.block_text(box)
            if text.strip():
                self.loose.append(text.strip())

    # Blocks ----------------------------------------------------------------------------------
    def block_text(self, container) -> str:
        """Plain text of a container of paragraphs and tables (text box, header, footer)."""
        sink = TextSink()
        shapes: list[Mark] = []
        first = True
        for kind, el in iter_blocks(container):
            if not first:
                sink.emit("\n")
            first = False
            if kind == "p":
                self.paragraph(el, sink, shapes)
            else:
                self.flat_table(el, sink, shapes)
        return sink.text

    def cell_content(self, tc, sink: TextSink, shapes: list[Mark]):
        """Paragraphs of a cell joined by "\\n"; nested tables flattened (cells by tab, rows by newline)."""
        pending_break = False
        for kind, el in iter_blocks(tc):
            before = sink.length
            if pending_break:
                sink.emit("\n")
            mark_at = sink.length
            if kind == "p":
                self.paragraph(el, sink, shapes)
            else:
                self.flat_table(el, sink, shapes)
            if sink.length == mark_at:  # empty block: undo the separator
                _truncate(sink, before)
            else:
                pending_break = True

    def flat_table(self, tbl, sink: TextSink, shapes: list[Mark]):
        any_row = False
        for tr in _iter_rows(tbl):
            row_start = sink.length
            if any_row:
                sink.emit("\n")
            first_cell = True
            for tc, _outer in _iter_cells(tr):
                if not first_cell:
                    sink.emit("\t")
                first_cell = False
                start = sink.length
                self.cell_content(tc, sink, shapes)
                fill = _cell_fill(tc)
                if fill and sink.length > start:
                    sink.marks.append(Mark("fill", span=(start, sink.length), detail=fill))
            if sink.text[row_start:].strip("\t\n"):
                any_row = True
            else:  # an empty row adds nothing
                _truncate(sink, row_start)


def _truncate(sink: TextSink, length: int):
    text = sink.text[:length]
    sink.parts = [text] if text else []
    sink.length = length
    sink.marks = [m for m in sink.marks if m.span is None or m.span[1] <= length]


def _merge(base: RunFlags, style: RunFlags) -> RunFlags:
    return RunFlags(
        strike=base.strike or style.strike,
        highlight=base.highlight or style.highlight,
        vanish=base.vanish or style.vanish,
        symbol_font=style.symbol_font or base.symbol_font,
        emphasis=base.emphasis or style.emphasis,
    )


def _symbol(font: str, code: int) -> str | None:
    table = _SYMBOL_FONTS.get(font)
    if table is None:
        return None
    if code >= 0xF000:
        code -= 0xF000
    return table.get(code)


def _legacy_checked(cb) -> bool:
    for tag in ("checked", "default"):
        el = cb.find(_w(tag))
        if el is not None:
            return (el.get(W_VAL) or "1").lower() not in _OFF
    return False


def _legacy_dropdown(dd) -> tuple[list[str], str]:
    entries = [e.get(W_VAL) or "" for e in dd.findall(_w("listEntry"))]
    idx_el = dd.find(_w("result"))
    if idx_el is None:
        idx_el = dd.find(_w("default"))
    idx = int(idx_el.get(W_VAL) or 0) if idx_el is not None else 0
    value = entries[idx] if 0 <= idx < len(entries) else ""
    return entries, value


_EQ_ENCLOSE = re.compile(r"^\s*eq\s+\\o\s*(?:\\a[clr]\s*)?\(", re.IGNORECASE)


def _parse_enclosure(instr: str) -> tuple[str, str] | None:
    """`eq \\o\\ac(○,は)` (Word's 囲い文字) → ("○", "は"); None for any other field."""
    m = _EQ_ENCLOSE.match(instr)
    if not m:
        return None
    args, depth, cur = [], 0, ""
    for ch in instr[m.end():]:
        if ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0:
                break
            depth -= 1
        if ch == "," and depth == 0:
            args.append(cur)
            cur = ""
        else:
            cur += ch
    args.append(cur)
    if len(args) < 2:
        return None
    parts = [_strip_eq_switches(a) for a in args]
    enclosure = next((p for p in parts if p and set(p) <= (_CIRCLE_ENCLOSURES | set("□◇△"))), "")
    words = [p for p in parts if p and p != enclosure]
    if not enclosure or not words:
        return None
    return enclosure, "".join(words)


def _strip_eq_switches(arg: str) -> str:
    """`\\s\\up 1(は)` → は; removes EQ switches and their brackets."""
    arg = re.sub(r"\\[a-z]+\s*-?\d*", "", arg, flags=re.IGNORECASE)
    return arg.replace("(", "").replace(")", "").strip()


@dataclass
class _SdtInfo:
    checkbox: bool | None = None
    choices: list[str] | None = None
    date: dt.date | None = None
    placeholder: bool = False


def _sdt_info(pr) -> _SdtInfo:
    info = _SdtInfo()
    if pr is None:
        return info
    info.placeholder = pr.find(_w("showingPlcHdr")) is not None and _on(pr.find(_w("showingPlcHdr"))) is not False
    cb = pr.find(f"{{{W14_NS}}}checkbox")
    if cb is not None:
        checked = cb.find(f"{{{W14_NS}}}checked")
        val = checked.get(W14_VAL) if checked is not None else "0"
        info.checkbox = (val or "").lower() in ("1", "true", "on")
        return info
    for tag in ("dropDownList", "comboBox"):
        dd = pr.find(_w(tag))
        if dd is not None:
            info.choices = [li.get(_w("displayText")) or li.get(_w("value")) or "" for li in dd.findall(_w("listItem"))]
            info.choices = [c for c in info.choices if c]
    date = pr.find(_w("date"))
    if date is not None:
        full = date.get(_w("fullDate")) or ""
        try:
            info.date = dt.date.fromisoformat(full[:10]) if full else None
        except ValueError:
            info.date = None
    return info


def _shape_name(el) -> str:
    for pr in el.iter(f"{{{WP_NS}}}docPr"):
        return pr.get("name") or ""
    return ""


def _cell_fill(tc) -> str:
    tcpr = tc.find(W_TCPR)
    shd = tcpr.find(_w("shd")) if tcpr is not None else None
    return _shading_colour(shd) if shd is not None else ""


# --- block and table structure ----------------------------------------------------------------

def iter_blocks(container):
    """Yield ("p", el) / ("tbl", el) in order, looking through block-level content controls,
    custom XML and markup-compatibility wrappers. Placeholder-only block controls are skipped."""
    for child in container:
        tag = child.tag
        if tag == W_P:
            yield "p", child
        elif tag == W_TBL:
            yield "tbl", child
        elif tag == W_SDT:
            content = child.find(W_SDTCONTENT)
            if content is not None and not _sdt_info(child.find(W_SDTPR)).placeholder:
                yield from iter_blocks(content)
        elif tag in (_w("customXml"), _w("ins"), _w("moveTo")):
            yield from iter_blocks(child)
        elif tag == MC_ALT:
            chosen = child.find(MC_CHOICE)
            if chosen is None:
                chosen = child.find(MC_FALLBACK)
            if chosen is not None:
                yield from iter_blocks(chosen)


def _iter_rows(tbl):
    for child in tbl:
        if child.tag == W_TR:
            yield child
        elif child.tag in (W_SDT, _w("customXml")):
            inner = child.find(W_SDTCONTENT) if child.tag == W_SDT else child
            if inner is not None:
                yield from _iter_rows(inner)


def _iter_cells(tr, outer=None):
    """Yield (tc, outer sdtPr or None): cells may sit inside cell-level content controls."""
    for child in tr:
        if child.tag == W_TC:
            yield child, outer
        elif child.tag == W_SDT:
            inner = child.find(W_SDTCONTENT)
            if inner is not None:
                yield from _iter_cells(inner, child.find(W_SDTPR))
        elif child.tag == _w("customXml"):
            yield from _iter_cells(child, outer)


def _int_val(el, default: int) -> int:
    if el is None:
        return default
    try:
        return max(int(el.get(W_VAL) or default), 0)
    except ValueError:
        return default


@dataclass
class _Slot:
    tc: object
    outer: object
    col: int
    span: int
    vmerge: str | None  # None | "restart" | "continue"
    hmerge: str | None


def _row_layout(tr) -> tuple[int, list[_Slot], int]:
    trpr = tr.find(W_TRPR)
    before = _int_val(trpr.find(_w("gridBefore")), 0) if trpr is not None else 0
    after = _int_val(trpr.find(_w("gridAfter")), 0) if trpr is not None else 0
    col = before
    slots = []
    for tc, outer in _iter_cells(tr):
        tcpr = tc.find(W_TCPR)
        span, vm, hm = 1, None, None
        if tcpr is not None:
            span = max(_int_val(tcpr.find(_w("gridSpan")), 1), 1)
            v = tcpr.find(_w("vMerge"))
            if v is not None:
                vm = "restart" if (v.get(W_VAL) or "continue") == "restart" else "continue"
            h = tcpr.find(_w("hMerge"))
            if h is not None:
                hm = "restart" if (h.get(W_VAL) or "continue") == "restart" else "continue"
        slots.append(_Slot(tc, outer, col, span, vm, hm))
        col += span
    return before, slots, col + after


def build_table(tbl, walker: _Walker, name: str) -> Table:
    rows_xml = list(_iter_rows(tbl))
    layouts = [_row_layout(tr) for tr in rows_xml]
    pictures_before = walker.pictures
    grid_cols = tbl.find(_w("tblGrid"))
    n_cols = max([len(grid_cols.findall(_w("gridCol"))) if grid_cols is not None else 0]
                 + [width for _, _, width in layouts] + [0])
    rows: list[list[Cell]] = []
    sinks: dict[tuple[int, int], TextSink] = {}
    warnings: list[str] = []
    for r, (_before, slots, _width) in enumerate(layouts):
        row = [Cell(ref=f"行{r + 1} 列{c + 1}") for c in range(n_cols)]
        rows.append(row)
        for slot in slots:
            c = slot.col
            if c >= n_cols:
                continue
            owner: tuple[int, int] | None = None
            if slot.vmerge == "continue" and r > 0:
                above = rows[r - 1][c]
                owner = above.merged_into if above.merged_into is not None else (r - 1, c)
                top = rows[owner[0]][owner[1]]
                if top.merged_into is not None or owner not in sinks:
                    owner = None
            if owner is None and slot.hmerge == "continue" and c > 0:
                left = row[c - 1]
                owner = left.merged_into if left.merged_into is not None else (r, c - 1)
                if owner not in sinks:
                    owner = None
            if owner is not None:
                _append_continuation(walker, slot.tc, sinks[owner])
                top = rows[owner[0]][owner[1]]
                top.rowspan = max(top.rowspan, r - owner[0] + 1)
                top.colspan = max(top.colspan, c + slot.span - owner[1])
                for k in range(c, min(c + slot.span, n_cols)):
                    row[k].merged_into = owner
                continue
            sink = TextSink()
            shapes: list[Mark] = []
            walker.cell_content(slot.tc, sink, shapes)
            _apply_outer_sdt(slot.outer, sink)
            sinks[(r, c)] = sink
            cell = row[c]
            cell.colspan = min(slot.span, n_cols - c)
            cell.marks.extend(shapes)
            fill = _cell_fill(slot.tc)
            if fill:
                cell.marks.append(Mark("fill", span=None, detail=fill))
            for k in range(c + 1, min(c + slot.span, n_cols)):
                row[k].merged_into = (r, c)
        if slots and slots[-1].col + slots[-1].span > n_cols:
            warnings.append(f"行{r + 1}: 表の列数を超えるセルを無視しました")
    for (r, c), sink in sinks.items():
        cell = rows[r][c]
        text, marks = _finish(sink)
        cell.text = text
        cell.marks = [*marks, *cell.marks]
        cell.choices = sink.choices
        cell.date = sink.date
    # Spans recorded on covered cells must agree with the owner's final extent.
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            if cell.merged_into is not None:
                top = rows[cell.merged_into[0]][cell.merged_into[1]]
                top.rowspan = max(top.rowspan, r - cell.merged_into[0] + 1)
                top.colspan = max(top.colspan, c - cell.merged_into[1] + 1)
    table = Table(name=name, rows=rows, kind="table", warnings=warnings)
    if walker.pictures > pictures_before:
        table.mark_doubt = PICTURE_DOUBT
        table.warnings.append(f"表の中に画像が {walker.pictures - pictures_before} 個あります（印が画像の場合は読み取れません）")
    return table


PICTURE_DOUBT = "表の中に画像が貼り付けられている"


def _append_continuation(walker: _Walker, tc, sink: TextSink):
    """Content Word keeps in a vMerge continuation cell is appended to the merged cell."""
    extra = TextSink()
    shapes: list[Mark] = []
    walker.cell_content(tc, extra, shapes)
    if extra.text.strip():
        offset = sink.length + (1 if sink.length else 0)
        if sink.length:
            sink.emit("\n")
        sink.parts.append(extra.text)
        sink.length += extra.length
        for m in extra.marks:
            sink.marks.append(Mark(m.kind, (m.span[0] + offset, m.span[1] + offset), m.confidence, m.detail)
                              if m.span else m)
    sink.marks.extend(shapes)
    if extra.choices:
        sink.add_choices(extra.choices)
    if sink.date is None:
        sink.date = extra.date


def _apply_outer_sdt(pr, sink: TextSink):
    if pr is None:
        return
    info = _sdt_info(pr)
    if info.choices:
        sink.add_choices(info.choices)
    if info.date is not None and sink.date is None:
        sink.date = info.date


def _finish(sink: TextSink) -> tuple[str, list[Mark]]:
    """Trim trailing white space; keep marks inside the text."""
    text = sink.text
    trimmed = text.rstrip()
    lead = len(trimmed) - len(trimmed.lstrip("\n"))
    trimmed = trimmed[lead:]
    marks = []
    for m in sink.marks:
        if m.span is None:
            marks.append(m)
            continue
        s, e = max(m.span[0] - lead, 0), min(m.span[1] - lead, len(trimmed))
        if e > s:
            marks.append(Mark(m.kind, (s, e), m.confidence, m.detail))
    return trimmed, marks


# --- entry point ------------------------------------------------------------------------------

def _part_root(part):
    el = getattr(part, "element", None)
    if el is not None:
        return el
    return etree.fromstring(part.blob)


def _related(part, reltype: str):
    for rel in part.rels.values():
        if rel.reltype == reltype and not rel.is_external:
            return rel.target_part
    return None


def _open_package(path: Path):
    from docx.opc.exceptions import PackageNotFoundError
    from docx.opc.package import OpcPackage

    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ExtractionError(
            f"{path.name}: 暗号化（パスワード保護）された Word ファイル、または旧形式 .doc のため読めません。",
            kind="encrypted")
    if not head.startswith(b"PK"):
        raise ExtractionError(f"{path.name}: Word (DOCX) ファイルとして読めません（ファイルが壊れている可能性があります）。",
                              kind="corrupt")
    _refuse_oversized(path)
    try:
        pkg = OpcPackage.open(str(path))
        main = pkg.main_document_part
    except KeyError as exc:
        if _is_strict(path):
            raise ExtractionError(
                f"{path.name}: Strict Open XML 形式の Word 文書には対応していません。"
                "Word で通常の「Word 文書 (*.docx)」として保存し直してください。", kind="unsupported") from exc
        raise ExtractionError(f"{path.name}: Word (DOCX) ファイルとして読めません（本文がありません）。",
                              kind="corrupt") from exc
    except (PackageNotFoundError, ValueError, etree.XMLSyntaxError, OSError) as exc:
        raise ExtractionError(f"{path.name}: Word (DOCX) ファイルとして読めません（{type(exc).__name__}）。",
                              kind="corrupt") from exc
    except Exception as exc:  # zipfile.BadZipFile and friends
        raise ExtractionError(f"{path.name}: Word (DOCX) ファイルとして読めません（{type(exc).__name__}）。",
                              kind="corrupt") from exc
    return pkg, main


def _is_strict(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            return b"purl.oclc.org/ooxml" in zf.read("_rels/.rels")
    except (KeyError, zipfile.BadZipFile, OSError):
        return False


def _refuse_oversized(path: Path):
    """A zip that inflates beyond what any form needs (a zip bomb, or embedded video) is refused."""
    ziplimits.check_package(path, "Word", f"{path.name}: Word (DOCX) ファイルとして読めません（ZIP が壊れています）。")


def read_docx(path: Path | str) -> Grid:
    """Read a .docx (or .docm/.dotx) into a Grid. Raises ExtractionError for unreadable files."""
    path = Path(path)
    pkg, main = _open_package(path)
    try:
        root = _part_root(main)
    except etree.XMLSyntaxError as exc:
        raise ExtractionError(f"{path.name}: 本文の XML が壊れています。", kind="corrupt") from exc
    body = root.find(_w("body"))
    if body is None and STRICT_W_NS in str(root.tag):
        raise ExtractionError(
            f"{path.name}: Strict Open XML 形式の Word 文書には対応していません。"
            "Word で通常の「Word 文書 (*.docx)」として保存し直してください。", kind="unsupported")
    if body is None:
        raise ExtractionError(f"{path.name}: Word 文書の本文が見つかりません。", kind="corrupt")

    styles_part = _related(main, RT_STYLES)
    numbering_part = _related(main, RT_NUMBERING)
    walker = _Walker(Styles(_part_root(styles_part) if styles_part is not None else None),
                     Numbering(_part_root(numbering_part) if numbering_part is not None else None))

    tables: list[Table] = []
    loose: list[str] = []
    n_tbl = n_text = 0
    text_rows: list[list[Cell]] = []

    def flush_text():
        nonlocal n_text, text_rows
        if text_rows:
            n_text += 1
            for i, row in enumerate(text_rows):
                row[0].ref = f"行{i + 1} 列1"
            tables.append(Table(name=f"本文{n_text}", rows=text_rows, kind="text"))
        text_rows = []

    fields_carry: list[_Field] = []  # complex fields may span body paragraphs
    for kind, el in iter_blocks(body):
        if kind == "tbl":
            flush_text()
            n_tbl += 1
            tables.append(build_table(el, walker, f"表{n_tbl}"))
            continue
        sink = TextSink(fields=fields_carry)
        shapes: list[Mark] = []
        walker.paragraph(el, sink, shapes)
        fields_carry = sink.fields
        text, marks = _finish(sink)
        cell = Cell(text=text, marks=[*marks, *shapes], choices=sink.choices, date=sink.date)
        if not cell.is_blank:
            text_rows.append([cell])
    flush_text()

    # Headers and footers, in part-name order (header1, header2, …, footer1, …).
    seen = set()
    hf_parts = []
    for rel in main.rels.values():
        if rel.reltype in (RT_HEADER, RT_FOOTER) and not rel.is_external:
            part = rel.target_part
            if part.partname not in seen:
                seen.add(part.partname)
                hf_parts.append(part)
    hf_parts.sort(key=lambda p: (0 if "header" in str(p.partname) else 1, _natural(str(p.partname))))
    hf_texts = []
    for part in hf_parts:
        text = walker.block_text(_part_root(part)).strip()
        if text and text not in hf_texts:
            hf_texts.append(text)
    loose.extend(hf_texts)
    for text in walker.loose:
        if text not in loose:
            loose.append(text)

    return Grid(source=path.name, format="docx", tables=tables, loose_text=loose)


def _natural(s: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]
