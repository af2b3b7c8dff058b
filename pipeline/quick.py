"""A run with nothing new to read, decided before anything heavy starts (Prefect and its temporary server,
spaCy, worker processes).

A full run (pipeline.flow) that ended cleanly leaves `<out>/.run-state.json`: the date it ran for, a digest
of the configuration, of the code and of the store (documents, register, reviewer columns), the size and
mtime of every output it wrote, and the numbers of its summary. The next `mdsgap run` hashes the inbox
first. When every file's content is already in the store (or the inbox is empty) and nothing else changed
(same date, same configuration and code, same store, outputs untouched: a register edited by a reviewer
counts as changed), the run only moves the known files to processed/ (as the full run does with
duplicates), records itself in the store and the run log, and prints the previous numbers. Outputs are not
rewritten. Anything else, or any doubt, falls back to the full run.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import time
from pathlib import Path

import pipeline
from pipeline.summary import REPORTS_STAMP, RunSummary

log = logging.getLogger(__name__)
STATE_NAME = ".run-state.json"
_KEPT = ("current_documents", "answer_rows", "findings", "findings_by_severity", "resolved", "rules_ran",
         "outputs")
_CODE = ("extractors", "rules", "pipeline")
# Failures the same bytes repeat with the same code; a time or memory limit or a crash may not (read again).
SAME_EVERY_TIME = ("corrupt", "encrypted", "unsupported", "empty", "not_a_form")


def _file_signature(path: Path) -> list[int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def code_digest() -> str:
    """Size and mtime of every file of the packages: an upgrade or an edit makes the next run a full one."""
    h = hashlib.sha256()
    for package in _CODE:
        for root, dirs, files in os.walk(pipeline.PROJECT_ROOT / package):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                h.update(f"{root}/{name}:{_file_signature(Path(root) / name)};".encode())
    return h.hexdigest()


def config_digest(config_path: Path | None) -> str:
    """The bytes of the configuration file (its rules and arrival settings) and the size and mtime of every
    rule file in the extra rule folders it names (`extra_rule_dirs`): a rule file edited since the last run
    makes the next run a full one, as the rules engine reads it (rules.catalog.load_rules)."""
    h = hashlib.sha256()
    if config_path is None:
        return h.hexdigest()
    h.update(Path(config_path).read_bytes())
    from rules.catalog import extra_rule_files

    for folder in _extra_rule_dirs(Path(config_path)):
        h.update(f"\0{folder}".encode())
        for path in extra_rule_files(folder):
            h.update(f"{path.name}:{_file_signature(path)};".encode())
    return h.hexdigest()


def _extra_rule_dirs(config_path: Path) -> list[Path]:
    """The extra rule folders the configuration names; none when it cannot be read (its bytes then differ
    from those of the last clean run anyway, which read it)."""
    from pipeline.config import RunConfig
    from rules.catalog import load_config
    from rules.schema import ConfigError

    try:
        run_config = RunConfig.load(config_path)
        return load_config(run_config.rules_path).extra_rule_dirs if run_config.rules_path else []
    except (ConfigError, OSError):
        return []


def store_digest(store) -> str:
    """Every stored submission (and which is current), the register rows and the reviewer columns."""
    h = hashlib.sha256()
    for row in store.conn.execute("SELECT sha256, is_current, superseded_by FROM documents ORDER BY seq"):
        h.update(f"{row[0]}:{row[1]}:{row[2]};".encode())
    for table, key in (("register", "risk_id"), ("reviews", "risk_id"), ("assessments", "assessment_id")):
        for row in store.conn.execute(f"SELECT * FROM {table} ORDER BY {key}"):  # noqa: S608 - fixed names
            h.update(json.dumps(list(row), ensure_ascii=False, default=str).encode())
    return h.hexdigest()


def _state(store, as_of: dt.date, config_path: Path | None, outputs: list[str]) -> dict:
    return {"as_of": as_of.isoformat(), "config": config_digest(config_path), "code": code_digest(),
            "store": store_digest(store),
            "outputs": {p: _file_signature(Path(p)) for p in sorted(set(outputs))}}


def save_state(store, out: Path, as_of: dt.date, config_path: Path | None, summary: RunSummary,
               warnings_from: int, outputs_since: int) -> None:
    """After a full run: what the next run compares with. Written only when every output of this run was
    written by it (mtime at or after `outputs_since`, time.time_ns()) or is a report kept as up to date
    (pipeline.summary.REPORTS_STAMP); otherwise removed, so that the next run is a full one again. The
    warnings of the output stage (summary.warnings[warnings_from:], e.g. risks awaiting assessment) depend
    on the store alone: the quick run repeats them."""
    path = Path(out) / STATE_NAME
    try:
        if path.is_file():
            os.replace(path, path.with_name(STATE_NAME + ".previous"))
        stamp = Path(out) / REPORTS_STAMP
        if stamp.is_file():
            kept = set(json.loads(stamp.read_text(encoding="utf-8"))["paths"])
        elif summary.current_documents == 0:
            kept = set()  # no document yet: no report to make (an empty inbox on a new installation)
        else:
            return  # the reports could not be made: the next run tries again
        for output in summary.outputs:
            sig = _file_signature(Path(output))
            if sig is None or (sig[1] < outputs_since - 2_000_000_000 and output not in kept):
                return  # not written by this run (a write failed): no quick run next time
        previous = _read_state(path.with_name(STATE_NAME + ".previous"))
        state = _state(store, as_of, config_path, summary.outputs)
        state["failed"] = _failed(store, previous if previous.get("code") == state["code"] else {})
        state["summary"] = {k: getattr(summary, k) for k in _KEPT}
        state["warnings"] = summary.warnings[warnings_from:]
        path.write_text(json.dumps(state, ensure_ascii=False, default=str), encoding="utf-8")
    except (OSError, TypeError, ValueError, KeyError) as exc:
        log.info("no quick run next time (%s: %s)", type(exc).__name__, exc)
        path.unlink(missing_ok=True)


def _read_state(path: Path) -> dict:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def _failed(store, previous: dict) -> dict[str, list[str]]:
    """sha256 -> [kind, reason] of the files that failed in the last run (and in earlier runs with the same
    code) in a way the same bytes repeat (SAME_EVERY_TIME)."""
    failed = {k: v for k, v in previous.get("failed", {}).items() if isinstance(v, list) and len(v) == 2}
    last = store.last_run_started()
    if last is not None:
        for row in store.conn.execute("SELECT sha256, kind, reason FROM failures WHERE failed_at >= ? ORDER BY id",
                                      (last,)):
            if row[0] and row[1] in SAME_EVERY_TIME:
                failed[row[0]] = [row[1], row[2]]
    return failed


def _names_need_care(inbox: Path) -> bool:
    """True when pipeline.inbox.prepare_inbox would rename something: the full run does that and says so."""
    from pipeline.inbox import IGNORED_DIRS, safe_file_name

    for folder in IGNORED_DIRS:
        blocker = inbox / folder
        if blocker.is_symlink() or (blocker.exists() and not blocker.is_dir()):
            return True
    for root, dirs, files in os.walk(inbox):
        rel = Path(root).relative_to(inbox)
        dirs[:] = [d for d in dirs if not d.startswith(".") and not (rel == Path(".") and d in IGNORED_DIRS)]
        if any(safe_file_name(n) != n for n in (*dirs, *files)):
            return True
    return False


def quick_run(inbox: Path, out: Path, as_of: dt.date | None, config_path: Path | None) -> RunSummary | None:
    """The whole run when nothing is new (see the module doc), else None: the caller runs the full flow.

    Call with the output folder's lock held (pipeline.lock.run_lock)."""
    from extractors import file_sha256
    from pipeline.config import STORE_NAME, RunConfig
    from pipeline.inbox import (
        check_arrivals, discover, move_to_failed, move_to_processed, prepare_inbox, special_kind)

    start = time.perf_counter()
    inbox, out = Path(inbox), Path(out)
    as_of = as_of or dt.date.today()
    state = _read_state(out / STATE_NAME)
    if state.get("as_of") != as_of.isoformat() or not (out / STORE_NAME).is_file():
        return None
    if not inbox.is_dir() or _names_need_care(inbox):
        return None
    from pipeline.store import Store

    with Store.open(out) as store:
        try:
            now = _state(store, as_of, config_path, list(state.get("outputs", {})))
        except OSError:
            return None
        if any(now[k] != state.get(k) for k in ("config", "code", "store", "outputs")):
            return None
        if any(sig is None for sig in now["outputs"].values()):
            return None
        candidates = discover(inbox)
        signatures = {p: _file_signature(p) for p in candidates}
        known, failed = [], state.get("failed", {})
        failing: dict[Path, tuple[str, str, str]] = {}  # bytes that failed before: fail again, same reason
        for path in candidates:
            try:
                sha = file_sha256(path)
            except OSError:
                return None
            if sha in failed and failed[sha][0] in SAME_EVERY_TIME:
                failing[path] = (failed[sha][0], failed[sha][1], sha)
            elif not store.has_sha(sha):
                return None  # something new, or a failure that may not repeat (a limit, a crash): read it
            known.append(path)
        config = RunConfig.load(config_path)
        if known:
            arrivals = check_arrivals(known, config.stable_interval, config.stable_rounds, config.stable_quiet)
            if arrivals.waiting or any(_file_signature(p) != signatures[p] for p in known):
                return None  # still being written, or changed since it was hashed: the full run decides
            if any(arrivals.still_arriving(p, kind) for p, (kind, _, _) in failing.items()):
                return None  # maybe cut short by a copy still going on (as in the full run)
        # Nothing new: this is the run.
        from pipeline import runlog

        summary = RunSummary(as_of=as_of.isoformat())
        summary.log_file = str(runlog.start_run_log(out, with_prefect=False, inbox=inbox, as_of=as_of) or "")
        log.info("nothing new in the inbox (%d known files, %d of them failed before): outputs up to date,"
                 " Prefect not started", len(known), len(failing))
        run_id = store.start_run(as_of)
        summary.warnings += prepare_inbox(inbox)  # only notes on links and special files here
        for key, value in state.get("summary", {}).items():
            if key in _KEPT:
                setattr(summary, key, value)
        summary.warnings += [w for w in state.get("warnings", []) if isinstance(w, str)]
        summary.files_found = len(known)
        for path in known:
            if special_kind(path):
                continue
            try:
                if path in failing:
                    kind, reason, sha = failing[path]
                    store.record_failure(path.name, reason, kind, sha)
                    summary.failures.append((path.name, reason))
                    move_to_failed(path, inbox, reason)
                else:
                    summary.duplicates.append(path.name)
                    move_to_processed(path, inbox)
            except OSError as exc:
                summary.warnings.append(f"{path.name} を移動できませんでした（{type(exc).__name__}）。"
                                        "受信フォルダに残っています。")
        summary.timings = {"flow": time.perf_counter() - start}
        runlog.run_finished(summary)
        store.finish_run(run_id, summary.to_dict())
    return summary
