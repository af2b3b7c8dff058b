"""Config and rule files are validated before the flow starts: a misspelt key, an unknown rule id or a wrong
type stops `mdsgap run` with one Japanese message naming the file, the line and the key — never a traceback,
never a rule that silently applies to every item. User errors on the command line (missing inbox, …) too."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from rules.catalog import CATALOG_DIR, RuleError, load_config, load_rules
from rules.checks import CHECKS
from rules.condition_keys import condition_keys
from tests.conftest import ROOT, subprocess_env

MDSGAP = ROOT / ".venv" / "bin" / "mdsgap"
runner = CliRunner()

HOSPITAL_RULE = """\
rules:
  - id: hospital.screen_lock_na
    title: 画面ロックが対象外とされている
    category: unsupported
    severity: 中
    applies_to: {{families: [mds, sds]}}
    condition:
      check: answer
      {concept_key}: [auto_lock]
      answer_in: [対象外]
    rationale: 当院では全端末で画面ロックを必須としている。
    recommendation: 画面ロックの設定方法を確認する。
    contract_clause: 乙は画面ロックの設定方法を甲に提示する。
"""


def _mdsgap(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = subprocess_env(cwd / ".prefect", PYTHONPATH=str(ROOT), COLUMNS="200")
    return subprocess.run([str(MDSGAP), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _assert_user_error(proc: subprocess.CompletedProcess, *expected: str) -> None:
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0, text
    assert "Traceback" not in text, text
    for part in expected:
        assert part in text, (part, text)


# (mdsgap.yaml text, expected line, key named in the message, Japanese words)
CONFIG_CASES = {
    "top_level_typo": ("stable_interval: 2\nstabel_rounds: 3\n", 2, "stabel_rounds", "不明な項目"),
    "rules_section_typo": ("stable_interval: 2\nrules:\n  disabled: [missing_remark.no_without_reason]\n"
                           "  severty: {unsupported.time_sync: 中}\n", 4, "rules.severty", "不明な項目"),
    "unknown_rule_id": ("rules:\n  severity:\n    unsupported.time_sync: 中\n    unsupported.tme_sync_x: 低\n",
                        4, "unsupported.tme_sync_x", "存在しません"),
    "wrong_type": ("stable_interval: 1\nstable_rounds: 三回\n", 2, "stable_rounds", "型が正しくありません"),
    "rule_setting_beside_rules": ("rules:\n  disabled: [unsupported.time_sync]\nseverity: {unsupported.auto_lock: 低}\n",
                                  3, "severity", "rules: の中に"),
    "bad_severity_value": ("rules:\n  severity: {unsupported.time_sync: 最高}\n", 2, "最高", "高・中・低"),
}


@pytest.mark.parametrize("case", sorted(CONFIG_CASES))
def test_bad_mdsgap_yaml_stops_the_run_before_the_flow(tmp_path, case):
    text, line, key, words = CONFIG_CASES[case]
    (tmp_path / "mdsgap.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "inbox").mkdir()
    proc = _mdsgap(["run", "--inbox", "inbox", "--out", "out"], tmp_path)  # mdsgap.yaml found in the cwd
    _assert_user_error(proc, "mdsgap.yaml", f"{line}行目", key, words)
    assert not (tmp_path / "out").exists()  # refused before the flow (no lock, no store)


def test_misspelt_condition_key_in_a_hospital_rule_dir(tmp_path):
    rule_dir = tmp_path / "当院ルール"
    rule_dir.mkdir()
    (rule_dir / "screen.yaml").write_text(HOSPITAL_RULE.format(concept_key="concpets"), encoding="utf-8")
    (tmp_path / "設定.yaml").write_text("rules:\n  extra_rule_dirs: [当院ルール]\n", encoding="utf-8")
    (tmp_path / "inbox").mkdir()
    proc = _mdsgap(["run", "--inbox", "inbox", "--out", "out", "--config", "設定.yaml"], tmp_path)
    _assert_user_error(proc, "screen.yaml", "9行目", "concpets", "hospital.screen_lock_na", "不明な項目", "concepts")
    assert not (tmp_path / "out").exists()
    listed = _mdsgap(["rules", "list", "--config", "設定.yaml"], tmp_path)
    _assert_user_error(listed, "screen.yaml", "9行目", "concpets")


def test_missing_inbox_is_said_not_run_empty(tmp_path):
    proc = _mdsgap(["run", "--inbox", "受信箱（誤記）", "--out", "out"], tmp_path)
    _assert_user_error(proc, "受信フォルダが見つかりません", "受信箱（誤記）")
    assert not (tmp_path / "受信箱（誤記）").exists() and not (tmp_path / "out").exists()


def test_other_command_line_mistakes_are_one_japanese_message(tmp_path, document_factory):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    nested = runner.invoke(app, ["run", "--inbox", str(inbox), "--out", str(tmp_path / "無い" / "out")])
    assert nested.exit_code != 0 and "出力フォルダの置き場所が見つかりません" in nested.output
    assert not (tmp_path / "無い").exists()
    watched = runner.invoke(app, ["watch", "--inbox", str(tmp_path / "無い"), "--out", str(tmp_path / "out"),
                                  "--max-cycles", "1"])
    assert watched.exit_code != 0 and "受信フォルダが見つかりません" in watched.output
    explained = runner.invoke(app, ["explain", "R-0000000000", "--out", str(tmp_path / "無い")])
    assert explained.exit_code != 0 and "データがありません" in explained.output

    from pipeline.store import Store

    with Store.open(tmp_path / "out") as store:
        store.save_document(document_factory(vendor="株式会社架空メディカル"))
    report = runner.invoke(app, ["report", "--out", str(tmp_path / "out"), "--vendor", "株式会社存在しない"])
    assert report.exit_code != 0, report.output
    assert "株式会社存在しない" in report.output and "株式会社架空メディカル" in report.output
    for result in (nested, watched, explained, report):
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


def test_shipped_catalogue_validates_and_every_check_declares_its_keys():
    rules = load_rules(include_disabled=True)
    assert len(rules) >= 40 and {r.source for r in rules} == {p.name for p in CATALOG_DIR.glob("*.yaml")}
    for name in CHECKS:
        keys = condition_keys(name)
        assert not keys.open, f"{name}: {keys.why_open}"
    # The key sets come from the checks' code (the helper `_item_filter` adds concepts/item_ids/known_only).
    assert {"concepts", "item_ids", "known_only", "answer_in", "applicable_only"} <= set(condition_keys("answer").keys)
    cross = condition_keys("cross_answer").keys
    assert set(cross["checklist"].subkeys) == {"concepts", "answer_in"} and cross["checklist"].checks_subkeys


@pytest.mark.parametrize("condition,line,words", [
    ("{check: answer, concepts: [auto_lock], answer_in: 対象外}", 5, "一覧"),  # a string is not a list
    ("{check: created_older_than, years: 二}", 5, "整数"),
    ("{check: cross_answer, checklist: {concepts: [access_log], answr_in: [はい]},"
     " disclosure: {concepts: [access_log], answer_in: [いいえ]}}", 5, "answr_in"),
    ("{check: answr, concepts: [auto_lock]}", 5, "もしかして: answer"),
    ("{check: answer, concepts: [auto_lokc], answer_in: [対象外]}", 5, "もしかして: auto_lock"),  # never fires
    ("{check: answer, concepts: [auto_lock], answer_in: [いいえ, 対象害]}", 5, "対象害"),
])
def test_bad_condition_values_name_rule_file_and_line(tmp_path, condition, line, words):
    rule_dir = tmp_path / "r"
    rule_dir.mkdir()
    (rule_dir / "x.yaml").write_text(
        "rules:\n  - id: hospital.x\n    title: 試験\n    category: unsupported\n"
        f"    condition: {condition}\n    severity: 低\n    rationale: x\n    recommendation: x\n"
        "    contract_clause: x\n", encoding="utf-8")
    (tmp_path / "rules_config.yaml").write_text("extra_rule_dirs: [r]\n", encoding="utf-8")
    with pytest.raises(RuleError) as info:
        load_rules(load_config(tmp_path / "rules_config.yaml"))
    message = str(info.value)
    assert "x.yaml" in message and f"{line}行目" in message and words in message, message


def test_misspelt_rule_field_is_refused_with_its_line(tmp_path):
    rule_dir = tmp_path / "r"
    rule_dir.mkdir()
    text = HOSPITAL_RULE.format(concept_key="concepts").replace("    rationale:", "    rationle:")
    (rule_dir / "x.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "rules_config.yaml").write_text("extra_rule_dirs: [r]\n", encoding="utf-8")
    with pytest.raises(RuleError) as info:
        load_rules(load_config(tmp_path / "rules_config.yaml"))
    message = str(info.value)
    assert message.startswith(f"ルールファイル {rule_dir / 'x.yaml'} 11行目: 「rules[1番目].rationle」は不明な項目です"
                              "（もしかして: rationale"), message
    assert "必須" not in message, message  # one mistake, one message


@pytest.mark.parametrize("args,words", [
    (["run", "--inbx", "受信"], ["オプション --inbx はありません", "もしかして: --inbox"]),
    (["run", "--workers", "たくさん"], ["--workers の値が正しくありません", "整数"]),
    (["explain"], ["RISK_ID を指定してください"]),
    (["rules", "lst"], ["コマンド lst はありません", "もしかして: list"]),
])
def test_usage_mistakes_are_one_japanese_line(args, words):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    for word in words:
        assert word in result.output, result.output
    assert "Usage:" not in result.output and "Error" not in result.output


def test_a_key_written_twice_and_an_unknown_family_are_refused(tmp_path):
    cfg = tmp_path / "mdsgap.yaml"
    cfg.write_text("rules:\n  disabled: [unsupported.time_sync]\nstable_rounds: 2\nrules:\n  disabled: []\n",
                   encoding="utf-8")
    result = runner.invoke(app, ["rules", "list", "--config", str(cfg)])
    assert result.exit_code == 2 and "4行目" in result.output and "2回書かれています" in result.output, result.output
    rule_dir = tmp_path / "r"
    rule_dir.mkdir()
    (rule_dir / "x.yaml").write_text(HOSPITAL_RULE.format(concept_key="concepts").replace("[mds, sds]", "[mds, sdss]"),
                                     encoding="utf-8")
    (tmp_path / "rules_config.yaml").write_text("extra_rule_dirs: [r]\n", encoding="utf-8")
    with pytest.raises(RuleError) as info:
        load_rules(load_config(tmp_path / "rules_config.yaml"))
    assert "6行目" in str(info.value) and "sdss" in str(info.value) and "families" in str(info.value)


@pytest.mark.parametrize("args,word", [
    (["watch", "--interval", "-1", "--max-cycles", "1"], "--interval には 0 以上"),
    (["run", "--workers", "-2"], "--workers には 0 以上"),
    (["server", "--port", "70000"], "1〜65535"),
])
def test_out_of_range_numbers_are_refused_in_japanese(tmp_path, args, word):
    result = runner.invoke(app, args + (["--inbox", str(tmp_path), "--out", str(tmp_path / "out")]
                                        if args[0] != "server" else []))
    assert result.exit_code == 2 and word in result.output, result.output
    assert not (tmp_path / "out").exists()
