"""Reading starts while Prefect starts: the warm workers read the inbox's new files during the seconds Prefect's
temporary server takes to come up, and the flow's extraction tasks take those results instead of reading again.

`start(inbox, out, pool)` (called by `mdsgap run` once the run lock is held, before Prefect starts) hashes the
inbox's candidate files, leaves out the ones whose content is already stored (as the flow does), and feeds the
rest to the worker pool in discovery order (the flow's order), one file per worker at a time. A result is kept
under the file's path and sha256 and is good only for those bytes: the file's size, mtime and ctime must be
the same before the hash and after the read, and the flow, which hashes again after its arrival check, must
ask for the same sha256. Otherwise the flow reads the file itself. `take(path, sha)` (from an extraction task)
returns the kept result (waiting for one being read), or None when the file was not read ahead; a file not
started yet is taken out of the queue, so nothing is read twice. At most `AHEAD` finished results wait for the
flow (memory stays flat however many files arrive). Nothing here changes what is read: the same function runs
in the same workers, with the same time and memory limits (pipeline.scale.extract_timed).
"""
from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path

from pipeline.inbox import discover, file_signature

log = logging.getLogger(__name__)
AHEAD = 128  # finished results that may wait for the flow (a few MB; 48 left both workers idle for ~2 s
#                while a 280-file run waited for Prefect's server)
_current: "Prefetch | None" = None
_current_lock = threading.Lock()


def _known_shas(out: Path) -> set[str]:
    """sha256 of every stored submission (read-only; an absent or busy store knows nothing)."""
    from pipeline.config import STORE_NAME

    path = Path(out) / STORE_NAME
    if not path.is_file():
        return set()
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1.0)
        try:
            return {row[0] for row in conn.execute("SELECT sha256 FROM documents")}
        finally:
            conn.close()
    except sqlite3.Error:
        return set()


class Prefetch:
    def __init__(self, pool, read):
        self.pool, self.read_in_pool = pool, read  # read(path, sha256) -> the pool's answer
        self._cond = threading.Condition()
        self._pending: OrderedDict[tuple[str, str], tuple[Path, tuple]] = OrderedDict()
        self._running: set[tuple[str, str]] = set()
        self._done: dict[tuple[str, str], tuple[str, object]] = {}
        self._claimed: set[tuple[str, str]] = set()  # asked for by the flow: never read ahead any more
        self._stopped = self._listed = False
        self.read = self.used = 0

    def start(self, inbox: Path, out: Path) -> None:
        """List and hash the inbox in a thread (Prefect's start is not delayed), reading as files come."""
        threading.Thread(target=self._list, args=(inbox, out), name="mdsgap-prefetch-list", daemon=True).start()
        for i in range(self.pool.size):  # one reader thread per worker
            threading.Thread(target=self._work, name=f"mdsgap-prefetch-{i}", daemon=True).start()

    def _list(self, inbox: Path, out: Path) -> None:
        from extractors import file_sha256

        try:
            known, seen = _known_shas(out), set()
            for path in discover(inbox):
                signature = file_signature(path)
                try:
                    sha = file_sha256(path)
                except OSError:
                    continue
                if sha in known or sha in seen or signature is None:
                    continue
                seen.add(sha)
                with self._cond:
                    if self._stopped:
                        return
                    if (str(path), sha) not in self._claimed:
                        self._pending[(str(path), sha)] = (path, signature)
                        self._cond.notify_all()
        finally:
            with self._cond:
                self._listed = True
                self._cond.notify_all()

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and ((not self._pending and not self._listed)
                                             or (self._pending and len(self._done) >= AHEAD)):
                    self._cond.wait()
                if self._stopped or not self._pending:
                    return
                key, (path, signature) = self._pending.popitem(last=False)
                self._running.add(key)
            result = None
            try:
                result = self.read_in_pool(path, key[1])
            except Exception as exc:  # noqa: BLE001 - the flow reads the file itself
                log.info("read-ahead of %s failed: %s", path.name, exc)
            with self._cond:
                self._running.discard(key)
                if result is not None and file_signature(path) == signature and not self._stopped:
                    self._done[key] = result
                    self.read += 1
                self._cond.notify_all()

    def take(self, path: Path, sha: str) -> tuple[str, object] | None:
        key = (str(path), sha)
        with self._cond:
            self._claimed.add(key)
            if self._pending.pop(key, None) is not None:
                return None  # not started: the flow reads it now
            while key in self._running:
                self._cond.wait()
            result = self._done.pop(key, None)
            if result is not None:
                self.used += 1
            self._cond.notify_all()
            return result

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._pending.clear()
            self._done.clear()
            self._cond.notify_all()


def start(inbox: Path, out: Path, pool, read) -> Prefetch | None:
    """Begin reading the inbox's new files in `pool` (pipeline.isolation.WorkerPool) with `read(path, sha256)`
    (pipeline.scale.read_in_pool: the pool's answer, as the flow's tasks get it); None without a pool.
    Call with the run lock held; `stop()` when the run ends."""
    global _current
    stop()
    if pool is None or os.environ.get("MDSGAP_PREFETCH", "1") == "0":
        return None
    prefetch = Prefetch(pool, read)
    with _current_lock:
        _current = prefetch
    prefetch.start(Path(inbox), Path(out))
    return prefetch


def take(path: Path, sha: str) -> tuple[str, object] | None:
    """The pool's answer for this file read ahead (("ok", value) | ("timeout", None) | …), or None."""
    with _current_lock:
        current = _current
    return current.take(Path(path), sha) if current is not None else None


def stop() -> None:
    global _current
    with _current_lock:
        current, _current = _current, None
    if current is not None:
        current.stop()
        log.info("read ahead while Prefect started: %d files, %d of them used by the flow", current.read,
                 current.used)
