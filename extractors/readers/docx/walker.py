"""Walks paragraphs, runs, fields, content controls, shapes and text boxes into `TextSink`s."""
from __future__ import annotations

from extractors.grid import CHECKED_BOX, UNCHECKED_BOX, Mark
from extractors.readers.docx.fields import _Field, _legacy_checked, _legacy_dropdown, _parse_enclosure, _sdt_info
from extractors.readers.docx.ns import (
    A_NS, M_NS, MC_ALT, MC_CHOICE, MC_FALLBACK, V_NS, W_P, W_PPR, W_R, W_RPR, W_SDT, W_SDTCONTENT, W_SDTPR,
    W_T, W_TXBX, W_VAL, WP_NS, _SKIP, _w,
)
from extractors.readers.docx.numbering import Numbering
from extractors.readers.docx.sink import TextSink, _truncate
from extractors.readers.docx.styles import RunFlags, Styles, _cell_fill, _merge, _rpr_flags
from extractors.readers.docx.tables import _iter_cells, _iter_rows, iter_blocks
from extractors.readers.glyphs import decode_text, symbol_font, symbol_glyph


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
                    text = decode_text(flags.symbol_font, text)
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
                font = symbol_font(child.get(_w("font")))
                code = int(child.get(_w("char")) or "0", 16)
                glyph = symbol_glyph(font, code)
                if glyph is None and not font:
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


def _shape_name(el) -> str:
    for pr in el.iter(f"{{{WP_NS}}}docPr"):
        return pr.get("name") or ""
    return ""
