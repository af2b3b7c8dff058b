"""`mdsgap watch --serve` against a real local Prefect server: a file dropped into the inbox becomes a flow run
of the served deployment, visible on the server, and its findings reach the register. Everything the test
starts is stopped again (checked in /proc by a marker in the environment)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from pipeline.scale import api_healthy
from pipeline.served import FLOW_NAME, deployment_name
from tests.conftest import free_port
from tests.office_files import small_mds

ROOT = Path(__file__).resolve().parent.parent
MARK = "MDSGAP_SERVED_TEST"



def _marked(mark: str) -> list[int]:
    """Live processes whose environment carries this test's marker (whatever session they made)."""
    found = []
    needle = f"{MARK}={mark}".encode()
    for d in Path("/proc").iterdir():
        if not d.name.isdigit() or int(d.name) == os.getpid():
            continue
        try:
            env = (d / "environ").read_bytes()
            stat = (d / "stat").read_bytes()
        except OSError:
            continue
        if needle in env.split(b"\0") and stat[stat.rindex(b")") + 2:][:1] not in (b"Z", b"X"):
            found.append(int(d.name))
    return found


def _until(condition, limit: float, what: str, procs=()):
    """Poll `condition` (bounded; not a timing assertion) and fail with `what` when it never holds."""
    deadline = time.monotonic() + limit
    while True:
        value = condition()
        if value:
            return value
        for proc, log in procs:
            assert proc.poll() is None, f"{what}: process ended early\n" + log.read_text("utf-8", "replace")[-3000:]
        assert time.monotonic() < deadline, what + "\n" + "\n".join(
            log.read_text("utf-8", "replace")[-3000:] for _, log in procs)
        time.sleep(0.25)


def _flow_runs(api: str, name: str) -> list:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: api}), get_client(sync_client=True) as client:
        return client.read_flow_runs(deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[name])))


def _deployment(api: str, full_name: str):
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: api}), get_client(sync_client=True) as client:
        return client.read_deployment_by_name(full_name).id


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
def test_served_watch_turns_a_dropped_file_into_a_flow_run_on_the_server(tmp_path):
    port, mark = free_port(), str(tmp_path)
    api = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update({MARK: mark, "PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_LOGGING_LEVEL": "WARNING",
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PYTHONPATH": str(ROOT)})
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    server_log, watch_log = tmp_path / "server.log", tmp_path / "watch.log"
    server = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                               "--port", str(port)],
                              env={**env, "PREFECT_UI_ENABLED": "false"}, cwd=tmp_path, start_new_session=True,
                              stdout=open(server_log, "wb"), stderr=subprocess.STDOUT)
    watch = None
    try:
        _until(lambda: api_healthy(api), 80, "Prefect サーバーが起動しません", [(server, server_log)])
        watch = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", "watch", "--serve", "--inbox", str(inbox), "--out", str(out),
             "--interval", "1"], env={**env, "PREFECT_API_URL": api}, cwd=ROOT, start_new_session=True,
            stdout=open(watch_log, "wb"), stderr=subprocess.STDOUT)
        procs = [(server, server_log), (watch, watch_log)]
        _until(lambda: "受信フォルダ" in watch_log.read_text("utf-8", "replace"), 60, "監視が始まりません", procs)
        # the vendor file arrives as a finished copy (written beside, then renamed into the inbox)
        part = tmp_path / "届いたファイル.xlsx"
        part.write_bytes(small_mds("架空サーブ医療機器株式会社", "架空モニタ"))
        os.replace(part, inbox / part.name)

        name = deployment_name(out)
        runs = _until(lambda: [r for r in _flow_runs(api, name) if r.state and r.state.is_final()], 80,
                      "フロー実行が終わりません", procs)
        deployment = _deployment(api, f"{FLOW_NAME}/{name}")
        assert [(r.state.type.value, r.deployment_id) for r in runs] == [("COMPLETED", deployment)]
        register = out / "risk_register.csv"
        _until(lambda: register.is_file(), 10, "リスク登録簿がありません", procs)
        rows = pd.read_csv(register, encoding="utf-8-sig", dtype=str)
        assert len(rows) >= 1 and set(rows["vendor"]) == {"架空サーブ医療機器株式会社"}
        assert (inbox / "processed" / part.name).is_file()
        _until(lambda: "新たに読み取ったファイル: 1 件" in watch_log.read_text("utf-8", "replace"), 10,
               "処理結果が表示されません", procs)
    finally:
        if watch is not None:
            _stop(watch)
        _stop(server)
        deadline = time.monotonic() + 60
        while _marked(mark) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = _marked(mark)
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    assert watch.returncode == 0, watch_log.read_text("utf-8", "replace")[-3000:]
    assert "監視を終了しました" in watch_log.read_text("utf-8", "replace")
    assert left == [], f"processes left behind: {left}"


def test_served_watch_without_a_server_says_so_in_japanese(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from pipeline.cli import app

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))  # no `mdsgap server` recorded here
    (tmp_path / "inbox").mkdir()
    result = CliRunner().invoke(app, ["watch", "--serve", "--inbox", str(tmp_path / "inbox"),
                                      "--out", str(tmp_path / "out"), "--max-cycles", "1"])
    assert result.exit_code == 2 and "Prefect サーバーが見つかりません" in result.output
    assert "mdsgap server" in result.output and "Traceback" not in result.output
