"""`mdsgap watch --serve`: the inbox flow served as a Prefect deployment by the watching process itself.

- The process finds a running Prefect server (PREFECT_API_URL, or the one `mdsgap server` recorded in
  PREFECT_HOME: pipeline.scale.configure_api) and refuses to start without one: a temporary server would
  vanish with the process and its runs would be seen nowhere.
- It registers the flow `mdsgap-process-inbox` as a deployment (`watch-<digest of the output folder>`, the
  folders as its default parameters, so that the UI's "Run" button processes the same inbox) and serves it
  with Prefect's own `Runner` (what `flow.serve` runs), in a thread of this process: Prefect's start-up and
  the server's are paid once, not per cycle.
- Each check of the inbox is the plain watch's: nothing to do when the inbox is empty; a run with nothing
  new is answered by pipeline.quick under the output folder's lock, without a flow run. Otherwise the lock
  is released and a flow run of the deployment is created; the Runner executes it (in a subprocess, as
  Prefect does for every served run) and the flow takes the lock itself (pipeline.lock), so runs never
  overlap: the watch waits for its flow run to end before it looks again. The arrival rules (stable_quiet,
  stable_rounds, …) are the flow's own, so they hold here too.
- What the run did is read back from the store (the flow records its summary in the `runs` table).
"""
from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from pathlib import Path

import pipeline  # noqa: F401  (embedded-Prefect defaults before prefect is imported)
from pipeline.summary import RunSummary

FLOW_NAME = "mdsgap-process-inbox"  # pipeline.flow.process_inbox
POLL_SECONDS = 1.0  # how often the watch asks the server about its flow run, and the Runner about new runs
START_TIMEOUT_S = 120.0
LOCK_WAIT_S = 10.0  # the flow's wait for the lock the watch has just released (another run may slip in)
FINAL = ("COMPLETED", "FAILED", "CRASHED", "CANCELLED")


