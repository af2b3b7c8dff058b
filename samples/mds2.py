"""MDS2 samples (NEMA HN 1-2019 layout) with fictional manufacturers: `python -m samples.build --out DIR --only mds2`.

The sheet `mds2-form` as NEMA lays it out: a title, the column header (Question ID, Question, answer, See note,
the IEC/NIST/ISO mapping columns), DOC-1 … DOC-11.4, the answer-column header 「Yes, No, N/A, or See Note」,
each section's heading and description rows, the question rows, an OTHR block and the notes table
(`Note 1` …). Answers are fused with words (「Yes, optional」, 「No: hardware appliance」) or point to notes
(「See Note 2」 in the note column, 「See Note」 as the answer). Question wording is our own paraphrase.
The files are built on request only (the default sample inbox and its counts do not change).
"""
from __future__ import annotations

from pathlib import Path

from extractors.forms import get_form
from samples.spec import NA, NO, YES, ItemSpec, Submission

WORD = {YES: "Yes", NO: "No", NA: "N/A"}
MAPPING_HEADS = ("IEC TR 80001-2-2:2012", "NIST SP 800-53 Rev. 4", "ISO 27002:2013")


def _question(text: str) -> str:
    return text[0].upper() + text[1:] + "?"


def _items(overrides: dict[str, tuple], no_parents: set[str]) -> list[ItemSpec]:
    """Every catalogued ID: Yes by default, N/A under a parent answered No, then the overrides
    (id → (answer, printed answer, note refs, remark, needs_review, printed id))."""
    form = get_form("nema-mds2-2019")
    items = []
    for cat in form.items:
        answer = YES
        if any(cat.id.startswith(p + ".") for p in no_parents) or any(g in no_parents for g, _ in cat.requires):
            answer = NA
        if cat.id in no_parents:
            answer = NO
        spec = ItemSpec(item_id=cat.id, number_printed=cat.id, question=_question(cat.text), answer=answer,
                        section=cat.section, answer_raw=WORD[answer], needs_review=False)
        if cat.id in overrides:
            ans, raw, refs, remark, review, printed = overrides[cat.id]
            spec.answer, spec.answer_raw, spec.remark_ref, spec.remark = ans, raw, refs, remark
            spec.answer_status = "answered" if ans else "unanswered"
            spec.needs_review, spec.number_printed = review, printed or cat.id
        items.append(spec)
    return items


NOTES_KESTREL = {
    "1": "Data flow diagram is provided in the network integration guide, chapter 3.",
    "2": "Service engineers connect through the vendor gateway; sessions are recorded on the gateway only.",
    "3": "Hardening is checked against the vendor's internal baseline before each release.",
}


def kestrel() -> Submission:
    """Findings planted: MFA only optional, SBOM-1 No with SBOM-2 Yes, remote service Yes with remote-session
    logging No, a 「See Note」 answer, a misspelt ID."""
    overrides = {
        "DOC-10": ("", "", "1", NOTES_KESTREL["1"], True, ""),
        "PAUT-8": (YES, "Yes, optional", "", "optional", False, ""),
        "SBOM-1": (NO, "No", "", "", False, ""),
        "SBOM-2": (YES, "Yes", "", "", False, ""),
        "RMOT-1": (YES, "Yes", "2", NOTES_KESTREL["2"], False, ""),
        "AUDT-2.8.1": (NO, "No", "", "", False, ""),
        "PLOK-1": (NO, "No: hardware appliance", "", "hardware appliance", False, ""),
        "SAHD-16": ("", "See Note", "3", NOTES_KESTREL["3"], True, ""),
        "SAHD-15": (YES, "Yes", "", "", True, "SHDA-15"),
    }
    return Submission(
        file="Kestrel_KX700_MDS2.xlsx", convention="mds2: NEMA HN 1-2019 worksheet, fused answers, notes",
        family="mds2", form_id="nema-mds2-2019", form_version="HN 1-2019",
        vendor="Kestrel Imaging Systems, Inc.", vendor_key="kestrel", product="KX-700 Portable X-ray Detector",
        product_version="KX-700 (firmware 4.2)", created="2025-06-12",
        items=_items(overrides, {"DOC-11", "CSUP-4", "SBOM-1"}), footnotes=dict(NOTES_KESTREL),
        planted=[{"category": "option_dependent", "item_ids": ["PAUT-8"], "note": "MFA optional"},
                 {"category": "inconsistency", "item_ids": ["SBOM-1", "SBOM-2"], "note": "parent No, child Yes"},
                 {"category": "inconsistency", "item_ids": ["RMOT-1", "AUDT-2.8.1"],
                  "note": "remote service without session logging"}],
    )


