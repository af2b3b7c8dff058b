"""NEMA MDS2 (Manufacturer Disclosure Statement for Medical Device Security, ANSI/NEMA HN 1-2019).

The form is one worksheet: the question ID (`DOC-1`, `PAUT-8`, `SBOM-2.1`), the question, the answer
(`Yes` / `No` / `N/A` / `See Note`, or an answer followed by words: 「Yes, optional」), the note number
(`__` when none), mapping columns, and a notes table (`Note 1` … `Note n`) at the end. DOC-1 … DOC-7 are
header fields (manufacturer, device, model, …, release date), not items.

`detect_mds2(grid)` says whether a Grid is an MDS2 and which edition; `read_mds2(grid, sha256)` turns it
into a Document. Rows come from the Grid's tables (a sheet's rows) or, for a PDF print, from the words'
positions (`extractors.mds2_pdf`). The older HN 1-2013 form has other IDs: it is recognised and its
rows are kept unknown and flagged, never read as the 2019 form.
"""
from __future__ import annotations

import functools
import re

from extractors.forms import CATALOGUE_DIR, Form, get_form, missing_catalogue_items
from extractors.grid import Grid
from extractors.mds2_rows import (
    ID_2013_RE,
    ID_RE,
    VERSION_2013,
    VERSION_2019,
    Row,
    sheet_rows,
)
from extractors.model import Document, ExtractionError, Item, Location, enforce_review, flag
from extractors.text import normalize_text, parse_date
from extractors.vocabulary import ENGLISH
from extractors.yamlfile import load_yaml

FORM_2019, FORM_2013 = "nema-mds2-2019", "nema-mds2-2013"
TITLE_RE = re.compile(r"Manufacturer\s+Disclosure\s+Statement|\bMDS2\b|\bMDS²")
HN2013_RE = re.compile(r"HN\s*1\s*-\s*2013|HIMSS\s*/?\s*NEMA", re.I)
# A section code only the 2013 form has (CNFS, configuration of security features).
CODES_2013_ONLY = frozenset({"CNFS"})
NOTE_REF = re.compile(r"(?:See\s+)?Notes?\s*#?\s*(\d{1,3}(?:\s*(?:,|and|&)\s*\d{1,3})*)", re.I)
NO_NOTE = re.compile(r"^[_\-–—\s]*$")
SEE_NOTE = re.compile(r"^See\s+Notes?\b\.?\s*(.*)$", re.I | re.S)
ANSWER_HEAD = re.compile(r"^(Yes|No|N\s?/\s?A|NA)(?![A-Za-z])[\s,:;.\-–—]*(.*)$", re.I | re.S)
HEADER_FIELDS = {"DOC-1": "vendor", "DOC-2": "product", "DOC-3": "product_version", "DOC-7": "created"}
HEADER_LABELS = {"DOC-1": "Manufacturer Name", "DOC-2": "Device Description", "DOC-3": "Device Model",
                 "DOC-4": "Document ID", "DOC-5": "Manufacturer Contact Information",
                 "DOC-6": "Intended use of device in network-connected environment",
                 "DOC-7": "Document Release Date"}


# --------------------------------------------------------------------------------------------- catalogue

@functools.cache
def _catalogue_data() -> dict:
    return load_yaml(CATALOGUE_DIR / f"{FORM_2019}.yaml")


def section_codes() -> frozenset[str]:
    return frozenset(_catalogue_data()["sections"])


def concept_label(concept: str) -> str:
    """The Japanese label of an MDS2 concept for reports (二要素認証, 監査ログ, SBOM …); "" if none."""
    return _catalogue_data().get("concept_labels", {}).get(concept, "")


def section_label(code: str) -> str:
    return (_catalogue_data()["sections"].get(code) or {}).get("label", "")


# --------------------------------------------------------------------------------------------- detection

def _first_texts(grid: Grid, per_row: int = 3):
    for table in grid.tables:
        for row in table.rows:
            n = 0
            for cell in row:
                if cell.merged_into is not None or not cell.text.strip():
                    continue
                yield normalize_text(cell.text).strip()
                n += 1
                if n >= per_row:
                    break


def detect_mds2(grid: Grid) -> str:
    """VERSION_2019, VERSION_2013 or "" (not an MDS2)."""
    codes = section_codes()
    ids_2019 = ids_2013 = doc_ids = titled = 0
    old_codes = hn2013 = False
    for text in _first_texts(grid):
        head = text.split()[0] if text.split() else ""
        if m := ID_RE.match(head) or ID_RE.match(text):
            if m.group(1) == "DOC":
                doc_ids += 1
            elif m.group(1) in codes:
                ids_2019 += 1
            old_codes = old_codes or m.group(1) in CODES_2013_ONLY
        elif ID_2013_RE.match(text):
            ids_2013 += 1
        if len(text) < 200:
            titled += bool(TITLE_RE.search(text))
            hn2013 = hn2013 or bool(HN2013_RE.search(text)) or "(CNFS)" in text
    titled += bool(TITLE_RE.search(grid.source))
    if hn2013 or old_codes:  # the older edition: its title and its own numbering (1-1, 1-2 …) or codes
        return VERSION_2013 if titled and (ids_2013 >= 3 or old_codes) else ""
    if ids_2019 >= 10 and (doc_ids or titled):
        return VERSION_2019
    if titled and ids_2013 >= 5:
        return VERSION_2013
    if titled and ids_2019 >= 3 and doc_ids >= 3:
        return VERSION_2019
    return ""