class ServeError(RuntimeError):
    """The served watch cannot start or its flow run did not complete. `message` is Japanese."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def deployment_name(out: Path) -> str:
    """One deployment per output folder: two watches of different folders on one server never share runs."""
    return "watch-" + hashlib.sha1(str(Path(out).resolve()).encode("utf-8")).hexdigest()[:10]


def require_server() -> str:
    """The Prefect API URL this process will use; ServeError when no server answers."""
    import os

    from pipeline.scale import api_healthy, configure_api

    how = configure_api()
    url = os.environ.get("PREFECT_API_URL", "")
    if how == "ephemeral" or not url:
        raise ServeError("Prefect サーバーが見つかりません。先に別の端末で mdsgap server を起動するか、"
                         "環境変数 PREFECT_API_URL でサーバーを指定してください。")
    if not api_healthy(url, timeout=5.0):
        raise ServeError(f"Prefect サーバー（{url}）に接続できません。サーバーが起動しているか確認してください。")
    return url


class ServedWatch:
    """The deployment served in a background thread, and one inbox check at a time (`run`)."""

    def __init__(self, inbox: Path, out: Path, config_path: Path | None):
        self.inbox, self.out, self.config_path = Path(inbox), Path(out), config_path
        self.api_url = ""
        self.name = deployment_name(out)
        self.deployment_id = None
        self._runner = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def full_name(self) -> str:
        return f"{FLOW_NAME}/{self.name}"

    def banner(self) -> str:
        return (f"デプロイメント {self.full_name} を Prefect サーバー {self.api_url} で実行します"
                "（実行履歴は Prefect UI に表示されます）。")

    def parameters(self) -> dict:
        return {"inbox": str(self.inbox.resolve()), "out": str(self.out.resolve()),
                "config_path": str(Path(self.config_path).resolve()) if self.config_path else None,
                "lock_wait": LOCK_WAIT_S}

    def start(self) -> "ServedWatch":
        """Register the deployment and start serving it; returns once the Runner polls the server."""
        self.api_url = require_server()
        from prefect.runner import Runner
        from prefect.types.entrypoint import EntrypointType

        from pipeline.flow import process_inbox

        self._runner = Runner(name=f"mdsgap-{self.name}", query_seconds=POLL_SECONDS, limit=1,
                              pause_on_shutdown=False)
        try:
            self.deployment_id = self._runner.add_flow(
                process_inbox, name=self.name, parameters=self.parameters(),
                description=f"受信フォルダ {self.inbox.resolve()} の監視（出力フォルダ {self.out.resolve()}）",
                tags=["mdsgap", "watch"], entrypoint_type=EntrypointType.MODULE_PATH)
        except Exception as exc:  # noqa: BLE001 - the server refused: one Japanese message
            raise ServeError(f"Prefect サーバーにデプロイメントを登録できませんでした（{type(exc).__name__}: {exc}）。"
                             ) from exc
        self._thread = threading.Thread(target=self._serve, name="mdsgap-runner", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not getattr(self._runner, "started", False):
            if self._error is not None or not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise ServeError(f"デプロイメントの実行を開始できませんでした（{self._error or 'タイムアウト'}）。")
            time.sleep(0.05)
        return self

    def _serve(self) -> None:
        try:
            asyncio.run(self._runner.start())
        except BaseException as exc:  # noqa: BLE001 - said by start() or stop()
            self._error = exc

    def stop(self, timeout: float = 60.0) -> None:
        """Stop serving: a flow run still going is cancelled (its files stay in the inbox), then the thread ends."""
        runner, thread = self._runner, self._thread
        if runner is None or thread is None:
            return
        if getattr(runner, "started", False):
            try:
                runner.execute_in_background(runner.astop).result(timeout=timeout)
            except Exception:  # noqa: BLE001 - stopping anyway
                pass
        thread.join(timeout)
        self._runner = self._thread = None

    def run(self) -> RunSummary:
        """One inbox check: the quick answer when nothing is new, else a flow run of the deployment."""
        from pipeline.lock import run_lock
        from pipeline.quick import quick_run

        with run_lock(self.out):
            summary = quick_run(self.inbox, self.out, None, self.config_path)
            last = _last_run_id(self.out)
        if summary is not None:
            return summary
        flow_run = self._trigger()
        if flow_run.state_type != "COMPLETED":
            raise ServeError(f"フロー実行 {flow_run.name} が完了しませんでした（状態: {flow_run.state_name}）。"
                             "Prefect UI または出力フォルダの logs/ を確認してください。")
        summary = _summary_since(self.out, last)
        if summary is None:
            raise ServeError(f"フロー実行 {flow_run.name} の結果がデータベースにありません。出力フォルダの logs/ を"
                             "確認してください。")
        return summary

    def _trigger(self):
        """Create a flow run of the deployment and wait until it ends; the run's final state (a FlowRunView)."""
        from prefect.client.orchestration import get_client
        from prefect.deployments import run_deployment

        flow_run = run_deployment(self.full_name, parameters=self.parameters(), timeout=0, as_subflow=False,
                                  tags=["mdsgap-watch"])
        with get_client(sync_client=True) as client:
            while True:
                current = client.read_flow_run(flow_run.id)
                state = current.state.type.value if current.state else ""
                if state in FINAL:
                    return FlowRunView(current.id, current.name, state, current.state.name)
                if self._error is not None or (self._thread is not None and not self._thread.is_alive()):
                    raise ServeError(f"デプロイメントの実行が停止しました（{self._error}）。")
                time.sleep(POLL_SECONDS)


def start_served(inbox: Path, out: Path, config_path: Path | None, fail, say) -> ServedWatch:
    """For the CLI: the started ServedWatch, its banner said with `say`; `fail(message)` when it cannot start."""
    try:
        served = ServedWatch(inbox, out, config_path).start()
    except ServeError as exc:
        fail(exc.message)
    say(served.banner())
    return served


class FlowRunView:
    def __init__(self, id_, name: str, state_type: str, state_name: str):
        self.id, self.name, self.state_type, self.state_name = id_, name, state_type, state_name


def _last_run_id(out: Path) -> int:
    from pipeline.config import STORE_NAME
    from pipeline.store import Store

    if not (Path(out) / STORE_NAME).is_file():
        return 0
    with Store.open(out) as store:
        return store.last_run_id()


def _summary_since(out: Path, after: int) -> RunSummary | None:
    """The summary the flow recorded for the newest finished run after run id `after`."""
    from pipeline.store import Store

    with Store.open(out) as store:
        data = store.last_run_summary(after)
    if data is None:
        return None
    fields = set(RunSummary.__dataclass_fields__)
    summary = RunSummary(**{k: v for k, v in data.items() if k in fields})
    summary.failures = [tuple(f) for f in summary.failures]
    return summary