NOTES_LARKSPUR = {"1": "Network diagram available from the support portal on request by the facility."}


def larkspur() -> Submission:
    """A clean control: consistent answers, one note referenced."""
    overrides = {"DOC-10": (YES, "Yes", "1", NOTES_LARKSPUR["1"], False, "")}
    return Submission(
        file="Larkspur_BedsideMonitor_MDS2.xlsx", convention="mds2: clean NEMA HN 1-2019 worksheet",
        family="mds2", form_id="nema-mds2-2019", form_version="HN 1-2019",
        vendor="Larkspur Patient Monitoring Co.", vendor_key="larkspur", product="LPM-20 Bedside Monitor",
        product_version="LPM-20 rev C", created="2025-03-04",
        items=_items(overrides, {"DOC-11", "CSUP-4"}), footnotes=dict(NOTES_LARKSPUR),
    )


def submissions() -> list[Submission]:
    return [kestrel(), larkspur()]


SECTION_ORDER = ("MPII", "ALOF", "AUDT", "AUTH", "CSUP", "DIDT", "DTBK", "EMRG", "IGAU", "MLDP", "NAUT", "CONN",
                 "PAUT", "PLOK", "RDMP", "SBOM", "SAHD", "SGUD", "STCF", "TXCF", "TXIG", "RMOT")


