"""JVN iPedia MyJVN API `getVulnDetailInfo` XML (VULDEF 3.x): one `VulnEntry` per `Vulinfo`, read as a stream.

Per entry: `VulinfoID` (JVNDB-…), the title and overview (Japanese), the CVSS v3 base score (`Impact/Cvss
version="3.x"/Base`, else v4, else nothing: a v2-only score is kept out of the CVSS thresholds), every
`Affected/AffectedItem` (vendor `Name`, `ProductName`, `VersionNumber` texts, `Cpe` in CPE 2.2 or 2.3 form),
and the CVE ids of `Related/RelatedItem/VulinfoID`. Elements are matched by local name, so the VULDEF and MyJVN
namespaces (and their versions) do not matter. Parsing goes through the hardened parser (no entities, no DTD,
no network, libxml2's size limits); each `Vulinfo` is dropped from memory once read.
"""
from __future__ import annotations

import re

from lxml import etree

from extractors.model import CpeMatch, VulnEntry
from extractors.feeds.common import as_score, corrupt
from extractors.model import Document, ExtractionError, Location
from extractors.readers.xmlsafe import iterparse

CVE_ID = re.compile(r"CVE-\d{4}-\d{4,}")


def _local(el) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _children(el, name: str) -> list:
    return [c for c in el if _local(c) == name]


def _child(el, *path: str):
    for name in path:
        if el is None:
            return None
        el = next(iter(_children(el, name)), None)
    return el


def _text(el, limit: int = 4000) -> str:
    """The element's text; JVN escapes HTML inside it (「&lt;ul&gt;&lt;li&gt;…」): the tags become spaces."""
    if el is None:
        return ""
    text = re.sub(r"<[^<>]{1,200}>", " ", "".join(el.itertext()))
    return re.sub(r"[ \t]{2,}", " ", text).strip()[:limit]


def _cvss(impact) -> tuple[float | None, str, str]:
    found = {}
    for cvss in _children(impact, "Cvss") if impact is not None else []:
        version = (cvss.get("version") or "").strip()
        value = as_score(_text(_child(cvss, "Base"), 20))
        if value is not None:
            found.setdefault(version[:1], (value, version, _text(_child(cvss, "Severity"), 40)))
    return found.get("3") or found.get("4") or (None, "", "")


def _affected(data) -> list[CpeMatch]:
    out = []
    for item in _children(_child(data, "Affected"), "AffectedItem") if _child(data, "Affected") is not None else []:
        versions = [_text(v, 200) for v in _children(item, "VersionNumber") if _text(v)]
        cpes = [_text(c, 500) for c in _children(item, "Cpe") if _text(c).lower().startswith("cpe:")]
        vendor, product = _text(_child(item, "Name"), 200), _text(_child(item, "ProductName"), 200)
        for cpe in cpes or [""]:
            out.append(CpeMatch(criteria=cpe, vendor_name=vendor, product_name=product, versions=list(versions)))
    return out


def _entry(vulinfo, source: str, n: int) -> VulnEntry | None:
    vid = _text(_child(vulinfo, "VulinfoID"), 40)
    data = _child(vulinfo, "VulinfoData")
    if not vid or data is None:
        return None
    value, version, severity = _cvss(_child(data, "Impact"))
    related = [vid]
    for item in _children(_child(data, "Related"), "RelatedItem") if _child(data, "Related") is not None else []:
        ref = _text(_child(item, "VulinfoID"), 40)
        if CVE_ID.fullmatch(ref) and ref not in related:
            related.append(ref)
    title = _text(_child(data, "Title"), 500)
    overview = _text(_child(data, "VulinfoDescription", "Overview"))
    return VulnEntry(vuln_id=vid, source="jvn", description="\n".join(x for x in (title, overview) if x),
                     cvss=value, cvss_version=version, severity=severity, related_ids=related,
                     published=_text(_child(data, "DateFirstPublished"), 40) or _text(_child(data, "DatePublic"), 40),
                     matches=_affected(data), location=Location(file=source, cell=f"Vulinfo[{n}] {vid}", row=n + 1))


def read_jvn(path, sha256: str) -> Document:
    doc = Document(source_file=path.name, sha256=sha256, family="vuln_feed", format="xml", vendor="",
                   product="JVN iPedia MyJVN API")
    doc.header_fields = {"形式": "JVN iPedia MyJVN getVulnDetailInfo XML"}
    n = skipped = 0
    try:
        for _, el in iterparse(str(path), events=("end",), part=path.name):
            if _local(el) != "Vulinfo":
                continue
            entry = _entry(el, path.name, n)
            n += 1
            if entry is None:
                skipped += 1
            else:
                doc.vulnerabilities.append(entry)
            el.clear()
            while el.getprevious() is not None:  # drop read siblings: memory stays flat on large feeds
                del el.getparent()[0]
    except ExtractionError:
        raise
    except etree.XMLSyntaxError as exc:
        raise corrupt("JVN iPedia の脆弱性情報（XML）", f"XML の誤り: {str(exc)[:80]}") from exc
    if skipped:
        doc.warnings.append(f"JVNDB 番号のない項目が {skipped} 件あり、読み飛ばしました")
    if not doc.vulnerabilities:
        doc.warnings.append("脆弱性情報が 1 件も含まれていません")
    doc.header_fields["件数"] = str(len(doc.vulnerabilities))
    return doc
