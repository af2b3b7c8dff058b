"""Per-file time and memory limits in every run, and no LibreOffice left behind (issue #11).

Each file is read in a worker process (pipeline.isolation); these tests drive real workers, real LibreOffice
conversions and a real `mdsgap run`. They assert outcomes (the file in failed/ with its Japanese reason, no
process of the conversion left), never how long something took.
"""
from __future__ import annotations

import datetime as dt
import functools
import gc
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from extractors import file_sha256
from extractors.readers import legacy
from pipeline import scale
from pipeline.isolation import WorkerPool, session_members
from tests.conftest import subprocess_env

ROOT = Path(__file__).resolve().parent.parent
MDSGAP = ROOT / ".venv" / "bin" / "mdsgap"
needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) がありません")


def _legacy_doc(sample_inbox: Path) -> Path:
    return next(p for p in sorted(sample_inbox.iterdir()) if p.suffix == ".doc")


def _processes_mentioning(text: str) -> list[str]:
    """Command lines of live processes that contain `text` (zombies have none)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{name}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(f"{name}: {cmdline[:200]}")
    return found


def _wait_until(condition, limit: float = 600.0) -> bool:
    """Poll `condition` until it holds (True) or `limit` seconds pass (False): a bound, not a measurement."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _big_scan_pdf(path: Path) -> Path:
    """A one-page 'scan' whose page is 80 inches square (allowed by the page-size check): rendered for OCR at
    300 dpi it would need several GB."""
    from PIL import Image, ImageDraw

    image = Image.new("L", (1200, 1200), 255)
    ImageDraw.Draw(image).rectangle((100, 100, 1100, 1100), outline=0, width=3)
    image.save(path, resolution=15)  # 1200 px / 15 dpi = 80 in = 5760 pt per side
    return path


# ------------------------------------------------------------------------------------------ the worker pool

def test_a_worker_past_its_limit_is_killed_with_every_process_it_started():
    marker = f"0.000{os.getpid()}7"  # `sleep 600 <marker>`: a child in a process group of its own
    pool = WorkerPool(1)
    try:
        pool.prestart()
        (first,) = pool.pids()
        runaway = functools.partial(subprocess.run, ["sleep", "600", marker], process_group=0)
        status, _ = pool.call(runaway, (), timeout=1.0)
        assert status == "timeout"
        assert first in pool.killed and not session_members(first)
        assert not _processes_mentioning(marker)
        status, pid = pool.call(os.getpid, (), timeout=None)  # the next call gets a fresh worker
        assert status == "ok" and pid != first
    finally:
        pool.shutdown()
    assert not session_members(pid)


def test_a_worker_reads_with_its_start_up_heap_frozen():
    """The modules and the form catalogue a worker starts with are out of the cyclic collector's reach (it
    walked them at every full collection); what a file's reading leaves as garbage is still collected."""
    pool = WorkerPool(1)
    try:
        status, frozen = pool.call(gc.get_freeze_count, (), timeout=None)
        assert status == "ok" and frozen > 50_000
        status, collected = pool.call(_collect_a_cycle, (), timeout=None)
        assert status == "ok" and collected >= 2
    finally:
        pool.shutdown()


def _collect_a_cycle() -> int:
    first, second = [], []
    first.append(second)
    second.append(first)
    del first, second
    return gc.collect()


def test_a_worker_that_dies_costs_one_call_only():
    pool = WorkerPool(1)
    try:
        assert pool.call(os._exit, (3,), timeout=None) == ("crashed", 3)
        status, _ = pool.call(os.getpid, (), timeout=None)
        assert status == "ok"
    finally:
        pool.shutdown()


def test_workers_start_under_a_temporary_folder_too_deep_for_a_socket_path(tmp_path):
    """The forkserver's Unix socket lives in the temporary folder; a TMPDIR deeper than a socket path can be
    (107 bytes) once stopped every run with 「AF_UNIX path too long」."""
    deep = tmp_path / ("一時フォルダ_" * 8) / "とても深い"
    deep.mkdir(parents=True)
    assert len(os.fsencode(str(deep))) > 120
    code = ("import os; from pipeline.isolation import WorkerPool; pool = WorkerPool(1); "
            "print(pool.call(os.getpid, (), timeout=None)[0]); pool.shutdown()")
    proc = subprocess.run([sys.executable, "-c", code], env=subprocess_env(tmp_path / "prefect", TMPDIR=str(deep)),
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]


