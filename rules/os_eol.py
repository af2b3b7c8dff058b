"""Operating systems of ledger rows: free-text OS strings normalised, and their end of support.

`normalize_os(text) -> OsName(os, version, reason)`: 「Win10 Pro 22H2」 → ("Windows 10", "22H2"),
「Windows 10 IoT Enterprise LTSC 2019」 → ("Windows 10 IoT LTSC", "2019"), 「Windows Server 2012 R2」 →
("Windows Server", "2012 R2"), 「RHEL 7.9」 → ("RHEL", "7"), 「不明」 or an unrecognised text → ("", "") with a
Japanese reason. The end-of-support table is data (rules/data/os_eol.yaml, each date with its source), extended or
overridden by `os_eol:` entries in mdsgap.yaml. `os_status` is supported | eol | eol_soon | unknown.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from extractors.text import normalize_text
from extractors.yamlfile import load_yaml

EOL_TABLE = Path(__file__).parent / "data" / "os_eol.yaml"
SOON_DAYS = 365
STATUSES = ("supported", "eol", "eol_soon", "unknown")
UNKNOWN_WORDS = ("不明", "未確認", "unknown", "n/a", "-", "？", "?", "なし", "無し")


class OsEolEntry(BaseModel):
    """One row of the end-of-support table (also the schema of mdsgap.yaml `os_eol:` entries)."""

    model_config = ConfigDict(extra="forbid")
    os: str
    version: str = ""
    date: dt.date
    source: str
    checked: bool = False


@dataclass(frozen=True)
class OsName:
    os: str = ""
    version: str = ""
    reason: str = ""  # Japanese: why the OS could not be told, "" when it could


_WIN = r"(?:windows|win)\s*"


def normalize_os(text: str) -> OsName:
    raw = normalize_text(text or "")
    t = raw.casefold()
    if not t or t in UNKNOWN_WORDS:
        return OsName(reason="OS が記載されていない（不明）" if t else "OS が空欄")
    if m := re.search(_WIN + r"server\s*(20\d\d)\s*(r2)?", t):
        return OsName("Windows Server", m.group(1) + (" R2" if m.group(2) else ""))
    if m := re.search(_WIN + r"(10|11)\b(.*)", t):
        major, rest = m.group(1), m.group(2)
        iot = "iot" in rest
        channel = "LTSB" if "ltsb" in rest else "LTSC" if "ltsc" in rest else ""
        if channel:
            label = f"Windows {major}{' IoT' if iot and channel == 'LTSC' else ''} {channel}"
            year = re.search(r"(?:ltsc|ltsb)\s*(20\d\d)|(20\d\d)\s*(?:ltsc|ltsb)", rest)
            if year:
                return OsName(label, year.group(1) or year.group(2))
            return OsName(label, "", f"{channel} の版（年）が記載されていない")
        if v := re.search(r"\b(\d\dh\d|1[5-9]0\d|20[01]\d)\b", rest):
            return OsName(f"Windows {major}", v.group(1).upper())
        return OsName(f"Windows {major}", "")
    if re.search(_WIN + r"(embedded|posready)\s*(standard)?\s*7", t):
        return OsName("Windows Embedded Standard 7", "")
    if m := re.search(_WIN + r"(xp|7|8\.1|vista)\b", t):
        return OsName({"xp": "Windows XP", "vista": "Windows Vista"}.get(m.group(1), f"Windows {m.group(1)}"), "")
    if m := re.search(r"(?:rhel|red\s*hat(?:\s*enterprise\s*linux)?)\s*(\d+)", t):
        return OsName("RHEL", m.group(1))
    if m := re.search(r"centos\s*(?:linux\s*)?(\d+)", t):
        return OsName("CentOS", m.group(1))
    if m := re.search(r"ubuntu\s*(?:server\s*)?(\d\d\.\d\d)", t):
        return OsName("Ubuntu", m.group(1))
    return OsName(reason=f"OS「{raw}」を判別できない")


@lru_cache(maxsize=1)
def shipped_table() -> tuple[OsEolEntry, ...]:
    data = load_yaml(EOL_TABLE)
    return tuple(OsEolEntry.model_validate(e) for e in data["entries"])


def _key(os_name: str, version: str) -> tuple[str, str]:
    return os_name.casefold(), version.casefold()


def eol_table(extra: list[OsEolEntry] | None = None) -> dict[tuple[str, str], OsEolEntry]:
    """(os, version) -> entry; the hospital's entries override the shipped ones."""
    table = {_key(e.os, e.version): e for e in shipped_table()}
    table.update({_key(e.os, e.version): e for e in extra or ()})
    return table


@dataclass(frozen=True)
class OsSupport:
    os: str
    version: str
    eol_date: dt.date | None
    status: str  # one of STATUSES
    source: str = ""
    reason: str = ""  # Japanese: why unknown


def os_support(text: str, as_of: dt.date, table: dict[tuple[str, str], OsEolEntry]) -> OsSupport:
    name = normalize_os(text)
    if not name.os:
        return OsSupport("", "", None, "unknown", reason=name.reason)
    entry = table.get(_key(name.os, name.version)) or table.get(_key(name.os, ""))
    if entry is None:
        missing = (f"{name.os} のバージョンが記載されていないため、サポート終了日を決められない" if not name.version
                   else f"{name.os} {name.version} のサポート終了日が表にない")
        return OsSupport(name.os, name.version, None, "unknown", reason=name.reason or missing)
    if entry.date < as_of:
        status = "eol"
    elif (entry.date - as_of).days <= SOON_DAYS:
        status = "eol_soon"
    else:
        status = "supported"
    return OsSupport(name.os, name.version, entry.date, status, entry.source, name.reason)
