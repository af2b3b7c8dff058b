"""Throughput and scale-out: bench corpus copies, the warm extraction pool, bounded report inputs, the
reports cache, and the flow against a real Prefect server and on a local Dask cluster."""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from extractors import file_sha256
from pipeline.bench import make_corpus, tree_rss_mb
from pipeline.scale import (
    api_healthy, extract_here_or_in_pool, extract_timed, make_task_runner, shutdown_pool, use_local_pool,
)
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent


def _pick(sample_inbox: Path) -> list[Path]:
    """One good xlsx, docx and pdf sample, plus one broken file."""
    good = [p for p in sorted(sample_inbox.iterdir()) if not p.name.endswith(".truth.json")
            and json.loads(p.with_name(p.name + ".truth.json").read_text("utf-8")).get("expect_failure") is None
            if p.with_name(p.name + ".truth.json").exists()]
    by_suffix = {}
    for p in good:
        by_suffix.setdefault(p.suffix.lower(), p)
    picked = [by_suffix[s] for s in (".xlsx", ".docx", ".pdf") if s in by_suffix]
    assert len(picked) >= 2, sorted(by_suffix)
    return picked


def _answers(doc) -> list[tuple[str, str, str]]:
    return [(it.item_id, it.answer, it.remark) for it in doc.items]


def test_bench_copies_have_new_hashes_and_read_the_same(sample_inbox, tmp_path):
    sources = _pick(sample_inbox)
    corpus = make_corpus(sources, 2 * len(sources), tmp_path / "inbox")
    assert len({file_sha256(p) for p in corpus} | {file_sha256(p) for p in sources}) == 3 * len(sources)
    for copy in corpus:
        original = next(s for s in sources if copy.name.endswith(s.name))
        doc, reason, _, _ = extract_timed(copy, file_sha256(copy))
        ref, _, _, _ = extract_timed(original, file_sha256(original))
        assert doc is not None, reason
        assert _answers(doc) == _answers(ref) and doc.items


def test_warm_pool_gives_the_same_documents_and_failures(sample_inbox, tmp_path):
    files = _pick(sample_inbox)
    broken = tmp_path / "壊れた.xlsx"
    broken.write_bytes(b"PK\x03\x04 truncated")
    try:
        use_local_pool(2)
        pooled = [extract_here_or_in_pool(p, file_sha256(p)) for p in files + [broken]]
        assert tree_rss_mb() > 0
    finally:
        use_local_pool(1)
        shutdown_pool()
    inline = [extract_timed(p, file_sha256(p)) for p in files]
    for (doc, _, _, timings), (ref, _, _, _) in zip(pooled, inline):
        assert _answers(doc) == _answers(ref)
        assert timings["read"] >= 0 and "interpret" in timings
    doc, reason, kind, _ = pooled[-1]
    assert doc is None and kind == "corrupt" and "壊れて" in reason


def test_extraction_tasks_take_a_few_files_each_only_in_a_large_inbox():
    from pipeline.flow import MAX_FILES_PER_TASK, files_per_task, task_label

    assert [files_per_task(n, 2) for n in (1, 15, 16, 40, 100, 280, 5000)] == [1, 1, 1, 2, 6, 8, 8]
    assert files_per_task(280, 1) == MAX_FILES_PER_TASK and files_per_task(30, 4) == 1
    assert task_label([(Path("a.pdf"), "x")]) == "a.pdf"  # one file: the task run is named after it
    assert task_label([(Path("a.pdf"), "x"), (Path("b.xlsx"), "y")]) == "a.pdf ほか1件"


