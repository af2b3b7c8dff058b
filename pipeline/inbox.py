"""The inbox folder: which files to read, when they are complete, and where they go afterwards."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import FAILED_DIR, PROCESSED_DIR
from pipeline.safe_io import atomic_write_text

IGNORED_DIRS = {PROCESSED_DIR, FAILED_DIR}
IGNORED_SUFFIXES = (".tmp", ".truth.json", ".error.txt", ".part", ".crdownload")


def is_candidate(path: Path) -> bool:
    """A vendor file to read: not hidden, not an Office lock file, not a temp file or a sample's truth sidecar."""
    name = path.name
    if name.startswith(".") or name.startswith("~$"):
        return False
    lower = name.lower()
    return not any(lower.endswith(s) for s in IGNORED_SUFFIXES)


def discover(inbox: Path) -> list[Path]:
    """Every candidate file under the inbox (sub-folders too), skipping processed/, failed/ and hidden folders."""
    inbox = Path(inbox)
    found: list[Path] = []
    if not inbox.is_dir():
        return found
    for root, dirs, files in os.walk(inbox):
        rel = Path(root).relative_to(inbox)
        dirs[:] = sorted(
            d for d in dirs
            if not d.startswith(".") and not (rel == Path(".") and d in IGNORED_DIRS)
        )
        for name in sorted(files):
            p = Path(root) / name
            if is_candidate(p) and p.is_file():
                found.append(p)
    return found


def _signature(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def split_stable(paths: list[Path], interval: float = 1.0, rounds: int = 3,
                 sleep=time.sleep) -> tuple[list[Path], list[Path]]:
    """Files whose size and mtime did not change between two reads `interval` seconds apart.

    One sleep covers all files. A file still changing is re-checked up to `rounds` times and is then left
    for the next run (returned as the second list). Empty files that stay empty count as stable.
    """
    pending = list(paths)
    stable: list[Path] = []
    for _ in range(max(1, rounds)):
        if not pending:
            break
        before = {p: _signature(p) for p in pending}
        sleep(interval)
        still: list[Path] = []
        for p in pending:
            now = _signature(p)
            if now is None:
                continue  # vanished: somebody took it back
            (stable if now == before[p] else still).append(p)
        pending = still
    return stable, pending


# Room left in a 255-byte file name for 「 (NN)」 and 「.error.txt」.
MAX_NAME_BYTES = 255 - len(" (99)".encode()) - len(".error.txt".encode())


def fit_name(name: str, limit: int = MAX_NAME_BYTES) -> str:
    """Shorten a file name (UTF-8 safe, extension kept) so that its derived names still fit the file system."""
    if len(name.encode("utf-8")) <= limit:
        return name
    stem, suffix = _split_name(name)
    budget = limit - len(suffix.encode("utf-8")) - len("…".encode("utf-8"))
    cut = stem.encode("utf-8")[:max(budget, 1)].decode("utf-8", errors="ignore")
    return f"{cut}…{suffix}"


def unique_destination(directory: Path, name: str) -> Path:
    """`directory/name`, or `name (2).ext`, `name (3).ext` … when taken. Never overwrites."""
    directory.mkdir(parents=True, exist_ok=True)
    name = fit_name(name)
    candidate = directory / name
    if not candidate.exists():
        return candidate
    stem, suffix = _split_name(name)
    n = 2
    while True:
        candidate = directory / f"{stem} ({n}){suffix}"
        if not candidate.exists():
            return candidate
        n += 1


def _split_name(name: str) -> tuple[str, str]:
    p = Path(name)
    return (p.stem, p.suffix) if p.suffix else (name, "")


def move_to_processed(path: Path, inbox: Path) -> Path:
    dest = unique_destination(Path(inbox) / PROCESSED_DIR, path.name)
    os.replace(path, dest)
    return dest


@dataclass
class FailedMove:
    file: Path
    error_file: Path


def move_to_failed(path: Path, inbox: Path, reason: str) -> FailedMove:
    """Move a file that could not be read to failed/ with `<name>.error.txt` (Japanese reason) beside it."""
    failed = Path(inbox) / FAILED_DIR
    dest = unique_destination(failed, path.name)
    os.replace(path, dest)
    # The reason follows the moved name (`a (2).pdf` gets `a (2).pdf.error.txt`) and is written after the move:
    # a run killed in between leaves the file in failed/ without its reason, never a reason without its file.
    error_file = dest.with_name(dest.name + ".error.txt")
    atomic_write_text(error_file, reason.rstrip() + "\n")
    return FailedMove(dest, error_file)


def failure_reason(exc: BaseException) -> str:
    """Japanese reason for failed/<name>.error.txt: the ExtractionError message, or a generic one with the type."""
    from extractors.model import ExtractionError

    if isinstance(exc, ExtractionError):
        return exc.message
    return (f"読み取り中に予期しないエラーが発生しました（{type(exc).__name__}: {exc}）。"
            "ファイルを確認し、解決しない場合は開発担当者に連絡してください。")
