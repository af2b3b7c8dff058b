"""Vulnerability feed and SBOM samples (issue 15): `python -m samples.build --out DIR --only feeds`.

Everything is fictional: the makers, the products, the CVE ids (year 2099) and the JVNDB ids. Written:
- a device ledger (UTF-8 CSV with BOM) with a software version column;
- an NVD CVE API 2.0 JSON page and a JVN iPedia MyJVN getVulnDetailInfo XML;
- a CycloneDX JSON SBOM (a ledger device's product) and an SPDX 2.3 JSON SBOM (a product not in the ledger,
  saved with a .txt name: recognised by content);
- two NEMA MDS2 worksheets: SBOM-1 「No」 from the maker whose SBOM was received, 「Yes」 from a maker who
  sent none.
Truth: per device `cve_ids`, `max_cvss`, `review` (an uncertain candidate expected), and in the NVD file's truth
`expected_findings` (rule, vendor, product, vulnerability id) for the whole set.
"""
from __future__ import annotations

import json
from pathlib import Path

from samples.spec import NO, YES, Submission

AS_OF = "2026-06-01"
CRIT, HIGH = "vulnerability.cvss_critical", "vulnerability.cvss_high"
SBOM_NO, SBOM_MISSING = "inconsistency.mds2_sbom_answer_file", "missing_document.mds2_sbom_file_missing"
AOBA, SHIRASAGI, HOSHI, KUMO, TSUBAME = ("Aoba Medical Systems", "株式会社しらさぎ電子", "Hoshi Imaging Corp.",
                                         "Kumo Labs Inc.", "Tsubame Devices Inc.")

# (name, department, maker, product, model, software version, OS, truth)
DEVICES = [
    ("生体情報モニタ", "ICU", AOBA, "VitalWave Monitor", "VW-800", "3.2.1", "Windows 10 IoT Enterprise LTSC 2021",
     dict(cve_ids=["CVE-2099-10001"], max_cvss=9.8, review=False)),
    ("輸液ポンプ管理サーバ", "薬剤部", AOBA, "InfuLink Server", "IL-2", "", "Windows Server 2022 Standard",
     dict(cve_ids=[], max_cvss=None, review=True)),  # affected range given, version not in the ledger
    ("内視鏡画像ファイリング", "内視鏡室", SHIRASAGI, "しらさぎ画像ファイリング", "SF-5", "5.0", "Ubuntu 24.04 LTS",
     dict(cve_ids=["CVE-2099-20001"], max_cvss=7.5, review=False)),  # JVN: maker and product named, no CPE
    ("超音波画像診断装置", "生理検査室", HOSHI, "EchoStar 5", "ES-5", "2.4", "Windows 10 IoT Enterprise LTSC 2021",
     dict(cve_ids=["CVE-2099-10005", "CVE-2099-10009"], max_cvss=8.1, review=True)),  # through its SBOM (CPE; a
    # package named as CPE names a project) and a candidate named by its purl only
    ("検査ナビ端末", "検査科", KUMO, "LabNavi Ver.1.7", "LN-1", "", "RHEL 9.4",
     dict(cve_ids=["CVE-2099-10004"], max_cvss=7.2, review=False)),  # the version written in the product cell
]

EXPECTED_FINDINGS = [
    {"rule_id": CRIT, "vendor": AOBA, "product": "VitalWave Monitor", "vuln_id": "CVE-2099-10001"},
    {"rule_id": HIGH, "vendor": SHIRASAGI, "product": "しらさぎ画像ファイリング", "vuln_id": "CVE-2099-20001"},
    {"rule_id": HIGH, "vendor": HOSHI, "product": "EchoStar 5", "vuln_id": "CVE-2099-10005"},
    {"rule_id": HIGH, "vendor": HOSHI, "product": "EchoStar 5", "vuln_id": "CVE-2099-10009"},
    {"rule_id": HIGH, "vendor": KUMO, "product": "LabNavi Ver.1.7", "vuln_id": "CVE-2099-10004"},
    {"rule_id": CRIT, "vendor": TSUBAME, "product": "WardLink Gateway", "vuln_id": "CVE-2099-10007"},
    {"rule_id": SBOM_NO, "vendor": HOSHI, "product": "EchoStar 5", "vuln_id": ""},
    {"rule_id": SBOM_MISSING, "vendor": KUMO, "product": "LabNavi", "vuln_id": ""},
]


