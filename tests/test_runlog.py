"""The run log (pipeline.runlog): one UTF-8 file per run in <out>/logs/, each file's outcome recorded, the
console kept quiet, old logs rotated, worker-process records carried over to the run's file."""
from __future__ import annotations

import logging
import shutil
import subprocess
import sys


from pipeline import runlog
from tests.conftest import ROOT, subprocess_env
from tests.truth import load_truth, truth_files


def test_start_run_log_writes_utf8_and_keeps_the_newest(tmp_path, monkeypatch):
    monkeypatch.setenv("MDSGAP_RUN_LOGS", "3")
    logs = tmp_path / "logs"
    logs.mkdir()
    old = ["run-20250101-090000.log", "run-20250101-090000-2.log", "run-20250102-080000.log",
           "run-20250103-070000.log"]
    for name in old:
        (logs / name).write_text("old\n", encoding="utf-8")
    (logs / "notes.txt").write_text("not a run log\n", encoding="utf-8")

    path = runlog.start_run_log(tmp_path, inbox=tmp_path / "受信")
    logging.getLogger("extractors.readers.test").info("表を読み取りました: %s", "回答.xlsx")
    runlog.stop_run_log()

    assert path.parent == logs and path.name.startswith("run-")
    kept = [p.name for p in runlog.run_logs(logs)]
    assert kept == ["run-20250102-080000.log", "run-20250103-070000.log", path.name]
    assert (logs / "notes.txt").exists()
    text = path.read_text(encoding="utf-8")
    assert "run started" in text and "受信" in text
    assert "extractors.readers.test" in text and "表を読み取りました: 回答.xlsx" in text


def test_two_runs_in_the_same_second_get_two_files(tmp_path):
    first = runlog.start_run_log(tmp_path)
    second = runlog.start_run_log(tmp_path)
    assert first != second and first.exists() and second.exists()
    assert runlog.run_logs(tmp_path / "logs")[-1] == second  # "-2" sorts after the plain name


def test_flow_takes_the_log_the_command_line_opened_for_it_once(tmp_path):
    opened = runlog.start_run_log(tmp_path / "out", for_next_run=True)
    assert runlog.begin_run(tmp_path / "out", inbox="受信") == opened  # the flow the CLI started
    assert runlog.begin_run(tmp_path / "out") not in (None, opened)  # a later flow: its own file
    runlog.start_run_log(tmp_path / "out", for_next_run=True)
    other = runlog.begin_run(tmp_path / "elsewhere")  # another output folder never writes into it
    assert other.parent == tmp_path / "elsewhere" / "logs"
    assert "flow started: inbox=受信" in opened.read_text(encoding="utf-8")


def test_console_stays_quiet_while_the_file_gets_everything(tmp_path, capsys):
    console = logging.StreamHandler(sys.stderr)
    root = logging.getLogger()
    root.addHandler(console)
    try:
        path = runlog.start_run_log(tmp_path)
        logging.getLogger("prefect.flow_runs").info("Beginning flow run")
        logging.getLogger("pipeline.flow").warning("警告の記録")
        logging.getLogger("somelibrary").warning("a library warning")
        assert capsys.readouterr().err == ""
        runlog.stop_run_log()
        logging.getLogger("somelibrary").warning("after the run")
        assert "after the run" in capsys.readouterr().err
    finally:
        root.removeHandler(console)
    text = path.read_text(encoding="utf-8")
    assert "Beginning flow run" in text and "警告の記録" in text and "a library warning" in text
    assert "after the run" not in text


def test_unwritable_log_folder_means_no_log_not_a_failed_run(tmp_path):
    (tmp_path / "logs").write_text("a file where the folder should be", encoding="utf-8")
    assert runlog.start_run_log(tmp_path) is None
    assert runlog.current_log() is None
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "run-20250101-000000.log").write_text("not ours\n", encoding="utf-8")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "logs").symlink_to(elsewhere)  # never followed: nothing written or rotated there
    assert runlog.start_run_log(tmp_path / "out") is None
    assert [p.name for p in elsewhere.iterdir()] == ["run-20250101-000000.log"]


def _records_from_worker(name: str):
    logging.getLogger("extractors.readers.worker_test").info("読み取り %s", name)
    logging.getLogger("extractors.readers.worker_test").debug("not at INFO")
    return name.upper()


