"""The one hardened XML parser for vendor files: every XML part our readers parse goes through here.

Options (lxml 6): no entity is substituted (`resolve_entities=False`: a reference stays a reference), no
DTD is loaded or validated against, no default attributes are injected from one, nothing is fetched over
the network, gzip input is not inflated, and libxml2's limits on depth and text size stay on
(`huge_tree=False`).

Office never writes a DTD into an OOXML part. `check_package` runs before openpyxl or python-docx open a
package: a part that declares entities (the billion-laughs bomb, an external SYSTEM entity) or names an
external DTD refuses the whole file as corrupt, with a Japanese reason. `parse_xml` / `iterparse` apply
the same rule to every part they parse, so a part the package check could not read is still refused.

The libraries' own parses: python-docx parses the parts it models with its `oxml_parser`
(`resolve_entities=False`, libxml2's other defaults: no network, no DTD, no huge trees); openpyxl parses
with lxml (`resolve_entities=False`) and iterates worksheets with the standard library's expat (or
defusedxml when installed). Neither sees a part with a DTD: `check_package` refuses it first.
"""
from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

from lxml import etree

from extractors.model import ExtractionError

# The parser options shared by `parse_xml` and `iterparse` (iterparse has no `decompress`).
_COMMON = dict(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
               attribute_defaults=False, huge_tree=False)
_HEAD_CHUNK = 16 * 1024


def unsafe(part: str, what: str) -> ExtractionError:
    """The refusal of a part that declares entities or an external DTD (a plain ExtractionError, so that
    it pickles across worker processes)."""
    where = f"「{part}」" if part else ""
    return ExtractionError(
        f"ファイル内の XML 部品{where}に{what}が含まれています。Office が保存するファイルには無いもので、"
        "外部ファイルの読み込みや実体展開による攻撃の恐れがあるため読み取りを中止しました。"
        "事業者に、作成したソフトで保存し直したファイルの再送を依頼してください。",
        "corrupt",
    )


def parser(recover: bool = False, remove_blank_text: bool = False) -> etree.XMLParser:
    """A new hardened parser (lxml parsers are not shared between threads)."""
    return etree.XMLParser(decompress=False, recover=recover, remove_blank_text=remove_blank_text, **_COMMON)


def parse_xml(data: bytes, part: str = "", recover: bool = False) -> etree._Element:
    """Parse one vendor XML part. Raises etree.XMLSyntaxError when malformed (None root only with
    `recover`), the `unsafe` ExtractionError when it declares entities or an external DTD."""
    root = etree.fromstring(data, parser(recover=recover))
    if root is not None:
        _refuse_dtd(root.getroottree().docinfo, part)
    return root


def iterparse(source, tag=None, events=("end",), part: str = ""):
    """`etree.iterparse` with the hardened options; the DTD is checked at the first event."""
    checked = False
    for event, el in etree.iterparse(source, events=events, tag=tag, **_COMMON):
        if not checked:
            checked = True
            _refuse_dtd(el.getroottree().docinfo, part)
        yield event, el


def _refuse_dtd(docinfo, part: str) -> None:
    dtd = docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.entities()):
        raise unsafe(part, "実体宣言（DTD の ENTITY）")
    if docinfo.system_url or docinfo.public_id:
        raise unsafe(part, "外部 DTD への参照")


def check_package(path: Path | str) -> None:
    """Refuse an Office package if any XML member declares entities or an external DTD.

    Only each member's prolog is read (up to its root element), so the cost is a few KB per part.
    Members that are not XML (pictures, binaries) are skipped by their first bytes, not their names:
    a part may hide behind any extension its content type declares.
    """
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return  # the reader's own open reports a broken package with its own message
    with zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            try:
                _check_member(zf, info)
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError, NotImplementedError,
                    ValueError, LookupError):
                continue  # a member that cannot be inflated: whichever library reads it reports the damage


def _check_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    with zf.open(info) as f:
        head = f.read(_HEAD_CHUNK)
        if not _looks_like_xml(head):
            return
        pull = etree.XMLPullParser(events=("start",), recover=True, **_COMMON)
        chunk = head
        while chunk:
            pull.feed(chunk)
            for _, el in pull.read_events():
                _refuse_dtd(el.getroottree().docinfo, info.filename)
                return
            chunk = f.read(_HEAD_CHUNK)
    # No element at all: a prolog-only part; entity declarations there are refused too.
    if b"<!ENTITY" in head or b"<\x00!\x00E\x00N\x00T\x00I\x00T\x00Y" in head:
        raise unsafe(info.filename, "実体宣言（DTD の ENTITY）")


def _looks_like_xml(head: bytes) -> bool:
    if head.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return True
    return head.lstrip(b" \t\r\n").startswith(b"<")
