"""Device ledger samples (issue 15): a ledger XLSX (title row, two-row header with merged cells) and a Shift_JIS
CSV, with fictional devices and a `<file>.truth.json` beside each.

Run: `python -m samples.ledger --out DIR`. These two are not part of the default sample inbox (samples.build):
the count-based tests of that inbox stay as they are. The maker of some devices is the sample vendor
「さくらメディカルソフト」, so that with `samples.build --only sakura` in the same folder its MDS and checklist cover
them; the other makers sent nothing. Truth: `as_of` (the evaluation date the statuses hold for) and per device the
fields of devices.csv, `covered_by` (families of the documents that cover it with the sakura samples present) and
the register rules expected for it.

The default inbox holds one ledger of another kind (`write_asset_list`, written by samples.build): a hospital's
IT asset list with host names, OS, 設置場所, 保守業者 and リモート保守 but no maker or product column; its devices'
vendor is their maintenance vendor, and a maker document matched through it is only a review item.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from typing import Callable, Iterator

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from samples.build import write_truth

AS_OF = "2026-06-01"
SAKURA = "株式会社さくらメディカルソフト"
PATCH = "inconsistency.device_eol_patch_answer"  # the sakura MDS answers 6 不正ソフトウェア対策 「はい」
EOL, SOON, MISSING_DOC, MISSING_CL = ("device_eol.os_past_support", "device_eol.os_support_ending",
                                      "missing_document.device_disclosure_missing",
                                      "missing_document.device_maintenance_checklist_missing")

# (name, department, maker, product, model, os as written, network, remote, maintenance vendor, truth)
XLSX_DEVICES = [
    ("画像サーバ", "放射線科", SAKURA, "SAKURA-PACS", "SP-5100", "Windows Server 2012 R2", "有", "有", SAKURA,
     dict(os="Windows Server", os_version="2012 R2", os_status="eol", network="有", remote_maintenance="有",
          covered_by=["mds", "checklist_vendor"], rules=[EOL, PATCH])),
    ("超音波診断装置", "生理検査室", "かもめ医工株式会社", "KM-Sono", "KMS-300", "Win10 Pro 22H2", "あり", "あり",
     "かもめテクノサービス(株)",
     dict(os="Windows 10", os_version="22H2", os_status="eol", network="有", remote_maintenance="有",
          covered_by=[], rules=[EOL, MISSING_DOC, MISSING_CL])),
    ("心電計", "生理検査室", "かもめ医工株式会社", "KM-ECG", "KME-20", "Windows 10 IoT Enterprise LTSC 2019", "無",
     "無", "", dict(os="Windows 10 IoT LTSC", os_version="2019", os_status="supported", network="無",
                    remote_maintenance="無", covered_by=[], rules=[])),
    ("検査システムサーバ", "検査科", "ひばり電子株式会社", "HB-LIS", "", "RHEL 7.9", "○", "×", "",
     dict(os="RHEL", os_version="7", os_status="eol", network="有", remote_maintenance="無", covered_by=[],
          rules=[EOL, MISSING_DOC])),
    ("画像ビューア端末", "外来", SAKURA, "SAKURA-PACS Viewer", "", "Windows 10 Enterprise LTSC 2021", "有", "無", "",
     dict(os="Windows 10 LTSC", os_version="2021", os_status="eol_soon", network="有", remote_maintenance="無",
          covered_by=["checklist_vendor"], rules=[SOON, MISSING_DOC])),  # another product: the PACS MDS is not it
]
CSV_DEVICES = [
    ("ナースコール制御装置", "3階病棟", "つばめ通信工業", "TC-Call", "TC-9", "不明", "", "", "",
     dict(os="", os_version="", os_status="unknown", network="", remote_maintenance="", covered_by=[], rules=[])),
    ("調剤支援端末", "薬剤部", SAKURA, "調剤ナビ", "CN-1", "Ubuntu 22.04 LTS", "有", "有", SAKURA,
     dict(os="Ubuntu", os_version="22.04", os_status="eol_soon", network="有", remote_maintenance="有",
          covered_by=["checklist_vendor"], rules=[SOON, MISSING_DOC])),  # ends exactly 365 days after as_of
]


def _truth(file: str, devices, first_row: int) -> dict:
    rows = []
    for i, (name, dept, maker, product, model, os_raw, net, remote, maint, extra) in enumerate(devices):
        rows.append({"row": first_row + i, "device_name": name, "department": dept, "vendor": maker,
                     "product": product, "model": model, "os_raw": os_raw, "maintenance_vendor": maint, **extra})
    return {"file": file, "family": "device_ledger", "as_of": AS_OF, "devices": rows}


def write_xlsx(path: Path) -> dict:
    wb = Workbook()
    ws = wb.active
    ws.title = "機器一覧"
    ws["A1"] = "医療機器・システム台帳（サンプル病院）"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = "更新日: 2026年5月"
    top = ["No.", "機器名", "設置場所", "製品情報", "", "", "OS", "接続・保守", "", "", "備考"]
    sub = ["", "", "", "メーカー", "製品名", "型番", "", "ネットワーク接続", "リモート保守", "保守事業者", ""]
    ws.append(top)  # row 3
    ws.append(sub)  # row 4
    for rng in ("D3:F3", "H3:J3", "A3:A4", "B3:B4", "C3:C4", "G3:G4", "K3:K4"):
        ws.merge_cells(rng)
    grey = PatternFill("solid", fgColor="D9D9D9")
    for row in ws.iter_rows(min_row=3, max_row=4):
        for cell in row:
            cell.fill, cell.alignment = grey, Alignment(horizontal="center", vertical="center")
    for i, (name, dept, maker, product, model, os_raw, net, remote, maint, _) in enumerate(XLSX_DEVICES, start=1):
        ws.append([i, name, dept, maker, product, model, os_raw, net, remote, maint, ""])
    wb.save(path)
    return _truth(path.name, XLSX_DEVICES, first_row=5)


def write_csv(path: Path) -> dict:
    lines = ["装置名,部署,製造業者,製品名,型番,OS,ネットワーク接続,リモート保守,保守事業者"]
    for name, dept, maker, product, model, os_raw, net, remote, maint, _ in CSV_DEVICES:
        lines.append(",".join([name, dept, maker, product, model, os_raw, net, remote, maint]))
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp932"))
    return _truth(path.name, CSV_DEVICES, first_row=2)


# The default inbox's asset list: (管理番号, 機器種別, ホスト名, IPアドレス, 設置場所, OS, 保守業者, リモート保守, truth).
# Truth for the sample builder's evaluation dates (2025-10-01 … samples.vendors.AS_OF). `needs_review`: the
# maintenance vendor sent an MDS that only the vendor name ties to the device (no product in this ledger).
ASSET_LIST = [
    ("SV-001", "サーバ", "emr-db01", "10.1.1.11", "サーバ室", "Windows Server 2019", "メディネクスト", "有",
     dict(os="Windows Server", os_version="2019", os_status="supported", network="", remote_maintenance="有",
          covered_by=[], rules=[], needs_review=True)),
    ("SV-002", "サーバ", "pacs01", "10.1.1.21", "サーバ室", "Windows Server 2022", "さくらメディカルソフト", "有",
     dict(os="Windows Server", os_version="2022", os_status="supported", network="", remote_maintenance="有",
          covered_by=[], rules=[], needs_review=True)),
    ("PC-101", "端末PC", "ward3-pc01", "10.1.3.101", "3階病棟", "Windows 11", "メディネクスト", "無",
     dict(os="Windows 11", os_version="", os_status="unknown", network="", remote_maintenance="無",
          covered_by=[], rules=[], needs_review=True)),
    ("NW-001", "ネットワーク機器", "core-sw01", "10.1.0.1", "サーバ室", "-", "院内情報システム課", "無",
     dict(os="", os_version="", os_status="unknown", network="", remote_maintenance="無", covered_by=[], rules=[],
          needs_review=True)),
]


def write_asset_list(path: Path) -> dict:
    """機器台帳 of the hospital's IT section: one header row, no maker / product column."""
    from samples.ziputil import normalize

    wb = Workbook()
    ws = wb.active
    ws.title = "機器台帳"
    head = ("管理番号", "機器種別", "ホスト名", "IPアドレス", "設置場所", "OS", "保守業者", "リモート保守")
    for c, v in enumerate(head, 1):
        ws.cell(row=1, column=c, value=v).font = Font(bold=True)
    for r, row in enumerate(ASSET_LIST, 2):
        for c, v in enumerate(row[:8], 1):
            ws.cell(row=r, column=c, value=v)
    wb.save(path)
    normalize(path)
    devices = [{"row": r, "device_name": host, "department": dept, "vendor": maint, "vendor_from": "maintenance_vendor",
                "product": "", "model": "", "os_raw": os_raw, "maintenance_vendor": maint, **extra}
               for r, (_no, _kind, host, _ip, dept, os_raw, maint, _remote, extra) in enumerate(ASSET_LIST, 2)]
    return {"file": path.name, "convention": "ledger-no-maker", "family": "device_ledger", "form_id": "",
            "vendor": "", "vendor_key": "", "items": [], "planted": [], "devices": devices}


def build_asset_list(out: Path, wanted: Callable[..., bool] = lambda *a: True) -> Iterator[tuple[Path, dict]]:
    name = "機器台帳_2025.xlsx"
    if wanted(name, "ledger-no-maker", "ledger"):
        path = Path(out) / name
        yield path, write_asset_list(path)


def build_ledgers(out: Path) -> list[Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path, writer in ((out / "機器台帳_放射線・検査.xlsx", write_xlsx), (out / "機器台帳_病棟.csv", write_csv)):
        write_truth(path, writer(path))
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="機器台帳のサンプル（XLSX と Shift_JIS の CSV）と正解データを作成します。")
    parser.add_argument("--out", required=True, type=Path, help="出力先フォルダ")
    args = parser.parse_args(argv)
    written = build_ledgers(args.out)
    print(f"{len(written)} 件の機器台帳サンプルを {args.out} に作成しました。")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