def render_xlsx(sub: Submission, path: Path, print_columns: str = "D", orientation: str = "landscape") -> Path:
    """`print_columns`: the last column printed (「D」 as NEMA sets it; 「G」 prints the mapping columns too)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    from extractors.mds2 import _catalogue_data

    sections = _catalogue_data()["sections"]
    wb = Workbook()
    ws = wb.active
    ws.title = "mds2-form"
    for col, width in zip("ABCDEFG", (14, 60, 22, 12, 18, 18, 18)):
        ws.column_dimensions[col].width = width
    wrap = Alignment(wrap_text=True, vertical="bottom")
    ws.append(["Manufacturer Disclosure Statement for Medical Device Security -- MDS2"])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([])
    ws.append(["Question ID", "Question", None, "See note", *MAPPING_HEADS])
    header = {"DOC-1": ("Manufacturer Name", sub.vendor), "DOC-2": ("Device Description", sub.product),
              "DOC-3": ("Device Model", sub.product_version), "DOC-4": ("Document ID", f"{sub.vendor_key.upper()}-MDS2-01"),
              "DOC-5": ("Manufacturer Contact Information", f"psirt@{sub.vendor_key}.example"),
              "DOC-6": ("Intended use of device in network-connected environment:", "Sends results to the facility's clinical systems"),
              "DOC-7": ("Document Release Date", sub.created)}
    for key, (label, value) in header.items():
        ws.append([key, label, value, "__"])
        for cell in ws[ws.max_row][:4]:
            cell.alignment = wrap
    by_section: dict[str, list[ItemSpec]] = {}
    for item in sub.items:
        by_section.setdefault(item.section, []).append(item)

    def put(item: ItemSpec) -> None:
        note = f"See Note {item.remark_ref}" if item.remark_ref else "__"
        ws.append([item.number_printed, item.question, item.answer_raw, note,
                   f"Section 5, {item.section}", "AC-3", "A.9.1.1, A.9.4.1"])
        for cell in ws[ws.max_row][:4]:
            cell.alignment = wrap

    for item in by_section.get("DOC", []):
        put(item)
    ws.append([])
    ws.append([None, None, "Yes, No, \nN/A, or \nSee Note", "Note #"])
    for code in SECTION_ORDER:
        ws.append([])
        ws.append([None, f"{sections[code]['title'].upper()} ({code})", None, None, *MAPPING_HEADS])
        ws.append([None, f"What the device offers for {sections[code]['title'].lower()}."])
        for item in by_section.get(code, []):
            put(item)
    ws.append([])
    ws.append([None, "OTHER SECURITY CONSIDERATIONS (OTHR)"])
    ws.append([None, "NONE"])
    ws.append([])
    ws.append([None, "Notes:"])
    for number, text in sub.footnotes.items():
        ws.append([f"Note {number}", text])
        ws.cell(ws.max_row, 2).alignment = wrap
    widths = {"A": 14, "B": 60, "C": 22, "D": 12}
    for row in ws.iter_rows(min_row=3, max_col=4):
        lines = max((-(-len(str(c.value)) * 11 // (widths[c.column_letter] * 10)) for c in row if c.value), default=1)
        ws.row_dimensions[row[0].row].height = 15 * max(1, lines)  # LibreOffice keeps the height it is given
    ws.print_area = f"A1:{print_columns}{ws.max_row}"
    ws.page_setup.orientation = orientation
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    wb.save(path)
    return path


HN2013_SECTIONS = (("ADMINISTRATIVE DATA", "A", 0), ("AUTOMATIC LOGOFF (ALOF)", "1", 3), ("AUDIT CONTROLS (AUDT)", "2", 2),
                   ("CONFIGURATION OF SECURITY FEATURES (CNFS)", "4", 1))


def render_hn2013(path: Path) -> tuple[Path, dict]:
    """An older HIMSS/NEMA HN 1-2013 worksheet (header labels over values, numbered questions 1-1, 1-2 …, the CNFS
    section) of a fictional maker: recognised as HN 1-2013, its header read, every row flagged, never read as the
    2019 form."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "MDS2"
    ws.append(["Manufacturer Disclosure Statement for Medical Device Security – MDS2"])
    ws.append(["Device Category", "Manufacturer", "Document ID", "Document Release Date"])
    ws.append(["Dialysis system", "Quillon Renal Care Corp.", "QRC-MDS2-7", "2017-03-15"])
    ws.append(["Device Model", "Software Revision", "Software Release Date"])
    ws.append(["QRC-5008 Dialysis Station", "3.4.1", "2016-12-01"])
    ws.append(["HIMSS/NEMA HN 1-2013"])
    items = []
    for title, number, count in HN2013_SECTIONS:
        ws.append([None, title])
        rows = [("A", "Own wording: can the device hold private data?", YES)] if number == "A" else [
            (f"{number}-{k}", f"Own wording for an older {title.split(' (')[0].lower()} question {k}?",
             (YES, NO, NA)[(k + int(number)) % 3]) for k in range(1, count + 1)]
        for item_id, question, answer in rows:
            ws.append([item_id, question, WORD[answer], "__"])
            items.append({"item_id": item_id, "number_printed": item_id, "question": question, "answer": answer,
                          "answer_status": "answered", "answer_raw": WORD[answer], "remark": "", "remark_ref": "",
                          "section": "", "needs_review": True})
    wb.save(path)
    truth = {"file": path.name, "convention": "mds2: HIMSS/NEMA HN 1-2013 worksheet (recognised, rows flagged)",
             "family": "mds2", "form_id": "nema-mds2-2013", "form_version": "HN 1-2013",
             "vendor": "Quillon Renal Care Corp.", "vendor_key": "quillon", "product": "QRC-5008 Dialysis Station",
             "product_version": "3.4.1", "created": "2017-03-15", "comment": "",
             "header_fields": {"Manufacturer": "Quillon Renal Care Corp.", "Document Release Date": "2017-03-15",
                               "Device Model": "QRC-5008 Dialysis Station", "Software Revision": "3.4.1"},
             "footnotes": {}, "items": items, "planted": [], "expect_failure": None}
    return path, truth


def build_mds2(out: Path, pdf: bool = True) -> list[tuple[Path, dict]]:
    """Write each MDS2 sample as XLSX and (when LibreOffice is there) its landscape, fit-to-width PDF print."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for sub in submissions():
        path = render_xlsx(sub, out / sub.file)
        written.append((path, sub.truth()))
        if pdf:
            from samples.metamorphic_writers import print_pdf, soffice_binary

            if soffice_binary():
                printed = print_pdf(path, out / f"{path.stem}.pdf")
                truth = sub.truth() | {"file": printed.name, "convention": sub.convention + " (PDF print)"}
                written.append((printed, truth))
    return written
