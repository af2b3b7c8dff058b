"""What the console says when something goes wrong: one Japanese message, never a traceback.

- Command-line usage mistakes (unknown option, missing argument, a value of the wrong type) as one Japanese
  message and exit code 2, instead of click's English "Usage: … Error" box.
- Faults of the machine (a full or read-only output disk) and interruptions (Ctrl-C, SIGTERM) as one
  Japanese message; the details (Prefect's log lines, tracebacks) go to the run log `<out>/logs/run-*.log`.
"""
from __future__ import annotations

import errno
import logging
import os
import re
import sqlite3
import sys
import threading
from pathlib import Path

import typer
from typer.core import TyperGroup

try:  # typer >= 0.2x carries its own copy of click; older ones use click itself
    from typer._click import exceptions as _exc
except ImportError:  # pragma: no cover
    from click import exceptions as _exc


def _param_name(param) -> str:
    if param is None:
        return "指定"
    opts = [o for o in getattr(param, "opts", []) if o.startswith("--")]
    if opts:
        return opts[0]
    return (getattr(param, "name", None) or "引数").upper()


_TYPE_WORDS = (("integer", "整数"), ("number", "数値"), ("float", "数値"), ("boolean", "true / false"),
               ("date", "YYYY-MM-DD 形式"), ("path", "パス"))


def _type_word(message: str) -> str:
    lowered = message.lower()
    return next((word for key, word in _TYPE_WORDS if key in lowered), "")


def _japanese(text: str) -> bool:
    return any("\u3040" <= ch <= "\u9fff" for ch in text)


def usage_message(exc: _exc.UsageError) -> str:
    """A Japanese sentence for a click usage error."""
    command = exc.ctx.command_path if getattr(exc, "ctx", None) is not None else "mdsgap"
    help_hint = f"（{command} --help で使い方を表示できます）"
    if isinstance(exc, _exc.NoSuchOption):
        hint = f"もしかして: {', '.join(sorted(exc.possibilities))}、" if exc.possibilities else ""
        return f"オプション {exc.option_name} はありません（{hint}{command} --help で使い方を表示できます）"
    if isinstance(exc, _exc.MissingParameter):
        return f"{_param_name(exc.param)} を指定してください{help_hint}"
    if isinstance(exc, _exc.BadParameter):
        name = _param_name(exc.param)
        if _japanese(exc.message):
            return exc.message if exc.param is None else f"{name}: {exc.message}"
        word = _type_word(exc.message)
        return f"{name} の値が正しくありません" + (f"（{word}で指定してください）" if word else help_hint)
    message = exc.format_message()
    if _japanese(message):
        return message
    found = re.search(r"No such command '([^']*)'", message)
    if found:
        close = re.search(r"Did you mean '([^']*)'", message)
        hint = f"もしかして: {close.group(1)}、" if close else ""
        return f"コマンド {found.group(1)} はありません（{hint}{help_hint[1:]}"
    found = re.search(r"unexpected extra argument\S* \((.*)\)", message)
    if found:
        return f"余分な引数があります: {found.group(1)}{help_hint}"
    return f"コマンドの指定が正しくありません（{message}）{help_hint}"


class JapaneseUsageGroup(TyperGroup):
    """The top-level group: usage errors of it and of every sub-command become one Japanese line."""

    def _say(self, exc: _exc.UsageError):
        if type(exc).__name__ == "NoArgsIsHelpError":  # `mdsgap` alone: click shows the help
            raise exc
        typer.secho(usage_message(exc), fg="red", err=True)
        raise typer.Exit(2) from None

    def make_context(self, *args, **kwargs):
        try:
            return super().make_context(*args, **kwargs)
        except _exc.UsageError as exc:
            self._say(exc)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except _exc.UsageError as exc:
            self._say(exc)


# ------------------------------------------------------------------ faults of the machine, not of the user
# A full or read-only output disk, an interrupted run: one Japanese sentence on the console; the details
# (Prefect's own log lines, tracebacks) go to the run's log file, never to the console.


_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_READ_ONLY = {errno.EROFS, errno.EACCES, errno.EPERM}
_FULL_TEXT = ("no space left", "disk is full", "disk quota", "file too large")
_READ_ONLY_TEXT = ("read-only file system", "readonly database", "permission denied", "unable to open database")
_KEPT = "保存済みの結果は失われていません。受信フォルダに残ったファイルは次回の実行で処理されます。"


def _chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _place(exc: BaseException, out: Path) -> str:
    name = getattr(exc, "filename", None)
    return str(Path(name).parent if name and Path(name).name else out) if name else str(out)


def _nearly_full(folder: Path, reserve: int = 1 << 20) -> bool:
    try:
        st = os.statvfs(folder)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < reserve


