"""The portfolio page's devices view (issue 15): counts by OS support status, an end-of-support timeline (SVG)
and every ledger device with its department, vendor, OS and end date.

Made from `<out>/devices.parquet` (pipeline.devices), the table the run wrote; nothing is recomputed here, so the
page and devices.csv always agree. No ledger, no view.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pandas as pd

from pipeline.devices import DEVICES_NAME
from pipeline.report_svg import eol_timeline
from rules.os_eol import STATUSES

STATUS_LABELS = {"supported": "サポート中", "eol": "サポート終了", "eol_soon": "1年以内にサポート終了",
                 "unknown": "サポート終了日不明"}
LIST_ORDER = ("eol", "eol_soon", "unknown", "supported")  # the device list: most urgent first


def load_devices(out_dir: Path) -> pd.DataFrame | None:
    """The run's device table, or None when no ledger was read."""
    path = Path(out_dir) / f"{DEVICES_NAME}.parquet"
    return pd.read_parquet(path) if path.is_file() else None


def last_run_as_of(store) -> str | None:
    """The evaluation date of the last finished run (the date devices.csv's statuses hold for), or None."""
    return store.last_finished_as_of()


def devices_digest(out_dir: Path) -> str:
    """A digest of the run's device table ("" without one), for the reports' skip-when-unchanged key."""
    path = Path(out_dir) / f"{DEVICES_NAME}.csv"
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""


def _date(text: object) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(text or "").strip())
    except ValueError:
        return None


def _os_label(row: dict) -> str:
    return " ".join(x for x in (str(row.get("os") or ""), str(row.get("os_version") or "")) if x)


def devices_context(devices: pd.DataFrame | None, as_of: dt.date | str | None) -> dict | None:
    """What the index template shows of the devices; None when there is no device."""
    if devices is None or devices.empty:
        return None
    if isinstance(as_of, str):
        as_of = _date(as_of)
    rows = []
    for rec in devices.astype(object).where(devices.notna(), "").to_dict("records"):
        status = str(rec.get("os_status") or "unknown")
        os_label = _os_label(rec)
        rows.append({
            "device_name": str(rec.get("device_name") or "") or "（機器名なし）",
            "department": str(rec.get("department") or ""), "vendor": str(rec.get("vendor") or ""),
            "maintenance_vendor": str(rec.get("maintenance_vendor") or ""),
            "os": os_label or str(rec.get("os_raw") or ""), "os_raw": str(rec.get("os_raw") or ""),
            "eol_date": str(rec.get("os_eol_date") or ""), "status": status,
            "status_label": STATUS_LABELS.get(status, status), "ledger": f"{Path(str(rec.get('ledger_file'))).name} "
                                                                        f"行{rec.get('row')}",
            "needs_review": bool(rec.get("needs_review")), "review_reason": str(rec.get("review_reason") or ""),
            "_os_key": os_label, "_date": _date(rec.get("os_eol_date")),
        })
    # the tiles, in rules.os_eol's order of statuses
    counts = [(s, STATUS_LABELS[s], sum(1 for r in rows if r["status"] == s)) for s in STATUSES]
    rank = {s: i for i, s in enumerate(LIST_ORDER)}
    rows.sort(key=lambda r: (rank.get(r["status"], len(rank)), r["_date"] or dt.date.max, r["device_name"]))
    groups: dict[tuple[str, dt.date], tuple[str, list[str]]] = {}
    for r in rows:
        if r["_date"] is not None:
            status, names = groups.setdefault((r["_os_key"] or r["os_raw"], r["_date"]), (r["status"], []))
            names.append(r["device_name"])
    timeline = [(label, day, status, names) for (label, day), (status, names)
                in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0]))]
    undated = sum(1 for r in rows if r["_date"] is None)
    return {"counts": counts, "total": len(rows), "rows": rows, "as_of": as_of.isoformat() if as_of else "",
            "chart": eol_timeline(timeline, as_of), "undated": undated,
            "review": sum(1 for r in rows if r["needs_review"])}
