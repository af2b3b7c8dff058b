"""Atomic writes and spreadsheet-safe text (no formula injection from vendor text)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

from pipeline.config import LOCKED_SUFFIX

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def csv_safe(value: object) -> object:
    """Text a spreadsheet would run as a formula gets a leading single quote; other values pass through."""
    return "'" + value if looks_like_formula(value) else value


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call `write(tmp)` on a temp file in the same folder, then os.replace it onto `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A short fixed prefix: the temporary name must fit the file system even when `path`'s name is at its limit.
    fd, tmp_name = tempfile.mkstemp(prefix=".mdsgap-", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_text(path: Path, text: str, encoding: str = "utf-8") -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding=encoding))


def locked_alternative(path: Path) -> Path:
    """`risk_register.xlsx` → `risk_register (新).xlsx`."""
    path = Path(path)
    return path.with_name(f"{path.stem}{LOCKED_SUFFIX}{path.suffix}")


def write_output(path: Path, write: Callable[[Path], None]) -> tuple[Path, str | None]:
    """Atomic write; if the target is open in another program (PermissionError) write `<name> (新)<ext>`.

    Returns the path written and a Japanese warning when the alternative was used.
    """
    try:
        atomic_write(path, write)
        return Path(path), None
    except PermissionError:
        alt = locked_alternative(path)
        atomic_write(alt, write)
        return alt, (f"{Path(path).name} が他のプログラムで開かれているため書き込めませんでした。"
                     f"代わりに {alt.name} に保存しました。元のファイルを閉じてから再実行してください。")