def test_a_worker_over_its_memory_limit_gets_memory_error_not_the_machine(monkeypatch):
    monkeypatch.setenv("MDSGAP_FILE_MEMORY_LIMIT", "1024")
    pool = WorkerPool(1)
    try:
        assert pool.call(bytearray, (4 << 30,), timeout=None) == ("memory", None)
        status, value = pool.call(bytearray, (1 << 20,), timeout=None)  # a fresh worker, within the limit
        assert status == "ok" and len(value) == 1 << 20
    finally:
        pool.shutdown()


def test_a_huge_scanned_page_fails_alone_as_too_large_with_a_japanese_reason(tmp_path, monkeypatch):
    monkeypatch.setenv("MDSGAP_FILE_MEMORY_LIMIT", "2048")
    big = _big_scan_pdf(tmp_path / "大判スキャン.pdf")
    scale.use_local_pool(1)
    scale.shutdown_pool()  # a pool made with this memory limit
    try:
        document, reason, kind, _ = scale.extract_here_or_in_pool(big, file_sha256(big))
        assert document is None and kind == "too_large"
        assert "メモリが上限（2048 MB）を超えた" in reason and "MDSGAP_FILE_MEMORY_LIMIT" in reason
    finally:
        scale.shutdown_pool()


# ------------------------------------------------------------------------------------------ LibreOffice

@needs_soffice
def test_a_conversion_interrupted_by_the_time_limit_leaves_no_libreoffice(sample_inbox, tmp_path):
    """The worker's own limit (SIGALRM) interrupts the wait: the conversion's process group is killed."""
    workdir = tmp_path / "lo"
    with pytest.raises(scale.FileTimeLimit):
        with scale.time_limit(0.3):
            legacy.convert(_legacy_doc(sample_inbox), "doc", workdir)
    assert (workdir / "in").is_dir()  # the conversion had begun
    assert not _processes_mentioning(str(workdir))


@needs_soffice
def test_killing_a_worker_kills_its_libreoffice(sample_inbox, tmp_path):
    """A worker killed in the middle of a conversion (past the hard limit, or at exit) takes LibreOffice along,
    although LibreOffice runs in a process group of its own."""
    import threading

    profile = str(tmp_path / "lo" / "profile")
    pool = WorkerPool(1)
    outcome = []
    runner = threading.Thread(target=lambda: outcome.append(
        pool.call(legacy.convert, (_legacy_doc(sample_inbox), "doc", tmp_path / "lo"), timeout=None)))
    runner.start()
    try:
        assert _wait_until(lambda: any("soffice.bin" in c for c in _processes_mentioning(profile))), \
            "LibreOffice did not start"
    finally:
        pool.shutdown()
        runner.join()
    assert outcome and outcome[0][0] == "crashed"
    assert not _processes_mentioning(profile)


@needs_soffice
def test_conversion_limit_counts_cpu_seconds_not_waiting(tmp_path):
    """The flaky sample-inbox test: on a loaded 2-core machine a conversion waited minutes for a core and hit
    a clock limit. The limit now counts CPU seconds of the conversion's process group: waiting costs none."""
    waiting = subprocess.Popen(["sleep", "30"], process_group=0)
    try:
        assert _wait_until(lambda: _processes_mentioning("sleep 30"), 60)
        assert legacy.group_cpu_seconds(waiting.pid) < 1.0
    finally:
        waiting.kill()
        waiting.wait()
    src = tmp_path / "短い.rtf"
    src.write_text(r"{\rtf1\ansi 開示書}", encoding="ascii", errors="ignore")
    out = legacy.convert(src, "rtf", tmp_path / "lo")  # a real conversion passes under the CPU limit
    assert out.is_file() and out.stat().st_size > 0
    assert not _processes_mentioning(str(tmp_path / "lo"))


# ------------------------------------------------------------------------------------------ the run

