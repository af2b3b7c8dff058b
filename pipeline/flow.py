"""The Prefect flow: inbox → extract (a task per document; per few in a large inbox) → store → rules → register
and answers → move.

Order matters for safety: a source file is moved to processed/ or failed/ only after its results are in the
store and the outputs are written. One bad file never stops the run.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path

import pipeline  # noqa: F401  (sets the embedded-Prefect environment before prefect is imported)
from extractors import file_sha256
from extractors.model import Document
from pipeline import progress
from pipeline import runlog
from pipeline.answer_table import write_answers
from pipeline.config import RunConfig
from pipeline.inbox import check_arrivals, discover, move_to_failed, move_to_processed, prepare_inbox
from pipeline.lock import run_lock
from pipeline.quick import save_state
from pipeline.scale import extract_here_or_in_pool
from pipeline.register import register_frame, register_row_order, update_register
from pipeline.store import Store
from pipeline.summary import REPORTS_STAMP, RunSummary, report_inputs_key  # noqa: F401  (re-exported)
from prefect import flow, task
from prefect.cache_policies import NO_CACHE


@dataclass
class FileOutcome:
    path: Path
    sha256: str
    document: Document | None = None
    reason: str = ""  # Japanese, for failed/<name>.error.txt
    kind: str = ""
    timings: dict[str, float] = field(default_factory=dict)  # read / interpret seconds in the worker


# Files per extraction task at most. Prefect's own cost per task run is about 40 ms of CPU, in this process and
# in its server (measured with 280 files: a third of the run's CPU went to one task run per file), against
# 0.05-0.8 s to read a file.
MAX_FILES_PER_TASK = 8


@task(name="extract-documents", task_run_name="extract-{label}", cache_policy=NO_CACHE, persist_result=False)
def extract_documents(files: list[tuple[Path, str]], label: str) -> list[FileOutcome]:
    """Read vendor files, in order. Failures are returned, not raised, so that one bad file never stops the run.

    The work runs in this process, or in the warm local process pool when the run has one (pipeline.scale).
    """
    return [read_one(path, sha256) for path, sha256 in files]


def read_one(path: Path, sha256: str) -> FileOutcome:
    document, reason, kind, timings = extract_here_or_in_pool(path, sha256)
    return FileOutcome(path, sha256, document=document, reason=reason, kind=kind, timings=timings)


def _runner_workers() -> int:
    """How many extraction tasks the flow's task runner executes at once."""
    from prefect.context import FlowRunContext

    from pipeline.scale import runner_workers

    ctx = FlowRunContext.get()
    runner = getattr(ctx, "task_runner", None) if ctx else None
    return runner_workers(runner) if runner is not None else 2


