"""A file with a bad name never stops a run: it is read (renamed when its name cannot be kept) or quarantined
in failed/ with a Japanese reason, and the other files are processed. Through the real `mdsgap run`."""
from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.inbox import is_candidate, prepare_inbox, safe_file_name
from tests.office_files import small_mds

runner = CliRunner()


def _mds(path: bytes | str, vendor: str) -> None:
    tmp = os.fsencode(path) + b".tmp"
    with open(tmp, "wb") as f:
        f.write(small_mds(vendor))
    os.replace(tmp, os.fsencode(path))


# name on disk (bytes) -> vendor written inside; each file has its own content (no duplicates).
NAMES = {
    b"line\nbreak.xlsx": "株式会社改行テスト",
    b"ctrl\x01\x1bchars.xlsx": "株式会社制御文字",
    b"not-utf8-\xff\xfe.xlsx": "株式会社バイト列",
    "シフトJIS名".encode("cp932") + b".xlsx": "株式会社シフトジス",
    b"-rf.xlsx": "株式会社ハイフン",
    b".dotted.xlsx": "株式会社ドット",
    'win<>:"|?*.xlsx'.encode(): "株式会社予約文字",
    ("長" * 78 + ".xlsx").encode(): "株式会社長い名前",
    b"processed": "株式会社フォルダ同名",
    b"failed": "株式会社失敗同名",
    b"risk_register.xlsx": "株式会社出力同名",
}


def test_safe_file_name():
    assert safe_file_name("a\nb.xlsx") == "a_b.xlsx"
    assert safe_file_name(os.fsdecode("日本".encode("cp932") + b".pdf")) == "日本.pdf"
    assert "\ufffd" not in safe_file_name(os.fsdecode(b"x\xff.pdf"))
    assert safe_file_name("普通の名前.xlsx") == "普通の名前.xlsx"
    assert is_candidate(Path_(".dotted.xlsx")) and not is_candidate(Path_(".DS_Store"))
    assert not is_candidate(Path_("._report.xlsx")) and not is_candidate(Path_("~$report.xlsx"))


def Path_(name):
    return Path("/inbox") / name


def test_prepare_inbox_renames_only_what_it_must(tmp_path):
    (tmp_path / "processed").write_bytes(b"x")
    (tmp_path / "ok.pdf").write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    with open(os.fsencode(tmp_path / "sub") + b"/tab\there.pdf", "wb") as f:
        f.write(b"x")
    notes = prepare_inbox(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.pdf", "processed（受信ファイル）", "sub"]
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["tab_here.pdf"]
    assert len(notes) == 2 and all("名前を変えて" in n for n in notes)
    assert prepare_inbox(tmp_path) == []  # nothing left to change


@pytest.mark.filterwarnings("ignore")
def test_run_goes_on_past_badly_named_files(tmp_path, prefect_harness):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    for name, vendor in NAMES.items():
        _mds(os.fsencode(inbox) + b"/" + name, vendor)
    with open(os.fsencode(inbox) + b"/broken\n\xffname.pdf", "wb") as f:
        f.write(b"%PDF-1.4 truncated")  # a bad file with a bad name: quarantined with a reason, run goes on
    result = runner.invoke(app, ["run", "--inbox", str(inbox), "--out", str(out), "--as-of", "2026-10-01"])
    assert result.exit_code == 0, result.output
    left = [n for n in os.listdir(os.fsencode(inbox)) if n not in (b"processed", b"failed")]
    assert left == [], left
    processed = os.listdir(inbox / "processed")
    assert len(processed) == len(NAMES)
    failed = sorted(os.listdir(inbox / "failed"))
    assert len(failed) == 2 and failed[1] == failed[0] + ".error.txt"
    assert "\n" not in failed[0] and failed[0].endswith(".pdf")
    reason = (inbox / "failed" / failed[1]).read_text(encoding="utf-8")
    assert "PDF" in reason or "壊れ" in reason
    with open(out / "answers.csv", encoding="utf-8-sig") as f:
        vendors = {row["vendor"] for row in csv.DictReader(f)}
    assert set(NAMES.values()) <= vendors
