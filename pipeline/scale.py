"""Throughput and scale-out helpers: which Prefect task runner runs the per-document extraction, how worker
processes warm up once, and how a run finds an already running Prefect server instead of starting one.

- `make_task_runner(workers, kind, address)`:
  * `auto` with workers > 1 (the default for a big inbox): Prefect's thread runner, one Prefect task per
    document, and each task hands the CPU work to a local process pool (`extraction_pool`). The pool's
    workers fork from a forkserver that has imported the readers and the catalogue once, so a worker starts
    in milliseconds and stays warm for the life of the process (the bench's second run, `mdsgap watch`).
    Measured here: Prefect's own ProcessPoolTaskRunner spawns fresh interpreters that import Prefect and
    open their own API client, which cost 40-50 s per run on this loaded 2-core box.
  * `thread`: in-process only (no start-up cost; right for a handful of files).
  * `process`: Prefect's ProcessPoolTaskRunner (kept for comparison; workers warmed by `warm_worker`).
  * `dask`: prefect-dask's DaskTaskRunner: a LocalCluster, or an existing scheduler `address`; each Dask
    worker extracts in-process.
- `auto_workers(n_files)`: how many processes are worth their start-up for that many files.
- `configure_api()`: reuse a running server: PREFECT_API_URL when the user set it, else the URL that
  `mdsgap server` recorded in PREFECT_HOME when that server answers. Otherwise Prefect starts its temporary
  server as before.
"""
from __future__ import annotations

import atexit
import contextlib
import json
import multiprocessing
import os
import signal
import threading
import urllib.request
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pipeline  # noqa: F401  (embedded-Prefect defaults before prefect is imported)
from pipeline import runlog  # a worker's log records are sent back to this run's log

RUNNER_KINDS = ("auto", "thread", "process", "dask")
# Below this many files per worker a spawned process costs more than it saves (a worker's start-up,
# importing the readers and the catalogue, is about 1.5-3 s on this 2-core box; one document 0.05-0.8 s).
FILES_PER_PROCESS = 12
_pool_lock = threading.Lock()
SERVER_FILE = "mdsgap-server.json"  # in PREFECT_HOME: {"api_url": ...} written by `mdsgap server`


def cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def auto_workers(n_files: int) -> int:
    """Processes worth starting for `n_files` new files: 1 (= in-process threads) for small batches."""
    return max(1, min(cpu_count(), n_files // FILES_PER_PROCESS))


def warm_worker() -> None:
    """Run once in each worker process: import the readers and interpreter and load the form catalogue, so
    that no task pays for them. Module-level caches (lru_cache in extractors.forms) then live per worker."""
    import extractors.interpret  # noqa: F401
    import extractors.readers  # noqa: F401
    from extractors.forms import all_forms

    all_forms()


def make_task_runner(workers: int = 1, kind: str = "auto", address: str | None = None):
    """The Prefect task runner for the extraction tasks (and, for `auto` with workers > 1, the local pool).

    kind: auto, thread, process, dask (see the module doc). For dask, `address` is a running scheduler
    (tcp://host:8786); without it a LocalCluster with `workers` processes is made.
    """
    if kind not in RUNNER_KINDS:
        raise ValueError(f"task runner の種類が不正です: {kind}（{', '.join(RUNNER_KINDS)} のいずれか）")
    workers = max(1, int(workers))
    use_local_pool(workers if kind == "auto" and not address else 1)
    if kind == "auto":
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=max(2, workers))
    if kind == "dask" or address:
        from prefect_dask import DaskTaskRunner

        if address:
            return DaskTaskRunner(address=address)
        return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1,
                                              "processes": True, "dashboard_address": None})
    if kind == "process":
        from prefect.task_runners import ProcessPoolTaskRunner

        return ProcessPoolTaskRunner(max_workers=workers, initializer=warm_worker)
    from prefect.task_runners import ThreadPoolTaskRunner

    # Threads share the GIL: more than one only overlaps LibreOffice/OCR subprocess waits.
    return ThreadPoolTaskRunner(max_workers=max(2, workers))


# --- the local extraction pool --------------------------------------------------------------------------------

FORKSERVER_PRELOAD = ["pipeline.scale", "extractors.interpret", "extractors.readers", "extractors.readers.xlsx",
                      "extractors.readers.docx", "extractors.readers.pdf", "extractors.forms"]
_pool: ProcessPoolExecutor | None = None
_pool_size = 0
_wanted_workers = 1


def use_local_pool(workers: int) -> None:
    """Extraction tasks in this process hand their work to a pool of `workers` processes (1 = in-process)."""
    global _wanted_workers
    _wanted_workers = max(1, int(workers))


