"""The run log: what happened in one run, in `<out>/logs/run-YYYYMMDD-HHMMSS.log` (UTF-8).

The console keeps the short Japanese summary; everything else goes to the file through standard `logging`:
the module loggers of `pipeline`, `extractors` and `rules` (INFO and up: which reader read which file, how
long it took, why a file failed and went to failed/, how many findings each rule gave, which outputs were
written), Prefect's own loggers (flow and task runs, INFO and up) and other libraries' warnings. While a run
log is open, console log handlers (Prefect's included) stay quiet, so nothing of this spams the terminal.

- `begin_run(out, ...)` (the flow's first line) opens a new file for the run, or takes the one the command
  line opened just before starting the flow (`start_run_log(out, for_next_run=True)`, so that what happens
  while Prefect starts is in it too; Prefect's server start-up sets its loggers back to
  PREFECT_LOGGING_LEVEL, and the flow sets INFO again when it takes the file). It keeps the newest `MDSGAP_RUN_LOGS` run logs (default 30) in
  `<out>/logs/` and deletes older ones. The file stays open until the next run starts in this process or
  the process ends, so Prefect's closing lines of the run (and a failure's traceback) land in it.
- `file_outcome(outcome)` and `run_finished(summary)` write the per-file and end-of-run lines.
- Extraction in the warm worker processes (pipeline.scale) logs into a collector; `collecting` returns the
  records with the result and `replayed` hands them to this process's handlers, so they reach the run log.

Logging never fails a run: a log folder that cannot be written (or is a symbolic link, which is not
followed) means no log file, nothing else.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import re
import sys
from pathlib import Path

log = logging.getLogger(__name__)

LOG_DIR = "logs"
KEEP_DEFAULT = 30
APP_LOGGERS = ("pipeline", "extractors", "rules")
FILE_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(processName)s/%(threadName)s]%(prefect_run)s %(message)s"
WORKER_RECORD_CAP = 1000  # records one file's extraction may send back from a worker process
_NAME = re.compile(r"^run-(\d{8})-(\d{6})(?:-(\d+))?\.log$")

_handler: "RunLogHandler | None" = None
_for_next_run = False  # opened by the caller for the flow about to start: begin_run takes it
_saved_levels: dict[str, int] = {}


def keep_count() -> int:
    """How many run logs to keep (MDSGAP_RUN_LOGS, default 30, at least 1)."""
    try:
        return max(1, int(os.environ.get("MDSGAP_RUN_LOGS", KEEP_DEFAULT)))
    except ValueError:
        return KEEP_DEFAULT


def run_logs(folder: Path) -> list[Path]:
    """The run logs in `folder`, oldest first."""
    found = []
    for path in Path(folder).glob("run-*.log"):
        match = _NAME.match(path.name)
        if match and path.is_file() and not path.is_symlink():
            found.append(((match.group(1), match.group(2), int(match.group(3) or 0)), path))
    return [p for _, p in sorted(found)]


def _new_log_path(folder: Path, now: dt.datetime) -> Path:
    stem = f"run-{now:%Y%m%d-%H%M%S}"
    path, n = folder / f"{stem}.log", 1
    while path.exists() or path.is_symlink():
        n += 1
        path = folder / f"{stem}-{n}.log"
    return path


class _RunFormatter(logging.Formatter):
    """FILE_FORMAT; Prefect's flow- and task-run records say which run ("extract-<file>") they belong to."""

    def format(self, record: logging.LogRecord) -> str:
        run = getattr(record, "task_run_name", None) or getattr(record, "flow_run_name", None)
        record.prefect_run = f" {run}:" if run else ""
        return super().format(record)


class _QuietConsole(logging.Filter):
    """On console handlers while a run log is open: only CRITICAL passes (the rest is in the file)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return _handler is None or record.levelno >= logging.CRITICAL


_QUIET = _QuietConsole()


def _is_console(handler: logging.Handler) -> bool:
    if isinstance(handler, logging.FileHandler):
        return False
    if type(handler).__name__ == "PrefectConsoleHandler":
        return True
    stream = getattr(handler, "stream", None)
    return stream is not None and stream in (sys.stderr, sys.stdout, sys.__stderr__, sys.__stdout__)


def _quiet_consoles() -> None:
    for name in ("", "uvicorn", "fastapi"):
        for handler in logging.getLogger(name).handlers:
            if _is_console(handler) and _QUIET not in handler.filters:
                handler.addFilter(_QUIET)


def begin_run(out: Path, **context) -> Path | None:
    """The run log of the flow run starting now: the one opened for it by the caller, else a new one."""
    global _for_next_run
    folder = os.path.abspath(Path(out) / LOG_DIR)
    if _for_next_run and _handler is not None and os.path.dirname(_handler.baseFilename) == folder:
        _for_next_run = False
        _lower_levels()  # Prefect's server start-up may have set its configured levels again
        log.info("flow started: %s", " ".join(f"{k}={v}" for k, v in context.items()))
        return current_log()
    return start_run_log(out, **context)


def start_run_log(out: Path, for_next_run: bool = False, with_prefect: bool = True, **context) -> Path | None:
    """Open a new run log in `<out>/logs/` (the previous one of this process is closed) and say what runs.

    `context` (inbox, as_of, ...) goes into the first line. `for_next_run`: the next `begin_run` for the same
    folder (the flow about to start) writes into this file instead of opening another one.
    `with_prefect=False`: a run that never imports Prefect (pipeline.quick) does not import it for its log.
    Returns the file, or None when it cannot be made.
    """
    stop_run_log()
    global _handler, _for_next_run
    if with_prefect:
        import prefect  # noqa: F401  (Prefect sets up logging when first imported: before ours, not over it)

    folder = Path(out) / LOG_DIR
    if folder.is_symlink():
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = _new_log_path(folder, dt.datetime.now())
        handler = RunLogHandler(path, encoding="utf-8")
    except OSError:
        return None
    handler.setLevel(logging.INFO)
    handler.setFormatter(_RunFormatter(FILE_FORMAT))
    _lower_levels()
    logging.getLogger().addHandler(handler)
    _handler = handler
    _for_next_run = for_next_run
    _quiet_consoles()
    _rotate(folder, keep_count())
    from importlib.metadata import PackageNotFoundError, version

    try:
        own = version("mdsgap")
    except PackageNotFoundError:
        own = "?"
    details = "".join(f" {k}={v}" for k, v in context.items())
    log.info("run started: out=%s%s (mdsgap %s, Python %s, pid %d)", out, details, own,
             sys.version.split()[0], os.getpid())
    return path


def _lower_levels() -> None:
    """INFO for our loggers and Prefect's while the run log is open (their levels are given back after)."""
    for name in (*APP_LOGGERS, "prefect"):
        logger = logging.getLogger(name)
        _saved_levels.setdefault(name, logger.level)
        if logger.level == logging.NOTSET or logger.level > logging.INFO:
            logger.setLevel(logging.INFO)


