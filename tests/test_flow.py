"""Inbox handling, the run lock, and ONE integration test of the real Prefect flow over the sample inbox."""
import datetime as dt
import shutil

import pandas as pd
import pytest

from extractors.model import ExtractionError
from pipeline.config import ANSWER_COLUMNS, REGISTER_COLUMNS
from pipeline.inbox import (
    discover, failure_reason, move_to_failed, move_to_processed, split_stable, unique_destination,
)
from pipeline.lock import RunLockedError, run_lock
from tests.truth import load_truth, truth_files


def test_discover_skips_lock_temp_hidden_sidecars_and_done_folders(tmp_path):
    names = ["a.xlsx", "b.pdf", "~$a.xlsx", ".DS_Store", "._a.xlsx", "c.xlsx.tmp", "a.xlsx.truth.json", "sub/d.docx",
             ".dotted.docx"]  # a vendor document whose name starts with a dot is read, not silently skipped
    for name in names + ["processed/old.xlsx", "failed/bad.pdf", "failed/bad.pdf.error.txt", ".git/x.pdf"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    assert [p.relative_to(tmp_path).as_posix() for p in discover(tmp_path)] == [
        ".dotted.docx", "a.xlsx", "b.pdf", "sub/d.docx"]


def test_split_stable_waits_for_a_file_still_being_written(tmp_path):
    done, growing = tmp_path / "done.pdf", tmp_path / "growing.pdf"
    done.write_bytes(b"complete")
    growing.write_bytes(b"part")

    def sleep_while_copying(_seconds):  # the copy goes on while we wait
        with open(growing, "ab") as f:
            f.write(b"more")

    stable, waiting = split_stable([done, growing], interval=0, rounds=2, sleep=sleep_while_copying)
    assert stable == [done] and waiting == [growing]
    stable, waiting = split_stable([done, growing], interval=0, rounds=2, sleep=lambda s: None)
    assert stable == [done, growing] and waiting == []


def test_moves_never_overwrite(tmp_path):
    inbox = tmp_path
    for i in range(3):
        f = inbox / "回答書.xlsx"
        f.write_bytes(str(i).encode())
        move_to_processed(f, inbox)
    done = sorted(p.name for p in (inbox / "processed").iterdir())
    assert done == ["回答書 (2).xlsx", "回答書 (3).xlsx", "回答書.xlsx"]
    assert (inbox / "processed" / "回答書.xlsx").read_bytes() == b"0"
    assert unique_destination(inbox / "processed", "README").name == "README"

    for i in range(2):
        bad = inbox / "bad.pdf"
        bad.write_bytes(b"%PDF-broken")
        moved = move_to_failed(bad, inbox, failure_reason(ExtractionError("PDFが壊れています。", "corrupt")))
    assert moved.file.name == "bad (2).pdf" and moved.error_file.name == "bad (2).pdf.error.txt"
    assert "PDFが壊れています。" in moved.error_file.read_text(encoding="utf-8")
    assert "予期しないエラー" in failure_reason(ValueError("boom")) and "ValueError" in failure_reason(ValueError("x"))


def test_second_run_on_the_same_output_is_refused(tmp_path):
    with run_lock(tmp_path):
        with pytest.raises(RunLockedError) as info:
            with run_lock(tmp_path, wait=0):
                pass
        assert "実行中" in info.value.message
    with run_lock(tmp_path):  # released: the next run may start
        pass


def test_process_inbox_over_the_sample_inbox(sample_inbox, prefect_harness, tmp_path):
    from pipeline.flow import process_inbox

    inbox, out = tmp_path / "inbox", tmp_path / "out"
    shutil.copytree(sample_inbox, inbox)
    sidecars = sorted(p.name for p in inbox.glob("*.truth.json"))
    truths = {p.name: load_truth(p) for p in truth_files(inbox)}
    bad = {name for name, t in truths.items() if t.get("expect_failure") not in (None, "ignored")}
    ignored = {name for name, t in truths.items() if t.get("expect_failure") == "ignored"}
    good = set(truths) - bad - ignored
    assert bad and good

    summary = process_inbox(inbox=inbox, out=out, as_of=dt.date(2025, 10, 1))

    # Sources moved only after their results were stored; sidecars and ignored files untouched.
    assert {p.name for p in (inbox / "processed").iterdir()} == good
    failed = {p.name for p in (inbox / "failed").iterdir()}
    assert failed == bad | {f"{n}.error.txt" for n in bad}
    for name in bad:
        reason = (inbox / "failed" / f"{name}.error.txt").read_text(encoding="utf-8")
        assert any("\u3040" <= ch <= "\u30ff" for ch in reason), reason
    assert sorted(p.name for p in inbox.glob("*.truth.json")) == sidecars
    assert all((inbox / n).exists() for n in ignored)
    assert {n for n, _ in summary.failures} == bad and set(summary.read) <= good

    answers = pd.read_csv(out / "answers.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(answers.columns[:len(ANSWER_COLUMNS)]) == ANSWER_COLUMNS
    assert len(answers) == summary.answer_rows > 0
    assert set(answers["source_file"]) <= good
    for suffix in ("xlsx", "parquet", "csv"):
        assert (out / f"risk_register.{suffix}").is_file()
    register = pd.read_parquet(out / "risk_register.parquet")
    assert list(register.columns[:len(REGISTER_COLUMNS)]) == REGISTER_COLUMNS
    assert len(register) == summary.findings > 0

    # A second run over the same content: nothing re-read, the register keeps its ids.
    for name in good:
        shutil.copy(sample_inbox / name, inbox / name)
    again = process_inbox(inbox=inbox, out=out, as_of=dt.date(2025, 10, 2))
    assert again.read == [] and sorted(again.duplicates) == sorted(good)
    register2 = pd.read_parquet(out / "risk_register.parquet")
    assert set(register2["risk_id"]) == set(register["risk_id"])
    assert set(register2["first_seen"]) == {"2025-10-01"} and set(register2["last_seen"]) == {"2025-10-02"}


def test_run_config_separates_pipeline_and_rule_settings(tmp_path):
    from pipeline.config import RunConfig

    only_pipeline = tmp_path / "a.yaml"
    only_pipeline.write_text("stable_interval: 0.2\nstable_rounds: 5\n", encoding="utf-8")
    cfg = RunConfig.load(only_pipeline)
    assert (cfg.stable_interval, cfg.stable_rounds, cfg.rules_path) == (0.2, 5, None)
    with_rules = tmp_path / "mdsgap.yaml"
    with_rules.write_text("stable_interval: 2\nrules:\n  disabled: []\n", encoding="utf-8")
    assert RunConfig.load(with_rules).rules_path == with_rules
    assert RunConfig.load(None).rules_path is None
