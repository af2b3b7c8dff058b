"""Throughput and scale-out helpers: which Prefect task runner runs the per-document extraction, how worker
processes warm up once, and how a run finds an already running Prefect server instead of starting one.

- `make_task_runner(workers, kind, address)`:
  * `auto` (the default): Prefect's thread runner, one Prefect task per document, and each task hands the
    reading to a pool of `workers` warm processes (`extraction_pool`, pipeline.isolation; one worker for a
    small inbox). Reading never runs in the run's own process, so the per-file time and memory limits always
    hold. The workers fork from a forkserver that has imported the readers once, so a worker starts in
    milliseconds and stays warm for the life of the process (the bench's second run, `mdsgap watch`); they
    are started in the background while Prefect starts. Measured here: Prefect's own ProcessPoolTaskRunner
    spawns fresh interpreters that import Prefect and open their own API client, which cost 40-50 s per run
    on this loaded 2-core box.
  * `thread`: the same, Prefect's thread runner with the worker pool.
  * `process`: Prefect's ProcessPoolTaskRunner (kept for comparison; workers warmed by `isolation.warm_worker`).
  * `dask`: prefect-dask's DaskTaskRunner: a LocalCluster, or an existing scheduler `address`; each Dask
    worker extracts in-process (MDSGAP_EXTRACT_IN_PROCESS=1 is set for the workers it starts; the
    time limit then holds only where a signal reaches the reader).
- `auto_workers(n_files)`: how many processes are worth their start-up for that many files.
- `configure_api()`: reuse a running server: PREFECT_API_URL when the user set it, else the URL that
  `mdsgap server` recorded in PREFECT_HOME when that server answers. Otherwise Prefect starts its temporary
  server as before.
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import urllib.request
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
    """Worker processes worth starting for `n_files` new files: 1 for small batches (each file is still read
    in a worker, for the time and memory limits; see pipeline.isolation)."""
    return max(1, min(cpu_count(), n_files // FILES_PER_PROCESS))


def make_task_runner(workers: int = 1, kind: str = "auto", address: str | None = None):
    """The Prefect task runner for the extraction tasks (and, for `auto` with workers > 1, the local pool).

    kind: auto, thread, process, dask (see the module doc). For dask, `address` is a running scheduler
    (tcp://host:8786); without it a LocalCluster with `workers` processes is made.
    """
    if kind not in RUNNER_KINDS:
        raise ValueError(f"task runner の種類が不正です: {kind}（{', '.join(RUNNER_KINDS)} のいずれか）")
    workers = max(1, int(workers))
    in_process = kind in ("dask", "process") or bool(address)
    if in_process:  # their workers are processes already; the ones they start inherit this
        os.environ[IN_PROCESS_ENV] = "1"
    else:
        os.environ.pop(IN_PROCESS_ENV, None)
    use_local_pool(0 if in_process else workers)
    if not in_process:
        from pipeline.isolation import install_signal_cleanup

        install_signal_cleanup()
        pool = extraction_pool()
        if pool is not None:  # warm the workers while Prefect starts its server
            threading.Thread(target=pool.prestart, name="mdsgap-prestart", daemon=True).start()
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

        from pipeline.isolation import warm_worker

        return ProcessPoolTaskRunner(max_workers=workers, initializer=warm_worker)
    from prefect.task_runners import ThreadPoolTaskRunner

    return ThreadPoolTaskRunner(max_workers=max(2, workers))


# --- the local extraction pool --------------------------------------------------------------------------------

IN_PROCESS_ENV = "MDSGAP_EXTRACT_IN_PROCESS"  # "1": read files in the calling process (Dask / process workers)
_pool = None  # pipeline.isolation.WorkerPool
_wanted_workers = 0 if os.environ.get(IN_PROCESS_ENV) == "1" else 1


def use_local_pool(workers: int) -> None:
    """Extraction tasks in this process hand their work to a pool of `workers` processes (0 = in-process)."""
    global _wanted_workers
    _wanted_workers = max(0, int(workers))


def extraction_pool():
    """The warm worker pool for this process (pipeline.isolation.WorkerPool), made on first use and kept;
    None when files are read in-process (use_local_pool(0))."""
    global _pool
    if _wanted_workers <= 0:
        return None
    from pipeline.isolation import WorkerPool

    with _pool_lock:
        if _pool is None or _pool.closed or _pool.size != _wanted_workers:
            if _pool is not None:
                _pool.shutdown()
            _pool = WorkerPool(_wanted_workers)
        return _pool


def shutdown_pool() -> None:
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown()
            _pool = None


def release_readers() -> None:
    """Stop reading ahead (pipeline.prefetch) and the worker pool: for a run that has read its files and only
    writes outputs from the store now. The workers hold the memory of the largest files they read (about
    300 MB each); the next reading makes a new pool."""
    from pipeline import prefetch

    prefetch.stop()
    shutdown_pool()


class FileTimeLimit(BaseException):
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
    which is where the pool's workers run each file (a BaseException, so that no reader's `except Exception`
    swallows it). A reader stuck where no signal reaches it is killed by the run (pipeline.isolation)."""
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


def timeout_reason(limit: float) -> str:
    return (f"読み取りが制限時間（{limit:g} 秒）を超えたため中止しました。ページ数やファイルの大きさを確認し、"
            "必要なら分割して送付するよう事業者に依頼してください（上限は環境変数 MDSGAP_FILE_TIME_LIMIT で"
            "変更できます）。")


def memory_reason() -> str:
    from pipeline.isolation import memory_limit_mb

    return (f"読み取りに必要なメモリが上限（{memory_limit_mb()} MB）を超えたため中止しました。"
            "極端に大きなページ・シート・画像を含んでいる可能性があります。事業者に内容の確認と、必要なら分割して"
            "送付するよう依頼してください（上限は環境変数 MDSGAP_FILE_MEMORY_LIMIT で変更できます）。")


def extract_timed(path: Path, sha256: str, limit: float | None = None
                  ) -> tuple[object, str, str, dict[str, float]]:
    """extractors.extract, timed and time-limited (`limit` seconds, default file_time_limit()): (Document | None,
    reason, kind, timings).

    Failures are returned, not raised: one bad file never stops the run.
    """
    from extractors import extract
    from extractors.model import ExtractionError
    from pipeline.inbox import failure_reason

    timings: dict[str, float] = {}
    limit = file_time_limit() if limit is None else limit
    try:
        with time_limit(limit):
            return extract(path, sha256, timings), "", "", timings
    except FileTimeLimit:
        return None, timeout_reason(limit), "timeout", timings
    except MemoryError:
        return None, memory_reason(), "too_large", timings
    except ExtractionError as exc:
        return None, failure_reason(exc), exc.kind, timings
    except Exception as exc:  # noqa: BLE001 - anything a reader throws is that file's failure
        return None, failure_reason(exc), type(exc).__name__, timings


def hard_time_limit(limit: float) -> float | None:
    """How long the run waits for a worker before killing it: the per-file limit (which the worker enforces
    itself where it can) plus a grace period for a reader stuck where no signal reaches it."""
    return limit + max(5.0, 0.1 * limit) if limit > 0 else None


def read_in_pool(pool, path: Path, sha256: str, limit: float | None = None) -> tuple[str, object]:
    """extract_timed in a worker of `pool` under the per-file limits: the pool's answer (WorkerPool.call)."""
    limit = file_time_limit() if limit is None else limit
    return pool.call(runlog.collecting, (extract_timed, path, sha256, limit), hard_time_limit(limit))


def extract_here_or_in_pool(path: Path, sha256: str):
    """extract_timed in this process's worker pool (pipeline.isolation), or right here when files are read
    in-process. A worker past the limit, out of memory or dead costs that file only."""
    pool = extraction_pool()
    if pool is None:
        return extract_timed(path, sha256)
    limit = file_time_limit()
    from pipeline import prefetch

    ahead = prefetch.take(path, sha256)  # read while Prefect started (pipeline.prefetch), else read now
    status, value = ahead if ahead is not None else read_in_pool(pool, path, sha256, limit)
    if status == "ok":
        return runlog.replayed(value)
    if status == "timeout":
        return None, timeout_reason(limit), "timeout", {}
    if status == "memory":
        return None, memory_reason(), "too_large", {}
    if status == "crashed":
        return None, ("読み取り中に処理プロセスが異常終了しました"
                      f"（終了コード {value}）。メモリ不足か、ファイルが大きすぎる・壊れている可能性があります。"
                      "事業者に内容の確認を依頼し、続く場合は開発担当者に連絡してください。"), "crashed", {}
    return None, f"読み取り用の処理プロセスでエラーが発生しました（{value}）。開発担当者に連絡してください。", "error", {}


def runner_workers(runner) -> int:
    """How many tasks the runner executes at once (for the flow's bound on tasks in flight)."""
    if _wanted_workers >= 1:
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
    url = answering_recorded_server()
    if url:
        os.environ["PREFECT_API_URL"] = url
        return "recorded"
    return "ephemeral"


def answering_recorded_server() -> str | None:
    """The URL the `mdsgap server` of this PREFECT_HOME recorded, when that server answers; else None."""
    url = recorded_server()
    return url if url and api_healthy(url) else None
