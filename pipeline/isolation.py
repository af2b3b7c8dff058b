"""Every vendor file is read in a worker process, never in the run's own process, so that the per-file time and
memory limits hold in every run, a small one included (issue #11).

- `WorkerPool(size)`: `size` warm worker processes, reused file after file. A worker is forked from the
  multiprocessing forkserver (the readers are imported there once, FORKSERVER_PRELOAD), becomes
  the leader of its own session and loads the form catalogue. Memory: the resident memory of the worker's whole
  session (the worker, LibreOffice, Tesseract) may reach `MDSGAP_FILE_MEMORY_LIMIT` MB (default 2048); the
  parent watches it while the file is read and kills the session past it. Address space is not the measure
  (OpenCV, camelot and their threads reserve ~2 GB of it untouched): RLIMIT_AS is set only as a backstop at
  4× the limit, so one absurd allocation fails at once as MemoryError.
- `pool.call(func, args, timeout)` runs `func(*args)` in a worker and waits at most `timeout` seconds. Past
  it, the worker's whole session is killed: the worker and every LibreOffice / Tesseract process it started,
  which stay in its session even in a process group of their own. The next file gets a fresh worker.
- A worker that dies (killed by the kernel for memory, a crash inside a C library) costs that file only.
- When mdsgap ends (normally, Ctrl-C, SIGTERM) every worker session is killed before the process exits
  (`install_signal_cleanup`, and a hook that runs before Python waits for its threads). When mdsgap is killed
  outright (SIGKILL), the forkserver sees its pipe close and exits, and the kernel sends each worker SIGTERM
  (PR_SET_PDEATHSIG), on which the worker kills its own session.
"""
from __future__ import annotations

import atexit
import ctypes
import gc
import multiprocessing
import os
import resource
import signal
import threading
import time

DEFAULT_MEMORY_LIMIT_MB = 2048
READY_TIMEOUT_S = 600.0  # a worker's start (import, catalogue) on a very busy machine
PR_SET_PDEATHSIG = 1

_pools: list["WorkerPool"] = []
_pools_lock = threading.RLock()


# Imported once in the forkserver, so that every worker forked from it starts with them. camelot (with OpenCV
# and pandas, about 1 s) is the PDF reader's second reading: imported by each worker at its first ruled table,
# it cost every run that much per worker.
FORKSERVER_PRELOAD = ["pipeline.scale", "pipeline.isolation", "extractors.interpret", "extractors.readers",
                      "extractors.readers.xlsx", "extractors.readers.docx", "extractors.readers.pdf",
                      "extractors.forms", "camelot"]


def warm_worker() -> None:
    """Run once in each worker process: import the readers and interpreter and load the form catalogue, so
    that no task pays for them. Module-level caches (lru_cache in extractors.forms) then live per worker.

    The worker then freezes its heap (`gc.freeze`, as the forkserver's modules before it): the cyclic collector
    no longer walks the modules and the catalogue at every full collection (a tenth of a second each, about
    15 times per worker in a run of 280 files), and the memory pages the worker shares with the forkserver
    stay shared. Objects freed by reference counting are still freed."""
    import extractors.interpret  # noqa: F401
    import extractors.readers  # noqa: F401
    from extractors.forms import all_forms

    all_forms()