def test_records_made_in_a_worker_process_reach_the_run_log(tmp_path):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    path = runlog.start_run_log(tmp_path)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        result = runlog.replayed(pool.submit(runlog.collecting, _records_from_worker, "abc").result())
    assert result == "ABC"
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if "worker_test" in line]
    assert len(lines) == 1 and "読み取り abc" in lines[0]
    assert "MainProcess" not in lines[0]  # said by the worker, written by this process


def _small_inbox(sample_inbox, inbox):
    """Two readable sample files (one repeated under another name) and one broken file of our own."""
    inbox.mkdir()
    good = []
    for path in truth_files(sample_inbox):
        if load_truth(path).get("expect_failure") is None and path.suffix in (".xlsx", ".docx"):
            good.append(path.name)
    good = sorted(good)[:2]
    assert len(good) == 2
    for name in good:
        shutil.copy(sample_inbox / name, inbox / name)
    shutil.copy(sample_inbox / good[0], inbox / ("再送_" + good[0]))
    (inbox / "途中で切れた回答.xlsx").write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    return good


def test_flow_writes_a_run_log_with_every_file_outcome(sample_inbox, prefect_harness, tmp_path, monkeypatch):
    from pipeline.flow import process_inbox

    monkeypatch.setenv("MDSGAP_RUN_LOGS", "2")
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    good = _small_inbox(sample_inbox, inbox)

    summary = process_inbox(inbox=inbox, out=out, reports=False)
    log_file = out / "logs" / summary.log_file.rsplit("/", 1)[-1]
    assert summary.log_file and log_file.is_file()
    text = log_file.read_text(encoding="utf-8")

    assert "run started" in text and "run finished" in text
    for name in good:
        assert f"file {name}: " in text and "reader (extractors.readers." in text
        assert f"file {name} read: format=" in text
        assert f"file {name} moved to processed/" in text
    repeat = "再送_" + good[0]
    assert repeat in summary.duplicates and f"file {repeat} skipped" in text
    broken = "途中で切れた回答.xlsx"
    assert [name for name, _ in summary.failures] == [broken]
    reason = summary.failures[0][1]
    assert f"file {broken} failed: kind=" in text and reason in text
    assert f"file {broken} quarantined in failed/" in text
    assert "rules: " in text and "findings; by rule:" in text
    assert "answers.csv" in text
    assert " prefect." in text  # Prefect's own records (flow / task runs) are in the file too

    # Each run gets its own file; only the newest MDSGAP_RUN_LOGS are kept.
    for _ in range(2):
        again = process_inbox(inbox=inbox, out=out, reports=False)
        assert again.log_file != summary.log_file
    kept = runlog.run_logs(out / "logs")
    assert len(kept) == 2 and log_file not in kept
    assert "files=0" in kept[-1].read_text(encoding="utf-8")


def test_command_line_run_keeps_prefect_off_the_console_and_names_its_log(tmp_path):
    """`mdsgap run` with Prefect at INFO: Prefect's lines go to the run log, the console has the Japanese summary."""
    inbox, out = tmp_path / "受信", tmp_path / "出力"
    inbox.mkdir()
    (inbox / "壊れた開示書.docx").write_bytes(b"PK\x03\x04" + b"\x01" * 64)
    (inbox / "回答メモ.pdf").write_bytes(b"%PDF-1.4\n%broken\n")
    env = {**subprocess_env(tmp_path / ".prefect", PYTHONPATH=str(ROOT), COLUMNS="200"),
           "PREFECT_LOGGING_LEVEL": "INFO"}
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "run", "--inbox", str(inbox), "--out", str(out)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    console = proc.stdout + proc.stderr
    assert proc.returncode == 0, console[-3000:]
    assert "処理結果" in console and "処理の記録" in console
    assert "Beginning flow run" not in console and "Finished in state" not in console

    [log_file] = runlog.run_logs(out / "logs")
    assert log_file.name in console.replace("\n", "")
    text = log_file.read_text(encoding="utf-8")
    assert "run started" in text and "flow started" in text  # one file: opened by the CLI, taken by the flow
    assert "Beginning flow run" in text and "Finished in state" in text
    for name in ("壊れた開示書.docx", "回答メモ.pdf"):
        assert f"file {name} failed: kind=" in text and f"file {name} quarantined in failed/" in text
