"""Remarks that point to footnotes (備考記載欄), the footnote rows themselves, and the コメント box."""
from __future__ import annotations

import re

from extractors.formdetect import squash_label
from extractors.grid import Cell, Table
from extractors.header_fields import cells, value_right
from extractors.layout import Layout, header_role
from extractors.model import Item
from extractors.rows import ReadState
from extractors.text import normalize_text

FOOTNOTE_TITLE = re.compile(r"備考記載欄|備考欄[（(]?詳細|注記一覧|備考一覧")


FOOTNOTE_REF = re.compile(r"^(?:※|注|備考|\*|＊)?\s*[(（]?\s*(\d{1,3})\s*[)）]?\s*(?:参照)?$")


EMBEDDED_REF = re.compile(r"※\s*(\d{1,3})")


COMMENT_LABEL = re.compile(r"^(?:コメント|備考・コメント|コメント欄|補足事項|特記事項)$")


def read_footnote_row(row: list[Cell], state: ReadState) -> None:
    """A 備考記載欄 row: 「5 | text」 in two cells, or 「5. text」 in one."""
    present = [c for _, c in cells(row)]
    if not present:
        return
    first = normalize_text(present[0].text)
    m = FOOTNOTE_REF.match(first)
    if not m:
        m2 = re.match(r"^(?:※|注)?\s*(\d{1,3})\s*[.:：、)）]\s*(.+)$", first)
        if m2:
            state.footnotes.setdefault(m2.group(1), m2.group(2).strip())
        return
    rest = [normalize_text(c.text) for c in present[1:]]
    text = "\n".join(t for t in rest if t and not header_role(t) and t not in ("内容", "備考"))
    state.footnotes.setdefault(m.group(1), text)


def read_comment(table: Table, r: int, row: list[Cell], layout: Layout | None, state: ReadState) -> bool:
    if layout is not None and r in layout.header_rows:
        return False
    for col, cell in cells(row):
        t = normalize_text(cell.text)
        if not t:
            continue
        m = re.match(r"^(コメント|備考・コメント|コメント欄)\s*[:：]\s*(.+)$", t, re.S)
        if m:
            state.comment = (state.comment + "\n" if state.comment else "") + m.group(2).strip()
            return True
        if COMMENT_LABEL.match(squash_label(t)):
            value = value_right(row, col, check=False)
            text = normalize_text(value.text) if value is not None else ""
            if not text and r + 1 < len(table.rows):
                below = table.rows[r + 1][col] if col < len(table.rows[r + 1]) else None
                if below is not None and below.merged_into is None:
                    text = normalize_text(below.text)
                    below.text = ""  # consumed
                    below.marks = []
            if text:
                state.comment = (state.comment + "\n" if state.comment else "") + text
            return True
        break  # only the first non-empty cell can be a comment label
    return False


_ONLY_REFS = re.compile(r"^(?:(?:※|注|\*|＊)?\s*\d{1,3}\s*(?:参照)?\s*[、,，・/\s]*)+$")


def set_remark(item: Item, text: str, state: ReadState) -> None:
    """Keep the remark and note its footnote references; `resolve_footnotes` fills them in after all tables.

    「5」, 「※3」, 「※1、※4」 are only references; 「詳細は※3参照」 is text with one.
    """
    raw = (text or "").strip()
    norm = normalize_text(raw)
    if m := FOOTNOTE_REF.match(norm):
        item.remark_ref, item.remark = m.group(1), ""
        return
    if norm and _ONLY_REFS.match(norm) and not re.fullmatch(r"\d{4,}", norm.replace(" ", "")):
        item.remark_ref, item.remark = ",".join(re.findall(r"\d{1,3}", norm)), ""
        return
    item.remark = raw
    if refs := EMBEDDED_REF.findall(norm):
        item.remark_ref = ",".join(dict.fromkeys(refs))


def resolve_footnotes(items: list[Item], footnotes: dict[str, str]) -> None:
    for item in items:
        if not item.remark_ref:
            continue
        refs = item.remark_ref.split(",")
        notes = [(ref, footnotes.get(ref, "").strip()) for ref in refs]
        item.remark_ref_empty = any(not note for _, note in notes)
        if not item.remark:
            item.remark = "\n".join(note for _, note in notes if note)
        else:
            item.remark += "".join(f"\n（※{ref}）{note}" for ref, note in notes if note)