def files_per_task(n_files: int, workers: int) -> int:
    """One file per task for a small inbox (each file its own task run in the Prefect UI); a few for a large
    one, while every worker still gets at least eight tasks, so that the last one's wait stays short."""
    return max(1, min(MAX_FILES_PER_TASK, n_files // (8 * max(1, workers))))


def task_label(batch: list[tuple[Path, str]]) -> str:
    first = batch[0][0].name
    return first if len(batch) == 1 else f"{first} ほか{len(batch) - 1}件"


def _extract_all(to_read: list[tuple[Path, str]]):
    """Yield each file's outcome in submission order, with a bounded number of files in flight: enough to keep
    every worker busy, few enough that finished Documents do not pile up in memory when the inbox holds
    thousands of files."""
    workers = _runner_workers()
    size = files_per_task(len(to_read), workers)
    window = max(workers + 1, -(-3 * workers // size))  # tasks in flight
    batches = iter([to_read[i:i + size] for i in range(0, len(to_read), size)])
    pending: deque = deque()
    for batch in batches:
        pending.append(extract_documents.submit(batch, task_label(batch)))
        if len(pending) >= window:
            break
    while pending:
        outcomes = pending.popleft().result()
        nxt = next(batches, None)
        if nxt is not None:
            pending.append(extract_documents.submit(nxt, task_label(nxt)))
        yield from outcomes


def _page_count(document: Document) -> int:
    if getattr(document, "format", "") != "pdf":
        return 0
    pages = {it.location.page for it in document.items if it.location and it.location.page}
    return max(pages) if pages else 1


def _prepare_rules():
    """Load the rules engine and the remark analyser (spaCy, Sudachi) in a thread of this process, which
    mostly waits for the extraction workers meanwhile; returns the thread (join it before the rules run)."""
    import threading

    def load() -> None:
        try:
            from rules import remarks
            from rules.engine import evaluate  # noqa: F401

            remarks.nlp()
            remarks.analyze("準備")
        except Exception:  # noqa: BLE001 - the rule stage loads it again and reports any error itself
            pass
        _freeze_startup_heap()

    # Not a daemon: a run stopped meanwhile (Ctrl-C, SIGTERM) waits for the load to end before the interpreter
    # exits; a daemon thread still inside the native tokenizer's code when it did was killed mid-call, and the
    # process aborted (SIGABRT, 「FATAL: exception not rethrown」) after printing its message.
    thread = threading.Thread(target=load, name="mdsgap-rules-warmup")
    thread.start()
    return thread


def _freeze_startup_heap() -> None:
    """Once per process, when Prefect, the rules and spaCy are loaded: move the heap out of the cyclic
    collector's reach (`gc.freeze`), which walked all of it at every full collection while the run received
    and stored the documents (a tenth of a second each). Objects freed by reference counting are still freed;
    only once, so that a long `mdsgap watch` never freezes the garbage of its cycles."""
    if gc.get_freeze_count() == 0:
        gc.freeze()


def evaluate_rules(documents: list[Document], as_of: dt.date, config_path: Path | None,
                   ledgers: list[Document] | None = None, os_eol: list | None = None,
                   vendor_aliases: dict | None = None, feeds: list[Document] | None = None) -> list:
    """Findings from the rules engine. The engine is part of the package: if it cannot be imported or fails,
    the run fails and no file leaves the inbox.

    `config_path` (mdsgap.yaml / rules_config.yaml) is read by rules.catalog.load_config; a bad file raises
    rules.catalog.RuleError (Japanese message) and fails the run.
    """
    from rules.engine import evaluate

    rules_config = None
    if config_path is not None:
        from rules.catalog import load_config

        rules_config = load_config(config_path)
    return list(evaluate(documents, as_of, rules_config, ledgers=ledgers, os_eol=os_eol,
                         vendor_aliases=vendor_aliases, feeds=feeds))


def rule_coverage(documents: list[Document], config_path: Path | None):
    """What the rule evaluation looked at (rules.engine.Coverage): which rules ran on which documents. The
    register resolves a risk only on this evidence (pipeline.register_status)."""
    from rules.engine import coverage

    rules_config = None
    if config_path is not None:
        from rules.catalog import load_config

        rules_config = load_config(config_path)
    return coverage(documents, rules_config)


def _remove_stale_temp_files(*folders: Path) -> None:
    """Temporary files of an atomic write that a killed run left behind (the run lock is held: none is live)."""
    for folder in folders:
        for tmp in folder.glob(".mdsgap-*.tmp"):
            tmp.unlink(missing_ok=True)


def _hash_candidates(paths: list[Path], store: Store, summary: RunSummary
                     ) -> tuple[list[tuple[Path, str]], list[tuple[Path, str]]]:
    """(path, sha256) to read, and (path, sha256) of files whose content is already stored or repeated in this batch."""
    to_read: list[tuple[Path, str]] = []
    duplicates: list[tuple[Path, str]] = []
    seen: set[str] = set()
    for path in paths:
        try:
            sha = file_sha256(path)
        except OSError as exc:
            summary.warnings.append(f"{path.name} を読み込めませんでした（{type(exc).__name__}）。次回再試行します。")
            continue
        if sha in seen or store.has_sha(sha):
            duplicates.append((path, sha))
        else:
            seen.add(sha)
            to_read.append((path, sha))
    return to_read, duplicates


@flow(name="mdsgap-process-inbox", flow_run_name="process-inbox-{as_of}")
def process_inbox(inbox: Path, out: Path, as_of: dt.date | None = None, config_path: Path | None = None,
                  lock_wait: float = 0.0, reports: bool = True, release_readers: bool = False) -> RunSummary:
    """Process every complete file in `inbox`, update the store and write the outputs into `out`.

    `release_readers`: once every file is read, stop the reading worker processes (a one-shot `mdsgap run`):
    the rules and outputs need no file, and the run's peak memory is then its reading, whatever the size of
    the store. `mdsgap watch` keeps them warm for its next cycle."""
    flow_start = time.perf_counter()
    inbox, out = Path(inbox), Path(out)
    as_of = as_of or dt.date.today()
    config = RunConfig.load(config_path)
    summary = RunSummary(as_of=as_of.isoformat())
    summary.log_file = str(runlog.begin_run(out, inbox=inbox, as_of=as_of) or "")
    with run_lock(out, wait=lock_wait), Store.open(out) as store, contextlib.ExitStack() as cleanup:
        run_id = store.start_run(as_of)
        inbox.mkdir(parents=True, exist_ok=True)
        _remove_stale_temp_files(out, inbox / "failed")

        progress.emit("stage", text="受信フォルダを確認しています")
        summary.warnings += prepare_inbox(inbox)
        candidates = discover(inbox)
        arrivals = check_arrivals(candidates, config.stable_interval, config.stable_rounds, config.stable_quiet)
        summary.waiting = [p.name for p in arrivals.waiting]
        to_read, duplicates = _hash_candidates(arrivals.stable, store, summary)
        summary.files_found = len(to_read) + len(duplicates)
        summary.duplicates = [p.name for p, _ in duplicates]
        progress.emit("files_found", total=len(to_read))

        timings = summary.timings
        for key in ("read", "interpret", "store"):
            timings[key] = 0.0
        loop_start = time.perf_counter()
        rules_ready = _prepare_rules() if to_read else None  # spaCy loads while the workers read
        # Only what the moves need is kept per file: each Document is stored, then dropped.
        outcomes: list[FileOutcome] = []
        for outcome in _extract_all(to_read):
            _stop_if_requested()  # a file read while the workers were being stopped is no failure of its own
            for key, seconds in outcome.timings.items():
                timings[key] = timings.get(key, 0.0) + seconds
            if arrivals.still_arriving(outcome.path, None if outcome.document is not None else outcome.kind):
                summary.waiting.append(outcome.path.name)  # read while still being written: next run
                progress.emit("file_done", name=outcome.path.name, ok=False)
                continue
            if outcome.document is not None:
                store_start = time.perf_counter()
                try:
                    store.save_document(outcome.document)
                except Exception as exc:  # noqa: BLE001 - e.g. a value SQLite refuses; that file fails alone
                    outcome = FileOutcome(outcome.path, outcome.sha256, reason=(
                        f"読み取り結果をデータベースに保存できませんでした（{type(exc).__name__}: {exc}）。"
                        "開発担当者に連絡してください。"), kind=type(exc).__name__)
                timings["store"] += time.perf_counter() - store_start
            if outcome.document is not None:
                summary.read.append(outcome.path.name)
                summary.items_read += len(outcome.document.items)
                pages = _page_count(outcome.document)
                if pages:
                    summary.pages += pages
                    timings["pdf"] = timings.get("pdf", 0.0) + sum(outcome.timings.values())
            else:
                store.record_failure(outcome.path.name, outcome.reason, outcome.kind, outcome.sha256)
                summary.failures.append((outcome.path.name, outcome.reason))
            ok = outcome.document is not None
            outcomes.append(FileOutcome(outcome.path, outcome.sha256, kind=outcome.kind,
                                        reason="" if ok else (outcome.reason or "読み取りに失敗しました。")))
            runlog.file_outcome(outcome)
            progress.emit("file_done", name=outcome.path.name, ok=ok)
        timings["extract"] = time.perf_counter() - loop_start
        _stop_if_requested()  # before any output is written
        memo_helper = None
        if release_readers:
            from pipeline.scale import release_readers as stop_readers  # noqa: PLC0415

            stop_readers()
            if reports:  # a helper process writes the memos while this one writes the reports
                from pipeline.memo_helper import MemoHelper  # noqa: PLC0415

                memo_helper = MemoHelper()
                cleanup.callback(memo_helper.close)

        progress.emit("stage", text="リスクを判定しています")
        stage_start = time.perf_counter()
        if rules_ready is not None:
            rules_ready.join()
        documents = store.current_documents()
        summary.current_documents = len(documents)
        feeds = store.current_feeds()  # vulnerability feeds and SBOMs (issue 15)
        ledgers = store.current_ledgers()
        findings = evaluate_rules(documents, as_of, config.rules_path, ledgers, config.os_eol,
                                  config.vendor_aliases, feeds)
        timings["rules"] = time.perf_counter() - stage_start

        progress.emit("stage", text="出力ファイルを書き出しています")
        warnings_before_outputs, outputs_since = len(summary.warnings), time.time_ns()
        stage_start = time.perf_counter()
        paths, warnings = write_answers(documents, out)
        timings["answers"] = time.perf_counter() - stage_start
        stage_start = time.perf_counter()
        summary.answer_rows = sum(len(d.items) for d in documents)
        summary.outputs += [str(p) for p in paths]
        summary.warnings += warnings
        from pipeline.devices import write_devices  # noqa: PLC0415 - device ledgers (issue 15)

        paths, warnings = write_devices(ledgers, documents, out, as_of, config.os_eol, config.vendor_aliases, feeds)
        # what the rules evaluated: forms, and the ledgers, feeds and SBOMs of the device rules (a device's row
        # may close on a newer ledger, pipeline.register_status)
        evaluated = rule_coverage(documents + ledgers + feeds, config.rules_path)
        del feeds, ledgers
        summary.outputs += [str(p) for p in paths]
        summary.warnings += warnings
        from pipeline.risk_sheet import assessment_sheet  # noqa: PLC0415
        from rules.checks_gl7 import risk_assessment_ids  # noqa: PLC0415

        result = update_register(store, findings, out, as_of, evaluated,
                                 risk_assessment_ids(findings, documents), assessment_sheet(store, documents, as_of))
        summary.rules_ran = True
        active = [r for r in result.rows if not r.get("解消日")]
        summary.findings = len(active)
        summary.findings_by_severity = dict(Counter(r["severity"] for r in active))
        summary.resolved = len(result.rows) - len(active)
        summary.outputs += [str(p) for p in result.paths]
        summary.warnings += result.warnings
        timings["register"] = time.perf_counter() - stage_start
        del documents

        # Results are stored and written: now the source files may leave the inbox.
        _stop_if_requested()
        for outcome in outcomes:
            # the kept outcomes hold no Document: a reason is what marks a failure
            _move(outcome.path, inbox, outcome.reason or None, summary)
        # A repeat follows the first copy's outcome: a second copy of bad bytes is failed with the same reason.
        reasons = {o.sha256: o.reason for o in outcomes}
        read_now = {sha for _, sha in to_read}
        for path, sha in duplicates:
            if sha in read_now and sha not in reasons:
                continue  # a copy of a file left for the next run: it waits with it
            _move(path, inbox, reasons.get(sha) or None, summary)
        stage_start = time.perf_counter()
        if reports:
            progress.emit("stage", text="報告書を作成しています")
            write_reports_if_changed(store, out, summary, memo_helper)
        timings["reports"] = time.perf_counter() - stage_start
        # what the next run compares with to skip Prefect when nothing is new (pipeline.quick)
        if reports:
            save_state(store, out, as_of, config_path, summary, warnings_before_outputs, outputs_since)
        timings["flow"] = time.perf_counter() - flow_start
        runlog.run_finished(summary)
        store.finish_run(run_id, summary.to_dict())
    return summary


def _stop_if_requested() -> None:
    """Raise RunInterrupted when a Ctrl-C or SIGTERM came whose interruption was lost on its way (see
    pipeline.cli_errors.stop_requested): the run stops here, before files move."""
    from pipeline.cli_errors import RunInterrupted, stop_requested  # noqa: PLC0415

    signum = stop_requested()
    if signum is not None:
        raise RunInterrupted(signum)


def write_reports(store: Store, out: Path, summary: RunSummary, vendor: str | None = None,
                  memo_helper=None) -> list[Path]:
    """Per-vendor HTML reports and negotiation memos (DOCX), from the store alone (no vendor file is read).
    `memo_helper` (pipeline.memo_helper.MemoHelper): writes the vendors' memos meanwhile, and this process
    shares the rest once its reports are written.

    A report or memo problem never fails the run: it becomes a warning.
    """
    from pipeline.reports import build_reports

    documents = store.current_documents()
    register_df = register_frame(sorted(store.register_rows().values(), key=register_row_order))
    helper = memo_helper if vendor is None else None  # the helper shares every vendor's memos with this process
    if helper is not None:
        helper.submit(out, documents, register_df)
    paths: list[Path] = []
    try:
        from pipeline.report_devices import load_devices

        paths += build_reports(out, documents, register_df, previous=previous_documents(store), vendor=vendor,
                               devices=load_devices(out), as_of=summary.as_of)
    except Exception as exc:  # noqa: BLE001
        summary.warnings.append(f"報告書を作成できませんでした（{type(exc).__name__}: {exc}）。")
    # the inspection workbook before the memos, so that this process works while a helper writes them
    inspection, inspection_warning = [], ""
    if vendor is None:
        try:
            from pipeline.inspection import build_inspection

            inspection = build_inspection(out, store)
        except Exception as exc:  # noqa: BLE001
            inspection_warning = f"立入検査資料を作成できませんでした（{type(exc).__name__}: {exc}）。"
    try:
        memos = helper.finish() if helper is not None else None
        if memos is None:  # no helper, or it failed: written here
            from pipeline.memo import build_memos

            memos = build_memos(out, documents, register_df, vendor=vendor)
        paths += memos
    except Exception as exc:  # noqa: BLE001
        summary.warnings.append(f"交渉メモを作成できませんでした（{type(exc).__name__}: {exc}）。")
    paths += inspection
    if inspection_warning:
        summary.warnings.append(inspection_warning)
    summary.outputs += [str(p) for p in paths]
    return list(paths)


def write_reports_if_changed(store: Store, out: Path, summary: RunSummary, memo_helper=None) -> list[Path]:
    """write_reports, skipped when its inputs are the same as for the reports already in `out` (a re-run
    over unchanged files on the same day): re-rendering every report and memo costs seconds."""
    from pipeline.report_devices import devices_digest

    key = report_inputs_key(store) + devices_digest(out)  # the index's devices view is made from devices.csv
    stamp = Path(out) / REPORTS_STAMP
    try:
        previous = json.loads(stamp.read_text(encoding="utf-8"))
        kept = [Path(p) for p in previous["paths"]]
        if previous["key"] == key and kept and all(p.is_file() for p in kept):
            summary.outputs += [str(p) for p in kept]
            return kept
    except (OSError, ValueError, KeyError, TypeError):
        pass
    stamp.unlink(missing_ok=True)
    warnings_before = len(summary.warnings)
    paths = write_reports(store, out, summary, memo_helper=memo_helper)
    if paths and len(summary.warnings) == warnings_before:
        stamp.write_text(json.dumps({"key": key, "paths": [str(p) for p in paths]}, ensure_ascii=False),
                         encoding="utf-8")
    return paths


def previous_documents(store: Store) -> list[Document]:
    """For each current document, the submission it directly replaced (the reports' change list compares
    the two). Not every superseded document: after years of re-submissions that list would grow without
    bound and be loaded whole on every run."""
    rows = store.conn.execute(
        "SELECT doc_json FROM documents WHERE is_current = 0 AND superseded_by IN"
        " (SELECT document_id FROM documents WHERE is_current = 1) ORDER BY seq").fetchall()
    return [Document.from_dict(json.loads(r["doc_json"])) for r in rows]


def _move(path: Path, inbox: Path, failure: str | None, summary: RunSummary) -> None:
    try:
        if failure is None:
            move_to_processed(path, inbox)
        else:
            move_to_failed(path, inbox, failure)
    except OSError as exc:
        summary.warnings.append(f"{path.name} を移動できませんでした（{type(exc).__name__}）。受信フォルダに残っています。")