def test_batched_extraction_tasks_keep_every_file_and_its_order(sample_inbox, prefect_harness, tmp_path,
                                                                monkeypatch):
    """Several files per Prefect task: every file's outcome comes back once, in the inbox's order, and a broken
    file fails alone inside its batch."""
    from prefect import flow

    from pipeline import flow as flow_module

    files = _pick(sample_inbox) * 3
    broken = tmp_path / "壊れた.xlsx"
    broken.write_bytes(b"PK\x03\x04 truncated")
    to_read = [(p, file_sha256(p)) for p in files[:4] + [broken] + files[4:]]
    monkeypatch.setattr(flow_module, "files_per_task", lambda n, workers: 3)

    @flow
    def read_all():
        return [(o.path, o.document is not None, o.kind) for o in flow_module._extract_all(to_read)]

    use_local_pool(0)  # read in this process
    try:
        outcomes = read_all()
    finally:
        use_local_pool(1)
    assert [path for path, _, _ in outcomes] == [p for p, _ in to_read]
    assert [(ok, kind) for path, ok, kind in outcomes if path == broken] == [(False, "corrupt")]
    assert all(ok for path, ok, _ in outcomes if path != broken)


def test_a_one_shot_run_lets_its_reading_workers_go_before_writing_outputs(sample_inbox, prefect_harness,
                                                                          tmp_path, monkeypatch):
    """`mdsgap run` (release_readers) stops its worker processes once every file is read, so the rules and
    outputs, whose memory grows with the store, never run beside them; `watch` (the default) keeps its pool
    warm for the next cycle."""
    from pipeline import flow as flow_module
    from pipeline import scale

    seen = {}
    real_rules = flow_module.evaluate_rules

    def rules_then_look(*args, **kwargs):  # what is alive when the rules run
        seen["pool"] = scale._pool
        return real_rules(*args, **kwargs)

    monkeypatch.setattr(flow_module, "evaluate_rules", rules_then_look)
    use_local_pool(1)
    try:
        for release, name in ((False, "watch"), (True, "run")):
            inbox, out = tmp_path / name / "inbox", tmp_path / name / "out"
            inbox.mkdir(parents=True)
            for path in _pick(sample_inbox):
                shutil.copy(path, inbox / path.name)
            summary = flow_module.process_inbox(inbox=inbox, out=out, as_of=dt.date(2026, 11, 30),
                                                release_readers=release)
            assert len(summary.read) >= 2 and (out / "risk_register.xlsx").is_file()
            if release:
                assert seen["pool"] is None and scale._pool is None
            else:
                assert seen["pool"] is not None and seen["pool"].pids() and scale._pool is seen["pool"]
    finally:
        shutdown_pool()


def test_reports_get_only_the_directly_replaced_submission(document_factory, tmp_path):
    from pipeline.flow import previous_documents
    from pipeline.store import Store

    with Store.open(tmp_path) as store:
        for i, created in enumerate([dt.date(2023, 4, 1), dt.date(2024, 4, 1), dt.date(2025, 4, 1)]):
            store.save_document(document_factory(created=created, sha=str(i) * 64, source_file=f"v{i}.xlsx"))
        store.save_document(document_factory(vendor="別会社", sha="9" * 64))
        previous = previous_documents(store)
    assert [d.source_file for d in previous] == ["v1.xlsx"]


def test_reports_are_rewritten_only_when_their_inputs_change(document_factory, tmp_path):
    from pipeline.flow import REPORTS_STAMP, RunSummary, write_reports_if_changed
    from pipeline.store import Store

    with Store.open(tmp_path) as store:
        store.save_document(document_factory())
        first = write_reports_if_changed(store, tmp_path, RunSummary(as_of="2025-10-01"))
        assert first and (tmp_path / REPORTS_STAMP).is_file()
        stamps = {p: p.stat().st_mtime_ns for p in first}
        time.sleep(0.02)
        again = RunSummary(as_of="2025-10-01")
        assert write_reports_if_changed(store, tmp_path, again) == first
        assert {p: p.stat().st_mtime_ns for p in first} == stamps and again.outputs
        store.save_document(document_factory(created=dt.date(2025, 4, 1), sha="b" * 64))  # a re-submission
        changed = write_reports_if_changed(store, tmp_path, RunSummary(as_of="2025-10-01"))
        assert any(p.stat().st_mtime_ns != stamps.get(p) for p in changed)



def _small_inbox(sample_inbox: Path, dest: Path) -> list[str]:
    dest.mkdir(parents=True)
    names = []
    for p in _pick(sample_inbox):
        shutil.copy(p, dest / p.name)
        names.append(p.name)
    return names