def write_ledger(path: Path) -> dict:
    lines = ["機器名,設置場所,メーカー,製品名,型番,ソフトウェアバージョン,OS"]
    for name, dept, maker, product, model, version, os_raw, _ in DEVICES:
        cells = (name, dept, maker, product, model, version, os_raw)
        lines.append(",".join(f'"{x}"' if "," in x else x for x in cells))
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))
    rows = [{"row": i + 2, "device_name": d[0], "vendor": d[2], "product": d[3], **d[7]} for i, d in enumerate(DEVICES)]
    return {"file": path.name, "family": "device_ledger", "as_of": AS_OF, "devices": rows}


def _cve(cve_id: str, text_en: str, score: float, severity: str, matches: list[dict], ja: str = "",
         version: str = "3.1") -> dict:
    descriptions = [{"lang": "en", "value": text_en}] + ([{"lang": "ja", "value": ja}] if ja else [])
    key = {"3.1": "cvssMetricV31", "4.0": "cvssMetricV40"}[version]
    return {"cve": {
        "id": cve_id, "sourceIdentifier": "cna@example.invalid", "published": "2099-01-15T10:00:00.000",
        "lastModified": "2099-02-01T10:00:00.000", "vulnStatus": "Analyzed", "descriptions": descriptions,
        "metrics": {key: [{"source": "nvd@nist.gov", "type": "Primary",
                           "cvssData": {"version": version, "vectorString": f"CVSS:{version}/AV:N/AC:L/PR:N/UI:N",
                                        "baseScore": score, "baseSeverity": severity}}]},
        "configurations": [{"nodes": [{"operator": "OR", "negate": False, "cpeMatch": [
            {"vulnerable": True, "matchCriteriaId": f"00000000-0000-0000-0000-{n:012d}", **m}
            for n, m in enumerate(matches)]}]}],
        "references": [{"url": "https://example.invalid/advisory", "source": "cna@example.invalid"}]}}


def nvd_feed() -> dict:
    cves = [
        _cve("CVE-2099-10001", "Authentication bypass in the web console of VitalWave Monitor before 3.3.0.", 9.8,
             "CRITICAL", [{"criteria": "cpe:2.3:a:aoba_medical_systems:vitalwave_monitor:*:*:*:*:*:*:*:*",
                           "versionEndExcluding": "3.3.0"}],
             ja="VitalWave Monitor 3.3.0 未満のウェブ管理画面に認証回避の脆弱性があります。"),
        _cve("CVE-2099-10002", "Old flaw in VitalWave Monitor before 3.0.", 9.1, "CRITICAL",
             [{"criteria": "cpe:2.3:a:aoba_medical_systems:vitalwave_monitor:*:*:*:*:*:*:*:*",
               "versionEndExcluding": "3.0"}]),  # the ledger's 3.2.1 is past it: no match
        _cve("CVE-2099-10003", "Path traversal in InfuLink Server 1.x.", 8.8, "HIGH",
             [{"criteria": "cpe:2.3:a:aoba_medical_systems:infulink_server:*:*:*:*:*:*:*:*",
               "versionStartIncluding": "1.0", "versionEndExcluding": "2.0"}]),
        _cve("CVE-2099-10004", "Stored XSS in LabNavi before 1.8.", 7.2, "HIGH",
             [{"criteria": "cpe:2.3:a:kumo_labs:labnavi:*:*:*:*:*:*:*:*", "versionEndExcluding": "1.8"}]),
        _cve("CVE-2099-10005", "Heap overflow in tinyparse before 1.5.0.", 8.1, "HIGH",
             [{"criteria": "cpe:2.3:a:tinyparse_project:tinyparse:*:*:*:*:*:*:*:*", "versionEndExcluding": "1.5.0"}]),
        _cve("CVE-2099-10006", "Prototype pollution in fastjsonx before 2.1.", 7.5, "HIGH",
             [{"criteria": "cpe:2.3:a:jsonworks:fastjsonx:*:*:*:*:*:*:*:*", "versionEndExcluding": "2.1"}]),
        _cve("CVE-2099-10007", "Remote code execution in minihttpd 0.9 and earlier.", 9.1, "CRITICAL",
             [{"criteria": "cpe:2.3:a:minihttpd_project:minihttpd:*:*:*:*:*:*:*:*", "versionEndIncluding": "0.9"}],
             version="4.0"),
        _cve("CVE-2099-10008", "Denial of service in tinyparse 1.2 only.", 5.3, "MEDIUM",
             [{"criteria": "cpe:2.3:a:tinyparse_project:tinyparse:1.2:*:*:*:*:*:*:*"}]),
        _cve("CVE-2099-10009", "Log injection in safe-logger before 1.0.1.", 7.1, "HIGH",
             [{"criteria": "cpe:2.3:a:safe-logger_project:safe-logger:*:*:*:*:*:*:*:*",
               "versionEndExcluding": "1.0.1"}]),
    ]
    return {"resultsPerPage": len(cves), "startIndex": 0, "totalResults": len(cves), "format": "NVD_CVE",
            "version": "2.0", "timestamp": "2099-02-02T00:00:00.000", "vulnerabilities": cves}


