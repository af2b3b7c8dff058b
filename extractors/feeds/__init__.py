"""Vulnerability feeds and SBOMs the hospital drops into the inbox, recognised by content (issue 15).

`detect(path)` looks at the first bytes: JSON (an object or array) → "json", gzip holding JSON → "json.gz"
(inflated up to the JSON size cap); XML whose root is a JVN VULDEF document → "xml"; anything else → None (the
file goes to the form readers). `read_feed(path, sha256)` turns
the file into a `Document`:

- NVD CVE API 2.0 JSON (`vulnerabilities[].cve`) → family `vuln_feed` (`nvd.py`);
- JVN iPedia MyJVN `getVulnDetailInfo` XML (`VULDEF-Document/Vulinfo`) → family `vuln_feed` (`jvn.py`, read
  as a stream through the hardened parser extractors/readers/xmlsafe.py);
- CycloneDX JSON (`bomFormat: CycloneDX`) and SPDX 2.x JSON (`spdxVersion`) → family `sbom` (`sbom.py`).

Bad input is an `ExtractionError` with a Japanese reason (the file goes to failed/): malformed JSON or XML,
a JSON of another kind, a file over the size limit (an NVD feed and the JVN XML are streamed element by element;
other JSON is parsed whole, so its size is capped below the worker's memory limit), too deep a nesting.
"""
from __future__ import annotations

import gzip
import json
import logging
import zlib
from pathlib import Path

from extractors.feeds.common import corrupt, too_large
from extractors.model import Document, ExtractionError

log = logging.getLogger(__name__)
MAX_JSON_BYTES = 64 * 1024 * 1024  # parsed whole (SBOMs, other JSON): ~10× in memory, under the worker's 2 GB limit
MAX_NVD_BYTES = 1024 * 1024 * 1024  # an NVD feed file, streamed (extractors/feeds/nvd_stream.py)
MAX_XML_BYTES = 256 * 1024 * 1024  # streamed element by element
_HEAD = 4096
GZIP_MAGIC = b"\x1f\x8b"


def _head(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(_HEAD)


def _gunzip_head(head: bytes) -> bytes:
    """The first inflated bytes of a gzip stream (what a cut or damaged file still gives)."""
    try:
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, _HEAD)
    except zlib.error:
        return b""


def detect(path: Path | str) -> str | None:
    try:
        head = _head(Path(path))
    except OSError:
        return None
    if head.startswith(GZIP_MAGIC):  # NVD data feeds come gzipped (nvdcve-2.0-YYYY.json.gz)
        inner = _gunzip_head(head).lstrip(b"\xef\xbb\xbf \t\r\n")
        return "json.gz" if inner[:1] in (b"{", b"[") else None
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] in (b"{", b"["):
        return "json"
    if text.startswith(b"<") and (b"VULDEF-Document" in head or b"jvn.jp/vuldef" in head):
        return "xml"
    return None


def _load_json(path: Path, gzipped: bool = False) -> object:
    if path.stat().st_size > MAX_JSON_BYTES:
        raise too_large(path, MAX_JSON_BYTES, "JSON ファイル")
    if gzipped:  # inflated up to the same cap: a gzip bomb stops there
        try:
            with gzip.open(path, "rb") as f:
                data = f.read(MAX_JSON_BYTES + 1)
        except (OSError, EOFError, zlib.error) as exc:
            raise corrupt("gzip で圧縮された JSON ファイル", "圧縮データの誤り") from exc
        if len(data) > MAX_JSON_BYTES:
            raise too_large(path, MAX_JSON_BYTES, "gzip で圧縮された JSON ファイル（展開後）", len(data))
    else:
        data = path.read_bytes()
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise corrupt("JSON ファイル", "文字コードが UTF-8 ではありません") from exc
    except RecursionError as exc:
        raise corrupt("JSON ファイル", "入れ子が深すぎます") from exc
    except ValueError as exc:  # JSONDecodeError, or a number too long to convert
        raise corrupt("JSON ファイル", f"構文の誤り: {str(exc)[:80]}") from exc


def read_feed(path: Path | str, sha256: str, kind: str | None = None) -> Document:
    path = Path(path)
    kind = kind or detect(path)
    if kind == "xml":
        from extractors.feeds.jvn import read_jvn

        if path.stat().st_size > MAX_XML_BYTES:
            raise too_large(path, MAX_XML_BYTES, "XML ファイル")
        return read_jvn(path, sha256)
    from extractors.feeds import nvd, sbom
    from extractors.feeds.nvd_stream import read_nvd_stream

    if path.stat().st_size <= MAX_NVD_BYTES:  # an NVD feed is read element by element, whatever its size
        streamed = read_nvd_stream(path, sha256, gzipped=kind == "json.gz")
        if streamed is not None:
            log.info("file %s: NVD CVE API JSON (streamed)", path.name)
            return streamed
    data = _load_json(path, gzipped=kind == "json.gz")

    try:
        if nvd.is_nvd(data):
            log.info("file %s: NVD CVE API JSON", path.name)
            return nvd.read_nvd(data, path.name, sha256)
        if sbom.is_cyclonedx(data):
            log.info("file %s: CycloneDX JSON", path.name)
            return sbom.read_cyclonedx(data, path.name, sha256)
        if sbom.is_spdx(data):
            log.info("file %s: SPDX JSON", path.name)
            return sbom.read_spdx(data, path.name, sha256)
    except RecursionError as exc:
        raise corrupt("JSON ファイル", "入れ子が深すぎます") from exc
    raise ExtractionError(
        "JSON ファイルですが、対応している形式（NVD CVE API 2.0 の脆弱性情報、CycloneDX または SPDX の SBOM）の"
        "いずれでもありません。開示書・機器台帳・脆弱性情報・SBOM のどれでもないため読み取りを中止しました。", "not_a_form")
