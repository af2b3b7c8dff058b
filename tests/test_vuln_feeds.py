"""Vulnerability feeds and SBOMs (issue 15): readers, CPE / version rules, linear matching, devices.csv, findings.

The files are real: written by samples/feeds.py (NVD CVE API 2.0 JSON, JVN iPedia MyJVN XML, CycloneDX and SPDX
JSON, a ledger CSV, two MDS2 worksheets; every name and CVE id fictional) or by the tests themselves, and read by
the real readers; the pipeline test runs the real flow over them.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extractors import extract
from extractors.model import Document, ExtractionError
from rules.cpe import VersionRule, compare, jvn_rule, name_key, parse_cpe, purl_name
from samples.feeds import AS_OF, build_feeds
from tests.fuzzing import SLOW_OK, examples


@pytest.fixture(scope="module")
def feeds_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("feeds")
    from samples.build import write_truth

    for path, truth in build_feeds(out):
        write_truth(path, truth)
    return out


def _truth(path: Path) -> dict:
    return json.loads(Path(f"{path}.truth.json").read_text(encoding="utf-8"))


def test_nvd_json_read_by_content(feeds_dir):
    doc = extract(feeds_dir / "nvd_cve_2099.json")
    assert doc.family == "vuln_feed" and not doc.items
    assert [v.vuln_id for v in doc.vulnerabilities] == _truth(feeds_dir / "nvd_cve_2099.json")["ids"]
    first = doc.vulnerabilities[0]
    assert (first.cvss, first.cvss_version, first.severity) == (9.8, "3.1", "CRITICAL")
    assert first.description.startswith("VitalWave Monitor 3.3.0 未満")  # the Japanese description preferred
    assert first.matches[0].version_end_excluding == "3.3.0" and first.location.cell == "vulnerabilities[0]"
    v4 = next(v for v in doc.vulnerabilities if v.vuln_id == "CVE-2099-10007")
    assert (v4.cvss, v4.cvss_version) == (9.1, "4.0")
    again = Document.from_dict(json.loads(json.dumps(doc.to_dict(), default=str)))
    assert again.vulnerabilities == doc.vulnerabilities


def test_jvn_xml_read_through_the_hardened_parser(feeds_dir):
    doc = extract(feeds_dir / "jvn_ipedia_2099.xml")
    assert doc.family == "vuln_feed"
    entry = doc.vulnerabilities[0]
    assert entry.vuln_id == "JVNDB-2099-000101" and entry.related_ids == ["JVNDB-2099-000101", "CVE-2099-20001"]
    assert (entry.cvss, entry.cvss_version) == (7.5, "3.0")
    assert "SQL インジェクションの脆弱性 - CVE-2099-20001" in entry.description and "<li>" not in entry.description
    m = entry.matches[0]
    assert (m.vendor_name, m.product_name, m.versions, m.criteria) == (
        "しらさぎ電子株式会社", "しらさぎ画像ファイリング", ["5.1 およびそれ以前"], "")


def test_sboms_read_by_content(feeds_dir):
    cdx = extract(feeds_dir / "EchoStar5_sbom.cdx.json")
    assert (cdx.family, cdx.vendor, cdx.product, cdx.product_version) == (
        "sbom", "Hoshi Imaging Corp.", "EchoStar 5", "2.4")
    assert [c.name for c in cdx.components] == ["tinyparse", "fastjsonx", "safe-logger"]
    assert cdx.components[0].cpe.startswith("cpe:2.3:a:tinyparse_project") and cdx.components[1].purl
    spdx = extract(feeds_dir / "WardLink_部品表.txt")  # an SPDX JSON saved as .txt
    assert (spdx.family, spdx.vendor, spdx.product) == ("sbom", "Tsubame Devices Inc.", "WardLink Gateway")
    assert [(c.name, c.version) for c in spdx.components] == [("minihttpd", "0.9")]
    assert spdx.components[0].cpe.startswith("cpe:2.3:a:minihttpd_project")
    again = Document.from_dict(json.loads(json.dumps(cdx.to_dict(), default=str)))
    assert again.components == cdx.components


def test_a_cyclonedx_sbom_with_vulnerabilities_is_an_sbom_not_an_nvd_feed(tmp_path):
    """CycloneDX 1.4+ has a top-level `vulnerabilities` array too: the NVD stream reader leaves it alone."""
    bom = {"bomFormat": "CycloneDX", "specVersion": "1.5",
           "metadata": {"component": {"name": "EchoStar 5", "version": "2.4"}, "supplier": {"name": "Hoshi"}},
           "components": [{"type": "library", "name": "tinyparse", "version": "1.2.0",
                           "purl": "pkg:pypi/tinyparse@1.2.0"}],
           "vulnerabilities": [{"id": "CVE-2099-10001", "affects": [{"ref": "pkg:pypi/tinyparse@1.2.0"}]}]}
    path = tmp_path / "bom.json"
    path.write_text(json.dumps(bom), encoding="utf-8")
    doc = extract(path)
    assert doc.family == "sbom" and [c.name for c in doc.components] == ["tinyparse"] and not doc.vulnerabilities


@pytest.mark.parametrize("name, data, kind", [
    ("cut.json", b'{"format": "NVD_CVE", "vulnerabilities": [{"cve": {"id": "CVE-2099-1', "corrupt"),
    ("nest.json", b"[" * 200_000 + b"]" * 200_000, "corrupt"),
    ("other.json", b'{"name": "\xe5\x9c\xa8\xe5\xba\xab", "rows": [1, 2]}', "not_a_form"),
    ("types.json", b'{"format": "NVD_CVE", "vulnerabilities": "none"}', "corrupt"),
    ("types.cdx", b'{"bomFormat": "CycloneDX", "components": {"name": "x"}}', "corrupt"),
    ("sjis.json", "{\"名前\": \"値\"}".encode("cp932"), "corrupt"),
    ("bomb.xml", b'<?xml version="1.0"?><!DOCTYPE VULDEF-Document [<!ENTITY a "aaaaaaaaaa">'
                 b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><VULDEF-Document xmlns="http://jvn.jp/vuldef/">'
                 b'<Vulinfo><VulinfoID>&b;</VulinfoID></Vulinfo></VULDEF-Document>', "corrupt"),
    ("broken.xml", b'<?xml version="1.0"?><VULDEF-Document xmlns="http://jvn.jp/vuldef/"><Vulinfo>', "corrupt"),
])
def test_bad_feeds_refused_with_a_japanese_reason(tmp_path, name, data, kind):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ExtractionError) as err:
        extract(path)
    assert err.value.kind == kind
    assert any("\u3040" <= ch <= "\u30ff" for ch in err.value.message)


def test_oversized_sbom_refused_and_large_nvd_streamed(tmp_path, monkeypatch):
    import extractors.feeds as feeds
    from extractors.feeds import nvd
    from samples.feeds import cyclonedx, nvd_feed

    big_sbom = tmp_path / "big.cdx.json"
    bom = cyclonedx()
    bom["components"] = bom["components"] * 400
    big_sbom.write_text(json.dumps(bom), encoding="utf-8")
    data = nvd_feed()
    data["vulnerabilities"] = data["vulnerabilities"] * 300  # ~1 MB: several stream chunks' worth of elements
    big_nvd = tmp_path / "big_nvd.json"
    big_nvd.write_text(json.dumps(data, indent=2), encoding="utf-8")
    monkeypatch.setattr(feeds, "MAX_JSON_BYTES", 10_000)
    with pytest.raises(ExtractionError) as err:
        extract(big_sbom)
    assert err.value.kind == "too_large" and "MB" in err.value.message
    streamed = extract(big_nvd)  # over the whole-parse cap: read element by element
    whole = nvd.read_nvd(data, big_nvd.name, streamed.sha256)
    assert len(streamed.vulnerabilities) == len(data["vulnerabilities"]) == 300 * len(nvd_feed()["vulnerabilities"])
    assert streamed.vulnerabilities == whole.vulnerabilities
    assert streamed.header_fields["取得日時"] == data["timestamp"]
    text = big_nvd.read_text(encoding="utf-8")
    cut = tmp_path / "cut_nvd.json"
    cut.write_text(text[: len(text) * 2 // 3], encoding="utf-8")
    with pytest.raises(ExtractionError) as err:
        extract(cut)
    assert err.value.kind == "corrupt" and "件目" in err.value.message


def test_cpe_names_and_keys():
    cpe = parse_cpe(r"cpe:2.3:a:acme\:labs:vital_view\+:1.2:*:*:*:*:*:*:*")
    assert (cpe.part, cpe.vendor, cpe.product, cpe.version) == ("a", "acme:labs", "vital_view+", "1.2")
    old = parse_cpe("cpe:/a:aoba_medical_systems:vitalwave%20monitor:3.1")
    assert (old.vendor, old.product, old.version) == ("aoba_medical_systems", "vitalwave monitor", "3.1")
    assert parse_cpe("cpe:2.3:o:redhat:enterprise_linux:*:*:*:*:*:*:*:*").version == ""
    assert parse_cpe("not a cpe") is None
    assert name_key("aoba_medical_systems") == name_key("Aoba Medical Systems 株式会社") == name_key("AOBA-Medical Systems")
    assert purl_name("pkg:npm/%40scope/fast-json@2.0.1") == ("@scope", "fast-json", "2.0.1")
    assert purl_name("pkg:pypi/requests") == ("", "requests", "")


@pytest.mark.parametrize("text, version, expected", [
    ("5.1 およびそれ以前", "5.0", True), ("5.1 およびそれ以前", "5.2", False), ("4.0 未満", "5.0", False),
    ("v2.0 から v2.3 まで", "2.1.5", True), ("1.5 以降", "1.4", False), ("3.2", "3.2.0", True),
    ("5.1 およびそれ以前", "", None), ("5.1 およびそれ以前", "不明", None),
    ("バージョン 3.1 およびそれ以前のバージョン", "3.1", True), ("Ver.2.0 より前", "2.0", False),
    ("v6 R4 およびそれ以前のバージョン", "v6 R3", True), ("v6 R4 およびそれ以前のバージョン", "7", False),
    ("3.x", "3.9.1", True), ("3.x", "4.0", False), ("1.0 以上 2.0 未満", "1.5", True), ("全てのバージョン", "", True),
])
def test_jvn_version_texts(text, version, expected):
    assert jvn_rule(text).contains(version) is expected


def test_version_ranges_and_unreadable_texts():
    assert compare("2.10.1", "2.9") == 1 and compare("1.0", "1.0.0") == 0 and compare("abc", "1.0") is None
    assert VersionRule(start_including="1.0", end_excluding="2.0").contains("1.9.9") is True
    assert VersionRule(start_including="1.0", end_excluding="2.0").contains("2.0") is False
    assert VersionRule().contains("") is True  # the entry affects every version
    assert jvn_rule("一部の機種") is None  # a text we cannot read: the version stays unknown


def _nvd_file(path: Path, entries: list[tuple[str, float, dict]]) -> Path:
    vulns = [{"cve": {"id": cid, "descriptions": [{"lang": "en", "value": "test"}],
                      "metrics": {"cvssMetricV31": [{"type": "Primary", "cvssData": {"baseScore": score}}]},
                      "configurations": [{"nodes": [{"cpeMatch": [{"vulnerable": True} | m]}]}]}}
             for cid, score, m in entries]
    path.write_text(json.dumps({"format": "NVD_CVE", "version": "2.0", "vulnerabilities": vulns}), encoding="utf-8")
    return path


def test_os_and_product_matches_say_why(tmp_path):
    from extractors.model import Device
    from rules.vuln_match import FeedIndex, device_matches

    feed = extract(_nvd_file(tmp_path / "page.json", [
        ("CVE-2099-30001", 9.0, {"criteria": "cpe:2.3:o:redhat:enterprise_linux:8.0:*:*:*:*:*:*:*"}),
        ("CVE-2099-30002", 7.8, {"criteria": "cpe:2.3:o:microsoft:windows_10_22h2:*:*:*:*:*:*:*:*",
                                 "versionEndExcluding": "10.0.19045.9999"}),
        ("CVE-2099-30003", 8.0, {"criteria": "cpe:2.3:a:hibari_denshi:labcore:*:*:*:*:*:*:*:*",
                                 "versionStartIncluding": "4.0", "versionEndIncluding": "4.2"}),
        ("CVE-2099-30004", 8.0, {"criteria": "cpe:2.3:a:hibari_denshi:labcore:*:*:*:*:*:*:*:*",
                                 "vulnerable": False}),
    ]))
    index = FeedIndex([feed])
    rhel = device_matches(index, Device(row=2, vendor="ひばり電子", product="LabCore", os_raw="RHEL 8.6",
                                        extra={"バージョン": "4.1"}), "RHEL", "8", {})
    found = {m.vuln_id: m for m in rhel}
    assert set(found) == {"CVE-2099-30001"}  # the maker written in Japanese is not its CPE name: no match
    assert found["CVE-2099-30001"].certain and "OS「RHEL 8.6」" in found["CVE-2099-30001"].reason
    aliased = device_matches(index, Device(row=3, vendor="ひばり電子", product="LabCore", extra={"Ver.": "4.1"}),
                             "", "", {"ひばり電子": "Hibari Denshi"})
    assert [(m.vuln_id, m.certain) for m in aliased] == [("CVE-2099-30003", True)]
    assert "4.2 以下" in aliased[0].reason and "「4.1」が該当" in aliased[0].reason
    longer = device_matches(index, Device(row=5, vendor="Hibari Denshi", product="LabCore LC-10",
                                          extra={"バージョン": "4.1"}), "", "", {})
    assert [(m.vuln_id, m.certain) for m in longer] == [("CVE-2099-30003", False)]
    assert "製品名が部分一致" in longer[0].reason  # 「製品名 型番」 in one cell: a review item, not a finding
    group = device_matches(index, Device(row=6, vendor="Hibari Denshi Medical Co., Ltd.", product="LabCore",
                                         extra={"バージョン": "4.1"}), "", "", {})
    assert [(m.vuln_id, m.certain) for m in group] == [("CVE-2099-30003", False)]
    assert "製造業者名が部分一致" in group[0].reason
    win = device_matches(index, Device(row=4, vendor="x", os_raw="Win10 Pro 22H2"), "Windows 10", "22H2", {})
    assert [(m.vuln_id, m.certain) for m in win] == [("CVE-2099-30002", False)]  # the build is not in the ledger
    assert "不明" in win[0].reason


def test_feeds_through_the_pipeline(feeds_dir, prefect_harness, tmp_path):
    from pipeline.flow import process_inbox

    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    for path in feeds_dir.iterdir():
        if not path.name.endswith(".truth.json"):
            (inbox / path.name).write_bytes(path.read_bytes())
    (inbox / "nvd_page_cut.json").write_bytes(b'{"format": "NVD_CVE", "vulnerabilities": [{"cve": ')
    summary = process_inbox(inbox=inbox, out=out, as_of=dt.date.fromisoformat(AS_OF))
    assert [name for name, _ in summary.failures] == ["nvd_page_cut.json"]
    reason = (inbox / "failed" / "nvd_page_cut.json.error.txt").read_text(encoding="utf-8")
    assert "NVD の脆弱性情報（JSON）として読み取れませんでした" in reason and "途中で切れて" in reason

    devices = pd.read_csv(out / "devices.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    parquet = pd.read_parquet(out / "devices.parquet")
    assert list(devices.columns[15:17]) == ["cve_ids", "max_cvss"] and parquet["max_cvss"].dtype == "float64"
    for want in _truth(feeds_dir / "機器台帳_脆弱性照合.csv")["devices"]:
        row = devices[devices.row == str(want["row"])].iloc[0]
        assert row["cve_ids"] == ", ".join(want["cve_ids"]), want["device_name"]
        assert (float(row["max_cvss"]) if row["max_cvss"] else None) == want["max_cvss"], want["device_name"]
        assert (row["needs_review"] == "True") == want["review"], (want["device_name"], row["review_reason"])
        if want["cve_ids"]:
            assert "一致" in row["cve_reasons"]

    register = pd.read_csv(out / "risk_register.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    mine = register[register.rule_id.str.startswith("vulnerability.")
                    | register.rule_id.str.contains("mds2_sbom_answer_file|mds2_sbom_file_missing")]
    got = {(r.rule_id, r.vendor, r.product, r.item_ids.split(", ")[0] if r.rule_id.startswith("vuln") else "")
           for r in mine.itertuples()}
    want = {(f["rule_id"], f["vendor"], f["product"], f["vuln_id"])
            for f in _truth(feeds_dir / "nvd_cve_2099.json")["expected_findings"]}
    assert got == want
    assert (mine.needs_review == "False").all()
    assert set(register[register.rule_id == "vulnerability.cvss_critical"].severity) == {"高"}
    assert set(register[register.rule_id == "vulnerability.cvss_high"].severity) == {"中"}
    assert (register[register.category == "vulnerability"].contract_clause.str.contains("CVSS v3")).all()

    import docx

    memo = next((out / "negotiation").glob("Aoba*.docx"))
    tables = [[c.text for c in r.cells] for t in docx.Document(str(memo)).tables for r in t.rows]
    assert ["VitalWave Monitor", "CVE-2099-10001", "9.8", "生体情報モニタ", "緊急の通知の対象", "未対応"] in tables


def _feed_bytes() -> dict[str, bytes]:
    from samples.feeds import cyclonedx, jvn_feed, nvd_feed, spdx

    return {".json": json.dumps(nvd_feed()).encode(), ".cdx.json": json.dumps(cyclonedx()).encode(),
            ".spdx.json": json.dumps(spdx()).encode(), ".xml": jvn_feed().encode("utf-8")}


@settings(max_examples=examples(60), suppress_health_check=SLOW_OK)
@given(kind=st.sampled_from([".json", ".cdx.json", ".spdx.json", ".xml"]), cut=st.floats(0.0, 1.0),
       flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 255)), max_size=6))
def test_mutated_feeds_never_crash(tmp_path_factory, kind, cut, flips):
    data = bytearray(_feed_bytes()[kind])
    for where, value in flips:
        data[int(where * (len(data) - 1))] = value
    data = bytes(data[: max(1, int(len(data) * cut))]) if cut < 1.0 else bytes(data)
    path = tmp_path_factory.mktemp("fuzz") / f"feed{kind}"
    path.write_bytes(data)
    try:
        doc = extract(path)
    except ExtractionError as exc:
        assert exc.kind in {"corrupt", "not_a_form", "unsupported", "too_large", "empty"}
        assert any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in exc.message)
        return
    assert isinstance(doc, Document)


def test_gzipped_nvd_feed(tmp_path, monkeypatch):
    import gzip

    import extractors.feeds as feeds
    from samples.feeds import nvd_feed

    data = gzip.compress(json.dumps(nvd_feed()).encode("utf-8"))
    good = tmp_path / "nvdcve-2.0-2099.json.gz"
    good.write_bytes(data)
    assert [v.vuln_id for v in extract(good).vulnerabilities][:2] == ["CVE-2099-10001", "CVE-2099-10002"]
    cut = tmp_path / "cut.gz"
    cut.write_bytes(data[:200])
    with pytest.raises(ExtractionError) as err:
        extract(cut)
    assert err.value.kind == "corrupt"
    bomb = tmp_path / "bomb.json.gz"
    bomb.write_bytes(gzip.compress(b'{"vulnerabilities": "' + b" " * 200_000 + b'"}'))
    monkeypatch.setattr(feeds, "MAX_JSON_BYTES", 100_000)
    with pytest.raises(ExtractionError) as err:
        extract(bomb)
    assert err.value.kind == "too_large" and "展開後" in err.value.message


def test_a_vulnerability_closes_on_a_newer_ledger_never_on_a_feed_that_lists_less(feeds_dir, prefect_harness,
                                                                                   tmp_path):
    """The device updated past the affected version in the hospital's newer ledger: 解消, naming that ledger.
    A newer feed file without the vulnerability (it may cover a shorter period) closes nothing."""
    from pipeline.config import RESOLVED_BY, RESOLVED_ON, UNSEEN_REASON
    from pipeline.flow import process_inbox

    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    for path in feeds_dir.iterdir():
        if not path.name.endswith(".truth.json"):
            (inbox / path.name).write_bytes(path.read_bytes())
    day = dt.date.fromisoformat(AS_OF)

    def rows() -> dict[str, dict]:
        register = pd.read_csv(out / "risk_register.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
        return {r["item_ids"].split(", ")[0]: r for r in register.to_dict("records")
                if r["rule_id"].startswith("vulnerability.")}

    process_inbox(inbox=inbox, out=out, as_of=day)
    first = rows()
    assert not first["CVE-2099-10001"][RESOLVED_ON] and not first["CVE-2099-10004"][RESOLVED_ON]

    ledger = feeds_dir / "機器台帳_脆弱性照合.csv"
    text = ledger.read_bytes().decode("utf-8-sig")
    assert text.count(",3.2.1,") == 1  # the monitor's version, before the fixed 3.3.0
    newer = f"{ledger.stem}_20991201{ledger.suffix}"  # the same ledger, a dated file (extractors.ledger_series)
    (inbox / newer).write_bytes(text.replace(",3.2.1,", ",3.3.0,").encode("utf-8-sig"))
    process_inbox(inbox=inbox, out=out, as_of=day + dt.timedelta(days=1))
    second = rows()
    assert second["CVE-2099-10001"][RESOLVED_ON] == (day + dt.timedelta(days=1)).isoformat()
    assert newer in second["CVE-2099-10001"][RESOLVED_BY]
    assert {k for k, r in second.items() if r[RESOLVED_ON]} == {"CVE-2099-10001"}  # the others still match

    nvd = json.loads((feeds_dir / "nvd_cve_2099.json").read_text(encoding="utf-8"))
    nvd["vulnerabilities"] = [v for v in nvd["vulnerabilities"] if v["cve"]["id"] != "CVE-2099-10004"]
    (inbox / "nvd_cve_2099.json").write_text(json.dumps(nvd), encoding="utf-8")
    process_inbox(inbox=inbox, out=out, as_of=day + dt.timedelta(days=2))
    third = rows()
    assert not third["CVE-2099-10004"][RESOLVED_ON]
    assert "脆弱性情報が新しいファイル" in third["CVE-2099-10004"][UNSEEN_REASON]
    assert not third["CVE-2099-10005"][RESOLVED_ON] and not third["CVE-2099-10005"][UNSEEN_REASON]
