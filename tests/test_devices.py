"""Device ledgers (issue 15): ledger files read by content, OS end of support, devices.csv and register rules.

The ledgers are real files written by samples/ledger.py (an XLSX with a title row and a merged two-row header,
a Shift_JIS CSV) and by the tests themselves (UTF-8 with BOM, tab-separated); the vendor documents are the
sample builder's own files, read by the real readers.
"""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from extractors import extract
from extractors.model import Device, Document, ExtractionError
from extractors.readers import read
from extractors.readers.sniff import sniff
from extractors.vocabulary import presence
from rules.device_match import DocumentIndex
from rules.os_eol import eol_table, normalize_os, os_support, shipped_table
from samples.ledger import AS_OF, build_ledgers, write_asset_list

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def ledgers(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ledgers")
    build_ledgers(out)
    return out


def _truth(path: Path) -> dict:
    return json.loads(Path(f"{path}.truth.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["機器台帳_放射線・検査.xlsx", "機器台帳_病棟.csv"])
def test_ledger_rows_read_with_provenance(ledgers, name):
    path = ledgers / name
    doc = extract(path)
    truth = _truth(path)
    assert doc.family == "device_ledger" and not doc.items
    assert len(doc.devices) == len(truth["devices"])
    for device, want in zip(doc.devices, truth["devices"]):
        for key in ("row", "device_name", "department", "vendor", "product", "model", "os_raw", "maintenance_vendor"):
            assert getattr(device, key) == want[key], (name, key)
        assert device.location is not None and device.location.row == want["row"] and device.location.file == name
    # a stored ledger comes back whole
    again = Document.from_dict(json.loads(json.dumps(doc.to_dict(), default=str)))
    assert again.devices == doc.devices


def test_csv_sniffed_by_content_in_every_encoding(tmp_path):
    rows = ["装置名\tメーカー\t型番\tOS\t設置場所", "透視装置\tみさき医科\tMS-1\tWindows 7\t放射線科",
            "眼底カメラ\tみさき医科\tMS-2\t不明\t眼科"]
    text = "\r\n".join(rows) + "\r\n"
    for encoding, suffix in (("utf-8-sig", ".txt"), ("utf-8", ""), ("cp932", ".dat")):
        path = tmp_path / f"ledger_{encoding}{suffix}"
        path.write_bytes(text.encode(encoding))
        assert sniff(path).kind == "csv"
        doc = extract(path)
        assert doc.family == "device_ledger"
        assert [d.device_name for d in doc.devices] == ["透視装置", "眼底カメラ"]
        assert doc.devices[1].location.cell == "A3"
    # one line of prose is not a table: still refused as another format
    memo = tmp_path / "メモ.txt"
    memo.write_text("開示書は後日送付します。", encoding="utf-8")
    with pytest.raises(ExtractionError) as err:
        read(memo)
    assert err.value.kind == "unsupported"


def test_a_csv_that_is_no_ledger_is_not_a_form(tmp_path):
    path = tmp_path / "集計.csv"
    path.write_text("月,件数,備考\n4月,12,\n5月,9,\n", encoding="utf-8")
    with pytest.raises(ExtractionError) as err:
        extract(path)
    assert err.value.kind == "not_a_form"


@pytest.mark.parametrize("text, os_name, version", [
    ("Win10 Pro 22H2", "Windows 10", "22H2"),
    ("Windows 10 IoT Enterprise LTSC 2019", "Windows 10 IoT LTSC", "2019"),
    ("Windows10 Enterprise 2016 LTSB", "Windows 10 LTSB", "2016"),
    ("Windows Server 2012 R2 Standard", "Windows Server", "2012 R2"),
    ("ＷＩＮＤＯＷＳ　ＳＥＲＶＥＲ　２０１９", "Windows Server", "2019"),
    ("RHEL 7.9", "RHEL", "7"),
    ("Red Hat Enterprise Linux 8.6", "RHEL", "8"),
    ("Ubuntu 20.04.6 LTS", "Ubuntu", "20.04"),
    ("不明", "", ""),
    ("独自OS", "", ""),
])
def test_os_strings_normalised(text, os_name, version):
    name = normalize_os(text)
    assert (name.os, name.version) == (os_name, version)
    assert bool(name.reason) == (not os_name)


def test_os_status_against_the_evaluation_date():
    table = eol_table()
    assert os_support("Windows Server 2012 R2", dt.date(2023, 10, 9), table).status == "eol_soon"
    assert os_support("Windows Server 2012 R2", dt.date(2023, 10, 11), table).status == "eol"
    assert os_support("Windows Server 2022", dt.date(2026, 6, 1), table).status == "supported"
    unknown = os_support("Windows 11 Pro", dt.date(2026, 6, 1), table)  # no version: no date, never a guess
    assert unknown.status == "unknown" and unknown.eol_date is None and "バージョン" in unknown.reason
    assert all(e.source for e in shipped_table())


def test_os_eol_extended_in_mdsgap_yaml(tmp_path):
    from pipeline.config import RunConfig
    from rules.schema import ConfigError

    good = tmp_path / "mdsgap.yaml"
    good.write_text('os_eol:\n  - {os: Windows 11, version: "", date: 2031-10-14, source: 保守契約書}\n',
                    encoding="utf-8")
    config = RunConfig.load(good)
    assert config.rules_path is None
    support = os_support("Windows 11 Pro", dt.date(2026, 6, 1), eol_table(config.os_eol))
    assert (support.status, support.source) == ("supported", "保守契約書")
    bad = tmp_path / "bad.yaml"
    bad.write_text("os_eol:\n  - {os: Windows 11, date: 来年}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        RunConfig.load(bad)
    assert "2行目" in str(err.value) and "source" in str(err.value)


def test_presence_words():
    assert [presence(x) for x in ("有", "○", "あり", "接続", "無", "×", "スタンドアロン", "", "不明")] == [
        True, True, True, True, False, False, False, None, None]


def test_uncertain_matches_are_review_items():
    mds = Document(source_file="x.xlsx", sha256="a" * 64, family="mds", vendor="ふたば医療機器株式会社",
                   product="FUTABA-XR 撮影装置")
    blank = Document(source_file="y.xlsx", sha256="b" * 64, family="sds", vendor="ふたば医療機器(株)", product="")
    index = DocumentIndex([mds, blank])
    exact = index.match(Device(row=2, vendor="(株)ふたば医療機器", product="FUTABA-XR"))
    assert [m.document.family for m in exact.matches if not m.uncertain] == ["mds"]
    assert [m.document.family for m in exact.uncertain()] == ["sds"]  # blank product: only the vendor matched
    partial = index.match(Device(row=3, vendor="ふたば医療", product="FUTABA-XR"))
    assert partial.matches and all(m.uncertain for m in partial.matches)
    assert "部分一致" in partial.matches[0].reason
    other = index.match(Device(row=4, vendor="ふたば医療機器株式会社", product="別の装置"))
    assert [m.document.family for m in other.matches] == ["sds"] and other.matches[0].uncertain  # not the MDS


def test_vendor_alias_table_makes_a_certain_match(tmp_path):
    from pipeline.config import RunConfig

    config = tmp_path / "mdsgap.yaml"
    config.write_text("vendor_aliases:\n  FUTABA Medical: ふたば医療機器株式会社\n", encoding="utf-8")
    aliases = RunConfig.load(config).vendor_aliases
    mds = Document(source_file="x.xlsx", sha256="a" * 64, family="mds", vendor="ふたば医療機器(株)",
                   product="FUTABA-XR")
    device = Device(row=2, vendor="futaba medical", product="FUTABA-XR")
    assert not DocumentIndex([mds]).match(device).matches
    matched = DocumentIndex([mds], aliases).match(device).matches
    assert len(matched) == 1 and not matched[0].uncertain and "別名表" in matched[0].reason


def test_devices_csv_and_register_from_a_run(ledgers, prefect_harness, tmp_path):
    from pipeline.flow import process_inbox

    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    for vendor in ("sakura", "medinext"):  # medinext: the maintenance vendor of the asset list's servers
        proc = subprocess.run([sys.executable, "-m", "samples.build", "--out", str(inbox), "--only", vendor,
                               "--no-legacy", "--no-pdf"], cwd=ROOT, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-2000:]
    truths = {}
    asset_list = inbox / "機器台帳_2025.xlsx"  # the default inbox's ledger with no maker column
    truths[asset_list.name] = write_asset_list(asset_list)
    for path in sorted(ledgers.glob("機器台帳_*")):
        if path.suffix != ".json":
            (inbox / path.name).write_bytes(path.read_bytes())
            truths[path.name] = _truth(path)
    summary = process_inbox(inbox=inbox, out=out, as_of=dt.date.fromisoformat(AS_OF))
    assert not summary.failures, summary.failures
    assert set(truths) <= {p.name for p in (inbox / "processed").iterdir()}

    devices = pd.read_csv(out / "devices.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    parquet = pd.read_parquet(out / "devices.parquet")
    assert list(devices.columns[:17]) == ["ledger_file", "row", "device_name", "department", "vendor", "product",
                                          "model", "os", "os_version", "network", "remote_maintenance",
                                          "maintenance_vendor", "documents", "os_eol_date", "os_status", "cve_ids",
                                          "max_cvss"]
    assert len(parquet) == len(devices) == sum(len(t["devices"]) for t in truths.values())
    register = pd.read_csv(out / "risk_register.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    family_words = {"mds": "MDS ", "sds": "SDS ", "checklist_vendor": "事業者確認用 "}
    for name, truth in truths.items():
        for want in truth["devices"]:
            row = devices[(devices.ledger_file == name) & (devices.row == str(want["row"]))]
            assert len(row) == 1, (name, want["row"])
            row = row.iloc[0]
            for key in ("device_name", "os", "os_version", "os_status", "network", "remote_maintenance"):
                assert row[key] == want[key], (name, want["row"], key)
            covered = {f for f, word in family_words.items()
                       if any(line.startswith(word) and "保守事業者" not in line and "要確認" not in line
                              for line in row["documents"].splitlines())}
            assert covered == set(want["covered_by"]), (name, want["row"], row["documents"])
            if want["os_status"] == "unknown" or want.get("needs_review"):
                assert row["needs_review"] == "True" and row["review_reason"]
            if want.get("vendor_from") == "maintenance_vendor":
                assert row["vendor"] == row["maintenance_vendor"] == want["maintenance_vendor"]
            mine = register.item_ids.map(lambda ids: f"機器:{want['device_name']}" in ids.split(", "))
            fired = set(register[mine].rule_id)
            assert fired == set(want["rules"]), (name, want["device_name"], fired)
    device_rows = register[register.category == "device_eol"]
    assert (device_rows.source_files.str.startswith("機器台帳_")).all()
    assert (register[register.rule_id == "device_eol.os_past_support"].severity == "高").all()

    # the portfolio page's devices view agrees with devices.csv (counts, eol devices on the timeline)
    from collections import Counter

    from lxml import html as lxml_html

    page = lxml_html.fromstring((out / "index.html").read_text(encoding="utf-8"))
    tiles = {t.get("data-status"): int(t.xpath('./span[@class="n"]')[0].text_content())
             for t in page.xpath('//div[contains(@class,"devices-summary")]/div[@data-status]')}
    wanted = Counter(d["os_status"] for t in truths.values() for d in t["devices"])
    assert tiles == {s: wanted.get(s, 0) for s in ("supported", "eol", "eol_soon", "unknown")}
    timeline = page.xpath('//*[local-name()="svg" and contains(@class,"eol-timeline")]')[0]
    eol_tips = " ".join(t.text_content() for t in timeline.xpath(
        './/*[local-name()="g" and @class="eol-row status-eol"]//*[local-name()="title"]'))
    for t in truths.values():
        for d in t["devices"]:
            assert (d["device_name"] in eol_tips) == (d["os_status"] == "eol"), d["device_name"]
    assert len(page.xpath('//table[contains(@class,"devices")]/tbody/tr')) == len(devices)