# ----------------------------------------------------------------------------------------------- reading

def read_mds2(grid: Grid, sha256: str, version: str) -> Document:
    doc = Document(source_file=grid.source, sha256=sha256, format=grid.format, warnings=list(grid.warnings))
    form = get_form(FORM_2019 if version == VERSION_2019 else FORM_2013)
    doc.family, doc.form_version = "mds2", version
    doc.form_id = form.id if form else ""
    sheet = sheet_rows(grid, version)
    if not sheet.rows:
        raise ExtractionError("MDS2（医療機器セキュリティ開示書）と判断しましたが、質問IDの行が見つかりません。"
                              "ファイルを確認してください。", "not_a_form")
    doc.footnotes = dict(sheet.notes)
    seen: dict[str, Item] = {}
    for row in sheet.rows:
        if version == VERSION_2019 and row.printed_id.replace(" ", "") in HEADER_FIELDS | HEADER_LABELS:
            _header_field(doc, row)
            continue
        item = _item(row, grid, form, version, sheet.notes)
        if item.item_id in seen:
            flag(item, f"項目番号「{item.item_id}」が2回あります。どちらの回答が正しいか確認してください")
            flag(seen[item.item_id], f"項目番号「{item.item_id}」が2回あります。どちらの回答が正しいか確認してください")
            item.item_id = f"{item.item_id}#{sum(1 for k in seen if k.startswith(item.item_id))+1}"
        seen[item.item_id] = item
        doc.items.append(item)
    if version == VERSION_2013:
        _header_2013(doc, grid)
        doc.warnings.append("MDS2 旧版（HN 1-2013）の様式です。HN 1-2019 の項目とは対応付けていません。"
                            "すべての回答を要確認としました")
    if form is not None and form.established:
        doc.missing_items = missing_catalogue_items(form, {i.catalogue_id for i in doc.items if i.catalogue_id})
    if not doc.vendor:
        doc.vendor_needs_review = True
    enforce_review(doc.items)
    return doc


def _header_field(doc: Document, row: Row) -> None:
    key = row.printed_id.replace(" ", "")
    value = row.answer.strip()
    value = re.sub(r"_{2,}\s*$", "", value).strip()  # a note column's 「__」 run into the value in a print
    doc.header_fields[HEADER_LABELS.get(key, key)] = value
    name = HEADER_FIELDS.get(key)
    if name and value:
        _set_header_field(doc, name, value, "DOC-7（Document Release Date）")


def _set_header_field(doc: Document, name: str, value: str, label: str) -> None:
    """A Document field from the form's header; a release date that cannot be read is said, never dropped."""
    if name == "created":
        doc.created = _release_date(value)
        if doc.created is None:
            doc.warnings.append(f"{label}の日付「{value}」を読み取れませんでした")
    else:
        setattr(doc, name, value)


# HN 1-2013 prints its header as labels over values (「Device Category | Manufacturer | Document ID | Document
# Release Date」, then 「Device Model | Software Revision | Software Release Date」): label → Document field.
HEADER_2013 = {"manufacturer": "vendor", "device model": "product", "software revision": "product_version",
               "document release date": "created"}


def _header_2013(doc: Document, grid: Grid, max_rows: int = 15) -> None:
    """The 2013 edition's header: a label cell and the value in the cell below it, in the sheet's first rows."""
    for table in grid.tables:
        rows = table.rows[:max_rows]
        for r, row in enumerate(rows[:-1]):
            for c, cell in enumerate(row):
                label = normalize_text(cell.text).strip().rstrip(":：").strip()
                field = HEADER_2013.get(label.lower())
                if not field or c >= len(rows[r + 1]) or getattr(doc, field):
                    continue
                value = normalize_text(rows[r + 1][c].text).strip()
                if not value or value.lower() in HEADER_2013:
                    continue
                doc.header_fields[label] = value
                _set_header_field(doc, field, value, f"{label}（HN 1-2013）")


_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                       "nov", "dec"), 1)}


def _release_date(text: str):
    import datetime as dt

    t = normalize_text(text)
    if m := re.search(r"(\d{1,2})[\s\-/]([A-Za-z]{3})[a-z]*[\s\-/,]+(\d{4})", t):  # 9-Oct-2019
        try:
            return dt.date(int(m.group(3)), _MONTHS[m.group(2).lower()], int(m.group(1)))
        except (KeyError, ValueError):
            return None
    if m := re.search(r"([A-Za-z]{3})[a-z]*\.?\s+(\d{1,2}),?\s+(\d{4})", t):  # October 9, 2019
        try:
            return dt.date(int(m.group(3)), _MONTHS[m.group(1).lower()], int(m.group(2)))
        except (KeyError, ValueError):
            return None
    if m := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", t.strip()):  # US order M/D/Y
        try:
            return dt.date(int(m.group(3)), int(m.group(1)), int(m.group(2)))
        except ValueError:
            return None
    return parse_date(t)


