"""The review cycle end to end (issue #5), through the real `mdsgap` command as a person runs it.

Run 1 reads a small inbox (メディネクスト's MDS + checklist and the clean vendor クリアメディカル). The reviewer
then fills the reviewer columns of risk_register.xlsx for two findings, the vendor re-submits its MDS
(samples.resubmission: one answer fixed, one worse, one remark changed), and run 2 reads it. Every output is
opened the way a person would: the XLSX with openpyxl, the HTML printed to PDF by headless Chromium, the memo
DOCX printed to PDF by LibreOffice; the PDFs are read back with pdfplumber.
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pipeline.config import REGISTER_NAME, RESOLVED_ON, STORE_NAME
from pipeline.memo import MEMO_DIR
from pipeline.register import SHEET_REGISTER
from pipeline.report_names import safe_name
from pipeline.reports import REPORTS_DIR
from samples.build import build
from tests.conftest import subprocess_env
from samples.resubmission import build_resubmission, original_medinext_mds
from tests.test_memo import SOFFICE, docx_to_pdf_text
from tests.test_reports import CHROMIUM, html_to_pdf_text, squash

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2026-11-27"
EDITS = {"対応状況": "協議中", "担当": "医療情報部 山田", "対応方針": "契約前に代替策と対応時期を書面で求める",
         "期限": dt.datetime(2027, 1, 31), "メモ": "11/20 打合せで説明を受けた"}

pytestmark = [pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed"),
              pytest.mark.skipif(SOFFICE is None, reason="LibreOffice is not installed")]


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "")


def mdsgap_command() -> list[str]:
    script = Path(sys.executable).with_name("mdsgap")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "pipeline.cli"]


def mdsgap(args: list[str], env: dict, cwd: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run(mdsgap_command() + args, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def read_register(path: Path) -> dict[str, dict]:
    """The register workbook as a reviewer's Excel shows it: rows keyed by risk_id, values as typed."""
    wb = load_workbook(path)
    ws = wb[SHEET_REGISTER]
    rows = ws.iter_rows(values_only=True)
    header = list(next(rows))
    out = {}
    for values in rows:
        row = dict(zip(header, values))
        if row.get("risk_id"):
            out[row["risk_id"]] = row
    wb.close()
    return out


def items_of(row: dict) -> set[str]:
    return {s.strip() for s in (row.get("item_ids") or "").split(",") if s.strip()}


def as_text(value) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return "" if value is None else str(value)


@dataclass
class Cycle:
    work: Path
    inbox: Path
    out: Path
    env: dict
    vendor: str
    original_truth: dict
    resub_truth: dict
    first: dict[str, dict]  # register after run 1
    second: dict[str, dict]  # register after run 2
    fixed_id: str  # the finding the re-submission fixes (edited by the reviewer)
    kept_id: str  # a finding that stays (edited by the reviewer)


@pytest.fixture(scope="module")
def cycle(tmp_path_factory) -> Cycle:
    work = tmp_path_factory.mktemp("review_cycle")
    env = subprocess_env(work / "prefect_home", PYTHONPATH=str(ROOT))
    samples, inbox, out = work / "samples", work / "inbox", work / "out"
    build(samples, only="medinext", legacy=False, pdf=False)
    build(samples, only="clearmedical", legacy=False, pdf=False)
    inbox.mkdir()
    for path in samples.iterdir():
        if not path.name.endswith(".truth.json"):
            shutil.copy2(path, inbox / path.name)
    original, _ = original_medinext_mds()
    original_truth = json.loads((samples / (original.file + ".truth.json")).read_text(encoding="utf-8"))

    mdsgap(["run", "--inbox", str(inbox), "--out", str(out), "--as-of", AS_OF], env, work)
    register = out / f"{REGISTER_NAME}.xlsx"
    first = read_register(register)

    resub_dir = work / "resubmitted"
    [resub] = build_resubmission(samples, resub_dir)
    resub_truth = json.loads(resub.with_name(resub.name + ".truth.json").read_text(encoding="utf-8"))
    better = set(resub_truth["changes"]["better"])
    touched = better | set(resub_truth["changes"]["worse"]) | set(resub_truth["changes"]["remark_changed"])
    vendor = original_truth["vendor"]
    ours = {rid: r for rid, r in first.items() if r["vendor"] == vendor}
    fixed_id = next(rid for rid, r in ours.items() if r["category"] == "unsupported" and items_of(r) & better)
    kept_id = next(rid for rid, r in sorted(ours.items()) if r["category"] == "unsupported"
                   and items_of(r) and not items_of(r) & touched)

    # The reviewer fills the reviewer columns of two findings in Excel and saves.
    wb = load_workbook(register)
    ws = wb[SHEET_REGISTER]
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        rid = row[header.index("risk_id")].value
        if rid in (fixed_id, kept_id):
            for column, value in EDITS.items():
                row[header.index(column)].value = value
            row[header.index("メモ")].value = f"{EDITS['メモ']}（{rid}）"
    wb.save(register)
    wb.close()

    shutil.copy2(resub, inbox / resub.name)
    mdsgap(["run", "--inbox", str(inbox), "--out", str(out), "--as-of", AS_OF], env, work)
    second = read_register(register)
    return Cycle(work, inbox, out, env, vendor, original_truth, resub_truth, first, second, fixed_id, kept_id)


