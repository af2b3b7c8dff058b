"""Convert old or foreign office formats (.xls, .doc, .xlsb, .ods, .odt, .rtf) with LibreOffice.

`convert(path, source_kind, workdir)` runs `soffice --headless --convert-to xlsx|docx` on a copy of
the file inside `workdir` (the caller owns and removes it), with a private LibreOffice profile, HOME, XDG
folders and TMPDIR per call so several conversions can run in parallel, and a time limit after which the
whole LibreOffice process group is killed. It returns the converted file's path.

The limit counts the CPU seconds LibreOffice uses (120), not the seconds on the clock: on a loaded machine a
conversion that needs 5 s of CPU can wait minutes for a core, and a clock limit then fails a good file at
random. A conversion that hangs without using CPU is stopped by a clock limit four times as long (and, in a
run, by the per-file limit before that).

LibreOffice (soffice → oosplash → soffice.bin) runs in a process group of its own, inside the caller's
session: the group is killed on the timeout, on any exception or interruption while waiting (the run's
per-file time limit), after a normal end (nothing of the conversion outlives it), and at exit for
conversions still running. A caller that kills the whole session (pipeline.isolation) reaches it too.
"""
from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

from extractors.model import ExtractionError
from extractors.readers.sniff import CONVERTIBLE

DEFAULT_TIMEOUT_S = 120  # CPU seconds of the LibreOffice processes
WALL_FACTOR = 4  # clock seconds allowed = WALL_FACTOR x the CPU limit (a hang that uses no CPU)
POLL_S = 0.5
_running: set[int] = set()  # process groups of conversions in progress (killed at exit)
_running_lock = threading.Lock()

# Extension LibreOffice expects for each source kind (it uses the name as a hint).
SOURCE_SUFFIX = {"xls": ".xls", "xlsb": ".xlsb", "ods": ".ods", "xml_spreadsheet": ".xml",
                 "doc": ".doc", "odt": ".odt", "rtf": ".rtf"}

# Debian package to install when LibreOffice is missing.
APT_PACKAGE = {"xlsx": "libreoffice-calc-nogui", "docx": "libreoffice-writer-nogui"}


def find_soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def origin_warning(source_kind: str) -> str:
    """The note the Grid carries when its content came through a conversion."""
    label = {"xml_spreadsheet": "XML スプレッドシート 2003"}.get(source_kind, f".{source_kind}")
    return f"旧形式({label})から変換して読み取りました"


def convert(path: Path, source_kind: str, workdir: Path, timeout_s: float = DEFAULT_TIMEOUT_S) -> Path:
    """Convert `path` (of sniffed kind `source_kind`) to xlsx/docx inside `workdir`; return the new file."""
    target = CONVERTIBLE[source_kind]
    soffice = find_soffice()
    if soffice is None:
        raise ExtractionError(
            f"旧形式({SOURCE_SUFFIX[source_kind]})のファイルを変換するための LibreOffice がインストールされていません。"
            f"管理者に `apt-get install {APT_PACKAGE[target]}` の実行を依頼するか、"
            f"事業者に {target} 形式での再送を依頼してください。",
            "legacy",
        )
    workdir = Path(workdir)
    src_dir, out_dir, profile = workdir / "in", workdir / "out", workdir / "profile"
    for d in (src_dir, out_dir):
        d.mkdir(parents=True, exist_ok=True)
    src = src_dir / ("input" + SOURCE_SUFFIX[source_kind])
    shutil.copyfile(path, src)
    cmd = [soffice, f"-env:UserInstallation={profile.resolve().as_uri()}", "--headless",
           "--norestore", "--nologo", "--convert-to", target, "--outdir", str(out_dir), str(src)]
    # HOME and the XDG folders inside the work folder: nothing of the user's (or another conversion's)
    # configuration, cache or runtime sockets is shared.
    env = dict(os.environ, HOME=str(workdir), XDG_CONFIG_HOME=str(workdir / "config"),
               XDG_CACHE_HOME=str(workdir / "cache"), XDG_RUNTIME_DIR=str(workdir / "runtime"),
               TMPDIR=str(workdir / "tmp"))
    for d in ("config", "cache", "runtime", "tmp"):
        (workdir / d).mkdir(mode=0o700, exist_ok=True)
    proc = None
    deadline = time.monotonic() + WALL_FACTOR * timeout_s
    try:
        with _running_lock:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                    process_group=0)
            _running.add(proc.pid)
        while True:
            try:
                _, stderr = proc.communicate(timeout=min(POLL_S, max(0.01, timeout_s)))
                break
            except subprocess.TimeoutExpired:
                if group_cpu_seconds(proc.pid) > timeout_s or time.monotonic() >= deadline:
                    raise ExtractionError(
                        f"旧形式({SOURCE_SUFFIX[source_kind]})のファイルの変換が LibreOffice の処理時間 {timeout_s:g} "
                        f"秒以内に終わりませんでした。ファイルが大きすぎるか壊れている可能性があります。"
                        f"事業者に {target} 形式での再送を依頼してください。",
                        "legacy",
                    ) from None
    finally:  # on the limit, on the run's time limit or Ctrl-C while waiting, and after a normal end
        if proc is not None:
            _kill_group(proc)
    out = out_dir / ("input." + target)
    if proc.returncode != 0 or not out.exists() or out.stat().st_size == 0:
        detail = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] if stderr else []
        raise ExtractionError(
            f"旧形式({SOURCE_SUFFIX[source_kind]})のファイルを変換できませんでした。"
            "ファイルが壊れているか、パスワードで保護されている可能性があります。"
            f"事業者に保護のない {target} 形式での再送を依頼してください。"
            + (f"（詳細: {detail[0]}）" if detail else ""),
            "corrupt",
        )
    return out


def group_cpu_seconds(pgid: int) -> float:
    """CPU seconds used by the live processes of process group `pgid` and the children they reaped."""
    ticks = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                data = f.read()
        except OSError:
            continue
        fields = data[data.rindex(b")") + 2:].split()  # state ppid pgrp ... utime(11) stime cutime cstime
        if int(fields[2]) == pgid:
            ticks += sum(int(x) for x in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def _kill_group(proc: subprocess.Popen) -> None:
    """Kill the LibreOffice process we started and its children (its own process group only)."""
    with _running_lock:
        if proc.pid not in _running:
            return
        _running.discard(proc.pid)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    if proc.returncode is None:  # reap it and close the pipes (also after an interrupted communicate)
        try:
            proc.communicate(timeout=30)
        except Exception:  # noqa: BLE001 - the group is dead; nothing more to collect
            pass


@atexit.register
def _kill_running() -> None:
    """At exit: no conversion outlives the process that started it."""
    with _running_lock:
        groups = list(_running)
        _running.clear()
    for pgid in groups:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
