"""Tell a file's format from its bytes, never from its name.

Vendors rename files, e-mail gateways add or drop extensions, and a `.xls` is often an `.xlsx`
(or the reverse). `sniff(path)` looks at the content:

- ZIP with `xl/workbook.xml` → "xlsx" (also .xlsm/.xltx: values only, macros are never run);
  ZIP with `xl/workbook.bin` → "xlsb"; ZIP with `word/document.xml` → "docx" (also .docm);
  an OpenDocument ZIP → "ods" / "odt"; a ZIP that cannot be opened → "corrupt";
- `%PDF` in the first KiB → "pdf";
- OLE2 (D0 CF 11 E0 A1 B1 1A E1): stream `EncryptedPackage` → "encrypted" (a password-protected
  .xlsx/.docx); `Workbook`/`Book` → "xls" (or "encrypted" when the BIFF stream starts with a
  FILEPASS record); `WordDocument` → "doc" (or "encrypted" when the FIB says so);
- `{\\rtf` → "rtf"; an Excel 2003 XML spreadsheet → "xml_spreadsheet";
- Shift_JIS / UTF-8 text whose first lines split on one delimiter into several fields → "csv";
- zero bytes (or only white space) → "empty"; anything else → "unknown".

The OLE2 directory is read with a small compound-file parser (no extra dependency).
"""
from __future__ import annotations

import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")

# Formats LibreOffice converts for us, and what they become.
CONVERTIBLE = {"xls": "xlsx", "xlsb": "xlsx", "ods": "xlsx", "xml_spreadsheet": "xlsx",
               "doc": "docx", "odt": "docx", "rtf": "docx"}


@dataclass
class Sniffed:
    kind: str  # xlsx docx pdf csv xls doc xlsb ods odt rtf xml_spreadsheet encrypted empty corrupt unknown
    detail: str = ""  # what was seen, for messages and logs (e.g. "OLE2: EncryptedPackage")


class OleError(Exception):
    """The compound file is truncated or inconsistent."""


def sniff(path: Path | str) -> Sniffed:
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(4096)
    if not head.strip(b" \t\r\n\x00"):
        return Sniffed("empty", "0 バイト" if not head else "空白のみ")
    if head.startswith(ZIP_MAGICS):
        return _sniff_zip(path)
    if head.startswith(OLE_MAGIC):
        return _sniff_ole(path)
    if b"%PDF-" in head[:1024]:
        return Sniffed("pdf")
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"{\\rtf"):
        return Sniffed("rtf")
    if stripped.startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in head:
        return Sniffed("xml_spreadsheet")
    from extractors.readers.csv_text import looks_like_csv

    if looks_like_csv(head):
        return Sniffed("csv")
    return Sniffed("unknown", head[:8].hex(" "))


def _sniff_zip(path: Path) -> Sniffed:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "xl/workbook.xml" in names:
                return Sniffed("xlsx")
            if "xl/workbook.bin" in names:
                return Sniffed("xlsb")
            if "word/document.xml" in names:
                return Sniffed("docx")
            if "mimetype" in names:
                mime = zf.read("mimetype")[:100].decode("ascii", "replace").strip()
                if mime == "application/vnd.oasis.opendocument.spreadsheet":
                    return Sniffed("ods", mime)
                if mime == "application/vnd.oasis.opendocument.text":
                    return Sniffed("odt", mime)
            return Sniffed("unknown", "ZIP: " + ", ".join(sorted(names)[:5]))
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        return Sniffed("corrupt", f"ZIP: {exc}")
    except NotImplementedError as exc:  # unsupported compression method
        return Sniffed("unknown", f"ZIP: {exc}")


def _sniff_ole(path: Path) -> Sniffed:
    try:
        ole = OleFile(path.read_bytes())
        names = ole.stream_names()
        if "EncryptedPackage" in names:
            return Sniffed("encrypted", "OLE2: EncryptedPackage")
        for book in ("Workbook", "Book"):
            if book in names:
                if _biff_has_filepass(ole.read_stream(book)):
                    return Sniffed("encrypted", f"OLE2: {book} (FILEPASS)")
                return Sniffed("xls", f"OLE2: {book}")
        if "WordDocument" in names:
            if _fib_encrypted(ole.read_stream("WordDocument")):
                return Sniffed("encrypted", "OLE2: WordDocument (fEncrypted)")
            return Sniffed("doc", "OLE2: WordDocument")
        return Sniffed("unknown", "OLE2: " + ", ".join(sorted(names)[:5]))
    except OleError as exc:
        return Sniffed("corrupt", f"OLE2: {exc}")


def _biff_has_filepass(stream: bytes) -> bool:
    """True when a BIFF workbook stream is password-protected (FILEPASS record near the start)."""
    pos = 0
    for _ in range(64):
        if pos + 4 > len(stream):
            return False
        rec_type, rec_len = struct.unpack_from("<HH", stream, pos)
        if rec_type == 0x002F:  # FILEPASS
            return True
        if rec_type in (0x0085, 0x00FC):  # BOUNDSHEET, SST: past the header, no FILEPASS
            return False
        pos += 4 + rec_len
    return False