def test_every_file_of_both_runs_was_read_and_moved_to_processed(cycle):
    sent = {p.name for p in (cycle.work / "samples").iterdir() if not p.name.endswith(".truth.json")}
    sent.add(cycle.resub_truth["file"])
    assert {p.name for p in (cycle.inbox / "processed").iterdir()} == sent
    assert not (cycle.inbox / "failed").exists() or not any((cycle.inbox / "failed").iterdir())


def test_resubmission_needs_the_original_beside_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="再提出の元になる書類"):
        build_resubmission(tmp_path / "empty", tmp_path / "out")


# --- the living register ----------------------------------------------------------------------------------------

def test_first_register_shows_the_vendors_findings_with_quotes(cycle):
    rows = [r for r in cycle.first.values() if r["vendor"] == cycle.vendor]
    assert rows and not any("クリアメディカル" in r["vendor"] for r in cycle.first.values())  # the clean control
    kept = cycle.first[cycle.kept_id]
    item = next(iter(items_of(kept)))
    remark = next(i["remark"] for i in cycle.original_truth["items"] if i["item_id"] == item)
    assert remark and nfkc(remark) in nfkc(kept["evidence"])
    assert cycle.original_truth["file"] in kept["source_files"]
    assert all(r["status"] == "未対応" and not r[RESOLVED_ON] for r in cycle.first.values())


def test_reviewer_edits_are_kept_on_both_rows(cycle):
    for rid in (cycle.fixed_id, cycle.kept_id):
        row = cycle.second[rid]
        assert row["対応状況"] == EDITS["対応状況"]
        assert row["担当"] == EDITS["担当"] and row["対応方針"] == EDITS["対応方針"]
        assert as_text(row["期限"]) == "2027-01-31"
        assert row["メモ"] == f"{EDITS['メモ']}（{rid}）"
    untouched = next(rid for rid in cycle.second if rid not in (cycle.fixed_id, cycle.kept_id))
    assert not cycle.second[untouched]["担当"]


def test_fixed_finding_is_resolved_with_a_date_and_the_kept_one_is_in_talks(cycle):
    fixed, kept = cycle.second[cycle.fixed_id], cycle.second[cycle.kept_id]
    assert fixed["status"] == "解消" and fixed[RESOLVED_ON] == AS_OF
    assert fixed["first_seen"] == cycle.first[cycle.fixed_id]["first_seen"]
    assert kept["status"] == "協議中" and not kept[RESOLVED_ON]


def test_risk_ids_are_stable_and_nothing_is_dropped(cycle):
    assert set(cycle.first) <= set(cycle.second)  # resolved findings stay, marked 解消
    touched = {i for ids in cycle.resub_truth["changes"].values() for i in ids}
    by_key = {(r["vendor"], r["rule_id"], r["item_ids"]): rid for rid, r in cycle.second.items()}
    unchanged = [(rid, r) for rid, r in cycle.first.items() if items_of(r) and not items_of(r) & touched]
    assert len(unchanged) >= 5
    for rid, r in unchanged:
        assert by_key[(r["vendor"], r["rule_id"], r["item_ids"])] == rid
        assert not cycle.second[rid][RESOLVED_ON], rid
    # the worse answer is a new finding, first seen in run 2
    worse = set(cycle.resub_truth["changes"]["worse"])
    new = [r for rid, r in cycle.second.items() if rid not in cycle.first]
    assert any(items_of(r) & worse for r in new)


# --- the report, printed by Chromium ---------------------------------------------------------------------------

