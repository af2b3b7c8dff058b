"""An NVD JSON read as a stream: one `vulnerabilities[]` element at a time (yearly data feeds run to hundreds of
MB; parsing them whole would need gigabytes).

The text is decoded incrementally (UTF-8, gzip inflated on the fly); the top-level `"vulnerabilities": [` is
found in the first MiB (the NVD writes it after a few small header fields) and must be the NVD's: the header's
`format` is NVD_CVE, or its first element is `{"cve": …}` (a CycloneDX SBOM has a `vulnerabilities` array too).
Each element is decoded with `json.JSONDecoder.raw_decode` once it is complete in the buffer, turned into a
VulnEntry and dropped. Limits: the whole text (`MAX_TEXT_CHARS`), one element (`MAX_ITEM_CHARS`). A file whose array is not found there returns
None: the caller parses it whole, under its own size cap.
"""
from __future__ import annotations

import codecs
import gzip
import json
import re
import zlib
from pathlib import Path

from extractors.feeds import nvd
from extractors.feeds.common import corrupt
from extractors.model import Document, ExtractionError

CHUNK = 1 << 20
HEAD_LIMIT = 1 << 20  # the array must start within the first MiB
MAX_ITEM_CHARS = 8 << 20
MAX_TEXT_CHARS = 2 << 30
ARRAY = re.compile(r'(?<!\\)"vulnerabilities"\s*:\s*\[')
FIRST_CVE = re.compile(r'\s*\{\s*"cve"\s*:')  # an NVD element: {"cve": …}
WHAT = "NVD の脆弱性情報（JSON）"


def _field(head: str, key: str) -> str:
    m = re.search(rf'(?<!\\)"{key}"\s*:\s*"([^"\\]{{0,100}})"', head)
    return m.group(1) if m else ""


class _Text:
    """Decoded text of the file, read on demand."""

    def __init__(self, path: Path, gzipped: bool):
        self.raw = gzip.open(path, "rb") if gzipped else open(path, "rb")
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.total = 0
        self.eof = False

    def read(self) -> str:
        try:
            data = self.raw.read(CHUNK)
            text = self.decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            raise corrupt(WHAT, "文字コードが UTF-8 ではありません") from exc
        except (OSError, EOFError, zlib.error) as exc:
            raise corrupt(WHAT, "圧縮データの誤り、又は途中で切れています") from exc
        self.eof = not data
        self.total += len(text)
        if self.total > MAX_TEXT_CHARS:
            raise ExtractionError(f"{WHAT}が大きすぎます（{MAX_TEXT_CHARS >> 30} GB 超）。取得する期間を分けて"
                                  "保存し直してください。", "too_large")
        return text

    def close(self) -> None:
        self.raw.close()


def read_nvd_stream(path: Path, sha256: str, gzipped: bool = False) -> Document | None:
    text = _Text(path, gzipped)
    try:
        return _read(text, path.name, sha256)
    finally:
        text.close()


def _read(text: _Text, source: str, sha256: str) -> Document | None:
    buf = ""
    while True:
        m = ARRAY.search(buf)
        if m:
            break
        if text.eof or len(buf) > HEAD_LIMIT:
            return None
        buf += text.read()
    head = buf[: m.start()]
    if not _field(head, "format").upper().startswith("NVD_CVE"):  # as nvd.is_nvd decides for a parsed file
        while len(buf) - m.end() < 256 and not text.eof:
            buf += text.read()
        if not FIRST_CVE.match(buf, m.end()):
            return None  # another JSON with a "vulnerabilities" array (a CycloneDX SBOM's, say)
    doc = nvd.new_document(source, sha256, _field(head, "version"), _field(head, "timestamp"))
    decoder = json.JSONDecoder()
    buf, pos, n, skipped = buf[m.end():], 0, 0, 0
    while True:
        while pos < len(buf) and buf[pos] in " \t\r\n,":
            pos += 1
        if pos < len(buf) and buf[pos] == "]":
            return nvd.finish(doc, skipped)
        try:
            if pos >= len(buf):
                raise json.JSONDecodeError("need more", buf, pos)
            item, end = decoder.raw_decode(buf, pos)
        except json.JSONDecodeError as exc:
            if text.eof:
                raise corrupt(WHAT, f"{n + 1} 件目で途中で切れているか構文の誤りがあります") from exc
            if len(buf) - pos > MAX_ITEM_CHARS:
                raise corrupt(WHAT, f"{n + 1} 件目が大きすぎるか構文の誤りがあります") from exc
            buf, pos = buf[pos:] + text.read(), 0
            continue
        except RecursionError as exc:
            raise corrupt(WHAT, "入れ子が深すぎます") from exc
        except ValueError as exc:  # a number too long to convert
            raise corrupt(WHAT, f"{n + 1} 件目の値の誤り") from exc
        found = nvd.entry(item, n, source)
        if found is None:
            skipped += 1
        else:
            doc.vulnerabilities.append(found)
        n += 1
        pos = end
        if pos > CHUNK:
            buf, pos = buf[pos:], 0