def test_flow_runs_against_a_prefect_server_on_loopback(sample_inbox, tmp_path):
    """`mdsgap server` (= `prefect server start` on loopback, own PREFECT_HOME) records its URL; a later
    `mdsgap run` (2 warm worker processes) finds it and starts no temporary server of its own."""
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_LOGGING_LEVEL="WARNING")
    server = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "server", "--port", str(port)], env=env,
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    record = tmp_path / "prefect" / "mdsgap-server.json"
    try:
        deadline = time.monotonic() + 120
        while not (api_healthy(api) and record.is_file()):
            assert server.poll() is None and time.monotonic() < deadline, "Prefect サーバーが起動しません"
            time.sleep(0.25)
        assert json.loads(record.read_text("utf-8"))["api_url"] == api
        names = _small_inbox(sample_inbox, tmp_path / "inbox")
        run = subprocess.run([sys.executable, "-m", "pipeline.cli", "run", "--inbox", str(tmp_path / "inbox"),
                              "--out", str(tmp_path / "out"), "--as-of", "2025-10-01", "--workers", "2"],
                             env=env, cwd=ROOT, capture_output=True, text=True,
                             timeout=300)
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
        assert "Starting temporary server" not in run.stdout + run.stderr
        run_logs = "".join(p.read_text("utf-8") for p in (tmp_path / "out" / "logs").glob("run-*.log"))
        assert run_logs and "temporary server" not in run_logs  # pipeline.ephemeral logs the one it starts
        answers = pd.read_csv(tmp_path / "out" / "answers.csv", encoding="utf-8-sig", dtype=str)
        # Every file read and moved; answers hold the current ones (a later checklist may replace another).
        assert sorted(p.name for p in (tmp_path / "inbox" / "processed").iterdir()) == sorted(names), run.stdout
        assert f"新たに読み取ったファイル: {len(names)} 件" in run.stdout
        assert len(answers) > 0 and set(answers["source_file"]) <= set(names)
        req = urllib.request.Request(api + "/flow_runs/filter", data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            runs = json.load(resp)
        assert [r["state_type"] for r in runs] == ["COMPLETED"]
        req = urllib.request.Request(api + "/task_runs/filter", data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            tasks = [t["name"] for t in json.load(resp)]
        assert sorted(t for t in tasks if t.startswith("extract-")) == sorted(f"extract-{n}" for n in names)
    finally:
        server.terminate()  # SIGTERM: mdsgap server stops its Prefect server and removes the record
        server.wait(timeout=60)
    assert not record.exists() and not api_healthy(api)


def test_flow_on_a_local_dask_cluster(sample_inbox, prefect_harness, tmp_path):
    pytest.importorskip("prefect_dask")
    from pipeline.flow import process_inbox

    names = _small_inbox(sample_inbox, tmp_path / "inbox")
    runner = make_task_runner(2, "dask")
    assert type(runner).__name__ == "DaskTaskRunner"
    summary = process_inbox.with_options(task_runner=runner)(
        inbox=tmp_path / "inbox", out=tmp_path / "out", as_of=dt.date(2025, 10, 1), reports=False)
    assert sorted(summary.read) == sorted(names) and not summary.failures
    assert summary.timings["read"] > 0 and summary.timings["extract"] > 0
    answers = pd.read_parquet(tmp_path / "out" / "answers.parquet")
    assert set(answers["source_file"]) <= set(names) and len(answers) == summary.answer_rows > 0


def test_a_file_over_the_time_limit_fails_alone_with_a_japanese_reason(tmp_path, monkeypatch):
    """The per-file limit stops a reader that hangs; the file fails with a reason, nothing else is affected."""
    import time as time_module

    import extractors.readers as readers
    from pipeline import scale

    def slow_read(path):
        time_module.sleep(5)

    monkeypatch.setattr(readers, "read", slow_read)
    monkeypatch.setenv("MDSGAP_FILE_TIME_LIMIT", "0.5")
    path = tmp_path / "遅い開示書.xlsx"
    path.write_bytes(b"PK")
    start = time_module.perf_counter()
    document, reason, kind, _ = scale.extract_timed(path, "0" * 64)
    assert time_module.perf_counter() - start < 4
    assert document is None and kind == "timeout" and "制限時間" in reason
