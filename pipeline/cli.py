"""`mdsgap` command line: run, watch, rules list, explain, report. Messages are Japanese."""
from __future__ import annotations

import datetime as dt
import gc
import os
import signal
import time
from pathlib import Path
from typing import Optional

import pipeline  # noqa: F401  (embedded-Prefect defaults before prefect is imported)

os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

import typer  # noqa: E402
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn  # noqa: E402

from pipeline import prefetch, progress  # noqa: E402
from pipeline import runlog  # noqa: E402
from pipeline.cli_errors import (  # noqa: E402
    JapaneseUsageGroup, RunInterrupted, disk_error_message, install_stop_handlers, interrupted_message,
    log_exception, log_file_hint, restore_handlers, route_console_logs)
from pipeline.config import CONFIG_NAME, DEFAULT_INBOX, DEFAULT_OUT  # noqa: E402
from pipeline.console import console, errors, print_summary  # noqa: E402
from pipeline.console import inert as _inert  # noqa: E402
from pipeline.console import plain as _plain  # noqa: E402
from pipeline.inbox import discover  # noqa: E402

app = typer.Typer(help="医療情報セキュリティ開示書（MDS/SDS）・チェックリストのギャップ分析", no_args_is_help=True,
                  add_completion=False, cls=JapaneseUsageGroup)
rules_app = typer.Typer(help="判定ルールの一覧・説明", no_args_is_help=True)
app.add_typer(rules_app, name="rules")

SEVERITY_STYLE = {"高": "bold red", "中": "yellow", "低": "dim"}


def _parse_as_of(value: Optional[str]) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"日付は YYYY-MM-DD 形式で指定してください（{value}）") from None


