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
from tests.office_files import small_mds

ROOT = Path(__file__).resolve().parent.parent
MDSGAP = ROOT / ".venv" / "bin" / "mdsgap"


def _mds(path: Path, vendor: str, product: str | None = None, remark: str = "") -> None:
    Path(path).write_bytes(small_mds(vendor, product, remark))


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


# Vendor text with a right-to-left override, a zero-width space, a colour escape and a bell.
HOSTILE = "\u202e\u200b\x1b[31m\x07"
INVISIBLE = ("\u202e", "\u200b", "\x1b", "\x07")


def _clean(text: str) -> bool:
    return not any(ch in text for ch in INVISIBLE)


def test_neutral_text():
    from pipeline.safe_io import csv_safe, neutral_text

    assert neutral_text(f"株式会社{HOSTILE}赤\x1b[0m\n二行目") == "株式会社⟨U+202E⟩⟨U+200B⟩赤\n二行目"
    assert neutral_text(f"A{HOSTILE}B", visible=False) == "AB"
    assert neutral_text("\x1b]0;title\x07x\x9b2Jy\u2066z\u2069\ufeff") == "xy⟨U+2066⟩z⟨U+2069⟩⟨U+FEFF⟩"
    assert csv_safe("\x1b[31m=1+1") == "'=1+1" and neutral_text(3) == 3


def test_hostile_vendor_text_is_inert_in_every_output(tmp_path):
    """Controls cannot come out of an XLSX (the XML forbids them) but can out of other readers: the Document
    is the one the reader returns for a real MDS, with the vendor name, product and a remark made hostile."""
    import dataclasses
    import datetime as dt

    import docx

    from extractors import extract
    from pipeline.answer_table import write_answers
    from pipeline.console import console, print_summary
    from pipeline.flow import RunSummary, evaluate_rules, rule_coverage, write_reports
    from pipeline.register import update_register
    from pipeline.store import Store

    src, out = tmp_path / "src.xlsx", tmp_path / "out"
    _mds(src, "株式会社見本")
    doc = extract(src)
    items = [dataclasses.replace(it, remark=f"備考{HOSTILE}です") for it in doc.items]
    doc = dataclasses.replace(doc, vendor=f"株式会社{HOSTILE}見本", product=f"装置{HOSTILE}", items=items)
    as_of = dt.date(2026, 10, 1)
    summary = RunSummary(as_of=as_of.isoformat())
    with Store.open(out) as store:
        store.save_document(doc)
        documents = store.current_documents()
        findings = evaluate_rules(documents, as_of, None)
        assert findings, "the MDS must give a finding so that the register and memo carry vendor text"
        result = update_register(store, findings, out, as_of, rule_coverage(documents, None))
        write_answers(documents, out)
        paths = write_reports(store, out, summary)
    assert not [w for w in summary.warnings if "作成できませんでした" in w], summary.warnings
    assert result.paths and any(p.suffix == ".html" for p in paths) and any(p.suffix == ".docx" for p in paths)
    for p in out.rglob("*"):
        assert _clean(p.name), p.name  # report/memo names derived from vendor and product
    csv_text = (out / "answers.csv").read_text(encoding="utf-8-sig")
    assert _clean(csv_text) and "⟨U+202E⟩" in csv_text
    register_csv = (out / "risk_register.csv").read_text(encoding="utf-8-sig")
    assert _clean(register_csv) and "⟨U+202E⟩" in register_csv
    wb = openpyxl.load_workbook(out / "risk_register.xlsx")
    cells = [str(c.value) for row in wb.active.iter_rows() for c in row if c.value is not None]
    assert all(_clean(c) for c in cells) and any("⟨U+202E⟩" in c for c in cells)
    for p in paths:
        if p.suffix == ".html":
            html = p.read_text(encoding="utf-8")
            assert _clean(html), p
        elif p.suffix == ".xlsx":  # the inspection evidence pack
            book = openpyxl.load_workbook(p)
            assert all(_clean(str(c.value)) for ws in book.worksheets for row in ws.iter_rows() for c in row
                       if c.value is not None), p
        else:
            d = docx.Document(p)
            texts = [par.text for par in d.paragraphs] + [c.text for t in d.tables for r in t.rows for c in r.cells]
            assert all(_clean(t) for t in texts)
    assert any("⟨U+202E⟩" in p.read_text(encoding="utf-8") for p in paths if p.name != "index.html"
               and p.suffix == ".html")
    summary.warnings.append(f"事業者名「株式会社{HOSTILE}[red]見本[/red]」")
    summary.failures.append((f"x{HOSTILE}.pdf", f"理由{HOSTILE}"))
    with console.capture() as captured:
        print_summary(summary)
    shown = captured.get()
    assert _clean(shown) and "[red]見本[/red]" in shown and "⟨U+202E⟩" in shown


def test_run_with_bidi_vendor_text(tmp_path):
    """The real run: bidi and zero-width characters in an XLSX never reach the console or a file name."""
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    _mds(inbox / "bidi.xlsx", "株式会社\u202e逆\u200b順", product="装置\u2066名\u2069", remark="備考\u202eです")
    wb = openpyxl.Workbook()
    wb.active.append(["\u202e御見積書\u200b"])  # not a form: its first words are quoted in the reason
    wb.active.append(["品名", "数量", "金額"])
    wb.save(inbox / "quote.xlsx")
    proc = _run(inbox, out, tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert _clean(proc.stdout), proc.stdout
    assert all(_clean(p.name) for p in out.rglob("*"))
    assert _vendors(out) == {"株式会社⟨U+202E⟩逆⟨U+200B⟩順"}


def test_link_named_like_a_work_folder_is_not_used_as_one(tmp_path):
    inbox, elsewhere = tmp_path / "inbox", tmp_path / "elsewhere"
    inbox.mkdir()
    elsewhere.mkdir()
    os.symlink(elsewhere, inbox / "processed")
    notes = prepare_inbox(inbox)
    assert not (inbox / "processed").exists() and (inbox / "processed（受信ファイル）").is_symlink()
    assert any("シンボリックリンクは読み取りません" in n for n in notes), notes
    assert os.listdir(elsewhere) == []
