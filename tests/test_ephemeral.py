"""pipeline.ephemeral: the temporary Prefect server mdsgap starts itself (a stand-in HTTP server here; the real
one is started by every pipeline test that runs `mdsgap run`)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from pipeline import ephemeral


@pytest.fixture
def no_current(monkeypatch):
    """No server of an earlier test or of a test harness (its PREFECT_API_URL setting) in the way."""
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED, temporary_settings

    monkeypatch.setattr(ephemeral, "_current", None)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    with temporary_settings(updates={PREFECT_SERVER_EPHEMERAL_ENABLED: True}, restore_defaults={PREFECT_API_URL}):
        yield


def _health_server(port: int, root) -> subprocess.Popen:
    """A stand-in that answers GET /api/health with 200, as Prefect's server does."""
    (root / "api").mkdir(exist_ok=True)
    (root / "api" / "health").write_text("true")
    return subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                             "--directory", str(root)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_a_port_taken_meanwhile_is_retried_and_the_flow_is_pointed_at_the_server(no_current, monkeypatch,
                                                                                 tmp_path):
    launched = []

    def launch(port, log):
        if not launched:  # uvicorn lost the race for the port: exit status 3
            launched.append(port)
            return subprocess.Popen([sys.executable, "-c", "import sys; sys.exit(3)"])
        launched.append(port)
        return _health_server(port, tmp_path)

    monkeypatch.setattr(ephemeral, "_launch", launch)
    server = ephemeral.start_server()
    try:
        assert len(launched) == 2 and server.port == launched[1] and server.running
        assert ephemeral.start_server() is server  # `mdsgap watch`: the next cycle reuses it
        from prefect.settings import PREFECT_API_URL

        from prefect.settings import get_current_settings

        with ephemeral.using(server):
            assert PREFECT_API_URL.value() == f"http://127.0.0.1:{server.port}/api"
            assert get_current_settings().flows.heartbeat_frequency is None  # nothing outlives the run to watch them
        assert PREFECT_API_URL.value() != server.api_url
        assert get_current_settings().flows.heartbeat_frequency is not None
    finally:
        server.stop()
    assert not server.running


def test_launch_does_not_wait_and_the_wait_comes_before_the_flow(no_current, monkeypatch, tmp_path):
    """`mdsgap run` launches the server, imports its flow meanwhile, then waits: the launch returns while the
    server is still starting; the wait lasts until it answers, and keeps it for the next cycle."""
    import socket

    from pipeline.scale import api_healthy

    go = tmp_path / "go"

    def launch(port, log):  # a server that starts answering only once the test says so
        script = ("import os, time, runpy, sys\n"
                  f"while not os.path.exists(r'{go}'): time.sleep(0.05)\n"
                  f"sys.argv = ['http.server', '{port}', '--bind', '127.0.0.1', '--directory', r'{tmp_path}']\n"
                  "runpy.run_module('http.server', run_name='__main__')")
        (tmp_path / "api").mkdir(exist_ok=True)
        (tmp_path / "api" / "health").write_text("true")
        return subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)

    monkeypatch.setattr(ephemeral, "_launch", launch)
    server = ephemeral.launch_server()
    try:
        assert server.running and not api_healthy(server.api_url, timeout=0.2)  # launched, not answering yet
        assert ephemeral._current is None
        go.touch()
        ephemeral.wait_until_ready(server)
        assert api_healthy(server.api_url, timeout=2) and ephemeral._current is server
        assert ephemeral.launch_server() is server  # the next cycle: the same server, nothing to wait for
        ephemeral.wait_until_ready(server)
    finally:
        server.stop()
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", server.port)) != 0


def test_a_server_that_exits_gives_a_japanese_message(no_current, monkeypatch):
    monkeypatch.setattr(ephemeral, "_launch",
                        lambda port, log: subprocess.Popen([sys.executable, "-c", "import sys; sys.exit(1)"]))
    with pytest.raises(RuntimeError, match="一時サーバーが起動しませんでした（終了コード 1）"):
        ephemeral.start_server()


def test_no_temporary_server_beside_a_configured_one(no_current, monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")  # set after Prefect read its settings
    monkeypatch.setattr(ephemeral, "_launch", lambda port, log: pytest.fail("started a temporary server"))
    assert ephemeral.start_server() is None
    from prefect.settings import PREFECT_API_URL

    with ephemeral.using(None):
        assert PREFECT_API_URL.value() == "http://127.0.0.1:9/api"


def test_the_temporary_server_skips_blocks_and_automations_unless_the_user_asks_for_them(monkeypatch):
    """The run's flows use no block and the server dies with the run: the server child starts without
    registering block types (and without the entry-point scan before it) and without the automation services
    (Prefect's own reading of the child's environment says so); a user's own setting is passed on as it is."""
    from prefect.settings import (
        PREFECT_API_BLOCKS_REGISTER_ON_START, PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED, temporary_settings,
    )

    envs = []
    monkeypatch.setattr(ephemeral.subprocess, "Popen", lambda args, env, **kwargs: envs.append(env))
    ephemeral._launch(4321, None)
    with temporary_settings(updates={PREFECT_API_BLOCKS_REGISTER_ON_START: True,
                                     PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED: True}):
        ephemeral._launch(4321, None)
    assert envs[0]["PREFECT_SERVER_REGISTER_BLOCKS_ON_START"] == "0"
    assert envs[0]["PREFECT_SERVER_MEMOIZE_BLOCK_AUTO_REGISTRATION"] == "0"
    assert envs[1]["PREFECT_SERVER_REGISTER_BLOCKS_ON_START"].lower() == "true"
    monkeypatch.undo()  # a real child from here on
    services = ("from prefect.server.events.services.actions import Actions\n"
                "from prefect.server.events.services.triggers import ReactiveTriggers\n"
                "print(Actions.enabled(), ReactiveTriggers.enabled())")
    enabled = [subprocess.run([sys.executable, "-c", services], env=env, capture_output=True, text=True,
                              check=True).stdout.split() for env in envs]
    assert enabled == [["False", "False"], ["True", "True"]]


def test_prefect_sends_no_telemetry_from_mdsgap(tmp_path):
    """Prefect's SDK sends usage events (Amplitude) from an interactive terminal unless DO_NOT_TRACK is set or a
    CI is detected: importing the pipeline turns it off where neither is there, as a hospital's terminal."""
    import os

    from prefect._internal.analytics.ci_detection import CI_ENV_VARS

    env = {k: v for k, v in os.environ.items() if k not in CI_ENV_VARS and k != "DO_NOT_TRACK"}
    env["PREFECT_HOME"] = str(tmp_path)
    check = ("import pipeline, prefect\n"
             "from prefect._internal.analytics import is_telemetry_enabled\n"
             "print(is_telemetry_enabled())")
    before = subprocess.run([sys.executable, "-c", check.replace("import pipeline, ", "import ")], env=env,
                            capture_output=True, text=True, check=True).stdout.split()
    after = subprocess.run([sys.executable, "-c", check], env=env, capture_output=True, text=True,
                           check=True).stdout.split()
    assert (before, after) == (["True"], ["False"])
