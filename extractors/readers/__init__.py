"""Format readers: `read(path) -> Grid`, whatever the file's name says.

`read` sniffs the content (`sniff.py`), converts legacy and foreign office formats with LibreOffice
(`legacy.py`), and dispatches to `xlsx.read_xlsx`, `docx.read_docx` or `pdf.read_pdf` (the latter two
imported lazily). Every failure is an `ExtractionError` with a Japanese message for hospital staff
and a `kind`: empty, corrupt, encrypted, unsupported, legacy (LibreOffice missing), too_large.
"""
from __future__ import annotations

import importlib
import logging
import tempfile
import zipfile
from pathlib import Path

from extractors.grid import Grid
from extractors.model import ExtractionError
from extractors.readers.sniff import CONVERTIBLE, sniff

log = logging.getLogger(__name__)
MAX_FILE_BYTES = 100 * 1024 * 1024

# Sniffed kind → (module, function) of the reader.
READERS = {
    "xlsx": ("extractors.readers.xlsx", "read_xlsx"),
    "docx": ("extractors.readers.docx", "read_docx"),
    "pdf": ("extractors.readers.pdf", "read_pdf"),
    "csv": ("extractors.readers.csv_text", "read_csv"),  # device ledgers exported as text
}

# Extensions of the formats we read: content that is none of them is damage, not another format.
CLAIMED_SUFFIXES = {".xlsx", ".xlsm", ".xltx", ".xltm", ".xls", ".xlsb", ".docx", ".docm", ".dotx", ".doc",
                    ".pdf", ".ods", ".odt", ".rtf"}


def read(path: Path | str) -> Grid:
    path = Path(path)
    try:
        if not path.is_file():
            raise FileNotFoundError(2, "ファイルが見つかりません")
        size = path.stat().st_size
    except OSError as exc:
        raise ExtractionError(f"ファイルを開けませんでした（{exc.strerror or exc}）。"
                              "ファイルの場所と読み取り権限を確認してください。", "corrupt") from exc
    if size > MAX_FILE_BYTES:
        raise ExtractionError(
            f"ファイルが大きすぎます（{size // (1024 * 1024)} MB）。開示書として想定される大きさ"
            f"（{MAX_FILE_BYTES // (1024 * 1024)} MB）を超えているため読み取りを中止しました。"
            "事業者に内容の確認を依頼してください。",
            "too_large",
        )
    found = sniff(path)
    kind = found.kind
    if kind == "empty":
        raise ExtractionError("ファイルが空です（中身がありません）。事業者に再送を依頼してください。", "empty")
    if kind == "corrupt":
        raise ExtractionError(
            "ファイルが壊れているか途中までしかありません。事業者に再送を依頼してください。", "corrupt")
    if kind == "encrypted":
        raise ExtractionError(
            "ファイルがパスワードで保護（暗号化）されているため読み取れません。"
            "事業者に保護を解除したファイルの送付を依頼してください。", "encrypted")
    if kind in CONVERTIBLE:
        return _read_converted(path, kind)
    if kind in READERS:
        return _dispatch(path, kind)
    if path.suffix.lower() in CLAIMED_SUFFIXES:
        # Named like a form but holding no known format: a broken transfer or a damaged save.
        raise ExtractionError(
            f"ファイルの中身が拡張子（{path.suffix}）の形式になっていません。壊れている可能性があります。"
            "事業者に再送を依頼してください。", "corrupt")
    raise ExtractionError(
        "対応していない形式のファイルです。Excel (.xlsx/.xls)、Word (.docx/.doc)、PDF のいずれかで"
        "送付するよう事業者に依頼してください。", "unsupported")


def _dispatch(path: Path, kind: str) -> Grid:
    module_name, func_name = READERS[kind]
    log.info("file %s: %s reader (%s.%s)", path.name, kind, module_name, func_name)
    module = importlib.import_module(module_name)
    try:
        return getattr(module, func_name)(path)
    except ExtractionError:
        raise
    except zipfile.BadZipFile as exc:
        raise ExtractionError(
            "ファイルが壊れているか途中までしかありません。事業者に再送を依頼してください。", "corrupt") from exc


def _read_converted(path: Path, kind: str) -> Grid:
    from extractors.readers.legacy import convert, origin_warning

    target = CONVERTIBLE[kind]
    log.info("file %s: %s content, converted to %s with LibreOffice", path.name, kind, target)
    with tempfile.TemporaryDirectory(prefix="mdsgap-lo-") as tmp:
        converted = convert(path, kind, Path(tmp))
        if sniff(converted).kind != target:
            raise ExtractionError(
                "旧形式のファイルを変換しましたが、結果を読み取れませんでした。"
                f"事業者に {target} 形式での再送を依頼してください。", "corrupt")
        grid = _dispatch(converted, target)
    grid.source = path.name
    grid.warnings.insert(0, origin_warning(kind))
    return grid