def memory_limit_mb() -> int:
    """Resident memory one worker's session (the worker and each program it starts) may hold, in MB
    (MDSGAP_FILE_MEMORY_LIMIT, default 2048; 0 = no limit)."""
    try:
        return max(0, int(float(os.environ.get("MDSGAP_FILE_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT_MB))))
    except ValueError:
        return DEFAULT_MEMORY_LIMIT_MB


# --- processes of a session (Linux /proc) -----------------------------------------------------------------------

def _stat_fields(pid: str) -> list[bytes] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    return data[data.rindex(b")") + 2:].split()  # state ppid pgrp session ...


def session_members(sid: int) -> list[int]:
    """Live (not zombie) processes whose session is `sid`."""
    out = []
    try:
        entries = os.listdir("/proc")
    except OSError:  # pragma: no cover - not Linux
        return out
    for name in entries:
        if not name.isdigit():
            continue
        fields = _stat_fields(name)
        if fields and fields[0] not in (b"Z", b"X") and int(fields[3]) == sid:
            out.append(int(name))
    return out


def session_resident_mb(sid: int) -> float:
    """Resident memory of every live process of session `sid`, in MB."""
    page = os.sysconf("SC_PAGE_SIZE")
    total = 0
    for pid in session_members(sid):
        try:
            with open(f"/proc/{pid}/statm", "rb") as f:
                total += int(f.read().split()[1]) * page
        except (OSError, ValueError, IndexError):
            continue
    return total / (1024 * 1024)


def kill_session(sid: int, spare: int | None = None) -> None:
    """SIGKILL every process of session `sid` (except `spare`), again until none is left: a process forked
    between two rounds is caught by the next."""
    for _ in range(100):
        pids = [p for p in session_members(sid) if p != spare]
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.02)


# --- the worker process --------------------------------------------------------------------------------------

def _die_with_parent() -> None:
    """Ask the kernel for SIGTERM when the parent (the forkserver, which exits with mdsgap) goes away."""
    parent = os.getppid()
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return
    if os.getppid() != parent:  # the parent went away before the request: act on it now
        _end_session(signal.SIGTERM, None)


def _end_session(signum, frame) -> None:
    """In a worker: kill everything this worker started (its session), then exit at once."""
    kill_session(os.getpid(), spare=os.getpid())
    os._exit(128 + int(signum or 0))


ADDRESS_SPACE_FACTOR = 4  # RLIMIT_AS backstop = this × the resident-memory limit
MEMORY_POLL_S = 0.25


def _cap_memory(megabytes: int) -> None:
    if megabytes <= 0:
        return
    limit = megabytes * ADDRESS_SPACE_FACTOR * 1024 * 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError):  # pragma: no cover - a stricter limit already set
        pass


def _worker_main(conn, memory_mb: int) -> None:
    gc.freeze()  # the forkserver's modules: see `warm_worker`
    os.setsid()  # its own session: LibreOffice / Tesseract started here can be found and killed with it
    signal.signal(signal.SIGTERM, _end_session)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _die_with_parent()
    warm_worker()
    gc.freeze()
    _cap_memory(memory_mb)
    conn.send(("ready", os.getpid()))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            break
        if job is None:
            break
        func, args = job
        try:
            result = ("ok", func(*args))
        except MemoryError:
            result = ("memory", None)
        except BaseException as exc:  # noqa: BLE001 - reported to the parent, the worker lives on
            result = ("error", f"{type(exc).__name__}: {exc}")
        try:
            conn.send(result)
        except MemoryError:
            result = ("memory", None)
            conn.send(result)
        except Exception as exc:  # noqa: BLE001 - e.g. a result that cannot be pickled
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
        # Nothing a file started outlives it (a LibreOffice or Tesseract the time limit interrupted).
        kill_session(os.getpid(), spare=os.getpid())
        if result[0] == "memory":
            break  # out of memory once: the next file gets a fresh worker
    _end_session(0, None)


# --- the parent side -----------------------------------------------------------------------------------------

class _Worker:
    def __init__(self, ctx, memory_mb: int):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, memory_mb), daemon=True,
                                name="mdsgap-reader")
        self.proc.start()
        child.close()
        self.pid = self.proc.pid
        if not self.conn.poll(READY_TIMEOUT_S):
            self.kill()
            raise RuntimeError("読み取り用の処理プロセスが起動しませんでした")
        try:
            status, _ = self.conn.recv()
        except (EOFError, OSError) as exc:
            self.kill()
            raise RuntimeError("読み取り用の処理プロセスが起動直後に終了しました") from exc

    def kill(self) -> int | None:
        """Kill the worker's session (the worker and all it started); its exit code."""
        kill_session(self.pid)
        self.proc.join(5)
        try:
            self.conn.close()
        except OSError:
            pass
        return self.proc.exitcode


