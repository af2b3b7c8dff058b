"""NVD CVE API 2.0 JSON (`/rest/json/cves/2.0` responses, saved as files): one `VulnEntry` per `vulnerabilities[].cve`.

Per CVE: the id, the description (Japanese when the feed has one, else English), the CVSS base score and
severity (v3.1, else v3.0, else v4.0: the maintenance contracts' thresholds are written in CVSS v3 base scores;
the NVD's own "Primary" score first), and every `configurations[].nodes[].cpeMatch` with its version range.
A CVE without an id is skipped with a warning; a file with no CVE at all is still a (empty) feed, warned.
"""
from __future__ import annotations

from extractors.model import CpeMatch, VulnEntry
from extractors.feeds.common import as_dict, as_list, as_score, as_text, corrupt
from extractors.model import Document, Location

METRIC_KEYS = (("cvssMetricV31", "3.1"), ("cvssMetricV30", "3.0"), ("cvssMetricV40", "4.0"))
RANGE_KEYS = (("versionStartIncluding", "version_start_including"),
              ("versionStartExcluding", "version_start_excluding"),
              ("versionEndIncluding", "version_end_including"), ("versionEndExcluding", "version_end_excluding"))


def is_nvd(data) -> bool:
    if not isinstance(data, dict) or "vulnerabilities" not in data:
        return False
    if str(data.get("format", "")).upper().startswith("NVD_CVE"):
        return True
    items = as_list(data.get("vulnerabilities"))
    return bool(items) and isinstance(items[0], dict) and "cve" in items[0]


def description(descriptions) -> str:
    by_lang = {}
    for d in as_list(descriptions):
        d = as_dict(d)
        lang = as_text(d.get("lang")).lower()
        if lang and lang not in by_lang and as_text(d.get("value")):
            by_lang[lang] = as_text(d.get("value"))
    return by_lang.get("ja") or by_lang.get("en") or next(iter(by_lang.values()), "")


def score(metrics) -> tuple[float | None, str, str]:
    """(base score, CVSS version, severity) of the preferred metric."""
    metrics = as_dict(metrics)
    for key, version in METRIC_KEYS:
        rows = [as_dict(m) for m in as_list(metrics.get(key))]
        rows.sort(key=lambda m: m.get("type") != "Primary")
        for m in rows:
            data = as_dict(m.get("cvssData"))
            value = as_score(data.get("baseScore"))
            if value is not None:
                return value, version, as_text(data.get("baseSeverity") or m.get("baseSeverity"))
    return None, "", ""


def cpe_matches(configurations) -> list[CpeMatch]:
    out = []
    stack = [as_dict(n) for c in as_list(configurations) for n in as_list(as_dict(c).get("nodes"))]
    seen = 0
    while stack and seen < 100_000:
        node = stack.pop(0)
        seen += 1
        stack += [as_dict(n) for n in as_list(node.get("children"))]  # older nested form
        for m in as_list(node.get("cpeMatch")):
            m = as_dict(m)
            criteria = as_text(m.get("criteria") or m.get("cpe23Uri"), 500)
            if not criteria.lower().startswith("cpe:"):
                continue
            match = CpeMatch(criteria=criteria, vulnerable=m.get("vulnerable", True) is not False)
            for key, attr in RANGE_KEYS:
                setattr(match, attr, as_text(m.get(key), 100))
            out.append(match)
    return out


def entry(wrapper, n: int, source: str) -> VulnEntry | None:
    """One `vulnerabilities[n]` element as a VulnEntry; None when it carries no CVE id."""
    cve = as_dict(as_dict(wrapper).get("cve"))
    cve_id = as_text(cve.get("id"), 40)
    if not cve_id:
        return None
    value, version, severity = score(cve.get("metrics"))
    return VulnEntry(
        vuln_id=cve_id, source="nvd", description=description(cve.get("descriptions")), cvss=value,
        cvss_version=version, severity=severity, related_ids=[cve_id], published=as_text(cve.get("published"), 40),
        matches=cpe_matches(cve.get("configurations")),
        location=Location(file=source, cell=f"vulnerabilities[{n}]", row=n + 1))


def new_document(source: str, sha256: str, version: str, timestamp: str) -> Document:
    doc = Document(source_file=source, sha256=sha256, family="vuln_feed", format="json", vendor="",
                   product="NVD CVE API", product_version=version)
    doc.header_fields = {"形式": "NVD CVE API 2.0 JSON", "取得日時": timestamp}
    return doc


def finish(doc: Document, skipped: int) -> Document:
    doc.header_fields["件数"] = str(len(doc.vulnerabilities))
    if skipped:
        doc.warnings.append(f"CVE 番号のない項目が {skipped} 件あり、読み飛ばしました")
    if not doc.vulnerabilities:
        doc.warnings.append("脆弱性情報が 1 件も含まれていません")
    return doc


def read_nvd(data: dict, source: str, sha256: str) -> Document:
    items = data.get("vulnerabilities")
    if not isinstance(items, list):
        raise corrupt("NVD の脆弱性情報（JSON）", "vulnerabilities が一覧になっていません")
    doc = new_document(source, sha256, as_text(data.get("version")), as_text(data.get("timestamp")))
    skipped = 0
    for n, wrapper in enumerate(items):
        found = entry(wrapper, n, source)
        if found is None:
            skipped += 1
        else:
            doc.vulnerabilities.append(found)
    return finish(doc, skipped)
