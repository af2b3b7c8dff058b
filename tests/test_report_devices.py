"""The portfolio page's devices view, read back from the HTML: status counts, the end-of-support timeline (SVG)
and the device list, made from a ledger of our own read by the real reader."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
from lxml import html as lxml_html

from extractors import extract
from pipeline.devices import devices_frame
from pipeline.reports import build_reports
from rules.device_match import assess_devices

AS_OF = dt.date(2026, 6, 1)
# (機器名, 設置場所, OS, 保守事業者): an invented ward ledger, no maker column
DEVICES = [
    ("生体情報モニタ", "ICU", "Windows 7 Professional", "ひばり医工サービス"),  # eol 2020-01-14
    ("中央監視装置", "ICU", "Windows 7 Professional", "ひばり医工サービス"),
    ("輸液管理端末", "5階病棟", "Windows Server 2012 R2", "こげら技研"),  # eol 2023-10-10
    ("配膳管理端末", "栄養科", "Ubuntu 22.04 LTS", "こげら技研"),  # 2027-05-31: eol_soon
    ("受付表示端末", "外来", "Windows Server 2022", "こげら技研"),  # supported
    ("透析監視装置", "透析室", "独自OS", "ひばり医工サービス"),  # unknown
]
WANT = {"supported": 1, "eol": 3, "eol_soon": 1, "unknown": 1}


def _ledger(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["機器名", "設置場所", "OS", "保守事業者", "ネットワーク接続"])
    for name, place, os_raw, vendor in DEVICES:
        ws.append([name, place, os_raw, vendor, "有"])
    wb.save(path)
    return path


def _index(tmp_path: Path, devices) -> lxml_html.HtmlElement:
    out = tmp_path / "out"
    paths = build_reports(out, [], pd.DataFrame(), devices=devices, as_of=AS_OF,
                          generated_at=dt.datetime(2026, 6, 1, 9, 0))
    assert paths[-1] == out / "index.html"
    return lxml_html.fromstring(paths[-1].read_text(encoding="utf-8"))


def test_devices_view_counts_timeline_and_list(tmp_path):
    ledger = extract(_ledger(tmp_path / "病棟機器.xlsx"))
    frame = devices_frame(assess_devices([ledger], [], AS_OF))
    assert dict(frame.os_status.value_counts()) == WANT  # the table the page is made from
    page = _index(tmp_path, frame)

    assert page.xpath('//h2[@id="devices"]')
    tiles = {t.get("data-status"): int(t.xpath('./span[@class="n"]')[0].text_content())
             for t in page.xpath('//div[contains(@class,"devices-summary")]/div[@data-status]')}
    assert tiles == WANT
    labels = [t.text_content() for t in page.xpath('//div[contains(@class,"devices-summary")]/div')]
    assert any("サポート終了" in x for x in labels) and any("不明" in x for x in labels)

    svg = page.xpath('//*[local-name()="svg" and contains(@class,"eol-timeline")]')
    assert len(svg) == 1 and not page.xpath("//script")
    rows = svg[0].xpath('.//*[local-name()="g" and contains(@class,"eol-row")]')
    tips = {r.get("class").split("status-")[1]: [] for r in rows}
    for r in rows:
        tips[r.get("class").split("status-")[1]].append(
            " ".join(t.text_content() for t in r.xpath('.//*[local-name()="circle"]/*[local-name()="title"]')))
    # one row per OS and end date; every eol device is named in the timeline
    assert len(rows) == 4 and sorted(tips) == ["eol", "eol_soon", "supported"]
    eol_text = " ".join(tips["eol"])
    for name in ("生体情報モニタ", "中央監視装置", "輸液管理端末"):
        assert name in eol_text
    assert "2020-01-14" in eol_text and "配膳管理端末" in " ".join(tips["eol_soon"])
    assert "透析監視装置" not in svg[0].text_content()  # no date: not on the axis, said below the chart
    assert "図に含まれません" in page.text_content()
    assert f"評価日 {AS_OF.isoformat()}" in svg[0].text_content()

    table = page.xpath('//table[contains(@class,"devices")]/tbody/tr')
    assert len(table) == len(DEVICES)
    first = [c.text_content() for c in table[0].xpath("./td")]
    assert first[0] in ("生体情報モニタ", "中央監視装置") and first[1] == "ICU"
    assert first[2].startswith("ひばり医工サービス") and first[3].startswith("Windows 7") and first[4] == "2020-01-14"
    assert [r.get("data-status") for r in table] == ["eol"] * 3 + ["eol_soon", "unknown", "supported"]
    unknown = [c.text_content() for c in table[4].xpath("./td")]
    assert unknown[0] == "透析監視装置" and unknown[4] == "不明" and "要確認" in unknown[5]


def test_no_ledger_no_devices_view(tmp_path):
    page = _index(tmp_path, None)
    assert not page.xpath('//h2[@id="devices"]') and not page.xpath('//table[contains(@class,"devices")]')
    assert not page.xpath('//*[local-name()="svg" and contains(@class,"eol-timeline")]')


def test_device_text_is_escaped(tmp_path):
    frame = devices_frame(assess_devices([extract(_ledger(tmp_path / "台帳.xlsx"))], [], AS_OF))
    frame.loc[0, "device_name"] = "<script>alert(1)</script>"
    frame.loc[0, "os"] = '"><svg onload=alert(2)>'
    page = _index(tmp_path, frame)
    raw = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "<script" not in raw and "<svg onload" not in raw and not page.xpath("//script")
    assert "<script>alert(1)</script>" in page.text_content()


def test_report_command_uses_the_last_runs_evaluation_date(tmp_path):
    """`mdsgap report` re-renders later: the devices view keeps the date its statuses were computed for."""
    from pipeline.report_devices import last_run_as_of
    from pipeline.store import Store

    with Store.open(tmp_path) as store:
        assert last_run_as_of(store) is None
        store.finish_run(store.start_run(dt.date(2026, 3, 1)), {})
        store.finish_run(store.start_run(AS_OF), {})
        store.start_run(dt.date(2026, 9, 1))  # never finished
        assert last_run_as_of(store) == AS_OF.isoformat()