def vendor_report(out: Path, vendor: str) -> Path:
    [path] = (out / REPORTS_DIR).glob(f"{safe_name(vendor)}__*.html")
    return path


def test_report_pdf_shows_findings_quotes_and_the_change_list(cycle, tmp_path):
    text = squash(html_to_pdf_text(vendor_report(cycle.out, cycle.vendor), tmp_path))
    assert squash(cycle.vendor) in text
    kept = cycle.second[cycle.kept_id]
    open_part, _, closed_part = text.partition("解消済み・リスク受容済みの指摘")
    assert squash(kept["title"]) in open_part and cycle.kept_id in open_part
    item = next(iter(items_of(kept)))
    remark = next(i["remark"] for i in cycle.resub_truth["items"] if i["item_id"] == item)
    assert squash(remark) in open_part  # the vendor's 備考, quoted
    assert squash(f"担当:{EDITS['担当']}") in open_part and squash(EDITS["対応方針"]) in open_part
    # the fixed finding left the open list and is shown as 解消 with its date
    assert cycle.fixed_id not in open_part.split("前回からの変更")[0]
    assert squash(cycle.second[cycle.fixed_id]["title"]) in closed_part and f"解消{AS_OF}" in closed_part
    # the change list names the re-submission and each changed item
    changes = text.split("前回からの変更", 1)[1]
    assert squash(cycle.original_truth["file"]) in changes and squash(cycle.resub_truth["file"]) in changes
    by_id = {i["item_id"]: i for i in cycle.resub_truth["items"]}
    for kind, label in (("better", "改善"), ("worse", "悪化"), ("remark_changed", "備考の変更")):
        for item_id in cycle.resub_truth["changes"][kind]:
            assert squash(label + item_id) in changes, (kind, item_id)
            assert squash(by_id[item_id]["remark"]) in changes, (kind, item_id)
    assert "改善1件/悪化1件" in changes


# --- the negotiation memo, printed by LibreOffice ----------------------------------------------------------------

def test_memo_pdf_names_open_points_and_quotes_and_lists_the_resolved_one(cycle, tmp_path):
    memo = cycle.out / MEMO_DIR / f"{safe_name(cycle.vendor)}.docx"
    text = squash(docx_to_pdf_text(memo, tmp_path))
    assert squash(f"相手方:{cycle.vendor}") in text
    points, _, reference = text.partition("解消済み・リスク受容済みの指摘(参考)")
    points = points.split("標準条項")[0]
    kept = cycle.second[cycle.kept_id]
    assert squash(kept["title"]) in points and cycle.kept_id in points
    item = next(iter(items_of(kept)))
    remark = next(i["remark"] for i in cycle.resub_truth["items"] if i["item_id"] == item)
    assert squash(f"備考「{remark}」") in points
    assert squash(f"病院の対応方針:{EDITS['対応方針']}") in points
    assert cycle.fixed_id not in points
    assert squash(cycle.second[cycle.fixed_id]["title"]) in reference and AS_OF in reference


# --- `mdsgap report` rebuilds from the store alone ---------------------------------------------------------------

def test_report_command_rebuilds_one_vendor_without_the_inbox(cycle, tmp_path):
    report = vendor_report(cycle.out, cycle.vendor)
    memo = cycle.out / MEMO_DIR / f"{safe_name(cycle.vendor)}.docx"
    others = [p for p in (cycle.out / REPORTS_DIR).glob("*.html") if p != report]
    assert others, "the clean vendor's report should exist"
    before = {p: p.stat().st_mtime_ns for p in others}
    expected = report.read_text(encoding="utf-8")
    away = cycle.work / "inbox_moved_away"  # no vendor file anywhere the command could look
    cycle.inbox.rename(away)
    report.unlink()
    memo.unlink()
    try:
        proc = mdsgap(["report", "--out", str(cycle.out), "--vendor", cycle.vendor], cycle.env, cycle.work)
        assert not cycle.inbox.exists()
    finally:
        away.rename(cycle.inbox)
    assert "作成しました" in proc.stdout
    assert report.is_file() and memo.is_file()
    rebuilt = report.read_text(encoding="utf-8")
    strip = lambda html: "\n".join(line for line in html.splitlines() if "作成日時" not in line)  # noqa: E731
    assert strip(rebuilt) == strip(expected)
    assert {p: p.stat().st_mtime_ns for p in others} == before  # other vendors untouched
    assert (cycle.out / STORE_NAME).is_file()