def _fail(message: str, code: int = 2) -> None:
    """A user error: one Japanese message on stderr (no traceback) and a non-zero exit code."""
    errors.print(_plain(message), style="red", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _config_path(config: Optional[Path]) -> Path | None:
    if config is not None:
        if not config.is_file():
            _fail(f"設定ファイルが見つかりません: {config}")
        return config
    default = Path(CONFIG_NAME)
    return default if default.is_file() else None


def _checked_config(config: Optional[Path]):
    """The config path, after `mdsgap.yaml` and every rule file it brings in were validated (before any flow).

    Returns (path, rules) — the rules as loaded (disabled ones included); exits with a Japanese message on an
    unknown key, an unknown rule id, a wrong type or a bad rule file."""
    from rules.schema import ConfigError

    path = _config_path(config)
    try:
        rules = _validated_rules(path)
    except ConfigError as exc:
        _fail(str(exc))
    return path, rules


def _validated_rules(path: Path | None) -> list:
    """Validate the config file and the rule files it brings in; raises rules.schema.ConfigError."""
    from pipeline.config import RunConfig
    from rules.catalog import load_config, load_rules

    run_config = RunConfig.load(path)
    rules_config = load_config(run_config.rules_path) if run_config.rules_path else None
    return load_rules(rules_config, include_disabled=True)


def _check_folders(inbox: Path | None, out: Path) -> None:
    """A mistyped --inbox or --out is said, not turned into an empty run or a new folder tree."""
    if inbox is not None:
        if not inbox.exists():
            _fail(f"受信フォルダが見つかりません: {inbox}（--inbox で既存のフォルダを指定してください）")
        if not inbox.is_dir():
            _fail(f"受信フォルダとして指定したものはフォルダではありません: {inbox}")
    if out.exists():
        if not out.is_dir():
            _fail(f"出力フォルダとして指定したものはフォルダではありません: {out}")
    elif not out.absolute().parent.is_dir():
        _fail(f"出力フォルダの置き場所が見つかりません: {out.absolute().parent}（--out を確認してください）")


class _ProgressDisplay:
    """Feeds pipeline.progress events into a rich progress bar. File names are vendor text: shown inert."""

    def __init__(self, bar: Progress):
        self.bar = bar
        self.task = bar.add_task("準備中", total=None)

    def __call__(self, event: str, data: dict) -> None:
        if event == "files_found":
            self.bar.update(self.task, total=data["total"], description="ファイルを読み取り中")
        elif event == "file_done":
            mark = "✓" if data["ok"] else "✗"
            self.bar.update(self.task, advance=1, description=f"{mark} {_inert(data['name'])}")
        elif event == "stage":
            self.bar.update(self.task, description=_inert(data["text"]))


def _run_once(inbox: Path, out: Path, as_of: dt.date | None, config: Path | None, wait: float,
              show_progress: bool = True, workers: int = 0, one_shot: bool = False):
    """One run, holding the output folder's lock from before Prefect starts (a second run is refused at once,
    never from inside a flow) and handing it on to the flow."""
    from pipeline.lock import run_lock

    with run_lock(out, wait=wait, hand_over=True):
        try:
            return _run_locked(inbox, out, as_of, config, wait, show_progress, workers, one_shot)
        finally:
            prefetch.stop()  # what was read ahead and not taken by the flow is dropped


def _run_locked(inbox: Path, out: Path, as_of: dt.date | None, config: Path | None, wait: float,
                show_progress: bool, workers: int, one_shot: bool = False):
    from pipeline.quick import quick_run

    summary = quick_run(inbox, out, as_of, config)  # nothing new: done without Prefect, spaCy or workers
    if summary is not None:
        return summary
    from pipeline.scale import auto_workers, configure_api, extraction_pool, make_task_runner, read_in_pool

    # There is work: the worker processes start at once (and load the readers) while this process imports
    # Prefect and starts its temporary server, and they start reading the new files meanwhile.
    runner = make_task_runner(workers or auto_workers(len(discover(inbox))))
    pool = extraction_pool()
    prefetch.start(inbox, out, pool, lambda path, sha: read_in_pool(pool, path, sha))
    runlog.start_run_log(out, for_next_run=True)  # <out>/logs/run-*.log: Prefect's start-up included
    configure_api()  # a running `mdsgap server` (or PREFECT_API_URL) saves Prefect's temporary-server start
    from pipeline import ephemeral
    from pipeline.lock import record_server

    log = route_console_logs(out)  # Prefect's console lines (tracebacks included) go to the run log
    # The temporary server imports and starts in its own process while this one imports the flow.
    server = ephemeral.launch_server(getattr(log, "stream", None))
    if server is not None:
        record_server(out, server.process.pid)
    from pipeline.flow import process_inbox

    if server is not None:
        pid = server.process.pid
        ephemeral.wait_until_ready(server)
        if server.process.pid != pid:  # started again on another port
            record_server(out, server.process.pid)
    process_inbox = process_inbox.with_options(task_runner=runner)
    # a one-shot run lets its reading workers go once every file is read (`watch` keeps them for its next cycle)
    params = dict(inbox=inbox, out=out, as_of=as_of, config_path=config, lock_wait=wait, release_readers=one_shot)
    with ephemeral.using(server):
        if not show_progress:
            return process_inbox(**params)
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      console=console, transient=True) as bar:
            progress.set_listener(_ProgressDisplay(bar))
            try:
                return process_inbox(**params)
            finally:
                progress.set_listener(None)


def _run_error_message(exc: BaseException) -> str | None:
    """A Japanese message for errors the user can fix (lock held, bad config); None for others."""
    from pipeline.lock import RunLockedError
    from pipeline.served import ServeError
    from rules.schema import ConfigError

    if isinstance(exc, (RunLockedError, ServeError)):
        return exc.message
    if isinstance(exc, ConfigError):  # rules.catalog.RuleError included
        return str(exc)
    return None


