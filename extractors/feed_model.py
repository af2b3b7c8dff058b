"""What a vulnerability feed or an SBOM says, entry by entry, with where each entry was read (issue 15).

A feed file (NVD CVE API 2.0 JSON, JVN iPedia MyJVN getVulnDetailInfo XML) becomes a `Document` of family
`vuln_feed` whose `vulnerabilities` are `VulnEntry` rows; an SBOM (CycloneDX JSON, SPDX 2.x JSON) a `Document`
of family `sbom` whose `components` are `Component` rows. These are plain records: matching them to devices is
the rules' job (rules/vuln_match.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from extractors.model import Location


@dataclass
class CpeMatch:
    """One affected-product statement: a CPE 2.3 name and the version range it applies to."""

    criteria: str  # "cpe:2.3:a:vendor:product:version:..." ("" for a JVN product named without CPE)
    vulnerable: bool = True
    version_start_including: str = ""
    version_start_excluding: str = ""
    version_end_including: str = ""
    version_end_excluding: str = ""
    vendor_name: str = ""  # JVN: the vendor as printed (when there is no CPE)
    product_name: str = ""  # JVN: the product as printed
    versions: list[str] = field(default_factory=list)  # JVN VersionNumber texts (free text, e.g. 「3.1 およびそれ以前」)


@dataclass
class VulnEntry:
    vuln_id: str  # CVE-YYYY-NNNN or JVNDB-YYYY-NNNNNN
    source: str  # "nvd" | "jvn"
    description: str = ""  # Japanese when the feed has it, else English
    cvss: float | None = None  # the highest base score given (v4.0, v3.1, v3.0)
    cvss_version: str = ""  # "4.0" | "3.1" | "3.0"
    severity: str = ""  # as the feed writes it (CRITICAL, HIGH, 緊急 …)
    related_ids: list[str] = field(default_factory=list)  # JVN: the CVE ids it refers to
    published: str = ""
    matches: list[CpeMatch] = field(default_factory=list)
    location: Location | None = None

    def label(self) -> str:
        extra = [i for i in self.related_ids if i != self.vuln_id]
        return self.vuln_id + (f"（{'、'.join(extra)}）" if extra else "")


@dataclass
class Component:
    """One SBOM component (CycloneDX `components[]`, SPDX `packages[]`)."""

    name: str
    version: str = ""
    purl: str = ""
    cpe: str = ""
    supplier: str = ""
    location: Location | None = None


def _location(d: dict | None) -> Location | None:
    return Location(**d) if d else None


def entries_from_dicts(rows: list[dict]) -> list[VulnEntry]:
    out = []
    for row in rows or []:
        row = dict(row)
        row["matches"] = [CpeMatch(**m) for m in row.get("matches") or []]
        row["location"] = _location(row.get("location"))
        out.append(VulnEntry(**row))
    return out


def components_from_dicts(rows: list[dict]) -> list[Component]:
    out = []
    for row in rows or []:
        row = dict(row)
        row["location"] = _location(row.get("location"))
        out.append(Component(**row))
    return out
