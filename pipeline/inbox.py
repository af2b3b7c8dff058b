"""The inbox folder: which files to read, when they are complete, and where they go afterwards."""
from __future__ import annotations

import logging
import os
import re
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import FAILED_DIR, PROCESSED_DIR
from pipeline.safe_io import atomic_write_text, uninterrupted

log = logging.getLogger(__name__)
IGNORED_DIRS = {PROCESSED_DIR, FAILED_DIR}
DOCUMENT_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".docx", ".docm", ".doc", ".pdf")
IGNORED_SUFFIXES = (".tmp", ".truth.json", ".error.txt", ".part", ".crdownload")


def is_candidate(path: Path) -> bool:
    """A vendor file to read: not a system file, an Office lock file, a temp file or a sample's truth sidecar."""
    name = path.name
    lower = name.lower()
    if name.startswith(("~$", "._")):
        return False  # an Office lock file, a macOS resource fork copied beside the real file
    if name.startswith(".") and not lower.endswith(DOCUMENT_SUFFIXES):
        return False  # .DS_Store and friends; a vendor document named 「.xxx.pdf」 is still read
    return not any(lower.endswith(s) for s in IGNORED_SUFFIXES)


_UNSAFE_CHARS = re.compile(r"[\x00-\x1f\x7f]")


def special_kind(path: Path) -> str | None:
    """「シンボリックリンク」 or 「特殊ファイル」 for an inbox entry that is not a plain file; None for a plain file.

    Uses lstat only: a link is never followed and a named pipe is never opened (opening one would block the run).
    """
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None
    if stat.S_ISLNK(mode):
        return "シンボリックリンク"
    if stat.S_ISDIR(mode) or stat.S_ISREG(mode):
        return None
    return "特殊ファイル"


def _special_note(path: Path, kind: str) -> str:
    name = safe_file_name(path.name)
    if kind == "シンボリックリンク":
        return (f"シンボリックリンクは読み取りません（「{name}」、リンク先は開きません）。"
                "受信フォルダに残しています。")
    return (f"通常のファイルでないもの（名前付きパイプなど）は読み取りません（「{name}」）。"
            "受信フォルダに残しています。")


def safe_file_name(name: str) -> str:
    """A name every output, log and database can hold: bytes that are not UTF-8 decoded as Shift_JIS (names
    from a Windows zip) or replaced, control characters (a line break, a tab) replaced by 「_」."""
    raw = os.fsencode(name)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp932")
            if re.search(r"[\ue000-\uf8ff]", text):  # bytes cp932 only maps to private-use characters
                raise UnicodeDecodeError("cp932", raw, 0, len(raw), "private use")
        except UnicodeDecodeError:
            text = raw.decode("utf-8", errors="replace").replace("\ufffd", "_")
    return _UNSAFE_CHARS.sub("_", text) or "_"


def prepare_inbox(inbox: Path) -> list[str]:
    """Make every vendor file's name safe to read, move and report before discovery; Japanese notes.

    A file named like one of our folders (processed / failed) would block every move: it is renamed and read.
    A name with a line break, a control character or bytes that are not UTF-8 is renamed in place (the
    content is untouched), so that one badly named file cannot stop a run.
    """
    inbox = Path(inbox)
    notes: list[str] = []
    if not inbox.is_dir():
        return notes
    for folder in sorted(IGNORED_DIRS):
        blocker = inbox / folder
        # A link named like our folder (even to a folder) would send the moves outside the inbox: renamed too.
        if blocker.is_symlink() or (blocker.exists() and not blocker.is_dir()):
            dest = _free_name(inbox, f"{folder}（受信ファイル）")
            link = blocker.is_symlink()
            os.replace(blocker, dest)
            notes.append(f"受信フォルダの{'シンボリックリンク' if link else 'ファイル'}「{folder}」は作業用フォルダと"
                         f"同じ名前のため、「{dest.name}」に名前を変え{'ました' if link else 'て読み取りました'}。")
    for root, dirs, files in os.walk(inbox):
        rel = Path(root).relative_to(inbox)
        dirs[:] = [d for d in dirs if not d.startswith(".") and not (rel == Path(".") and d in IGNORED_DIRS)]
        for d in [d for d in dirs if special_kind(Path(root) / d)]:
            dirs.remove(d)  # a link to a folder: never followed, never renamed, reported
            notes.append(_special_note(Path(root) / d, "シンボリックリンク"))
        for i, d in enumerate(dirs):
            if (safe := safe_file_name(d)) != d:
                dest = _free_name(Path(root), fit_name(safe))
                try:
                    os.replace(Path(root) / d, dest)
                    dirs[i] = dest.name
                    notes.append(f"フォルダ名に改行・制御文字・読めない文字コードが含まれていたため、"
                                 f"「{dest.name}」に名前を変えました。")
                except OSError:
                    dirs[i] = d
        for name in files:
            if kind := special_kind(Path(root) / name):
                if is_candidate(Path(name)):
                    notes.append(_special_note(Path(root) / name, kind))
                continue  # a link or a pipe is never renamed, read or moved
            safe = safe_file_name(name)
            if safe == name:
                continue
            dest = _free_name(Path(root), fit_name(safe))
            try:
                os.replace(Path(root) / name, dest)
            except OSError as exc:
                notes.append(f"ファイル名に使えない文字を含むファイル（{safe}）の名前を変えられませんでした"
                             f"（{type(exc).__name__}）。受信フォルダに残っています。")
                continue
            notes.append(f"ファイル名に改行・制御文字・読めない文字コードが含まれていたため、"
                         f"「{dest.name}」に名前を変えて読み取りました。")
    return notes