def stop_run_log() -> None:
    """Close the open run log of this process, if any, and give the loggers their levels back."""
    global _handler, _for_next_run
    _for_next_run = False
    if _handler is None:
        return
    logging.getLogger().removeHandler(_handler)
    _handler.close()
    _handler = None
    for name, level in _saved_levels.items():
        logging.getLogger(name).setLevel(level)
    _saved_levels.clear()


def current_log() -> Path | None:
    return Path(_handler.baseFilename) if _handler is not None else None


def current_handler() -> logging.Handler | None:
    """The open run log's handler (the CLI sends Prefect's console lines and tracebacks to it)."""
    return _handler


class RunLogHandler(logging.FileHandler):
    """A run log whose own trouble (a full disk) is never printed: the run goes on without its log."""

    def handleError(self, record):  # noqa: N802
        pass


def _rotate(folder: Path, keep: int) -> None:
    logs = run_logs(folder)
    for old in logs[:max(0, len(logs) - keep)]:
        try:
            old.unlink()
        except OSError as exc:
            log.warning("could not delete old run log %s: %s", old.name, exc)


def _seconds(timings: dict) -> str:
    return " ".join(f"{k}={v:.2f}s" for k, v in timings.items())


def file_outcome(outcome) -> None:
    """One line per file read: what was found in it, or why it failed (the file then goes to failed/)."""
    name = outcome.path.name
    doc = outcome.document
    if doc is None:
        log.warning("file %s failed: kind=%s reason=%s %s", name, outcome.kind or "?",
                    (outcome.reason or "").replace("\n", " "), _seconds(outcome.timings))
        return
    review = sum(1 for it in doc.items if it.needs_review)
    unknown = sum(1 for it in doc.items if not getattr(it, "known", True))
    converted = f" (converted from {doc.converted_from})" if doc.converted_from else ""
    log.info("file %s read: format=%s%s form=%s family=%s items=%d needs_review=%d unknown=%d missing=%d "
             "warnings=%d %s", name, doc.format or "?", converted, doc.form_id or "-", doc.family, len(doc.items),
             review, unknown, len(doc.missing_items), len(doc.warnings), _seconds(outcome.timings))
    for warning in doc.warnings:
        log.info("file %s warning: %s", name, str(warning).replace("\n", " "))


def run_finished(summary) -> None:
    """The end of the run: skipped and waiting files, findings, outputs written, warnings, stage timings."""
    for name in summary.duplicates:
        log.info("file %s skipped: same content as a document already read", name)
    for name in summary.waiting:
        log.info("file %s left for the next run: still being written", name)
    if summary.rules_ran:
        log.info("register: %d open findings %s, %d resolved", summary.findings,
                 dict(sorted(summary.findings_by_severity.items())), summary.resolved)
    for path in summary.outputs:
        log.info("wrote %s", path)
    for warning in summary.warnings:
        log.warning("run warning: %s", str(warning).replace("\n", " "))
    log.info("run finished: files=%d read=%d duplicates=%d failed=%d waiting=%d items=%d %s",
             summary.files_found, len(summary.read), len(summary.duplicates), len(summary.failures),
             len(summary.waiting), summary.items_read, _seconds(summary.timings))


# --- records from worker processes ---------------------------------------------------------------------------

class _Collector(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []
        self.dropped = 0

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.records) >= WORKER_RECORD_CAP:
            self.dropped += 1
            return
        # Picklable: the message is formatted here, the traceback turned into text.
        record.msg, record.args = record.getMessage(), None
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        self.records.append(record)


def collecting(func, *args):
    """Run `func(*args)` (in a worker process) and return (its result, the log records it made)."""
    collector = _Collector()
    root = logging.getLogger()
    saved = {name: logging.getLogger(name).level for name in APP_LOGGERS}
    for name in APP_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)
    root.addHandler(collector)
    try:
        result = func(*args)
    finally:
        root.removeHandler(collector)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)
    if collector.dropped:
        collector.records.append(logging.makeLogRecord({
            "name": __name__, "levelno": logging.WARNING, "levelname": "WARNING",
            "msg": f"{collector.dropped} more log records of this file were dropped"}))
    return result, collector.records


def replayed(result_and_records):
    """The result of `collecting`, after its records went to this process's log handlers."""
    result, records = result_and_records
    for record in records:
        logging.getLogger(record.name).handle(record)
    return result