JVN_ITEMS = [  # (JVNDB id, title, vendor, product, version text, cpe, cvss v3, related CVE)
    ("JVNDB-2099-000101", "しらさぎ画像ファイリングにおける SQL インジェクションの脆弱性", "しらさぎ電子株式会社",
     "しらさぎ画像ファイリング", "5.1 およびそれ以前", "", "7.5", "CVE-2099-20001"),
    ("JVNDB-2099-000102", "しらさぎ画像ファイリングにおける情報漏えいの脆弱性", "しらさぎ電子株式会社",
     "しらさぎ画像ファイリング", "4.0 未満", "", "8.2", "CVE-2099-20002"),  # 5.0 is not below 4.0: no match
]


def jvn_feed() -> str:
    items = []
    for vid, title, vendor, product, versions, cpe, score, cve in JVN_ITEMS:
        cpe_xml = f"\n          <Cpe version=\"2.2\">{cpe}</Cpe>" if cpe else ""
        items.append(f"""  <Vulinfo>
    <VulinfoID>{vid}</VulinfoID>
    <VulinfoData>
      <Title>{title}</Title>
      <VulinfoDescription><Overview>{product} には、次の脆弱性が存在します。&lt;ul&gt;&lt;li&gt;{title.split('における')[-1]} - {cve}&lt;/li&gt;&lt;/ul&gt;</Overview></VulinfoDescription>
      <Affected>
        <AffectedItem>
          <Name>{vendor}</Name>
          <ProductName>{product}</ProductName>{cpe_xml}
          <VersionNumber>{versions}</VersionNumber>
        </AffectedItem>
      </Affected>
      <Impact>
        <Cvss version="3.0"><Severity type="Base">High</Severity><Base>{score}</Base>
          <Vector>CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N</Vector></Cvss>
      </Impact>
      <Related>
        <RelatedItem type="advisory"><Name>Common Vulnerabilities and Exposures (CVE)</Name>
          <VulinfoID>{cve}</VulinfoID><URL>https://example.invalid/{cve}</URL></RelatedItem>
      </Related>
      <DateFirstPublished>2099-03-01T12:00+09:00</DateFirstPublished>
    </VulinfoData>
  </Vulinfo>""")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<VULDEF-Document version="3.2" xmlns="http://jvn.jp/vuldef/"'
            ' xmlns:vuldef="http://jvn.jp/vuldef/" xml:lang="ja">\n' + "\n".join(items) + "\n</VULDEF-Document>\n")


