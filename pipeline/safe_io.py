"""Atomic writes and spreadsheet-safe text (no formula injection from vendor text)."""
from __future__ import annotations

import os
import re
import signal
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

from pipeline.config import LOCKED_SUFFIX

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


# Terminal escape sequences: CSI (ESC [ … final), OSC (ESC ] … BEL or ESC \\), other two-byte ESC codes, 8-bit CSI.
_ESCAPE_SEQUENCE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]?|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[ -~]?)"
                              r"|\x9b[0-?]*[ -/]*[@-~]?")
# C0 controls except tab and line breaks, DEL, C1 controls: the Excel writer refuses some, terminals obey them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Bidi embeddings/overrides/isolates and zero-width characters (incl. LRM/RLM, a BOM inside text).
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def neutral_text(value: object, visible: bool = True) -> object:
    """Vendor text made inert wherever it lands (cells, HTML, console, file names); non-text passes through.

    Terminal escape sequences and control characters (tab and line breaks kept) are removed. Bidi controls and
    zero-width characters are shown as 「⟨U+202E⟩」 (`visible`, so a reviewer sees them) or removed.
    """
    if not isinstance(value, str):
        return value
    text = _CONTROL.sub("", _ESCAPE_SEQUENCE.sub("", value))
    return _INVISIBLE.sub(lambda m: f"⟨U+{ord(m.group()):04X}⟩" if visible else "", text)


def looks_like_formula(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def csv_safe(value: object) -> object:
    """Text made inert (neutral_text), and text a spreadsheet would run as a formula gets a leading single quote;
    other values pass through."""
    value = neutral_text(value)
    return "'" + value if looks_like_formula(value) else value


def user_file_mode() -> int:
    """The mode a plainly created file gets under the user's umask (typically 0o644): outputs colleagues can read.

    Read from /proc where it exists (no change of the process umask, which threads share); else the
    set-and-restore idiom.
    """
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


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
        os.chmod(tmp, user_file_mode())  # mkstemp creates 0600; the output is for colleagues too
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


def write_outputs(jobs) -> tuple[list[Path], list[str]]:
    """`write_output` for each (path, write) in order: the paths written and the Japanese warnings."""
    written, warnings = [], []
    for path, write in jobs:
        done, warning = write_output(path, write)
        written.append(done)
        if warning:
            warnings.append(warning)
    return written, warnings


def csv_writer(df, text_columns) -> Callable[[Path], None]:
    """Writes the pandas frame `df` as CSV in UTF-8 with a BOM (so that Excel opens Japanese text), no index;
    a copy whose `text_columns` are made formula-safe (`csv_safe`, as text)."""
    safe = df.copy()
    for col in text_columns:
        safe[col] = safe[col].map(csv_safe).astype("string")
    return lambda path: safe.to_csv(path, index=False, encoding="utf-8-sig")


def parquet_writer(df) -> Callable[[Path], None]:
    """Writes the pandas frame `df` as Parquet, no index."""
    return lambda path: df.to_parquet(path, index=False)


@contextmanager
def uninterrupted():
    """SIGINT and SIGTERM wait until the block is done, then take effect (main thread; elsewhere a no-op).

    For steps that must not be cut in two by a Ctrl-C or a `kill`: a file moved to failed/ and its reason
    written beside it. Whatever handler was in place (mdsgap's, Prefect's flow bridge) gets the signal after.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    previous = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        handler = signal.getsignal(signum)
        if handler is not None:  # None: set outside Python, cannot be put back
            previous[signum] = signal.signal(signum, lambda s, _frame: pending.append(s))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if pending:
            signal.raise_signal(pending[0])
