"""Make Office zip packages byte-for-byte reproducible (fixed entry times and core-property dates)."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

FIXED_ZIP_TIME = (2025, 1, 1, 9, 0, 0)
FIXED_W3CDTF = "2025-01-01T09:00:00Z"


def read_entries(path: Path) -> tuple[list[str], dict[str, bytes]]:
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        return names, {n: z.read(n) for n in names}


def write_entries(path: Path, names: list[str], entries: dict[str, bytes]) -> None:
    order = list(names) + [n for n in entries if n not in names]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name in order:
            if name not in entries:
                continue
            info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, entries[name])


def normalize(path: Path) -> None:
    """Fix zip entry times and dcterms:created/modified so that a rebuild gives the same bytes."""
    names, entries = read_entries(path)
    core = "docProps/core.xml"
    if core in entries:
        text = entries[core].decode("utf-8")
        text = re.sub(r"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)", rf"\g<1>{FIXED_W3CDTF}\g<2>", text)
        entries[core] = text.encode("utf-8")
    write_entries(path, names, entries)
