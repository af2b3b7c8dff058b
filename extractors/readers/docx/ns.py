"""WordprocessingML namespaces, relationship types and the element tags the reader looks at."""
from __future__ import annotations


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

_OFF = {"0", "false", "off", "none"}
