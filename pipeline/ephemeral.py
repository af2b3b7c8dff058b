"""Prefect's temporary server, started by mdsgap so that it never outlives the run.

Prefect 3 starts a temporary API server (uvicorn, `SubprocessASGIServer`) as a child process at the first
client call when no PREFECT_API_URL is set, and stops it from an atexit hook. A run killed with SIGKILL (or
by the out-of-memory killer, or a power cut of the session) never runs that hook, and the server stayed
behind. Here the same server is started by mdsgap itself, from the main thread, before the flow:

- the child asks the kernel to kill it when its parent dies (Linux `PR_SET_PDEATHSIG`, set in the child
  before uvicorn starts; if the parent is already gone by then, the child exits at once);
- it runs in its own process group, so a Ctrl-C in the terminal reaches mdsgap, which stops it in order,
  not the server in the middle of a request;
- its output goes to the run's log file, not the console;
- the flow is called inside `using(server)`, which points PREFECT_API_URL at it, so Prefect starts no second
  one; and this process never imports Prefect's server package (`prefect.server.api.server` and the ORM,
  FastAPI and docket under it: about 2 s of CPU), which only the server child needs.

The pid is recorded in the output folder's lock file (pipeline.lock), and the next run stops a server whose
run is gone: the fallback where PR_SET_PDEATHSIG does not exist.
"""
from __future__ import annotations

import atexit
import contextlib
import logging
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import IO

import pipeline  # noqa: F401  (embedded-Prefect defaults before prefect is imported)

logger = logging.getLogger(__name__)

# Runs in the server child before uvicorn: die with the parent (SIGKILL: certain, and safe for SQLite); import
# the server's modules and freeze them (`gc.freeze`), so that the cyclic collector does not walk them again at
# every full collection while the server answers the run (its full collections took 1.0 s of CPU in a run of
# 280 files, 0.5 s with the modules frozen).
_LAUNCHER = """\
import os, runpy, signal, sys
parent = int(sys.argv[1])
if sys.platform.startswith("linux"):
    import ctypes
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
if os.getppid() != parent:
    sys.exit(0)
import gc
import prefect.server.api.server  # the app's modules (what uvicorn's --factory would import), then frozen
gc.freeze()
sys.argv = ["uvicorn"] + sys.argv[2:]
runpy.run_module("uvicorn", run_name="__main__", alter_sys=True)
"""


PORT_IN_USE = 3  # uvicorn's exit status when the port was taken meanwhile
# What the temporary server leaves out, as it serves one run and dies with it. A setting of the user's own
# still wins; `mdsgap server` (a lasting server) runs all of it.
# - The run's flows use no block (no result storage, no cache): no registering of Prefect's block types at
#   start, nor the entry-point scan its memo check makes first (about 0.4 s of CPU per run).
# - No automations (the triggers and the actions they start): an automation watches runs over time, which
#   needs a lasting server, and starting the actions service built a second copy of the API app in the server
#   (about 1 s of CPU per run).
TEMPORARY_SERVER_SETTINGS = {"PREFECT_SERVER_REGISTER_BLOCKS_ON_START": "0",
                             "PREFECT_SERVER_MEMOIZE_BLOCK_AUTO_REGISTRATION": "0",
                             "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "0"}


@dataclass
class TemporaryServer:
    process: subprocess.Popen
    port: int
    log: IO | int | None = None  # where its output goes (a launch on another port writes there too)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """Stop it in order (uvicorn's shutdown on SIGTERM), killing it after 5 s, as Prefect's own server does."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


_current: TemporaryServer | None = None


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _launch(port: int, log: IO | int | None) -> subprocess.Popen:
    import prefect
    from prefect.settings import get_current_settings

    env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1",
           **TEMPORARY_SERVER_SETTINGS, **get_current_settings().to_environment_variables(exclude_unset=True)}
    output = log if log is not None else subprocess.DEVNULL
    return subprocess.Popen(
        [sys.executable, "-c", _LAUNCHER, str(os.getpid()),
         "--app-dir", str(prefect.__module_path__.parent), "--factory",
         "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "error", "--lifespan", "on"],
        env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=output, process_group=0)


def start_server(log: IO | int | None = None) -> TemporaryServer | None:
    """Start Prefect's temporary server tied to this process, when the run will need one, and wait until it
    answers; returns it (its `process.pid`), or None when an API server is configured or ephemeral mode is off.
    Call the flow inside `using(server)`.

    Call from the main thread (PR_SET_PDEATHSIG fires when the thread that started the child ends).
    """
    server = launch_server(log)
    if server is not None:
        wait_until_ready(server)
    return server


def launch_server(log: IO | int | None = None) -> TemporaryServer | None:
    """`start_server` without the wait: the server imports and starts in its own process while the caller goes
    on; `wait_until_ready(server)` before the flow. Call from the main thread."""
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    if PREFECT_API_URL.value() or os.environ.get("PREFECT_API_URL") or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        return None  # a configured or recorded server (pipeline.scale.configure_api, after Prefect was imported)
    if _current is not None and _current.running:
        return _current  # `mdsgap watch`: the server of the first cycle serves the next ones
    port = free_port()
    server = TemporaryServer(_launch(port, log), port, log)
    atexit.register(server.stop)
    return server


def wait_until_ready(server: TemporaryServer) -> None:
    """Wait until `server` answers (launched again on another port if its port was taken meanwhile); stops it
    and raises RuntimeError (a Japanese message) when it exits or does not answer in time."""
    global _current
    from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS

    from pipeline.scale import api_healthy

    if server is _current:
        return
    deadline = time.monotonic() + float(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value())
    while not api_healthy(server.api_url, timeout=2):
        status = server.process.poll()
        if status == PORT_IN_USE:  # taken between the check and uvicorn's bind: another port
            server.port = free_port()
            server.process = _launch(server.port, server.log)
        elif status is not None:
            raise RuntimeError(f"Prefect の一時サーバーが起動しませんでした（終了コード {status}）。")
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError("Prefect の一時サーバーが時間内に起動しませんでした。")
        time.sleep(0.1)
    logger.info("Prefect's temporary server (pid %d) answers on %s", server.process.pid, server.api_url)
    _current = server


def using(server: TemporaryServer | None):
    """A context in which Prefect's client talks to `server`, or else to the server configure_api chose (its
    PREFECT_API_URL was set in the environment after Prefect had read its settings).

    With the temporary server the flow run sends no heartbeats: they let a lasting server mark a run that died
    as crashed, and this server dies with the run; and stopping the heartbeat thread, which sleeps in steps of
    a second, held every run's end for up to a second."""
    from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    if server is not None:
        return temporary_settings(updates={PREFECT_API_URL: server.api_url, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None})
    url = os.environ.get("PREFECT_API_URL")
    return temporary_settings(updates={PREFECT_API_URL: url}) if url else contextlib.nullcontext()
