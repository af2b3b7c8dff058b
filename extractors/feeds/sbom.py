"""SBOMs from vendors: CycloneDX JSON (1.2–1.6) and SPDX 2.x JSON → a `Document` of family `sbom`.

The document's vendor and product are the SBOM's subject: CycloneDX `metadata.manufacturer` / `manufacture` /
`supplier` (or the subject component's supplier, manufacturer, publisher, author) and `metadata.component`
name and version; SPDX: the described package (`documentDescribes`, or the DESCRIBES relationship) with its
`supplier` / `originator` (else the `Organization:` creator) and `versionInfo`. Each other component or package
is a `Component` (name, version, purl, CPE, supplier). A subject whose vendor cannot be read is flagged in the
warnings: the SBOM is then matched to devices by nothing but its product.
"""
from __future__ import annotations

import datetime as dt
import re

from extractors.model import Component
from extractors.feeds.common import as_dict, as_list, as_text, corrupt
from extractors.model import Document, Location

MAX_COMPONENTS = 200_000


def is_cyclonedx(data) -> bool:
    return isinstance(data, dict) and str(data.get("bomFormat", "")).lower() == "cyclonedx"


def is_spdx(data) -> bool:
    return isinstance(data, dict) and str(data.get("spdxVersion", "")).upper().startswith("SPDX-2")


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def _org(value) -> str:
    """A CycloneDX organizational entity ({name}) or an SPDX 「Organization: X (mail)」 string → the name."""
    if isinstance(value, dict):
        return as_text(value.get("name"), 300)
    text = as_text(value, 300)
    if text.upper() == "NOASSERTION":
        return ""
    text = re.sub(r"^(Organization|Person|Tool)\s*:\s*", "", text, flags=re.I)
    return re.sub(r"\s*\([^()]*@[^()]*\)\s*$", "", text).strip()


def _new(source: str, sha256: str, form: str) -> Document:
    return Document(source_file=source, sha256=sha256, family="sbom", format="json", form_version=form)


def _finish(doc: Document) -> Document:
    if not doc.vendor:
        doc.vendor_needs_review = True
        doc.warnings.append("SBOM の提供元（製造業者・供給者）を読み取れませんでした")
    if not doc.product:
        doc.warnings.append("SBOM の対象製品名を読み取れませんでした")
    if not doc.components:
        doc.warnings.append("SBOM に構成要素（components / packages）が 1 件もありません")
    return doc


def read_cyclonedx(data: dict, source: str, sha256: str) -> Document:
    doc = _new(source, sha256, f"CycloneDX {as_text(data.get('specVersion'), 10)}".strip())
    meta = as_dict(data.get("metadata"))
    subject = as_dict(meta.get("component"))
    doc.vendor = next((v for v in (_org(meta.get("manufacturer")), _org(meta.get("manufacture")),
                                    _org(meta.get("supplier")), _org(subject.get("supplier")),
                                    _org(subject.get("manufacturer")), as_text(subject.get("publisher"), 300),
                                    as_text(subject.get("author"), 300)) if v), "")
    doc.product, doc.product_version = as_text(subject.get("name"), 300), as_text(subject.get("version"), 100)
    doc.created = _date(as_text(meta.get("timestamp"), 40))
    if "components" in data and not isinstance(data["components"], list):
        raise corrupt("CycloneDX の SBOM", "components が一覧になっていません")
    stack = [(c, f"components[{i}]") for i, c in enumerate(as_list(data.get("components")))]
    while stack and len(doc.components) < MAX_COMPONENTS:
        comp, where = stack.pop(0)
        comp = as_dict(comp)
        name = as_text(comp.get("name"), 300)
        if name:
            doc.components.append(Component(
                name=name, version=as_text(comp.get("version"), 100), purl=as_text(comp.get("purl"), 500),
                cpe=as_text(comp.get("cpe"), 500),
                supplier=_org(comp.get("supplier")) or as_text(comp.get("publisher"), 300),
                location=Location(file=source, cell=where, row=len(doc.components) + 1)))
        stack += [(c, f"{where}.components[{i}]") for i, c in enumerate(as_list(comp.get("components")))]
    return _finish(doc)


def _refs(package: dict) -> tuple[str, str]:
    cpe = purl = ""
    for ref in as_list(package.get("externalRefs")):
        ref = as_dict(ref)
        kind, locator = as_text(ref.get("referenceType")).lower(), as_text(ref.get("referenceLocator"), 500)
        if kind in ("cpe23type", "cpe22type") and not cpe:
            cpe = locator
        elif kind == "purl" and not purl:
            purl = locator
    return cpe, purl


def read_spdx(data: dict, source: str, sha256: str) -> Document:
    doc = _new(source, sha256, as_text(data.get("spdxVersion"), 20))
    if "packages" in data and not isinstance(data["packages"], list):
        raise corrupt("SPDX の SBOM", "packages が一覧になっていません")
    packages = [as_dict(p) for p in as_list(data.get("packages"))][:MAX_COMPONENTS]
    described = {as_text(x) for x in as_list(data.get("documentDescribes"))}
    described |= {as_text(as_dict(r).get("relatedSpdxElement")) for r in as_list(data.get("relationships"))
                  if as_text(as_dict(r).get("relationshipType")).upper() == "DESCRIBES"
                  and as_text(as_dict(r).get("spdxElementId")) == "SPDXRef-DOCUMENT"}
    subject = next((p for p in packages if as_text(p.get("SPDXID")) in described), {})
    info = as_dict(data.get("creationInfo"))
    creators = [_org(c) for c in as_list(info.get("creators")) if as_text(c).lower().startswith("organization")]
    doc.vendor = _org(subject.get("supplier")) or _org(subject.get("originator")) or next(iter(creators), "")
    doc.product = as_text(subject.get("name"), 300) or as_text(data.get("name"), 300)
    doc.product_version = as_text(subject.get("versionInfo"), 100)
    doc.created = _date(as_text(info.get("created"), 40))
    for i, package in enumerate(packages):
        if package is subject or not as_text(package.get("name")):
            continue
        cpe, purl = _refs(package)
        doc.components.append(Component(
            name=as_text(package.get("name"), 300), version=as_text(package.get("versionInfo"), 100), purl=purl,
            cpe=cpe, supplier=_org(package.get("supplier")),
            location=Location(file=source, cell=f"packages[{i}]", row=len(doc.components) + 1)))
    return _finish(doc)