class WorkerPool:
    """`size` reusable worker processes; see the module doc."""

    def __init__(self, size: int, context=None):
        self.size = max(1, int(size))
        self.ctx = context or _context()
        self.memory_mb = memory_limit_mb()
        self._lock = threading.RLock()
        self._slots = threading.BoundedSemaphore(self.size)
        self._idle: list[_Worker] = []
        self._live: set[_Worker] = set()
        self.killed: list[int] = []  # sessions killed (past the limit, crashed, out of memory)
        self.closed = False
        with _pools_lock:
            _pools.append(self)

    def _take(self) -> _Worker:
        with self._lock:
            if self.closed:
                raise RuntimeError("読み取り用の処理プロセスは終了しています")
            if self._idle:
                return self._idle.pop()
        worker = _Worker(self.ctx, self.memory_mb)
        with self._lock:
            self._live.add(worker)
            if self.closed:
                self._discard(worker)
                raise RuntimeError("読み取り用の処理プロセスは終了しています")
        return worker

    def _discard(self, worker: _Worker) -> int | None:
        with self._lock:
            self._live.discard(worker)
            self.killed.append(worker.pid)
        return worker.kill()

    def prestart(self) -> None:
        """Start the workers now (e.g. while Prefect starts its server) instead of at the first file."""
        started = []
        try:
            for _ in range(self.size):
                if not self._slots.acquire(blocking=False):
                    break
                try:
                    started.append(self._take())
                except Exception:  # noqa: BLE001 - the first file will try again and report it
                    self._slots.release()
                    break
        finally:
            with self._lock:
                for worker in started:
                    if self.closed:
                        self._discard(worker)
                    else:
                        self._idle.append(worker)
            for _ in started:
                self._slots.release()

    def call(self, func, args: tuple, timeout: float | None) -> tuple[str, object]:
        """Run func(*args) in a worker. ("ok", value) | ("timeout", None) | ("memory", None) |
        ("crashed", exit code) | ("error", text)."""
        with self._slots:
            try:
                worker = self._take()
                if not worker.proc.is_alive():  # died while idle: not this file's doing
                    self._discard(worker)
                    worker = self._take()
            except RuntimeError as exc:
                return "error", str(exc)
            try:
                worker.conn.send((func, args))
                over = self._wait(worker, timeout)
                if over:
                    self._discard(worker)
                    return over, None
                status, value = worker.conn.recv()
            except (EOFError, OSError):
                return "crashed", self._discard(worker)
            if status == "memory":
                self._discard(worker)
            else:
                with self._lock:
                    if self.closed:
                        self._discard(worker)
                    else:
                        self._idle.append(worker)
            return status, value

    def _wait(self, worker: "_Worker", timeout: float | None) -> str | None:
        """Wait for the worker's answer: None when it is there, "timeout" past `timeout` seconds, "memory" when
        the worker's session holds more resident memory than the limit."""
        deadline = time.monotonic() + timeout if timeout and timeout > 0 else None
        while True:
            wait = MEMORY_POLL_S if self.memory_mb > 0 else None
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return "timeout"
                wait = left if wait is None else min(wait, left)
            if worker.conn.poll(wait):
                return None
            if self.memory_mb > 0 and session_resident_mb(worker.pid) > self.memory_mb:
                return "memory"

    def shutdown(self) -> None:
        """Kill every worker session (idle workers have nothing running; busy ones end their file)."""
        with self._lock:
            self.closed = True
            workers = list(self._live)
            self._live.clear()
            self._idle.clear()
        for worker in workers:
            worker.kill()
        with _pools_lock:
            if self in _pools:
                _pools.remove(self)

    def pids(self) -> list[int]:
        with self._lock:
            return [w.pid for w in self._live]


# The forkserver listens on a Unix socket in multiprocessing's temporary folder, and a socket path holds at most
# 107 bytes: under a deep TMPDIR that folder is made in a short system folder instead (Python 3.13 does the same).
SOCKET_FOLDER_MAX = 70
SHORT_TEMP_FOLDERS = ("/tmp", "/var/tmp", "/dev/shm")


def _short_socket_folder() -> None:
    """Create multiprocessing's temporary folder (it keeps the first one for the process) where the socket fits."""
    import tempfile
    from multiprocessing import util

    if len(os.fsencode(tempfile.gettempdir())) <= SOCKET_FOLDER_MAX:
        return
    for base in SHORT_TEMP_FOLDERS:
        if os.path.isdir(base) and os.access(base, os.W_OK | os.X_OK):
            saved, tempfile.tempdir = tempfile.tempdir, base
            try:
                util.get_temp_dir()
            finally:
                tempfile.tempdir = saved
            return


def _context():
    if "forkserver" in multiprocessing.get_all_start_methods():
        _short_socket_folder()
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(FORKSERVER_PRELOAD)
        return ctx
    return multiprocessing.get_context("spawn")  # pragma: no cover - not Linux


def shutdown_all() -> None:
    with _pools_lock:
        pools = list(_pools)
    for pool in pools:
        pool.shutdown()


def install_signal_cleanup() -> None:
    """SIGTERM and SIGINT kill every worker session first, then do what they did before (SIGTERM ends the
    process, SIGINT raises KeyboardInterrupt, or the handler another part of mdsgap installed). Main thread only."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(signum)
        if getattr(previous, "_mdsgap_workers", False):
            continue

        def handler(num, frame, previous=previous):
            shutdown_all()
            if callable(previous):
                return previous(num, frame)
            if previous == signal.SIG_IGN:
                return None
            signal.signal(num, signal.SIG_DFL)
            os.kill(os.getpid(), num)
            return None

        handler._mdsgap_workers = True
        signal.signal(signum, handler)


# Before Python waits for its threads at exit (a thread may wait on a busy worker), kill the workers.
try:
    threading._register_atexit(shutdown_all)  # noqa: SLF001 - runs before the interpreter joins threads
except (AttributeError, RuntimeError):  # pragma: no cover
    pass
atexit.register(shutdown_all)