def disk_error_message(exc: BaseException, out: Path) -> str | None:
    """A Japanese message for an output disk that is full or cannot be written (an OSError or SQLite error
    anywhere in the exception chain); None for other errors."""
    from pipeline.safe_io import neutral_text

    for cause in _chain(exc):
        code = getattr(cause, "errno", None) if isinstance(cause, OSError) else None
        text = str(cause).lower()
        if not isinstance(cause, (OSError, sqlite3.Error)):
            continue
        place = neutral_text(_place(cause, out))
        if code in _FULL or (code is None and any(t in text for t in _FULL_TEXT)):
            return (f"ディスクの空きが足りないため、処理を完了できませんでした（{place}）。"
                    f"空きを作ってから再実行してください。{_KEPT}")
        if code in _READ_ONLY or (code is None and any(t in text for t in _READ_ONLY_TEXT)):
            return (f"書き込みできないため、処理を完了できませんでした（{place}：読み取り専用か、権限がありません）。"
                    f"書き込めるフォルダを --out に指定するか、権限を確認してから再実行してください。{_KEPT}")
        if code == errno.EIO or "disk i/o error" in text:
            if _nearly_full(out):  # SQLite reports a WAL that cannot grow as an I/O error
                return (f"ディスクの空きが足りないため、処理を完了できませんでした（{neutral_text(str(out))}）。"
                        f"空きを作ってから再実行してください。{_KEPT}")
            return (f"ディスクの読み書きに失敗したため、処理を完了できませんでした（{place}）。"
                    f"ディスクの状態を確認してから再実行してください。{_KEPT}")
    return None


class RunInterrupted(BaseException):
    """A Ctrl-C (SIGINT) or SIGTERM: the run stops at the next safe point (see install_stop_handlers)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def interrupted_message(signum: int) -> str:
    import signal

    how = "Ctrl-C" if signum == signal.SIGINT else f"終了シグナル（{signal.Signals(signum).name}）"
    return f"{how}により処理を中断しました。{_KEPT}"


_stop_signals: list[int] = []  # the signal that asked this process to stop, since install_stop_handlers


def stop_requested() -> int | None:
    """The SIGINT or SIGTERM that asked the run to stop, or None. The flow asks before it moves any file: the
    RunInterrupted raised in the main thread can be caught on its way by library code that stores every
    BaseException of the call it interrupted (Prefect's concurrency calls), and the run then went on, with the
    file being read when the workers were stopped quarantined as crashed."""
    return _stop_signals[0] if _stop_signals else None


def install_stop_handlers() -> dict:
    """SIGINT and SIGTERM raise RunInterrupted in the main thread (once: a second signal while stopping is
    ignored), so that finally blocks run, the lock is released and Prefect's temporary server is stopped.
    Returns the handlers it replaced (for restore_handlers); nothing outside the main thread."""
    import signal

    if threading.current_thread() is not threading.main_thread():
        return {}
    _stop_signals.clear()

    def stop(signum, _frame):
        if _stop_signals:
            return
        _stop_signals.append(signum)
        raise RunInterrupted(signum)

    return {signum: signal.signal(signum, stop) for signum in (signal.SIGINT, signal.SIGTERM)}


def restore_handlers(previous: dict) -> None:
    import signal

    _stop_signals.clear()  # the run it was for is over
    for signum, handler in previous.items():
        if handler is not None:
            signal.signal(signum, handler)


def run_log(out: Path) -> logging.Handler:
    """The handler of this run's log file, `<out>/logs/run-*.log` (`pipeline.runlog`; opened here when the run
    has none yet, e.g. a failure before the flow), or a do-nothing one when the folder cannot be written."""
    from pipeline import runlog

    current = runlog.current_log()
    if current is None or Path(out).absolute() not in current.absolute().parents:
        runlog.start_run_log(out)
    handler: logging.Handler = runlog.current_handler() or logging.NullHandler()
    own = logging.getLogger("mdsgap")  # its records go to the file only, never to Python's last-resort stderr
    own.propagate = False
    own.setLevel(logging.INFO)
    for old in list(own.handlers):
        own.removeHandler(old)
    own.addHandler(handler)
    return handler


def log_file_hint(out: Path) -> str:
    """「詳細は …に記録しました。」 naming this run's log file, or "" when none could be written."""
    from pipeline import runlog

    current = runlog.current_log()
    return f"詳細は {current} に記録しました。" if current is not None else ""


def route_console_logs(out: Path) -> logging.Handler:
    """Every log handler that writes to the console (Prefect's console handler on the root and its own
    loggers) is replaced by the run's log file; warnings, thread and unraisable errors go there too.
    Call after prefect is imported (its import installs the console handlers)."""
    from pipeline.runlog import RunLogHandler

    handler = run_log(out)
    logging.raiseExceptions = False  # a failing handler must not print a traceback
    logging.captureWarnings(True)
    consoles = (sys.stderr, sys.stdout, sys.__stderr__, sys.__stdout__)
    loggers = [logging.getLogger()] + [lg for lg in logging.Logger.manager.loggerDict.values()
                                       if isinstance(lg, logging.Logger)]
    for lg in loggers:
        for h in list(lg.handlers):
            if (isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)
                    and getattr(h, "stream", None) in consoles) or isinstance(h, RunLogHandler):  # an earlier run's log (watch)
                lg.removeHandler(h)
                if handler not in lg.handlers:
                    lg.addHandler(handler)
    log = logging.getLogger("mdsgap")

    def thread_error(args):
        log.error("スレッド %s で例外", getattr(args.thread, "name", "?"),
                  exc_info=(args.exc_type, args.exc_value, args.exc_traceback))

    def unraisable(args):
        log.error("無視された例外: %s", args.err_msg or args.object,
                  exc_info=(args.exc_type, args.exc_value, args.exc_traceback))

    threading.excepthook = thread_error
    sys.unraisablehook = unraisable
    return handler


def log_exception(exc: BaseException, out: Path) -> None:
    """The traceback of an error the console reports in one line, for the run's log file (if it can be written)."""
    run_log(out)
    logging.getLogger("mdsgap").error("処理の失敗", exc_info=(type(exc), exc, exc.__traceback__))