@app.command()
def run(
    inbox: Path = typer.Option(DEFAULT_INBOX, "--inbox", help="受信フォルダ（事業者から届いたファイル）"),
    out: Path = typer.Option(DEFAULT_OUT, "--out", help="出力フォルダ"),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="基準日 YYYY-MM-DD（省略時は今日）"),
    config: Optional[Path] = typer.Option(None, "--config", help=f"設定ファイル（省略時は {CONFIG_NAME} があれば使用）"),
    wait: float = typer.Option(0.0, "--wait", help="他の処理が実行中のとき待つ秒数"),
    workers: int = typer.Option(0, "--workers", help="読み取りの並列プロセス数（0 = ファイル数とCPU数から自動）"),
) -> None:
    """受信フォルダのファイルを読み取り、回答表とリスク登録簿を作成します。"""
    as_of_date = _parse_as_of(as_of)
    if workers < 0 or wait < 0:
        _fail(f"{'--workers' if workers < 0 else '--wait'} には 0 以上の値を指定してください")
    config_path, _ = _checked_config(config)
    _check_folders(inbox, out)
    previous = install_stop_handlers()  # Ctrl-C / SIGTERM: stop in order (lock released, server stopped)
    try:
        summary = _run_once(inbox, out, as_of_date, config_path, wait, workers=workers, one_shot=True)
    except Exception as exc:  # noqa: BLE001
        _fail_run(exc, out)
    except BaseException as exc:  # noqa: BLE001 - RunInterrupted, KeyboardInterrupt, Prefect's TerminationSignal
        signum = _interrupt_signal(exc)
        if signum is None:
            raise
        log_exception(exc, out)
        _fail(interrupted_message(signum), 128 + signum)
    finally:
        restore_handlers(previous)
    print_summary(summary)


def _interrupt_signal(exc: BaseException) -> int | None:
    """The signal behind an interruption (Ctrl-C, SIGTERM, Prefect's termination bridge); None otherwise."""
    if isinstance(exc, RunInterrupted):
        return exc.signum
    if isinstance(exc, KeyboardInterrupt):
        return int(signal.SIGINT)
    if type(exc).__name__ == "TerminationSignal":
        return int(getattr(exc, "signal", signal.SIGTERM))
    return None


def _fail_run(exc: Exception, out: Path) -> None:
    """One Japanese message for a run that could not finish; the traceback goes to the log file only."""
    message = _run_error_message(exc)
    if message:
        _fail(message)
    log_exception(exc, out)
    message = disk_error_message(exc, out)
    if message:
        _fail(message, 1)
    _fail(f"処理を完了できませんでした（{type(exc).__name__}: {exc}）。{log_file_hint(out)}", 1)


@app.command()
def watch(
    inbox: Path = typer.Option(DEFAULT_INBOX, "--inbox", help="受信フォルダ"),
    out: Path = typer.Option(DEFAULT_OUT, "--out", help="出力フォルダ"),
    interval: float = typer.Option(10.0, "--interval", help="確認の間隔（秒）"),
    config: Optional[Path] = typer.Option(None, "--config", help="設定ファイル"),
    max_cycles: int = typer.Option(0, "--max-cycles", hidden=True, help="（試験用）確認の回数。0 は無制限"),
    serve: bool = typer.Option(False, "--serve", help="Prefect のデプロイメントとして実行（mdsgap server が必要。実行は Prefect UI に表示）"),
) -> None:
    """受信フォルダを監視し、届いたファイル（書き込み完了後）を順に処理します。Ctrl-C で終了します。"""
    if interval < 0 or max_cycles < 0:
        _fail(f"{'--interval' if interval < 0 else '--max-cycles'} には 0 以上の値を指定してください")
    config_path, _ = _checked_config(config)
    _check_folders(inbox, out)
    served = _start_served(inbox, out, config_path) if serve else None  # pipeline.served
    previous = install_stop_handlers()
    console.print(f"受信フォルダ {_inert(inbox)} を {interval:g} 秒ごとに確認します（Ctrl-C で終了）。")
    cycles = 0
    try:
        while True:
            if discover(inbox):
                try:
                    _validated_rules(config_path)  # edited while watching: say so, no flow traceback
                    summary = (served.run() if served is not None
                               else _run_once(inbox, out, None, config_path, wait=0.0))
                    print_summary(summary)
                except Exception as exc:  # noqa: BLE001 - keep watching; say what happened
                    log_exception(exc, out)
                    message = (_run_error_message(exc) or disk_error_message(exc, out)
                               or f"処理に失敗しました（{type(exc).__name__}: {exc}）")
                    errors.print(_plain(message), style="red", markup=False, highlight=False, soft_wrap=True)
            cycles += 1
            if max_cycles and cycles >= max_cycles:
                break
            time.sleep(interval)
    except (KeyboardInterrupt, RunInterrupted):
        pass
    finally:
        if served is not None:
            served.stop()
        restore_handlers(previous)
    console.print("監視を終了しました。")


def _start_served(inbox: Path, out: Path, config_path: Path | None):
    from pipeline.served import start_served

    return start_served(inbox, out, config_path, _fail, lambda text: console.print(_plain(text), markup=False))