def _fib_encrypted(stream: bytes) -> bool:
    """Word 97-2003: FIB flag fEncrypted (bit 8 of the flags word at offset 0x0A)."""
    if len(stream) < 12:
        return False
    (flags,) = struct.unpack_from("<H", stream, 0x0A)
    return bool(flags & 0x0100)


class OleFile:
    """Minimal reader of an OLE2 compound file: directory names and stream contents."""

    END_OF_CHAIN = 0xFFFFFFFE
    FREE = 0xFFFFFFFF

    def __init__(self, data: bytes):
        if len(data) < 512 or not data.startswith(OLE_MAGIC):
            raise OleError("ヘッダーが不完全")
        self.data = data
        self.sector_size = 1 << struct.unpack_from("<H", data, 0x1E)[0]
        self.mini_sector_size = 1 << struct.unpack_from("<H", data, 0x20)[0]
        if self.sector_size not in (512, 4096) or self.mini_sector_size != 64:
            raise OleError("セクターサイズが不正")
        n_fat = struct.unpack_from("<I", data, 0x2C)[0]
        self.first_dir = struct.unpack_from("<I", data, 0x30)[0]
        self.mini_cutoff = struct.unpack_from("<I", data, 0x38)[0]
        self.first_minifat = struct.unpack_from("<I", data, 0x3C)[0]
        first_difat = struct.unpack_from("<I", data, 0x44)[0]
        n_difat = struct.unpack_from("<I", data, 0x48)[0]
        self.n_sectors = max(0, (len(data) - self.sector_size) // self.sector_size)

        fat_sectors = [s for s in struct.unpack_from("<109I", data, 0x4C) if s < 0xFFFFFFFA]
        sec, per = first_difat, self.sector_size // 4 - 1
        for _ in range(n_difat):
            if sec >= 0xFFFFFFFA:
                break
            block = self._sector(sec)
            entries = struct.unpack_from(f"<{per + 1}I", block)
            fat_sectors += [s for s in entries[:per] if s < 0xFFFFFFFA]
            sec = entries[per]
        if len(fat_sectors) < min(n_fat, 1):
            raise OleError("FAT がありません")
        fat_bytes = b"".join(self._sector(s) for s in fat_sectors[:n_fat])
        self.fat = struct.unpack(f"<{len(fat_bytes) // 4}I", fat_bytes)
        self.entries = self._read_directory()
        self._minifat: tuple[int, ...] | None = None
        self._ministream: bytes | None = None

    def _sector(self, sid: int) -> bytes:
        off = (sid + 1) * self.sector_size
        if sid >= self.n_sectors or off + self.sector_size > len(self.data):
            raise OleError("ファイルが途中で切れています")
        return self.data[off: off + self.sector_size]

    def _chain(self, start: int, table: tuple[int, ...]) -> list[int]:
        chain, sid = [], start
        while sid != self.END_OF_CHAIN and sid != self.FREE:
            if sid >= len(table) or len(chain) > len(table):
                raise OleError("セクターチェーンが不正")
            chain.append(sid)
            sid = table[sid]
        return chain

    def _read_directory(self) -> list[tuple[str, int, int, int]]:
        raw = b"".join(self._sector(s) for s in self._chain(self.first_dir, self.fat))
        entries = []
        for off in range(0, len(raw) - 127, 128):
            name_len = struct.unpack_from("<H", raw, off + 0x40)[0]
            etype = raw[off + 0x42]
            if etype == 0 or name_len < 2 or name_len > 64:
                continue
            name = raw[off: off + name_len - 2].decode("utf-16-le", "replace")
            start = struct.unpack_from("<I", raw, off + 0x74)[0]
            size = struct.unpack_from("<Q", raw, off + 0x78)[0]
            if self.sector_size == 512:
                size &= 0xFFFFFFFF
            entries.append((name, etype, start, size))
        if not entries or entries[0][1] != 5:
            raise OleError("ルートエントリがありません")
        return entries

    def stream_names(self) -> set[str]:
        return {name for name, etype, _, _ in self.entries if etype == 2}

    def read_stream(self, name: str, limit: int = 1 << 16) -> bytes:
        """The first `limit` bytes of a stream (enough for headers)."""
        for ename, etype, start, size in self.entries:
            if etype == 2 and ename == name:
                break
        else:
            raise OleError(f"ストリーム {name} がありません")
        want = min(size, limit)
        if size < self.mini_cutoff:
            return self._read_mini(start, want)
        out = bytearray()
        for sid in self._chain(start, self.fat):
            out += self._sector(sid)
            if len(out) >= want:
                break
        return bytes(out[:want])

    def _read_mini(self, start: int, want: int) -> bytes:
        if self._minifat is None:
            raw = b"".join(self._sector(s) for s in self._chain(self.first_minifat, self.fat))
            self._minifat = struct.unpack(f"<{len(raw) // 4}I", raw)
            root_start = self.entries[0][2]
            self._ministream = b"".join(self._sector(s) for s in self._chain(root_start, self.fat))
        out = bytearray()
        for sid in self._chain(start, self._minifat):
            off = sid * self.mini_sector_size
            out += self._ministream[off: off + self.mini_sector_size]
            if len(out) >= want:
                break
        return bytes(out[:want])
