"""One file's trouble stays that file's trouble: links and pipes in the inbox, output file modes, vendor text
with bidi/zero-width/terminal control characters. Through the real `mdsgap run` (a subprocess)."""
from __future__ import annotations

import csv
import os
import subprocess
from pathlib import Path

import openpyxl

from pipeline.inbox import discover, prepare_inbox
from tests.conftest import subprocess_env

ROOT = Path(__file__).resolve().parent.parent
MDSGAP = ROOT / ".venv" / "bin" / "mdsgap"
MDS_TITLE = "製造業者による医療情報セキュリティ開示書 チェックリスト（ガイドライン第5.2版対応）"


def _mds(path: Path, vendor: str, product: str | None = None, remark: str = "") -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([MDS_TITLE])
    ws.append(["製造業者", vendor])
    ws.append(["製品名称", product or f"{vendor}の検査装置"])
    ws.append(["No.", "確認項目", "はい", "いいえ", "対象外", "備考"])
    ws.append(["1", "扱う情報のリストを医療機関等に提示できるか？", "○", "", "", remark])
    ws.append(["3", "離席時の不正入力防止の機能があるか？", "", "○", "", ""])
    wb.save(path)


def _run(inbox: Path, out: Path, base: Path, umask: int = 0o022) -> subprocess.CompletedProcess:
    env = subprocess_env(base / ".prefect", COLUMNS="200")
    return subprocess.run([str(MDSGAP), "run", "--inbox", str(inbox), "--out", str(out), "--as-of", "2026-10-01"],
                          capture_output=True, text=True, env=env, cwd=base, timeout=600, umask=umask)


def _vendors(out: Path) -> set[str]:
    with open(out / "answers.csv", encoding="utf-8-sig") as f:
        return {row["vendor"] for row in csv.DictReader(f)}


def _links_and_pipe(inbox: Path, outside: Path) -> dict[str, str]:
    """Every kind of entry that is not a plain file; name -> what lstat must still show after the run."""
    secret = outside / "outside.xlsx"
    _mds(secret, "株式会社外部ファイル")
    (outside / "folder").mkdir()
    _mds(outside / "folder" / "in_linked_folder.xlsx", "株式会社リンク先フォルダ")
    os.symlink("/etc/passwd", inbox / "system.xlsx")
    os.symlink(secret, inbox / "to_outside.xlsx")
    os.symlink(outside / "folder", inbox / "linked_folder")
    os.symlink(inbox / "gone.pdf", inbox / "dangling.pdf")
    os.mkfifo(inbox / "pipe.xlsx")
    return {"system.xlsx": "link", "to_outside.xlsx": "link", "linked_folder": "link", "dangling.pdf": "link",
            "pipe.xlsx": "fifo"}


def test_links_and_pipes_are_reported_not_read(tmp_path):
    inbox, outside = tmp_path / "inbox", tmp_path / "outside"
    inbox.mkdir()
    outside.mkdir()
    specials = _links_and_pipe(inbox, outside)
    _mds(inbox / "plain.xlsx", "株式会社普通ファイル")
    assert [p.name for p in discover(inbox)] == ["plain.xlsx"]
    notes = prepare_inbox(inbox)
    assert len(notes) == len(specials) and all("受信フォルダに残しています" in n for n in notes)
    assert sum("シンボリックリンク" in n for n in notes) == 4


def test_run_goes_on_past_links_and_pipes(tmp_path):
    inbox, out, outside = tmp_path / "inbox", tmp_path / "out", tmp_path / "outside"
    inbox.mkdir()
    outside.mkdir()
    specials = _links_and_pipe(inbox, outside)
    _mds(inbox / "plain.xlsx", "株式会社普通ファイル")
    proc = _run(inbox, out, tmp_path)  # a FIFO that were opened would block here until the timeout
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert _vendors(out) == {"株式会社普通ファイル"}  # nothing behind a link was read
    for name, kind in specials.items():  # left in place, untouched
        p = inbox / name
        assert (p.is_symlink() if kind == "link" else p.is_fifo()), name
    assert sorted(os.listdir(outside)) == ["folder", "outside.xlsx"]
    assert os.listdir(outside / "folder") == ["in_linked_folder.xlsx"]
    assert os.listdir(inbox / "processed") == ["plain.xlsx"]
    assert not (inbox / "failed").exists() or os.listdir(inbox / "failed") == []
    assert proc.stdout.count("シンボリックリンクは読み取りません") == 4, proc.stdout
    assert "名前付きパイプ" in proc.stdout and "pipe.xlsx" in proc.stdout


def test_outputs_follow_the_users_umask(tmp_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    _mds(inbox / "plain.xlsx", "株式会社権限確認")
    _mds(inbox / "second.xlsx", "株式会社権限確認二", remark="要確認")
    (inbox / "broken.pdf").write_bytes(b"%PDF-1.4 truncated")  # its .error.txt is written atomically too
    proc = _run(inbox, out, tmp_path, umask=0o022)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    written = [p for p in out.rglob("*") if p.is_file() and not p.name.startswith(".")
               and not p.name.startswith("mdsgap.sqlite")]
    written += list((inbox / "failed").glob("*.error.txt"))
    names = {p.name for p in written}
    assert {"answers.csv", "answers.parquet", "risk_register.xlsx", "broken.pdf.error.txt"} <= names, names
    assert any(p.suffix == ".html" for p in written) and any(p.suffix == ".docx" for p in written), names
    modes = {p.relative_to(tmp_path).as_posix(): oct(p.stat().st_mode & 0o777) for p in written}
    assert set(modes.values()) == {"0o644"}, modes
