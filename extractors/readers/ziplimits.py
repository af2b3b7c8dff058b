"""Limits on Office packages (ZIP) checked before any XML is inflated: zip bombs, XML bombs, absurd sizes."""
from __future__ import annotations

import zipfile
from pathlib import Path

from extractors.model import ExtractionError

MAX_UNCOMPRESSED = 500 * 1024 * 1024  # bytes, whole package (pictures included)
MAX_XML = 100 * 1024 * 1024  # bytes of XML parts a reader must parse (a real form: < 2 MB)
MAX_RATIO = 400  # uncompressed / compressed for a large part: a zip bomb
MAX_MEMBERS = 20_000


def check_package(path: Path, kind_label: str, corrupt_message: str) -> None:
    """Refuse a package whose members would inflate beyond what any form needs. `kind_label`: 「Excel」, 「Word」."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ExtractionError(corrupt_message, "corrupt") from exc
    total = sum(i.file_size for i in infos)
    xml = sum(i.file_size for i in infos if i.filename.endswith((".xml", ".rels", ".vml")))
    bomb = any(i.file_size > 10 * 1024 * 1024 and i.file_size > MAX_RATIO * max(i.compress_size, 1)
               for i in infos)
    if total > MAX_UNCOMPRESSED or xml > MAX_XML or bomb or len(infos) > MAX_MEMBERS:
        raise ExtractionError(
            f"{kind_label} ファイルの展開後のサイズが大きすぎます（{total // (1024 * 1024)} MB）。"
            "開示書として想定される大きさを超えているため読み取りを中止しました。事業者に内容の確認を依頼してください。",
            "too_large",
        )
