"""The device table: `<out>/devices.csv` (UTF-8 with BOM) and `devices.parquet`, one row per ledger device.

Columns (output contract): ledger_file, row, device_name, department, vendor, product, model, os, os_version,
network, remote_maintenance, maintenance_vendor, documents, os_eol_date, os_status, cve_ids, max_cvss; then
extra columns: os_raw, os_eol_source, match_reasons, needs_review, review_reason, location, cve_reasons,
cve_review.
`documents` names the MDS / SDS / checklists that cover the device, each with why it was matched
(rules.device_match); an uncertain match makes the row a review item. `cve_ids` (", "-separated, highest CVSS
first) and `max_cvss` hold the vulnerabilities of the feeds in the store matched to the device with certainty —
directly or through its vendor's SBOM (rules.vuln_match); `cve_reasons` says why each was matched, `cve_review`
lists the uncertain candidates (name only, version unknown), which make the row a review item instead.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from extractors.model import Document
from pipeline.safe_io import csv_writer, parquet_writer, write_outputs
from rules.device_match import DeviceAssessment, assess_devices
from rules.vuln_match import Vulns, assess_vulnerabilities

DEVICES_NAME = "devices"
DEVICE_COLUMNS = [
    "ledger_file", "row", "device_name", "department", "vendor", "product", "model", "os", "os_version",
    "network", "remote_maintenance", "maintenance_vendor", "documents", "os_eol_date", "os_status", "cve_ids",
    "max_cvss",
]
DEVICE_EXTRA_COLUMNS = ["os_raw", "os_eol_source", "match_reasons", "needs_review", "review_reason", "location",
                        "cve_reasons", "cve_review"]
MAX_LISTED = 20  # uncertain candidates named in review_reason
_FLAG = {True: "有", False: "無", None: ""}


def _reasons(a: DeviceAssessment) -> list[str]:
    reasons = [a.device.review_reason] if a.device.review_reason else []
    if a.support.status == "unknown" and a.support.reason:
        reasons.append(a.support.reason)
    if a.matches.uncertain():
        reasons.append("開示書との対応づけが確実でない（" + "、".join(m.reason for m in a.matches.uncertain()) + "）")
    for label, raw, value in (("ネットワーク接続", a.device.network, a.network),
                              ("リモート保守", a.device.remote_maintenance, a.remote)):
        if raw and value is None:
            reasons.append(f"{label}の記載「{raw}」を有無として読めない")
    return reasons


def _vuln_reason(v: Vulns) -> str:
    if not v.uncertain:
        return ""
    ids = "、".join(m.vuln_id for m in v.uncertain[:MAX_LISTED])
    more = f" ほか{len(v.uncertain) - MAX_LISTED}件" if len(v.uncertain) > MAX_LISTED else ""
    return f"脆弱性情報との照合が確実でない候補 {len(v.uncertain)} 件（{ids}{more}。製品名のみ一致又はバージョン不明）"


def device_rows(assessments: list[DeviceAssessment], vulns: list[Vulns] | None = None) -> list[dict]:
    rows = []
    for n, a in enumerate(assessments):
        d, s = a.device, a.support
        v = vulns[n] if vulns is not None else Vulns()
        reasons = _reasons(a) + ([_vuln_reason(v)] if v.uncertain else [])
        rows.append({
            "ledger_file": a.ledger.source_file, "row": int(d.row), "device_name": d.device_name,
            "department": d.department, "vendor": d.vendor, "product": d.product, "model": d.model,
            "os": s.os, "os_version": s.version, "network": _FLAG[a.network],
            "remote_maintenance": _FLAG[a.remote], "maintenance_vendor": d.maintenance_vendor,
            "documents": "\n".join(m.label() for m in a.matches.matches),
            "os_eol_date": s.eol_date.isoformat() if s.eol_date else "", "os_status": s.status,
            "cve_ids": ", ".join(v.cve_ids), "max_cvss": v.max_cvss,
            "os_raw": d.os_raw, "os_eol_source": s.source,
            "match_reasons": "\n".join(m.reason for m in a.matches.matches),
            "needs_review": bool(reasons or d.needs_review), "review_reason": "；".join(dict.fromkeys(reasons)),
            "location": str(d.location) if d.location else "",
            "cve_reasons": "\n".join(m.describe() for m in v.certain),
            "cve_review": "\n".join(m.describe() for m in v.uncertain),
        })
    return rows


def devices_frame(assessments: list[DeviceAssessment], vulns: list[Vulns] | None = None) -> pd.DataFrame:
    columns = DEVICE_COLUMNS + DEVICE_EXTRA_COLUMNS
    df = pd.DataFrame(device_rows(assessments, vulns), columns=columns)
    df["row"] = df["row"].astype("int64")
    df["max_cvss"] = df["max_cvss"].astype("float64")
    df["needs_review"] = df["needs_review"].astype("bool")
    for col in columns:
        if col not in ("row", "max_cvss", "needs_review"):
            df[col] = df[col].fillna("").astype("string")
    return df


def write_devices(ledgers: list[Document], documents: list[Document], out: Path, as_of: dt.date,
                  os_eol=None, vendor_aliases=None, feeds: list[Document] | None = None
                  ) -> tuple[list[Path], list[str]]:
    """Write devices.csv / .parquet when the store holds a ledger; (paths written, Japanese warnings).
    `feeds`: the vulnerability feeds and SBOMs in the store (cve_ids, max_cvss)."""
    if not ledgers:
        return [], []
    assessments = assess_devices(ledgers, documents, as_of, os_eol, vendor_aliases)
    vulns = [v for _, v in assess_vulnerabilities(assessments, feeds or [], vendor_aliases).devices]
    df = devices_frame(assessments, vulns)
    out = Path(out)
    text = [c for c in df.columns if df[c].dtype == "string"]
    return write_outputs([(out / f"{DEVICES_NAME}.csv", csv_writer(df, text)),
                          (out / f"{DEVICES_NAME}.parquet", parquet_writer(df))])
