"""The mdsgap command line through typer's CliRunner (real store, real register, real flow for `run`)."""
import datetime as dt

from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.lock import run_lock
from pipeline.register import update_register
from pipeline.store import Store
from rules.findings import Finding

runner = CliRunner()


def _finding():
    return Finding(rule_id="R001", category="unsupported", severity="高", title="二要素認証に未対応",
                   finding="二要素認証に対応していません。", vendor="株式会社テストメディカル", product="電子カルテX",
                   item_ids=["4.1"], evidence="4.1 いいえ（mds.xlsx / MDS / C12）", source_files=["mds.xlsx"],
                   recommendation="対応時期の回答を求める", contract_clause="二要素認証を導入すること")


def test_explain_prints_the_register_row(tmp_path):
    f = _finding()
    with Store.open(tmp_path) as store:
        update_register(store, [f], tmp_path, dt.date(2025, 4, 1))
    result = runner.invoke(app, ["explain", f.risk_id.lower(), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for text in (f.risk_id, "二要素認証に対応していません。", "対応時期の回答を求める", "二要素認証を導入すること", "未対応"):
        assert text in result.output
    missing = runner.invoke(app, ["explain", "R-0000000000", "--out", str(tmp_path)])
    assert missing.exit_code == 1 and "ありません" in missing.output


def test_bad_date_and_locked_output_are_refused_in_japanese(tmp_path):
    (tmp_path / "in").mkdir()
    bad = runner.invoke(app, ["run", "--inbox", str(tmp_path / "in"), "--out", str(tmp_path / "out"),
                              "--as-of", "2025/13/40"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output
    with run_lock(tmp_path / "out"):
        locked = runner.invoke(app, ["run", "--inbox", str(tmp_path / "in"), "--out", str(tmp_path / "out")])
    assert locked.exit_code == 2 and "実行中" in locked.output


def test_watch_exits_cleanly_and_report_needs_data(tmp_path):
    watched = runner.invoke(app, ["watch", "--inbox", str(tmp_path), "--out", str(tmp_path / "out"),
                                  "--interval", "0", "--max-cycles", "2"])
    assert watched.exit_code == 0 and "監視を終了しました" in watched.output
    report = runner.invoke(app, ["report", "--out", str(tmp_path / "none")])
    assert report.exit_code == 1 and "mdsgap run" in report.output


def test_rules_list_describes_rules():
    result = runner.invoke(app, ["rules", "list"])
    assert result.exit_code == 0, result.output
    assert "判定ルール" in result.output


def test_run_with_only_bad_files_succeeds_and_reports_them(tmp_path, prefect_harness):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    (inbox / "メモ.txt").write_text("これは開示書ではありません", encoding="utf-8")
    (inbox / "壊れた.pdf").write_bytes(b"%PDF-1.4 truncated")
    result = runner.invoke(app, ["run", "--inbox", str(inbox), "--out", str(out), "--as-of", "2025-10-01"])
    assert result.exit_code == 0, result.output
    assert "読み取れなかったファイル 2 件" in result.output
    assert {p.name for p in (inbox / "failed").iterdir()} == {
        "メモ.txt", "メモ.txt.error.txt", "壊れた.pdf", "壊れた.pdf.error.txt"}
    assert (out / "answers.csv").is_file() and (out / "mdsgap.sqlite").is_file()