@needs_soffice
def test_a_slow_file_in_a_small_run_goes_to_failed_and_the_run_goes_on(sample_inbox, prefect_harness, tmp_path,
                                                                       monkeypatch):
    """Two files, one process: the legacy file past the limit (0.3 s cannot hold a LibreOffice start) is
    stopped and fails alone with the Japanese reason; the run writes its outputs; no LibreOffice is left."""
    from pipeline.flow import process_inbox

    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    doc = shutil.copy(_legacy_doc(sample_inbox), inbox / "旧形式の開示書.doc")
    (inbox / "空の開示書.xlsx").write_bytes(b"")
    monkeypatch.setenv("MDSGAP_FILE_TIME_LIMIT", "0.3")
    scale.use_local_pool(1)
    scale.shutdown_pool()
    try:
        summary = process_inbox(inbox=inbox, out=out, as_of=dt.date(2025, 10, 1), reports=False)
        pool = scale.extraction_pool()
        killed = list(pool.killed)
    finally:
        scale.shutdown_pool()
    failed = inbox / "failed"
    assert sorted(p.name for p in failed.iterdir()) == sorted(
        ["旧形式の開示書.doc", "旧形式の開示書.doc.error.txt", "空の開示書.xlsx", "空の開示書.xlsx.error.txt"])
    reason = (failed / "旧形式の開示書.doc.error.txt").read_text(encoding="utf-8")
    assert "制限時間（0.3 秒）を超えたため中止しました" in reason
    assert {name for name, _ in summary.failures} == {"旧形式の開示書.doc", "空の開示書.xlsx"}
    assert (out / "answers.csv").is_file()
    assert not Path(doc).exists()
    for sid in killed:  # a worker killed at the hard limit took its whole session along
        assert not session_members(sid)


@needs_soffice
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_a_signal_to_mdsgap_leaves_no_libreoffice(sample_inbox, tmp_path, signum):
    """SIGTERM and Ctrl-C: mdsgap kills its workers' sessions before it exits. SIGKILL (to mdsgap alone): the
    forkserver exits with it and each worker, told by the kernel, kills its own session."""
    inbox, out, tmp = tmp_path / "inbox", tmp_path / "out", tmp_path / "tmp"
    for d in (inbox, tmp):
        d.mkdir()
    shutil.copy(_legacy_doc(sample_inbox), inbox / "旧形式の開示書.doc")
    env = subprocess_env(tmp_path / "prefect", TMPDIR=str(tmp))  # the conversion's profile lives under tmp
    proc = subprocess.Popen([str(MDSGAP), "run", "--inbox", str(inbox), "--out", str(out)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        started = _wait_until(lambda: proc.poll() is not None
                              or any("soffice" in c for c in _processes_mentioning(str(tmp))))
        assert started and proc.poll() is None, "LibreOffice did not start while mdsgap ran"
        proc.send_signal(signum)
        proc.wait(timeout=300)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    if signum == signal.SIGKILL:  # the workers clean up after mdsgap is gone
        assert _wait_until(lambda: not _processes_mentioning(str(tmp)), 120), _processes_mentioning(str(tmp))
    assert not _processes_mentioning(str(tmp))
    assert (inbox / "旧形式の開示書.doc").exists()  # not moved: the run did not finish


def test_a_stop_lost_on_its_way_still_stops_the_run_before_any_file_moves(sample_inbox, prefect_harness, tmp_path):
    """A Ctrl-C whose RunInterrupted is caught by library code in the main thread (Prefect stores every
    BaseException of a call it runs) must not let the run go on: the flow stops before it moves or writes."""
    from pipeline.cli_errors import RunInterrupted, install_stop_handlers, restore_handlers
    from pipeline.flow import process_inbox

    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    sources = [p for p in sorted(sample_inbox.iterdir()) if p.suffix in (".xlsx", ".docx")][:2]
    for path in sources:
        shutil.copy(path, inbox / path.name)
    previous = install_stop_handlers()
    try:
        with pytest.raises(RunInterrupted):  # the interruption, swallowed as that library code would
            signal.getsignal(signal.SIGINT)(signal.SIGINT, None)
        with pytest.raises(RunInterrupted) as info:
            process_inbox(inbox=inbox, out=out, as_of=dt.date(2026, 11, 30))
        assert info.value.signum == signal.SIGINT
    finally:
        restore_handlers(previous)
    assert sorted(p.name for p in inbox.iterdir()) == sorted(p.name for p in sources)  # nothing moved
    assert not (out / "risk_register.xlsx").exists()
