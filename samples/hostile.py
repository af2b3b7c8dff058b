"""Broken and hostile vendor files for the fault-injection suite (issue #6).

`build_hostile(out)` writes a held-out set of files into `out` (an inbox) and returns one `HostileCase`
per file saying what the pipeline must do with it:

- "processed": a real form in disguise (lying extension, macro-enabled .xlsm/.docm, odd file name,
  hostile text in the vendor/product/remark fields) — it must be read;
- "failed": broken, protected, too large or not a form — it must end in `<inbox>/failed/` with a
  Japanese reason (`kind` is the expected `ExtractionError.kind`);
- "ignored": Office lock files and temporary files — left where they are, never read or moved.

The byte-level mutations (`truncate`, `flip_bytes`, `shuffle_zip_members`, `inject_huge_attribute`,
`deep_nesting`, `zip_bomb`, …) are plain functions so that the hypothesis fuzzer can drive them.
Everything is deterministic (fixed seeds) except where a test passes its own parameters.

`python -m samples.hostile --out DIR` writes the set and prints the expectations.
"""
from __future__ import annotations

import argparse
import dataclasses
import io
import json
import os
import random
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

# Text a spreadsheet would run, markup a browser would run, paths that climb out of a folder.
FORMULA_VENDOR = "+cmd|' /C calc'!A0 株式会社あくい"
MARKUP_PRODUCT = "<script>alert('x')</script>../../../../escape/電子カルテ"
FORMULA_REMARKS = ("@SUM(1+1)*cmd|' /C calc'!A0", "+81-3-0000-0000 まで連絡してください。",
                   "-2+3 のように設定します。", "\t=1+1 タブ付き")
XXE_MARKER = "XXE_SECRET_7f3a"


@dataclass(frozen=True)
class HostileCase:
    name: str  # path relative to the inbox (may contain one sub-folder)
    expect: str  # processed | failed | ignored
    kind: str = ""  # expected ExtractionError.kind when failed
    note: str = ""  # what the file is (Japanese)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# ------------------------------------------------------------------------------------ base files

def good_xlsx_bytes(tmp: Path) -> bytes:
    """A real MDS in Excel (vendor A of the sample builder)."""
    from samples.office_xlsx import render_xlsx
    from samples.styles import XLSX_STYLES
    from samples.vendors import vendor_a

    sub, _, key = vendor_a()[0]
    path = render_xlsx(sub, Path(tmp) / "good.xlsx", XLSX_STYLES[key])
    return Path(path).read_bytes()


def good_docx_bytes(tmp: Path) -> bytes:
    """A real MDS in Word (vendor D of the sample builder)."""
    from samples.docx_vendors import DOCX_STYLES, vendor_d
    from samples.office_docx import render_docx

    sub, key = vendor_d()[0]
    path = render_docx(sub, Path(tmp) / "good.docx", DOCX_STYLES[key])
    return Path(path).read_bytes()


def good_pdf_bytes(tmp: Path) -> bytes:
    """A real born-digital MDS PDF (circled answers)."""
    from samples.pdf_builder import MDS_FILES, build_mds_pdf

    return Path(build_mds_pdf(MDS_FILES[0], Path(tmp))).read_bytes()


def hostile_text_xlsx_bytes(tmp: Path) -> bytes:
    """A real MDS whose vendor, product and remarks are formulas, markup and climbing paths."""
    from samples.office_xlsx import render_xlsx
    from samples.styles import XLSX_STYLES
    from samples.vendors import vendor_a

    sub, _, key = vendor_a()[0]
    sub.vendor, sub.product = FORMULA_VENDOR, MARKUP_PRODUCT
    sub.header_fields = {**sub.header_fields, "製造業者": FORMULA_VENDOR, "製品名称": MARKUP_PRODUCT}
    numbers = sorted(sub.footnotes)
    for number, text in zip(numbers, FORMULA_REMARKS):
        sub.footnotes[number] = text
        for item in sub.items:
            if item.remark_ref == number:
                item.remark = text
    path = render_xlsx(sub, Path(tmp) / "hostile_text.xlsx", XLSX_STYLES[key])
    return Path(path).read_bytes()