@app.command()
def server(
    port: int = typer.Option(4200, "--port", help="待ち受けポート"),
    host: str = typer.Option("127.0.0.1", "--host", help="待ち受けアドレス（他の PC のワーカーから使う場合は 0.0.0.0）"),
) -> None:
    """Prefect サーバーを起動したままにします。起動中は mdsgap run / watch が毎回の一時サーバー起動を省略します。"""
    import subprocess
    import sys

    from pipeline.scale import api_healthy, record_server, server_file

    if not 1 <= port <= 65535:
        _fail(f"--port には 1〜65535 のポート番号を指定してください（{port}）")
    api_url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}/api"
    if api_healthy(api_url):
        record_server(api_url)
        console.print(f"Prefect サーバーは既に起動しています: {api_url}")
        return
    import signal

    def _stop(_signum, _frame):  # a service manager's SIGTERM stops it like Ctrl-C
        raise KeyboardInterrupt

    cmd = [sys.executable, "-m", "prefect", "server", "start", "--host", host, "--port", str(port)]
    console.print(f"Prefect サーバーを起動します: {api_url}（Ctrl-C で停止）")
    proc = subprocess.Popen(cmd)
    signal.signal(signal.SIGTERM, _stop)
    try:
        for _ in range(1200):
            if proc.poll() is not None:
                console.print("[red]Prefect サーバーを起動できませんでした。[/red]")
                raise typer.Exit(1)
            if api_healthy(api_url):
                record_server(api_url)
                console.print("起動しました。別の端末で mdsgap run を実行すると、このサーバーを使います。")
                break
            time.sleep(0.25)
        proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        proc.wait(timeout=30)
    finally:
        server_file().unlink(missing_ok=True)
    console.print("Prefect サーバーを停止しました。")


@rules_app.command("list")
def rules_list(
    config: Optional[Path] = typer.Option(None, "--config", help="設定ファイル"),
) -> None:
    """判定ルールの一覧を表示します。"""
    from rules.catalog import describe_rule

    _, rules = _checked_config(config)
    console.print(f"[bold]判定ルール {len(rules)} 件[/bold]")
    for rule in rules:
        console.print(describe_rule(rule), highlight=False, markup=False)
        console.print()


def find_register_row(out: Path, risk_id: str) -> dict | None:
    from pipeline.config import STORE_NAME
    from pipeline.store import Store

    if not (Path(out) / STORE_NAME).is_file():
        return None
    with Store.open(out) as store:
        rows = store.register_rows()
    key = risk_id.strip().upper()
    return next((row for rid, row in rows.items() if rid.upper() == key), None)


@app.command()
def explain(
    risk_id: str = typer.Argument(..., help="リスクID（例: R-1A2B3C4D5E）"),
    out: Path = typer.Option(DEFAULT_OUT, "--out", help="出力フォルダ"),
    config: Optional[Path] = typer.Option(None, "--config", help="設定ファイル"),
) -> None:
    """リスクIDの指摘内容・根拠・推奨対応・契約条項とルールの説明を表示します。"""
    from pipeline.config import STORE_NAME

    _, rules = _checked_config(config)
    if not (out / STORE_NAME).is_file():
        _fail(f"{out} にデータがありません。--out を確認するか、先に mdsgap run を実行してください。", 1)
    row = find_register_row(out, risk_id)
    if row is None:
        console.print(f"[red]リスクID {_inert(risk_id)} はリスク登録簿にありません（出力フォルダ: {_inert(out)}）。[/red]")
        raise typer.Exit(1)
    style = SEVERITY_STYLE.get(row.get("severity", ""), "")
    console.print(f"[bold]{row['risk_id']}[/bold] [{style}]重大度 {row.get('severity', '')}[/{style}]"
                  if style else f"[bold]{row['risk_id']}[/bold] 重大度 {row.get('severity', '')}")
    fields = [("事業者", "vendor"), ("製品", "product"), ("見出し", "title"), ("指摘", "finding"),
              ("項目", "item_ids"), ("根拠", "evidence"), ("ファイル", "source_files"),
              ("推奨対応", "recommendation"), ("契約条項", "contract_clause"), ("状態", "status"),
              ("初回検出", "first_seen"), ("最終検出", "last_seen"), ("解消日", "解消日"),
              ("対応状況", "対応状況"), ("担当", "担当"), ("対応方針", "対応方針"), ("期限", "期限"), ("メモ", "メモ")]
    for label, key in fields:
        if row.get(key):
            console.print(f"{label}: {_plain(row[key])}", highlight=False, markup=False)
    from rules.catalog import describe_rule

    rule = next((r for r in rules if r.id == row.get("rule_id")), None)
    if rule is not None:
        console.print("\n[bold]ルール[/bold]")
        console.print(describe_rule(rule), highlight=False, markup=False)


