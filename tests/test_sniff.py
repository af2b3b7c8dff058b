"""Content sniffing and `readers.read` failures, on files made here with the real tools."""
from __future__ import annotations

import importlib.util
import random
import shutil
import struct
import subprocess
from pathlib import Path

import openpyxl
import pytest
from docx import Document as WordDocument

from extractors.model import ExtractionError
from extractors.readers import legacy, read
from extractors.readers.sniff import OleFile, _biff_has_filepass, sniff

HAS_SOFFICE = shutil.which("soffice") is not None


def make_xlsx(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "開示書"
    ws.append(["番号", "質問", "回答"])
    ws.append(["4.1", "利用者の識別・認証を行っていますか。", "はい"])
    wb.save(path)
    return path


def make_docx(path: Path) -> Path:
    doc = WordDocument()
    doc.add_paragraph("製造業者による医療情報セキュリティ開示書")
    table = doc.add_table(rows=2, cols=3)
    for i, text in enumerate(["項目", "回答", "備考"]):
        table.cell(0, i).text = text
    table.cell(1, 0).text = "暗号化していますか。"
    table.cell(1, 1).text = "はい"
    doc.save(path)
    return path


def make_pdf(path: Path) -> Path:
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.pdfmetrics import registerFont
    from reportlab.pdfgen import canvas

    registerFont(UnicodeCIDFont("HeiseiKakuGo-W5"))
    c = canvas.Canvas(str(path))
    c.setFont("HeiseiKakuGo-W5", 12)
    c.drawString(72, 720, "医療情報セキュリティ開示書")
    c.save()
    return path


def soffice_convert(src: Path, target: str, outdir: Path, profile: Path) -> Path:
    subprocess.run(["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless",
                    "--convert-to", target, "--outdir", str(outdir), str(src)],
                   check=True, capture_output=True, timeout=120)
    return outdir / (src.stem + "." + target.split(":")[0])


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("sniff")
    out = {"xlsx": make_xlsx(d / "form.xlsx"), "docx": make_docx(d / "form.docx"), "pdf": make_pdf(d / "form.pdf")}
    # a docx renamed .xlsx, a pdf without extension
    out["renamed_docx"] = d / "renamed.xlsx"
    shutil.copy(out["docx"], out["renamed_docx"])
    out["pdf_noext"] = d / "pdf_no_extension"
    shutil.copy(out["pdf"], out["pdf_noext"])
    # truncated zip: an e-mail attachment cut in half
    data = out["xlsx"].read_bytes()
    out["truncated"] = d / "truncated.xlsx"
    out["truncated"].write_bytes(data[: len(data) // 2])
    out["empty"] = d / "empty.xlsx"
    out["empty"].write_bytes(b"")
    out["blank"] = d / "blank.pdf"
    out["blank"].write_bytes(b"  \r\n\t ")
    out["random"] = d / "random.docx"
    out["random"].write_bytes(random.Random(7).randbytes(4096))
    out["random_other"] = d / "picture.png"
    out["random_other"].write_bytes(random.Random(8).randbytes(4096))
    if HAS_SOFFICE:
        profile = d / "lo-profile"
        out["xls"] = soffice_convert(out["xlsx"], "xls:MS Excel 97", d / "legacy", profile)
        out["doc"] = soffice_convert(out["docx"], "doc:MS Word 97", d / "legacy", profile)
        out["truncated_xls"] = d / "truncated.xls"
        out["truncated_xls"].write_bytes(out["xls"].read_bytes()[:1024])
    return out


@pytest.mark.parametrize("name, kind", [
    ("xlsx", "xlsx"), ("docx", "docx"), ("pdf", "pdf"), ("renamed_docx", "docx"), ("pdf_noext", "pdf"),
    ("truncated", "corrupt"), ("empty", "empty"), ("blank", "empty"), ("random", "unknown"),
])
def test_sniff_kinds(files, name, kind):
    assert sniff(files[name]).kind == kind


@pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice not installed")
def test_sniff_legacy_ole(files):
    xls, doc = sniff(files["xls"]), sniff(files["doc"])
    assert (xls.kind, xls.detail) == ("xls", "OLE2: Workbook")
    assert (doc.kind, doc.detail) == ("doc", "OLE2: WordDocument")
    assert sniff(files["truncated_xls"]).kind == "corrupt"
    # the OLE parser reads the BIFF stream: it starts with a BOF record (0x0809)
    stream = OleFile(files["xls"].read_bytes()).read_stream("Workbook")
    assert struct.unpack_from("<H", stream)[0] == 0x0809
    assert not _biff_has_filepass(stream)


def test_filepass_record_means_encrypted():
    bof = struct.pack("<HH", 0x0809, 16) + bytes(16)
    filepass = struct.pack("<HH", 0x002F, 6) + bytes(6)
    boundsheet = struct.pack("<HH", 0x0085, 8) + bytes(8)
    assert _biff_has_filepass(bof + filepass + boundsheet)
    assert not _biff_has_filepass(bof + boundsheet + filepass)


@pytest.mark.parametrize("name, kind", [
    ("truncated", "corrupt"), ("empty", "empty"), ("blank", "empty"),
    ("random", "corrupt"),  # named .docx but no known content: damaged
    ("random_other", "unsupported"),  # another format altogether
])
def test_read_refuses_bad_files(files, name, kind):
    with pytest.raises(ExtractionError) as err:
        read(files[name])
    assert err.value.kind == kind
    assert "事業者" in err.value.message  # tells the reader what to do


def test_encrypted_ooxml(files, tmp_path):
    msoffcrypto = pytest.importorskip("msoffcrypto")
    from msoffcrypto.format.ooxml import OOXMLFile

    enc = tmp_path / "protected.xlsx"
    with open(files["xlsx"], "rb") as src, open(enc, "wb") as dst:
        OOXMLFile(src).encrypt("secret", dst)
    assert enc.read_bytes()[:4] == b"\xd0\xcf\x11\xe0"
    assert sniff(enc).kind == "encrypted"
    with pytest.raises(ExtractionError) as err:
        read(enc)
    assert err.value.kind == "encrypted"
    assert "保護" in err.value.message
    assert msoffcrypto  # imported for the encryption above


def test_read_xlsx_whatever_the_name(files):
    grid = read(files["xlsx"])
    assert grid.format == "xlsx" and grid.tables[0].rows[1][1].text == "利用者の識別・認証を行っていますか。"


def test_docx_and_pdf_dispatch(files):
    """Dispatch by content; a reader module that does not exist yet → unsupported."""
    for name, module, fmt in (("renamed_docx", "extractors.readers.docx", "docx"),
                              ("pdf_noext", "extractors.readers.pdf", "pdf")):
        if importlib.util.find_spec(module) is None:
            with pytest.raises(ExtractionError) as err:
                read(files[name])
            assert err.value.kind == "unsupported"
        else:
            grid = read(files[name])
            assert grid.format == fmt and grid.source == files[name].name


def test_too_large(files, monkeypatch):
    import extractors.readers as readers

    monkeypatch.setattr(readers, "MAX_FILE_BYTES", 100)
    with pytest.raises(ExtractionError) as err:
        read(files["xlsx"])
    assert err.value.kind == "too_large"


@pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice not installed")
def test_legacy_xls_is_converted(files):
    grid = read(files["xls"])
    assert grid.format == "xlsx" and grid.source == "form.xls"
    assert grid.warnings == ["旧形式(.xls)から変換して読み取りました"]
    assert grid.tables[0].name == "開示書"
    assert grid.tables[0].rows[1][1].text == "利用者の識別・認証を行っていますか。"


@pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice not installed")
def test_legacy_doc_converts_to_docx(files, tmp_path):
    out = legacy.convert(files["doc"], "doc", tmp_path)
    assert sniff(out).kind == "docx"
    paragraphs = [p.text for p in WordDocument(str(out)).paragraphs]
    assert "製造業者による医療情報セキュリティ開示書" in paragraphs


def test_legacy_without_libreoffice(files, monkeypatch, tmp_path):
    monkeypatch.setattr(legacy, "find_soffice", lambda: None)
    src = files.get("xls") or files["xlsx"]
    with pytest.raises(ExtractionError) as err:
        legacy.convert(src, "xls", tmp_path)
    assert err.value.kind == "legacy"
    assert "apt-get install libreoffice-calc-nogui" in err.value.message
    with pytest.raises(ExtractionError) as err:
        legacy.convert(src, "doc", tmp_path)
    assert "apt-get install libreoffice-writer-nogui" in err.value.message


@pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice not installed")
def test_legacy_timeout_kills_and_reports(files, tmp_path):
    with pytest.raises(ExtractionError) as err:
        legacy.convert(files["xls"], "xls", tmp_path, timeout_s=0.01)
    assert err.value.kind == "legacy"
    assert "秒以内に終わりませんでした" in err.value.message
