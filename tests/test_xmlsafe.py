"""The hardened XML parser (readers/xmlsafe.py) through the real readers: an entity-expansion bomb or an
external entity in any part of an XLSX or DOCX refuses the file as corrupt with a Japanese reason, and
nothing the entity points at is read."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

import docx
import openpyxl
import pytest

from extractors.model import ExtractionError
from extractors.readers import xmlsafe
from extractors.readers.docx import read_docx
from extractors.readers.xlsx import read_xlsx
from tests.test_reader_xlsx import inject_drawing, marker, sp, two_cell

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
SECRET = "SECRET_ENTITY_TARGET_52c1"


def lol_doctype(root: str) -> tuple[str, str]:
    lol = ['<!ENTITY e0 "ha">'] + [f'<!ENTITY e{i} "{("&e%d;" % (i - 1)) * 10}">' for i in range(1, 10)]
    return f"<!DOCTYPE {root} [{''.join(lol)}]>", "&e9;"


def xxe_doctype(root: str, target: Path) -> tuple[str, str]:
    return f'<!DOCTYPE {root} [<!ENTITY ext SYSTEM "{target.resolve().as_uri()}">]>', "&ext;"


def poison(path: Path, member: str, attack: str, secret_file: Path) -> Path:
    """A copy of the package with a DTD in `member` (after its XML declaration) and the entity used in its
    first text element, when it has one."""
    out = path.with_name(f"{attack}_{member.replace('/', '_')}{path.suffix}")
    assert member in zipfile.ZipFile(path).namelist()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == member:
                xml = data.decode("utf-8")
                decl, _, body = xml.partition("?>") if xml.startswith("<?xml") else ("", "", xml)
                root = re.match(r"\s*<([\w:]+)", body).group(1)
                doctype, ref = lol_doctype(root) if attack == "lol" else xxe_doctype(root, secret_file)
                body = re.sub(r"(<(?:\w+:)?t(?: [^>]*)?>)", lambda m: m.group(1) + ref, body, count=1)
                data = ((decl + "?>" if decl else "") + doctype + body).encode("utf-8")
            dst.writestr(info, data)
    return out


def to_shared_strings(path: Path) -> None:
    """Move openpyxl's inline strings into xl/sharedStrings.xml, as Excel writes them."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
    entries = {i.filename: (i, zipfile.ZipFile(path).read(i.filename)) for i in zipfile.ZipFile(path).infolist()}
    strings: list[str] = []

    def shared(m: re.Match) -> str:
        strings.append(m.group(2))
        return f'<c r="{m.group(1)}" t="s"><v>{len(strings) - 1}</v></c>'

    info, sheet = entries["xl/worksheets/sheet1.xml"]
    sheet = re.sub(r'<c r="(\w+)" t="inlineStr"><is><t>(.*?)</t></is></c>', shared, sheet.decode("utf-8"))
    entries["xl/worksheets/sheet1.xml"] = (info, sheet.encode("utf-8"))
    sst = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="{main}" count="{len(strings)}" '
           f'uniqueCount="{len(strings)}">' + "".join(f"<si><t>{s}</t></si>" for s in strings) + "</sst>")
    entries["xl/sharedStrings.xml"] = (zipfile.ZipInfo("xl/sharedStrings.xml"), sst.encode("utf-8"))
    info, rels = entries["xl/_rels/workbook.xml.rels"]
    entries["xl/_rels/workbook.xml.rels"] = (info, rels.replace(
        b"</Relationships>", f'<Relationship Type="{rel}" Target="sharedStrings.xml" Id="rIdSst"/></Relationships>'.encode()))
    info, types = entries["[Content_Types].xml"]
    entries["[Content_Types].xml"] = (info, types.replace(b"</Types>", (
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.sharedStrings+xml"/></Types>').encode()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info, data in entries.values():
            dst.writestr(info.filename, data)


@pytest.fixture()
def secret_file(tmp_path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET, encoding="utf-8")
    return path


def assert_refused(read, path: Path) -> None:
    with pytest.raises(ExtractionError) as err:
        read(path)
    assert err.value.kind == "corrupt" and JAPANESE.search(err.value.message)
    assert SECRET not in err.value.message and "hahaha" not in err.value.message


def test_xlsx_entities_in_any_part_are_refused(tmp_path, secret_file):
    path = tmp_path / "点検表.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"], ws["B1"] = "項目", "回答"
    ws["A2"], ws["B2"] = "通信は暗号化されていますか。", "はい・いいえ"
    wb.save(path)
    to_shared_strings(path)
    inject_drawing(path, 1, [two_cell(marker(1, 1), marker(2, 2), sp("図形 1", "rect", text="補足の文章"))])
    assert read_xlsx(path).tables[0].rows[1][1].text == "はい・いいえ"  # the clean file reads
    members = ["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/drawings/drawing1.xml",
               "xl/workbook.xml", "xl/styles.xml", "[Content_Types].xml"]
    for member in members:
        for attack in ("lol", "xxe"):
            assert_refused(read_xlsx, poison(path, member, attack, secret_file))


def test_docx_entities_in_any_part_are_refused(tmp_path, secret_file):
    path = tmp_path / "点検表.docx"
    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "架空医療機器株式会社"
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "項目", "回答"
    table.cell(1, 0).text, table.cell(1, 1).text = "通信は暗号化されていますか。", "はい"
    document.save(path)
    grid = read_docx(path)
    assert grid.tables[0].rows[1][1].text == "はい" and "架空医療機器株式会社" in grid.loose_text
    header = next(n for n in zipfile.ZipFile(path).namelist() if re.match(r"word/header\d*\.xml$", n))
    for member in ("word/document.xml", header, "word/styles.xml", "docProps/core.xml"):
        for attack in ("lol", "xxe"):
            assert_refused(read_docx, poison(path, member, attack, secret_file))


def test_parser_keeps_entities_unexpanded_and_refuses_declarations(secret_file):
    # A DOCTYPE without declarations is harmless and read; an undeclared reference is malformed XML.
    assert xmlsafe.parse_xml(b"<!DOCTYPE r><r><t>a</t></r>").findtext("t") == "a"
    with pytest.raises(Exception) as err:
        xmlsafe.parse_xml(b"<r><t>&undeclared;</t></r>")
    assert not isinstance(err.value, ExtractionError)
    doctype, ref = xxe_doctype("r", secret_file)
    for data in (f"<?xml version='1.0'?>{doctype}<r><t>{ref}</t></r>",
                 '<!DOCTYPE r SYSTEM "http://127.0.0.1:9/x.dtd"><r><t>a</t></r>'):
        with pytest.raises(ExtractionError) as refused:
            xmlsafe.parse_xml(data.encode(), "part.xml")
        assert refused.value.kind == "corrupt" and "part.xml" in refused.value.message


def test_openpyxl_parses_worksheets_with_defusedxml():
    """The second layer under our package check: openpyxl's own worksheet parser is defusedxml's."""
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML is True