def _check_vendor(store, vendor: str) -> None:
    """--vendor must name a vendor of the stored documents or register (same matching as the reports)."""
    from extractors.text import organization_key

    names = [d.vendor for d in store.current_documents()] + [r.get("vendor", "") for r in store.register_rows().values()]
    known = {organization_key(n): n for n in names if n}
    if organization_key(vendor) not in known:
        listed = "、".join(sorted({_plain(v) for v in known.values()}))
        _fail(f"事業者「{vendor}」の書類・指摘はデータベースにありません"
              + (f"（登録されている事業者: {listed}）。" if listed else "。"), 1)


@app.command()
def report(
    out: Path = typer.Option(DEFAULT_OUT, "--out", help="出力フォルダ"),
    vendor: Optional[str] = typer.Option(None, "--vendor", help="この事業者の報告書だけを作成"),
) -> None:
    """事業者別の報告書（HTML）と交渉メモ（DOCX）をデータベースから作成し直します（受信フォルダは読みません）。"""
    from pipeline.config import STORE_NAME
    from pipeline.flow import RunSummary, write_reports
    from pipeline.lock import RunLockedError, run_lock
    from pipeline.store import Store

    if not (out / STORE_NAME).is_file():
        console.print(f"[red]{_inert(out)} にデータがありません。先に mdsgap run を実行してください。[/red]")
        raise typer.Exit(1)
    summary = RunSummary(as_of=dt.date.today().isoformat())
    try:
        with run_lock(out), Store.open(out) as store:
            if vendor is not None:
                _check_vendor(store, vendor)
            from pipeline.report_devices import last_run_as_of

            summary.as_of = last_run_as_of(store) or summary.as_of  # the date the device statuses hold for
            paths = write_reports(store, out, summary, vendor=vendor)
    except RunLockedError as exc:
        console.print(f"[red]{_inert(exc.message)}[/red]")
        raise typer.Exit(2) from None
    for warning in summary.warnings:
        console.print(f"[red]{_inert(warning)}[/red]")
    if summary.warnings:
        raise typer.Exit(1)
    if not paths:
        console.print("[yellow]該当する報告書がありません。[/yellow]")
        return
    for path in paths:
        console.print(f"  作成: {_inert(path)}", highlight=False)
    console.print(f"報告書を {len(paths)} 件作成しました。")



@app.command()
def inspection(
    out: Path = typer.Option(DEFAULT_OUT, "--out", help="出力フォルダ"),
) -> None:
    """立入検査資料（inspection/立入検査資料.xlsx と印刷用の inspection/index.html）をデータベースから作成します。"""
    from pipeline.config import STORE_NAME
    from pipeline.inspection import build_inspection
    from pipeline.lock import RunLockedError, run_lock
    from pipeline.store import Store

    if not (out / STORE_NAME).is_file():
        console.print(f"[red]{out} にデータがありません。先に mdsgap run を実行してください。[/red]")
        raise typer.Exit(1)
    try:
        with run_lock(out), Store.open(out) as store:
            paths = build_inspection(out, store)
    except RunLockedError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from None
    for path in paths:
        console.print(f"  作成: {path}", highlight=False)
    console.print("立入検査資料を作成しました。")


def main() -> None:
    """The `mdsgap` command (pyproject.toml). When it ends, the process ends: the interpreter's last garbage
    collections over everything a run loaded (Prefect, spaCy, pandas) took most of a second after the summary was
    printed, and frozen objects are not traversed (their memory goes back to the system with the process)."""
    try:
        app()
    finally:
        gc.freeze()


if __name__ == "__main__":
    main()
