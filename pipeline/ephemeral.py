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
- Prefect finds it under the key its own code uses (`SubprocessASGIServer()`), so no second one starts.

The pid is recorded in the output folder's lock file (pipeline.lock), and the next run stops a server whose
run is gone: the fallback where PR_SET_PDEATHSIG does not exist.
"""
from __future__ import annotations

import os
import subprocess
import sys
from typing import IO

import pipeline  # noqa: F401  (embedded-Prefect defaults before prefect is imported)

# Runs in the server child before uvicorn: die with the parent (SIGKILL: certain, and safe for SQLite).
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
sys.argv = ["uvicorn"] + sys.argv[2:]
runpy.run_module("uvicorn", run_name="__main__", alter_sys=True)
"""


def _server_class():
    from prefect.server.api.server import SubprocessASGIServer

    class TiedServer(SubprocessASGIServer):
        """Prefect's temporary server, tied to this process (see the module doc)."""

        log: IO | int | None = None

        def _run_uvicorn_command(self) -> subprocess.Popen:
            import prefect
            from prefect.settings import get_current_settings

            env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1",
                   "PREFECT__SERVER_FINAL": "1",
                   **get_current_settings().to_environment_variables(exclude_unset=True)}
            output = self.log if self.log is not None else subprocess.DEVNULL
            return subprocess.Popen(
                [sys.executable, "-c", _LAUNCHER, str(os.getpid()),
                 "--app-dir", str(prefect.__module_path__.parent), "--factory",
                 "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(self.port),
                 "--log-level", "error", "--lifespan", "on"],
                env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=output, process_group=0)

    return TiedServer


def start_server(log: IO | int | None = None):
    """Start Prefect's temporary server tied to this process, when the run will need one; returns it (its
    `server_process.pid`) or None when an API server is configured or ephemeral mode is off.

    Call from the main thread (PR_SET_PDEATHSIG fires when the thread that started the child ends).
    """
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        return None
    current = SubprocessASGIServer._instances.get(None)
    if current is not None and current.running:
        return current  # `mdsgap watch`: the server of the first cycle serves the next ones
    server_class = _server_class()
    SubprocessASGIServer._instances.pop(None, None)
    server = server_class()  # registered under the default key: Prefect's own calls find this instance
    server.log = log
    server.start()
    return server
