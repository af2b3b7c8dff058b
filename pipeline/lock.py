"""One run at a time per output folder: an fcntl lock on `<out>/.mdsgap.lock`.

The lock file records who holds it: `pid=<mdsgap pid>` and, once started, `server_pid=<pid>` of the temporary
Prefect server that run started (pipeline.ephemeral). A run that was killed outright cannot stop that server
itself (the server normally dies with it, see pipeline.ephemeral); the next run that takes the lock stops a
server whose recorded owner is gone (`stop_orphaned_server`).

The `mdsgap run` command takes the lock before Prefect starts and hands it on (`hand_over=True`) to the flow's
own `run_lock` in the same process, so a second run at the same time is refused at once, before it starts
anything, and never from inside a flow.
"""
from __future__ import annotations

import fcntl
import os
import signal
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from pipeline.config import LOCK_NAME

SERVER_MARK = b"prefect.server.api.server:create_app"  # in the command line of Prefect's temporary server

_held_lock = threading.Lock()
_held: dict[str, int] = {}  # resolved out folder -> fd of a lock this process took with hand_over=True


class RunLockedError(RuntimeError):
    """Another mdsgap run holds the output folder. `message` is Japanese."""

    def __init__(self, out: Path):
        self.message = (f"別の mdsgap の処理が実行中です（{Path(out) / LOCK_NAME}）。"
                        "終了してから再実行してください。")
        super().__init__(self.message)


def _key(out: Path) -> str:
    return str(Path(out).resolve())


@contextmanager
def run_lock(out: Path, wait: float = 0.0, poll: float = 0.5, hand_over: bool = False):
    """Hold the output folder's lock; wait up to `wait` seconds for another run, then raise RunLockedError.

    `hand_over=True`: a nested run_lock of the same folder in this process (the flow inside `mdsgap run`)
    enters without locking again. Without it a second run_lock of a held folder is refused like any other run.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with _held_lock:
        nested = _key(out) in _held
    if nested:
        yield
        return
    fd = os.open(out / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise RunLockedError(out) from None
                time.sleep(poll)
        try:
            previous = _read(fd)
            _write(fd, {"pid": str(os.getpid())})
            stop_orphaned_server(previous)
            if hand_over:
                with _held_lock:
                    _held[_key(out)] = fd
            try:
                yield
            finally:
                if hand_over:
                    with _held_lock:
                        _held.pop(_key(out), None)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def record_server(out: Path, server_pid: int) -> None:
    """Note the temporary Prefect server of this run in the lock file this process holds (hand_over=True)."""
    with _held_lock:
        fd = _held.get(_key(out))
    if fd is None:
        return
    fields = _read(fd)
    fields["server_pid"] = str(server_pid)
    try:
        _write(fd, fields)
    except OSError:
        pass  # a full disk: the server still dies with this process (pipeline.ephemeral)


def _read(fd: int) -> dict[str, str]:
    """The lock file's fields. An old lock file holds only the pid on its first line."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 4096).decode("utf-8", errors="replace")
    except OSError:
        return {}
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            fields[key.strip()] = value.strip()
        elif line.strip().isdigit() and "pid" not in fields:
            fields["pid"] = line.strip()
    return fields


def _write(fd: int, fields: dict[str, str]) -> None:
    data = "".join(f"{k}={v}\n" for k, v in fields.items()).encode()
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
    except OSError:
        pass  # a full or read-only disk: the lock itself (flock) still holds


def _proc(pid: int, name: str) -> bytes | None:
    try:
        return Path(f"/proc/{pid}/{name}").read_bytes()
    except OSError:
        return None


def _parent_pid(pid: int) -> int | None:
    stat = _proc(pid, "stat")
    if not stat:
        return None
    try:  # "pid (comm) state ppid …"; comm may hold spaces and parentheses
        return int(stat[stat.rindex(b")") + 2:].split()[1])
    except (ValueError, IndexError):
        return None


def stop_orphaned_server(previous: dict[str, str]) -> bool:
    """Stop the temporary Prefect server an earlier, killed run left behind; True when one was stopped.

    Only a process whose command line is Prefect's server and whose parent is no longer the run that recorded
    it (that run is dead: it lost its lock) is stopped; a recycled pid or a server of a live `mdsgap watch`
    is left alone.
    """
    try:
        server, owner = int(previous.get("server_pid", "")), int(previous.get("pid", "0"))
    except ValueError:
        return False
    if server <= 1 or server == os.getpid():
        return False
    cmdline = _proc(server, "cmdline")
    if not cmdline or SERVER_MARK not in cmdline:
        return False
    if _parent_pid(server) == owner:
        return False  # its run is still alive (between two `watch` cycles, say)
    try:
        os.kill(server, signal.SIGTERM)
        return True
    except OSError:
        return False
