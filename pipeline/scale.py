"""Throughput and scale-out helpers: which Prefect task runner runs the per-document extraction, how worker
processes warm up once, and how a run finds an already running Prefect server instead of starting one.

- `make_task_runner(workers, kind, address)`: `thread` (in-process, no start-up cost; right for a handful of
  files), `process` (Prefect's ProcessPoolTaskRunner, one extraction per core, workers warmed once by
  `warm_worker`), `dask` (prefect-dask's DaskTaskRunner: a local cluster, or an existing scheduler address).
- `auto_workers(n_files)`: how many processes are worth their start-up for that many files.
- `configure_api()`: reuse a running server: PREFECT_API_URL when the user set it, else the URL that
  `mdsgap server` recorded in PREFECT_HOME when that server answers. Otherwise Prefect starts its temporary
  server as before.
"""
from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

import pipeline  # noqa: F401  (embedded-Prefect defaults before prefect is imported)

RUNNER_KINDS = ("auto", "thread", "process", "dask")
# Below this many files per worker a spawned process costs more than it saves (a worker's start-up,
# importing the readers and the catalogue, is about 1.5-3 s on this 2-core box; one document 0.05-0.8 s).
FILES_PER_PROCESS = 12
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
    """The Prefect task runner for the extraction tasks.

    kind: auto (process pool when workers > 1, else threads), thread, process, dask. For dask, `address`
    is a running scheduler (tcp://host:8786); without it a LocalCluster with `workers` processes is made.
    """
    if kind not in RUNNER_KINDS:
        raise ValueError(f"task runner の種類が不正です: {kind}（{', '.join(RUNNER_KINDS)} のいずれか）")
    workers = max(1, int(workers))
    if kind == "dask" or address:
        from prefect_dask import DaskTaskRunner

        if address:
            return DaskTaskRunner(address=address)
        return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1,
                                              "processes": True, "dashboard_address": None})
    if kind == "process" or (kind == "auto" and workers > 1):
        from prefect.task_runners import ProcessPoolTaskRunner

        return ProcessPoolTaskRunner(max_workers=workers, initializer=warm_worker)
    from prefect.task_runners import ThreadPoolTaskRunner

    # Threads share the GIL: more than one only overlaps LibreOffice/OCR subprocess waits.
    return ThreadPoolTaskRunner(max_workers=max(2, workers))


def runner_workers(runner) -> int:
    """How many tasks the runner executes at once (for the flow's bound on tasks in flight)."""
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