def extraction_pool() -> ProcessPoolExecutor | None:
    """The warm process pool for this process, made on first use and kept (None when 1 worker is wanted)."""
    global _pool, _pool_size
    if _wanted_workers <= 1:
        return None
    with _pool_lock:
        if _pool is None or _pool_size != _wanted_workers:
            if _pool is not None:
                _pool.shutdown(wait=True)
            if "forkserver" in multiprocessing.get_all_start_methods():
                ctx = multiprocessing.get_context("forkserver")
                ctx.set_forkserver_preload(FORKSERVER_PRELOAD)
            else:  # pragma: no cover - not Linux
                ctx = multiprocessing.get_context("spawn")
            _pool = ProcessPoolExecutor(max_workers=_wanted_workers, mp_context=ctx, initializer=warm_worker)
            _pool_size = _wanted_workers
            atexit.register(shutdown_pool)
        return _pool


def shutdown_pool() -> None:
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown(wait=True, cancel_futures=True)
            _pool = None


class FileTimeLimit(Exception):
    """One file took longer than the per-file limit."""


def file_time_limit() -> float:
    """Seconds one file may take to read (MDSGAP_FILE_TIME_LIMIT, default 300; 0 = no limit)."""
    try:
        return max(0.0, float(os.environ.get("MDSGAP_FILE_TIME_LIMIT", "300")))
    except ValueError:
        return 300.0


@contextlib.contextmanager
def time_limit(seconds: float):
    """Raise FileTimeLimit after `seconds` — where a signal can be delivered: the main thread of a process,
    which is where the warm pool's workers run each file. In a thread of the flow process (small runs that stay
    in one process) the limit cannot interrupt the reader; LibreOffice and Tesseract keep their own timeouts."""
    usable = seconds > 0 and hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def _expired(signum, frame):
        raise FileTimeLimit()

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def extract_timed(path: Path, sha256: str) -> tuple[object, str, str, dict[str, float]]:
    """extractors.extract, timed and time-limited: (Document | None, reason, kind, timings).

    Failures are returned, not raised: one bad file never stops the run.
    """
    from extractors import extract
    from extractors.model import ExtractionError
    from pipeline.inbox import failure_reason

    timings: dict[str, float] = {}
    limit = file_time_limit()
    try:
        with time_limit(limit):
            return extract(path, sha256, timings), "", "", timings
    except FileTimeLimit:
        return None, (f"読み取りが制限時間（{limit:g} 秒）を超えたため中止しました。ページ数やファイルの大きさを確認し、"
                      "必要なら分割して送付するよう事業者に依頼してください（上限は環境変数 MDSGAP_FILE_TIME_LIMIT で"
                      "変更できます）。"), "timeout", timings
    except ExtractionError as exc:
        return None, failure_reason(exc), exc.kind, timings
    except Exception as exc:  # noqa: BLE001 - anything a reader throws is that file's failure
        return None, failure_reason(exc), type(exc).__name__, timings


def extract_here_or_in_pool(path: Path, sha256: str):
    """extract_timed in the warm pool when one is configured for this process, else right here."""
    pool = extraction_pool()
    if pool is None:
        return extract_timed(path, sha256)
    try:
        return runlog.replayed(pool.submit(runlog.collecting, extract_timed, path, sha256).result())
    except BrokenProcessPool as exc:  # a worker died (e.g. killed for memory): that file fails, pool renewed
        shutdown_pool()
        return None, ("読み取り中に処理プロセスが異常終了しました（BrokenProcessPool）。"
                      "ファイルが大きすぎる可能性があります。開発担当者に連絡してください。"), type(exc).__name__, {}


def runner_workers(runner) -> int:
    """How many tasks the runner executes at once (for the flow's bound on tasks in flight)."""
    if _wanted_workers > 1:
        return _wanted_workers
    for attr in ("_max_workers", "max_workers"):
        value = getattr(runner, attr, None)
        if isinstance(value, int) and value > 0:
            return value
    n = (getattr(runner, "cluster_kwargs", None) or {}).get("n_workers")
    return n if isinstance(n, int) and n > 0 else cpu_count()


# --- reuse a running Prefect server ------------------------------------------------------------------------

def prefect_home() -> Path:
    return Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect")


def server_file() -> Path:
    return prefect_home() / SERVER_FILE


def api_healthy(api_url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(api_url.rstrip("/") + "/health", timeout=timeout) as resp:
            return resp.status == 200
    except (OSError, ValueError):
        return False


def record_server(api_url: str) -> Path:
    path = server_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"api_url": api_url}), encoding="utf-8")
    return path


def recorded_server() -> str | None:
    try:
        return json.loads(server_file().read_text(encoding="utf-8")).get("api_url") or None
    except (OSError, ValueError):
        return None


def configure_api() -> str:
    """Which Prefect API this process will use, set in the environment before prefect reads its settings.

    Returns "configured" (PREFECT_API_URL given by the user), "recorded" (the `mdsgap server` of this
    PREFECT_HOME answers), or "ephemeral" (Prefect starts its temporary server at the first flow call).
    """
    if os.environ.get("PREFECT_API_URL"):
        return "configured"
    url = recorded_server()
    if url and api_healthy(url):
        os.environ["PREFECT_API_URL"] = url
        return "recorded"
    return "ephemeral"