def canonical_id(printed: str) -> tuple[str, str]:
    """(ID, Japanese doubt): the printed ID, or a known section code for a misspelt one (「SHAD-15」)."""
    printed = re.sub(r"\s", "", printed)
    m = ID_RE.match(printed)
    if not m:
        return printed, ""
    code, num = m.groups()
    codes = section_codes()
    if code in codes:
        return f"{code}-{num}", ""
    close = [c for c in codes if sorted(c) == sorted(code) or sum(a != b for a, b in zip(c, code)) == 1]
    if len(close) == 1:
        return f"{close[0]}-{num}", (f"印字された項目番号「{printed}」を{close[0]}-{num}として読みました。"
                                      "番号を確認してください")
    return printed, ""


def split_answer(raw: str) -> tuple[str, str, str, str]:
    """(answer, words after it, note reference, Japanese doubt) from an answer cell's text."""
    text = normalize_text(raw).strip()
    if not text:
        return "", "", "", ""
    if m := SEE_NOTE.match(text):
        ref = NOTE_REF.match(text)
        return "", m.group(1).strip() if not ref else "", ref.group(1) if ref else "", \
            "回答が「See Note」（注記参照）です。注記の内容から回答を確認してください"
    if m := ANSWER_HEAD.match(text):
        word = re.sub(r"\s", "", m.group(1)).lower()
        rest = m.group(2).strip()
        ref = ""
        if r := NOTE_REF.fullmatch(rest) or NOTE_REF.match(rest):
            if r.end() == len(rest) or rest[r.end():].strip(" .,;:") == "":
                ref, rest = r.group(1), ""
        return ENGLISH.get(word, ""), rest, ref, ""
    return "", "", "", f"回答「{text[:40]}」は Yes / No / N/A のいずれでもありません。回答を確認してください"


def note_numbers(text: str) -> list[str]:
    t = normalize_text(text).strip()
    if NO_NOTE.match(t):
        return []
    if m := NOTE_REF.search(t):
        return re.findall(r"\d{1,3}", m.group(1))
    return re.findall(r"\d{1,3}", t) if re.fullmatch(r"[\d\s,&and]+", t) else []


def _item(row: Row, grid: Grid, form: Form | None, version: str, notes: dict[str, str]) -> Item:
    item_id, id_doubt = canonical_id(row.printed_id) if version == VERSION_2019 else \
        (re.sub(r"\s", "", row.printed_id), "")
    item = Item(item_id=item_id, number_printed=row.printed_id, question=normalize_text(row.question).strip())
    item.section = item_id.split("-")[0] if version == VERSION_2019 else ""
    item.answer_raw = row.answer.strip()
    item.confidence = row.confidence
    answer, words, ref, doubt = split_answer(row.answer)
    item.answer = answer
    item.answer_status = "answered" if answer else ("unreadable" if doubt and "いずれでも" in doubt else "unanswered")
    refs = list(dict.fromkeys(note_numbers(row.note) + (re.findall(r"\d{1,3}", ref) if ref else [])))
    parts = [words] if words else []
    for n in refs:
        if notes.get(n):
            parts.append(notes[n])
        else:
            item.remark_ref_empty = True
            flag(item, f"注記{n}が注記欄に見つかりません。注記の内容を確認してください")
    item.remark = "\n".join(p for p in parts if p)
    item.remark_ref = ",".join(refs)
    if row.note.strip() and not refs and not NO_NOTE.match(row.note):
        item.remark = "\n".join(p for p in (item.remark, normalize_text(row.note).strip()) if p)
    if doubt:
        flag(item, doubt, 0.5 if item.answer_status == "unreadable" else None)
    elif not answer and refs:
        flag(item, f"回答欄が空で、注記{'・'.join(refs)}を参照しています。注記の内容から回答を確認してください")
    if id_doubt:
        flag(item, id_doubt, 0.8)
    for reason in row.doubts:
        flag(item, reason)
    cat = form.item(item_id) if form is not None else None
    if cat is not None:
        item.catalogue_id, item.concept = cat.id, cat.concept
        item.parent_id = cat.parent
    else:
        item.known = False
        if "." in item_id:
            item.parent_id = item_id.rsplit(".", 1)[0]
    if version == VERSION_2013:
        flag(item, "MDS2 旧版（HN 1-2013）の項目です。HN 1-2019 とは項目番号が異なるため、回答を確認してください", 0.5)
    item.location = Location(file=grid.source, sheet=row.sheet, page=row.page, cell=row.cell or None, row=row.row)
    return item


def display_question(family: str, item: Item) -> str:
    """The question as reports and the memo show it: an MDS2 question stays English, led by the Japanese label of
    its concept or section (「【二要素認証】Does the device support multi-factor…」); other forms' as printed."""
    if family != "mds2":
        return item.question
    label = concept_label(item.concept) or section_label(item.item_id.split("-")[0])
    return f"【{label}】{item.question}" if label else item.question
