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

import re
import zipfile
from pathlib import Path

from lxml import etree

from extractors.grid import Cell, Grid, Mark, Table
from extractors.model import ExtractionError
from extractors.readers import xmlsafe, ziplimits
from extractors.readers.docx.fields import _Field
from extractors.readers.docx.ns import RT_FOOTER, RT_HEADER, RT_NUMBERING, RT_STYLES, STRICT_W_NS, _w
from extractors.readers.docx.numbering import Numbering
from extractors.readers.docx.sink import TextSink, _finish
from extractors.readers.docx.styles import Styles
from extractors.readers.docx.tables import build_table, iter_blocks
from extractors.readers.docx.walker import _Walker


# --- entry point ------------------------------------------------------------------------------

def _part_root(part):
    el = getattr(part, "element", None)
    if el is not None:
        return el
    return xmlsafe.parse_xml(part.blob, str(part.partname))


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
    xmlsafe.check_package(path)  # entity declarations / external DTDs: refused before python-docx parses


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
