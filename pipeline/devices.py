"""The device table: `<out>/devices.csv` (UTF-8 with BOM) and `devices.parquet`, one row per ledger device.

Columns (output contract): ledger_file, row, device_name, department, vendor, product, model, os, os_version,
network, remote_maintenance, maintenance_vendor, documents, os_eol_date, os_status, cve_ids, max_cvss; then
extra columns: os_raw, os_eol_source, match_reasons, needs_review, review_reason, location.
`documents` names the MDS / SDS / checklists that cover the device, each with why it was matched
(rules.device_match); an uncertain match makes the row a review item. cve_ids and max_cvss stay blank until
vulnerability feeds are read.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from extractors.model import Document
from pipeline.safe_io import csv_safe, write_output
from rules.device_match import DeviceAssessment, assess_devices

DEVICES_NAME = "devices"
DEVICE_COLUMNS = [
    "ledger_file", "row", "device_name", "department", "vendor", "product", "model", "os", "os_version",
    "network", "remote_maintenance", "maintenance_vendor", "documents", "os_eol_date", "os_status", "cve_ids",
    "max_cvss",
]
DEVICE_EXTRA_COLUMNS = ["os_raw", "os_eol_source", "match_reasons", "needs_review", "review_reason", "location"]
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


def device_rows(assessments: list[DeviceAssessment]) -> list[dict]:
    rows = []
    for a in assessments:
        d, s = a.device, a.support
        reasons = _reasons(a)
        rows.append({
            "ledger_file": a.ledger.source_file, "row": int(d.row), "device_name": d.device_name,
            "department": d.department, "vendor": d.vendor, "product": d.product, "model": d.model,
            "os": s.os, "os_version": s.version, "network": _FLAG[a.network],
            "remote_maintenance": _FLAG[a.remote], "maintenance_vendor": d.maintenance_vendor,
            "documents": "\n".join(m.label() for m in a.matches.matches),
            "os_eol_date": s.eol_date.isoformat() if s.eol_date else "", "os_status": s.status,
            "cve_ids": "", "max_cvss": None,
            "os_raw": d.os_raw, "os_eol_source": s.source,
            "match_reasons": "\n".join(m.reason for m in a.matches.matches),
            "needs_review": bool(reasons or d.needs_review), "review_reason": "；".join(dict.fromkeys(reasons)),
            "location": str(d.location) if d.location else "",
        })
    return rows


def devices_frame(assessments: list[DeviceAssessment]) -> pd.DataFrame:
    columns = DEVICE_COLUMNS + DEVICE_EXTRA_COLUMNS
    df = pd.DataFrame(device_rows(assessments), columns=columns)
    df["row"] = df["row"].astype("int64")
    df["max_cvss"] = df["max_cvss"].astype("float64")
    df["needs_review"] = df["needs_review"].astype("bool")
    for col in columns:
        if col not in ("row", "max_cvss", "needs_review"):
            df[col] = df[col].fillna("").astype("string")
    return df


def write_devices(ledgers: list[Document], documents: list[Document], out: Path, as_of: dt.date,
                  os_eol=None, vendor_aliases=None) -> tuple[list[Path], list[str]]:
    """Write devices.csv / .parquet when the store holds a ledger; (paths written, Japanese warnings)."""
    if not ledgers:
        return [], []
    df = devices_frame(assess_devices(ledgers, documents, as_of, os_eol, vendor_aliases))
    out = Path(out)
    safe = df.copy()
    for col in safe.columns:
        if safe[col].dtype == "string":
            safe[col] = safe[col].map(csv_safe).astype("string")
    paths, warnings = [], []
    for path, write in ((out / f"{DEVICES_NAME}.csv",
                         lambda p: safe.to_csv(p, index=False, encoding="utf-8-sig")),
                        (out / f"{DEVICES_NAME}.parquet", lambda p: df.to_parquet(p, index=False))):
        written, warning = write_output(path, write)
        paths.append(written)
        if warning:
            warnings.append(warning)
    return paths, warnings