def text_pdf_bytes(lines: list[str], pages: int = 1, user_password: str | None = None) -> bytes:
    """A plain PDF with Japanese text lines (a letter, not a form); optionally password-protected."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.pdfencrypt import StandardEncryption
    from reportlab.pdfgen import canvas

    from samples.pdf_builder import register_font

    font = register_font()
    buf = io.BytesIO()
    encrypt = StandardEncryption(user_password, ownerPassword="owner-" + user_password) if user_password else None
    c = canvas.Canvas(buf, pagesize=A4, encrypt=encrypt)
    for page in range(pages):
        y = 780
        for line in lines:
            c.setFont(font, 11)
            c.drawString(60, y, line)
            y -= 20
        if pages > 1:
            c.drawString(60, 40, f"{page + 1} / {pages}")
        c.showPage()
    c.save()
    return buf.getvalue()


LETTER = ["2025年10月1日", "○○総合病院 御中", "株式会社サンプルメディカル", "",
          "納品物についてのご案内", "拝啓 時下ますますご清祥のこととお慶び申し上げます。",
          "本書は開示書ではなく、納品に関するお知らせです。", "敬具"]


def encrypted_ooxml_bytes(plain: bytes, password: str = "secret") -> bytes:
    """An Office 2007+ file encrypted with a password: an OLE2 container with an EncryptedPackage stream."""
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(plain)).encrypt(password, out)
    return out.getvalue()


def not_a_form_xlsx_bytes() -> bytes:
    """A spreadsheet a vendor might attach: a maintenance schedule (保守点検スケジュール)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "保守点検スケジュール"
    ws.append(["作業日", "作業内容", "担当", "停止時間"])
    for day, work in (("2025/11/04", "OS 月例パッチ適用"), ("2025/12/02", "ウイルス定義更新確認"),
                      ("2026/01/13", "バックアップ復元訓練")):
        ws.append([day, work, "保守センター", "30分"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def title_only_xlsx_bytes() -> bytes:
    """A disclosure form's title and header row, but no item rows at all (an unfilled template cut short)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "MDS"
    ws["A1"] = "製造業者による医療情報セキュリティ開示書"
    ws["A3"], ws["B3"] = "製造業者", "株式会社サンプルメディカル"
    ws.append([])
    ws.append(["項番", "質問項目", "はい", "いいえ", "対象外", "備考"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ------------------------------------------------------------------------------ zip manipulation

def zip_entries(data: bytes) -> list[tuple[zipfile.ZipInfo, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(info, zf.read(info)) for info in zf.infolist()]


def rezip(entries: list[tuple[str, bytes]], comment: bytes = b"") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, payload in entries:
            zf.writestr(zipfile.ZipInfo(name, date_time=(2025, 1, 1, 9, 0, 0)), payload,
                        compress_type=zipfile.ZIP_DEFLATED)
        zf.comment = comment
    return buf.getvalue()


def replace_members(data: bytes, changes: dict[str, bytes | None]) -> bytes:
    """Replace (bytes), remove (None) or add zip members; order of the others kept."""
    entries = [(i.filename, b) for i, b in zip_entries(data)]
    names = {n for n, _ in entries}
    out = [(n, changes[n]) if n in changes else (n, b) for n, b in entries]
    out = [(n, b) for n, b in out if b is not None]
    out += [(n, b) for n, b in changes.items() if n not in names and b is not None]
    return rezip(out)


def with_zip_comment(data: bytes, comment: str) -> bytes:
    """Same package content, different bytes (a distinct sha256): the file is a separate submission."""
    return rezip([(i.filename, b) for i, b in zip_entries(data)], comment.encode("utf-8"))


def with_pdf_comment(data: bytes, comment: str) -> bytes:
    return data + b"\n%" + comment.encode("ascii", "replace") + b"\n"


VBA_PROJECT = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + b"Attribute VB_Name = \"ThisWorkbook\"\r\n" \
    b"Sub Workbook_Open()\r\n  Shell \"cmd /c echo pwned > C:\\pwned.txt\"\r\nEnd Sub\r\n"


def macro_enabled(data: bytes, family: str) -> bytes:
    """Turn an .xlsx/.docx into an .xlsm/.docm: macro content type, vbaProject.bin part and its relationship."""
    folder, main, main_type = {
        "xlsx": ("xl", "workbook.xml", "application/vnd.ms-excel.sheet.macroEnabled.main+xml"),
        "docx": ("word", "document.xml", "application/vnd.ms-word.document.macroEnabled.main+xml"),
    }[family]
    entries = dict((i.filename, b) for i, b in zip_entries(data))
    ct = entries["[Content_Types].xml"].decode("utf-8")
    ct = re.sub(rf'(PartName="/{folder}/{main}" ContentType=")[^"]+"', rf'\g<1>{main_type}"', ct)
    if 'Extension="bin"' not in ct:
        ct = ct.replace("</Types>", '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
                                    "</Types>")
    rels_name = f"{folder}/_rels/{main}.rels"
    rels = entries[rels_name].decode("utf-8")
    rels = rels.replace("</Relationships>",
                        '<Relationship Id="rIdVba1" Type="http://schemas.microsoft.com/office/2006/relationships/'
                        'vbaProject" Target="vbaProject.bin"/></Relationships>')
    return replace_members(data, {"[Content_Types].xml": ct.encode("utf-8"), rels_name: rels.encode("utf-8"),
                                  f"{folder}/vbaProject.bin": VBA_PROJECT})


def zip_bomb(data: bytes, member: str, size: int) -> bytes:
    """Add a member of `size` zero bytes: it deflates ~1000:1, so a small file inflates enormously."""
    return replace_members(data, {member: b"\x00" * size})


def xml_bomb(data: bytes, member: str, size: int) -> bytes:
    """Replace an XML member by `size` bytes of XML whitespace inside a valid root (ratio ~1000:1)."""
    root = b'<?xml version="1.0" encoding="UTF-8"?><x>' + b" " * size + b"</x>"
    return replace_members(data, {member: root})


def billion_laughs(data: bytes, member: str) -> bytes:
    """Prepend an exponential entity definition to an XML member and use it in the document."""
    xml = zip_entries_dict(data)[member].decode("utf-8")
    lol = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * 10}">' for i in range(1, 10)]
    root = re.search(r"<([A-Za-z:]+)[\s>]", xml[xml.find("?>") + 2:] if xml.startswith("<?xml") else xml).group(1)
    doctype = f"<!DOCTYPE {root} [{''.join(lol)}]>"
    body = xml.split("?>", 1)[1] if xml.startswith("<?xml") else xml
    body = re.sub(r"(<[A-Za-z:]+:t(?: [^>]*)?>)", r"\1&lol9;", body, count=1)
    return replace_members(data, {member: ('<?xml version="1.0" encoding="UTF-8"?>' + doctype + body).encode()})


def external_entity(data: bytes, member: str, target: Path) -> bytes:
    """XXE: a SYSTEM entity pointing at a local file, used in the first text run of the member."""
    xml = zip_entries_dict(data)[member].decode("utf-8")
    body = xml.split("?>", 1)[1] if xml.startswith("<?xml") else xml
    root = re.match(r"\s*<([A-Za-z:]+)", body).group(1)
    doctype = f'<!DOCTYPE {root} [<!ENTITY xxe SYSTEM "{target.resolve().as_uri()}">]>'
    body = re.sub(r"(<w:t(?: [^>]*)?>)", r"\1&xxe;", body, count=1)
    return replace_members(data, {member: ('<?xml version="1.0" encoding="UTF-8"?>' + doctype + body).encode()})


def zip_entries_dict(data: bytes) -> dict[str, bytes]:
    return {i.filename: b for i, b in zip_entries(data)}


def shuffle_zip_members(data: bytes, seed: int) -> bytes:
    entries = [(i.filename, b) for i, b in zip_entries(data)]
    random.Random(seed).shuffle(entries)
    return rezip(entries)


def drop_member(data: bytes, index: int) -> bytes:
    entries = [(i.filename, b) for i, b in zip_entries(data)]
    name = entries[index % len(entries)][0]
    return replace_members(data, {name: None})


def inject_huge_attribute(data: bytes, member: str, size: int) -> bytes:
    """Add an attribute of `size` characters to the root element of an XML member."""
    xml = zip_entries_dict(data)[member]
    head, sep, rest = xml.partition(b"?>")
    body = rest if sep else xml
    m = re.search(rb"<[A-Za-z][\w:]*", body)
    body = body[: m.end()] + b' huge="' + b"A" * size + b'"' + body[m.end():]
    return replace_members(data, {member: (head + sep + body) if sep else body})


def deep_nesting(data: bytes, member: str, depth: int) -> bytes:
    """Nest `depth` elements inside the first child of the root of an XML member."""
    xml = zip_entries_dict(data)[member]
    m = re.search(rb"<[A-Za-z][\w:]*[^>]*>", xml.split(b"?>", 1)[-1])
    offset = len(xml) - len(xml.split(b"?>", 1)[-1]) + m.end()
    nest = b"<d>" * depth + b"</d>" * depth
    return replace_members(data, {member: xml[:offset] + nest + xml[offset:]})


def truncate(data: bytes, keep: int) -> bytes:
    return data[: max(0, min(keep, len(data)))]


def flip_bytes(data: bytes, positions: list[int], values: list[int]) -> bytes:
    buf = bytearray(data)
    for pos, val in zip(positions, values):
        if buf:
            buf[pos % len(buf)] ^= (val % 255) + 1
    return bytes(buf)


def sparse_file(path: Path, size: int, head: bytes = b"%PDF-1.7\n") -> None:
    """A file of `size` bytes that costs almost no disk (a hole after `head`)."""
    with open(path, "wb") as f:
        f.write(head)
        f.truncate(size)


# -------------------------------------------------------------------------------- the held-out set

LONG_STEM = "非常に長いファイル名の開示書" * 12  # 168 characters, 504 bytes: longer than a file name may be


def long_name(limit_bytes: int = 240, suffix: str = ".xlsx") -> str:
    """The longest name of repeated Japanese text that fits `limit_bytes` (UTF-8) with its suffix."""
    stem = ""
    for ch in LONG_STEM:
        if len((stem + ch + suffix).encode("utf-8")) > limit_bytes:
            break
        stem += ch
    return stem + suffix


def build_hostile(out: Path | str) -> list[HostileCase]:
    """Write the held-out hostile set into `out`; return what must happen to each file."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cases: list[HostileCase] = []
    rnd = random.Random(20251127)

    def put(name: str, data: bytes | Callable[[Path], None], expect: str, kind: str, note: str) -> None:
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if callable(data):
            data(path)
        else:
            path.write_bytes(data)
        cases.append(HostileCase(name, expect, kind, note))

    with tempfile.TemporaryDirectory(prefix="mdsgap-hostile-") as tmp_name:
        tmp = Path(tmp_name)
        xlsx, docx, pdf = good_xlsx_bytes(tmp), good_docx_bytes(tmp), good_pdf_bytes(tmp)
        n = iter(range(1, 1000))

        def variant(data: bytes, kind: str) -> bytes:  # same content, distinct bytes
            tag = f"hostile-{next(n)}"
            return with_pdf_comment(data, tag) if kind == "pdf" else with_zip_comment(data, tag)

        # --- broken -------------------------------------------------------------------------------
        put("途中で切れた開示書.xlsx", xlsx[: len(xlsx) // 2], "failed", "corrupt", "XLSX の前半だけ（転送中断）")
        put("途中で切れた開示書.docx", docx[: len(docx) // 3], "failed", "corrupt", "DOCX の前 1/3 だけ")
        put("先頭だけの開示書.pdf", pdf[:1500], "failed", "*", "PDF の先頭 1.5 KB だけ")
        put("空の開示書.pdf", b"", "failed", "empty", "0 バイト")
        put("空白だけ.docx", b" \r\n\t" * 64, "failed", "empty", "空白と改行だけ")
        put("乱数.xlsx", rnd.randbytes(8192), "failed", "corrupt", "乱数バイト列（拡張子 .xlsx）")
        put("拡張子なしの乱数", rnd.randbytes(4096), "failed", "unsupported", "乱数バイト列（拡張子なし）")
        put("メモ.txt", "開示書は後日送付します。".encode("utf-8"), "failed", "unsupported", "テキストファイル")
        put("写真のZIP.docx", rezip([("photo1.jpg", rnd.randbytes(2000))]), "failed", "corrupt",
            "Office ではない ZIP（拡張子 .docx）")
        put("ZIP欠落_本文なし.xlsx", replace_members(xlsx, {"xl/workbook.xml": None}), "failed", "corrupt",
            "workbook.xml のない XLSX")
        put("本文XML破損.docx", replace_members(docx, {"word/document.xml": b"<w:document><w:body><w:tbl>"}),
            "failed", "corrupt", "document.xml が途中で切れた DOCX")
        # --- protected --------------------------------------------------------------------------
        put("パスワード付き開示書.xlsx", encrypted_ooxml_bytes(xlsx), "failed", "encrypted",
            "パスワードで暗号化された XLSX（OLE2 EncryptedPackage）")
        put("パスワード付き開示書.docx", encrypted_ooxml_bytes(docx), "failed", "encrypted",
            "パスワードで暗号化された DOCX")
        put("パスワード付き.pdf", text_pdf_bytes(LETTER, user_password="secret"), "failed", "encrypted",
            "閲覧パスワード付き PDF")
        # --- too large ----------------------------------------------------------------------------
        put("ZIP爆弾.xlsx", zip_bomb(xlsx, "xl/media/padding.bin", 64 * 1024 * 1024), "failed", "too_large",
            "64 MB のゼロが 64 KB に圧縮された部品を含む XLSX（ZIP 爆弾、圧縮率 1000:1）")
        put("XML爆弾.xlsx", xml_bomb(xlsx, "xl/worksheets/sheet1.xml", 32 * 1024 * 1024), "failed", "too_large",
            "シートの XML が展開後 32 MB（空白、圧縮率 1000:1）")
        put("巨大ファイル.pdf", lambda p: sparse_file(p, 101 * 1024 * 1024), "failed", "too_large",
            "101 MB のファイル")
        put("301ページ.pdf", text_pdf_bytes(["ページの多い資料"], pages=301), "failed", "too_large",
            "301 ページの PDF")
        # --- not a form ---------------------------------------------------------------------------
        put("納品案内.pdf", text_pdf_bytes(LETTER), "failed", "not_a_form", "開示書ではない PDF（案内状）")
        put("保守スケジュール.xlsx", not_a_form_xlsx_bytes(), "failed", "not_a_form", "開示書ではない Excel")
        put("項目のない開示書.xlsx", title_only_xlsx_bytes(), "failed", "not_a_form",
            "表題と見出し行だけで項目のない開示書")
        # --- real forms in disguise (must be read) ------------------------------------------------
        put("実はExcel.pdf", variant(xlsx, "xlsx"), "processed", "", "中身は XLSX、拡張子は .pdf")
        put("実はPDF.xlsx", variant(pdf, "pdf"), "processed", "", "中身は PDF、拡張子は .xlsx")
        put("実はWord.xlsx", variant(docx, "docx"), "processed", "", "中身は DOCX、拡張子は .xlsx")
        put("マクロ付き開示書.xlsm", macro_enabled(variant(xlsx, "xlsx"), "xlsx"), "processed", "",
            "マクロ有効ブック（vbaProject.bin 入り）：値だけ読み、マクロは実行しない")
        put("マクロ付き開示書.docm", macro_enabled(variant(docx, "docx"), "docx"), "processed", "",
            "マクロ有効文書（vbaProject.bin 入り）")
        put("開示書 最新版 (2).xlsx", variant(xlsx, "xlsx"), "processed", "", "空白と括弧")
        put("🏥開示書✅.xlsx", variant(xlsx, "xlsx"), "processed", "", "絵文字")
        put("ＭＤＳ開示書（全角）．ｘｌｓｘ", variant(xlsx, "xlsx"), "processed", "", "全角の名前と拡張子")
        put(long_name(240), variant(xlsx, "xlsx"), "processed", "", "240 バイトの長い名前")
        put("開示書..最新.docx", variant(docx, "docx"), "processed", "", "名前の途中に ..")
        put("-rf 開示書.pdf", variant(pdf, "pdf"), "processed", "", "先頭がハイフン")
        put("改行\n入り開示書.xlsx", variant(xlsx, "xlsx"), "processed", "", "名前に改行")
        put("ベンダーA/開示書.xlsx", variant(xlsx, "xlsx"), "processed", "", "受信フォルダのサブフォルダ")
        put("=1+1 <img src=x onerror=alert(1)>.xlsx", hostile_text_xlsx_bytes(tmp), "processed", "",
            "事業者名・製品名・備考が数式・HTML・パス（出力で無害化されること）")
        # --- never to be touched ------------------------------------------------------------------
        put("~$開示書 最新版 (2).xlsx", b"\x06yamada" + b" " * 47 + "yamada".encode("utf-16-le"), "ignored", "",
            "Excel のロックファイル")
        put(".~lock.開示書.xlsx#", b"yamada,host,/home/yamada,01.10.2025 10:00,file:///home/yamada;\n",
            "ignored", "", "LibreOffice のロックファイル")
        put("~WRL0001.tmp", docx[:3000], "ignored", "", "Word の一時ファイル")
        put("開示書.xlsx.part", xlsx[:3000], "ignored", "", "ダウンロード途中のファイル")
        put("開示書.pdf.crdownload", pdf[:3000], "ignored", "", "Chrome のダウンロード途中のファイル")
    return cases


def write_manifest(out: Path, cases: list[HostileCase]) -> Path:
    """`hostile.json` beside the inbox (not in it), for humans and for tests."""
    path = Path(out).parent / (Path(out).name + ".hostile.json")
    path.write_text(json.dumps([c.to_dict() for c in cases], ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="壊れたファイル・悪意のあるファイルの試験用セットを作成します。")
    parser.add_argument("--out", required=True, type=Path, help="出力先フォルダ（受信フォルダとして使えます）")
    args = parser.parse_args(argv)
    cases = build_hostile(args.out)
    for c in cases:
        print(f"{c.expect:9} {c.kind or '-':11} {c.name!r}  {c.note}")
    print(f"{len(cases)} 件を {args.out} に作成しました（期待結果: {write_manifest(args.out, cases)}）。",
          file=os.sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