def cyclonedx() -> dict:
    return {"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
            "metadata": {"timestamp": "2026-04-01T09:00:00Z", "manufacture": {"name": HOSHI},
                         "component": {"type": "device", "name": "EchoStar 5", "version": "2.4"}},
            "components": [
                {"type": "library", "name": "tinyparse", "version": "1.4.2",
                 "cpe": "cpe:2.3:a:tinyparse_project:tinyparse:1.4.2:*:*:*:*:*:*:*",
                 "purl": "pkg:generic/tinyparse@1.4.2"},
                {"type": "library", "name": "fastjsonx", "version": "2.0.0", "purl": "pkg:npm/fastjsonx@2.0.0"},
                {"type": "library", "name": "safe-logger", "version": "1.0.0", "purl": "pkg:npm/safe-logger@1.0.0"},
            ]}


def spdx() -> dict:
    return {"spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT",
            "name": "WardLink Gateway firmware", "documentNamespace": "https://example.invalid/spdx/wardlink-1",
            "creationInfo": {"created": "2026-03-15T00:00:00Z", "creators": [f"Organization: {TSUBAME}"]},
            "documentDescribes": ["SPDXRef-wardlink"],
            "packages": [
                {"SPDXID": "SPDXRef-wardlink", "name": "WardLink Gateway", "versionInfo": "1.2",
                 "supplier": f"Organization: {TSUBAME}", "downloadLocation": "NOASSERTION"},
                {"SPDXID": "SPDXRef-minihttpd", "name": "minihttpd", "versionInfo": "0.9",
                 "downloadLocation": "NOASSERTION", "externalRefs": [
                     {"referenceCategory": "SECURITY", "referenceType": "cpe23Type",
                      "referenceLocator": "cpe:2.3:a:minihttpd_project:minihttpd:0.9:*:*:*:*:*:*:*"}]},
            ]}


def _mds2(file: str, vendor: str, key: str, product: str, sbom_answer: str) -> Submission:
    from samples.mds2 import _items

    overrides = {"SBOM-1": (sbom_answer, {YES: "Yes", NO: "No"}[sbom_answer], "", "", False, "")}
    return Submission(file=file, convention="mds2: SBOM answer compared with SBOM files (feeds samples)",
                      family="mds2", form_id="nema-mds2-2019", form_version="HN 1-2019", vendor=vendor,
                      vendor_key=key, product=product, product_version="", created="2026-02-01",
                      items=_items(overrides, {"DOC-11", "CSUP-4"} | ({"SBOM-1"} if sbom_answer == NO else set())))


def build_feeds(out: Path) -> list[tuple[Path, dict]]:
    from samples.mds2 import render_xlsx

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = [(out / "機器台帳_脆弱性照合.csv", None)]
    written[0] = (written[0][0], write_ledger(written[0][0]))
    nvd = out / "nvd_cve_2099.json"
    nvd.write_text(json.dumps(nvd_feed(), ensure_ascii=False, indent=1), encoding="utf-8")
    ids = [c["cve"]["id"] for c in nvd_feed()["vulnerabilities"]]
    written.append((nvd, {"file": nvd.name, "family": "vuln_feed", "as_of": AS_OF, "ids": ids,
                          "expected_findings": EXPECTED_FINDINGS}))
    jvn = out / "jvn_ipedia_2099.xml"
    jvn.write_text(jvn_feed(), encoding="utf-8")
    written.append((jvn, {"file": jvn.name, "family": "vuln_feed", "ids": [x[0] for x in JVN_ITEMS]}))
    cdx = out / "EchoStar5_sbom.cdx.json"
    cdx.write_text(json.dumps(cyclonedx(), indent=1), encoding="utf-8")
    written.append((cdx, {"file": cdx.name, "family": "sbom", "vendor": HOSHI, "product": "EchoStar 5",
                          "components": 3}))
    sp = out / "WardLink_部品表.txt"
    sp.write_text(json.dumps(spdx(), indent=1), encoding="utf-8")
    written.append((sp, {"file": sp.name, "family": "sbom", "vendor": TSUBAME, "product": "WardLink Gateway",
                         "components": 1}))
    for sub in (_mds2("Hoshi_EchoStar5_MDS2.xlsx", HOSHI, "hoshi", "EchoStar 5", NO),
                _mds2("Kumo_LabNavi_MDS2.xlsx", KUMO, "kumo", "LabNavi", YES)):
        path = render_xlsx(sub, out / sub.file)
        written.append((path, sub.truth()))
    return written