def _free_name(directory: Path, name: str) -> Path:
    candidate = directory / name
    n = 2
    stem, suffix = _split_name(name)
    while candidate.exists() or candidate.is_symlink():
        candidate = directory / f"{stem} ({n}){suffix}"
        n += 1
    return candidate


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
            and not special_kind(Path(root) / d)
        )
        for name in sorted(files):
            p = Path(root) / name
            if is_candidate(p) and special_kind(p) is None and p.is_file():
                found.append(p)
    return found


def file_signature(path: Path) -> tuple[int, int, int] | None:
    """Size, mtime and ctime: a copy that restores the original mtime at its end still changes the ctime."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _quiet_for(signature: tuple[int, int, int], now: float) -> float:
    """Seconds since the file last changed (a time stamp in the future, from a share's clock, counts as 0)."""
    return max(0.0, now - max(signature[1], signature[2]) / 1e9)


# A read that fails like this may be a file cut short by a copy still going on: it gets a second, longer look.
CUT_SHORT_KINDS = ("corrupt", "empty", "unsupported")


@dataclass
class Arrivals:
    """The arrival check of one run: which files are complete, and what each looked like when it passed."""

    stable: list[Path]
    waiting: list[Path]
    signatures: dict[Path, tuple[int, int, int]]
    quiet: float = 0.0
    sleep: object = time.sleep
    clock: object = time.time

    def still_arriving(self, path: Path, failed_kind: str | None = None) -> bool:
        """After a read: True when the file changed since it passed the check (what was read is not what is
        there now), or when the read failed as if cut short (`failed_kind` in CUT_SHORT_KINDS) and the file
        changes during a second quiet period (twice `quiet` since its last change). Such a file stays in the
        inbox for the next run, never goes to failed/."""
        before = self.signatures.get(path)
        now = file_signature(path)
        if before is None or now != before:
            return True
        if failed_kind not in CUT_SHORT_KINDS or self.quiet <= 0:
            return False
        remaining = 2 * self.quiet - _quiet_for(now, self.clock())
        if remaining > 0:
            self.sleep(min(remaining, 2 * self.quiet))
        return file_signature(path) != before


def check_arrivals(paths: list[Path], interval: float = 1.0, rounds: int = 3, quiet: float = 0.0,
                   sleep=time.sleep, clock=time.time) -> Arrivals:
    """Which files are complete: size, mtime and ctime unchanged between two reads `interval` seconds apart,
    and (with `quiet` > 0) no change for `quiet` seconds.

    One sleep covers all files. A file still changing is re-checked up to `rounds` times. Then the files not
    yet quiet long enough are watched once more until the youngest has been quiet for `quiet` seconds: a
    copy that pauses between chunks (a slow share) shows itself by writing again. What still changes is left
    for the next run (`waiting`). Empty files that stay empty count as complete.
    """
    pending = list(paths)
    stable: list[Path] = []
    signatures: dict[Path, tuple[int, int, int]] = {}
    for _ in range(max(1, rounds)):
        if not pending:
            break
        before = {p: file_signature(p) for p in pending}
        sleep(interval)
        still: list[Path] = []
        for p in pending:
            now = file_signature(p)
            if now is None:
                continue  # vanished: somebody took it back
            if now == before[p]:
                stable.append(p)
                signatures[p] = now
            else:
                still.append(p)
        pending = still
    if quiet > 0 and stable:
        now = clock()
        wait = max(quiet - _quiet_for(signatures[p], now) for p in stable)
        if wait > 0:
            sleep(min(wait, quiet))
            settled = []
            for p in stable:
                sig = file_signature(p)
                if sig is None:
                    signatures.pop(p, None)
                elif sig == signatures[p]:
                    settled.append(p)
                else:
                    signatures.pop(p, None)
                    pending.append(p)
            stable = settled
    return Arrivals(stable, pending, signatures, quiet, sleep, clock)


def split_stable(paths: list[Path], interval: float = 1.0, rounds: int = 3, sleep=time.sleep,
                 quiet: float = 0.0, clock=time.time) -> tuple[list[Path], list[Path]]:
    """(complete files, files left for the next run): check_arrivals without the signatures."""
    arrivals = check_arrivals(paths, interval, rounds, quiet, sleep, clock)
    return arrivals.stable, arrivals.waiting


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
    log.info("file %s moved to %s/%s", path.name, PROCESSED_DIR, dest.name)
    return dest


@dataclass
class FailedMove:
    file: Path
    error_file: Path


def move_to_failed(path: Path, inbox: Path, reason: str) -> FailedMove:
    """Move a file that could not be read to failed/ with `<name>.error.txt` (Japanese reason) beside it."""
    failed = Path(inbox) / FAILED_DIR
    dest = unique_destination(failed, path.name)
    with uninterrupted():  # a Ctrl-C or SIGTERM takes effect after both steps
        os.replace(path, dest)
        # The reason follows the moved name (`a (2).pdf` gets `a (2).pdf.error.txt`) and is written after the
        # move: a run killed in between (SIGKILL) leaves the file in failed/ without its reason, never a reason
        # without its file.
        error_file = dest.with_name(dest.name + ".error.txt")
        atomic_write_text(error_file, reason.rstrip() + "\n")
    log.info("file %s quarantined in %s/%s (reason in %s)", path.name, FAILED_DIR, dest.name, error_file.name)
    return FailedMove(dest, error_file)


def failure_reason(exc: BaseException) -> str:
    """Japanese reason for failed/<name>.error.txt: the ExtractionError message, or a generic one with the type."""
    from extractors.model import ExtractionError

    if isinstance(exc, ExtractionError):
        return exc.message
    return (f"読み取り中に予期しないエラーが発生しました（{type(exc).__name__}: {exc}）。"
            "ファイルを確認し、解決しない場合は開発担当者に連絡してください。")
